# shellcheck shell=bash
# The shell side of tests/lib: OCI bundles from Debian's busybox-static (no registry involved).
# Source it relative to the sourcing script, e.g.
#   source "$(dirname "${BASH_SOURCE[0]}")/../lib/make-bundle.sh"
# (tests/lib/crunlite_testlib/bundles.py is the Python one.)

# busybox_rootfs ROOTFS APPLET...: ROOTFS/bin/busybox, a copy of /bin/busybox (busybox-static),
# and a symlink to it in ROOTFS/bin per APPLET (busybox picks the applet from argv[0]); a name
# already in ROOTFS/bin is left alone.
busybox_rootfs() {
	local rootfs=$1 applet
	shift
	mkdir -p "$rootfs/bin"
	cp /bin/busybox "$rootfs/bin/busybox"
	for applet in "$@"; do
		[ -e "$rootfs/bin/$applet" ] || ln -s busybox "$rootfs/bin/$applet"
	done
}

# bundle_args [--no-terminal] CONFIG ARG...: process.args = ARG... in the config.json CONFIG
# (and process.terminal = false with --no-terminal).
bundle_args() {
	local terminal=keep
	if [ "$1" = --no-terminal ]; then terminal=false; shift; fi
	python3 - "$terminal" "$@" <<'PY'
import json, sys
terminal, path, args = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(path) as f:
    c = json.load(f)
c["process"]["args"] = args
if terminal == "false":
    c["process"]["terminal"] = False
with open(path, "w") as f:
    json.dump(c, f, indent=4)
PY
}
