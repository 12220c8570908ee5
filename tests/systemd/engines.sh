#!/usr/bin/env bash
# engines.sh [CRUN_LITE]: docker, podman and containerd as a stock systemd host runs them (systemd as
# PID 1, pure cgroup v2, each engine in its default configuration: the systemd cgroup driver), with
# runc and then with crun-lite, scenario by scenario. Every engine then passes `--systemd-cgroup` and
# a `slice:prefix:name` cgroupsPath, and each container is a transient scope made through systemd.
#
# On the host it installs the engines when missing (docker.io, containerd, podman; Debian's), builds
# the offline images of tests/clients/lib.sh (busybox, nginx) and boots the guest of
# tests/vm/run-in-v2-vm.sh -s (2 GiB), which runs this script again. In the guest:
#   engines  docker.service and containerd.service (Debian's units), started by systemctl; podman
#            with its default containers.conf plus crun-lite in [engine.runtimes] and
#            runtime_supports_json. Storage: a tmpfs on /var/lib/{docker,containerd,containers}
#            (the guest's / is an overlay, which overlay storage cannot stack on), so the default
#            storage drivers work. docker: daemon.json with no bridge, no iptables, crun-lite in
#            "runtimes"; no network is used (host network on 127.0.0.1 or --network none).
#            AppArmor is on (Debian's apparmor package is installed on the host side), so dockerd
#            loads docker-default and confines every container with it, as on a stock Debian 12.
#   runtimes runc = Debian's /usr/sbin/runc (or $RUNC): docker's own default runtime, `--runtime runc`
#            for podman, `--runc-binary` for ctr; crun-lite = CRUN_LITE (default build/crun-lite),
#            registered in daemon.json / containers.conf / given to ctr. Both are called through
#            the argv-logging wrapper of tests/clients/lib.sh (not docker's built-in runc), unless
#            CL_NOWRAP=1.
#   cri      the seed's Kubernetes pod (tests/clients/cri/pods.sh) through containerd.service's CRI
#            plugin with crictl, the handlers runc and crun-lite both with SystemdCgroup = true and
#            the pod under the slice kubelet's systemd driver gives it; the images come from a
#            docker-registry on the guest's 127.0.0.1 serving the registry storage that cri_images
#            (tests/clients/cri/lib.sh) builds and pushes on the host first when missing.
#   rootless tests/clients/podman-rootless.sh with PODMAN_ROOTLESS_SYSTEMD=1, in the podman lane:
#            an unprivileged user's podman in its default configuration here (the user's systemd,
#            --systemd-cgroup inside podman's user namespace, a delegated cgroup v2 subtree).
#   scenarios each one with runc first, then crun-lite: its PASS/FAIL line per runtime, and after a
#            failure the runtime calls of that run (with the runtime's error log) and the journal.
#            Some properties are also compared with what runc gave in the same run ("same as runc").
# The last line is "N passed, M failed"; the exit status is non-zero when anything failed (124/125
# when the VM itself failed).
#
# Environment: CL_ONLY=REGEX runs the scenarios whose label matches (engines without one are not
# started); CL_NOWRAP=1; SD_ENGINES_LOGS=DIR (host directory, shared with the guest) receives the
# runtime argv logs and the guest's journal; CRUN_LITE_VM_TIMEOUT (default 900 s) and the other
# run-in-v2-vm.sh variables.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=${CRUN_LITE_REPO:-$(cd "$HERE/../.." && pwd)}
CRUN_LITE=${1:-$REPO/build/crun-lite}
# shellcheck source-path=SCRIPTDIR source=../clients/lib.sh
source "$REPO/tests/clients/lib.sh"

# ------------------------------------------------------------------------------------------ host
if [[ -z ${CRUN_LITE_VM:-} ]]; then
  say() { echo "engines: $*" >&2; }
  [[ -x $CRUN_LITE ]] || { say "no crun-lite binary at $CRUN_LITE (build it first)"; exit 1; }
  CRUN_LITE=$(realpath "$CRUN_LITE")
  RUNC=${RUNC:-/usr/sbin/runc}
  cl_need_pkgs docker.io containerd podman conmon catatonit golang-github-containers-common runc curl uidmap dbus-user-session apparmor ||
    { say "installing the engines failed"; exit 1; }
  cl_images || { say "building the images failed"; exit 1; }
  cri_env=()
  if [[ -z ${CL_ONLY:-} || "crictl seed pod" =~ ${CL_ONLY:-} ]]; then
    # shellcheck source-path=SCRIPTDIR source=../clients/cri/lib.sh
    source "$REPO/tests/clients/cri/lib.sh"
    cri_tools_check
    cri_images || { say "building or pushing the CRI images failed"; exit 1; }
    cri_env=(-e "CRI_STORE=$CRI_STORE" -e "CRICTL=$CRICTL")
  fi
  # The guest's /tmp, /run and /dev are its own: what the guest needs from there is shared.
  share=()
  for d in "$REPO" "$(dirname "$CRUN_LITE")" "$CL_IMAGE_CACHE"; do
    case $d in /tmp/* | /run/* | /dev/*) share+=(-w "$d") ;; esac
  done
  [[ -z ${SD_ENGINES_LOGS:-} ]] || share+=(-w "$SD_ENGINES_LOGS")
  start=$(date +%s%N)
  "$REPO/tests/vm/run-in-v2-vm.sh" -s -t "${CRUN_LITE_VM_TIMEOUT:-900}" -m 2048 "${share[@]}" \
    -e "CRUN_LITE_REPO=$REPO" -e "RUNC=$RUNC" -e "CL_BUSYBOX_TAR=$CL_BUSYBOX_TAR" -e "CL_NGINX_TAR=$CL_NGINX_TAR" \
    -e "NGINX_PORT=$NGINX_PORT" -e "CL_ONLY=${CL_ONLY:-}" -e "CL_NOWRAP=${CL_NOWRAP:-0}" \
    -e "SD_ENGINES_LOGS=${SD_ENGINES_LOGS:-}" "${cri_env[@]}" "$HERE/engines.sh" "$CRUN_LITE"
  rc=$?
  echo "engines: VM run took $((($(date +%s%N) - start) / 1000000)) ms, exit status $rc"
  exit "$rc"
fi

# ----------------------------------------------------------------------------------------- guest
set -e
T0=$(date +%s)
phase() { cl_log "--- $* (T+$(($(date +%s) - T0)) s, guest up $(cut -d' ' -f1 /proc/uptime) s)"; }
CL_NAME=engines
phase "$(systemctl --version | head -n 1), PID 1 $(cat /proc/1/comm), $(stat -f -c %T /sys/fs/cgroup)"
cl_log "$(dpkg-query -W -f '${Package} ${Version}, ' docker.io containerd podman conmon runc)crun-lite $CRUN_LITE"
CL_NOWRAP=1 cl_init engines "$CRUN_LITE"   # the temp dir, teardown; the wrappers are below
export CL_RESULTS=$CL_TMP/results.tsv   # cl_scenario's rows, from both lanes (see the end)
: >"$CL_RESULTS"
RUNC=${RUNC:-/usr/sbin/runc}
CL_NOWRAP=${CL_NOWRAP:-0}
RTS=(runc crun-lite)
# What each lane (see the end) gives its engines: RT_BIN[lane:runtime], a wrapper named like the
# runtime (podman's runtime_supports_json goes by the name) that logs to RT_LOG[lane:runtime].
LANES=(podman containerd-docker)
declare -A RT_BIN RT_LOG
for lane in "${LANES[@]}"; do
  for rt in "${RTS[@]}"; do
    real=$RUNC
    [ "$rt" = runc ] || real=$CL_RUNTIME
    RT_LOG[$lane:$rt]=$CL_TMP/runtime-argv-$lane-$rt.log
    : >"${RT_LOG[$lane:$rt]}"
    RT_BIN[$lane:$rt]=$real
    if ((!CL_NOWRAP)); then
      mkdir -p "$CL_TMP/wrap-$lane-$rt"
      RT_BIN[$lane:$rt]=$CL_TMP/wrap-$lane-$rt/$rt
      cl_write_wrapper "${RT_BIN[$lane:$rt]}" "$real" "${RT_LOG[$lane:$rt]}"
    fi
  done
done
((CL_NOWRAP)) || cl_log "the engines call $CL_TMP/wrap-{$(IFS=,; echo "${LANES[*]}")}-<runtime>/<runtime>, logging to $CL_TMP/runtime-argv-<lane>-<runtime>.log"
OBS=$CL_TMP/observed
mkdir -p "$OBS"
if [ -n "${SD_ENGINES_LOGS:-}" ]; then
  cl_defer 'cp -a "$CL_TMP"/runtime-argv*.log "$CL_TMP"/failed-configs "$SD_ENGINES_LOGS/" 2>/dev/null; journalctl -q --no-pager -o short-precise >"$SD_ENGINES_LOGS/journal.txt"'
fi

# The scenarios, label and function, by engine (CL_ONLY selects by label).
PODMAN_SCENARIOS=(
  "podman run -d/exec/stop/rm" s_podman_run
  "podman --memory 64m" s_podman_memory
  "podman pod: infra + init-ctr once + app + sidecar" s_podman_pod)
CTR_SCENARIOS=(
  "ctr run -d --runc-systemd-cgroup --memory-limit, exec, kill, rm" s_ctr_run
  "ctr run --rm --runc-systemd-cgroup: status" s_ctr_rm)
CRI_SCENARIOS=(
  "crictl seed pod (SystemdCgroup): kubepods slice, scopes, limits, init, app, sidecar, job" s_cri_pod)
DOCKER_SCENARIOS=(
  "docker seed: run -d nginx, curl 200, exec, logs, stop, rm" s_docker_seed
  "docker --memory 64m: MemoryMax, memory.max, update" s_docker_memory
  "docker default-runtime (daemon.json, reload)" s_docker_default)
wanted() { # label function ...: is one of the labels selected?
  while (($#)); do
    [ -z "${CL_ONLY:-}" ] || [[ $1 =~ $CL_ONLY ]] && return 0
    shift 2
  done
  return 1
}
WANT_DOCKER=0 WANT_PODMAN=0 WANT_CTR=0 WANT_CRI=0 WANT_ROOTLESS=0
wanted "${DOCKER_SCENARIOS[@]}" && WANT_DOCKER=1
wanted "${PODMAN_SCENARIOS[@]}" && WANT_PODMAN=1
wanted "${CTR_SCENARIOS[@]}" && WANT_CTR=1
wanted "${CRI_SCENARIOS[@]}" && WANT_CRI=1
wanted "rootless podman" - && WANT_ROOTLESS=1

# ----------------------------------------------------------------------------- engine configuration
# Storage on tmpfs (see the header), then the engines' configuration files as a host's admin writes
# them, then containerd and docker start in the background while podman's scenarios run.
for d in /var/lib/docker /var/lib/containerd /var/lib/containers; do
  mkdir -p "$d" && mount -t tmpfs -o mode=0711 tmpfs "$d"
done
mkdir -p /etc/docker
cat >/etc/docker/daemon.json <<EOF
{
  "bridge": "none", "iptables": false, "ip6tables": false, "ip-masq": false, "ip-forward": false,
  "userland-proxy": false,
  "runtimes": { "crun-lite": { "path": "${RT_BIN[containerd-docker:crun-lite]}" } }
}
EOF
# Debian's config.toml plus two CRI runtime handlers as a systemd host configures them; ctr does not
# read them (it has no CRI), but gives the runc v2 shim the same options (BinaryName, SystemdCgroup)
# with --runc-binary and --runc-systemd-cgroup.
[ -s /etc/containerd/config.toml ] || echo 'version = 2' >/etc/containerd/config.toml
cat >>/etc/containerd/config.toml <<EOF

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
    BinaryName = "${RT_BIN[containerd-docker:runc]}"
    SystemdCgroup = true
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.crun-lite]
  runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.crun-lite.options]
    BinaryName = "${RT_BIN[containerd-docker:crun-lite]}"
    SystemdCgroup = true
EOF
# podman: the distro's containers.conf stays; this file adds to it (docs/callers.md).
mkdir -p /etc/containers
cat >/etc/containers/containers.conf <<EOF
[engine]
runtime_supports_json = ["crun", "runc", "kata", "runsc", "krun", "crun-lite"]
[engine.runtimes]
runc = ["${RT_BIN[podman:runc]}"]
crun-lite = ["${RT_BIN[podman:crun-lite]}"]
EOF
# What a node's admin adds to Debian's config.toml for the CRI plugin here (the handlers are above):
# the sandbox image and registry hosts of the host's CRI stage, and a CNI directory of its own
# with the loopback-only network (Debian's conf_dir is the host's, which podman's bridge shares).
# The registry (127.0.0.1:5000, the host-made store, read-only under the guest's overlay) starts
# here, in the script's own shell, so that its teardown stops it.
cri_guest_config() {
  local net=/etc/cni/crunlite-net.d bin=/etc/cni/crunlite-bin
  mkdir -p "$net" "$bin" /etc/containerd/certs.d/_default
  ln -sf /usr/lib/cni/loopback "$bin/loopback"
  install -m 755 "$CRI_DIR/cni-loopback-eth0" "$bin/cni-loopback-eth0"
  echo '{ "cniVersion": "0.4.0", "name": "crunlite-loopback", "plugins": [ { "type": "cni-loopback-eth0" } ] }' \
    >"$net/10-crunlite.conflist"
  printf 'server = "http://%s"\n[host."http://%s"]\n  capabilities = ["pull", "resolve"]\n' "$CRI_REG" "$CRI_REG" \
    >/etc/containerd/certs.d/_default/hosts.toml
  local cri_table='[plugins."io.containerd.grpc.v1.cri"]'
  grep -qxF "  $cri_table" /etc/containerd/config.toml || grep -qxF "$cri_table" /etc/containerd/config.toml ||
    printf '\n%s\n' "$cri_table" >>/etc/containerd/config.toml
  sed -i -e "/^ *\[plugins.\"io.containerd.grpc.v1.cri\"\] *\$/a\\    sandbox_image = \"$CRI_PAUSE_IMAGE\"" \
    -e "/^ *\[plugins.\"io.containerd.grpc.v1.cri\".cni\]/,/^ *\[/{/bin_dir *=/d; /conf_dir *=/d}" /etc/containerd/config.toml
  cat >>/etc/containerd/config.toml <<EOF
[plugins."io.containerd.grpc.v1.cri".registry]
  config_path = "/etc/containerd/certs.d"
EOF
  grep -q '^ *\[plugins."io.containerd.grpc.v1.cri".cni\]' /etc/containerd/config.toml ||
    printf '[plugins."io.containerd.grpc.v1.cri".cni]\n' >>/etc/containerd/config.toml
  sed -i "/^ *\[plugins.\"io.containerd.grpc.v1.cri\".cni\]/a\\      bin_dir = \"$bin\"\n      conf_dir = \"$net\"" /etc/containerd/config.toml
  printf 'runtime-endpoint: unix:///run/containerd/containerd.sock\nimage-endpoint: unix:///run/containerd/containerd.sock\ntimeout: 120\n' \
    >"$CL_TMP/crictl.yaml"
  CRI_RT_ROOT=/run/containerd/runc  # the shim's default state root (+ the namespace, k8s.io)
  cri_registry_start
}
if ((WANT_CRI)); then
  # shellcheck source-path=SCRIPTDIR source=../clients/cri/lib.sh
  source "$REPO/tests/clients/cri/lib.sh"
  # shellcheck source-path=SCRIPTDIR source=../clients/cri/pods.sh
  source "$REPO/tests/clients/cri/pods.sh"
  cri_guest_config
fi
if ((WANT_DOCKER)); then
  systemctl start --no-block containerd.service docker.service
elif ((WANT_CTR || WANT_CRI)); then
  systemctl start --no-block containerd.service
fi

# ------------------------------------------------------------------------------------------ helpers
RT=runc
ENGINE=
LANE=
# shellcheck disable=SC2034 # cl_scenario's
use_rt() { RT=$1; CL_RT_BASE=$1; CL_ARGV_LOG=${RT_LOG[$LANE:$1]}; CL_NAME=$ENGINE/$1; }

# evidence <label> <start epoch>: what a failed run left: its runtime calls (the wrapper logs the
# failed ones with the tail of the runtime's --log file) and the journal since it started.
evidence() {
  echo "----- evidence: runtime calls of '$1' with $RT ($CL_ARGV_LOG)"
  awk -v s="=== scenario $1" '$0 == s { p = 1; n = 0 } p && n++ < 80' "$CL_ARGV_LOG"
  echo "----- evidence: journal since the run started (last 40 lines)"
  journalctl -q --no-pager -o short-precise --since "@$2" | tail -n 40
  echo "-----"
}

# scenario <label> <function> <cleanup>: the function with runc, then with crun-lite (in a
# subshell with errexit, timed, PASS/FAIL recorded by cl_scenario); the cleanup runs after each,
# so that what a failed run left does not fail the next one.
scenario() {
  local label=$1 fn=$2 clean=$3 rt t0 n
  for rt in "${RTS[@]}"; do
    use_rt "$rt"
    n=${#CL_ROWS[@]}
    t0=$(date +%s)
    cl_scenario "$label" "$fn"
    "$clean" >/dev/null 2>&1 || true
    if ((${#CL_ROWS[@]} > n)) && [[ ${CL_ROWS[-1]} == FAIL* ]]; then evidence "$label" "$t0" >&2; fi
  done
}
scenarios() { # <cleanup> label function ...
  local clean=$1
  shift
  while (($#)); do scenario "$1" "$2" "$clean"; shift 2; done
}
# record_fail_all <label> <reason>: both runtimes FAIL (an engine that did not start).
record_fail_all() {
  local rt
  for rt in "${RTS[@]}"; do
    use_rt "$rt"
    cl_log "--- $1: FAIL ($2)"
    printf '%s\t%s\t%s\t%s\t%s\n' "$CL_NAME" "$rt" "$1" FAIL 0 >>"$CL_RESULTS"
  done
}

# same_as_runc <key> <value>: with runc, remember the value; with crun-lite, it must be the same.
same_as_runc() {
  local f=$OBS/$ENGINE.${FUNCNAME[1]}.$1
  if [ "$RT" = runc ]; then
    printf '%s\n' "$2" >"$f"
  elif [ -f "$f" ]; then
    assert_eq "$(cat "$f")" "$2" "$1 (expected: what runc gave)"
  fi
}

# unit_show <unit> <property>...: U[property]=value, from one `systemctl show`.
declare -A U
unit_show() {
  local unit=$1 l args=()
  shift
  for l; do args+=("--property=$l"); done
  U=()
  while IFS= read -r l; do
    [[ $l == *=* ]] && U[${l%%=*}]=${l#*=}
  done < <(systemctl show "${args[@]}" "$unit")
}

# check_scope <unit> <slice> <cgroup> <pid>: the unit is an active transient scope in the slice, its
# cgroup is <cgroup>, which holds pid; Delegate and the description's form are compared with runc's.
check_scope() {
  local unit=$1 slice=$2 cg=$3 pid=$4
  unit_show "$unit" LoadState ActiveState SubState Slice ControlGroup Transient Delegate
  assert_eq "loaded active running" "${U[LoadState]} ${U[ActiveState]} ${U[SubState]}" "$unit state"
  assert_eq "$slice" "${U[Slice]}" "$unit Slice"
  assert_eq "$cg" "${U[ControlGroup]}" "$unit ControlGroup"
  assert_eq yes "${U[Transient]}" "$unit Transient"
  same_as_runc scope-Delegate "${U[Delegate]}"
  [ -d "/sys/fs/cgroup$cg" ] || fail "no cgroup directory /sys/fs/cgroup$cg"
  assert_eq "0::$cg" "$(cat "/proc/$pid/cgroup")" "cgroup of the container's init (pid $pid)"
}

# scope_gone <unit> <cgroup>: systemd forgot the unit and its cgroup is gone (within 30 s).
unit_gone() { [ "$(systemctl show --property=LoadState --value "$1")" = not-found ]; }
scope_gone() {
  wait_for 30 unit_gone "$1" ||
    fail "$1 still there: $(systemctl show --property=LoadState,ActiveState,SubState,Result "$1" | tr '\n' ' ')"
  [ ! -e "/sys/fs/cgroup$2" ] || fail "cgroup /sys/fs/cgroup$2 left"
}

# nothing_named <id>: no unit (any state) and no cgroup directory with the id in its name.
nothing_named() {
  local units dirs
  units=$(systemctl list-units --all --plain --no-legend --full "*$1*")
  [ -z "$units" ] || fail "units left for $1: $units"
  dirs=$(find /sys/fs/cgroup -type d -name "*$1*")
  [ -z "$dirs" ] || fail "cgroups left for $1: $dirs"
}

http_code() { curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$NGINX_PORT/" || true; }
is_200() { [ "$(http_code)" = 200 ]; }
MIB64=67108864

# -------------------------------------------------------------------------------------------- podman
pm() { podman --runtime "$RT" "$@"; }
PM_IMG=localhost/busybox:latest
pm_cleanup() { pm pod rm -af -t 0; pm rm -af -t 0; }

# run -d, exec, stop (SIGTERM trapped: exit 42), rm; the scope libpod-<id>.scope in machine.slice.
# (Few podman calls: each costs seconds under emulation.)
s_podman_run() {
  local id pid out rc=0 t0 t1
  id=$(pm run -d --name sd-p1 --network none "$PM_IMG" \
    sh -c 'trap "exit 42" TERM; touch /tmp/ready; sleep 1000 & wait')
  out=$(pm exec sd-p1 sh -c 'while [ ! -e /tmp/ready ]; do sleep 0.1; done; echo exec-ok; cat /proc/self/cgroup; exit 3') || rc=$?
  assert_eq "3 exec-ok 0::/" "$rc $(echo $out)" "podman exec: exit status, output, in the container's cgroup namespace"
  read -r out pid < <(pm inspect -f '{{.OCIRuntime}} {{.State.Pid}}' sd-p1)
  assert_eq "$RT" "$out" "the container's OCI runtime"
  check_scope "libpod-$id.scope" machine.slice "/machine.slice/libpod-$id.scope" "$pid"
  t0=$(date +%s)
  pm stop -t 30 sd-p1 >/dev/null
  t1=$(date +%s)
  [ $((t1 - t0)) -lt 25 ] || fail "podman stop took $((t1 - t0))s: SIGTERM not delivered"
  assert_eq "exited 42" "$(pm inspect -f '{{.State.Status}} {{.State.ExitCode}}' sd-p1)" "state after stop"
  scope_gone "libpod-$id.scope" "/machine.slice/libpod-$id.scope"
  pm rm sd-p1 >/dev/null
  nothing_named "$id"
}

# --memory 64m: MemoryMax of the scope, its memory.max, the container's view; podman's pids limit.
s_podman_memory() {
  local id
  id=$(pm run -d --name sd-pmem --network none --memory 64m "$PM_IMG" sleep 1000)
  unit_show "libpod-$id.scope" MemoryMax MemorySwapMax TasksMax Slice
  assert_eq "$MIB64 machine.slice" "${U[MemoryMax]} ${U[Slice]}" "MemoryMax and Slice of libpod-$id.scope"
  same_as_runc MemorySwapMax "${U[MemorySwapMax]}"
  same_as_runc TasksMax "${U[TasksMax]}"
  assert_eq $MIB64 "$(cat "/sys/fs/cgroup/machine.slice/libpod-$id.scope/memory.max")" "the scope's memory.max"
  same_as_runc memory.swap.max "$(cat "/sys/fs/cgroup/machine.slice/libpod-$id.scope/memory.swap.max")"
  same_as_runc pids.max "$(cat "/sys/fs/cgroup/machine.slice/libpod-$id.scope/pids.max")"
  assert_eq $MIB64 "$(pm exec sd-pmem cat /sys/fs/cgroup/memory.max)" "memory.max inside"
  pm rm -f -t 0 sd-pmem >/dev/null
  scope_gone "libpod-$id.scope" "/machine.slice/libpod-$id.scope"
  nothing_named "$id"
}

# A pod: infra (podman's catatonit pause image, built locally), an init container (--init-ctr once)
# that runs to completion first and leaves a SysV shared memory segment, an app and a sidecar that
# see it and share the infra's net, ipc and uts namespaces; every container a scope in the pod's
# slice (machine.slice/machine-libpod_pod_<pod>.slice); nothing left after `pod rm`.
s_podman_pod() {
  local pod slice init infra app side ipid want out c pid
  local show='echo "net=$(readlink /proc/self/ns/net) ipc=$(readlink /proc/self/ns/ipc) uts=$(readlink /proc/self/ns/uts) host=$(hostname)"'
  pod=$(pm pod create --name sd-pod --network none --hostname sd-podhost)
  slice=machine-libpod_pod_$pod.slice
  init=$(pm create --pod sd-pod --init-ctr once --name sd-pod-init "$PM_IMG" \
    sh -c "cl-ipc put 0x5d1 \"init-ran-first \$($show)\"")
  side=$(pm create --pod sd-pod --name sd-pod-side "$PM_IMG" sh -c "($show; cl-ipc get 0x5d1) >/tmp/info 2>&1; exec sleep 1000")
  app=$(pm create --pod sd-pod --name sd-pod-app "$PM_IMG" sh -c "($show; cl-ipc get 0x5d1) >/tmp/info 2>&1; exec sleep 1000")
  pm pod start sd-pod >/dev/null
  pm container exists sd-pod-init && fail "the --init-ctr once container is still there after it ran"
  infra=$(pm pod inspect -f '{{.InfraContainerID}}' sd-pod)
  while read -r c pid; do
    check_scope "libpod-$c.scope" "$slice" "/machine.slice/$slice/libpod-$c.scope" "$pid"
    [ "$c" != "$infra" ] || ipid=$pid
  done < <(pm inspect -f '{{.Id}} {{.State.Pid}}' "$infra" "$side" "$app")
  want="net=$(readlink "/proc/$ipid/ns/net") ipc=$(readlink "/proc/$ipid/ns/ipc") uts=$(readlink "/proc/$ipid/ns/uts") host=sd-podhost"
  for c in sd-pod-side sd-pod-app; do
    out=$(pm exec "$c" sh -c 'for i in $(seq 100); do grep -q init-ran-first /tmp/info 2>/dev/null && break; sleep 0.1; done; cat /tmp/info')
    assert_eq "$(printf '%s\n%s' "$want" "init-ran-first $want")" "$out" "$c: the infra's namespaces, the init container's segment"
  done
  pm pod rm -f -t 0 sd-pod >/dev/null
  for c in "$infra" "$side" "$app"; do scope_gone "libpod-$c.scope" "/machine.slice/$slice/libpod-$c.scope"; done
  for c in "$pod" "$init" "$infra" "$side" "$app"; do nothing_named "$c"; done
}

# ---------------------------------------------------------------------------------------- containerd
CTR_NS=sd-engines
ctr_() { ctr --namespace "$CTR_NS" "$@"; }
CTR_IMG=localhost/busybox:latest
ctr_cleanup() {
  local id
  for id in $(ctr_ task ls -q); do ctr_ task kill -s SIGKILL "$id"; sleep 0.3; ctr_ task rm -f "$id"; done
  for id in $(ctr_ containers ls -q); do ctr_ containers rm "$id"; done
}
ctr_run() { # <id> <ctr run options and arguments...>: the runtime, systemd, cgroup system.slice:ctr:<id>
  local id=$1
  shift
  ctr_ run --runc-binary "${RT_BIN[$LANE:$RT]}" --runc-systemd-cgroup --cgroup "system.slice:ctr:$id" "$@"
}
task_status() { ctr_ task ls | awk -v id="$1" '$1 == id { print $3 }'; }

# run -d with a memory limit: ctr-<id>.scope in system.slice, MemoryMax, exec joins the scope;
# kill, task rm: the scope is gone; container rm.
s_ctr_run() {
  local id=sd-ctr-$RT pid out
  ctr_run "$id" -d --memory-limit $MIB64 "$CTR_IMG" "$id" sleep 1000
  pid=$(ctr_ task ls | awk -v id="$id" '$1 == id { print $2 }')
  check_scope "ctr-$id.scope" system.slice "/system.slice/ctr-$id.scope" "$pid"
  unit_show "ctr-$id.scope" MemoryMax
  assert_eq $MIB64 "${U[MemoryMax]}" "MemoryMax of ctr-$id.scope"
  assert_eq $MIB64 "$(cat "/sys/fs/cgroup/system.slice/ctr-$id.scope/memory.max")" "the scope's memory.max"
  out=$(ctr_ task exec --exec-id e1 "$id" cat /proc/self/cgroup)
  assert_eq "0::/system.slice/ctr-$id.scope" "$out" "cgroup of a process started by ctr task exec"
  ctr_ task kill -s SIGKILL "$id"
  wait_for 15 sh -c "[ \"\$(ctr --namespace $CTR_NS task ls | awk '\$1 == \"$id\" { print \$3 }')\" = STOPPED ]" ||
    fail "task not stopped: $(task_status "$id")"
  ctr_ task rm "$id" >/dev/null
  scope_gone "ctr-$id.scope" "/system.slice/ctr-$id.scope"
  ctr_ containers rm "$id"
  cl_listed "$id" ctr_ containers ls -q && fail "container still listed after ctr c rm"
  nothing_named "$id"
}

# run --rm in the foreground: output, exit status, nothing left.
s_ctr_rm() {
  local id=sd-ctr-rm-$RT out rc=0
  out=$(ctr_run "$id" --rm "$CTR_IMG" "$id" sh -c 'cat /proc/self/cgroup; exit 3' 2>&1) || rc=$?
  assert_eq 3 "$rc" "ctr run --rm exit status ($out)"
  assert_eq "0::/system.slice/ctr-$id.scope" "$out" "cgroup of the container"
  scope_gone "ctr-$id.scope" "/system.slice/ctr-$id.scope"
  cl_listed "$id" ctr_ containers ls -q && fail "container still listed after run --rm"
  nothing_named "$id"
}

# ------------------------------------------------------------------------------------ containerd CRI
cri_cleanup() { cri_remove_all_pods; }
# The seed pod with the handler named like the runtime, under kubelet's systemd slice; the shim's
# `kill --all` of each stopped container is answered (no "killall failed" in containerd's log).
s_cri_pod() {
  local since killall
  since=$(date +%s)
  PODS_HANDLER=$RT POD_SYSTEMD=1 s_seed_pod
  killall=$(journalctl -q --no-pager -u containerd.service --since "@$since" | grep 'killall failed' || true)
  [ -z "$killall" ] || fail "containerd logged: $killall"
}

# -------------------------------------------------------------------------------------------- docker
dk() { DOCKER_CONFIG=$CL_TMP/docker-cli "$DOCKER_CLI" "$@"; }
# runc: docker's default runtime (no --runtime); crun-lite: registered in daemon.json "runtimes".
dk_rt() { [ "$RT" = runc ] || echo "--runtime=crun-lite"; }
# shellcheck disable=SC2086
dk_cleanup() { local ids; ids=$(dk ps -aq); [ -z "$ids" ] || dk rm -f $ids; }
DK_IMG=localhost/nginx:latest   # nginx on the busybox rootfs: one image for every docker scenario

# The seed: `docker run --name mon-serveur-web -d nginx` with host networking (nginx listens on
# 127.0.0.1 only): HTTP 200 from the host and from inside (exec), docker logs, stop (the image's
# SIGQUIT: exit 0), rm; the scope docker-<id>.scope in system.slice holds nginx and goes with it.
s_docker_seed() {
  local id pid out t0 t1
  # shellcheck disable=SC2046
  id=$(dk run --name mon-serveur-web -d $(dk_rt) --network host "$DK_IMG")
  wait_for 30 is_200 || fail "nginx did not answer 200 (got $(http_code)); logs: $(dk logs mon-serveur-web 2>&1 | tail -n 5)"
  read -r out pid < <(dk inspect -f '{{.HostConfig.Runtime}} {{.State.Pid}}' "$id")
  assert_eq "$RT" "$out" "the container's runtime"
  check_scope "docker-$id.scope" system.slice "/system.slice/docker-$id.scope" "$pid"
  # AppArmor is on here, as on a stock Debian host: dockerd loads docker-default and hands it to
  # the runtime (process.apparmorProfile), which confines nginx and what docker exec runs.
  assert_eq "docker-default" "$(dk inspect -f '{{.AppArmorProfile}}' "$id")" "docker inspect's AppArmorProfile"
  assert_eq "docker-default (enforce)" "$(cat "/proc/$pid/attr/current")" "the AppArmor confinement of nginx"
  assert_eq "docker-default (enforce)" "$(dk exec mon-serveur-web cat /proc/self/attr/current)" "docker exec's confinement"
  out=$(dk exec mon-serveur-web sh -c "wget -q -O - http://127.0.0.1:$NGINX_PORT/; ps -o args; cat /proc/self/cgroup")
  assert_contains "$out" "crun-lite nginx" "the page, fetched from inside with docker exec"
  assert_contains "$out" "nginx: worker process" "docker exec ps"
  assert_contains "$out" "0::/" "docker exec: in the container's cgroup namespace"
  out=$(dk logs mon-serveur-web 2>&1)
  assert_contains "$out" '"GET / HTTP/1.1" 200' "docker logs (nginx's access log on stdout)"
  t0=$(date +%s)
  dk stop -t 30 mon-serveur-web >/dev/null
  t1=$(date +%s)
  [ $((t1 - t0)) -lt 25 ] || fail "docker stop took $((t1 - t0))s: the stop signal was not honoured"
  assert_eq "exited 0" "$(dk inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$id")" "state after stop"
  is_200 && fail "nginx still answering after stop"
  scope_gone "docker-$id.scope" "/system.slice/docker-$id.scope"
  dk rm mon-serveur-web >/dev/null
  nothing_named "$id"
}

# --memory 64m: `systemctl show -p MemoryMax docker-<id>.scope`, the scope's memory.max, the
# container's own view; then `docker update --memory 32m` (the runtime's update sets the unit's
# properties too).
s_docker_memory() {
  local id unit cg
  # shellcheck disable=SC2046
  id=$(dk run -d --name sd-dmem $(dk_rt) --network none --memory 64m --entrypoint /bin/sleep "$DK_IMG" 1000)
  unit=docker-$id.scope cg=/sys/fs/cgroup/system.slice/docker-$id.scope
  unit_show "$unit" MemoryMax MemorySwapMax
  assert_eq $MIB64 "${U[MemoryMax]}" "systemctl show -p MemoryMax $unit"
  same_as_runc MemorySwapMax "${U[MemorySwapMax]}"
  assert_eq $MIB64 "$(cat "$cg/memory.max")" "the scope's memory.max"
  same_as_runc memory.swap.max "$(cat "$cg/memory.swap.max")"
  assert_eq $MIB64 "$(dk exec sd-dmem cat /sys/fs/cgroup/memory.max)" "memory.max inside"
  dk update --memory 32m --memory-swap 64m sd-dmem >/dev/null
  unit_show "$unit" MemoryMax MemorySwapMax
  assert_eq 33554432 "${U[MemoryMax]}" "MemoryMax after docker update --memory 32m"
  same_as_runc MemorySwapMax-after-update "${U[MemorySwapMax]}"
  assert_eq 33554432 "$(cat "$cg/memory.max")" "the scope's memory.max after docker update"
  same_as_runc memory.swap.max-after-update "$(cat "$cg/memory.swap.max")"
  dk rm -f sd-dmem >/dev/null
  scope_gone "$unit" "/system.slice/$unit"
  nothing_named "$id"
}

# The runtime as docker's default: "default-runtime" in daemon.json, `systemctl reload docker`;
# then a `docker run` without --runtime (detached, and --rm with an exit status).
s_docker_default() {
  local id rc=0 out pid
  sed -i '/"default-runtime"/d; s/^{$/{\n  "default-runtime": "'"$RT"'",/' /etc/docker/daemon.json
  systemctl reload docker.service
  wait_for 20 sh -c "[ \"\$(DOCKER_CONFIG=$CL_TMP/docker-cli $DOCKER_CLI info -f '{{.DefaultRuntime}}')\" = $RT ]" ||
    fail "default runtime after reload: $(dk info -f '{{.DefaultRuntime}}') ($(cat /etc/docker/daemon.json))"
  id=$(dk run -d --name sd-default --network none --entrypoint /bin/sleep "$DK_IMG" 1000)
  read -r out pid < <(dk inspect -f '{{.HostConfig.Runtime}} {{.State.Pid}}' "$id")
  assert_eq "$RT" "$out" "the container's runtime"
  check_scope "docker-$id.scope" system.slice "/system.slice/docker-$id.scope" "$pid"
  dk rm -f sd-default >/dev/null
  scope_gone "docker-$id.scope" "/system.slice/docker-$id.scope"
  out=$(dk run --rm --network none --entrypoint /bin/sh "$DK_IMG" -c 'cat /proc/self/cgroup; exit 7' 2>&1) || rc=$?
  assert_eq "7 0::/" "$rc $out" "docker run --rm: exit status and cgroup"
  nothing_named "$id"
}

# ------------------------------------------------------------------------------------------- the run
# Two lanes in parallel (the guest has two CPUs, and most steps keep one busy): podman, and
# containerd then docker (dockerd starts meanwhile). Their lines are prefixed with the lane.
lane_podman() {
  LANE=podman ENGINE=podman
  phase "podman: load $CL_BUSYBOX_TAR"
  # The first pod builds podman's pause image (catatonit): a pod made and removed here (no runtime
  # call) keeps that out of the first run's time.
  if pm load -q -i "$CL_BUSYBOX_TAR" >/dev/null && pm pod create --name sd-warmup >/dev/null &&
    pm pod rm sd-warmup >/dev/null; then
    phase "podman: image loaded, pause image built"
    scenarios pm_cleanup "${PODMAN_SCENARIOS[@]}"
  else
    record_fail_all "podman (image load)" "podman load failed"
  fi
  if ((WANT_ROOTLESS)); then
    # Rootless podman as this host's users run it (tests/clients/podman-rootless.sh): the user's
    # systemd, --systemd-cgroup from inside podman's user namespace; its rows join the table.
    phase "rootless podman (the user's systemd)"
    local rows
    rows=$(grep -c '^podman-rootless' "$CL_RESULTS" || true)
    if ! PODMAN_ROOTLESS_SYSTEMD=1 CL_NOWRAP=$CL_NOWRAP "$REPO/tests/clients/podman-rootless.sh" "$CL_RUNTIME"; then
      # a failure before any scenario (the user's systemd, the image) has no row of its own
      if [ "$(grep -c '^podman-rootless' "$CL_RESULTS" || true)" = "$rows" ]; then
        ENGINE=podman-rootless record_fail_all "rootless podman (setup)" "podman-rootless.sh failed before its scenarios"
      fi
    fi
  fi
  phase "podman: done"
}

lane_containerd_docker() {
  LANE=containerd-docker
  if ((WANT_CTR)); then
    ENGINE=containerd
    phase "containerd: wait for containerd.service, import $CL_BUSYBOX_TAR"
    if wait_for 240 systemctl is-active -q containerd.service && ctr_ images import "$CL_BUSYBOX_TAR" >/dev/null; then
      # containerd took the CRI handlers (the cri plugin would be "error" or "skip" otherwise)
      cl_log "$(ctr plugins ls | awk '$2 == "cri" { print "containerd: plugin", $1, $2, $4 }')"
      scenarios ctr_cleanup "${CTR_SCENARIOS[@]}"
    else
      systemctl status --no-pager containerd.service >&2 || true
      record_fail_all "containerd (start, image import)" "containerd did not start or import failed"
    fi
  fi
  if ((WANT_CRI)); then
    ENGINE=cri
    phase "containerd CRI: wait for containerd.service"
    if wait_for 240 systemctl is-active -q containerd.service && wait_for 60 crictl_ info; then
      scenarios cri_cleanup "${CRI_SCENARIOS[@]}"
    else
      systemctl status --no-pager containerd.service >&2 || true
      record_fail_all "containerd CRI (start)" "containerd's CRI did not answer"
    fi
  fi
  if ((WANT_DOCKER)); then
    ENGINE=docker
    phase "docker: wait for docker.service, load $CL_NGINX_TAR"
    if wait_for 300 systemctl is-active -q docker.service && dk load -q -i "$CL_NGINX_TAR" >/dev/null; then
      cl_log "$(dk info -f 'cgroup driver {{.CgroupDriver}}, cgroup v{{.CgroupVersion}}, storage {{.Driver}}, runtimes {{range $k, $v := .Runtimes}}{{$k}} {{end}}')"
      scenarios dk_cleanup "${DOCKER_SCENARIOS[@]}"
    else
      systemctl status --no-pager docker.service containerd.service >&2 || true
      record_fail_all "docker (start, image load)" "dockerd did not start or load failed"
    fi
  fi
  phase "containerd and docker: done"
}

set +e
lanes=()
if ((WANT_PODMAN || WANT_ROOTLESS)); then
  (set -e; lane_podman) 2>&1 | sed -u 's/^/podman | /' &
  lanes+=($!)
fi
if ((WANT_CTR || WANT_CRI || WANT_DOCKER)); then
  (set -e; lane_containerd_docker) 2>&1 | sed -u 's/^/containerd-docker | /' &
  lanes+=($!)
fi
((${#lanes[@]} == 0)) || wait "${lanes[@]}"
CL_NAME=engines
phase "done"

echo "===== engines on systemd (cgroup v2): each scenario with runc, then crun-lite"
awk -F'\t' '
  { n++; e = index($1, "/") ? substr($1, 1, index($1, "/") - 1) : $1
    row[n] = sprintf("%-5s %-15s %-10s %-66s %7ss", $4, e, $2, $3, $5)
    eng[n] = e; if ($4 == "PASS") pass++; else failed++ }
  END { split("docker podman podman-rootless containerd cri", order, " ")
        for (o = 1; o <= 5; o++) for (i = 1; i <= n; i++) if (eng[i] == order[o]) print row[i]
        printf "%d passed, %d failed\n", pass, failed; exit failed > 0 || n == 0 }
' "$CL_RESULTS"
