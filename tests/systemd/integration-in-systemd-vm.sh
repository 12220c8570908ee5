#!/usr/bin/env bash
# integration-in-systemd-vm.sh [CRUN_LITE] [PYTEST ARGS...]: runs the lifecycle, cgroup, exec and
# fault tests of the integration suite (tests/integration/test_{lifecycle,cgroups,exec,faults}.py)
# in their systemd mode (CRUN_LITE_SYSTEMD_CGROUP=1: every crun-lite call gets --systemd-cgroup,
# each container is a scope in system.slice, the teardown also wants no unit left) inside the
# throw-away guest that boots the host's systemd as PID 1 on pure cgroup v2 (tests/vm/run-in-v2-vm.sh
# -s, through sdvm-host.sh as run-in-systemd-vm.sh does), against CRUN_LITE (default: build/crun-lite
# of this checkout).
#
# Extra arguments go to pytest (e.g. -k pause, or test_exec.py alone: any *.py argument replaces the
# four files). Prints pytest's output and exits with pytest's status (124/125 when the VM failed).
# Environment: CRUN_LITE_VM_TIMEOUT (default 600 s) and the other run-in-v2-vm.sh variables; RUNC
# for test_cgroups' runc comparisons (default there: the shared runc 1.3.6 beside the checkout).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "${CRUN_LITE_REPO:-$HERE/../..}/tests/systemd/sdvm-lib.sh"  # REPO, CRUN_LITE (the first argument unless it is an option), sdvm_boot

if [[ -z ${CRUN_LITE_VM:-} ]]; then  # the host: boot the guest, which runs this script again
  SDVM_NAME=integration-in-systemd-vm SDVM_RUNC=0 SDVM_ENV=(-e CRUN_LITE_SYSTEMD_CGROUP=1)
  [[ -z ${RUNC:-} ]] || SDVM_ENV+=(-e "RUNC=$RUNC")
  sdvm_boot "$HERE/integration-in-systemd-vm.sh" "$@"
  exit
fi

# ----------------------------------------------------------------------------------------- guest
echo "guest: $(systemctl --version | head -n 1), PID 1 $(cat /proc/1/comm), /sys/fs/cgroup is" \
  "$(stat -f -c %T /sys/fs/cgroup), up $(cut -d' ' -f1 /proc/uptime) s, system $(systemctl is-system-running)"
echo "guest: crun-lite $CRUN_LITE, CRUN_LITE_SYSTEMD_CGROUP=${CRUN_LITE_SYSTEMD_CGROUP:-}"
# The script may run from a copy (when the checkout is under /tmp): the host said where the repo is.
cd "${CRUN_LITE_REPO:-$REPO}/tests/integration" || exit 1
export CRUN_LITE CRUN_LITE_SYSTEMD_CGROUP=1
files=(test_lifecycle.py test_cgroups.py test_exec.py test_faults.py)
for a in "$@"; do [[ $a != *.py* ]] || { files=(); break; }; done
start=$(date +%s)
pytest-3 -q -p no:cacheprovider -o cache_dir=/tmp/pytest-cache "${files[@]}" "$@"
rc=$?
echo "guest: pytest took $(($(date +%s) - start)) s, exit status $rc"
exit "$rc"
