#!/usr/bin/env bash
# Builds one Go test server of the object storage stack (versitygw for S3, fake-gcs-server
# for GCS) from the Go module proxy into "$CACHE/<name>-<version>/bin/<name>".
# Usage: object-store-build.sh <name> <module path>@<version>
# Idempotent: a stamp file records what the binary was built from, so a second run only
# checks the stamp. Prints progress while a cold build runs (minutes on 2 cores).
set -euo pipefail

NAME="$1"
MODULE="$2"
VERSION="${MODULE##*@}"
CACHE="${CLICKPIPES_STACK_CACHE:-$HOME/.cache/clickpipes-stack}"
ROOT="$CACHE/$NAME-$VERSION"
BIN="$ROOT/bin"
mkdir -p "$BIN"

# One build at a time per cache: a second `stack up` waits instead of compiling twice.
exec 9>"$ROOT/build.lock"
if ! flock -n 9; then
  echo "[$NAME-build] another build holds $ROOT/build.lock; waiting for it"
  flock 9
fi

export GOFLAGS=-mod=mod CGO_ENABLED=0 GOTOOLCHAIN=local
START=$(date +%s)
log() { echo "[$NAME-build +$(( $(date +%s) - START ))s] $*"; }

if [ -x "$BIN/$NAME" ] && [ "$(cat "$ROOT/stamp" 2>/dev/null)" = "$MODULE" ]; then
  log "$NAME ready in $BIN"
  exit 0
fi
# Into a temp GOBIN so an interrupted build never looks finished.
tmp="$ROOT/gobin.tmp.$$"
mkdir -p "$tmp"
log "building $MODULE (go install; a few minutes cold on 2 cores, plus module downloads)"
( while sleep 30; do log "still building $NAME..."; done ) & hb=$!
if ! GOBIN="$tmp" nice -n 10 go install -trimpath -ldflags "-s -w" "$MODULE"; then
  kill "$hb" 2>/dev/null; wait "$hb" 2>/dev/null || true
  log "FAILED $NAME"; exit 1
fi
kill "$hb" 2>/dev/null; wait "$hb" 2>/dev/null || true
mv "$tmp/$NAME" "$BIN/$NAME"
echo "$MODULE" > "$ROOT/stamp"
rmdir "$tmp"
log "built $NAME in $(( $(date +%s) - START ))s"
