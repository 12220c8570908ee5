# sdvm-lib.sh: what run-in-systemd-vm.sh and integration-in-systemd-vm.sh share (sourced, on the
# host and in the guest). It sets REPO (this checkout) and CRUN_LITE (the caller's first argument
# when it is not an option, which it shifts away; else build/crun-lite of REPO) and defines
# sdvm_boot, the host side:
#
# sdvm_boot SCRIPT [ARGS...] checks what the guest needs, then boots the systemd guest
# (tests/vm/run-in-v2-vm.sh -s) running SCRIPT CRUN_LITE ARGS... there with CRUN_LITE,
# CRUN_LITE_REPO=$REPO and, when SDVM_RUNC=1, RUNC (Debian's /usr/sbin/runc, or $RUNC; installed
# when missing) in its environment, plus the -e VAR=VALUE words of the array SDVM_ENV. Prints the
# VM's run time and returns the script's exit status (124/125 when the VM failed). SDVM_NAME names
# the caller in messages.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CRUN_LITE=$REPO/build/crun-lite
if [[ $# -gt 0 && $1 != -* ]]; then CRUN_LITE=$1; shift; fi

sdvm_boot() {
  local script=$1 crun_lite=$CRUN_LITE copy="" rc start ms
  shift
  say() { echo "$SDVM_NAME: $*" >&2; }
  [[ -x $crun_lite ]] || { say "no crun-lite binary at $crun_lite (build it first)"; return 1; }
  crun_lite=$(realpath "$crun_lite")
  local env=(-e "CRUN_LITE_REPO=$REPO" -e "PYTHONDONTWRITEBYTECODE=1" "${SDVM_ENV[@]}")
  if [[ ${SDVM_RUNC:-0} == 1 ]]; then
    RUNC=${RUNC:-/usr/sbin/runc}
    if [[ ! -x $RUNC ]]; then
      say "installing runc (apt-get)"
      flock "${CRUN_LITE_APT_LOCK:-/run/crun-lite-apt.lock}" sh -c 'apt-get update -qq &&
          DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends runc' >/dev/null 2>&1 ||
        { say "apt-get install runc failed"; return 1; }
    fi
    env+=(-e "RUNC=$RUNC")
  fi
  # A stock Debian 12 host has AppArmor on: with apparmor_parser installed the guest boots with it
  # (run-in-v2-vm.sh), and tests/systemd/test_apparmor.py loads its profiles there.
  if ! command -v apparmor_parser >/dev/null; then
    say "installing apparmor (apt-get)"
    flock "${CRUN_LITE_APT_LOCK:-/run/crun-lite-apt.lock}" sh -c 'apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends apparmor' >/dev/null 2>&1 ||
      { say "apt-get install apparmor failed"; return 1; }
  fi
  command -v pytest-3 >/dev/null || { say "pytest-3 missing (apt-get install python3-pytest)"; return 1; }
  [[ -x /bin/busybox ]] || { say "/bin/busybox missing (apt-get install busybox-static)"; return 1; }
  # The guest's /tmp, /run and /dev are its own: a checkout or binary there is shared explicitly.
  local share=()
  case $REPO in /tmp/* | /run/* | /dev/*) share=(-w "$REPO") ;; esac
  case $crun_lite in
    "$REPO"/*) ;;
    /tmp/* | /run/* | /dev/*)
      copy=$(mktemp -d /var/tmp/crun-lite-vm-bin.XXXXXX)
      cp -p -- "$crun_lite" "$copy/crun-lite"
      crun_lite=$copy/crun-lite ;;
  esac
  start=$(date +%s%N)
  "$REPO/tests/vm/run-in-v2-vm.sh" -s -t "${CRUN_LITE_VM_TIMEOUT:-600}" -m 1024 "${share[@]}" \
    -e "CRUN_LITE=$crun_lite" "${env[@]}" "$script" "$crun_lite" "$@"
  rc=$?
  [[ -z $copy ]] || rm -rf -- "$copy"
  ms=$((($(date +%s%N) - start) / 1000000))
  echo "$SDVM_NAME: VM run took ${ms} ms, exit status $rc"
  return "$rc"
}
