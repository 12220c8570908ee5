#!/usr/bin/env bash
# OCI runtime-spec conformance suite (docs/conformance.md).
#
#   tests/conformance/run.sh [RUNTIME_BINARY]      (as root; default: build/crun-lite)
#   tests/conformance/run.sh /usr/sbin/runc        (the same assertions against runc)
#
# Installs what it needs from Debian's archive when missing (Go 1.19 and the packaged Go sources
# of runtime-tools, runtime-spec and gojsonschema), builds the driver and the static in-container
# checker offline in GOPATH mode against those packaged sources, and runs every case. Prints TAP
# lines and a last line "N passed, M failed, K skipped"; exits non-zero when anything failed.
# Environment: RUNTIME (instead of the argument), CONFORMANCE_BUILD (build directory, default
# build/conformance), CONFORMANCE_RUN (a regular expression selecting cases by area/name),
# CONFORMANCE_ARGS (more driver flags, e.g. "-v" or "-keep").
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
runtime=${1:-${RUNTIME:-$repo/build/crun-lite}}
build=${CONFORMANCE_BUILD:-$repo/build/conformance}

if [[ $(id -u) -ne 0 ]]; then
  echo "conformance: must run as root (containers with namespaces, cgroups, devices)" >&2
  exit 2
fi
if [[ ! -x $runtime ]]; then
  echo "conformance: runtime binary $runtime not found (build crun-lite first, or pass a path)" >&2
  exit 2
fi

# ---- dependencies (Debian packages; apt-get update only when something must be installed)
packages=(golang-go golang-github-opencontainers-runtime-tools-dev golang-github-opencontainers-specs-dev golang-gocapability-dev
          golang-github-xeipuuv-gojsonschema-dev busybox-static)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "# conformance: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# ---- build, offline: GOPATH mode over this directory and Debian's /usr/share/gocode
mkdir -p "$build"
export GOPATH="$here:/usr/share/gocode" GO111MODULE=off GOPROXY=off GOFLAGS= GONOSUMDB= GOSUMDB=off \
       GOCACHE="$build/gocache" CGO_ENABLED=0 GOTOOLCHAIN=local
go_bin=$(command -v go || echo /usr/lib/go-1.19/bin/go)
t0=$(date +%s)
"$go_bin" build -o "$build/checker" conformance/checker
"$go_bin" build -o "$build/conformance" conformance/driver
echo "# conformance: built driver and checker with $("$go_bin" version) in $(( $(date +%s) - t0 ))s"

# ---- run
name=$(basename "$runtime")
args=(-runtime "$runtime" -checker "$build/checker" -results "$build/results-$name.tsv")
[[ -n ${CONFORMANCE_RUN:-} ]] && args+=(-run "$CONFORMANCE_RUN")
# shellcheck disable=SC2206
[[ -n ${CONFORMANCE_ARGS:-} ]] && args+=($CONFORMANCE_ARGS)
exec "$build/conformance" "${args[@]}"
