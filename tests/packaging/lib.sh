# Shared by the packaging checks: a clean Debian 12 root from debootstrap (cached as a tarball, so
# only the first run downloads it), and mounts for running crun-lite in a chroot.

cache_dir=${CRUNLITE_CACHE:-/var/cache/crun-lite-tests}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

# debian_root DIR: unpack a minimal Debian 12 (debootstrap --variant=minbase) into DIR.
debian_root() {
    local dir=$1 tarball=$cache_dir/bookworm-minbase.tar.zst
    mkdir -p "$cache_dir" "$dir"
    if [ ! -s "$tarball" ]; then
        local fresh start=$SECONDS
        fresh=$(mktemp -d "$cache_dir/debootstrap.XXXXXX")
        echo "debootstrap bookworm from $mirror into $fresh (first run only)"
        debootstrap --variant=minbase bookworm "$fresh" "$mirror" >"$cache_dir/debootstrap.log" 2>&1 ||
            { tail -20 "$cache_dir/debootstrap.log"; rm -rf "$fresh"; return 1; }
        rm -rf "$fresh"/var/cache/apt/archives/*.deb
        chmod 755 "$fresh"
        tar --numeric-owner -C "$fresh" -I 'zstd -T0 -3' -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
        rm -rf "$fresh"
        echo "debootstrap and cache: $((SECONDS - start))s"
    fi
    tar --numeric-owner -C "$dir" -I zstd -xf "$tarball"
    chmod 755 "$dir"  # its / (apt's _apt user walks it)
}

# in_chroot_mounts DIR: what crun-lite needs from the host inside a chroot at DIR. Call it in a
# private mount namespace (unshare -m --propagation private) so every mount goes away with it.
in_chroot_mounts() {
    local dir=$1
    mount --bind "$dir" "$dir"  # pivot_root needs the caller's root to be a mount point
    mkdir -p "$dir/proc" "$dir/sys" "$dir/dev" "$dir/run" "$dir/tmp"
    mount -t proc proc "$dir/proc"
    mount --rbind /sys "$dir/sys"
    mount --rbind /dev "$dir/dev"
    mount -t tmpfs -o mode=755 tmpfs "$dir/run"
}

# shellcheck source-path=SCRIPTDIR source=../lib/make-bundle.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/make-bundle.sh"

# busybox_bundle DIR RUNTIME MESSAGE STATUS: a bundle whose rootfs is Debian's busybox-static and
# whose config (`RUNTIME spec`, no terminal) prints MESSAGE and exits STATUS.
busybox_bundle() {
    local dir=$1 runtime=$2 message=$3 status=$4
    busybox_rootfs "$dir/rootfs" sh echo cat id
    (cd "$dir" && "$runtime" spec)
    bundle_args --no-terminal "$dir/config.json" sh -c "echo $message; exit $status"
}

# A scratch directory under /var/tmp removed at exit, unless mounts are still under it (the
# chroot mounts live in a private mount namespace: never remove through one). Sets $work.
make_work_dir() {
    work=$(mktemp -d "/var/tmp/crun-lite-$1.XXXXXX")
    trap 'if findmnt -rn -o TARGET | grep -q "^$work"; then echo "mounts left under $work, not removing it" >&2; else rm -rf --one-file-system "$work"; fi' EXIT
}
fail() { echo "FAIL: $*" >&2; exit 1; }
