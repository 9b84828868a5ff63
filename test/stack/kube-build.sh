#!/usr/bin/env bash
# Builds the pinned Kubernetes control plane, etcd and helm from the Go module proxy into
# "$CACHE/kube-<k8s version>/bin". Idempotent: each binary has a stamp file recording the
# version it was built from, so a second run only checks stamps.
set -euo pipefail

K8S_VERSION="${KUBE_VERSION:-v1.36.3}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
HELM_VERSION="${HELM_VERSION:-v3.21.4}"

CACHE="${CLICKPIPES_STACK_CACHE:-$HOME/.cache/clickpipes-stack}"
ROOT="$CACHE/kube-$K8S_VERSION"
BIN="$ROOT/bin"
STAMPS="$ROOT/stamps"
TIMES="$ROOT/build-times.txt"
mkdir -p "$BIN" "$STAMPS"

# One build at a time per cache: a second `stack up` waits here instead of compiling twice.
exec 9>"$ROOT/build.lock"
if ! flock -n 9; then
  echo "[kube-build] another build holds $ROOT/build.lock; waiting for it"
  flock 9
fi

export GOFLAGS=-mod=mod CGO_ENABLED=0 GOTOOLCHAIN=local
NICE=(nice -n 10)
START=$(date +%s)

log() { echo "[kube-build +$(( $(date +%s) - START ))s] $*"; }

# is_built NAME VERSION: true when NAME was already built for VERSION and the binary exists.
is_built() { [ -x "$BIN/$1" ] && [ "$(cat "$STAMPS/$1" 2>/dev/null)" = "$2" ]; }
mark_built() {
  echo "$2" > "$STAMPS/$1"
  echo "$1 $2 ${3}s $(date -u +%FT%TZ)" >> "$TIMES"
  log "built $1 $2 in ${3}s"
}

# A heartbeat so a caller sees the build is alive during multi-minute compiles.
heartbeat() {
  local what=$1
  while sleep 30; do log "still building $what..."; done
}
run_timed() { # NAME VERSION CMD...
  local name=$1 version=$2; shift 2
  log "building $name $version"
  local t0; t0=$(date +%s)
  heartbeat "$name" & local hb=$!
  if ! "$@"; then kill "$hb" 2>/dev/null; wait "$hb" 2>/dev/null || true; log "FAILED $name"; exit 1; fi
  kill "$hb" 2>/dev/null; wait "$hb" 2>/dev/null || true
  mark_built "$name" "$version" $(( $(date +%s) - t0 ))
}

# --- Kubernetes ---------------------------------------------------------------------------
K8S_BINS=(kube-apiserver kube-scheduler kube-controller-manager kubectl)
need_k8s=0
for b in "${K8S_BINS[@]}"; do is_built "$b" "$K8S_VERSION" || need_k8s=1; done
if [ "$need_k8s" = 1 ]; then
  # k8s.io/kubernetes replaces its staging modules with local paths; a throwaway module
  # replaces each with its published v0.<minor>.<patch> version instead.
  SRC="$ROOT/src-k8s"
  STAGING="v0.${K8S_VERSION#v1.}"
  MINOR=$(cut -d. -f2 <<<"$K8S_VERSION")
  mkdir -p "$SRC"
  if [ ! -f "$SRC/.prepared" ]; then
    log "resolving k8s.io/kubernetes@$K8S_VERSION modules"
    (cd "$SRC"
      rm -f go.mod go.sum
      go mod init local/k8sbins >/dev/null 2>&1
      GOMOD=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | python3 -c 'import json,sys;print(json.load(sys.stdin)["GoMod"])')
      for m in $(sed -nE 's#^[[:space:]]*(k8s\.io/[^[:space:]]+)[[:space:]]+=>[[:space:]]+\./staging/.*#\1#p' "$GOMOD"); do
        go mod edit -replace="$m=$m@$STAGING"
      done
      "${NICE[@]}" go get "k8s.io/kubernetes@$K8S_VERSION"
      touch .prepared)
  fi
  LDF="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    LDF+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$MINOR -X $p.gitTreeState=clean"
  done
  build_k8s() { # writes to a temp name so an interrupted build never looks finished
    (cd "$SRC" && "${NICE[@]}" go build -trimpath -ldflags "$LDF" -o "$BIN/$1.tmp.$$" "k8s.io/kubernetes/cmd/$1") \
      && mv "$BIN/$1.tmp.$$" "$BIN/$1"
  }
  for b in "${K8S_BINS[@]}"; do
    is_built "$b" "$K8S_VERSION" || run_timed "$b" "$K8S_VERSION" build_k8s "$b"
  done
fi

# --- etcd -------------------------------------------------------------------------------
if ! is_built etcd "$ETCD_VERSION" || ! is_built etcdctl "$ETCD_VERSION"; then
  SRC="$ROOT/src-etcd"
  mkdir -p "$SRC"
  (cd "$SRC"
    if [ ! -f go.mod ]; then go mod init local/etcdbins >/dev/null 2>&1; fi
    "${NICE[@]}" go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" "go.etcd.io/etcd/etcdctl/v3@$ETCD_VERSION"
    is_built etcd "$ETCD_VERSION" || run_timed etcd "$ETCD_VERSION" \
      "${NICE[@]}" go build -trimpath -ldflags "-s -w" -o "$BIN/etcd" go.etcd.io/etcd/server/v3
    is_built etcdctl "$ETCD_VERSION" || run_timed etcdctl "$ETCD_VERSION" \
      "${NICE[@]}" go build -trimpath -ldflags "-s -w" -o "$BIN/etcdctl" go.etcd.io/etcd/etcdctl/v3)
fi

# --- helm -------------------------------------------------------------------------------
if ! is_built helm "$HELM_VERSION"; then
  MINOR=$(cut -d. -f2 <<<"$K8S_VERSION")
  HLDF="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  HLDF+=" -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$MINOR"
  run_timed helm "$HELM_VERSION" env GOBIN="$BIN" "${NICE[@]}" go install -trimpath -ldflags "$HLDF" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
fi

log "all binaries ready in $BIN"
