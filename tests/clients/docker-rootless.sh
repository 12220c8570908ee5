#!/usr/bin/env bash
# Rootless docker (issue 20, item 3): docker.io's dockerd-rootless.sh under rootlesskit, run by an
# unprivileged user, with the runtime as uid 0 of rootlesskit's user namespace; runc first, then
# crun-lite, scenario by scenario.
#   tests/clients/docker-rootless.sh [CRUN_LITE]      default: build/crun-lite; RUNC=/usr/sbin/runc
# The user (crunlite-docker-rootless, made for the run with its /etc/subuid and /etc/subgid range by
# useradd, removed at the end) gets a HOME and an XDG_RUNTIME_DIR under the temp dir. dockerd runs
# as Debian's packages allow it here: rootlesskit's host network (DOCKERD_ROOTLESS_ROOTLESSKIT_NET=
# host, no port driver: this machine may send nothing but loopback traffic, and slirp4netns would
# give the containers a way out), no bridge, iptables or forwarding, vfs storage, no cgroups (this
# host is cgroup v1: docker says rootless cgroups need v2, and hands the runtime no limit, so
# limits are not a scenario here). The two runtimes are copies in the temp
# dir given to dockerd with --add-runtime; every container has `--network none`.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

cl_init docker-rootless "${1:-${RUNTIME:-}}"
cl_need_pkgs docker.io rootlesskit uidmap util-linux
cl_images

cl_rootless_user crunlite-docker-rootless
as_user() {
	runuser -u "$USER_NAME" -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin:/usr/share/docker.io/contrib HOME="$T/home" \
		USER="$USER_NAME" XDG_RUNTIME_DIR="$T/xdg" "$@"
}
# teardown, in reverse order: the containers, dockerd and the rest of the user's processes, what
# is mounted under T, the user
cl_defer 'cl_umount_under "$T"'
cl_defer 'for p in $(pgrep -u "$USER_NAME" || true); do cl_stop_pid "$p"; done'

as_user env DOCKERD_ROOTLESS_ROOTLESSKIT_NET=host DOCKERD_ROOTLESS_ROOTLESSKIT_PORT_DRIVER=none dockerd-rootless.sh \
	--bridge=none --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false --userland-proxy=false \
	--storage-driver vfs --add-runtime "crun-lite=$T/bin/crun-lite" --add-runtime "runc-copy=$T/bin/runc" \
	>"$T/dockerd.log" 2>&1 &
dk() { as_user docker -H "unix://$T/xdg/docker.sock" "$@"; }
wait_for 90 dk info || { tail -n 20 "$T/dockerd.log" >&2; fail "rootless dockerd did not answer"; }
cl_defer 'dk rm -f $(dk ps -aq) >/dev/null 2>&1'
cl_log "rootless dockerd: $(dk info -f '{{.SecurityOptions}} storage {{.Driver}}, cgroup driver {{.CgroupDriver}}')"
dk load -q -i "$CL_BUSYBOX_TAR" >/dev/null
IMG=localhost/busybox:latest
run() { dk run --runtime "$RT" --network none "$@"; }

# run --rm: output and exit status; root inside is the user outside (uid_map "0 <uid> 1", then the
# subuid range rootlesskit mapped)
s_run_rm() {
	local out rc=0
	out=$(run --rm "$IMG" sh -c 'id -u; head -n 1 /proc/self/uid_map; ls /dev/null; exit 7' 2>&1) || rc=$?
	assert_eq 7 "$rc" "docker run --rm exit status ($out)"
	assert_eq "0 0 $USER_UID 1 /dev/null" "$(echo $out)" "id, uid_map and /dev/null inside"
}

# run -d, exec (output, exit status), logs, stop (SIGTERM trapped: 42), rm
s_detached() {
	local out rc=0 pid
	run -d --name rl-d "$IMG" sh -c 'trap "exit 42" TERM; echo started; touch /tmp/ready; sleep 1000 & wait' >/dev/null
	out=$(dk exec rl-d sh -c 'while [ ! -e /tmp/ready ]; do sleep 0.1; done; echo exec-as-$(id -u); exit 3') || rc=$?
	assert_eq "3 exec-as-0" "$rc $out" "docker exec: exit status and output"
	assert_eq "started" "$(dk logs rl-d 2>&1)" "docker logs"
	pid=$(dk inspect -f '{{.State.Pid}}' rl-d)
	assert_eq "$USER_UID" "$(stat -c %u "/proc/$pid")" "the container's init runs as the user on the host"
	cl_stop_in_time dk rl-d
	assert_eq "exited 42" "$(dk inspect -f '{{.State.Status}} {{.State.ExitCode}}' rl-d)" "state after stop"
	dk rm rl-d >/dev/null
	[ -z "$(dk ps -aq)" ] || fail "containers left: $(dk ps -a)"
}

# --read-only with a --tmpfs: / refuses writes, the tmpfs takes them
s_readonly() {
	local out
	out=$(run --rm --read-only --tmpfs /tmp "$IMG" sh -c 'touch /x 2>&1 || true; touch /tmp/y && echo tmp-ok' 2>&1)
	assert_contains "$out" "Read-only file system" "a write to / with --read-only"
	assert_contains "$out" "tmp-ok" "a write to the --tmpfs with --read-only"
}

for RT in runc-copy crun-lite; do
	CL_RT_BASE=${RT%-copy}
	cl_scenario "rootless docker run --rm (uid map, /dev/null, status)" s_run_rm
	cl_scenario "rootless docker run -d, exec, logs, stop, rm" s_detached
	cl_scenario "rootless docker --read-only --tmpfs" s_readonly
done
cl_summary
