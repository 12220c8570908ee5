#!/usr/bin/env bash
# callers.sh RUNTIME: checkpoint and restore as their callers drive them (podman 4.3 and containerd
# 1.6 from Debian 12, both over Debian's criu 3.17), with RUNTIME (a runc-compatible binary, called
# through the argv-logging wrapper of tests/clients/lib.sh) as their OCI runtime. Meant for the pure
# cgroup v2 guest (tests/criu/callers-in-v2-vm.sh boots it and runs this for runc, then crun-lite):
# CRIU fails on the host's kernel.
#
# The container is a busybox counter (`i=i+1 > /tmp/n` ten times a second). Scenarios, each run
# CRIU_REPEAT times (default 3) so that a flaky one shows:
#   podman   `podman container checkpoint` (the container is then exited, Checkpointed), `podman
#            container restore`: running again, counting on from the checkpointed value, exec works
#   export   `checkpoint --export FILE.tar.gz`, `rm`, `restore --import FILE --name NEW`: NEW runs
#            and counts on from the exported value
#   ctr      `ctr run -d --runc-binary RUNTIME` (the runc v2 shim with BinaryName = RUNTIME), `ctr c
#            checkpoint --task --rw` (pause, checkpoint --leave-running, resume), the task killed and
#            container removed, `ctr c restore --live --rw`: running again, counting on
# Each check prints one line, `ok - WHAT` or `FAIL - WHAT: REASON`; after a FAIL the scenario's
# iteration stops, prints the runtime calls that failed and the CRIU logs (errors and tail), and
# removes its container. podman runs with its own --root/--runroot/--tmpdir, cgroupfs, file events,
# --network none; containerd on a private config (own root, state, sockets). Everything is torn
# down at the end. Exit status: 0 when every check passed, 1 otherwise.
# Environment: CRIU_REPEAT (3), CRIU_ONLY (regex over podman|export|ctr), CRIU_PODMAN_RUN_ARGS (more
# `podman run` options for the counter, e.g. -i), CL_KEEP=1, CL_NOWRAP=1.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../clients/lib.sh
source "$(dirname "$0")/../clients/lib.sh"

cl_init criu "${1:-}"
cl_need_pkgs criu podman conmon catatonit golang-github-containers-common containerd
cl_images
REPEAT=${CRIU_REPEAT:-3}
T=$CL_TMP
# podman passes --log-format=json only to runtimes named in runtime_supports_json: an anchor like
# runc-1.3.6 is called through a wrapper named runc.
if [[ $CL_RT_BASE == runc?* && ${CL_NOWRAP:-0} != 1 ]]; then
	CL_RT=$T/wrap/runc
	cl_write_wrapper "$CL_RT" "$CL_RUNTIME" "$CL_ARGV_LOG"
fi
echo "# criu callers with $CL_RUNTIME ($("$CL_RUNTIME" --version 2>&1 | head -n 1)), $(criu --version | head -n 1)," \
	"$(podman --version), $(containerd --version | cut -d' ' -f1,3), kernel $(uname -r)"

PASSED=0 FAILED=0
# check WHAT COMMAND...: runs COMMAND (its output kept in $T/out); prints ok and its time, or FAIL
# with its output
ok() { echo "ok - $*"; PASSED=$((PASSED + 1)); }
bad() { echo "FAIL - $*"; FAILED=$((FAILED + 1)); return 1; }
check() {
	local what=$1 t0 ms
	shift
	t0=$(date +%s%N)
	if "$@" >"$T/out" 2>&1; then
		ms=$((($(date +%s%N) - t0) / 1000000))
		ok "$what ($ms ms)"
	else
		bad "$what: $* failed: $(tail -c 1500 "$T/out" | tr '\n' ' ')"
	fi
}
# counter_ok WHAT BEFORE NOW: the counter went on from BEFORE: NOW is a number >= BEFORE (a restart
# from scratch would read small again)
counter_ok() {
	if [[ $3 =~ ^[0-9]+$ ]] && (($3 >= $2)); then ok "$1: counter $3 >= $2"; else bad "$1: counter [$3], expected >= $2"; fi
}
# The counter: what the container's /tmp/n holds, read from the host side (its rootfs or upper
# layer), COUNTER_FILE. A counter that rose to 20 or more before a checkpoint reads less again only
# when a restore started it from scratch.
counter() { cat "$COUNTER_FILE"; }
# rises WHAT MIN: the counter rises within 10 s (the process runs on) and never reads below MIN (a
# process started from scratch would write 1, 2, ... over the checkpointed value)
rises() {
	local a b i
	a=$(counter 2>/dev/null) || a=
	for ((i = 0; i < 50; i++)); do
		sleep 0.2
		b=$(counter 2>/dev/null) || b=
		[[ ! $b =~ ^[0-9]+$ ]] || ((b >= $2)) || { bad "$1: counter fell to $b, below $2: counting started again"; return 1; }
		if [[ $a =~ ^[0-9]+$ && $b =~ ^[0-9]+$ ]] && ((b > a)); then ok "$1: counter rises ($a -> $b)"; return 0; fi
	done
	bad "$1: counter did not rise in 10 s ([$a] -> [$b])"
}
# counts WHAT: polls (30 s) until the counter reaches 20, prints it
counts() {
	local v i
	for ((i = 0; i < 150; i++)); do
		v=$(counter 2>/dev/null) || v=
		if [[ $v =~ ^[0-9]+$ ]] && ((v >= 20)); then ok "$1 counts (at $v)"; return 0; fi
		sleep 0.2
	done
	bad "$1 does not count: [$v] in $COUNTER_FILE"
}
# (written beside and renamed over /tmp/n: a reader, or a checkpoint, between `>`'s truncation and
# the write would otherwise see an empty file)
COUNTER='i=0; while :; do i=$((i+1)); echo $i > /tmp/n.new; mv /tmp/n.new /tmp/n; sleep 0.1; done'
MARK=$T/mark

# After a FAIL: the runtime calls that failed since the iteration began, and every CRIU log written
# since then under the temp dir (dump.log, restore.log, ...): its Error lines and its tail.
diagnose() {
	local f
	if grep -q -- '-> exit' "$T/iter-argv.log" 2>/dev/null; then
		echo "#   runtime calls that failed:"
		grep -A3 -- '-> exit' "$T/iter-argv.log" | head -n 40 | sed 's/^/#     /'
	fi
	while IFS= read -r f; do
		echo "#   CRIU log $f:"
		grep -E 'Error|error|Warn' "$f" | head -n 25 | sed 's/^/#     E| /'
		tail -n 15 "$f" | sed 's/^/#     T| /'
	done < <(find /tmp /run/containerd -newer "$MARK" -type f \( -name '*dump*.log' -o -name '*restore*.log' \
		-o -name 'criu*.log' \) 2>/dev/null | sort -u)
}
# iteration LABEL FUNCTION N: one run of a scenario, its runtime calls logged apart
iteration() {
	local label=$1 fn=$2 n=$3 rc=0 start
	if [[ -n ${CRIU_ONLY:-} && ! $label =~ $CRIU_ONLY ]]; then return 0; fi
	echo "# --- $label, run $n/$REPEAT, $CL_RT_BASE"
	touch "$MARK"
	sleep 0.01
	local lines
	lines=$(wc -l <"$CL_ARGV_LOG")
	ITER_ARGV_FROM=$((lines + 1)) # the first line of this iteration's runtime calls
	start=$(date +%s%N)
	"$fn" "$n" || rc=$?
	tail -n +"$((lines + 1))" "$CL_ARGV_LOG" >"$T/iter-argv.log"
	if ((rc)); then diagnose; fi
	"${fn}_cleanup" "$n" >/dev/null 2>&1 || true
	echo "# --- $label, run $n: $([ $rc = 0 ] && echo passed || echo FAILED) in $((($(date +%s%N) - start) / 1000000)) ms"
	return 0
}

# ------------------------------------------------------------------------------------------ podman
cl_podman_setup
# (a bound on every engine call: a stuck one fails its check instead of the whole run)
pm() { timeout 180 "${PODMAN[@]}" "$@"; }
IMG=localhost/busybox:latest
# CRIU_PODMAN_RUN_ARGS: more `podman run` options for the counter, for a diagnosis (e.g. -i: stdin
# a pipe from conmon instead of /dev/null)
read -ra RUN_ARGS <<<"${CRIU_PODMAN_RUN_ARGS:-}"

pm_state() { pm inspect -f '{{.State.Status}} checkpointed={{.State.Checkpointed}}' "$1"; }
# pm_counter_file NAME: COUNTER_FILE in the container's upper layer (there while it exists)
pm_counter_file() {
	local up
	up=$(pm inspect -f '{{.GraphDriver.Data.UpperDir}}' "$1") && [[ -d $up ]] && COUNTER_FILE=$up/tmp/n && return 0
	bad "the upper layer of $1: [$up]"
}
pm_start_counter() { # NAME
	check "podman run -d $1 (counter)" pm run -d --network none "${RUN_ARGS[@]}" --name "$1" "$IMG" sh -c "$COUNTER" || return 1
	pm_counter_file "$1" && counts "$1"
}

# pm_unit_ok NAME: with podman's systemd cgroup manager (CL_PODMAN_CGROUP_MANAGER=systemd), the
# runtime's restore was called with --systemd-cgroup (in this iteration's calls) and the restored
# process is in podman's scope.
pm_unit_ok() {
	[[ ${CL_PODMAN_CGROUP_MANAGER:-cgroupfs} == systemd ]] || return 0
	local pid cg
	tail -n +"$ITER_ARGV_FROM" "$CL_ARGV_LOG" | grep -qE -- ' --systemd-cgroup( .*)? restore ' &&
		ok "restore was called with --systemd-cgroup" ||
		bad "no restore call with --systemd-cgroup in this run's part of $CL_ARGV_LOG" || return 1
	pid=$(pm inspect -f '{{.State.Pid}}' "$1" 2>&1) || true
	cg=$(cat "/proc/$pid/cgroup" 2>&1) || true
	[[ $cg =~ ^0::/machine\.slice/libpod-[0-9a-f]+\.scope ]] && ok "$1 restored into its systemd scope (${cg#0::})" ||
		bad "$1 restored: pid [$pid] cgroup [$cg], expected machine.slice/libpod-ID.scope"
}

s_podman() {
	local c=cr-pm$1 v0 v1 st
	pm_start_counter "$c" || return 1
	check "podman container checkpoint $c" pm container checkpoint "$c" || return 1
	st=$(pm_state "$c" 2>&1) || true
	[[ $st == "exited checkpointed=true" ]] && ok "$c after checkpoint: $st" ||
		bad "$c after checkpoint: [$st], expected exited checkpointed=true" || return 1
	v0=$(counter 2>&1) || true
	[[ $v0 =~ ^[0-9]+$ ]] && ok "counter at checkpoint: $v0" || bad "counter after checkpoint: [$v0]" || return 1
	check "podman container restore $c" pm container restore "$c" || return 1
	v1=$(counter 2>&1) || true
	counter_ok "$c restored" "$v0" "$v1" || return 1
	st=$(pm inspect -f '{{.State.Status}}' "$c" 2>&1) || true
	[[ $st == running ]] && ok "$c after restore: running" || bad "$c after restore: [$st], expected running" || return 1
	pm_unit_ok "$c" || return 1
	rises "$c restored" "$v0" || return 1
	v1=$(pm exec "$c" cat /tmp/n 2>&1) || true
	counter_ok "podman exec in the restored $c" "$v0" "$v1" || return 1
	check "podman rm -f the restored $c" pm rm -f -t 0 "$c"
}
s_podman_cleanup() { pm rm -f -t 0 "cr-pm$1"; }

s_export() {
	local c=cr-ex$1 new=cr-im$1 f=$T/ckpt-$1.tar.gz v0 v1 st
	pm_start_counter "$c" || return 1
	check "podman container checkpoint --export $f $c" pm container checkpoint --export="$f" "$c" || return 1
	[[ -s $f ]] && ok "export archive written ($(stat -c %s "$f") bytes)" || bad "no export archive $f" || return 1
	v0=$(counter 2>&1) || true
	[[ $v0 =~ ^[0-9]+$ ]] && ok "counter at checkpoint: $v0" || bad "counter after checkpoint: [$v0]" || return 1
	check "podman rm $c" pm rm "$c" || return 1
	check "podman container restore --import $f --name $new" pm container restore --import="$f" --name "$new" || return 1
	pm_counter_file "$new" || return 1
	v1=$(counter 2>&1) || true
	counter_ok "$new imported" "$v0" "$v1" || return 1
	st=$(pm inspect -f '{{.State.Status}}' "$new" 2>&1) || true
	[[ $st == running ]] && ok "$new after restore: running" || bad "$new after restore --import: [$st], expected running" || return 1
	pm_unit_ok "$new" || return 1
	rises "$new imported" "$v0" || return 1
	check "podman rm -f the imported $new" pm rm -f -t 0 "$new"
}
s_export_cleanup() { pm rm -f -t 0 "cr-ex$1" "cr-im$1"; rm -f "$T/ckpt-$1.tar.gz"; }

# -------------------------------------------------------------------------------------- containerd
CTRD_PID=
start_containerd() {
	[[ -z $CTRD_PID ]] || return 0
	cl_containerd_start "criu$$" 2>&1 || { bad "containerd did not start"; return 1; }
	ctr_ images import "$CL_BUSYBOX_TAR" >/dev/null || { bad "ctr images import"; return 1; }
}
task_status() { ctr_ task ls 2>/dev/null | awk -v id="$1" '$1 == id { print $3 }'; }
ctr_stopped() { [[ $(task_status "$1") == STOPPED ]]; }
ctr_kill_delete() { ctr_ task kill -s SIGKILL "$1" && wait_for 10 ctr_stopped "$1" && ctr_ task delete "$1"; }

s_ctr() {
	local c=cr-ctr$1 ref=localhost/cr-ckpt:$1 v0 v1 st
	start_containerd || return 1
	check "ctr run -d --runc-binary (counter) $c" ctr_ run -d --runtime io.containerd.runc.v2 --runc-binary "$CL_RT" \
		"$IMG" "$c" sh -c "$COUNTER" || return 1
	COUNTER_FILE=$T/state/io.containerd.runtime.v2.task/$NS/$c/rootfs/tmp/n
	counts "$c" || return 1
	v0=$(counter)
	check "ctr containers checkpoint --task --rw $c $ref" ctr_ containers checkpoint --task --rw "$c" "$ref" || return 1
	st=$(task_status "$c")
	[[ $st == RUNNING ]] && ok "$c after checkpoint (pause, leave running, resume): RUNNING" ||
		bad "$c after checkpoint: [$st], expected RUNNING" || return 1
	check "checkpoint image $ref listed" cl_listed "$ref" ctr_ images ls -q || return 1
	check "ctr task kill -s SIGKILL + delete $c" ctr_kill_delete "$c" || return 1
	check "ctr containers rm $c" ctr_ containers rm "$c" || return 1
	check "ctr containers restore --live --rw $c $ref" ctr_ containers restore --live --rw "$c" "$ref" || return 1
	v1=$(counter 2>&1) || true
	counter_ok "$c restored (counter before the checkpoint: $v0)" "$v0" "$v1" || return 1
	st=$(task_status "$c")
	[[ $st == RUNNING ]] && ok "$c after restore: RUNNING" || bad "$c after restore: [$st], expected RUNNING" || return 1
	rises "$c restored" "$v0" || return 1
	v1=$(ctr_ task exec --exec-id e1 "$c" cat /tmp/n 2>&1) || true
	counter_ok "ctr task exec in the restored $c" "$v0" "$v1" || return 1
	check "ctr task kill + delete the restored $c" ctr_kill_delete "$c" || return 1
	check "ctr containers rm $c" ctr_ containers rm "$c" || return 1
	check "ctr images rm $ref" ctr_ images rm "$ref"
}
s_ctr_cleanup() {
	# (after a failed restore, one of these hung until its timeout: 2 minutes a run)
	local CTR_TIMEOUT=20
	ctr_ task kill -s SIGKILL "cr-ctr$1"
	sleep 0.3
	ctr_ task delete -f "cr-ctr$1"
	ctr_ containers rm "cr-ctr$1"
	ctr_ images rm "localhost/cr-ckpt:$1"
}

pm load -q -i "$CL_BUSYBOX_TAR" >/dev/null
pm image exists "$IMG" || { echo "FAIL - busybox image not loaded into podman"; exit 1; }
T0=$(date +%s%N)
for ((n = 1; n <= REPEAT; n++)); do
	iteration podman s_podman "$n"
	iteration export s_export "$n"
	iteration ctr s_ctr "$n"
done
echo "# $CL_RT_BASE: $PASSED checks passed, $FAILED failed, $((($(date +%s%N) - T0) / 1000000)) ms"
# shellcheck disable=SC2034 # read by cl_teardown (keeps the temp dir)
((FAILED == 0)) || CL_FAILED=1
exit $((FAILED > 0))
