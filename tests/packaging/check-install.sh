#!/usr/bin/env bash
# `cmake --install` of a build: the binary in sbin, the man pages (gzipped) in share/man/man8, the
# bash completion in share/bash-completion/completions, and `man crun-lite` shows the page.
# Installs into a DESTDIR under /tmp, not onto this machine. Usage: check-install.sh BUILD_DIR
set -euo pipefail
build=$(realpath "$1")
dest=$(mktemp -d /tmp/crun-lite-install.XXXXXX)
trap 'rm -rf "$dest"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

DESTDIR=$dest cmake --install "$build" --prefix /usr/local >/dev/null
prefix=$dest/usr/local
[ -x "$prefix/sbin/crun-lite" ] || fail "no sbin/crun-lite"
"$prefix/sbin/crun-lite" --version | grep -q "^crun-lite version" || fail "the installed binary does not run"
# Stripped (CRUNLITE_INSTALL_STRIP, on by default): no symbol table, no debug info.
if grep -q "^CRUNLITE_INSTALL_STRIP:BOOL=OFF" "$build/CMakeCache.txt"; then
    echo "ok: CRUNLITE_INSTALL_STRIP=OFF, the binary installed as built"
else
    sections=$(readelf -S -W "$prefix/sbin/crun-lite") || fail "readelf -S of the installed binary"
    ! grep -qE ' \.(symtab|debug_info) ' <<<"$sections" || fail "the installed binary is not stripped"
    echo "ok: the installed binary is stripped: $(stat -c %s "$prefix/sbin/crun-lite") bytes (built: $(stat -c %s "$build/crun-lite"))"
fi
commands=$("$prefix/sbin/crun-lite" --help | sed -n '/^Subcommands:/,$p' | awk 'NR > 1 && NF {print $1}')
for page in crun-lite $(printf 'crun-lite-%s ' $commands); do
    [ -s "$prefix/share/man/man8/$page.8.gz" ] || fail "no share/man/man8/$page.8.gz"
done
[ -s "$prefix/share/bash-completion/completions/crun-lite" ] || fail "no bash completion"
[ -s "$prefix/share/doc/crun-lite/copyright" ] || fail "no copyright file"
echo "ok: installed $(cd "$dest" && find . -type f | wc -l) files:"
(cd "$dest" && find . -type f | sort | sed 's/^\./  /' | grep -v 'crun-lite-[a-z]*\.8\.gz')

# man finds the page the way it finds /usr/local/share/man's (by the manpath of the bin directory).
page=$(env -u MANPATH PATH=$prefix/sbin:$PATH MANWIDTH=80 man crun-lite 2>&1) || fail "man crun-lite: $page"
grep -q "crun-lite - a fast, runc-compatible OCI container runtime" <<<"$page" || fail "man crun-lite shows: $page"
env -u MANPATH PATH=$prefix/sbin:$PATH man -w crun-lite-exec | grep -q "^$prefix/share/man/man8/crun-lite-exec.8.gz$" ||
    fail "man crun-lite-exec finds another page"
echo "ok: man crun-lite shows the installed page"
bash --norc --noprofile -c "source '$prefix/share/bash-completion/completions/crun-lite' && complete -p crun-lite" >/dev/null ||
    fail "the bash completion does not load"
echo "ok: the bash completion loads"
