# shellcheck shell=bash
# shellcheck disable=SC2034 # CRI_* and the cl_* state are read by run.sh, pods.sh, tests/bench/cri-pods.sh and ../lib.sh
# The Kubernetes node path for the CRI stage (issue 19): kubelet's CRI -> containerd's CRI plugin
# -> containerd-shim-runc-v2 -> the runtime, with everything private to one run:
#
#   source tests/clients/cri/lib.sh        (after tests/clients/lib.sh's cl_init)
#   cri_images                             # the test images (OCI layout, cached)
#   cri_registry_start                     # docker-registry on 127.0.0.1:5000, images pushed
#   cri_containerd_start RUNC CRUNLITE     # containerd: CRI plugin, handlers runc and crunlite
#   crictl_ ...                            # crictl against that containerd
#
# Nothing here talks to anything but 127.0.0.1: every image name resolves to the local registry
# (containerd's hosts directory has only _default/hosts.toml -> http://127.0.0.1:5000), the pods'
# CNI network is loopback plus a plugin that only reports 127.0.0.1 as eth0, and the CRI
# streaming server listens on 127.0.0.1.
#
# Environment:
#   CRITEST, CRICTL       the cri-tools binaries (default ../shared/tools/cri/ beside the repository)
#   CRI_IMAGE_CACHE       built images and the registry storage (default /var/tmp/crun-lite-cri-images)
#   CRI_REGISTRY_PORT     default 5000 (127.0.0.1 only)

CRI_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CRI_REPO=$(cd "$CRI_DIR/../../.." && pwd)
CRI_IMAGE_CACHE=${CRI_IMAGE_CACHE:-/var/tmp/crun-lite-cri-images}
CRI_REGISTRY_PORT=${CRI_REGISTRY_PORT:-5000}
CRI_REG=127.0.0.1:$CRI_REGISTRY_PORT
CRITEST=${CRITEST:-$CRI_REPO/../shared/tools/cri/critest}
CRICTL=${CRICTL:-$CRI_REPO/../shared/tools/cri/crictl}
# the sandbox (pause) image: the local stand-in, named as containerd 1.6's default
CRI_PAUSE_IMAGE=registry.k8s.io/pause:3.6
CRI_BUSYBOX=registry.k8s.io/e2e-test-images/busybox:1.29-2

cri_tools_check() {
	local t
	for t in "$CRITEST" "$CRICTL"; do
		[ -x "$t" ] || { echo "$t not found: set CRITEST/CRICTL (cri-tools v1.32) or provide ../shared/tools/cri/" >&2; exit 2; }
	done
}

# ---------------------------------------------------------------------------------------------
# Images. One base rootfs: Debian's *dynamic* busybox with its libraries and hard-linked applets
# (the static busybox's shell runs applets in-process, so /bin/ls masked by the runtime would
# prove nothing in critest's MaskedPaths spec), /etc/passwd and /etc/group with the users the
# specs name, and the small programs of images/ (ipcs, pgrep: busybox has neither). Each image
# critest pulls is the base plus what its upstream Dockerfile adds (cri-tools images/, the
# Kubernetes e2e images), all in one OCI layout so the base layer is shared.
# ---------------------------------------------------------------------------------------------

# name in the registry <TAB> tag in the layout
cri_image_list() {
	cat <<'EOF'
registry.k8s.io/pause:3.6	pause
registry.k8s.io/e2e-test-images/busybox:1.29-2	busybox
registry.k8s.io/e2e-test-images/nginx:1.14-2	nginx
registry.k8s.io/e2e-test-images/httpd:2.4.39-4	httpd
registry.k8s.io/e2e-test-images/nonewprivs:1.3	nonewprivs
gcr.io/k8s-staging-cri-tools/test-image-1:latest	test-image-1
gcr.io/k8s-staging-cri-tools/test-image-2:latest	test-image-2
gcr.io/k8s-staging-cri-tools/test-image-3:latest	test-image-3
gcr.io/k8s-staging-cri-tools/test-image-latest:latest	test-image-latest
gcr.io/k8s-staging-cri-tools/test-image-tags:1	test-image-tags
gcr.io/k8s-staging-cri-tools/test-image-tags:2	test-image-tags
gcr.io/k8s-staging-cri-tools/test-image-tags:3	test-image-tags
gcr.io/k8s-staging-cri-tools/test-image-tag:test	test-image-tag-test
gcr.io/k8s-staging-cri-tools/test-image-tag:all	test-image-tag-all
gcr.io/k8s-staging-cri-tools/test-image-user-uid:latest	user-uid
gcr.io/k8s-staging-cri-tools/test-image-user-username:latest	user-username
gcr.io/k8s-staging-cri-tools/test-image-user-uid-group:latest	user-uid-group
gcr.io/k8s-staging-cri-tools/test-image-user-username-group:latest	user-username-group
gcr.io/k8s-staging-cri-tools/test-image-predefined-group:latest	predefined-group
EOF
}

cri_stamp() {
	# the recipe: the functions that build the images, the programs, the Debian packages used
	(declare -f cri_image_list cri_build_images cri_new_image cri_repack cri_variant cri_base_rootfs
		cat "$CRI_DIR"/images/*; apt-cache policy busybox libc6 2>/dev/null | grep -E '^[a-z]|Candidate') |
		sha256sum | cut -c1-16
}

# cri_images: sets CRI_LAYOUT (an OCI layout holding every tag of cri_image_list) and CRI_STORE
# (the registry's storage, every image pushed), building and pushing what is missing. One process at
# a time (a lock in the cache): the host's CRI stage and the systemd guest's host side may run
# side by side under `ctest -j2`.
cri_images() {
	local lock rc
	cl_need_pkgs umoci skopeo gcc libc6-dev docker-registry curl
	mkdir -p "$CRI_IMAGE_CACHE"
	exec {lock}>"$CRI_IMAGE_CACHE/.lock"
	flock "$lock"
	cri_build_images && cri_push_images
	rc=$?
	exec {lock}>&-
	return $rc
}

cri_build_images() {
	local stamp
	stamp=$(cri_stamp)
	CRI_LAYOUT=$CRI_IMAGE_CACHE/oci-$stamp
	CRI_STORE=$CRI_IMAGE_CACHE/registry-$stamp
	if [ -f "$CRI_LAYOUT/.complete" ]; then return 0; fi
	rm -rf "$CRI_IMAGE_CACHE"/oci-* "$CRI_IMAGE_CACHE"/registry-*
	cl_log "building the CRI test images in $CRI_LAYOUT"
	(
		set -euo pipefail
		w=$(mktemp -d /tmp/cri-img.XXXXXX)
		trap 'rm -rf "$w"' EXIT
		L=$CRI_LAYOUT.tmp
		rm -rf "$L"
		# Debian's dynamic busybox, unpacked (installing it would replace busybox-static, which
		# other tests use)
		mkdir -p "$w/deb" "$w/x"
		(cd "$w/deb" && cl_apt download busybox >/dev/null 2>&1) ||
			(cl_apt update >/dev/null && cd "$w/deb" && cl_apt download busybox >/dev/null 2>&1)
		dpkg-deb -x "$w"/deb/busybox_*.deb "$w/x"
		for p in pause nginx nnp ipcs pgrep; do
			gcc -O2 -Wall -o "$w/$p" "$CRI_DIR/images/$p.c"
		done
		gcc -O2 -static -o "$w/pause" "$CRI_DIR/images/pause.c"
		umoci init --layout "$L"
		# the pause image: the static program alone
		cri_new_image "$L" pause "$w/b"
		cp "$w/pause" "$w/b/rootfs/pause"
		cri_repack "$L" pause "$w/b" --config.entrypoint /pause
		# base
		cri_new_image "$L" base "$w/b"
		cri_base_rootfs "$w/b/rootfs" "$w"
		cri_repack "$L" base "$w/b" --config.cmd sh
		cri_variant "$L" base busybox "$w/b" -- --config.cmd sh
		# nginx: the stand-in master process
		cri_variant "$L" base nginx "$w/b" 'install -D -m 755 "$1/nginx" "$2/usr/sbin/nginx"; mkdir -p "$2/var/run"' \
			-- --config.cmd nginx --config.cmd=-g --config.cmd='daemon off;' --config.stopsignal SIGQUIT
		# httpd: says what httpd logs at start (critest's multi-container log spec looks for it),
		# then serves busybox httpd on the pod's loopback
		cri_variant "$L" base httpd "$w/b" 'mkdir -p "$2/usr/local/apache2/htdocs"
			echo "<html><body><h1>It works!</h1></body></html>" >"$2/usr/local/apache2/htdocs/index.html"
			install -D -m 755 "$3/httpd-foreground" "$2/usr/local/bin/httpd-foreground"' -- --config.cmd httpd-foreground
		# nonewprivs: a setuid-root program that prints its effective uid
		cri_variant "$L" base nonewprivs "$w/b" 'install -D -m 4755 "$1/nnp" "$2/usr/local/bin/nnp"' \
			-- --config.entrypoint /usr/local/bin/nnp
		# cri-tools' test images: a file named after the image (different images), one image
		# under three tags, users by uid and name with and without a group
		local t
		for t in test-image-1 test-image-2 test-image-3 test-image-latest; do
			cri_variant "$L" base "$t" "$w/b" 'touch "$2/'"$t"'"' --
		done
		cri_variant "$L" base test-image-tags "$w/b" 'touch "$2/same-image"' --
		cri_variant "$L" base test-image-tag-test "$w/b" 'touch "$2/test"' --
		cri_variant "$L" base test-image-tag-all "$w/b" 'touch "$2/all"' --
		cri_variant "$L" base user-uid "$w/b" : -- --config.user 1002
		cri_variant "$L" base user-username "$w/b" : -- --config.user www-data
		cri_variant "$L" base user-uid-group "$w/b" : -- --config.user 1003:1004
		cri_variant "$L" base user-username-group "$w/b" : -- --config.user www-data:1004
		cri_variant "$L" base predefined-group "$w/b" \
			'echo "default-user:x:1000:1000::/home/default-user:/bin/sh" >>"$2/etc/passwd"
			 echo "default-user:x:1000:" >>"$2/etc/group"
			 echo "group-defined-in-image:x:50000:default-user" >>"$2/etc/group"
			 mkdir -p "$2/home/default-user"' -- --config.user 1000
		umoci gc --layout "$L"
		touch "$L/.complete"
		mv "$L" "$CRI_LAYOUT"
	)
}

# cri_new_image LAYOUT TAG BUNDLE: an empty image TAG, unpacked into BUNDLE.
cri_new_image() {
	rm -rf "$3"
	umoci new --image "$1:$2"
	umoci unpack --image "$1:$2" "$3" >/dev/null
}
# cri_repack LAYOUT TAG BUNDLE [umoci config args]: BUNDLE's rootfs as TAG, with its config.
cri_repack() {
	local l=$1 tag=$2 b=$3
	shift 3
	umoci repack --image "$l:$tag" "$b" >/dev/null
	umoci config --image "$l:$tag" --os linux --architecture amd64 \
		--config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		--history.created_by "crun-lite tests/clients/cri" "$@"
	rm -rf "$b"
}
# cri_variant LAYOUT FROM TAG BUNDLE SCRIPT -- [umoci config args]: FROM plus what SCRIPT adds
# (run by sh with $1 = the programs' directory, $2 = the rootfs, $3 = images/).
cri_variant() {
	local l=$1 from=$2 tag=$3 b=$4 script=${5:-:}
	shift 5
	[ "${1:-}" = -- ] && shift
	rm -rf "$b"
	umoci unpack --image "$l:$from" "$b" >/dev/null
	sh -ec "$script" sh "$(dirname "$b")" "$b/rootfs" "$CRI_DIR/images"
	# a new tag from FROM's manifest, then the new layer and config on it
	umoci tag --image "$l:$from" "$tag"
	cri_repack "$l" "$tag" "$b" "$@"
}

# cri_base_rootfs ROOTFS WORKDIR: the dynamic busybox (from WORKDIR/x), its libraries, the
# applets as hard links, the users and groups critest's specs use, the programs (WORKDIR/*).
cri_base_rootfs() {
	local r=$1 w=$2 lib a
	mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,run,var/tmp,home}
	chmod 1777 "$r/tmp" "$r/var/tmp"
	ln -s ../run "$r/var/run"
	cp "$w/x/bin/busybox" "$r/bin/busybox"
	ldd "$r/bin/busybox" | awk '/=>/ { print $3 } !/=>/ && $1 ~ /^\// { print $1 }' | while read -r lib; do
		[ -e "$lib" ] || { echo "busybox needs $lib, missing here" >&2; exit 1; }
		mkdir -p "$r$(dirname "$lib")"
		cp -L "$lib" "$r$lib"
	done
	[ -e "$r/lib64" ] || { [ -d "$r/usr/lib64" ] && ln -s usr/lib64 "$r/lib64"; } || true
	for a in $("$r/bin/busybox" --list); do
		[ -e "$r/bin/$a" ] || ln "$r/bin/busybox" "$r/bin/$a"
	done
	install -m 755 "$w/ipcs" "$r/usr/bin/ipcs"
	install -m 755 "$w/pgrep" "$r/usr/bin/pgrep"
	cat >"$r/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
	cat >"$r/etc/group" <<'EOF'
root:x:0:
daemon:x:1:
www-data:x:33:
users:x:100:
nogroup:x:65534:
EOF
	: >"$r/etc/hosts"
	: >"$r/etc/resolv.conf"
}

# ---------------------------------------------------------------------------------------------
# The registry: Debian's docker-registry on 127.0.0.1 only, its storage kept in the image cache
# (CRI_STORE = CRI_IMAGE_CACHE/registry-<stamp>): pushed once by cri_images, through a registry of
# its own on a free port, then served as is by each run's registry on CRI_REG (the host's CRI stage,
# the benchmark, the systemd guest).
# ---------------------------------------------------------------------------------------------
# cri_registry_yml DIR ADDR: a registry configuration serving CRI_STORE on ADDR, written in DIR
cri_registry_yml() {
	cat >"$1/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $CRI_STORE
  delete:
    enabled: true
http:
  addr: $2
EOF
}

cri_push_images() {
	[ ! -f "$CRI_STORE/.complete" ] || return 0
	(
		set -euo pipefail
		local w port=5001 pid name tag
		w=$(mktemp -d /tmp/cri-push.XXXXXX)
		while ! cl_port_free "$port"; do port=$((port + 1)); done
		rm -rf "$CRI_STORE"
		mkdir -p "$CRI_STORE"
		cri_registry_yml "$w" "127.0.0.1:$port"
		docker-registry serve "$w/registry.yml" >"$w/registry.log" 2>&1 &
		pid=$!
		trap 'cl_stop_pid "$pid"; rm -rf "$w"' EXIT
		wait_for 20 curl -sf "http://127.0.0.1:$port/v2/" || { tail -n 20 "$w/registry.log" >&2; fail "the registry did not start"; }
		cl_log "pushing the CRI test images to $CRI_STORE"
		while IFS=$'\t' read -r name tag; do
			# the registry host is dropped: containerd asks 127.0.0.1:5000 for the repository path
			skopeo copy --quiet --dest-tls-verify=false "oci:$CRI_LAYOUT:$tag" "docker://127.0.0.1:$port/${name#*/}"
		done < <(cri_image_list)
		touch "$CRI_STORE/.complete"
	)
}

# cri_registry_start: the registry on CRI_REG serving CRI_STORE (cri_images made it), stopped by
# the teardown.
cri_registry_start() {
	[ -f "$CRI_STORE/.complete" ] || fail "no complete registry storage at $CRI_STORE (cri_images makes it)"
	cl_port_free "$CRI_REGISTRY_PORT" || fail "127.0.0.1:$CRI_REGISTRY_PORT is in use (CRI_REGISTRY_PORT)"
	cri_registry_yml "$CL_TMP" "$CRI_REG"
	docker-registry serve "$CL_TMP/registry.yml" >"$CL_TMP/registry.log" 2>&1 &
	CRI_REGISTRY_PID=$!
	cl_defer 'cl_stop_pid "${CRI_REGISTRY_PID:-}"'
	wait_for 20 curl -sf "http://$CRI_REG/v2/" || { tail -n 20 "$CL_TMP/registry.log" >&2; fail "the registry did not start"; }
}

# ---------------------------------------------------------------------------------------------
# containerd with the CRI plugin: own config, root, state, socket, CNI and hosts directories
# under CL_TMP; handlers `runc` and `crunlite`, each with its own runtime root (its state files).
# ---------------------------------------------------------------------------------------------
cri_containerd_start() {
	local runc=$1 crunlite=$2 T=$CL_TMP
	CRI_SOCK=$T/containerd.sock
	CRI_ROOT=$T/root
	CRI_STATE=$T/state
	CRI_RT_ROOT=$T/rt
	mkdir -p "$T/cni/bin" "$T/cni/net.d" "$T/hosts/_default" "$CRI_RT_ROOT"
	# CNI: containerd adds a loopback network of its own (the `loopback` plugin); the one
	# configured network is the chained plugin that reports 127.0.0.1 under eth0.
	ln -sf /usr/lib/cni/loopback "$T/cni/bin/loopback"
	install -m 755 "$CRI_DIR/cni-loopback-eth0" "$T/cni/bin/cni-loopback-eth0"
	cat >"$T/cni/net.d/10-crunlite.conflist" <<'EOF'
{ "cniVersion": "0.4.0", "name": "crunlite-loopback",
  "plugins": [ { "type": "cni-loopback-eth0" } ] }
EOF
	# every registry host resolves to the local registry, with no fallback to the real host
	cat >"$T/hosts/_default/hosts.toml" <<EOF
server = "http://$CRI_REG"
[host."http://$CRI_REG"]
  capabilities = ["pull", "resolve"]
EOF
	cat >"$T/config.toml" <<EOF
version = 2
root = "$CRI_ROOT"
state = "$CRI_STATE"
[grpc]
  address = "$CRI_SOCK"
[ttrpc]
  address = "$CRI_SOCK.ttrpc"
[debug]
  address = "$T/debug.sock"
  level = "info"
[plugins."io.containerd.internal.v1.opt"]
  path = "$T/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$CRI_PAUSE_IMAGE"
  # root lacks CAP_SYS_RESOURCE here: the sandbox's oom_score_adj -998 would be refused
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
$(cri_handler_toml runc "$runc")
$(cri_handler_toml crunlite "$crunlite")
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$T/cni/bin"
    conf_dir = "$T/cni/net.d"
    max_conf_num = 1
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$T/hosts"
EOF
	# Teardown, in reverse order: pods (their shims stop with them), then containerd, then any
	# shim of this containerd left over, then mounts under T and the cgroup parent if ours.
	CRI_CG_PARENT_EXISTED=$(cri_cg_parents)
	cl_defer 'cri_cg_cleanup'
	cl_defer 'cl_umount_under "$CL_TMP"'
	cl_defer 'for p in $(pgrep -f -- "-address $CRI_SOCK( |$)" || true); do cl_stop_pid "$p"; done'
	cl_defer 'cl_stop_pid "${CRI_CTRD_PID:-}"'
	cl_defer 'cri_remove_all_pods'
	printf 'runtime-endpoint: unix://%s\nimage-endpoint: unix://%s\ntimeout: 120\n' "$CRI_SOCK" "$CRI_SOCK" >"$T/crictl.yaml"
	cl_log "starting containerd with the CRI plugin ($T/config.toml)"
	containerd --config "$T/config.toml" >"$T/containerd.log" 2>&1 &
	CRI_CTRD_PID=$!
	wait_for 30 crictl_ info || { tail -n 30 "$T/containerd.log" >&2; fail "containerd's CRI did not start"; }
}

# cri_handler_toml NAME BINARY: a runtime handler of the runc v2 shim, its state in CRI_RT_ROOT/NAME
cri_handler_toml() {
	cat <<EOF
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.$1]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.$1.options]
        BinaryName = "$2"
        Root = "$CRI_RT_ROOT/$1"
        SystemdCgroup = false
EOF
}

crictl_() { "$CRICTL" --config "$CL_TMP/crictl.yaml" "$@"; }

cri_remove_all_pods() {
	local p
	for p in $(crictl_ pods -q 2>/dev/null); do crictl_ stopp "$p" >/dev/null 2>&1; crictl_ rmp -f "$p" >/dev/null 2>&1; done
}

# The cgroup parent the CRI plugin gives pods without one (cgroupfs driver): /k8s.io.
cri_cg_parents() { ls -d /sys/fs/cgroup/*/k8s.io /sys/fs/cgroup/k8s.io 2>/dev/null || true; }
cri_cg_cleanup() {
	local d
	for d in $(cri_cg_parents); do
		case " $CRI_CG_PARENT_EXISTED " in *" $d "*) continue ;; esac
		rmdir "$d" 2>/dev/null || cl_log "cgroup $d left: not empty"
	done
}

# cri_left_of ID...: what is left of containers or sandboxes: a shim, a mount, a cgroup, a state
# file of either runtime root. Prints one line per thing found.
cri_left_of() {
	local id
	for id in "$@"; do
		pgrep -af -- "-id $id( |$)" | sed 's/^/shim: /' || true
		grep -F "$id" /proc/self/mountinfo | awk '{ print "mount: " $5 }' || true
		find /sys/fs/cgroup -maxdepth 4 -type d -name "*$id*" 2>/dev/null | sed 's/^/cgroup: /' || true
		find "$CRI_RT_ROOT" -maxdepth 3 -name "$id" 2>/dev/null | sed 's/^/state: /' || true
	done
}
