#!/usr/bin/env bash
# `npm run conformance`: schemathesis, every phase (examples, coverage, fuzzing, stateful) and every
# check, against both running services' /openapi.json; fails on any failure. The stack must be up
# (`npm run up -- --detach`); COMMAND_PORT and QUERY_PORT move it as they move the stack. Each service
# gets a time budget (CONFORMANCE_SECONDS, default 120) and at most CONFORMANCE_EXAMPLES generated
# cases per operation and phase (default 25), so a run takes a few minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
ST="$(bash scripts/conformance/install.sh)"
COMMAND_URL="http://127.0.0.1:${COMMAND_PORT:-8080}"
QUERY_URL="http://127.0.0.1:${QUERY_PORT:-8081}"
TOKEN="${COMMAND_API_TOKENS:-}"
TOKEN="${TOKEN%%,*}"
if [ -z "$TOKEN" ]; then TOKEN="$(cat "${STACK_DIR:-.stack}/api-token")"; fi
export CONFORMANCE_COMMAND_TOKEN="$TOKEN"
export SCHEMATHESIS_HOOKS="$PWD/scripts/conformance/hooks.py"
CONFIG="$PWD/scripts/conformance/schemathesis.toml"
# schemathesis keeps a .schemathesis folder where it runs: in the stack's state folder, not the repository.
WORKDIR="${STACK_DIR:-$PWD/.stack}/conformance"
mkdir -p "$WORKDIR"

# use_after_free is left out: DELETE discontinues a product, which stays readable (see the config).
# No answer may take longer than 15 s (a read-your-writes wait is at most 10 s).
run() {
  local name="$1" url="$2"
  echo "conformance: schemathesis against the $name service ($url/openapi.json)"
  (cd "$WORKDIR" && "$ST" --config-file "$CONFIG" run "$url/openapi.json" \
    --phases examples,coverage,fuzzing,stateful \
    --checks all --exclude-checks use_after_free \
    --max-examples "${CONFORMANCE_EXAMPLES:-25}" --max-time "${CONFORMANCE_SECONDS:-120}" \
    --max-response-time 15 --workers 4 --request-timeout 20 --generation-database none --no-color \
    --wait-for-schema 30 "${@:3}")
}

status=0
run command "$COMMAND_URL" || status=1
# The query service's reads are public; /admin/rebuild is tested without a token (401), so a run
# never starts a rebuild of the stack's views.
# The console's event stream never ends by design (a browser holds it open): nothing to check
# request by request. test/integration/query/console.test.ts reads it in a real browser.
run query "$QUERY_URL" --exclude-operation-id projectionStream || status=1
if [ "$status" -ne 0 ]; then
  echo "conformance: FAILED (see the failures above)" >&2
  exit 1
fi
echo "conformance: both services passed"
