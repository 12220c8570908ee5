#!/usr/bin/env bash
# Container starts through the engines users call, runc beside crun-lite (issue 23, item 3):
#   ctr     `ctr run --rm --runc-binary RUNTIME busybox ID true`: containerd 1.6's runc v2 shim
#           creates, starts, waits for and deletes the container
#   podman  `podman run --rm --network none busybox true`: podman 4.3 with conmon
#   scale   (item 4) N containers running at once through containerd, N in SCALE_LEVELS, for each
#           runtime: start and removal time per container, its growth from the smallest N to the
#           largest (target <= 1.5), memory per idle container, runtime processes left behind
# Both engines run as the clients stage runs them (tests/clients/lib.sh): a containerd and a
# podman storage of this script's own under a temp dir, cgroupfs, the clients stage's busybox
# image. Runs are interleaved (runc, crun-lite, then crun-lite, runc, ...) after a warm-up, each
# one a fresh process of the engine's CLI, as a script or a person would start it; the engine's
# own work is the same for both runtimes, so the difference is the runtime's.
#
#   tests/bench/callers-bench.sh [CRUN_LITE]      default: build/crun-lite of this checkout
#   CALLERS_RUNS [20] CALLERS_WARMUP [2]          per engine and runtime
#   CALLERS_ONLY [ctr,podman,scale]               which parts
#   SCALE_LEVELS ["10 100 500"] SCALE_PARALLEL [8]
#   RUNC_NEW [ANCHORS/runc-1.3.6]  ANCHORS [../shared/tools/anchors of the repository]
#
# The runc peer is the newest runc at hand (runc 1.3.6, prebuilt; Debian's /usr/sbin/runc when it
# is missing), called through a symlink named `runc` so that podman treats it as it treats runc
# (runtime_supports_json). Prints a markdown table (median and p90 per engine and runtime,
# crun-lite / runc, PASS when below 1) on stdout, progress on stderr. Exit status 0 when every
# run succeeded and left nothing behind (whether or not crun-lite was faster), 1 otherwise.
set -euo pipefail
shopt -s inherit_errexit
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../clients/lib.sh
source "$here/../clients/lib.sh"

export CL_NOWRAP=1
cl_init callers-bench "${1:-$repo/build/crun-lite}"
cl_need_pkgs containerd podman conmon golang-github-containers-common
cl_images
runs=${CALLERS_RUNS:-20}
warmup=${CALLERS_WARMUP:-2}
only=${CALLERS_ONLY:-ctr,podman,scale}
anchors=${ANCHORS:-$repo/../shared/tools/anchors}
runc_real=${RUNC_NEW:-$anchors/runc-1.3.6}
[[ -x $runc_real ]] || runc_real=$(command -v runc) || { echo "callers-bench: no runc" >&2; exit 1; }
mkdir -p "$CL_TMP/peer"
ln -s "$(readlink -f "$runc_real")" "$CL_TMP/peer/runc"
declare -A RT=([runc]=$CL_TMP/peer/runc [crun-lite]=$CL_RUNTIME)
declare -A VERSION=([runc]="$("$runc_real" --version | head -n 1)" [crun-lite]="$("$CL_RUNTIME" --version | head -n 1)")
SAMPLES=$CL_TMP/samples.csv
echo "engine,runtime,run,ms" >"$SAMPLES"
now_ns() { date +%s%N; }

# timed ENGINE RUNTIME I COMMAND...: runs COMMAND, records its time unless I is a warm-up run
timed() {
	local engine=$1 rt=$2 i=$3 t0 t1
	shift 3
	t0=$(now_ns)
	if ! "$@" >"$CL_TMP/out" 2>&1; then
		echo "callers-bench: $engine with $rt failed: $* -> $(tail -c 800 "$CL_TMP/out")" >&2
		return 1
	fi
	t1=$(now_ns)
	((i < warmup)) || echo "$engine,$rt,$i,$(((t1 - t0) / 1000000))" >>"$SAMPLES"
}
# interleaved ENGINE FUNCTION: FUNCTION RUNTIME I for every run, the order alternating
interleaved() {
	local engine=$1 fn=$2 i rt order
	for ((i = 0; i < warmup + runs; i++)); do
		if ((i % 2)); then order="crun-lite runc"; else order="runc crun-lite"; fi
		for rt in $order; do "$fn" "$rt" "$i" || return 1; done
		((i + 1 < warmup)) || cl_log "$engine: run $((i + 1))/$((warmup + runs))"
	done
}

failed=0
# ------------------------------------------------------------------------------------------- ctr
if [[ ,$only, == *,ctr,* || ,$only, == *,scale,* ]]; then
	cl_containerd_start "bench$$" || { echo "callers-bench: containerd did not start" >&2; exit 1; }
	ctr_ images import "$CL_BUSYBOX_TAR" >/dev/null
	ctr_run() { timed ctr "$1" "$2" ctr_ run --rm --runc-binary "${RT[$1]}" localhost/busybox:latest "cb-$1-$2" true; }
	if [[ ,$only, == *,ctr,* ]]; then interleaved ctr ctr_run || failed=1; fi
	[[ -z $(ctr_ containers ls -q) ]] || { echo "callers-bench: ctr left containers" >&2; failed=1; }
fi
# ------------------------------------------------------------------------------------------ scale
# N containers running at once through containerd (`ctr run -d`, SCALE_PARALLEL clients at a time,
# one shim each as containerd 1.6 starts them), then all killed and removed; per level and runtime:
# the time per container of the start and of the removal, the memory of the idle containers
# (shims and container processes, RSS), and that no runtime process is left while they run.
if [[ ,$only, == *,scale,* ]]; then
	levels=${SCALE_LEVELS:-10 100 500}
	par=${SCALE_PARALLEL:-8}
	ctrx=(timeout 600 ctr --address "$SOCK" --namespace "$NS")
	# pids_of_namespace: the shims of this containerd's namespace and their children (the
	# containers' processes), one line, comma-separated
	pids_of_namespace() {
		local shims
		shims=$(pgrep -f -- "containerd-shim-runc-v2 -namespace $NS " | paste -sd, -)
		echo "$shims,$(pgrep -P "$shims" | paste -sd, -)"
	}
	rss_kib() { ps -o rss= -p "$1" | awk '{ s += $1 } END { print s + 0 }'; }
	scale_level() { # RUNTIME N
		local rt=$1 n=$2 t0 t1 t2 running pids kib stray
		t0=$(now_ns)
		seq "$n" | xargs -P "$par" -I{} "${ctrx[@]}" run -d --runc-binary "${RT[$rt]}" \
			localhost/busybox:latest "sc-$rt-{}" sleep 100000 >"$CL_TMP/out" 2>&1 ||
			{ echo "callers-bench: scale: starting $n with $rt failed: $(tail -c 800 "$CL_TMP/out")" >&2; return 1; }
		t1=$(now_ns)
		running=$("${ctrx[@]}" task ls | awk '$3 == "RUNNING"' | wc -l)
		((running == n)) || { echo "callers-bench: scale: $running of $n running with $rt" >&2; return 1; }
		pids=$(pids_of_namespace)
		kib=$(rss_kib "$pids")
		stray=$(pgrep -x "$(basename "${RT[$rt]}")" | wc -l || true)
		seq "$n" | xargs -P "$par" -I{} sh -c '"$@" task kill -s SIGKILL sc-'"$rt"'-{} >/dev/null 2>&1;
			for i in $(seq 100); do "$@" task delete sc-'"$rt"'-{} >/dev/null 2>&1 && break; sleep 0.1; done
			"$@" containers rm sc-'"$rt"'-{}' sh "${ctrx[@]}" >"$CL_TMP/out" 2>&1 ||
			{ echo "callers-bench: scale: removing $n with $rt failed: $(tail -c 800 "$CL_TMP/out")" >&2; return 1; }
		t2=$(now_ns)
		[[ -z $("${ctrx[@]}" containers ls -q) ]] || { echo "callers-bench: scale: containers left with $rt" >&2; return 1; }
		echo "$rt,$n,$(((t1 - t0) / 1000 / n)),$(((t2 - t1) / 1000 / n)),$((kib / n)),$stray" >>"$CL_TMP/scale.csv"
		cl_log "scale: $n containers with $rt: start $(((t1 - t0) / 1000000)) ms, removal $(((t2 - t1) / 1000000)) ms, $((kib / 1024)) MiB"
		((stray == 0)) || { echo "callers-bench: scale: $stray $rt processes were left while the containers ran" >&2; return 1; }
	}
	echo "runtime,n,start_us,remove_us,kib_each,stray" >"$CL_TMP/scale.csv"
	for n in $levels; do
		for rt in runc crun-lite; do scale_level "$rt" "$n" || { failed=1; break 2; }; done
	done
fi
# ---------------------------------------------------------------------------------------- podman
if [[ ,$only, == *,podman,* ]]; then
	CL_RT=${RT[runc]}
	cl_podman_setup
	pm load -q -i "$CL_BUSYBOX_TAR" >/dev/null
	pm_run() {
		local podman=("${PODMAN[@]}")
		podman[-1]=${RT[$1]} # PODMAN ends with --runtime RUNTIME
		timed podman "$1" "$2" "${podman[@]}" run --rm --network none localhost/busybox:latest true
	}
	interleaved podman pm_run || failed=1
	[[ -z $(pm ps -aq) ]] || { echo "callers-bench: podman left containers" >&2; failed=1; }
fi

python3 - "$SAMPLES" "$CL_TMP/scale.csv" "$runs" "$warmup" "${VERSION[runc]}" "${VERSION[crun-lite]}" \
	"$(containerd --version | cut -d' ' -f1,3)" "$(podman --version)" <<'EOF'
import csv, statistics, sys
import os
path, scale_path, runs, warmup, runc_v, cl_v, containerd_v, podman_v = sys.argv[1:]
rows = list(csv.DictReader(open(path)))
def values(engine, rt):
    return sorted(float(r["ms"]) for r in rows if r["engine"] == engine and r["runtime"] == rt)
def p90(v):
    return v[min(len(v) - 1, int(round(0.9 * (len(v) - 1))))]
print(f"\nStarts through the engines ({containerd_v}, {podman_v}): {runs} runs per engine and runtime, "
      f"interleaved, after {warmup} warm-up; runc is {runc_v}, crun-lite is {cl_v}\n")
print("| engine command | runc median (p90) | crun-lite median (p90) | crun-lite / runc | target < 1 |")
print("|---|---:|---:|---:|---|")
labels = {"ctr": "`ctr run --rm` busybox `true`", "podman": "`podman run --rm` busybox `true`"}
for engine, label in labels.items():
    a, b = values(engine, "runc"), values(engine, "crun-lite")
    if not a or not b:
        continue
    ratio = statistics.median(b) / statistics.median(a)
    print(f"| {label} | {statistics.median(a):.0f} ms ({p90(a):.0f}) | {statistics.median(b):.0f} ms ({p90(b):.0f}) "
          f"| {ratio:.2f} | {'PASS' if ratio < 1 else 'FAIL'} |")
if os.path.exists(scale_path):
    scale = list(csv.DictReader(open(scale_path)))
    print(f"\nContainers running at once through containerd (`ctr run -d`, one shim each): time per container "
          f"to start and to remove them all, memory per idle container (shim + process, RSS), runtime "
          f"processes left while they run\n")
    print("| runtime | containers | start / container | removal / container | memory / container | runtime processes left |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in scale:
        print(f"| {r['runtime']} | {r['n']} | {int(r['start_us'])/1000:.1f} ms | {int(r['remove_us'])/1000:.1f} ms "
              f"| {int(r['kib_each'])/1024:.1f} MiB | {r['stray']} |")
    for rt in ("runc", "crun-lite"):
        rows = {int(r["n"]): int(r["start_us"]) for r in scale if r["runtime"] == rt}
        if len(rows) >= 2:
            lo, hi = min(rows), max(rows)
            growth = rows[hi] / rows[lo]
            print(f"\n{rt}: start time per container at {hi} / at {lo}: {growth:.2f} "
                  f"(target <= 1.5: {'PASS' if growth <= 1.5 else 'FAIL'})", end="")
    print()
EOF
cp "$SAMPLES" "${CALLERS_BENCH_CSV:-/dev/null}" 2>/dev/null || true
exit "$failed"
