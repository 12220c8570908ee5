#!/usr/bin/env bash
# Is cmake/hot-text.ld (the code a container's life runs, linked first: docs/benchmarks.md) still
# about today's code? tests/bench/hot-text.py traces the built binary into a temporary list; this
# fails when the trace finds too little (the method broke) or when the committed list names less
# than 95 % of today's hot input sections (regenerate it with tests/bench/hot-text.py, as root).
# Usage: check-hot-text.sh BUILD_DIR   (a static build; needs root, perf, a free loop device)
set -euo pipefail
build=${1:?usage: check-hot-text.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(cd "$here/../.." && pwd)
command -v perf >/dev/null || { echo "check-hot-text: perf is missing (bash tests/install-deps.sh installs linux-perf)" >&2; exit 1; }
fresh=$(mktemp /tmp/crun-lite-hot-text.XXXXXX)
trap 'rm -f "$fresh"' EXIT
python3 "$here/hot-text.py" "$build" "$fresh"
python3 - "$source_dir/cmake/hot-text.ld" "$fresh" <<'PY'
import sys

def sections(path):
    return {line.strip() for line in open(path) if line.strip().startswith("*")}

committed, fresh = sections(sys.argv[1]), sections(sys.argv[2])
if len(fresh) < 200:
    sys.exit(f"check-hot-text: the trace found only {len(fresh)} hot input sections; expected hundreds")
for needle in ("libc-start.o", "create_container", "mount_all", "set_up_container"):
    if not any(needle in s for s in fresh):
        sys.exit(f"check-hot-text: no hot section mentions {needle}: the trace missed code every run executes")
share = len(committed & fresh) / len(fresh)
print(f"check-hot-text: {len(fresh)} hot input sections today, {share:.0%} of them in cmake/hot-text.ld")
if share < 0.95:
    sys.exit("check-hot-text: cmake/hot-text.ld is stale: run `tests/bench/hot-text.py` as root and commit it")
PY
