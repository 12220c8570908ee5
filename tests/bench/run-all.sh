#!/usr/bin/env bash
# crun-lite's benchmarks, on a fresh clone: installs what is missing, runs them all, reports.
#
#   tests/bench/run-all.sh [CRUN_LITE [OUT_DIR]]
#
#   CRUN_LITE  the crun-lite binary (default: build/crun-lite of this checkout); build it with
#              cmake -S . -B build -DBUILD_TESTING=OFF && cmake --build build -j2
#              (the default build type: cmake/hot-text.ld, which keeps the peak RSS low, is made
#              for it)
#   OUT_DIR    where the results go (default: build/bench-results of this checkout):
#              benchmarks.md (table + machine), concurrency.png, concurrency.dat/.gp,
#              results.json, samples.csv
#
# The peers: Debian's runc and crun (1.1.5 and 1.8.1 on Debian 12), and the newest releases
# prebuilt beside the checkout, ../shared/tools/anchors/runc-1.3.6 and crun-1.27.1 (RUNC_NEW,
# CRUN_NEW; a peer that is missing or cannot run here is reported with its error). On a cgroup v1
# hybrid host, which crun refuses, bench.py runs every contender in one private mount namespace
# without the cgroup2 mount (see docs/benchmarks.md).
#
# Installs with apt-get, when missing: runc, crun, libyajl2 (for crun 1.27.1), gnuplot-nox,
# busybox-static, util-linux (unshare), time (/usr/bin/time), binutils (strip: the installed size),
# python3; tests/vm/run-in-v2-vm.sh installs the qemu bits for the VM benchmark itself. Then runs
# tests/bench/bench.py, which prints the markdown tables of medians, p90s, ratios against each
# named peer version, binary sizes and PASS/FAIL against the issue's targets on stdout (progress
# on stderr).
#
# After bench.py, the callers' paths, each a script of its own whose table (with its verdicts) is
# printed and appended to benchmarks.md:
#   callers  tests/bench/callers-bench.sh: `ctr run --rm` and `podman run --rm`, runc / crun-lite
#   cri      tests/bench/cri-pods.sh: CRI pod starts and removals (containerd's CRI, crictl)
#   systemd  tests/bench/systemd-bench.py: `run` with --systemd-cgroup in the systemd guest
# The runc they compare with is RUNC_NEW (runc 1.3.6).
#
# Environment (see tests/bench/bench.py and docs/benchmarks.md):
#   RUNS [100] WARMUP [5]                  per runtime, for run, cycle, exec and rss
#   BENCHES [run,cycle,exec,rss,conc,vm,callers,cri,systemd]
#                                         or SKIP_RUN=1 SKIP_CYCLE=1 SKIP_EXEC=1 SKIP_RSS=1
#                                         SKIP_CONC=1 SKIP_VM=1 SKIP_CALLERS=1 SKIP_CRI=1
#                                         SKIP_SYSTEMD=1
#   CALLERS_RUNS [20] PODS [20]           per runtime, for callers and cri; systemd: 30
#   CONC_LEVELS ["10 100 500"] CONC_REPS [5] CONC_PEERS [runc-new,crun-new]
#   VM_RUNS [30] VM_WARMUP [3] VM_TIMEOUT [900] VM_MEM [1024]
#   RUNC CRUN UNSHARE GNU_TIME STRIP      other binaries than the ones in PATH
#   ANCHORS [../shared/tools/anchors of the repository]
#   RUNC_NEW [$ANCHORS/runc-1.3.6] CRUN_NEW [$ANCHORS/crun-1.27.1]
#   PRIVATE_NS [1]                        0: no private mount namespace (crun fails on hybrid hosts)
# Needs root. The two-runtime version took 2-5 minutes with the defaults on a 2-CPU machine (the VM
# part about 40 s); with four peers and three runtimes in the concurrency benchmark expect more
# (not yet timed on a quiet machine).
# No network traffic besides apt-get (the containers get their own, empty network namespace).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

die() { echo "run-all.sh: $*" >&2; exit 1; }
case ${1:-} in -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;; esac
(($# <= 2)) || die "usage: $0 [CRUN_LITE [OUT_DIR]]"

crun_lite=${1:-$repo/build/crun-lite}
out=${2:-$repo/build/bench-results}
((EUID == 0)) || die "must run as root (namespaces, cgroups)"
[[ -x $crun_lite && -f $crun_lite ]] ||
  die "no crun-lite binary at $crun_lite; build it first:
  cmake -S . -B build -DBUILD_TESTING=OFF && cmake --build build -j2"

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }
need=()
command -v python3 >/dev/null || need+=(python3)
command -v runc >/dev/null || need+=(runc)
command -v crun >/dev/null || need+=(crun)
command -v gnuplot >/dev/null || need+=(gnuplot-nox)
command -v unshare >/dev/null || need+=(util-linux)
[[ -x /usr/bin/time ]] || need+=(time)
command -v strip >/dev/null || need+=(binutils)
installed libyajl2 || need+=(libyajl2)
# The bundle's rootfs is a single static busybox (the dynamic "busybox" package would not do).
installed busybox-static || need+=(busybox-static)
if ((${#need[@]})); then
  echo "run-all.sh: installing ${need[*]} (apt-get)" >&2
  log=$(mktemp /tmp/crun-lite-bench-apt.XXXXXX)
  if ! { apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 \
      --no-install-recommends "${need[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    die "apt-get install ${need[*]} failed"
  fi
  rm -f "$log"
fi

mkdir -p "$out"
export BENCH_CMDLINE="tests/bench/run-all.sh${1:+ $1}${2:+ $2}"

# BENCHES names bench.py's benchmarks and the callers' ones this script runs after it; each also
# has SKIP_<NAME>=1.
callers_benches=(callers cri systemd)
all_named=${BENCHES:-}
wanted() { # NAME: whether BENCHES (default: all) names it and SKIP_<NAME> is not 1
  local skip="SKIP_${1^^}"
  [[ ${!skip:-0} != 1 ]] && [[ -z $all_named || ,${all_named// /,}, == *,$1,* ]]
}
if [[ -n ${BENCHES:-} ]]; then
  own=()
  for b in ${BENCHES//,/ }; do [[ " ${callers_benches[*]} " == *" $b "* ]] || own+=("$b"); done
  BENCHES=$(IFS=,; echo "${own[*]}")
fi
rc=0
rm -f "$out/benchmarks.md" # (an earlier run's report is not appended to)
if [[ -z ${BENCHES-x} ]]; then
  echo "run-all.sh: BENCHES names none of bench.py's benchmarks" >&2
else
  python3 "$here/bench.py" --crun-lite "$crun_lite" --out "$out" || rc=$?
fi
((rc != 130)) || exit 130

# The callers' paths (issue 23, item 3): each script prints a markdown table with its verdicts,
# which goes to stdout and into benchmarks.md; its progress goes to stderr.
anchors=${ANCHORS:-$repo/../shared/tools/anchors}
runc_new=${RUNC_NEW:-$anchors/runc-1.3.6}
[[ -x $runc_new ]] || runc_new=$(command -v runc)
caller_bench() { # NAME TITLE COMMAND...
  local name=$1 title=$2 table
  shift 2
  wanted "$name" || return 0
  echo "run-all.sh: $title" >&2
  if table=$("$@"); then
    printf '\n## %s\n%s\n' "$title" "$table" | tee -a "$out/benchmarks.md"
  else
    printf '\n## %s\nFAILED (exit status %s):\n%s\n' "$title" "$?" "$table" | tee -a "$out/benchmarks.md"
    rc=1
  fi
}
caller_bench callers "Starts through containerd (ctr) and podman" \
  env RUNC_NEW="$runc_new" ANCHORS="$anchors" bash "$here/callers-bench.sh" "$crun_lite"
caller_bench cri "Pod starts through containerd's CRI" \
  env RUNC="$runc_new" bash "$here/cri-pods.sh" "$crun_lite"
caller_bench systemd "--systemd-cgroup in the systemd guest" \
  env ANCHORS="$anchors" python3 "$here/systemd-bench.py" "$crun_lite"
exit "$rc"
