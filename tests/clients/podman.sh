#!/usr/bin/env bash
# podman 4.3 + conmon with a runc-compatible runtime (issue 5, scenarios 3 and 4: the pod).
#   tests/clients/podman.sh <runtime-binary>      e.g. build/crun-lite, or /usr/sbin/runc
# podman runs with `--runtime PATH`, its own --root/--runroot/--tmpdir under a temp dir, the
# cgroupfs manager, and `--network none` for every container but nginx (host network,
# listening on 127.0.0.1 only). Its containers.conf copies the
# distro file and adds: nofile/nproc ulimits this machine allows, the runtime's name in
# runtime_supports_json (so podman passes --log-format=json --log FILE), file events.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

cl_init podman "${1:-${RUNTIME:-}}"
cl_need_pkgs podman conmon catatonit golang-github-containers-common util-linux curl
cl_images

SECCOMP=/usr/share/containers/seccomp.json
cl_podman_setup
PM_LINE="${PODMAN[*]}"   # for script -c (no spaces in these paths)
RUN=(run --network none)
cl_defer 'pm pod rm -af -t 0'

pm load -q -i "$CL_BUSYBOX_TAR" >/dev/null
pm image exists localhost/busybox:latest || fail "busybox image not loaded"
IMG=localhost/busybox:latest

# run --rm: output and exit status
s_run_rm() {
	local out rc=0
	out=$(pm "${RUN[@]}" --rm "$IMG" sh -c 'echo hello from podman; echo err >&2; exit 7' 2>&1) || rc=$?
	assert_contains "$out" "hello from podman" "podman run --rm output"
	assert_contains "$out" "err" "podman run --rm stderr"
	assert_eq 7 "$rc" "podman run --rm exit status"
	[ -z "$(pm ps -a --format '{{.Names}}')" ] || fail "containers left after --rm: $(pm ps -a)"
	true
}

# run -d + exec + stop + rm
s_detached() {
	local out rc=0
	pm "${RUN[@]}" -d --name cl-d "$IMG" \
		sh -c 'trap "echo got-term; exit 42" TERM; echo ready; while :; do sleep 0.1; done' >/dev/null
	wait_for 10 sh -c "$PM_LINE logs cl-d 2>&1 | grep -q ready" || fail "detached container did not start"
	assert_contains "$(pm ps --format '{{.Names}} {{.Status}}')" "cl-d Up" "podman ps"
	out=$(pm exec cl-d sh -c 'echo exec-out $(id -u); cat /proc/1/cmdline | tr "\0" " "')
	assert_contains "$out" "exec-out 0" "podman exec output"
	assert_contains "$out" "trap" "exec sees the container's pid 1"
	rc=0
	pm exec cl-d sh -c 'exit 3' || rc=$?
	assert_eq 3 "$rc" "podman exec exit status"
	out=$(pm top cl-d 2>&1) || fail "podman top: $out"
	cl_stop_in_time pm cl-d
	assert_eq "exited 42" "$(pm inspect -f '{{.State.Status}} {{.State.ExitCode}}' cl-d)" "state after stop"
	# (exit 42 proves the trap ran; its "got-term" line is not checked in `podman logs`:
	# conmon may drop the last lines of a container that exits right after printing them)
	pm rm cl-d >/dev/null
	cl_listed cl-d pm ps -a --format '{{.Names}}' && fail "container still listed after rm"
	true
}

# run -t (and -it with typed input, exec -t) under script(1)
s_tty() {
	cl_tty_run "podman run -t" 4 "$PM_LINE run --network none --rm -t $IMG"
	cl_tty_typed "$PM_LINE run --network none --rm -it $IMG" 1.5
	pm "${RUN[@]}" -d --name cl-tty "$IMG" sleep 1000 >/dev/null
	cl_tty_exec "podman exec -t" "$PM_LINE exec -t cl-tty"
	pm rm -f -t 0 cl-tty >/dev/null
}

# --pids-limit 1: the container's only process may run (crun manages; runc's Go init cannot)
s_pids1() {
	local out rc=0
	out=$(pm "${RUN[@]}" --rm --pids-limit 1 "$IMG" cat /sys/fs/cgroup/pids/pids.max 2>&1) || rc=$?
	assert_eq 0 "$rc" "podman run --pids-limit 1 ($out)"
	assert_eq 1 "$out" "pids.max inside"
	rc=0
	out=$(pm "${RUN[@]}" --rm --pids-limit 1 "$IMG" sh -c 'echo $(echo sub)' 2>&1) || rc=$?
	assert_contains "$out" "can't fork" "a second process under --pids-limit 1"
}

# --memory 4m: a tiny limit must still let the container start
s_mem4m() {
	local out rc=0
	out=$(pm "${RUN[@]}" --rm --memory 4m "$IMG" cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>&1) || rc=$?
	assert_eq 0 "$rc" "podman run --memory 4m ($out)"
	assert_contains "$out" 4194304 "memory limit inside"
}

# --user 1000
s_user() {
	local out rc=0
	out=$(pm "${RUN[@]}" --rm --user 1000 "$IMG" sh -c 'echo uid=$(id -u) gid=$(id -g); touch /root/x 2>&1 || echo denied' 2>&1) || rc=$?
	assert_eq 0 "$rc" "podman run --user 1000 ($out)"
	assert_contains "$out" "uid=1000 gid=1000" "ids"
	assert_contains "$out" "denied" "non-root cannot write /root"
}

# --read-only: / is read-only, /tmp (podman's read-only tmpfs) is writable
s_readonly() {
	local out rc=0
	out=$(pm "${RUN[@]}" --rm --read-only "$IMG" sh -c 'touch /x 2>&1 || echo ro-root; touch /tmp/y && echo tmp-ok' 2>&1) || rc=$?
	assert_eq 0 "$rc" "podman run --read-only ($out)"
	assert_contains "$out" "Read-only file system" "write to /"
	assert_contains "$out" "tmp-ok" "write to /tmp"
}

# --cap-drop all
s_capdrop() {
	local out rc=0
	out=$(pm "${RUN[@]}" --rm --cap-drop all "$IMG" sh -c 'grep -E "^Cap(Eff|Prm|Bnd)" /proc/self/status; chown 1000 /etc/hostname 2>&1 || echo chown-denied' 2>&1) || rc=$?
	assert_eq 0 "$rc" "podman run --cap-drop all ($out)"
	assert_contains "$out" "CapEff:	0000000000000000" "effective caps"
	assert_contains "$out" "CapBnd:	0000000000000000" "bounding caps"
	assert_contains "$out" "chown-denied" "chown without CAP_CHOWN"
}

# --security-opt seccomp=<podman's default profile>: filter on, unlisted calls get ENOSYS
# (defaultErrnoRet 38); without a profile the same call succeeds.
s_seccomp() {
	local out rc=0
	[ -f "$SECCOMP" ] || fail "$SECCOMP missing (containers-common)"
	out=$(pm "${RUN[@]}" --rm --security-opt "seccomp=$SECCOMP" "$IMG" sh -c 'grep ^Seccomp: /proc/self/status; cl-addkey; swapoff /dev/null 2>&1; true' 2>&1) || rc=$?
	assert_eq 0 "$rc" "podman run with seccomp ($out)"
	assert_contains "$out" "Seccomp:	2" "seccomp mode"
	assert_contains "$out" "add_key errno=38" "add_key (not in the profile) gets defaultErrnoRet ENOSYS"
	assert_contains "$out" "swapoff: /dev/null: Operation not permitted" "swapoff (errnoRet 1 in the profile)"
	out=$(pm "${RUN[@]}" --rm --security-opt seccomp=unconfined "$IMG" sh -c 'grep ^Seccomp: /proc/self/status; cl-addkey' 2>&1) || true
	assert_contains "$out" "Seccomp:	0" "seccomp=unconfined"
	assert_contains "$out" "add_key ok" "add_key without a filter"
}

# Kubernetes-style pod: infra (catatonit pause) container, an init container that runs to
# completion first, then an app and a sidecar; all share the pod's network, IPC and UTS.
# (Results go to files read with `podman exec`: conmon can drop the last lines of a container
# that exits right after printing them, with runc as well. The sidecar's nc reads a pipe that
# stays open: with stdin at EOF, busybox nc may quit before it reads the message.)
s_pod() {
	local show infra ipid want out
	show='echo "ns net=$(readlink /proc/self/ns/net) ipc=$(readlink /proc/self/ns/ipc) uts=$(readlink /proc/self/ns/uts) host=$(hostname)"'
	pm pod create --name cl-pod --network none --hostname cl-podhost --share net,ipc,uts >/dev/null
	pm create --pod cl-pod --init-ctr always --name cl-pinit "$IMG" \
		sh -c "cl-ipc put 0x5e1f \"init-ran-first \$($show)\"" >/dev/null
	pm create --pod cl-pod --name cl-side "$IMG" \
		sh -c "($show; cl-ipc get 0x5e1f) >/tmp/info 2>&1; sleep 1000 | nc -l -p 18474 >/tmp/msg" >/dev/null
	pm create --pod cl-pod --name cl-app "$IMG" \
		sh -c "($show; cl-ipc get 0x5e1f; for i in \$(seq 50); do echo hello-from-app | nc 127.0.0.1 18474 && echo sent && break; sleep 0.1; done) >/tmp/info 2>&1; exec sleep 1000" >/dev/null
	pm pod start cl-pod >/dev/null
	assert_eq "exited 0" "$(pm inspect -f '{{.State.Status}} {{.State.ExitCode}}' cl-pinit)" "init container ran to completion"
	infra=$(pm pod inspect -f '{{.InfraContainerID}}' cl-pod)
	ipid=$(pm inspect -f '{{.State.Pid}}' "$infra")
	want="ns net=$(readlink "/proc/$ipid/ns/net") ipc=$(readlink "/proc/$ipid/ns/ipc") uts=$(readlink "/proc/$ipid/ns/uts") host=cl-podhost"
	wait_for 15 sh -c "$PM_LINE exec cl-app cat /tmp/info | grep -q sent" || fail "app did not reach the sidecar: $(pm exec cl-app cat /tmp/info 2>&1)"
	out=$(pm exec cl-app cat /tmp/info)
	assert_contains "$out" "$want" "app namespaces"
	assert_contains "$out" "init-ran-first $want" "app sees the init container's SysV segment (and its namespaces)"
	out=$(pm exec cl-side cat /tmp/info)
	assert_contains "$out" "$want" "sidecar namespaces"
	assert_contains "$out" "init-ran-first $want" "sidecar sees the init container's SysV segment"
	wait_for 5 sh -c "$PM_LINE exec cl-side cat /tmp/msg | grep -q hello-from-app" ||
		fail "message not received by the sidecar: $(pm exec cl-side cat /tmp/msg 2>&1)"
	pm pod rm -f -t 0 cl-pod >/dev/null
}

# Common `podman run` options (other than the ones above), each checked from inside.
s_options() {
	local out
	prun() { pm "${RUN[@]}" --rm "$@" 2>&1; }
	out=$(prun --uidmap 0:100000:65536 --gidmap 0:100000:65536 "$IMG" sh -c 'cat /proc/self/uid_map; id -u; touch /root/x && echo write-ok') ||
		fail "--uidmap: $out"
	assert_contains "$out" "100000" "--uidmap (user namespace)"
	assert_contains "$out" "write-ok" "root in the user namespace owns the rootfs"
	out=$(prun --init "$IMG" sh -c 'cat /proc/1/cmdline | tr "\0" " "') || fail "--init: $out"
	assert_contains "$out" "/run/podman-init -- sh" "--init (catatonit as pid 1)"
	out=$(prun --cgroupns private "$IMG" sh -c 'cat /proc/self/cgroup | grep memory') || fail "--cgroupns private: $out"
	assert_contains "$out" ":memory:/" "--cgroupns private"
	out=$(prun --pid host "$IMG" sh -c 'readlink /proc/self/ns/pid') || fail "--pid host: $out"
	assert_eq "$(readlink /proc/self/ns/pid)" "$out" "--pid host"
	out=$(prun --ulimit nofile=512:1024 --ulimit nproc=100:200 "$IMG" sh -c 'ulimit -n; ulimit -Hn; ulimit -u') || fail "--ulimit: $out"
	assert_eq "$(printf '512\n1024\n100')" "$out" "--ulimit (podman adds nproc=1048576 unless given, above this host's limit)"
	out=$(prun --device /dev/fuse "$IMG" ls -l /dev/fuse) || fail "--device: $out"
	assert_contains "$out" "10, 229" "--device /dev/fuse"
	out=$(prun --sysctl kernel.msgmax=12345 --hostname cl-host -e FOO=bar -w /tmp "$IMG" sh -c 'cat /proc/sys/kernel/msgmax; hostname; echo $FOO; pwd') ||
		fail "--sysctl etc: $out"
	assert_eq "$(printf '12345\ncl-host\nbar\n/tmp')" "$out" "--sysctl --hostname -e -w"
	cl_check_binds prun "$IMG"
	# lifecycle verbs on a running container
	pm "${RUN[@]}" -d --name cl-life "$IMG" sh -c 'trap "" TERM; while :; do sleep 0.1; done' >/dev/null
	pm pause cl-life >/dev/null
	assert_eq paused "$(pm inspect -f '{{.State.Status}}' cl-life)" "podman pause"
	pm unpause cl-life >/dev/null
	assert_eq running "$(pm inspect -f '{{.State.Status}}' cl-life)" "podman unpause"
	out=$(pm exec --user 1000 -w /home/user -e BAR=baz cl-life sh -c 'id -u; pwd; echo $BAR') || fail "exec --user: $out"
	assert_eq "$(printf '1000\n/home/user\nbaz')" "$out" "podman exec --user -w -e"
	pm restart -t 1 cl-life >/dev/null
	assert_eq running "$(pm inspect -f '{{.State.Status}}' cl-life)" "podman restart"
	pm kill -s KILL cl-life >/dev/null
	pm wait cl-life >/dev/null
	assert_eq 137 "$(pm inspect -f '{{.State.ExitCode}}' cl-life)" "podman kill -s KILL"
	pm rm cl-life >/dev/null
	# last: podman adds "tmpcopyup" to tmpfs mounts
	out=$(prun --mount type=tmpfs,destination=/scratch,tmpfs-size=1m "$IMG" sh -c 'touch /scratch/x && grep " /scratch " /proc/mounts') ||
		fail "--mount type=tmpfs: $out"
	assert_contains "$out" "tmpfs /scratch tmpfs" "--mount type=tmpfs"
}

# nginx with host networking (listening on 127.0.0.1 only), stopped with its SIGQUIT.
s_nginx() {
	local code
	cl_port_free "$NGINX_PORT" || fail "127.0.0.1:$NGINX_PORT is in use"
	pm load -q -i "$CL_NGINX_TAR" >/dev/null
	pm run -d --name cl-web --network host localhost/nginx:latest >/dev/null
	is_200() { [ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$NGINX_PORT/")" = 200 ]; }
	wait_for 15 is_200 || fail "nginx did not answer 200; logs: $(pm logs cl-web 2>&1 | tail -n 5)"
	assert_contains "$(pm logs cl-web 2>&1)" '"GET / HTTP/1.1" 200' "podman logs"
	cl_stop_in_time pm cl-web
	assert_eq "exited 0" "$(pm inspect -f '{{.State.Status}} {{.State.ExitCode}}' cl-web)" "nginx after stop (SIGQUIT)"
	pm rm cl-web >/dev/null
}

cl_scenario "podman run --rm" s_run_rm
cl_scenario "podman run -d + exec/top/stop/rm" s_detached
cl_scenario "podman nginx --network host (127.0.0.1), curl 200, stop" s_nginx
cl_scenario "podman run -t / -it / exec -t under script" s_tty
cl_scenario "podman run --pids-limit 1" s_pids1
cl_scenario "podman run --memory 4m" s_mem4m
cl_scenario "podman run --user 1000" s_user
cl_scenario "podman run --read-only" s_readonly
cl_scenario "podman run --cap-drop all" s_capdrop
cl_scenario "podman run --security-opt seccomp=default.json" s_seccomp
cl_scenario "podman pod: infra + init + app + sidecar (net/ipc/uts)" s_pod
cl_scenario "podman run options (uidmap, init, cgroupns, pid host, ulimit, device, sysctl, -v, --mount tmpfs) + pause/exec --user/restart/kill" s_options
cl_summary
