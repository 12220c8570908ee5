# shellcheck shell=bash
# Shared helpers for the real-engine client tests (issue 5).
#
#   source tests/clients/lib.sh
#   cl_init <name> <runtime-binary>      # temp dir, argv-logging wrapper, teardown trap
#   cl_images                            # busybox + nginx docker-archives (cached)
#   cl_scenario <label> <function>       # run one scenario, time it, record PASS/FAIL
#   cl_summary                           # print the table; non-zero exit if any failed
#
# Environment:
#   CL_IMAGE_CACHE  where built images are kept (default /var/tmp/crun-lite-clients-images)
#   CL_RESULTS      append "engine<TAB>runtime<TAB>scenario<TAB>PASS|FAIL<TAB>seconds" lines here
#   CL_NOWRAP=1     call the runtime directly (no argv-logging wrapper), e.g. for timings
#   CL_KEEP=1       keep the temp dir (logs, argv log) after the run
#   CL_ONLY=regex   run only the scenarios whose label matches
#   NGINX_PORT      the port baked into the nginx image (default 18473, 127.0.0.1 only)

CL_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/make-bundle.sh
source "$CL_LIB_DIR/../lib/make-bundle.sh"
CL_IMAGE_CACHE=${CL_IMAGE_CACHE:-/var/tmp/crun-lite-clients-images}
NGINX_PORT=${NGINX_PORT:-18473}
DOCKER_CLI=/usr/bin/docker   # /usr/local/bin/docker is a newer CLI than docker.io's daemon

CL_TEARDOWN=()
CL_ROWS=()
CL_FAILED=0

cl_log() { printf '[%s %s] %s\n' "$(date +%H:%M:%S)" "${CL_NAME:-clients}" "$*" >&2; }
fail() { printf 'ASSERTION FAILED: %s\n' "$*" >&2; exit 1; }

# assert_eq <expected> <actual> <what>
assert_eq() { [ "$1" = "$2" ] || fail "$3: expected [$1], got [$2]"; }
# assert_contains <haystack> <needle> <what>
assert_contains() {
	case "$1" in *"$2"*) ;; *) fail "$3: [$2] not found in: $(printf '%s' "$1" | head -c 2000)" ;; esac
}
assert_not_contains() {
	case "$1" in *"$2"*) fail "$3: [$2] unexpectedly found in: $(printf '%s' "$1" | head -c 2000)" ;; *) ;; esac
}

# The tty checks every engine makes, each under script(1), which gives the engine a pty of its own.
# cl_tty_run WHAT STATUS LINE [EXTRA]: `LINE sh -c '...'` (LINE ends with the image, or the image
# and a container name) starts a shell that prints its tty, says whether stdin and stdout are ttys,
# runs EXTRA and exits STATUS; the engine must exit STATUS.
cl_tty_run() {
	local what=$1 status=$2 line=$3 extra=${4:+$4; } out rc=0
	out=$(script -qefc "$line sh -c 'tty; [ -t 0 ] && [ -t 1 ] && echo stdin-and-stdout-are-ttys; ${extra}exit $status'" /dev/null </dev/null) || rc=$?
	out=$(printf '%s' "$out" | tr -d '\r')
	assert_contains "$out" "/dev/pts/" "tty inside $what"
	assert_contains "$out" "stdin-and-stdout-are-ttys" "tty fds"
	assert_eq "$status" "$rc" "exit status through $what"
}
# cl_tty_typed LINE SETTLE: the shell `LINE sh` starts runs a command typed through the pty SETTLE
# seconds after the start, then the `exit 5` typed after it.
cl_tty_typed() {
	local line=$1 settle=$2 out rc=0
	out=$( (sleep "$settle"; printf 'echo typed-$((6*7))\n'; sleep 0.5; printf 'exit 5\n'; sleep "$settle") |
		script -qefc "$line sh" /dev/null) || rc=$?
	out=$(printf '%s' "$out" | tr -d '\r')
	assert_contains "$out" "typed-42" "command typed through the tty"
	assert_eq 5 "$rc" "exit status of the interactive shell"
}
# cl_tty_exec WHAT LINE: `LINE sh -c 'tty; exit 6'` (LINE ends with the container) has a tty and exits 6.
cl_tty_exec() {
	local what=$1 line=$2 out rc=0
	out=$(script -qefc "$line sh -c 'tty; exit 6'" /dev/null </dev/null) || rc=$?
	out=$(printf '%s' "$out" | tr -d '\r')
	assert_contains "$out" "/dev/pts/" "tty inside $what"
	assert_eq 6 "$rc" "exit status of $what"
}

# cl_check_binds RUN IMAGE: `RUN -v ... IMAGE sh -c ...` (RUN: the engine's `run --rm` with its
# options) sees a file of a host directory bind-mounted (-v), writes back through it, and cannot
# write through the same directory mounted :ro.
cl_check_binds() {
	local run=$1 img=$2 out
	mkdir -p "$CL_TMP/vol" && echo from-host >"$CL_TMP/vol/f"
	out=$("$run" -v "$CL_TMP/vol:/vol" -v "$CL_TMP/vol:/vol-ro:ro" "$img" sh -c 'cat /vol/f; echo from-ctr > /vol/g; touch /vol-ro/h 2>&1') || true
	assert_contains "$out" "from-host" "-v bind"
	assert_eq from-ctr "$(cat "$CL_TMP/vol/g")" "-v bind write-back"
	assert_contains "$out" "Read-only file system" "-v :ro"
}

# cl_rootless_user NAME: the unprivileged user a rootless engine runs as, made for the run by
# useradd (which gives it an /etc/subuid and /etc/subgid range) and removed by the teardown, last.
# Sets USER_NAME, USER_UID and T (= CL_TMP), with T/home (its HOME), T/xdg (mode 700, for its
# XDG_RUNTIME_DIR) and T/bin holding copies of the two runtimes (crun-lite: CL_RUNTIME; runc:
# $RUNC or /usr/sbin/runc), which the user can reach wherever the checkout is.
cl_rootless_user() {
	USER_NAME=$1
	T=$CL_TMP
	id "$USER_NAME" >/dev/null 2>&1 || useradd -M -d "$T/home" -s /bin/false "$USER_NAME"
	cl_defer 'userdel "$USER_NAME"'
	USER_UID=$(id -u "$USER_NAME")
	grep -q "^$USER_NAME:" /etc/subuid || fail "useradd gave $USER_NAME no /etc/subuid range"
	mkdir -p "$T/home" "$T/xdg" "$T/bin"
	chmod 700 "$T/xdg"
	cp "$CL_RUNTIME" "$T/bin/crun-lite"
	cp "$(readlink -f "${RUNC:-/usr/sbin/runc}")" "$T/bin/runc"
	chown -R "$USER_NAME:" "$T/home" "$T/xdg"
	chmod 755 "$T" "$T/bin"
}

# cl_stop_in_time ENGINE NAME: `ENGINE stop -t 20 NAME` (ENGINE: dk, pm) returns within 10 s: the
# stop signal reached the container's init and ended it, no SIGKILL after the timeout was needed.
cl_stop_in_time() {
	local engine=$1 name=$2 t0 t1
	t0=$(date +%s)
	"$engine" stop -t 20 "$name" >/dev/null
	t1=$(date +%s)
	[ $((t1 - t0)) -lt 10 ] || fail "$engine stop $name took $((t1 - t0))s: the stop signal was not honoured"
}

# wait_for <seconds> <command...>: poll until the command succeeds
wait_for() {
	local t=$1 i; shift
	for ((i = 0; i < t * 10; i++)); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.1
	done
	return 1
}

# cl_listed LINE COMMAND...: whether COMMAND's output has LINE as a whole line; fails the scenario
# when COMMAND fails. The output is read whole first: under pipefail, `COMMAND | grep -q` fails
# when grep's early exit kills COMMAND with SIGPIPE, which made "listed" checks flaky and hid
# "still listed" ones.
cl_listed() {
	local want=$1 out
	shift
	out=$("$@") || fail "$* failed"
	grep -qxF -- "$want" <<<"$out"
}

# Register a teardown command (run in reverse order on exit).
cl_defer() { CL_TEARDOWN+=("$*"); }

cl_teardown() {
	local i rc=$?
	set +e
	for ((i = ${#CL_TEARDOWN[@]} - 1; i >= 0; i--)); do
		eval "${CL_TEARDOWN[$i]}" >/dev/null 2>&1
	done
	CL_TEARDOWN=()
	if [ -n "${CL_TMP:-}" ] && [ -d "$CL_TMP" ]; then
		if [ "${CL_KEEP:-0}" = 1 ] || [ "$CL_FAILED" != 0 ]; then
			cl_log "kept $CL_TMP (argv log: $CL_ARGV_LOG)"
		else
			rm -rf --one-file-system "$CL_TMP"
		fi
	fi
	return $rc
}

# Stop a daemon we started, by PID: SIGTERM, wait, then SIGKILL.
cl_stop_pid() {
	local pid=$1 i
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 150; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	sleep 0.2
}

# Unmount everything at or below a directory (deepest first).
cl_umount_under() {
	local d=$1 m
	[ -n "$d" ] || return 0
	awk -v d="$d" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo |
		sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
}

# cl_init <name> <runtime>: sets CL_TMP, CL_RUNTIME (absolute), CL_RT (the binary engines are
# given: the wrapper, named like the runtime so podman's runtime_supports_json matches), CL_ARGV_LOG.
cl_init() {
	CL_NAME=$1
	local rt=${2:-}
	[ -n "$rt" ] || { echo "usage: $0 <runtime-binary> (e.g. build/crun-lite or /usr/sbin/runc)" >&2; exit 2; }
	[ "$(id -u)" = 0 ] || { echo "$0: must run as root" >&2; exit 2; }
	if [[ $rt != */* ]]; then rt=$(command -v "$rt") || { echo "runtime $2 not found" >&2; exit 2; }; fi
	[ -x "$rt" ] || { echo "runtime $rt is not executable" >&2; exit 2; }
	CL_RUNTIME=$(readlink -f "$rt")
	CL_RT_BASE=$(basename "$CL_RUNTIME")
	CL_TMP=$(mktemp -d "/tmp/cl-$CL_NAME.XXXXXX")
	chmod 755 "$CL_TMP"
	CL_ARGV_LOG=$CL_TMP/runtime-argv.log
	: >"$CL_ARGV_LOG"
	trap cl_teardown EXIT
	trap 'exit 130' INT TERM
	if [ "${CL_NOWRAP:-0}" = 1 ]; then
		CL_RT=$CL_RUNTIME
	else
		mkdir -p "$CL_TMP/wrap"
		CL_RT=$CL_TMP/wrap/$CL_RT_BASE
		cl_write_wrapper "$CL_RT" "$CL_RUNTIME" "$CL_ARGV_LOG"
	fi
	cl_log "runtime $CL_RUNTIME (engines call $CL_RT), temp $CL_TMP"
}

# The wrapper logs cwd + argv, runs the runtime as its child with the same stdio and fds, and on
# failure logs the exit status and the tail of the runtime's --log file. Engines see the same
# exit status; the container's init still ends up under the caller's subreaper.
cl_write_wrapper() {
	local path=$1 real=$2 log=$3
	cat >"$path" <<EOF
#!/bin/bash
log=$log
{ printf '%s pid=%s cwd=%s argv:' "\$(date +%H:%M:%S.%N)" "\$\$" "\$PWD"; printf ' %q' "\$0" "\$@"; echo; } >>"\$log" 2>/dev/null
$real "\$@"
rc=\$?
if [ \$rc -ne 0 ]; then
	lf=
	bundle=
	prev=
	for a in "\$@"; do
		case "\$prev" in --log) lf=\$a ;; --bundle|-b) bundle=\$a ;; esac
		case "\$a" in --log=*) lf=\${a#--log=} ;; --bundle=*) bundle=\${a#--bundle=} ;; esac
		prev=\$a
	done
	# keep the config.json of a failed create (engines delete the bundle)
	if [ -n "\$bundle" ] && [ -f "\$bundle/config.json" ]; then
		mkdir -p "\${log%/*}/failed-configs"
		cp "\$bundle/config.json" "\${log%/*}/failed-configs/\$\$.json" 2>/dev/null &&
			echo "      config.json kept: \${log%/*}/failed-configs/\$\$.json" >>"\$log"
	fi
	{ printf '%s pid=%s   -> exit %s' "\$(date +%H:%M:%S.%N)" "\$\$" "\$rc"; printf ' %q' "\$@"; echo
	  if [ -n "\$lf" ] && [ -f "\$lf" ]; then tail -n 3 "\$lf" | sed 's/^/      log: /'; fi; } >>"\$log" 2>/dev/null
fi
exit \$rc
EOF
	chmod 755 "$path"
}

# cl_scenario <label> <function>: runs the function in a subshell with errexit, times it.
cl_scenario() {
	local label=$1 fn=$2 t0 t1 rc secs status
	if [ -n "${CL_ONLY:-}" ] && ! [[ $label =~ $CL_ONLY ]]; then return 0; fi
	cl_log "=== $label"
	echo "=== scenario $label" >>"$CL_ARGV_LOG"
	t0=$(date +%s.%N)
	set +e
	(set -eo pipefail; "$fn")
	rc=$?
	set -e
	t1=$(date +%s.%N)
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	if [ $rc -eq 0 ]; then status=PASS; else status=FAIL; CL_FAILED=1; fi
	cl_log "--- $label: $status (${secs}s)"
	CL_ROWS+=("$(printf '%-8s %-40s %s %6ss' "$status" "$label" "$CL_RT_BASE" "$secs")")
	if [ -n "${CL_RESULTS:-}" ]; then
		printf '%s\t%s\t%s\t%s\t%s\n' "$CL_NAME" "$CL_RT_BASE" "$label" "$status" "$secs" >>"$CL_RESULTS"
	fi
	return 0
}

cl_summary() {
	local r
	echo "===== $CL_NAME with $CL_RUNTIME"
	for r in "${CL_ROWS[@]}"; do echo "$r"; done
	if [ "$CL_FAILED" != 0 ]; then
		echo "runtime calls that failed (from $CL_ARGV_LOG):"
		grep -A3 -- '-> exit' "$CL_ARGV_LOG" | head -n 60 || true
		return 1
	fi
	return 0
}

# ---------------------------------------------------------------------------------------------
# Images, built offline: busybox-static packed with umoci, and nginx from Debian's .debs
# (nginx + nginx-common extracted with dpkg-deb, libraries from ldd). Both are written as
# docker-archives (docker 20.10 cannot load OCI archives; ctr and podman load them too) named
# localhost/busybox:latest and localhost/nginx:latest.
#   CL_BUSYBOX_TAR, CL_NGINX_TAR are set by cl_images.
# ---------------------------------------------------------------------------------------------
cl_need_pkgs() {
	local missing=() p
	for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
	[ ${#missing[@]} -eq 0 ] && return 0
	cl_log "apt-get install ${missing[*]}"
	if ! cl_apt install -y --no-install-recommends "${missing[@]}" >/dev/null; then
		cl_apt update >/dev/null
		cl_apt install -y --no-install-recommends "${missing[@]}" >/dev/null
	fi
}
# apt-get, one at a time: `ctest -j2` runs a guest's stage beside an engine stage, and each may
# install packages the first time (apt's own lock makes a second apt-get fail, not wait).
cl_apt() { flock "${CRUN_LITE_APT_LOCK:-/run/crun-lite-apt.lock}" env DEBIAN_FRONTEND=noninteractive apt-get "$@"; }

# Fill a rootfs with busybox-static and its applet links plus minimal /etc files.
cl_busybox_rootfs() {
	local r=$1 a
	mkdir -p "$r"/{bin,sbin,etc,proc,sys,dev,tmp,root,run,var/tmp,home/user}
	chmod 1777 "$r/tmp" "$r/var/tmp"
	# shellcheck disable=SC2046 # one applet a word
	busybox_rootfs "$r" $(/bin/busybox --list)
	cat >"$r/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
	cat >"$r/etc/group" <<'EOF'
root:x:0:
tty:x:5:
user:x:1000:
nogroup:x:65534:
EOF
	chown 1000:1000 "$r/home/user"
	# cl-addkey: calls add_key(2) (allowed by the kernel for anyone, absent from podman's and
	# docker's seccomp profiles), prints "add_key ok" or "add_key errno=N <text>".
	cat >"$r/cl-addkey.c" <<'CEOF'
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void) {
	long r = syscall(SYS_add_key, "user", "cl-test", "v", 1, -2 /* KEY_SPEC_PROCESS_KEYRING */);
	if (r >= 0) { puts("add_key ok"); return 0; }
	printf("add_key errno=%d %s\n", errno, strerror(errno));
	return 1;
}
CEOF
	gcc -static -O2 -o "$r/bin/cl-addkey" "$r/cl-addkey.c"
	rm "$r/cl-addkey.c"
	# cl-ipc put KEY TEXT | get KEY: a SysV shared memory segment, to show a shared IPC namespace.
	cat >"$r/cl-ipc.c" <<'CEOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/shm.h>
int main(int argc, char** argv) {
	if (argc < 3) { fputs("usage: cl-ipc put KEY TEXT | get KEY\n", stderr); return 2; }
	key_t key = (key_t)strtol(argv[2], NULL, 0);
	int put = strcmp(argv[1], "put") == 0;
	int id = shmget(key, 4096, put ? IPC_CREAT | 0666 : 0);
	if (id < 0) { perror("shmget"); return 1; }
	char* p = shmat(id, NULL, 0);
	if (p == (void*)-1) { perror("shmat"); return 1; }
	if (put) { snprintf(p, 4096, "%s", argc > 3 ? argv[3] : ""); } else { puts(p); }
	return 0;
}
CEOF
	gcc -static -O2 -o "$r/bin/cl-ipc" "$r/cl-ipc.c"
	rm "$r/cl-ipc.c"
	: >"$r/etc/hosts"
	: >"$r/etc/resolv.conf"
	echo localhost >"$r/etc/hostname"
}

# cl_pack_image <rootfs> <name> <out.tar> [umoci config args...]
cl_pack_image() {
	local rootfs=$1 name=$2 out=$3 w
	shift 3
	w=$(mktemp -d /tmp/cl-img.XXXXXX)
	umoci init --layout "$w/oci"
	umoci new --image "$w/oci:latest"
	umoci unpack --image "$w/oci:latest" "$w/bundle" >/dev/null
	cp -a "$rootfs/." "$w/bundle/rootfs/"
	umoci repack --image "$w/oci:latest" "$w/bundle" >/dev/null
	umoci config --image "$w/oci:latest" --os linux --architecture amd64 \
		--config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		--history.created_by "crun-lite tests/clients" "$@"
	rm -f "$out.tmp"
	skopeo copy --quiet "oci:$w/oci:latest" "docker-archive:$out.tmp:localhost/$name:latest"
	mv "$out.tmp" "$out"
	rm -rf "$w"
}

cl_images() {
	local lock rc
	cl_need_pkgs busybox-static umoci skopeo gcc libc6-dev
	mkdir -p "$CL_IMAGE_CACHE"
	# one builder at a time: the host's engines and the systemd guest's host side may run side by
	# side under `ctest -j2`
	exec {lock}>"$CL_IMAGE_CACHE/.lock"
	flock "$lock"
	cl_build_images
	rc=$?
	exec {lock}>&-
	return $rc
}
cl_build_images() {
	local c=$CL_IMAGE_CACHE stamp
	# Rebuild when the recipe (this file, tests/lib/make-bundle.sh) or the port changes.
	stamp=$( (cat "$CL_LIB_DIR/lib.sh" "$CL_LIB_DIR/../lib/make-bundle.sh" | sha256sum | cut -c1-16; echo "$NGINX_PORT") | tr -d '\n ')
	CL_BUSYBOX_TAR=$c/busybox-$stamp.docker.tar
	CL_NGINX_TAR=$c/nginx-$stamp.docker.tar
	if [ -s "$CL_BUSYBOX_TAR" ] && [ -s "$CL_NGINX_TAR" ]; then return 0; fi
	(
		set -euo pipefail
		w=$(mktemp -d /tmp/cl-rootfs.XXXXXX)
		trap 'rm -rf "$w"' EXIT
		cl_log "building images in $c"
		rm -f "$c"/busybox-*.docker.tar "$c"/nginx-*.docker.tar
		# busybox
		cl_busybox_rootfs "$w/busybox"
		cl_pack_image "$w/busybox" busybox "$CL_BUSYBOX_TAR" --config.cmd sh
		# nginx: Debian's nginx (what nginx-light depends on in bookworm) + nginx-common
		mkdir -p "$w/debs" "$w/x"
		(cd "$w/debs" && cl_apt download nginx nginx-common >/dev/null 2>&1) ||
			(cl_apt update >/dev/null && cd "$w/debs" && cl_apt download nginx nginx-common >/dev/null 2>&1)
		for d in "$w"/debs/*.deb; do dpkg-deb -x "$d" "$w/x"; done
		r=$w/nginx
		cl_busybox_rootfs "$r"
		mkdir -p "$r/usr/sbin" "$r/etc/nginx" "$r/var/lib/nginx" "$r/var/log/nginx" "$r/usr/share/nginx/html"
		cp "$w/x/usr/sbin/nginx" "$r/usr/sbin/nginx"
		cp "$w/x/etc/nginx/mime.types" "$r/etc/nginx/mime.types"
		ldd "$w/x/usr/sbin/nginx" | awk '/=>/ { print $3 } !/=>/ && $1 ~ /^\// { print $1 }' |
			while read -r lib; do
				[ -n "$lib" ] && [ -e "$lib" ] || { echo "missing library for nginx: $lib" >&2; exit 1; }
				mkdir -p "$r$(dirname "$lib")"
				cp -L "$lib" "$r$lib"
			done
		if [[ $(ldd "$w/x/usr/sbin/nginx") == *"not found"* ]]; then
			echo "nginx needs libraries the host lacks:" >&2
			ldd "$w/x/usr/sbin/nginx" >&2
			exit 1
		fi
		cat >"$r/etc/nginx/nginx.conf" <<EOF
user nobody nogroup;
worker_processes 1;
pid /run/nginx.pid;
error_log stderr notice;
events { worker_connections 64; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log /dev/stdout;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root /usr/share/nginx/html;
        index index.html;
    }
}
EOF
		echo '<h1>crun-lite nginx</h1>' >"$r/usr/share/nginx/html/index.html"
		# (read whole: `| head` under pipefail fails when nginx meets SIGPIPE)
		local version
		version=$("$w/x/usr/sbin/nginx" -V 2>&1)
		printf '%s\n' "${version%%$'\n'*}" >"$r/etc/nginx/version"
		cl_pack_image "$r" nginx "$CL_NGINX_TAR" \
			--config.entrypoint /usr/sbin/nginx --config.cmd=-g --config.cmd='daemon off;' \
			--config.stopsignal SIGQUIT
	)
}

# cl_containers_conf <dir>: <dir>/containers.conf for podman and buildah: the distro file (a
# CONTAINERS_CONF replaces it entirely) plus, each under its section header: the nofile/nproc
# ulimits this machine allows (root's hard NOFILE is 20000), no network by default, cgroupfs,
# file events, a private tmp_dir, and crun-lite in runtime_supports_json so podman passes
# `--log-format=json --log FILE` to it as it does to runc and crun.
cl_containers_conf() {
	awk -v t="$1" '
		{ print }
		/^\[containers\]$/ {
			print "default_ulimits = [\"nofile=20000:20000\", \"nproc=32768:32768\"]"
			print "netns = \"none\""
		}
		/^\[engine\]$/ {
			print "cgroup_manager = \"cgroupfs\""
			print "events_logger = \"file\""
			print "events_logfile_path = \"" t "/events.log\""
			print "tmp_dir = \"" t "/tmp\""
			print "runtime_supports_json = [\"crun\", \"runc\", \"kata\", \"runsc\", \"krun\", \"crun-lite\"]"
		}
	' /usr/share/containers/containers.conf >"$1/containers.conf"
}

# cl_podman_setup: podman as the engine tests run it: its own storage (overlay), runroot and tmpdir
# under CL_TMP, the containers.conf of cl_containers_conf, cgroupfs (or CL_PODMAN_CGROUP_MANAGER:
# systemd on a systemd host, podman's default there), file events, CL_RT as the runtime. Sets PODMAN (the command line; pm runs it) and defers the teardown of what it leaves:
# its containers, their conmons, the mounts under CL_TMP.
cl_podman_setup() {
	mkdir -p "$CL_TMP/storage" "$CL_TMP/runroot" "$CL_TMP/tmp"
	cl_containers_conf "$CL_TMP"
	export CONTAINERS_CONF=$CL_TMP/containers.conf
	PODMAN=(podman --root "$CL_TMP/storage" --runroot "$CL_TMP/runroot" --tmpdir "$CL_TMP/tmp" --storage-driver overlay
		--cgroup-manager "${CL_PODMAN_CGROUP_MANAGER:-cgroupfs}" --events-backend file --runtime "$CL_RT")
	cl_defer 'cl_umount_under "$CL_TMP"'
	cl_defer 'for p in $(pgrep -x conmon || true); do grep -qF "$CL_TMP/" "/proc/$p/cmdline" && cl_stop_pid "$p"; done'
	cl_defer 'pm rm -af -t 0'
}
pm() { "${PODMAN[@]}" "$@"; }

# cl_containerd_config: CL_TMP/config.toml for a containerd of the test's own: root, state, opt dir
# and unix sockets (CL_TMP/containerd.sock) under CL_TMP, the CRI plugin disabled.
cl_containerd_config() {
	cat >"$CL_TMP/config.toml" <<EOF
version = 2
root = "$CL_TMP/root"
state = "$CL_TMP/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$CL_TMP/containerd.sock"
[ttrpc]
  address = "$CL_TMP/containerd.sock.ttrpc"
[debug]
  address = "$CL_TMP/debug.sock"
  level = "info"
[plugins."io.containerd.internal.v1.opt"]
  path = "$CL_TMP/opt"
EOF
}
# cl_containerd_start NAMESPACE: starts a containerd on cl_containerd_config's private config
# (CTRD_PID; its log CL_TMP/containerd.log) and sets SOCK and NS for ctr_, the ctr of that
# containerd and namespace (each call bounded by CTR_TIMEOUT seconds, default 120). Defers the
# teardown, undone last first: the namespace's tasks and containers, containerd, its shims, the
# cgroup parent ctr gives containers (/<namespace>; the runtime removes each container's own
# directory and, as runc does, leaves the parent) and the shim's runc state directory. Returns 1,
# with the log's tail on stderr, when containerd does not answer within 30 s.
cl_containerd_start() {
	NS=$1
	SOCK=$CL_TMP/containerd.sock
	cl_containerd_config
	cl_defer 'rmdir "/run/containerd/runc/$NS" 2>/dev/null'
	cl_defer 'for d in /sys/fs/cgroup/"$NS" /sys/fs/cgroup/*/"$NS"; do [ ! -d "$d" ] || rmdir "$d" 2>/dev/null || cl_log "cgroup $d left: not empty"; done'
	cl_defer 'for p in $(pgrep -f -- "-address $SOCK" || true); do cl_stop_pid "$p"; done'
	cl_defer 'cl_stop_pid "${CTRD_PID:-}"'
	cl_defer 'cl_ctr_tasks_gone'
	containerd --config "$CL_TMP/config.toml" >"$CL_TMP/containerd.log" 2>&1 &
	CTRD_PID=$!
	wait_for 30 ctr --address "$SOCK" version || { tail -n 30 "$CL_TMP/containerd.log" >&2; return 1; }
}
ctr_() { timeout "${CTR_TIMEOUT:-120}" ctr --address "$SOCK" --namespace "$NS" "$@"; }
# cl_ctr_tasks_gone: SIGKILL and delete every task that ctr_ (the caller's ctr on its containerd and
# namespace) lists, then remove its containers.
cl_ctr_tasks_gone() {
	local id
	for id in $(ctr_ task ls -q 2>/dev/null); do
		ctr_ task kill -s SIGKILL "$id" 2>/dev/null
		sleep 0.2
		ctr_ task delete -f "$id" 2>/dev/null
	done
	for id in $(ctr_ containers ls -q 2>/dev/null); do ctr_ containers rm "$id" 2>/dev/null; done
}

# Fail early if a TCP port on 127.0.0.1 is already taken.
cl_port_free() {
	! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# The current cgroup v1 memory hierarchy mount (for checks).
cl_cg_mem() { awk '$3 == "cgroup" && $4 ~ /(^|,)memory(,|$)/ { print $2; exit }' /proc/mounts; }
