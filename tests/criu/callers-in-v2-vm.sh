#!/usr/bin/env bash
# callers-in-v2-vm.sh [CRUN_LITE]: checkpoint/restore through podman and containerd (tests/criu/
# callers.sh) with runc and then with CRUN_LITE (default build/crun-lite), in one pure cgroup v2
# guest (tests/vm/run-in-v2-vm.sh, Debian's 6.1 kernel): CRIU 3.17 cannot dump on this host's kernel.
#
# On the host it installs what the guest needs when missing (criu, podman, conmon, containerd;
# Debian's), builds the busybox image of tests/clients/lib.sh and boots the guest, which runs this
# script again: there, callers.sh RUNC, then callers.sh CRUN_LITE. runc is the anchor
# ../shared/tools/anchors/runc-1.3.6 beside the checkout (or $RUNC; Debian's /usr/sbin/runc when the
# anchor is missing). Output: callers.sh's `ok`/`FAIL` lines for each runtime, then one summary line
# per runtime and the VM's wall time. Exit status: non-zero when any check failed (124/125 when the
# VM itself failed).
# With CRIU_SYSTEMD=1 the guest boots systemd as PID 1 (run-in-v2-vm.sh -s) and podman uses its
# systemd cgroup manager, as on a stock systemd host: it passes --systemd-cgroup to the runtime.
# Environment: CRIU_RUNTIMES ("runc crun-lite": which of the two run, in that order), CRIU_REPEAT
# (3), CRIU_ONLY (regex over the scenarios podman|export|ctr), CRIU_PODMAN_RUN_ARGS (see callers.sh),
# CRUN_LITE_VM_TIMEOUT (default 1800 s) and the other run-in-v2-vm.sh variables.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=${CRUN_LITE_REPO:-$(cd "$HERE/../.." && pwd)}
CRUN_LITE=${1:-$REPO/build/crun-lite}
# shellcheck source-path=SCRIPTDIR source=../clients/lib.sh
source "$REPO/tests/clients/lib.sh"

# ------------------------------------------------------------------------------------------ host
if [[ -z ${CRUN_LITE_VM:-} ]]; then
  say() { echo "criu-callers: $*" >&2; }
  if [[ " ${CRIU_RUNTIMES:-crun-lite} " == *" crun-lite "* ]]; then
    [[ -x $CRUN_LITE ]] || { say "no crun-lite binary at $CRUN_LITE (build it first)"; exit 1; }
    CRUN_LITE=$(realpath "$CRUN_LITE")
  fi
  if [[ -z ${RUNC:-} ]]; then
    RUNC=$REPO/../shared/tools/anchors/runc-1.3.6
    [[ -x $RUNC ]] || RUNC=/usr/sbin/runc
  fi
  RUNC=$(realpath "$RUNC") || { say "no runc at $RUNC"; exit 1; }
  cl_need_pkgs criu podman conmon catatonit golang-github-containers-common containerd iptables ||
    { say "installing criu and the engines failed"; exit 1; }
  [[ -x $RUNC ]] || cl_need_pkgs runc || { say "installing runc failed"; exit 1; }
  cl_images || { say "building the images failed"; exit 1; }
  # The guest's /tmp, /run and /dev are its own: what it needs from there is shared.
  share=()
  for d in "$REPO" "$(dirname "$CRUN_LITE")" "$(dirname "$RUNC")" "$CL_IMAGE_CACHE"; do
    case $d in /tmp/* | /run/* | /dev/*) share+=(-w "$d") ;; esac
  done
  start=$(date +%s%N)
  guest=()
  [[ ${CRIU_SYSTEMD:-0} == 1 ]] && guest=(-s -e CL_PODMAN_CGROUP_MANAGER=systemd)
  "$REPO/tests/vm/run-in-v2-vm.sh" "${guest[@]}" -t "${CRUN_LITE_VM_TIMEOUT:-1800}" -m 1536 "${share[@]}" \
    -e "CRUN_LITE_REPO=$REPO" -e "RUNC=$RUNC" -e "CL_IMAGE_CACHE=$CL_IMAGE_CACHE" \
    -e "CRIU_RUNTIMES=${CRIU_RUNTIMES:-runc crun-lite}" -e "CRIU_REPEAT=${CRIU_REPEAT:-3}" \
    -e "CRIU_ONLY=${CRIU_ONLY:-}" -e "CRIU_PODMAN_RUN_ARGS=${CRIU_PODMAN_RUN_ARGS:-}" -e "CL_KEEP=${CL_KEEP:-0}" \
    -e "CL_NOWRAP=${CL_NOWRAP:-0}" \
    "$HERE/callers-in-v2-vm.sh" "$CRUN_LITE"
  rc=$?
  echo "criu-callers: VM run took $((($(date +%s%N) - start) / 1000000)) ms, exit status $rc"
  exit "$rc"
fi

# ----------------------------------------------------------------------------------------- guest
rc=0
summary=()
for rt in ${CRIU_RUNTIMES:-runc crun-lite}; do
  case $rt in
    runc) bin=$RUNC ;;
    crun-lite) bin=$CRUN_LITE ;;
    *) echo "criu-callers: unknown runtime $rt in CRIU_RUNTIMES" >&2; exit 2 ;;
  esac
  echo "===== $rt ($bin)"
  out=$(mktemp /tmp/criu-callers.XXXXXX)
  "$HERE/callers.sh" "$bin" 2>&1 | tee "$out"
  r=${PIPESTATUS[0]}
  ((r == 0)) || rc=1
  summary+=("$(printf '%-9s %s: %d ok, %d FAIL (exit %d)' "$rt" "$([ "$r" = 0 ] && echo passed || echo FAILED)" \
    "$(grep -c '^ok - ' "$out")" "$(grep -c '^FAIL - ' "$out")" "$r")")
  rm -f "$out"
done
echo "===== summary"
printf '%s\n' "${summary[@]}"
exit "$rc"
