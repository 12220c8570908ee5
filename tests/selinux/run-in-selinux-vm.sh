#!/usr/bin/env bash
# run-in-selinux-vm.sh [CRUN_LITE] [PYTEST ARGS...]: runs tests/selinux/test_selinux.py inside a
# throw-away pure cgroup v2 guest (tests/vm/run-in-v2-vm.sh) booted with SELinux as its security
# module (`security=selinux selinux=1`) and Debian's reference policy loaded in permissive mode,
# against runc (Debian's /usr/sbin/runc, or $RUNC) and CRUN_LITE (default: build/crun-lite).
#
# On the host it installs what the guest needs when missing (Debian's selinux-policy-default,
# policycoreutils and selinux-utils: the guest's root is the host's /, so the policy comes from
# there; runc; podman) and boots the guest. This host's kernel runs no SELinux, so the packages change
# nothing here. In the guest ($CRUN_LITE_VM set) it mounts selinuxfs, loads the policy with
# `load_policy -i` (Debian's /etc/selinux/config says permissive: the guest's files, on 9p and a
# tmpfs overlay, carry no labels, so enforcing cannot boot here; labels are still real, and every
# transition is computed and logged), then runs pytest there. Prints pytest's output and exits with
# its status (124/125 when the VM itself failed).
# Environment: CRUN_LITE_VM_TIMEOUT (default 300 s) and the other run-in-v2-vm.sh variables.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=${CRUN_LITE_REPO:-$(cd "$HERE/../.." && pwd)}
CRUN_LITE=$REPO/build/crun-lite
if [[ $# -gt 0 && $1 != -* ]]; then CRUN_LITE=$1; shift; fi

if [[ -z ${CRUN_LITE_VM:-} ]]; then  # the host
  say() { echo "run-in-selinux-vm: $*" >&2; }
  [[ -x $CRUN_LITE ]] || { say "no crun-lite binary at $CRUN_LITE (build it first)"; exit 1; }
  CRUN_LITE=$(realpath "$CRUN_LITE")
  RUNC=${RUNC:-/usr/sbin/runc}
  missing=()
  [[ -x /usr/sbin/load_policy ]] || missing+=(policycoreutils)
  [[ -s /etc/selinux/default/policy/policy.33 ]] || missing+=(selinux-policy-default)
  command -v getenforce >/dev/null || missing+=(selinux-utils)
  [[ -x $RUNC ]] || missing+=(runc)
  command -v podman >/dev/null || missing+=(podman conmon catatonit golang-github-containers-common)
  if ((${#missing[@]})); then
    say "installing ${missing[*]} (apt-get)"
    flock "${CRUN_LITE_APT_LOCK:-/run/crun-lite-apt.lock}" sh -c 'apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"' sh "${missing[@]}" >/dev/null 2>&1 ||
      { say "apt-get install ${missing[*]} failed"; exit 1; }
  fi
  share=()
  case $REPO in /tmp/* | /run/* | /dev/*) share=(-w "$REPO") ;; esac
  copy=""
  case $CRUN_LITE in
    "$REPO"/*) ;;
    /tmp/* | /run/* | /dev/*)
      copy=$(mktemp -d /var/tmp/crun-lite-vm-bin.XXXXXX)
      cp -p -- "$CRUN_LITE" "$copy/crun-lite"
      CRUN_LITE=$copy/crun-lite ;;
  esac
  start=$(date +%s%N)
  CRUN_LITE_VM_APPEND="${CRUN_LITE_VM_APPEND:-} security=selinux selinux=1" \
    "$REPO/tests/vm/run-in-v2-vm.sh" -t "${CRUN_LITE_VM_TIMEOUT:-300}" -m 1536 "${share[@]}" \
    -e "CRUN_LITE=$CRUN_LITE" -e "RUNC=$RUNC" -e "CRUN_LITE_REPO=$REPO" -e "PYTHONDONTWRITEBYTECODE=1" \
    "$HERE/run-in-selinux-vm.sh" "$CRUN_LITE" "$@"
  rc=$?
  [[ -z $copy ]] || rm -rf -- "$copy"
  echo "run-in-selinux-vm: VM run took $((($(date +%s%N) - start) / 1000000)) ms, exit status $rc"
  exit "$rc"
fi

# ----------------------------------------------------------------------------------------- guest
mountpoint -q /sys/fs/selinux || mount -t selinuxfs selinuxfs /sys/fs/selinux ||
  { echo "guest: no selinuxfs: the kernel did not boot with SELinux" >&2; exit 1; }
load_policy -i || { echo "guest: load_policy failed" >&2; exit 1; }
echo "guest: kernel $(uname -r), LSMs $(cat /sys/kernel/security/lsm 2>/dev/null), SELinux $(getenforce)," \
  "policy $(awk -F= '$1 == "SELINUXTYPE" { print $2 }' /etc/selinux/config), context $(cat /proc/self/attr/current | tr -d '\0')"
cd "$REPO/tests/selinux" || exit 1
export CRUN_LITE RUNC
pytest-3 -q -p no:cacheprovider -o cache_dir=/tmp/pytest-cache -rfE "$@"
