#!/usr/bin/env bash
# `npm run postman`: newman runs the Postman collection against the running local stack (its ports
# move with COMMAND_PORT and QUERY_PORT, as the stack's do; its token is .stack/api-token).
set -euo pipefail
cd "$(dirname "$0")/.."
TOKEN="${COMMAND_API_TOKENS:-}"
TOKEN="${TOKEN%%,*}"
if [ -z "$TOKEN" ]; then TOKEN="$(cat "${STACK_DIR:-.stack}/api-token")"; fi
exec npx newman run postman/cqrs-catalog.postman_collection.json \
  --environment postman/local.postman_environment.json \
  --env-var "commandUrl=http://127.0.0.1:${COMMAND_PORT:-8080}" \
  --env-var "queryUrl=http://127.0.0.1:${QUERY_PORT:-8081}" \
  --env-var "token=$TOKEN" \
  --color off --disable-unicode
