# shellcheck shell=bash
# shellcheck disable=SC2034 # CL_RT_BASE is read by ../lib.sh
# The seed's Kubernetes pods through crictl (issue 19, item 2), sourced by run.sh once containerd
# is up, and by tests/systemd/engines.sh in the systemd guest: pods_all [HANDLER...] runs every
# scenario with each handler in turn (default: runc, then crunlite).
#   - a pod (pause) whose init container runs to completion first and writes into a volume; an
#     app and a sidecar sharing the pod's network, IPC and PID namespaces (shareProcessNamespace:
#     namespace_options.pid = POD) and that volume; crictl exec and crictl logs of the app;
#   - a runAsUser/runAsGroup/readOnlyRootFilesystem container with every capability dropped
#     (what runAsNonRoot asks for);
#   - a run-to-completion container (a Job's pod) whose exit code crictl inspect reports;
#   - the app has the pod spec's limits (64 MiB of memory, half a CPU), seen from inside;
#   - stopping and removing the pod leaves no container, shim, mount, cgroup or state file.
# With POD_SYSTEMD=1 (containerd's SystemdCgroup = true) the pod has the cgroup parent kubelet's
# systemd driver gives it (kubepods-besteffort-pod<uid>.slice): each container is the scope
# cri-containerd-<id>.scope in that slice, the app's limits are the scope's MemoryMax and
# CPUQuota, and every scope is gone once the pod is removed.

# the pod's slice, as kubelet's systemd driver names it (the uid's dashes become underscores)
pod_slice() { local uid=${1//-/_}; echo "kubepods-besteffort-pod$uid.slice"; }

# pod_json NAME DIR: a pod sandbox config; the pod's PID namespace is shared (POD = 0).
pod_json() {
	local parent=
	[ "${POD_SYSTEMD:-0}" != 1 ] || parent="\"cgroup_parent\": \"$(pod_slice "$1-uid")\","
	cat <<EOF
{ "metadata": { "name": "$1", "namespace": "crunlite-seed", "uid": "$1-uid", "attempt": 0 },
  "hostname": "$1",
  "log_directory": "$2/logs",
  "linux": { $parent "security_context": { "namespace_options": { "network": 0, "pid": 0, "ipc": 0 } } } }
EOF
}

# ctr_json NAME VOLDIR SECURITY_CONTEXT_JSON ARGV_JSON [RESOURCES_JSON]: a container config with
# the pod's volume
ctr_json() {
	local resources=${5:-}
	[ -n "$resources" ] || resources='{}'
	cat <<EOF
{ "metadata": { "name": "$1" },
  "image": { "image": "$CRI_BUSYBOX" },
  "command": $4,
  "log_path": "$1.log",
  "mounts": [ { "container_path": "/shared", "host_path": "$2" } ],
  "linux": { "security_context": $3, "resources": $resources } }
EOF
}
# the app's limits, as kubelet writes them for resources.limits {memory: 64Mi, cpu: 500m}
POD_APP_RESOURCES='{ "memory_limit_in_bytes": 67108864, "cpu_period": 100000, "cpu_quota": 50000 }'

# ctr_state ID: CONTAINER_RUNNING, CONTAINER_EXITED...
ctr_state() { crictl_ inspect -o json "$1" | jq -r .status.state; }
state_is() { [ "$(ctr_state "$1")" = "$2" ]; }
wait_state() { # ID STATE SECONDS
	wait_for "$3" state_is "$1" "$2" || fail "container $1: state $(ctr_state "$1"), expected $2"
}
# run_ctr POD NAME SC ARGV [RESOURCES]: create and start a container in POD; prints its ID.
run_ctr() {
	local id
	ctr_json "$2" "$PV" "$3" "$4" "${5:-}" >"$PD/$2.json"
	id=$(crictl_ create "$1" "$PD/$2.json" "$PD/pod.json") && [ -n "$id" ] || fail "crictl create $2 failed"
	crictl_ start "$id" >/dev/null || fail "crictl start $2 ($id) failed"
	echo "$id"
}

POD_SC_SHARED='{ "namespace_options": { "network": 0, "pid": 0, "ipc": 0 } }'

# The whole seed pod; HANDLER is the runtime handler.
s_seed_pod() {
	local h=$PODS_HANDLER pod init app side sec job out pause_pid ns_pause ns_app ns_side rc left what
	PD=$CL_TMP/pod-$h
	PV=$PD/vol
	mkdir -p "$PD/logs" "$PV"
	pod_json "seed-$h" "$PD" >"$PD/pod.json"
	crictl_ pull "$CRI_BUSYBOX" >/dev/null
	pod=$(crictl_ runp --runtime "$h" "$PD/pod.json")
	pause_pid=$(crictl_ inspectp -o json "$pod" | jq -r .info.pid)
	[ "$pause_pid" -gt 0 ] || fail "no pid for the pod sandbox"
	assert_eq /pause "$(tr '\0' ' ' <"/proc/$pause_pid/cmdline" | sed 's/ $//')" "the sandbox's process"

	# init container: must finish before the others start; leaves a file in the volume
	init=$(run_ctr "$pod" init "$POD_SC_SHARED" '["sh", "-c", "echo init-ran-first > /shared/from-init; echo init-done"]')
	wait_state "$init" CONTAINER_EXITED 30
	assert_eq 0 "$(crictl_ inspect -o json "$init" | jq -r .status.exitCode)" "init container's exit code"
	assert_eq init-ran-first "$(cat "$PV/from-init")" "the init container's file in the volume (host side)"

	# app: a process the sidecar must see (sleep 31337), a log line, the init container's file
	app=$(run_ctr "$pod" app "$POD_SC_SHARED" \
		'["sh", "-c", "echo app-started; cat /shared/from-init; echo app-was-here > /shared/from-app; exec sleep 31337"]' \
		"$POD_APP_RESOURCES")
	# sidecar: listens on the pod's loopback
	side=$(run_ctr "$pod" sidecar "$POD_SC_SHARED" '["sh", "-c", "sleep 100000 | nc -l -p 18475 > /tmp/msg"]')
	wait_state "$app" CONTAINER_RUNNING 30
	wait_state "$side" CONTAINER_RUNNING 30

	# the pod spec's limits on the app, as the app sees them (cgroup v2, else v1's files)
	out=$(crictl_ exec "$app" sh -c 'cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/cpu.max 2>/dev/null ||
		cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us')
	assert_eq "67108864 50000 100000" "$(echo $out)" "the app's memory and CPU limits, seen from inside"
	[ "${POD_SYSTEMD:-0}" != 1 ] || pod_check_scopes "seed-$h-uid" "$pod" "$pause_pid" "$app"

	# the same network, IPC and PID namespaces as the sandbox
	ns_pause="$(readlink "/proc/$pause_pid/ns/net") $(readlink "/proc/$pause_pid/ns/ipc") $(readlink "/proc/$pause_pid/ns/pid")"
	local show='echo $(readlink /proc/self/ns/net) $(readlink /proc/self/ns/ipc) $(readlink /proc/self/ns/pid)'
	ns_app=$(crictl_ exec "$app" sh -c "$show")
	ns_side=$(crictl_ exec "$side" sh -c "$show")
	assert_eq "$ns_pause" "$ns_app" "app's net/ipc/pid namespaces"
	assert_eq "$ns_pause" "$ns_side" "sidecar's net/ipc/pid namespaces"
	# shareProcessNamespace: pid 1 is the pause process, the app's sleep is visible
	out=$(crictl_ exec "$side" sh -c 'tr "\0" " " < /proc/1/cmdline; echo; for p in /proc/[0-9]*; do tr "\0" " " < $p/cmdline; echo; done')
	assert_eq "/pause " "$(printf '%s\n' "$out" | head -n 1)" "the sidecar's pid 1"
	assert_contains "$out" "sleep 31337" "the app's process seen from the sidecar"
	# the volume: the sidecar reads what the init container and the app wrote
	out=$(crictl_ exec "$side" cat /shared/from-init /shared/from-app)
	assert_eq "init-ran-first
app-was-here" "$out" "the shared volume seen from the sidecar"
	# the network: the app reaches the sidecar over the pod's 127.0.0.1
	crictl_ exec "$app" sh -c 'for i in $(seq 50); do echo hello-from-app | nc 127.0.0.1 18475 && exit 0; sleep 0.1; done; exit 1' ||
		fail "the app could not reach the sidecar on 127.0.0.1:18475"
	wait_for 10 sh -c "[ \"\$($CRICTL --config $CL_TMP/crictl.yaml exec $side cat /tmp/msg 2>/dev/null)\" = hello-from-app ]" ||
		fail "the sidecar did not receive the app's message"

	# crictl exec: output and exit status; crictl logs
	# (crictl exec exits 1 and names the command's exit code on stderr)
	rc=0
	out=$(crictl_ exec "$app" sh -c 'echo exec-as-$(id -u) in $(hostname); exit 3' 2>"$PD/exec.err") || rc=$?
	assert_eq "exec-as-0 in seed-$h" "$out" "crictl exec output"
	[ "$rc" != 0 ] || fail "crictl exec of a command that exits 3 succeeded"
	assert_contains "$(cat "$PD/exec.err")" "exit code 3" "crictl exec: the command's exit code"
	out=$(crictl_ logs "$app" 2>&1)
	assert_eq "app-started
init-ran-first" "$out" "crictl logs of the app"
	assert_contains "$(crictl_ logs "$init" 2>&1)" "init-done" "crictl logs of the init container"

	# runAsUser/runAsGroup/readOnlyRootFilesystem, every capability dropped
	sec=$(run_ctr "$pod" restricted '{ "run_as_user": { "value": 1000 }, "run_as_group": { "value": 1000 },
		"readonly_rootfs": true, "capabilities": { "drop_capabilities": ["ALL"] },
		"namespace_options": { "network": 0, "pid": 0, "ipc": 0 } }' \
		'["sh", "-c", "echo id=$(id -u):$(id -g); touch /rootfs-write 2>&1 || echo write-refused; grep -E \"^Cap(Eff|Prm|Bnd):\" /proc/self/status"]')
	wait_state "$sec" CONTAINER_EXITED 30
	out=$(crictl_ logs "$sec" 2>&1)
	assert_contains "$out" "id=1000:1000" "runAsUser/runAsGroup"
	assert_contains "$out" "Read-only file system" "a write to / with readOnlyRootFilesystem"
	assert_contains "$out" "write-refused" "a write to / with readOnlyRootFilesystem"
	assert_contains "$out" "CapEff:	0000000000000000" "CapEff with every capability dropped"
	assert_contains "$out" "CapBnd:	0000000000000000" "the bounding set with every capability dropped"

	# a run-to-completion container (a Job's): its exit code, reported by crictl inspect
	job=$(run_ctr "$pod" job "$POD_SC_SHARED" '["sh", "-c", "echo job-ran; exit 42"]')
	wait_state "$job" CONTAINER_EXITED 30
	assert_eq 42 "$(crictl_ inspect -o json "$job" | jq -r .status.exitCode)" "the job's exit code"
	assert_contains "$(crictl_ logs "$job" 2>&1)" "job-ran" "the job's log"

	# stop and remove: nothing left. While the pod runs, the same search finds each kind of
	# thing (so that finding none afterwards means something).
	left=$(cri_left_of "$pod" "$app")
	for what in "shim: " "mount: " "cgroup: " "state: "; do
		assert_contains "$left" "$what" "what a running pod has"
	done
	crictl_ stopp "$pod" >/dev/null
	crictl_ rmp "$pod" >/dev/null
	[ -z "$(crictl_ ps -a -q --pod "$pod" 2>/dev/null)" ] || fail "containers left in pod $pod"
	cl_listed "$pod" crictl_ pods -q && fail "pod $pod still listed"
	wait_for 10 sh -c "! pgrep -f -- '-id $pod( |\$)' >/dev/null" || true
	[ "${POD_SYSTEMD:-0}" != 1 ] || pod_check_scopes_gone "seed-$h-uid" "$pod" "$init" "$app" "$side" "$sec" "$job"
	left=$(cri_left_of "$pod" "$init" "$app" "$side" "$sec" "$job")
	[ -z "$left" ] || fail "left after the pod was removed: $left"
}

# systemctl show UNIT PROPERTY: one property's value
unit_prop() { systemctl show --property="$2" --value "$1"; }

# pod_check_scopes UID POD PAUSE_PID APP: the sandbox and the app are active transient scopes
# cri-containerd-<id>.scope in the pod's slice, which lies where kubelet's systemd driver puts it
# (kubepods.slice/kubepods-besteffort.slice/...); each holds its process; the app's scope carries
# the pod spec's limits as unit properties and in its cgroup files.
pod_check_scopes() {
	local uid=$1 pod=$2 pause_pid=$3 app=$4 slice unit id pid cg
	slice=$(pod_slice "$uid")
	for id in "$pod" "$app"; do
		unit=cri-containerd-$id.scope
		cg=/kubepods.slice/kubepods-besteffort.slice/$slice/$unit
		pid=$pause_pid
		[ "$id" = "$pod" ] || pid=$(crictl_ inspect -o json "$app" | jq -r .info.pid)
		assert_eq "active yes $slice $cg" \
			"$(unit_prop "$unit" ActiveState) $(unit_prop "$unit" Transient) $(unit_prop "$unit" Slice) $(unit_prop "$unit" ControlGroup)" \
			"$unit: state, transient, slice, cgroup"
		assert_eq "0::$cg" "$(cat "/proc/$pid/cgroup")" "the cgroup of $unit's process"
	done
	unit=cri-containerd-$app.scope
	assert_eq "67108864 500ms" "$(unit_prop "$unit" MemoryMax) $(unit_prop "$unit" CPUQuotaPerSecUSec)" \
		"$unit: MemoryMax and CPUQuota from the pod spec"
	assert_eq "67108864 50000 100000" "$(cat "/sys/fs/cgroup$cg/memory.max" "/sys/fs/cgroup$cg/cpu.max" | tr '\n' ' ' | sed 's/ $//')" \
		"$unit's memory.max and cpu.max"
}

# pod_check_scopes_gone UID ID...: no unit of the containers is left (systemd forgot each scope);
# then the pod's slice is stopped as kubelet stops it once the pod is gone, and no unit or cgroup
# named after the pod is left.
pod_check_scopes_gone() {
	local slice id units
	slice=$(pod_slice "$1")
	shift
	for id in "$@"; do
		wait_for 30 sh -c "[ \"\$(systemctl show --property=LoadState --value cri-containerd-$id.scope)\" = not-found ]" ||
			fail "cri-containerd-$id.scope still known to systemd: $(unit_prop "cri-containerd-$id.scope" ActiveState)"
	done
	systemctl stop "$slice"
	units=$(systemctl list-units --all --plain --no-legend --full "*$slice*" "cri-containerd-*")
	[ -z "$units" ] || fail "units left after the pod and its slice were removed: $units"
	[ ! -e "/sys/fs/cgroup/kubepods.slice/kubepods-besteffort.slice/$slice" ] || fail "the pod's slice cgroup is left"
}

pods_all() {
	local h
	(($#)) || set -- runc crunlite
	for h; do
		PODS_HANDLER=$h
		CL_RT_BASE=$h
		cl_scenario "crictl seed pod (init, app, sidecar, restricted, job)" s_seed_pod
	done
}
