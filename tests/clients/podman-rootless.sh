#!/usr/bin/env bash
# Rootless podman (issue 20, item 3): an unprivileged user's podman with the runtime as uid 0 of
# podman's user namespace, runc first, then crun-lite, scenario by scenario.
#   tests/clients/podman-rootless.sh [CRUN_LITE]      default: build/crun-lite; RUNC=/usr/sbin/runc
# The user (crunlite-podman-rootless, made for the run with its /etc/subuid and /etc/subgid range by
# useradd, removed at the end) gets a HOME and an XDG_RUNTIME_DIR under the temp dir; podman's
# defaults for a rootless user otherwise: its own storage (vfs), `newuidmap` with the subuid
# range, the cgroupfs manager here (no systemd). Every container has `--network none`. The two
# runtimes are copies in the temp dir, so that the user can reach them wherever the checkout is.
#
# PODMAN_ROOTLESS_SYSTEMD=1 (the systemd guest, tests/systemd/engines.sh): podman's default there
# instead, the systemd cgroup manager. The user's systemd runs (user@UID.service, started as a
# login would), XDG_RUNTIME_DIR is /run/user/UID with its session bus, podman passes
# --systemd-cgroup, and each container is a scope of the user's systemd in a cgroup v2 subtree
# delegated to the user (cpu, memory, pids): one more scenario then checks a memory limit.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

cl_init podman-rootless "${1:-${RUNTIME:-}}"
SYSTEMD=${PODMAN_ROOTLESS_SYSTEMD:-0}
cl_need_pkgs podman conmon catatonit golang-github-containers-common uidmap util-linux
[ "$SYSTEMD" = 0 ] || cl_need_pkgs dbus-user-session systemd
cl_images

cl_rootless_user crunlite-podman-rootless
XDG=$T/xdg MANAGER=cgroupfs SESSION=()
[ "$SYSTEMD" = 0 ] || XDG=/run/user/$USER_UID MANAGER=systemd SESSION=(DBUS_SESSION_BUS_ADDRESS="unix:path=$XDG/bus")

# podman as the user; the last argument list is podman's
pm() {
	runuser -u "$USER_NAME" -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$T/home" USER="$USER_NAME" \
		XDG_RUNTIME_DIR="$XDG" "${SESSION[@]}" podman --storage-driver vfs --cgroup-manager "$MANAGER" --events-backend file \
		--runtime "$T/bin/$RT" "$@"
}
# teardown, in reverse order: the containers, the user's processes (podman's pause process holds
# its user namespace), what is mounted under T, the user
cl_defer 'cl_umount_under "$T"'
cl_defer 'for p in $(pgrep -u "$USER_NAME" || true); do cl_stop_pid "$p"; done'
# after the containers' rm, which needs it; user-runtime-dir@ holds /run/user/UID
[ "$SYSTEMD" = 0 ] || cl_defer 'systemctl stop "user@$USER_UID.service" "user-runtime-dir@$USER_UID.service"'
cl_defer 'RT=runc pm rm -af -t 0'
if [ "$SYSTEMD" = 1 ]; then  # the user's systemd, as a login starts it
	systemctl start "user@$USER_UID.service"
	for _ in $(seq 100); do [ -S "$XDG/bus" ] && break; sleep 0.2; done
	[ -S "$XDG/bus" ] || fail "user@$USER_UID.service made no session bus in $XDG"
fi

RT=runc
pm load -q -i "$CL_BUSYBOX_TAR" >/dev/null
IMG=localhost/busybox:latest
RUN=(run --network none)

# run --rm: output, exit status; root inside is the user outside (uid_map "0 <uid> 1", then the
# subuid range)
s_run_rm() {
	local out rc=0
	out=$(pm "${RUN[@]}" --rm "$IMG" sh -c 'id -u; head -n 1 /proc/self/uid_map; ls /dev/null; exit 7' 2>&1) || rc=$?
	assert_eq 7 "$rc" "podman run --rm exit status ($out)"
	assert_eq "0 0 $USER_UID 1 /dev/null" "$(echo $out)" "id, uid_map and /dev/null inside"
}

# run -d, exec (output, exit status), stop (SIGTERM trapped: 42), rm
s_detached() {
	local out rc=0
	pm "${RUN[@]}" -d --name rl-d "$IMG" sh -c 'trap "exit 42" TERM; touch /tmp/ready; sleep 1000 & wait' >/dev/null
	out=$(pm exec rl-d sh -c 'while [ ! -e /tmp/ready ]; do sleep 0.1; done; echo exec-as-$(id -u); exit 3') || rc=$?
	assert_eq "3 exec-as-0" "$rc $out" "podman exec: exit status and output"
	local pid
	pid=$(pm inspect -f '{{.State.Pid}}' rl-d)
	assert_eq "$USER_UID" "$(stat -c %u "/proc/$pid")" "the container's init runs as the user on the host"
	cl_stop_in_time pm rl-d
	assert_eq "exited 42" "$(pm inspect -f '{{.State.Status}} {{.State.ExitCode}}' rl-d)" "state after stop"
	pm rm rl-d >/dev/null
	[ -z "$(pm ps -aq)" ] || fail "containers left: $(pm ps -a)"
}

# --userns=keep-id: the user's own uid inside
s_keep_id() {
	local out
	out=$(pm "${RUN[@]}" --rm --userns=keep-id "$IMG" id -u 2>&1)
	assert_eq "$USER_UID" "$out" "id -u with --userns=keep-id"
}

# --read-only: / refuses writes, podman's /tmp takes them
s_readonly() {
	local out
	out=$(pm "${RUN[@]}" --rm --read-only "$IMG" sh -c 'touch /x 2>&1 || true; touch /tmp/y && echo tmp-ok' 2>&1)
	assert_contains "$out" "Read-only file system" "a write to / with --read-only"
	assert_contains "$out" "tmp-ok" "a write to /tmp with --read-only"
}

# --memory 64m where the user's systemd delegates memory: the container is a scope of the user's
# systemd (libpod-<id>.scope under user@UID.service) whose memory.max is the limit, read inside
# and outside; the scope is gone after rm.
s_memory() {
	local id pid cg inside
	id=$(pm "${RUN[@]}" -d --memory 64m "$IMG" sh -c 'cat /sys/fs/cgroup/memory.max; sleep 1000')
	pid=$(pm inspect -f '{{.State.Pid}}' "$id")
	cg=$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
	case $cg in
	"/user.slice/user-$USER_UID.slice/user@$USER_UID.service/"*"/libpod-$id.scope"*) ;;
	*) fail "the container's cgroup $cg is not a libpod scope of user@$USER_UID.service" ;;
	esac
	assert_eq 67108864 "$(cat "/sys/fs/cgroup$cg/memory.max")" "memory.max of the container's cgroup"
	for _ in $(seq 50); do inside=$(pm logs "$id" 2>&1) && [ -n "$inside" ] && break; sleep 0.2; done
	assert_eq 67108864 "$inside" "memory.max inside"
	pm rm -f -t 0 "$id" >/dev/null
	[ ! -d "/sys/fs/cgroup${cg%/libpod-$id.scope*}/libpod-$id.scope" ] || fail "the scope's cgroup is left after rm"
}

for RT in runc crun-lite; do
	CL_RT_BASE=$RT
	cl_scenario "rootless podman run --rm (uid map, /dev/null, status)" s_run_rm
	cl_scenario "rootless podman run -d, exec, stop, rm" s_detached
	cl_scenario "rootless podman --userns=keep-id" s_keep_id
	cl_scenario "rootless podman --read-only" s_readonly
	[ "$SYSTEMD" = 0 ] || cl_scenario "rootless podman --memory 64m (user's systemd scope)" s_memory
done
cl_summary
