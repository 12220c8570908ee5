#!/usr/bin/env bash
# check-v2-vm.sh [CRUN_LITE]: smoke test of crun-lite on a pure cgroup v2 host.
#
# On the host it boots a cgroup v2 guest with run-in-v2-vm.sh and runs itself in there; in the guest
# ($CRUN_LITE_VM set) it checks that /sys/fs/cgroup is cgroup2 with the memory, pids, cpu and io
# controllers, and that CRUN_LITE (default: build/crun-lite of this checkout) can `spec` and `run` a
# busybox bundle, with and without memory and pids limits that the container then sees in its own
# cgroup (its cgroup namespace makes /sys/fs/cgroup its own cgroup). Prints PASS/FAIL lines and a
# closing "N passed, N failed" line; exits non-zero on any failure (125 or 124 when the VM failed).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CRUN_LITE=${1:-$(cd "$HERE/../.." && pwd)/build/crun-lite}

# ------------------------------------------------------------------------------------------ host
if [[ -z ${CRUN_LITE_VM:-} ]]; then
  [[ -x $CRUN_LITE ]] || { echo "FAIL: no crun-lite binary at $CRUN_LITE (build it first)"; exit 1; }
  CRUN_LITE=$(realpath "$CRUN_LITE")
  # The guest runs the host's binaries: python3 edits config.json in there.
  if ! command -v python3 >/dev/null || ! [[ -x /usr/bin/python3 ]]; then
    echo "check-v2-vm: installing python3" >&2
    flock "${CRUN_LITE_APT_LOCK:-/run/crun-lite-apt.lock}" sh -c 'apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3' >/dev/null 2>&1 ||
      echo "check-v2-vm: apt-get install python3 failed" >&2
  fi
  OUT=$(mktemp -d /var/tmp/crun-lite-vm-check.XXXXXX) # not under /tmp: the guest mounts a tmpfs there
  trap 'rm -rf -- "$OUT"' EXIT
  # The guest's /tmp, /run and /dev are its own: a binary from there goes along in the shared dir.
  case $CRUN_LITE in
    /tmp/* | /run/* | /dev/*) cp -p -- "$CRUN_LITE" "$OUT/crun-lite" && CRUN_LITE=$OUT/crun-lite ;;
  esac
  start=$(date +%s%N)
  "$HERE/run-in-v2-vm.sh" -w "$OUT" -e "CHECK_OUT=$OUT" "$HERE/check-v2-vm.sh" "$CRUN_LITE"
  rc=$?
  ms=$((($(date +%s%N) - start) / 1000000))
  echo "check-v2-vm: VM run took ${ms} ms, guest exit status $rc"
  # The guest also leaves its results in the read-write share: check that they made it out.
  if ((rc < 124)); then
    if [[ -s $OUT/results ]]; then
      passed=$(grep -c '^PASS' "$OUT/results") failed=$(grep -c '^FAIL' "$OUT/results")
      echo "$passed passed, $failed failed"
      ((failed == 0 || rc != 0)) || rc=1
    else
      echo "FAIL: the guest left no results in the read-write share $OUT"
      rc=1
    fi
  fi
  exit "$rc"
fi

# ----------------------------------------------------------------------------------------- guest
failures=0
RESULTS=${CHECK_OUT:-/tmp}/results
: >"$RESULTS"
pass() { echo "PASS: $*"; echo "PASS: $*" >>"$RESULTS"; }
fail() { echo "FAIL: $*"; echo "FAIL: $*" >>"$RESULTS"; failures=$((failures + 1)); }
check() { # DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}

echo "guest: kernel $(uname -r), $(nproc) CPUs, crun-lite: $CRUN_LITE"
fstype=$(stat -f -c %T /sys/fs/cgroup)
check "/sys/fs/cgroup is cgroup2 (stat -f says '$fstype')" [ "$fstype" = cgroup2fs ]
controllers=$(cat /sys/fs/cgroup/cgroup.controllers 2>/dev/null)
echo "guest: cgroup.controllers: $controllers"
for c in memory pids cpu io; do
  check "controller $c available" grep -qw "$c" <<<"$controllers"
done
check "no cgroup v1 hierarchy mounted" bash -c "! awk '\$3 == \"cgroup\"' /proc/self/mounts | grep -q ." 

# A busybox bundle in the guest's /tmp
B=/tmp/bundle
# shellcheck source-path=SCRIPTDIR source=../lib/make-bundle.sh
source "$HERE/../lib/make-bundle.sh"
mkdir -p $B/rootfs/{dev,proc,sys,tmp,etc}
busybox_rootfs $B/rootfs sh cat echo ls mknod head grep
if "$CRUN_LITE" spec -b $B && [ -s $B/config.json ]; then pass "crun-lite spec"; else fail "crun-lite spec"; fi

# config.json edits (python3): the process, no terminal, the default device rules (deny all, then
# the standard devices: an eBPF program on v2) plus CAP_MKNOD to probe them, and optional memory /
# pids limits.
edit_config() { # LIMITS(yes|no) ARG...
  python3 - "$B/config.json" "$@" <<'EOF'
import json, sys
path, limits, args = sys.argv[1], sys.argv[2], sys.argv[3:]
c = json.load(open(path))
c["process"]["args"] = args
c["process"]["terminal"] = False
res = c.setdefault("linux", {}).setdefault("resources", {})
for s in ("bounding", "effective", "permitted"):
    c["process"]["capabilities"][s].append("CAP_MKNOD")
if limits == "yes":
    res["memory"] = {"limit": 33554432}
    res["pids"] = {"limit": 20}
else:
    res.pop("memory", None)
    res.pop("pids", None)
json.dump(c, open(path, "w"), indent=2)
EOF
}

run_ctr() { # ID: runs the bundle, output in $out, status in $st
  out=$("$CRUN_LITE" run -b $B "$1" 2>&1)
  st=$?
  echo "--- crun-lite run $1 (exit $st):"
  echo "$out" | sed 's/^/    /'
}

if [ -s $B/config.json ]; then
  edit_config no /bin/cat /proc/self/cgroup
  run_ctr smoke1
  check "crun-lite run busybox (exit status $st)" [ "$st" = 0 ]
  check "the container's /proc/self/cgroup is '0::/' (own cgroup namespace, v2 only)" \
    [ "$(echo "$out" | grep -v '^$')" = "0::/" ]

  edit_config yes /bin/sh -c 'cat /proc/self/cgroup; echo mem=$(cat /sys/fs/cgroup/memory.max); echo pids=$(cat /sys/fs/cgroup/pids.max)'
  run_ctr smoke2
  check "crun-lite run with memory and pids limits (exit status $st)" [ "$st" = 0 ]
  check "memory.max in the container is 33554432" grep -qx 'mem=33554432' <<<"$out"
  check "pids.max in the container is 20" grep -qx 'pids=20' <<<"$out"
  # The device filter: nodes may be made (rule "c *:* m"), but of two existing devices only the
  # allowed one opens: a second /dev/zero (1:5) yes, /dev/kmsg (1:11) no, with EPERM.
  edit_config no /bin/sh -c 'mknod /dev/zero2 c 1 5 && mknod /dev/kmsg2 c 1 11 && echo made; head -c 1 /dev/zero2 >/dev/null && echo zero=opened; head -c 1 /dev/kmsg2 2>&1 >/dev/null | grep -q "not permitted" && echo kmsg=denied'
  run_ctr smoke3
  check "crun-lite run with the default device rules on v2 (exit status $st)" [ "$st" = 0 ]
  check "mknod of device nodes is allowed (rule c *:* m)" grep -qx 'made' <<<"$out"
  check "an allowed device (1:5) opens under the eBPF device filter" grep -qx 'zero=opened' <<<"$out"
  check "a device the rules do not allow (1:11) fails with EPERM" grep -qx 'kmsg=denied' <<<"$out"
  left=$(find /sys/fs/cgroup -mindepth 1 -type d | head -n 5)
  [ -z "$left" ] || echo "note: cgroups left in the guest after the runs: $left"
fi

echo "guest: $failures failure(s)"
exit $((failures > 0))
