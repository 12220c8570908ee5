#!/usr/bin/env bash
# The .deb from `cpack -G DEB`: its control fields and Depends (by dpkg-shlibdeps), then installed
# with apt into a clean Debian 12 (debootstrap, cached under /var/cache/crun-lite-tests after the
# first run) where it runs a busybox container and `man crun-lite` shows its page.
# Usage: check-deb.sh BUILD_DIR   (as root; BUILD_DIR already built)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
build=$(realpath "$1")
make_work_dir deb

start=$SECONDS
cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/pkg" >"$work/cpack.log" 2>&1 || { cat "$work/cpack.log"; fail "cpack"; }
deb=$(ls "$work"/pkg/crun-lite_*.deb)
echo "built $(basename "$deb") ($(du -k "$deb" | cut -f1) kB) in $((SECONDS - start))s"
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
if file "$build/crun-lite" | grep -q "statically linked"; then
    # The static default build needs no shared library: Depends must not claim any.
    for lib in libc6 libcap2 libseccomp2 libstdc++6; do
        ! tr ',' '\n' <<<"$depends" | sed 's/(.*//; s/ //g' | grep -qxF "$lib" || fail "Depends has $lib for a static binary"
    done
else
    for lib in libc6 libcap2 libseccomp2 libstdc++6; do
        tr ',' '\n' <<<"$depends" | sed 's/(.*//; s/ //g' | grep -qxF "$lib" || fail "Depends lacks $lib"
    done
fi
[ "$(dpkg-deb -f "$deb" Section)" = admin ] || fail "Section is not admin"
[ -n "$(dpkg-deb -f "$deb" Maintainer)" ] || fail "no Maintainer"
contents=$(dpkg-deb -c "$deb")
for path in ./usr/sbin/crun-lite ./usr/share/man/man8/crun-lite.8.gz ./usr/share/man/man8/crun-lite-run.8.gz \
    ./usr/share/bash-completion/completions/crun-lite ./usr/share/doc/crun-lite/copyright; do
    grep -q " $path\$" <<<"$contents" || fail "the package has no $path"
done
# The packaged binary is stripped (CPACK_STRIP_FILES).
dpkg-deb -x "$deb" "$work/extract"
sections=$(readelf -S -W "$work/extract/usr/sbin/crun-lite") || fail "readelf -S of the packaged binary"
! grep -qE ' \.(symtab|debug_info) ' <<<"$sections" || fail "the packaged binary is not stripped"
echo "the packaged binary is stripped: $(stat -c %s "$work/extract/usr/sbin/crun-lite") bytes (built: $(stat -c %s "$build/crun-lite"))"

start=$SECONDS
debian_root "$work/root"
echo "clean Debian 12 root ready in $((SECONDS - start))s"
cp "$deb" "$work/root/tmp/crun-lite.deb"
cp /etc/resolv.conf "$work/root/etc/resolv.conf"
busybox_bundle "$work/root/tmp/bundle" "$build/crun-lite" "hello from the deb" 3

start=$SECONDS
unshare --mount --propagation private bash -euo pipefail -c '
    source "$1/lib.sh"
    in_chroot_mounts "$2"
    chroot "$2" /bin/bash -euo pipefail -c "
        export DEBIAN_FRONTEND=noninteractive PATH=/usr/sbin:/usr/bin:/sbin:/bin
        apt-get update -qq
        apt-get install -y -q --no-install-recommends ./tmp/crun-lite.deb man-db >/tmp/apt.log 2>&1 ||
            { cat /tmp/apt.log; exit 1; }
        grep -E \"^(Setting up|Unpacking) \" /tmp/apt.log | sed \"s/^/  apt: /\"
        dpkg-query -W -f=\"\\\${Status}\\n\" crun-lite | grep -q \"install ok installed\"
        crun-lite --version
        cd /tmp/bundle
        set +e
        crun-lite run deb-check >/tmp/run.out 2>&1
        rc=\$?
        set -e
        cat /tmp/run.out
        grep -q \"^hello from the deb\$\" /tmp/run.out || { echo \"FAIL: no output from the container\"; exit 1; }
        [ \$rc -eq 3 ] || { echo \"FAIL: crun-lite run exited \$rc, not the container status 3\"; exit 1; }
        [ -z \"\$(crun-lite list -q)\" ] || { echo \"FAIL: the container was not deleted\"; exit 1; }
        MANWIDTH=80 man crun-lite 2>&1 | grep -q \"crun-lite - a fast, runc-compatible OCI container runtime\" ||
            { echo \"FAIL: man crun-lite\"; man crun-lite 2>&1 | head; exit 1; }
        man -w crun-lite-exec | grep -q ^/usr/share/man/man8/crun-lite-exec.8.gz\$
        echo \"ok: man crun-lite\"
        apt-get purge -y -qq crun-lite >/dev/null
        [ ! -e /usr/sbin/crun-lite ] && [ ! -e /usr/share/man/man8/crun-lite.8.gz ]
        echo \"ok: apt-get purge removes it\"
    "
' bash "$here" "$work/root" || fail "in the Debian 12 chroot"
echo "ok: installed with apt, ran a container and man in a clean Debian 12 in $((SECONDS - start))s"
