#!/usr/bin/env bash
# cgroup-suite-in-vm.sh [CRUN_LITE]: runs tests/integration/test_cgroups.py inside a throw-away pure
# cgroup v2 guest (run-in-v2-vm.sh) against CRUN_LITE (default: build/crun-lite of this checkout).
#
# On the host it boots the guest and runs itself in there; in the guest ($CRUN_LITE_VM set) it runs
# `pytest-3 -q -p no:cacheprovider test_cgroups.py` from tests/integration with CRUN_LITE set. The
# host's / is the guest's (read-only, under a tmpfs overlay), so this checkout and the binary are
# visible unchanged; /tmp and /run (bundles, state roots) are fresh tmpfs in the guest. Prints pytest's
# output (and its summary line) and exits with pytest's status (124/125 when the VM itself failed).
# Environment: CRUN_LITE_VM_TIMEOUT (default 600 s) and the other run-in-v2-vm.sh variables; RUNC
# (a runc binary outside /tmp, /run and /dev) for the tests that compare with runc.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CRUN_LITE=${1:-$REPO/build/crun-lite}

# ------------------------------------------------------------------------------------------ host
if [[ -z ${CRUN_LITE_VM:-} ]]; then
  [[ -x $CRUN_LITE ]] || { echo "cgroup-suite-in-vm: no crun-lite binary at $CRUN_LITE (build it first)" >&2; exit 1; }
  CRUN_LITE=$(realpath "$CRUN_LITE")
  # The guest's /tmp, /run and /dev are its own: a checkout or binary there is shared explicitly.
  share=()
  case $REPO in /tmp/* | /run/* | /dev/*) share=(-w "$REPO") ;; esac
  case $CRUN_LITE in
    "$REPO"/*) ;;
    /tmp/* | /run/* | /dev/*)
      copy=$(mktemp -d /var/tmp/crun-lite-vm-bin.XXXXXX)
      trap 'rm -rf -- "$copy"' EXIT
      cp -p -- "$CRUN_LITE" "$copy/crun-lite"
      CRUN_LITE=$copy/crun-lite ;;
  esac
  command -v pytest-3 >/dev/null || { echo "cgroup-suite-in-vm: pytest-3 missing (apt-get install python3-pytest)" >&2; exit 1; }
  [[ -x /bin/busybox ]] || { echo "cgroup-suite-in-vm: /bin/busybox missing (apt-get install busybox-static)" >&2; exit 1; }
  # RUNC (a runc for the tests that compare) goes in too; the host's / is the guest's.
  peer=()
  [[ -n ${RUNC:-} ]] && peer=(-e "RUNC=$(realpath "$RUNC")")
  start=$(date +%s%N)
  "$HERE/run-in-v2-vm.sh" -t "${CRUN_LITE_VM_TIMEOUT:-600}" -m 1024 -c 2 "${share[@]}" \
    -e "CRUN_LITE=$CRUN_LITE" -e "CRUN_LITE_REPO=$REPO" -e "PYTHONDONTWRITEBYTECODE=1" "${peer[@]}" \
    "$HERE/cgroup-suite-in-vm.sh" "$CRUN_LITE"
  rc=$?
  ms=$((($(date +%s%N) - start) / 1000000))
  echo "cgroup-suite-in-vm: VM run took ${ms} ms, exit status $rc"
  exit "$rc"
fi

# ----------------------------------------------------------------------------------------- guest
echo "guest: kernel $(uname -r), /sys/fs/cgroup is $(stat -f -c %T /sys/fs/cgroup), crun-lite: $CRUN_LITE"
# The script may run from a copy (when the checkout is under /tmp): the host said where the repo is.
cd "${CRUN_LITE_REPO:-$REPO}/tests/integration" || exit 1
export CRUN_LITE
pytest-3 -q -p no:cacheprovider -o cache_dir=/tmp/pytest-cache test_cgroups.py
