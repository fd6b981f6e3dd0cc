#!/usr/bin/env bash
# Builds kube-score (an offline Kubernetes manifest linter) with `go install` from the Go module proxy
# into ~/.cache/cqrs-catalog (or $STACK_CACHE_DIR), once, and prints the path of the binary.
set -euo pipefail
VERSION=v1.20.0
CACHE="${STACK_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cqrs-catalog}"
DIR="$CACHE/kube-score-$VERSION"
if [ ! -x "$DIR/bin/kube-score" ]; then
  echo "kube-score: building $VERSION with $(go version) into $DIR (once)" >&2
  mkdir -p "$DIR"
  GOBIN="$DIR/bin.tmp" go install "github.com/zegl/kube-score/cmd/kube-score@$VERSION" >&2
  mv "$DIR/bin.tmp" "$DIR/bin"
fi
echo "$DIR/bin/kube-score"
