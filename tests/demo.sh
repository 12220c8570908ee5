#!/usr/bin/env bash
# Builds a bundle from Debian's busybox-static (no registry involved) and runs it with crun-lite.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/make-bundle.sh
source "$repo/tests/lib/make-bundle.sh"
runtime=${CRUN_LITE:-$repo/build/crun-lite}
bundle=$(mktemp -d /tmp/crun-lite-demo.XXXXXX)
trap 'rm -rf "$bundle"' EXIT

busybox_rootfs "$bundle/rootfs" sh echo cat hostname id grep
cd "$bundle"
"$runtime" spec
# Replace the interactive shell of the default config with a short script.
# shellcheck disable=SC2016 # the container's shell expands it
bundle_args config.json sh -c \
    'echo "hello from a crun-lite container"; echo "pid: $$  hostname: $(hostname)  $(id)"; grep -E "^Cap(Eff|Bnd)" /proc/self/status'
"$runtime" run "demo-$$"
