"""`--systemd-cgroup` for a rootless caller (issue 20, item 2): the unit is made by the user's own
systemd (user@UID.service, cgroup v2 with cpu, memory and pids delegated), as runc and crun do it.
Two callers, each with runc first (the reference), then crun-lite:

- an unprivileged user (euid not 0) with a `runc spec --rootless` config: the runtime talks to
  the user's systemd over its private socket ($XDG_RUNTIME_DIR/systemd/private);
- uid 0 of a user namespace the user made (`unshare -Ur`, as rootless podman runs the runtime),
  with root's config: the runtime must reach that socket from inside the namespace (crun-lite
  through systemd-stdio-bridge, runc naming the host uid in its handshake).

Each run asks for limits in "user.slice:test:<id>": the scope appears under the user's
user@UID.service with the limits, the container's init in it; `exec` from outside the user's
subtree works (the process may stay in the caller's cgroup, runc's rootless rule); `update`
changes the unit's MemoryMax through the same systemd; after delete neither the unit nor its
cgroup is left. crun-lite's `check` and `features` say the same. Run with run-in-systemd-vm.sh
(see conftest.py).
"""

import json
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid

import pytest

from conftest import RUNTIMES, run_cmd, wait_for
from crunlite_testlib.bundles import make_bundle
from crunlite_testlib.processes import process_alive, wait_until

USER = "crunlite-sd-user"
MiB = 1024 * 1024
LIMITS = {"memory": {"limit": 64 * MiB}, "pids": {"limit": 50}}


@pytest.fixture(scope="module")
def user_manager(session_env):
    """(name, uid, XDG_RUNTIME_DIR) of a user whose systemd instance runs (user@UID.service, as a
    login or `loginctl enable-linger` starts it); stopped and removed at the end."""
    try:
        pw = pwd.getpwnam(USER)
    except KeyError:
        assert run_cmd(["useradd", "-M", "-s", "/bin/false", USER], timeout=30).rc == 0
        pw = pwd.getpwnam(USER)
    unit = f"user@{pw.pw_uid}.service"
    r = run_cmd(["systemctl", "start", unit], timeout=60)
    assert r.rc == 0, r
    runtime_dir = f"/run/user/{pw.pw_uid}"
    assert wait_for(lambda: os.path.exists(f"{runtime_dir}/bus") and os.path.exists(f"{runtime_dir}/systemd/private"),
                    timeout=20), f"{unit} made no bus in {runtime_dir}"
    yield USER, pw.pw_uid, runtime_dir
    run_cmd(["systemctl", "stop", unit, f"user-runtime-dir@{pw.pw_uid}.service"], timeout=60)
    subprocess.run(["userdel", USER], timeout=30, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class UserCaller:
    """One runtime called by the user, either directly (`in_userns` False) or as uid 0 of a user
    namespace that every call joins. State under $XDG_RUNTIME_DIR/<a per-test dir>."""

    def __init__(self, name, user, in_userns, spec_config):
        self.name, self.binary = name, RUNTIMES[name]
        self.user, self.uid, self.runtime_dir = user
        self.in_userns = in_userns
        self.base = tempfile.mkdtemp(prefix="sd-user-", dir="/var/tmp")
        os.chmod(self.base, 0o755)
        self.root = os.path.join(self.runtime_dir, f"test-{uuid.uuid4().hex[:8]}")
        self.ids = []
        self.holder = None
        if in_userns:
            self.holder = subprocess.Popen(["runuser", "-u", self.user, "--", "unshare", "--user", "--map-root-user",
                                            "sh", "-c", "echo $$; exec sleep 1000"], stdout=subprocess.PIPE, text=True)
            self.holder_pid = int(self.holder.stdout.readline())
        self.spec_config = spec_config

    def cli(self, *args, timeout=30):
        argv = ["runuser", "-u", self.user, "--", "env", f"XDG_RUNTIME_DIR={self.runtime_dir}", f"USER={self.user}",
                f"DBUS_SESSION_BUS_ADDRESS=unix:path={self.runtime_dir}/bus"]
        if self.in_userns:
            argv += ["nsenter", "--preserve-credentials", f"--user=/proc/{self.holder_pid}/ns/user"]
        return run_cmd(argv + [self.binary, "--root", self.root, "--systemd-cgroup", *[str(a) for a in args]],
                       timeout=timeout)

    def bundle(self, args, cgroups_path):
        path = tempfile.mkdtemp(dir=self.base)
        if self.in_userns:
            # root's config, as rootless podman hands it over: no gid=5 on devpts (not mapped here)
            config = json.loads(json.dumps(self.spec_config))
            for m in config["mounts"]:
                if m["type"] == "devpts":
                    m["options"] = [o for o in m["options"] if not o.startswith("gid=")]
        else:
            # runc's rootless config, written by the user (its uid is the mapped one)
            os.chown(path, self.uid, -1)
            r = run_cmd(["runuser", "-u", self.user, "--", RUNTIMES["runc"], "spec", "--rootless", "--bundle", path])
            assert r.rc == 0, r
            with open(os.path.join(path, "config.json")) as f:
                config = json.load(f)
            os.unlink(os.path.join(path, "config.json"))

        def configure(cfg):
            cfg["process"]["terminal"] = False
            cfg["root"]["readonly"] = False
            cfg["linux"]["cgroupsPath"] = cgroups_path
            cfg["linux"]["resources"] = dict(LIMITS)
        make_bundle(path, config, args=args, edit=configure)
        for d, dirs, files in os.walk(path):
            for n in [d] + [os.path.join(d, x) for x in dirs + files]:
                os.chown(n, self.uid, -1, follow_symlinks=False)
        return path

    def new_id(self):
        cid = uuid.uuid4().hex[:12]
        self.ids.append(cid)
        return cid

    def cleanup(self):
        for cid in self.ids:
            if os.path.exists(os.path.join(self.root, cid)):
                self.cli("delete", "--force", cid)
        if self.holder:
            self.holder.kill()
            self.holder.wait(timeout=10)
        shutil.rmtree(self.base, ignore_errors=True)
        shutil.rmtree(self.root, ignore_errors=True)


def user_systemctl(caller, *args):
    return run_cmd(["runuser", "-u", caller.user, "--", "env", f"XDG_RUNTIME_DIR={caller.runtime_dir}",
                    f"DBUS_SESSION_BUS_ADDRESS=unix:path={caller.runtime_dir}/bus", "systemctl", "--user", *args], timeout=30)


@pytest.fixture(params=[(rt, ns) for ns in (False, True) for rt in RUNTIMES],
                ids=lambda p: f"{p[0]}-{'userns' if p[1] else 'user'}")
def caller(request, user_manager, session_env):
    name, in_userns = request.param
    c = UserCaller(name, user_manager, in_userns, session_env[1])
    yield c
    c.cleanup()


def test_rootless_systemd_cgroup_makes_a_user_scope_with_limits(caller):
    cid = caller.new_id()
    unit = f"test-{cid}.scope"
    cgroup = (f"/sys/fs/cgroup/user.slice/user-{caller.uid}.slice/user@{caller.uid}.service/user.slice/{unit}")
    b = caller.bundle(["sh", "-c", "cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max > /limits.inside; exec sleep 300"],
                      f"user.slice:test:{cid}")
    r = caller.cli("run", "-d", "--bundle", b, cid)
    assert r.rc == 0, r.stderr
    pid = json.loads(caller.cli("state", cid).stdout)["pid"]
    try:
        with open(f"/proc/{pid}/cgroup") as f:
            assert f.read().strip() == "0::" + cgroup[len("/sys/fs/cgroup"):]
        with open(f"{cgroup}/memory.max") as f, open(f"{cgroup}/pids.max") as g:
            assert (f.read().strip(), g.read().strip()) == (str(64 * MiB), "50")
        r = user_systemctl(caller, "show", "-p", "MemoryMax", "-p", "ActiveState", unit)
        assert r.stdout.split() == ["MemoryMax=67108864", "ActiveState=active"], r
        assert os.stat(f"/proc/{pid}").st_uid == caller.uid, "the container runs as the user on the host"
        inside = os.path.join(b, "rootfs", "limits.inside")
        wait_until(lambda: os.path.exists(inside) and open(inside).read().count("\n") == 2, what="the limits read inside")
        with open(inside) as f:
            assert f.read().split() == [str(64 * MiB), "50"]
        # exec, called from outside the user's subtree (this test runs in sdvm.service)
        r = caller.cli("exec", cid, "id", "-u")
        assert (r.rc, r.stdout.strip()) == (0, "0"), r
        # update: the unit's property and the cgroup file, through the user's systemd
        r = caller.cli("update", "--memory", str(32 * MiB), cid)
        assert r.rc == 0, r
        r = user_systemctl(caller, "show", "-p", "MemoryMax", unit)
        assert r.stdout.strip() == f"MemoryMax={32 * MiB}", r
        with open(f"{cgroup}/memory.max") as f:
            assert f.read().strip() == str(32 * MiB)
        if caller.name == "crun-lite":
            r = caller.cli("check", "--bundle", b, "--format", "json")
            messages = [f["message"] for f in json.loads(r.stdout)["findings"]]
            assert any("answers through the user's systemd" in m for m in messages), messages
            assert any(f"its cgroup under /user.slice/user-{caller.uid}.slice/user@{caller.uid}.service" in m for m in messages), messages
            features = json.loads(caller.cli("features").stdout)
            assert features["linux"]["cgroup"]["systemdUser"] is True, features
    finally:
        r = caller.cli("delete", "--force", cid)
    assert r.rc == 0, r
    wait_until(lambda: not process_alive(pid), timeout=10, what=f"pid {pid} to go")
    assert not os.path.exists(os.path.join(caller.root, cid))
    r = user_systemctl(caller, "show", "-p", "LoadState", unit)
    assert r.stdout.strip() == "LoadState=not-found", r
    assert not os.path.exists(cgroup), f"{cgroup} left behind"
