#!/usr/bin/env bash
# run-in-systemd-vm.sh [CRUN_LITE] [PYTEST ARGS...]: runs the systemd cgroup driver tests
# (tests/systemd/test_systemd_driver.py) inside a throw-away guest that boots the host's systemd as
# PID 1 on pure cgroup v2 (tests/vm/run-in-v2-vm.sh -s), against runc (the reference: Debian's
# /usr/sbin/runc, or $RUNC) and CRUN_LITE (default: build/crun-lite of this checkout).
#
# On the host it installs runc when missing and boots the guest, which runs this script again; in
# the guest ($CRUN_LITE_VM set) it runs `pytest-3 -q -p no:cacheprovider` in tests/systemd with
# CRUN_LITE and RUNC set (extra arguments go to pytest, e.g. -k runc). Prints pytest's output and
# exits with pytest's status (124/125 when the VM itself failed).
# Environment: CRUN_LITE_VM_TIMEOUT (default 600 s) and the other run-in-v2-vm.sh variables.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CRUN_LITE=$REPO/build/crun-lite
if [[ $# -gt 0 && $1 != -* ]]; then CRUN_LITE=$1; shift; fi

# ------------------------------------------------------------------------------------------ host
if [[ -z ${CRUN_LITE_VM:-} ]]; then
  say() { echo "run-in-systemd-vm: $*" >&2; }
  [[ -x $CRUN_LITE ]] || { say "no crun-lite binary at $CRUN_LITE (build it first)"; exit 1; }
  CRUN_LITE=$(realpath "$CRUN_LITE")
  RUNC=${RUNC:-/usr/sbin/runc}
  if [[ ! -x $RUNC ]]; then
    say "installing runc (apt-get)"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        -o DPkg::Lock::Timeout=300 --no-install-recommends runc; } >/dev/null 2>&1 ||
      { say "apt-get install runc failed"; exit 1; }
  fi
  command -v pytest-3 >/dev/null || { say "pytest-3 missing (apt-get install python3-pytest)"; exit 1; }
  [[ -x /bin/busybox ]] || { say "/bin/busybox missing (apt-get install busybox-static)"; exit 1; }
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
  start=$(date +%s%N)
  "$REPO/tests/vm/run-in-v2-vm.sh" -s -t "${CRUN_LITE_VM_TIMEOUT:-600}" -m 1024 -c 2 "${share[@]}" \
    -e "CRUN_LITE=$CRUN_LITE" -e "RUNC=$RUNC" -e "CRUN_LITE_REPO=$REPO" -e "PYTHONDONTWRITEBYTECODE=1" \
    "$HERE/run-in-systemd-vm.sh" "$CRUN_LITE" "$@"
  rc=$?
  ms=$((($(date +%s%N) - start) / 1000000))
  echo "run-in-systemd-vm: VM run took ${ms} ms, exit status $rc"
  exit "$rc"
fi

# ----------------------------------------------------------------------------------------- guest
echo "guest: $(systemctl --version | head -n 1), PID 1 $(cat /proc/1/comm), /sys/fs/cgroup is" \
  "$(stat -f -c %T /sys/fs/cgroup), up $(cut -d' ' -f1 /proc/uptime) s, system $(systemctl is-system-running)"
echo "guest: runc $RUNC ($("$RUNC" --version | head -n 1)), crun-lite $CRUN_LITE"
# The script may run from a copy (when the checkout is under /tmp): the host said where the repo is.
cd "${CRUN_LITE_REPO:-$REPO}/tests/systemd" || exit 1
export CRUN_LITE RUNC
pytest-3 -q -p no:cacheprovider -o cache_dir=/tmp/pytest-cache "$@"
