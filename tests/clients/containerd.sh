#!/usr/bin/env bash
# containerd 1.6 + ctr with a runc-compatible runtime (issue 5, scenario 1).
#   tests/clients/containerd.sh <runtime-binary>      e.g. build/crun-lite, or /usr/sbin/runc
# containerd is started by hand on a private config (own root, state and unix sockets, CRI plugin
# disabled) and stopped by PID at the end; the runc v2 shim is pointed at the runtime with
# `ctr run --runc-binary`. Containers get their own network namespace (loopback only), except
# nginx, which shares the host's and listens on 127.0.0.1 only. Scenarios of issue 5 item 1,
# plus item 4's pod shape with ctr.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

cl_init containerd "${1:-${RUNTIME:-}}"
cl_need_pkgs containerd util-linux curl
cl_images

T=$CL_TMP
IMG=localhost/busybox:latest

# Teardown (runs in reverse order): the mounts under T last, the event reader first.
cl_defer 'cl_umount_under "$T"'
cl_log "starting containerd ($T/config.toml)"
cl_containerd_start "cl$$" || fail "containerd did not start"
cl_defer '[ -z "${EVENTS_PID:-}" ] || kill "$EVENTS_PID" 2>/dev/null'
ctr_ images import "$CL_BUSYBOX_TAR" >/dev/null
cl_listed "$IMG" ctr_ images ls -q || fail "image $IMG not imported"

# Events (for the OOM scenario), collected for the whole run.
ctr --address "$SOCK" events >"$T/events.log" 2>&1 &
EVENTS_PID=$!

task_status() { ctr_ task ls 2>/dev/null | awk -v id="$1" '$1 == id { print $3 }'; }
wait_status() { # <id> <STATUS> <seconds>
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		[ "$(task_status "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	fail "task $1: status $(task_status "$1"), expected $2"
}
rootfs_of() { echo "$T/state/io.containerd.runtime.v2.task/$NS/$1/rootfs"; }

# 1. ctr run --rm prints and exits with the program's status.
s_run_rm() {
	local out rc=0
	out=$(ctr_ run --rm --runc-binary "$CL_RT" "$IMG" cl-rm sh -c 'echo hello from ctr; echo to-stderr >&2; exit 7' 2>&1) || rc=$?
	assert_contains "$out" "hello from ctr" "stdout of ctr run --rm"
	assert_contains "$out" "to-stderr" "stderr of ctr run --rm"
	assert_eq 7 "$rc" "exit status of ctr run --rm"
	cl_listed cl-rm ctr_ containers ls -q && fail "container cl-rm still listed after --rm"
	# Short-lived programs, several times: the process may exit (and be reaped by the shim)
	# while the runtime's `start` is still running; start must still succeed.
	local i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		rc=0
		out=$(ctr_ run --rm --runc-binary "$CL_RT" "$IMG" "cl-short$i" echo "short $i" 2>&1) || rc=$?
		assert_eq "0 short $i" "$rc $out" "ctr run --rm echo (try $i)"
	done
}

# 2. detached task + exec + ps + kill + delete.
s_detached() {
	local out rc=0 pid
	ctr_ run -d --runc-binary "$CL_RT" "$IMG" cl-det \
		sh -c 'trap "echo got-term; exit 143" TERM; echo started; while :; do sleep 0.2; done'
	wait_status cl-det RUNNING 10
	out=$(ctr_ task exec --exec-id e1 cl-det sh -c 'echo exec-out $(id -u); cat /proc/1/cmdline | tr "\0" " "')
	assert_contains "$out" "exec-out 0" "ctr task exec output"
	assert_contains "$out" "trap" "exec sees the task's pid namespace"
	rc=0
	ctr_ task exec --exec-id e2 cl-det sh -c 'exit 3' || rc=$?
	assert_eq 3 "$rc" "exit status of ctr task exec"
	out=$(ctr_ task ps cl-det)
	pid=$(ctr_ task ls | awk '$1 == "cl-det" { print $2 }')
	assert_contains "$out" "$pid" "ctr task ps lists the init pid"
	# (ctr 1.6 has no `task update`; docker.sh covers the runtime's `update`.)
	# SIGTERM (ctr's default) is delivered to the trap.
	ctr_ task kill cl-det
	wait_status cl-det STOPPED 10
	out=$(ctr_ task delete cl-det 2>&1) || fail "ctr task delete: $out"
	cl_listed cl-det ctr_ task ls -q && fail "task still listed after delete"
	ctr_ containers rm cl-det
	# kill --all on a task with an extra exec'd process
	ctr_ run -d --runc-binary "$CL_RT" "$IMG" cl-det2 sleep 1000
	wait_status cl-det2 RUNNING 10
	ctr_ task exec -d --exec-id bg cl-det2 sleep 1000
	ctr_ task kill -a -s SIGKILL cl-det2
	wait_status cl-det2 STOPPED 10
	ctr_ task delete cl-det2
	ctr_ containers rm cl-det2
}

# 3. ctr run -t under script(1): a working tty, input typed through it, exit status.
s_tty() {
	local ctr="ctr --address $SOCK --namespace $NS"
	cl_tty_run "ctr run -t" 4 "$ctr run -t --rm --runc-binary $CL_RT $IMG cl-tty" "stty size"
	# input typed through the pty reaches the shell
	cl_tty_typed "$ctr run -t --rm --runc-binary $CL_RT $IMG cl-tty2" 1
	# exec -t into a detached task
	ctr_ run -d --runc-binary "$CL_RT" "$IMG" cl-tty3 sleep 1000
	wait_status cl-tty3 RUNNING 10
	cl_tty_exec "ctr task exec -t" "$ctr task exec -t --exec-id t1 cl-tty3"
	ctr_ task kill -s SIGKILL cl-tty3
	wait_status cl-tty3 STOPPED 10
	ctr_ task delete cl-tty3
	ctr_ containers rm cl-tty3
}

# 4. pause / resume: the counter stops while PAUSED and moves again after resume. (It is renamed into
# place: a freeze between `>`'s truncation and the write would leave the file empty.)
s_pause() {
	local f a b
	ctr_ run -d --runc-binary "$CL_RT" "$IMG" cl-pause \
		sh -c 'i=0; while :; do i=$((i+1)); echo $i > /tmp/count.new; mv /tmp/count.new /tmp/count; sleep 0.05; done'
	wait_status cl-pause RUNNING 10
	f=$(rootfs_of cl-pause)/tmp/count
	wait_for 5 test -s "$f" || fail "counter file not written"
	ctr_ task pause cl-pause
	wait_status cl-pause PAUSED 5
	a=$(cat "$f"); sleep 0.6; b=$(cat "$f")
	assert_eq "$a" "$b" "counter while paused"
	ctr_ task resume cl-pause
	wait_status cl-pause RUNNING 5
	sleep 0.6
	b=$(cat "$f")
	[ "$b" -gt "$a" ] || fail "counter did not move after resume ($a -> $b)"
	ctr_ task kill -s SIGKILL cl-pause
	wait_status cl-pause STOPPED 10
	ctr_ task delete cl-pause
	ctr_ containers rm cl-pause
}

# 5. a task over its memory limit is OOM-killed, and containerd reports it (/tasks/oom event).
s_oom() {
	local out rc=0
	out=$(ctr_ run --rm --memory-limit 33554432 --runc-binary "$CL_RT" "$IMG" cl-oom \
		sh -c 'echo filling; exec dd if=/dev/zero of=/dev/null bs=256M count=1' 2>&1) || rc=$?
	assert_contains "$out" filling "OOM task output"
	assert_not_contains "$out" "records in" "OOM task output (dd finished)"
	assert_eq 137 "$rc" "exit status of the OOM-killed task"
	wait_for 5 grep -q '/tasks/oom.*cl-oom' "$T/events.log" ||
		fail "no /tasks/oom event for cl-oom; events: $(grep cl-oom "$T/events.log" | head -n 10)"
}

# 6. Kubernetes-style pod with ctr: a pause task owns the network, IPC and UTS namespaces; an
# init task runs to completion first, then a sidecar and an app join them by path.
s_pod() {
	local pid ns out want f
	ctr_ run -d --runc-binary "$CL_RT" --cap-add CAP_SYS_ADMIN "$IMG" cl-pause \
		sh -c 'hostname cl-podhost && exec sleep 1000000'
	wait_status cl-pause RUNNING 10
	pid=$(ctr_ task ls | awk '$1 == "cl-pause" { print $2 }')
	wait_for 5 sh -c "nsenter -t $pid -u hostname | grep -qx cl-podhost" || fail "pause task did not set its hostname"
	ns=(--with-ns "network:/proc/$pid/ns/net" --with-ns "ipc:/proc/$pid/ns/ipc" --with-ns "uts:/proc/$pid/ns/uts")
	want="net=$(readlink "/proc/$pid/ns/net") ipc=$(readlink "/proc/$pid/ns/ipc") uts=$(readlink "/proc/$pid/ns/uts")"
	local show='echo "ns net=$(readlink /proc/self/ns/net) ipc=$(readlink /proc/self/ns/ipc) uts=$(readlink /proc/self/ns/uts) host=$(hostname)"'
	# init: runs to completion before the others start, leaves a SysV segment in the pod's IPC ns
	out=$(ctr_ run --rm --runc-binary "$CL_RT" "${ns[@]}" "$IMG" cl-pinit \
		sh -c "$show; cl-ipc put 0x5e1f init-ran-first && echo init-done")
	assert_contains "$out" "init-done" "init task"
	assert_contains "$out" "ns $want host=cl-podhost" "init task namespaces"
	# sidecar: listens in the pod's network namespace (loopback only) and records what it
	# receives (nc reads a pipe that stays open: with stdin at EOF, busybox nc may quit first)
	ctr_ run -d --runc-binary "$CL_RT" "${ns[@]}" "$IMG" cl-side \
		sh -c "($show; cl-ipc get 0x5e1f) >/tmp/info; sleep 1000 | nc -l -p 18474 >/tmp/msg"
	wait_status cl-side RUNNING 10
	# app: sends a message to the sidecar over the pod's loopback
	out=$(ctr_ run --rm --runc-binary "$CL_RT" "${ns[@]}" "$IMG" cl-app \
		sh -c "$show; cl-ipc get 0x5e1f; for i in \$(seq 50); do echo hello-from-app | nc 127.0.0.1 18474 && echo sent && break; sleep 0.1; done")
	assert_contains "$out" "ns $want host=cl-podhost" "app namespaces"
	assert_contains "$out" "init-ran-first" "app sees the init task's SysV segment"
	assert_contains "$out" "sent" "app -> sidecar over 127.0.0.1"
	f=$(rootfs_of cl-side)/tmp
	assert_contains "$(cat "$f/info")" "ns $want host=cl-podhost" "sidecar namespaces"
	assert_contains "$(cat "$f/info")" "init-ran-first" "sidecar sees the init task's SysV segment"
	wait_for 5 grep -qx hello-from-app "$f/msg" || fail "message not received by the sidecar: $(cat "$f/msg")"
	ctr_ task kill -a -s SIGKILL cl-side
	wait_status cl-side STOPPED 10
	ctr_ task delete cl-side
	ctr_ containers rm cl-side
	ctr_ task kill -s SIGKILL cl-pause
	wait_status cl-pause STOPPED 10
	ctr_ task delete cl-pause
	ctr_ containers rm cl-pause
}

# 7. nginx on the host network (listening on 127.0.0.1 only), SIGQUIT for a graceful stop.
s_nginx() {
	local out
	cl_port_free "$NGINX_PORT" || fail "127.0.0.1:$NGINX_PORT is in use"
	ctr_ images import "$CL_NGINX_TAR" >/dev/null
	ctr_ run -d --net-host --runc-binary "$CL_RT" localhost/nginx:latest cl-web
	is_200() { [ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$NGINX_PORT/")" = 200 ]; }
	wait_for 15 is_200 || fail "nginx did not answer 200"
	out=$(ctr_ task exec --exec-id ps cl-web ps -o args)
	assert_contains "$out" "nginx: worker process" "exec ps in the nginx task"
	ctr_ task kill -s SIGQUIT cl-web
	wait_status cl-web STOPPED 10
	out=$(ctr_ task delete cl-web 2>&1)
	ctr_ containers rm cl-web
	is_200 && fail "nginx still answering"
	true
}

cl_scenario "ctr run --rm (output, exit status)" s_run_rm
cl_scenario "ctr detached + exec/ps/kill/delete" s_detached
cl_scenario "ctr run -t / task exec -t under script" s_tty
cl_scenario "ctr task pause/resume" s_pause
cl_scenario "ctr memory limit -> OOM event" s_oom
cl_scenario "ctr pod: pause + init + sidecar + app (net/ipc/uts by path)" s_pod
cl_scenario "ctr nginx --net-host (127.0.0.1), curl 200, SIGQUIT" s_nginx
cl_summary
