#!/usr/bin/env bash
# -DCRUNLITE_STATIC=ON: a fully static crun-lite (libseccomp.a, libcap.a, static libstdc++ and
# glibc) built in its own build directory, without glibc's static-NSS link warnings, that runs a
# container from a root holding nothing but itself, /etc/passwd and the bundle.
# Usage: check-static.sh BUILD_DIR   (as root; the static build goes to BUILD_DIR/static)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
repo=$(cd "$here/../.." && pwd)
build=$(realpath "$1")/static
make_work_dir static

if file "$(realpath "$1")/crun-lite" | grep -q "statically linked"; then
    # The default build is static already (CRUNLITE_STATIC defaults to ON): check that binary.
    binary=$(realpath "$1")/crun-lite
else
    start=$SECONDS
    cmake -S "$repo" -B "$build" -DCRUNLITE_STATIC=ON -DBUILD_TESTING=OFF -DCMAKE_BUILD_TYPE=Release >"$work/configure.log" 2>&1 ||
        { cat "$work/configure.log"; fail "configure"; }
    rm -f "$build/crun-lite"  # relink, so the linker's warnings are seen on every run
    cmake --build "$build" --target crun-lite -j"$(nproc)" >"$work/build.log" 2>&1 || { tail -30 "$work/build.log"; fail "build"; }
    echo "static build in $((SECONDS - start))s"
    binary=$build/crun-lite
fi
# glibc's NSS functions (getpwnam and the like) need the shared libraries of the glibc they
# were linked with at run time: crun-lite's own code must not call them. libdbus-1.a (the
# systemd cgroup driver's D-Bus library) brings three in, for what crun-lite never asks of it:
# user names in bus addresses and the DBUS_COOKIE_SHA1 login (getpwnam_r, getpwuid_r), tcp:
# addresses (getaddrinfo); crun-lite connects to unix sockets and authenticates with EXTERNAL,
# the uid as a number. The link map says which object pulled each one in: any other fails.
nss='getpw(nam|uid|ent)(_r)?|getgr(nam|gid|ent)(_r)?|getspnam(_r)?|gethostbyname2?(_r)?|getaddrinfo'
# (nm's whole output read, not `| grep -q`: under pipefail grep's early exit would kill nm with
# SIGPIPE and the test could never see a match)
if [[ -n $(nm "$binary" 2>/dev/null | grep -E " [TW] ($nss)$" || true) ]]; then
    map=$(dirname "$binary")/crun-lite.map
    [[ -f $map ]] || fail "the static binary holds NSS functions of glibc, and there is no link map ($map) to say why"
    # In the map's "Archive member included to satisfy reference by file (symbol)" section, a
    # member line is followed by the file that referred to it and the symbol.
    callers=$(grep -E "\(($nss)\)$" "$map" | grep -vE "/libdbus-1\.a\(|/libc\.a\(" || true)
    if [[ -n $callers ]]; then
        echo "$callers"
        fail "the static binary calls NSS functions of glibc"
    fi
    grep -qE "\(($nss)\)$" "$map" || fail "NSS functions in the static binary, but the link map does not say who wanted them"
fi
file "$binary"
file "$binary" | grep -q "statically linked" || fail "file does not say statically linked"
ldd_out=$(ldd "$binary" 2>&1 || true)
echo "ldd: $ldd_out"
grep -q "not a dynamic executable" <<<"$ldd_out" || fail "ldd finds a dynamic executable"
"$binary" --version | tail -1 | grep -q "+STATIC" || fail "--version does not say +STATIC"

# The root: the binary, a passwd file for list's OWNER, and a busybox bundle.
root=$work/root
mkdir -p "$root/sbin" "$root/etc"
cp "$binary" "$root/sbin/crun-lite"
echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
busybox_bundle "$root/bundle" "$binary" "hello from the static build" 3
echo "the root holds $(cd "$root" && find . -type f | wc -l) files: $(cd "$root" && find . -type f | tr '\n' ' ')"

unshare --mount --propagation private bash -euo pipefail -c '
    source "$1/lib.sh"
    root=$2
    in_chroot_mounts "$root"
    c() { chroot "$root" /sbin/crun-lite "$@"; }
    c create --bundle /bundle static-check
    c list | tee /dev/stderr | grep -E "^static-check +[0-9]+ +created +/bundle .* root\$" >/dev/null ||
        { echo "FAIL: list does not show the created container owned by root"; exit 1; }
    c delete static-check
    set +e
    c run --bundle /bundle static-run >"$root/run.out" 2>&1
    rc=$?
    set -e
    cat "$root/run.out"
    grep -q "^hello from the static build$" "$root/run.out" || { echo "FAIL: no output from the container"; exit 1; }
    [ $rc -eq 3 ] || { echo "FAIL: run exited $rc, not the container status 3"; exit 1; }
' bash "$here" "$root" || fail "in the minimal root"
echo "ok: the static crun-lite ran a container in a root with no shared libraries"
