#!/usr/bin/env bash
# buildah 1.28 with a runc-compatible runtime (issue 5, scenario 5).
#   tests/clients/buildah.sh <runtime-binary>      e.g. build/crun-lite, or /usr/sbin/runc
# A Dockerfile FROM the local busybox image, whose RUN steps execute in the runtime
# (`buildah bud --runtime PATH --isolation oci --network none`), then the image runs under
# podman with the same runtime. Private storage under a temp dir; no network.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

cl_init buildah "${1:-${RUNTIME:-}}"
cl_need_pkgs buildah podman conmon golang-github-containers-common
cl_images

T=$CL_TMP
mkdir -p "$T/storage" "$T/runroot" "$T/tmp" "$T/ctx"
cl_containers_conf "$T"
export CONTAINERS_CONF=$T/containers.conf
STORE=(--root "$T/storage" --runroot "$T/runroot" --storage-driver overlay)
bh() { buildah "${STORE[@]}" "$@"; }
pm() { podman "${STORE[@]}" --tmpdir "$T/tmp" --cgroup-manager cgroupfs --events-backend file --runtime "$CL_RT" "$@"; }

cl_defer 'cl_umount_under "$T"'
cl_defer 'for p in $(pgrep -x conmon || true); do grep -qF "$T/" "/proc/$p/cmdline" && cl_stop_pid "$p"; done'
cl_defer 'pm rm -af -t 0'
cl_defer 'bh rm -a'

bh pull -q "docker-archive:$CL_BUSYBOX_TAR" >/dev/null
cl_listed localhost/busybox:latest bh images --format '{{.Name}}:{{.Tag}}' || fail "busybox not in buildah's storage: $(bh images)"

cat >"$T/ctx/Dockerfile" <<'EOF'
FROM localhost/busybox:latest
RUN echo built-by-buildah > /built && mkdir -p /data && echo answer=$((6*7)) > /data/answer
RUN [ "$(cat /built)" = built-by-buildah ] && echo "uid=$(id -u) pid1=$(cat /proc/1/comm)" > /data/run-env
COPY hello.txt /data/hello.txt
CMD ["sh", "-c", "cat /built /data/answer /data/run-env /data/hello.txt"]
EOF
echo copied-from-context >"$T/ctx/hello.txt"

s_bud() {
	local out rc=0
	out=$(bh bud --runtime "$CL_RT" --isolation oci --network none --pull-never \
		-t localhost/cl-built:latest -f "$T/ctx/Dockerfile" "$T/ctx" 2>&1) || rc=$?
	assert_eq 0 "$rc" "buildah bud ($out)"
	cl_listed localhost/cl-built:latest bh images --format '{{.Name}}:{{.Tag}}' || fail "built image not listed: $(bh images)"
	# RUN steps ran in the runtime under test
	grep -q -- "--bundle" "$CL_ARGV_LOG" || [ "${CL_NOWRAP:-0}" = 1 ] || fail "buildah did not call the runtime"
	rc=0
	out=$(pm run --rm --network none localhost/cl-built:latest 2>&1) || rc=$?
	assert_eq 0 "$rc" "podman run of the built image ($out)"
	assert_contains "$out" built-by-buildah "file from the first RUN"
	assert_contains "$out" answer=42 "shell arithmetic in RUN"
	assert_contains "$out" "uid=0" "second RUN"
	assert_contains "$out" copied-from-context "COPY"
}

cl_scenario "buildah bud (RUN steps) + podman run of the result" s_bud
cl_summary
