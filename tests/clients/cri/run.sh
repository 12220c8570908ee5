#!/usr/bin/env bash
# The CRI stage (issue 19): crun-lite as a Kubernetes node's runtime, through containerd's CRI
# plugin, beside runc in the same run.
#   tests/clients/cri/run.sh [CRUN_LITE]        default: build/crun-lite
# Starts its own docker-registry (127.0.0.1:5000, images of cri_images), containerd (CRI plugin,
# handlers `runc` = $RUNC or /usr/sbin/runc and `crunlite`) and loopback-only CNI, then
#   1. critest with the runc handler, then with crunlite; fails when crun-lite fails a spec that
#      runc passes (from critest's ginkgo JSON reports);
#   2. the seed's pods through crictl (pods.sh), runc first, then crunlite;
#   3. containerd's log of the whole run has no "killall failed" line.
# Everything started is stopped by PID at the end; nothing stays mounted.
# Environment: RUNC, CRITEST, CRICTL, CRI_IMAGE_CACHE (lib.sh), CRI_PARALLEL (critest -parallel,
# default 1; more needs the ginkgo v2 command-line tool in PATH), CRI_STEPS (default "critest pods"), CRI_LOCK (a file to flock around each critest
# run, e.g. the one the host integration suite runs under), CRI_FOCUS (a regexp: only the critest
# specs it matches), CL_KEEP=1 keeps the temp dir.
set -euo pipefail
shopt -s inherit_errexit
T0=$(date +%s.%N)
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"
# shellcheck source=lib.sh disable=SC2034
source "$here/lib.sh"

crun=${1:-${RUNTIME:-$CRI_REPO/build/crun-lite}}
runc=${RUNC:-/usr/sbin/runc}
steps=${CRI_STEPS:-critest pods}
cl_init cri "$crun"
cri_tools_check
cl_need_pkgs containerd containernetworking-plugins util-linux curl jq
[ -x "$runc" ] || fail "runc not found at $runc (RUNC)"

# Specs that cannot pass on any runtime here, by name, with why.
SKIPS=(
	"port mapping|the pods have loopback only: no pod network, no host port forwarding"
	"portforward|needs nginx serving HTTP on the pod's port 80 (the stand-in nginx only has nginx's process shape)"
	"Multiple Containers .*should support network|dials the pod's IP from the host: there is no pod network"
	"AppArmor|AppArmor is not enabled in this kernel"
	"SELinux|SELinux is not enabled here"
	"public image with digest|names an upstream digest no image built here can have"
)
SKIP_ARGS=()
for s in "${SKIPS[@]}"; do
	SKIP_ARGS+=("-ginkgo.skip=${s%%|*}")
	cl_log "skipping specs matching '${s%%|*}': ${s#*|}"
done

cri_images
cri_registry_start
cri_containerd_start "$runc" "$CL_RT"
T_READY=$(date +%s.%N)

# critest for one handler; its ginkgo JSON report in $CL_TMP/critest-HANDLER.json.
run_critest() {
	local h=$1 rc=0 t0 t1
	t0=$(date +%s.%N)
	cl_log "critest with the $h handler"
	local lock=() par=()
	# critest runs N ginkgo processes itself (ginkgo refuses -parallel 1)
	[ "${CRI_PARALLEL:-1}" -le 1 ] || par=(-parallel "$CRI_PARALLEL")
	[ -z "${CRI_FOCUS:-}" ] || par+=("-ginkgo.focus=$CRI_FOCUS")
	# (the time spent waiting for the lock is noted apart: it is not the stage's)
	[ -z "${CRI_LOCK:-}" ] || lock=(flock "$CRI_LOCK" sh -c 'date +%s.%N >"$0"; exec "$@"' "$CL_TMP/critest-$h.locked")
	(cd "$CL_TMP" && "${lock[@]}" "$CRITEST" -runtime-endpoint "unix://$CRI_SOCK" -image-endpoint "unix://$CRI_SOCK" \
		-runtime-handler "$h" "${par[@]}" -ginkgo.no-color -ginkgo.succinct \
		-ginkgo.json-report "$CL_TMP/critest-$h.json" "${SKIP_ARGS[@]}" \
		>"$CL_TMP/critest-$h.log" 2>&1) || rc=$?
	t1=$(date +%s.%N)
	tail -n 5 "$CL_TMP/critest-$h.log" | sed "s/^/  [$h] /" >&2
	local tl=$t0
	[ ! -s "$CL_TMP/critest-$h.locked" ] || tl=$(cat "$CL_TMP/critest-$h.locked")
	CRITEST_SECS[$h]=$(awk -v a="$tl" -v b="$t1" 'BEGIN { printf "%.0f", b - a }')
	LOCK_WAIT=$(awk -v w="$LOCK_WAIT" -v a="$t0" -v b="$tl" 'BEGIN { printf "%.1f", w + b - a }')
	[ -s "$CL_TMP/critest-$h.json" ] || fail "critest ($h) wrote no report (exit $rc): $(tail -n 20 "$CL_TMP/critest-$h.log")"
}
declare -A CRITEST_SECS
LOCK_WAIT=0

# compare: prints the table and the specs crun-lite fails where runc passes; exit 1 if any.
compare_critest() {
	python3 - "$CL_TMP/critest-runc.json" "$CL_TMP/critest-crunlite.json" "${SKIPS[@]}" <<'EOF'
import json, re, sys
def load(p):
    out = {}
    for suite in json.load(open(p)):
        for s in suite.get("SpecReports") or []:
            if s.get("LeafNodeType") != "It":
                continue
            name = " ".join(s.get("ContainerHierarchyTexts") or []) + " " + s.get("LeafNodeText", "")
            out[name] = s.get("State")
    return out
runc, crun = load(sys.argv[1]), load(sys.argv[2])
skips = [(re.compile(x.split("|", 1)[0]), x.split("|", 1)[1]) for x in sys.argv[3:]]
def count(r):
    c = {"passed": 0, "failed": 0, "skipped": 0}
    for st in r.values():
        c["passed" if st == "passed" else "skipped" if st in ("skipped", "pending") else "failed"] += 1
    return c
print("| handler | passed | failed | skipped |")
print("|---|---|---|---|")
for label, r in (("runc", runc), ("crunlite", crun)):
    c = count(r)
    print(f"| {label} | {c['passed']} | {c['failed']} | {c['skipped']} |")
by_name = [n for n in sorted(runc) if any(rx.search(n) for rx, _ in skips)]
print(f"skipped by name ({len(by_name)}):")
for n in by_name:
    print(f"  - {n}: {next(why for rx, why in skips if rx.search(n))}")
both = sorted(n for n in runc if runc[n] not in ("passed", "skipped", "pending") and crun.get(n) not in ("passed",))
if both:
    print("failed with both handlers:")
    for n in both:
        print(f"  - {n}")
only_runc = sorted(n for n in runc if runc[n] == "passed" and crun.get(n) != "passed")
only_crun = sorted(n for n in crun if crun[n] == "passed" and runc.get(n) != "passed")
for n in only_crun:
    print(f"passed with crunlite only: {n}")
if only_runc:
    print("FAILED with crunlite, passed with runc:")
    for n in only_runc:
        print(f"  - {n} ({crun.get(n)})")
    sys.exit(1)
EOF
}

rc=0
if [[ " $steps " == *" critest "* ]]; then
	run_critest runc
	run_critest crunlite
	cl_log "critest: runc ${CRITEST_SECS[runc]}s, crunlite ${CRITEST_SECS[crunlite]}s"
	if ! compare_critest | tee "$CL_TMP/critest-table.md"; then
		rc=1
		CL_FAILED=1
		# the runtime's own words for each failing spec: the shim's errors from containerd's log
		grep -E 'level=(error|warning).*(crun-lite|OCI runtime)' "$CL_TMP/containerd.log" | tail -n 20 >&2 || true
	fi
fi
if [[ " $steps " == *" pods "* ]]; then
	source "$here/pods.sh"
	pods_all runc crunlite
fi

# The shim calls `kill --all` on every stopped container; a runtime that refuses it there makes
# the shim log "killall failed" (issue 19, item 3).
killall=$(grep -c 'killall failed' "$CL_TMP/containerd.log" || true)
if [ "$killall" != 0 ]; then
	cl_log "containerd's log has $killall \"killall failed\" lines:"
	grep 'killall failed' "$CL_TMP/containerd.log" | head -n 3 >&2
	# shellcheck disable=SC2034 # read by cl_summary and the teardown (../lib.sh)
	CL_FAILED=1
	rc=1
else
	cl_log "containerd's log: no \"killall failed\" line"
fi

cl_summary || rc=1
T1=$(date +%s.%N)
cl_log "$(awk -v a="$T0" -v r="$T_READY" -v b="$T1" -v w="$LOCK_WAIT" 'BEGIN { printf "stage wall clock: %.0f s without the %.0f s spent waiting for CRI_LOCK (images, registry and containerd ready after %.0f s)", b - a - w, w, r - a }')"
exit $rc
