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
source "${CRUN_LITE_REPO:-$HERE/../..}/tests/systemd/sdvm-lib.sh"  # REPO, CRUN_LITE (the first argument unless it is an option), sdvm_boot

if [[ -z ${CRUN_LITE_VM:-} ]]; then  # the host: boot the guest, which runs this script again
  SDVM_NAME=run-in-systemd-vm SDVM_RUNC=1 SDVM_ENV=()
  sdvm_boot "$HERE/run-in-systemd-vm.sh" "$@"
  exit
fi

# ----------------------------------------------------------------------------------------- guest
echo "guest: $(systemctl --version | head -n 1), PID 1 $(cat /proc/1/comm), /sys/fs/cgroup is" \
  "$(stat -f -c %T /sys/fs/cgroup), up $(cut -d' ' -f1 /proc/uptime) s, system $(systemctl is-system-running)"
echo "guest: runc $RUNC ($("$RUNC" --version | head -n 1)), crun-lite $CRUN_LITE"
# The script may run from a copy (when the checkout is under /tmp): the host said where the repo is.
cd "${CRUN_LITE_REPO:-$REPO}/tests/systemd" || exit 1
export CRUN_LITE RUNC
pytest-3 -q -p no:cacheprovider -o cache_dir=/tmp/pytest-cache "$@"
