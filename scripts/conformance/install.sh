#!/usr/bin/env bash
# Installs schemathesis from PyPI into a virtual environment cached under ~/.cache/cqrs-catalog (or
# $STACK_CACHE_DIR, as the stack's downloads), and prints the path of its `st` command. Idempotent:
# a complete install is reused; an interrupted one is removed and done again.
set -euo pipefail
VERSION=4.32.5
CACHE="${STACK_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cqrs-catalog}"
VENV="$CACHE/schemathesis-$VERSION"

if [ -f "$VENV/.complete" ] && [ -x "$VENV/bin/st" ]; then
  echo "$VENV/bin/st"
  exit 0
fi

# The newest Python 3.12+ found, else python3. CPython 3.11.7's parser fails under schemathesis'
# worker threads ("SystemError: AST constructor recursion depth mismatch", hypothesis describing a
# lambda), which ends an operation's tests with a runtime error.
pick_python() {
  local candidate
  for candidate in python3.14 python3.13 python3.12; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c '' >/dev/null 2>&1; then
      command -v "$candidate"
      return
    fi
  done
  local root
  root="$(pyenv root 2>/dev/null || true)"
  for candidate in "$root"/versions/3.14*/bin/python3 "$root"/versions/3.13*/bin/python3 "$root"/versions/3.12*/bin/python3; do
    if [ -x "$candidate" ]; then
      echo "$candidate"
      return
    fi
  done
  command -v python3
}

PYTHON="$(pick_python)"
echo "conformance: installing schemathesis $VERSION with $("$PYTHON" --version) into $VENV" >&2
rm -rf "$VENV"
mkdir -p "$CACHE"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install --disable-pip-version-check --quiet "schemathesis==$VERSION" >&2
touch "$VENV/.complete"
echo "$VENV/bin/st"
