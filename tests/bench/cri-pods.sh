#!/usr/bin/env bash
# Pod start and pod removal through a Kubernetes node's path (kubelet's CRI -> containerd's CRI
# plugin -> containerd-shim-runc-v2 -> the runtime), runc's handler beside crun-lite's (issue 19,
# Speed). Uses the CRI stage's private containerd, registry and loopback-only CNI
# (tests/clients/cri/lib.sh), the runtimes called directly (no argv-logging wrapper).
#   tests/bench/cri-pods.sh [CRUN_LITE]            default: build/crun-lite
#   PODS=20 (per handler)  RUNC=/usr/sbin/runc  CRITEST/CRICTL/CRI_IMAGE_CACHE as the stage
# For each pod, interleaved (runc, crunlite, then crunlite, runc, ...):
#   start:  `crictl runp` (the pause sandbox) + `crictl create` + `crictl start` of a busybox
#           app, until `crictl inspect` says CONTAINER_RUNNING;
#   remove: `crictl stopp` + `crictl rmp` of that pod.
# Each crictl call is a process of its own (as a script driving a node would); the gRPC calls,
# containerd, the shim and the CNI plugins are the same for both handlers: the difference is
# the runtime's. Prints the medians, the ratios and every sample (CSV on stderr's log).
set -euo pipefail
shopt -s inherit_errexit
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../clients/lib.sh"
source "$here/../clients/cri/lib.sh"

crun=${1:-${RUNTIME:-$CRI_REPO/build/crun-lite}}
runc=${RUNC:-/usr/sbin/runc}
pods=${PODS:-20}
export CL_NOWRAP=1
cl_init cri-bench "$crun"
cri_tools_check
cl_need_pkgs containerd containernetworking-plugins util-linux curl jq
cri_images
cri_registry_start
cri_containerd_start "$runc" "$CL_RT"
crictl_ pull "$CRI_BUSYBOX" >/dev/null

D=$CL_TMP/bench
mkdir -p "$D"
now() { date +%s.%N; }
# one pod: prints "start_seconds remove_seconds"
one_pod() {
	local h=$1 i=$2 pod ctr t0 t1 t2 t3
	cat >"$D/pod-$h-$i.json" <<EOF
{ "metadata": { "name": "bench-$h-$i", "namespace": "crunlite-bench", "uid": "bench-$h-$i", "attempt": 0 },
  "log_directory": "$D/logs-$h-$i" }
EOF
	cat >"$D/app.json" <<EOF
{ "metadata": { "name": "app" }, "image": { "image": "$CRI_BUSYBOX" },
  "command": ["sleep", "100000"], "log_path": "app.log" }
EOF
	t0=$(now)
	pod=$(crictl_ runp --runtime "$h" "$D/pod-$h-$i.json")
	ctr=$(crictl_ create "$pod" "$D/app.json" "$D/pod-$h-$i.json")
	crictl_ start "$ctr" >/dev/null
	until [ "$(crictl_ inspect -o json "$ctr" | jq -r .status.state)" = CONTAINER_RUNNING ]; do sleep 0.01; done
	t1=$(now)
	t2=$(now)
	crictl_ stopp "$pod" >/dev/null
	crictl_ rmp "$pod" >/dev/null
	t3=$(now)
	awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" 'BEGIN { printf "%.4f %.4f\n", b - a, d - c }'
}

# one warm-up pod each (image unpacked, shim binaries in the page cache)
one_pod runc 0 >/dev/null
one_pod crunlite 0 >/dev/null
echo "handler,pod,start_s,remove_s" >"$D/samples.csv"
for ((i = 1; i <= pods; i++)); do
	if ((i % 2)); then order="runc crunlite"; else order="crunlite runc"; fi
	for h in $order; do
		read -r s r < <(one_pod "$h" "$i")
		echo "$h,$i,$s,$r" >>"$D/samples.csv"
	done
	cl_log "pod $i/$pods"
done
[ -z "$(crictl_ pods -q)" ] || fail "pods left after the benchmark"

python3 - "$D/samples.csv" "$pods" "$(basename "$CL_RUNTIME")" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
def med(h, k):
    return statistics.median(float(r[k]) for r in rows if r["handler"] == h)
def p90(h, k):
    v = sorted(float(r[k]) for r in rows if r["handler"] == h)
    return v[min(len(v) - 1, int(round(0.9 * (len(v) - 1))))]
print(f"CRI pods, {sys.argv[2]} per handler, interleaved (containerd 1.6, crictl, loopback CNI)")
print("| measure | runc handler median (p90) | crun-lite handler median (p90) | crun-lite / runc | target < 1 |")
print("|---|---|---|---|---|")
for k, label in (("start_s", "`crictl runp` -> app container running"), ("remove_s", "`crictl stopp` + `crictl rmp`")):
    a, b = med("runc", k), med("crunlite", k)
    print(f"| {label} | {a*1000:.0f} ms ({p90('runc', k)*1000:.0f}) | {b*1000:.0f} ms ({p90('crunlite', k)*1000:.0f}) "
          f"| {b/a:.2f} | {'PASS' if b < a else 'FAIL'} |")
EOF
cp "$D/samples.csv" "${CRI_BENCH_CSV:-/dev/null}" 2>/dev/null || true
