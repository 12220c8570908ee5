"""A runtime binary (crun-lite, runc, crun) bound to one state root."""

import json
import os
import re

from .processes import DEFAULT_TIMEOUT, run_cmd

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))


def default_runc():
    """The runc that behaviour comparisons run beside crun-lite: $RUNC; else the newest prebuilt
    peer in ../shared/tools/anchors/ next to this checkout (runc 1.3.6, see that directory's
    README); else Debian's /usr/sbin/runc. None when there is none."""
    if os.environ.get("RUNC"):
        return os.path.abspath(os.environ["RUNC"])
    for candidate in (os.path.join(REPO, "..", "shared", "tools", "anchors", "runc-1.3.6"), "/usr/sbin/runc"):
        if os.access(candidate, os.X_OK):
            return os.path.abspath(candidate)
    return None


def runc_version(binary):
    """(major, minor, patch) of `binary --version`, or None."""
    try:
        out = run_cmd([binary, "--version"], timeout=10).stdout
    except Exception:  # noqa: BLE001 - no version is an answer too
        return None
    m = re.search(r"runc version (\d+)\.(\d+)\.(\d+)", out)
    return tuple(int(x) for x in m.groups()) if m else None


def default_crun_lite():
    """$CRUN_LITE, else build/crun-lite of this checkout (absolute)."""
    return os.path.abspath(os.environ.get("CRUN_LITE") or os.path.join(REPO, "build", "crun-lite"))


class RuntimeCli:
    """`BINARY --root ROOT [GLOBAL_FLAGS] ARGS...`: argv() builds it, cli() runs it with run_cmd (a
    timeout, output in files) and state() reads `state ID`."""

    def __init__(self, binary, root, global_flags=()):
        self.binary = binary
        self.root = root
        self.global_flags = list(global_flags)

    def argv(self, *args, root=None, global_flags=None):
        flags = self.global_flags if global_flags is None else global_flags
        return [self.binary, "--root", self.root if root is None else root, *flags, *[str(a) for a in args]]

    def cli(self, *args, timeout=DEFAULT_TIMEOUT, cwd=None, root=None, global_flags=None, pass_fds=(),
            input_data=None, raw=False):
        """The Result of `BINARY --root ROOT [GLOBAL_FLAGS] ARGS...`; raw=True: `BINARY ARGS...`."""
        argv = [self.binary, *[str(a) for a in args]] if raw else self.argv(*args, root=root, global_flags=global_flags)
        return run_cmd(argv, timeout=timeout, cwd=cwd, pass_fds=pass_fds, input_data=input_data)

    def state(self, cid):
        r = self.cli("state", cid)
        assert r.rc == 0, r
        return json.loads(r.stdout)
