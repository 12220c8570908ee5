#!/usr/bin/env bash
# The documentation generated from the command-line definitions (crun-lite __docs): the committed
# docs/cli.md is what the binary writes, the man pages have their sections and no roff warnings, and
# the bash completion completes commands, options, values and container IDs.
# Usage: check-docs.sh path/to/crun-lite   (as root: one container is created for the completion)
set -euo pipefail
runtime=$(realpath "$1")
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/crun-lite-docs.XXXXXX)
root=$work/state
cleanup() {
    "$runtime" --root "$root" delete --force docs-check >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$runtime" __docs "$work/out"

# docs/cli.md
diff -u "$repo/docs/cli.md" "$work/out/cli.md" ||
    fail "docs/cli.md is not what the binary writes: cmake --build build --target update-docs, then commit it"
echo "ok: docs/cli.md is up to date"

# man pages: one per command plus the top page, clean roff, the sections they must have.
commands=$("$runtime" --help | sed -n '/^Subcommands:/,$p' | awk 'NR > 1 && NF {print $1}')
[ -n "$commands" ] || fail "no commands in crun-lite --help"
for c in $commands; do
    [ -s "$work/out/man8/crun-lite-$c.8" ] || fail "no man page for $c"
done
[ "$(ls "$work/out/man8" | wc -l)" -eq $(($(echo "$commands" | wc -w) + 1)) ] || fail "man pages for hidden or unknown commands"
for page in "$work"/out/man8/*.8; do
    warnings=$(groff -man -ww -z -Tutf8 "$page" 2>&1)
    [ -z "$warnings" ] || fail "$(basename "$page"): $warnings"
done
top=$(MANWIDTH=100 man -l "$work/out/man8/crun-lite.8" 2>/dev/null)
for section in NAME SYNOPSIS DESCRIPTION OPTIONS COMMANDS "EXIT STATUS" FILES "SEE ALSO"; do
    grep -q "^$section\$" <<<"$top" || fail "crun-lite.8 has no $section section"
done
grep -q "/run/crun-lite" <<<"$top" || fail "crun-lite.8 does not name the state root"
exec_page=$(MANWIDTH=100 man -l "$work/out/man8/crun-lite-exec.8" 2>/dev/null)
grep -q "exec \[OPTIONS\] ID COMMAND \[ARG...\]" <<<"$exec_page" || fail "crun-lite-exec.8 synopsis"
grep -q -- "--preserve-fds N" <<<"$exec_page" || fail "crun-lite-exec.8 options"
echo "ok: $(ls "$work/out/man8" | wc -l) man pages, sections present, no roff warnings"

# bash completion, with one real container for the ID completion.
mkdir -p "$work/bundle/rootfs/bin"
cp /bin/busybox "$work/bundle/rootfs/bin/" && ln -s busybox "$work/bundle/rootfs/bin/sh"
(cd "$work/bundle" && "$runtime" spec && sed -i 's/"terminal": true/"terminal": false/' config.json)
"$runtime" --root "$root" create --bundle "$work/bundle" docs-check
cat >"$work/complete.sh" <<SH
source "$work/out/bash-completion/crun-lite"
complete -p crun-lite >/dev/null
comp() { COMP_WORDS=("\$@"); COMP_CWORD=\$((\${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _crun_lite; echo "\${COMPREPLY[*]}"; }
cd "$work"
check() { local want=\$1; shift; local got; got=\$(comp "\$@"); [ "\$got" = "\$want" ] || { echo "[\$*]: want '\$want', got '\$got'"; exit 1; }; }
check "run" "$runtime" ru
check "--log --log-format" "$runtime" --lo
check "text json" "$runtime" --log-format ""
check "text json" "$runtime" --log-format = ""
check "--bundle" "$runtime" run --bu
check "bundle" "$runtime" run --bundle bu
check "table json" "$runtime" list --format ""
check "SIGKILL" "$runtime" kill docs-check SIGKI
check "docs-check" "$runtime" --root "$root" state ""
check "docs-check" "$runtime" --root = "$root" exec -t d  # how bash splits --root=DIR
check "docs-check" "$runtime" --root="$root" kill d
check "" "$runtime" --root "$root" exec docs-check ""
check "" "$runtime" --root "$root" create ""
SH
bash --norc --noprofile "$work/complete.sh" || fail "bash completion"
echo "ok: bash completion"
