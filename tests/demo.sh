#!/usr/bin/env bash
# Builds a bundle from Debian's busybox-static (no registry involved) and runs it with crun-lite.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
runtime=${CRUN_LITE:-$repo/build/crun-lite}
bundle=$(mktemp -d /tmp/crun-lite-demo.XXXXXX)
trap 'rm -rf "$bundle"' EXIT

mkdir -p "$bundle/rootfs/bin"
cp /bin/busybox "$bundle/rootfs/bin/busybox"
for applet in sh echo cat hostname id grep; do ln -s busybox "$bundle/rootfs/bin/$applet"; done
cd "$bundle"
"$runtime" spec
# Replace the interactive shell of the default config with a short script.
python3 - <<'PY'
import json
c = json.load(open("config.json"))
c["process"]["args"] = ["sh", "-c",
    "echo 'hello from a crun-lite container'; echo \"pid: $$  hostname: $(hostname)  $(id)\"; "
    "grep -E '^Cap(Eff|Bnd)' /proc/self/status"]
json.dump(c, open("config.json", "w"), indent=4)
PY
"$runtime" run "demo-$$"
