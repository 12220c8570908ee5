"""OCI bundles from Debian's busybox-static (no registry involved): rootfs/bin/busybox, a symlink
per applet (busybox picks the applet from argv[0]), and a config.json from a runtime's `spec`
command or a template, then edited."""

import copy
import json
import os
import shutil

from .processes import run_cmd

BUSYBOX = "/bin/busybox"

# Applets linked into a test rootfs.
APPLETS = [
    "sh", "cat", "echo", "sleep", "id", "hostname", "mount", "grep", "ls", "ip", "touch", "mkdir",
    "ps", "true", "false", "kill", "stat", "readlink", "wc", "head", "tail", "env", "pwd", "test",
    "printf", "cut", "tr", "sed", "awk", "rm", "ln", "dd", "umask", "uname", "sysctl", "ifconfig",
    "nproc", "seq", "sort", "uniq", "xargs", "find", "dirname", "basename", "od", "hexdump", "chmod",
    "mknod", "date", "expr", "nsenter", "whoami", "timeout", "usleep", "cp", "mv",
]
# The directories of a test rootfs (mount points for the default config's mounts, and /etc, /tmp).
ROOTFS_DIRS = ("bin", "proc", "sys", "dev", "tmp", "etc")


class Bundle:
    def __init__(self, path):
        self.path = path
        self.rootfs = os.path.join(path, "rootfs")
        self.config_path = os.path.join(path, "config.json")

    @property
    def config(self):
        with open(self.config_path) as f:
            return json.load(f)

    def write_config(self, cfg):
        with open(self.config_path, "w") as f:
            json.dump(cfg, f, indent=2)

    def edit(self, fn):
        """fn mutates the parsed config in place; a dict it returns replaces the config instead."""
        cfg = self.config
        result = fn(cfg)
        self.write_config(result if isinstance(result, dict) else cfg)
        return self

    def configure(self, args=None, edit=None):
        """process.args = args, then edit(cfg) as in edit(); nothing is written when both are None."""
        if args is None and edit is None:
            return self
        def change(cfg):
            if args is not None:
                cfg["process"]["args"] = list(args)
            return edit(cfg) if edit is not None else None
        return self.edit(change)

    def __str__(self):
        return self.path

    def __fspath__(self):
        return self.path


def make_rootfs(rootfs, applets=APPLETS, dirs=ROOTFS_DIRS, busybox=BUSYBOX):
    """rootfs/{dirs} (mode 0755, tmp 1777), rootfs/bin/busybox (a copy of busybox-static) and a
    symlink to it per applet in rootfs/bin."""
    for d in dirs:
        os.makedirs(os.path.join(rootfs, d), mode=0o755, exist_ok=True)
    os.makedirs(os.path.join(rootfs, "bin"), mode=0o755, exist_ok=True)
    os.chmod(rootfs, 0o755)
    if "tmp" in dirs:
        os.chmod(os.path.join(rootfs, "tmp"), 0o1777)
    shutil.copy2(busybox, os.path.join(rootfs, "bin", "busybox"))
    for applet in applets:
        os.symlink("busybox", os.path.join(rootfs, "bin", applet))


def make_bundle(path, spec=None, args=None, edit=None, applets=APPLETS, dirs=ROOTFS_DIRS):
    """A Bundle at `path`: its rootfs (make_rootfs with `applets` and `dirs`) and a config.json
    from `spec`, the argv of a `spec` command run in `path` (e.g. [crun_lite, "spec"]; a failure is
    an AssertionError with its Result), or a config dict (a template, copied), or None (no config
    yet); then process.args = args and edit(cfg) (Bundle.configure)."""
    bundle = Bundle(path)
    make_rootfs(bundle.rootfs, applets, dirs)
    if spec is None:
        return bundle
    if isinstance(spec, dict):
        bundle.write_config(copy.deepcopy(spec))
    else:
        r = run_cmd(list(spec), cwd=path)
        assert r.rc == 0, r
    return bundle.configure(args, edit)
