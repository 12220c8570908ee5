#!/usr/bin/env bash
# docker 20.10 (docker.io) with a runc-compatible runtime (issue 5, scenario 2).
#   tests/clients/docker.sh <runtime-binary>      e.g. build/crun-lite, or /usr/sbin/runc
# dockerd is started by hand on private directories and a unix socket, with no bridge, no
# iptables and no forwarding, and `--add-runtime`; it is stopped by PID at the end. nginx runs
# with host networking but listens on 127.0.0.1 only.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

cl_init docker "${1:-${RUNTIME:-}}"
cl_need_pkgs docker.io containerd util-linux curl
cl_images
cl_port_free "$NGINX_PORT" || fail "127.0.0.1:$NGINX_PORT is in use (set NGINX_PORT)"

T=$CL_TMP
# The seed's command line says `--runtime crun-lite`; runc is registered under another name
# (docker reserves "runc").
if [ "$CL_RT_BASE" = runc ]; then DRT=runc-under-test; else DRT=crun-lite; fi

mkdir -p "$T/data" "$T/exec" "$T/cli"
echo '{}' >"$T/daemon.json"
export DOCKER_HOST=unix://$T/docker.sock
dk() { DOCKER_CONFIG=$T/cli "$DOCKER_CLI" "$@"; }

cl_defer 'cl_umount_under "$T"'
cl_defer 'for p in $(pgrep -f -- "$T/exec/containerd/containerd.sock" || true); do cl_stop_pid "$p"; done'
cl_defer 'cl_stop_pid "${DOCKERD_PID:-}"'
cl_defer 'ids=$(dk ps -aq 2>/dev/null); [ -z "$ids" ] || dk rm -f $ids'

cl_log "starting dockerd (runtime $DRT=$CL_RT)"
dockerd --config-file "$T/daemon.json" \
	--data-root "$T/data" --exec-root "$T/exec" --pidfile "$T/docker.pid" -H "$DOCKER_HOST" \
	--bridge=none --iptables=false --ip-masq=false --ip-forward=false --ip6tables=false \
	--userland-proxy=false --exec-opt native.cgroupdriver=cgroupfs \
	--add-runtime "$DRT=$CL_RT" >"$T/dockerd.log" 2>&1 &
DOCKERD_PID=$!
wait_for 30 dk version || { tail -n 30 "$T/dockerd.log" >&2; fail "dockerd did not start"; }
dk load -q -i "$CL_BUSYBOX_TAR" >/dev/null
dk load -q -i "$CL_NGINX_TAR" >/dev/null
dk image inspect localhost/nginx:latest >/dev/null

http_code() { curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$NGINX_PORT/" || true; }
is_200() { [ "$(http_code)" = 200 ]; }

# The seed: nginx detached on crun-lite, ps / curl / exec / logs / update / stop / rm.
s_nginx() {
	local id st out pid cg
	id=$(dk run --name mon-serveur-web -d --runtime "$DRT" --network host localhost/nginx:latest)
	wait_for 15 is_200 || fail "nginx did not answer 200 (got $(http_code)); logs: $(dk logs mon-serveur-web 2>&1 | tail -n 5)"
	st=$(dk ps --filter name=mon-serveur-web --format '{{.Status}}')
	assert_contains "$st" "Up" "docker ps status"
	out=$(curl -s "http://127.0.0.1:$NGINX_PORT/")
	assert_contains "$out" "crun-lite nginx" "page served"
	out=$(dk exec mon-serveur-web cat /etc/nginx/version)
	assert_contains "$out" "nginx version" "docker exec"
	out=$(dk exec mon-serveur-web ps -o pid,user,args)
	assert_contains "$out" "nginx: master process" "docker exec ps"
	assert_contains "$out" "nginx: worker process" "docker exec ps"
	out=$(dk top mon-serveur-web)
	assert_contains "$out" "nginx: master process" "docker top"
	out=$(dk logs mon-serveur-web 2>&1)
	assert_contains "$out" '"GET / HTTP/1.1" 200' "docker logs (access log on stdout)"
	# docker update -> runtime `update --resources -`
	dk update --memory 64m --memory-swap 64m mon-serveur-web >/dev/null
	pid=$(dk inspect -f '{{.State.Pid}}' mon-serveur-web)
	cg=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ { print $3 }' "/proc/$pid/cgroup")
	assert_eq 67108864 "$(cat "$(cl_cg_mem)$cg/memory.limit_in_bytes")" "memory limit after docker update"
	is_200 || fail "nginx stopped answering after update"
	# pause / unpause
	dk pause mon-serveur-web >/dev/null
	assert_eq paused "$(dk inspect -f '{{.State.Status}}' mon-serveur-web)" "state after pause"
	dk unpause mon-serveur-web >/dev/null
	is_200 || fail "nginx not answering after unpause"
	# stop: the image's stop signal (SIGQUIT) makes nginx quit gracefully, status 0, no timeout
	cl_stop_in_time dk mon-serveur-web
	assert_eq "exited 0" "$(dk inspect -f '{{.State.Status}} {{.State.ExitCode}}' mon-serveur-web)" "state after stop"
	is_200 && fail "nginx still answering after stop"
	dk rm mon-serveur-web >/dev/null
	cl_listed mon-serveur-web dk ps -a --format '{{.Names}}' && fail "container still listed after rm"
	true
}

# docker stop sends SIGTERM to a busybox container whose shell traps it; exit status recorded.
s_stop_term() {
	dk run -d --name cl-term --runtime "$DRT" --network none localhost/busybox:latest \
		sh -c 'trap "echo got-usr1" USR1; trap "echo got-term; exit 42" TERM; echo ready; while :; do sleep 0.1; done' >/dev/null
	wait_for 10 sh -c "DOCKER_CONFIG=$T/cli $DOCKER_CLI logs cl-term 2>&1 | grep -q ready"
	# docker kill -s: any signal reaches the container's init
	dk kill -s USR1 cl-term >/dev/null
	wait_for 10 sh -c "DOCKER_CONFIG=$T/cli $DOCKER_CLI logs cl-term 2>&1 | grep -q got-usr1" || fail "docker kill -s USR1 not delivered"
	# docker restart: stop, delete and create/start again
	dk restart -t 20 cl-term >/dev/null
	assert_eq running "$(dk inspect -f '{{.State.Status}}' cl-term)" "state after docker restart"
	wait_for 10 sh -c "[ \$(DOCKER_CONFIG=$T/cli $DOCKER_CLI logs cl-term 2>&1 | grep -c ready) -eq 2 ]" || fail "not restarted: $(dk logs cl-term 2>&1)"
	cl_stop_in_time dk cl-term
	assert_eq 42 "$(dk inspect -f '{{.State.ExitCode}}' cl-term)" "exit code after docker stop"
	assert_contains "$(dk logs cl-term 2>&1)" got-term "trap output"
	dk rm cl-term >/dev/null
	# run --rm: output and exit status
	local out rc=0
	out=$(dk run --rm --runtime "$DRT" --network none localhost/busybox:latest sh -c 'echo via-docker; exit 9' 2>&1) || rc=$?
	assert_contains "$out" via-docker "docker run --rm output"
	assert_eq 9 "$rc" "docker run --rm exit status"
}

# docker run --rm --memory 32m --pids-limit 20: limits visible and enforced.
s_limits() {
	local out rc=0
	out=$(dk run --rm --runtime "$DRT" --network none --memory 32m --pids-limit 20 localhost/busybox:latest sh -c '
		echo mem=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes) pids=$(cat /sys/fs/cgroup/pids/pids.max)
		(i=0; while [ $i -lt 40 ]; do sleep 2 & i=$((i+1)); echo $i >/tmp/forks; done) 2>/dev/null
		echo sleeps=$(cat /tmp/forks)
		sleep 2.5
		(exec dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null); echo dd-status=$?
	' 2>&1) || rc=$?
	assert_eq 0 "$rc" "docker run with limits ($out)"
	assert_contains "$out" "mem=33554432 pids=20" "limits inside the container"
	local n
	n=$(printf '%s\n' "$out" | sed -n 's/^sleeps=//p')
	[ -n "$n" ] && [ "$n" -gt 0 ] && [ "$n" -lt 20 ] || fail "pids limit not enforced: $n of 40 background processes ($out)"
	assert_contains "$out" "dd-status=137" "memory limit enforced (64M buffer in a 32M container)"
}

# docker run --rm -it under script(1).
s_tty() {
	local docker="DOCKER_CONFIG=$T/cli $DOCKER_CLI"
	cl_tty_run "docker run -it" 3 "$docker run --rm -it --runtime $DRT --network none localhost/busybox:latest"
	cl_tty_typed "$docker run --rm -it --runtime $DRT --network none localhost/busybox:latest" 1.5
	# docker exec -it into a running container
	dk run -d --name cl-tty --runtime "$DRT" --network none localhost/busybox:latest sleep 1000 >/dev/null
	cl_tty_exec "docker exec -it" "$docker exec -it cl-tty"
	dk rm -f cl-tty >/dev/null
}

# Common `docker run` options, each checked from inside the container.
s_options() {
	local out rc img=localhost/busybox:latest
	drun() { dk run --rm --runtime "$DRT" --network none "$@" 2>&1; }
	out=$(drun --read-only --tmpfs /data:size=1m "$img" sh -c 'touch /x 2>&1; touch /data/y && echo tmpfs-ok; grep " /data " /proc/mounts') ||
		fail "--read-only --tmpfs: $out"
	assert_contains "$out" "Read-only file system" "--read-only"
	assert_contains "$out" "tmpfs-ok" "--tmpfs"
	assert_contains "$out" "size=1024k" "--tmpfs size"
	out=$(drun --user 1000:1000 --group-add 5 "$img" id) || fail "--user: $out"
	assert_contains "$out" "uid=1000(user) gid=1000(user) groups=5(tty),1000(user)" "--user --group-add"
	out=$(drun --cap-drop all --cap-add NET_ADMIN "$img" grep CapEff /proc/self/status) || fail "--cap-add: $out"
	assert_contains "$out" "CapEff:	0000000000001000" "--cap-drop all --cap-add NET_ADMIN"
	# (no --privileged: it asks for every capability, and root on this machine kind lacks
	# CAP_SYS_RESOURCE, so runc fails it too with "unable to apply caps")
	out=$(drun --device /dev/fuse "$img" ls -l /dev/fuse) || fail "--device: $out"
	assert_contains "$out" "10, 229" "--device /dev/fuse"
	out=$(drun --init "$img" sh -c 'cat /proc/1/cmdline | tr "\0" " "') || fail "--init: $out"
	assert_contains "$out" "/sbin/docker-init" "--init (pid 1)"
	cl_check_binds drun "$img"
	out=$(drun --ulimit nofile=512:1024 --ulimit nproc=100:200 "$img" sh -c 'ulimit -n; ulimit -Hn; ulimit -u') || fail "--ulimit: $out"
	assert_eq "$(printf '512\n1024\n100')" "$out" "--ulimit"
	out=$(drun --sysctl net.ipv4.ip_forward=1 --sysctl kernel.msgmax=12345 "$img" sh -c 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/msgmax') || fail "--sysctl: $out"
	assert_eq "$(printf '1\n12345')" "$out" "--sysctl (in the container's own net and ipc namespaces)"
	out=$(drun --cpus 0.5 --cpu-shares 512 "$img" sh -c 'cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us /sys/fs/cgroup/cpu/cpu.shares') || fail "--cpus: $out"
	assert_eq "$(printf '50000\n100000\n512')" "$out" "--cpus 0.5 --cpu-shares 512"
	out=$(drun --pid host --ipc host "$img" sh -c 'readlink /proc/self/ns/pid; readlink /proc/self/ns/ipc') || fail "--pid/--ipc host: $out"
	assert_eq "$(readlink /proc/self/ns/pid; readlink /proc/self/ns/ipc)" "$out" "--pid host --ipc host"
	out=$(drun --hostname cl-host --add-host db:127.0.0.2 -e FOO=bar -w /tmp "$img" sh -c 'hostname; grep db /etc/hosts; echo $FOO; pwd') || fail "--hostname etc: $out"
	assert_contains "$out" "cl-host" "--hostname"
	assert_contains "$out" "127.0.0.2	db" "--add-host"
	assert_contains "$out" "bar" "-e"
	assert_contains "$out" "/tmp" "-w"
	out=$(drun --shm-size 8m "$img" df -k /dev/shm) || fail "--shm-size: $out"
	assert_contains "$out" "8192" "--shm-size"
	# a healthcheck is an exec every interval
	dk run -d --name cl-health --runtime "$DRT" --network none --health-cmd 'test -f /tmp/ok' \
		--health-interval 1s --health-retries 1 "$img" sh -c 'touch /tmp/ok; exec sleep 1000' >/dev/null
	wait_for 15 sh -c "DOCKER_CONFIG=$T/cli $DOCKER_CLI inspect -f '{{.State.Health.Status}}' cl-health | grep -qx healthy" ||
		fail "healthcheck: $(dk inspect -f '{{json .State.Health}}' cl-health)"
	dk rm -f cl-health >/dev/null
}

cl_scenario "docker nginx (seed): run -d/ps/curl/exec/logs/update/pause/stop/rm" s_nginx
cl_scenario "docker kill -s/restart/stop SIGTERM + run --rm status" s_stop_term
cl_scenario "docker run --rm --memory 32m --pids-limit 20" s_limits
cl_scenario "docker run --rm -it / exec -it under script" s_tty
cl_scenario "docker run options (read-only, tmpfs, user, caps, device, init, -v, ulimit, sysctl, cpus, host ns, shm, healthcheck)" s_options
cl_summary
