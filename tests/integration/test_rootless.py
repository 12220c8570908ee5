"""Rootless containers: crun-lite run by an unprivileged user (runuser), with the config from
`crun-lite spec --rootless` written by that user, in a bundle that user owns, and the state under
$XDG_RUNTIME_DIR/crun-lite. The container's root is the user (uid_map `0 <uid> 1`)."""

import json
import os
import pwd
import shutil
import subprocess
import tempfile

import pytest

from helpers import CRUN_LITE, process_alive, run_cmd, wait_for_exec, wait_until

USER = "crunlite-rootless-test"
LOOP = "while :; do sleep 0.1; done"


@pytest.fixture(scope="session")
def rootless_user():
    """(name, uid, gid) of an unprivileged user, created for the session if it does not exist (one an
    interrupted session left is reused) and removed at the end of the session."""
    try:
        pw = pwd.getpwnam(USER)
    except KeyError:
        r = run_cmd(["useradd", "-M", "-s", "/bin/false", USER], timeout=30)
        assert r.rc == 0, r
        pw = pwd.getpwnam(USER)
    yield USER, pw.pw_uid, pw.pw_gid
    subprocess.run(["userdel", USER], timeout=30, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def chown_tree(path, uid, gid):
    os.chown(path, uid, gid, follow_symlinks=False)
    for parent, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(os.path.join(parent, name), uid, gid, follow_symlinks=False)


class Rootless:
    """crun-lite as the unprivileged user, with its own XDG_RUNTIME_DIR (no --root: the default)."""

    def __init__(self, rt, user):
        self.rt = rt
        self.name, self.uid, self.gid = user
        self.runtime_dir = tempfile.mkdtemp(prefix="xdg-rootless-", dir="/tmp")
        os.chmod(self.runtime_dir, 0o700)
        os.chown(self.runtime_dir, self.uid, self.gid)
        self.state_root = os.path.join(self.runtime_dir, "crun-lite")
        self.ids = []
        self.start_in = None
        rt.cleanups.append(self.cleanup)

    def cli(self, *args, cwd=None, timeout=30):
        argv = ["runuser", "-u", self.name, "--", "env", f"XDG_RUNTIME_DIR={self.runtime_dir}", CRUN_LITE,
                *[str(a) for a in args]]
        if self.start_in:  # the call starts in that cgroup (the delegated_* fixtures)
            argv = ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', self.start_in, *argv]
        return run_cmd(argv, cwd=cwd, timeout=timeout)

    def bundle(self, args, edit=None):
        """A bundle in a directory the user owns, its config written by `spec --rootless` run as the user."""
        bundle = self.rt.make_bundle(write_config=False)
        chown_tree(bundle.path, self.uid, self.gid)
        r = self.cli("spec", "--rootless", cwd=bundle.path)
        assert r.rc == 0, r
        st = os.stat(bundle.config_path)
        assert (st.st_uid, st.st_gid) == (self.uid, self.gid), "spec ran as the user"
        bundle.configure(args, edit)
        os.chown(bundle.config_path, self.uid, self.gid)
        return bundle

    def new_id(self):
        cid = self.rt.new_id("rootless")
        self.ids.append(cid)
        return cid

    def cleanup(self):
        for cid in self.ids:
            if os.path.exists(os.path.join(self.state_root, cid)):
                try:
                    with open(os.path.join(self.state_root, cid)) as f:
                        pid = json.load(f).get("pid")
                    if pid:
                        self.rt.pids.add(pid)
                except (OSError, ValueError):
                    pass
                self.cli("delete", "--force", cid)
        left = os.listdir(self.state_root) if os.path.isdir(self.state_root) else []
        shutil.rmtree(self.runtime_dir, ignore_errors=True)
        assert not left, f"rootless state left behind: {left}"


@pytest.fixture
def rootless(rt, rootless_user):
    return Rootless(rt, rootless_user)


# ------------------------------------------------------------------------------------------------


def test_spec_rootless_maps_the_users_own_ids(rootless):
    cfg = rootless.bundle(["true"]).config
    assert {"type": "user"} in cfg["linux"]["namespaces"], cfg["linux"]["namespaces"]
    assert cfg["linux"]["uidMappings"] == [{"containerID": 0, "hostID": rootless.uid, "size": 1}]
    assert cfg["linux"]["gidMappings"] == [{"containerID": 0, "hostID": rootless.gid, "size": 1}]


def test_rootless_run(rootless):
    bundle = rootless.bundle(["sh", "-c", "cat /proc/self/uid_map; id; echo $$; hostname"])
    cid = rootless.new_id()
    r = rootless.cli("run", cid, cwd=bundle.path)
    assert r.rc == 0, r
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["0", str(rootless.uid), "1"], r
    assert lines[1].startswith("uid=0") and " gid=0" in lines[1], r
    assert lines[2:] == ["1", "crun-lite"], r
    assert not os.path.exists(os.path.join(rootless.state_root, cid)), "run without --keep deletes"


def test_rootless_exit_status(rootless):
    bundle = rootless.bundle(["sh", "-c", "exit 7"])
    r = rootless.cli("run", "--bundle", bundle.path, rootless.new_id())
    assert r.rc == 7, r


def test_rootless_create_start_state_delete(rootless):
    bundle = rootless.bundle(["sh", "-c", LOOP])
    cid = rootless.new_id()
    r = rootless.cli("create", "--bundle", bundle.path, cid)
    assert r.rc == 0, r
    assert os.path.isfile(os.path.join(rootless.state_root, cid)), os.listdir(rootless.runtime_dir)
    r = rootless.cli("state", cid)
    assert r.rc == 0, r
    state = json.loads(r.stdout)
    pid = state["pid"]
    rootless.rt.pids.add(pid)
    assert state["status"] == "created" and state["id"] == cid, state
    assert os.stat(f"/proc/{pid}").st_uid == rootless.uid, "the container runs as the user on the host"
    with open(f"/proc/{pid}/uid_map") as f:
        assert f.read().split() == ["0", str(rootless.uid), "1"]
    assert rootless.cli("start", cid).rc == 0
    r = rootless.cli("state", cid)
    assert r.rc == 0 and json.loads(r.stdout)["status"] == "running", r
    r = rootless.cli("list", "--format", "json")
    assert r.rc == 0, r
    assert [(c["id"], c["owner"]) for c in json.loads(r.stdout)] == [(cid, USER)], r
    r = rootless.cli("kill", cid, "KILL")
    assert r.rc == 0, r
    wait_until(lambda: json.loads(rootless.cli("state", cid).stdout)["status"] == "stopped", what="stopped")
    r = rootless.cli("delete", cid)
    assert r.rc == 0, r
    assert not os.path.exists(os.path.join(rootless.state_root, cid))
    wait_until(lambda: not process_alive(pid), what="the container's init to be gone")


def test_rootless_exec(rootless):
    bundle = rootless.bundle(["sh", "-c", LOOP])
    cid = rootless.new_id()
    r = rootless.cli("run", "-d", "--bundle", bundle.path, cid)
    assert r.rc == 0, r
    wait_for_exec(json.loads(rootless.cli("state", cid).stdout)["pid"], "sh")  # it reads init's cmdline
    r = rootless.cli("exec", cid, "sh", "-c", "cat /proc/self/uid_map; id -u; cat /proc/1/cmdline")
    assert r.rc == 0, r
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["0", str(rootless.uid), "1"], r
    assert lines[1] == "0", r
    assert lines[2].startswith("sh"), r
    assert rootless.cli("delete", "--force", cid).rc == 0


def test_rootless_refuses_resource_limits(rootless):
    # Without cgroup delegation an unprivileged user cannot apply limits: refused, naming the field.
    bundle = rootless.bundle(["true"], edit=lambda cfg: cfg["linux"].update(resources={"pids": {"limit": 10}}))
    cid = rootless.new_id()
    r = rootless.cli("run", "--bundle", bundle.path, cid)
    assert r.rc == 1, r
    assert len(r.err_lines) == 1 and ".linux.resources" in r.err_lines[0], r
    assert not os.path.exists(os.path.join(rootless.state_root, cid))


# ------------------------------------------------------------------------------------------------
# The runtime as uid 0 of a user namespace (issue 20, item 1): rootless podman and docker run it so,
# with a config of root's shape (no user namespace of its own). Here the unprivileged user makes
# that namespace with `unshare -Ur` (uid_map `0 <uid> 1`); the host's cgroups are not the user's.


class InUserNamespace(Rootless):
    """`binary` run as the user, as uid 0 of one user namespace the user made (`unshare -Ur`) and
    every call joins (as rootless podman's calls join its pause process's), with the user's
    XDG_RUNTIME_DIR and USER; no --root (state under XDG_RUNTIME_DIR, as runc decides it there)."""

    def __init__(self, rt, user):
        super().__init__(rt, user)
        self.state_root = os.path.join(self.runtime_dir, "runc" if rt.name == "runc" else "crun-lite")
        self.holder = subprocess.Popen(["runuser", "-u", self.name, "--", "unshare", "--user", "--map-root-user",
                                        "sh", "-c", "echo $$; exec sleep 1000"], stdout=subprocess.PIPE, text=True)
        self.holder_pid = int(self.holder.stdout.readline())

    def cli(self, *args, cwd=None, timeout=30):
        sanitizer = []
        if "ASAN_OPTIONS" in os.environ:
            # The sanitizer stage: LeakSanitizer's exit-time scan (it stops the process's threads
            # with ptrace) never ends in `exec`'s runtime process inside this user namespace.
            # ASan and UBSan stay on; test_exec.py has exec's leak scan, as root.
            sanitizer = [f"ASAN_OPTIONS={os.environ['ASAN_OPTIONS']}:detect_leaks=0"]
        argv = ["runuser", "-u", self.name, "--", "env", f"XDG_RUNTIME_DIR={self.runtime_dir}", f"USER={self.name}", *sanitizer,
                "nsenter", "--preserve-credentials", f"--user=/proc/{self.holder_pid}/ns/user", self.rt.binary, *[str(a) for a in args]]
        if self.start_in:  # the call starts in that cgroup (the delegated_* fixtures)
            argv = ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', self.start_in, *argv]
        return run_cmd(argv, cwd=cwd, timeout=timeout)

    def cleanup(self):
        try:
            super().cleanup()
        finally:
            os.kill(self.holder_pid, 9)
            self.holder.wait(timeout=10)

    def bundle(self, args, edit=None):
        """A bundle the user owns, with root's default config (crun-lite's `spec`, written as the user)
        as rootless podman would hand it over."""
        bundle = self.rt.make_bundle(write_config=False)
        chown_tree(bundle.path, self.uid, self.gid)
        r = run_cmd(["runuser", "-u", self.name, "--", CRUN_LITE, "spec"], cwd=bundle.path, timeout=30)
        assert r.rc == 0, r

        def as_podman_does(cfg):
            cfg["process"]["terminal"] = False
            # devpts without gid=5, which this namespace does not map (podman drops it then)
            for m in cfg["mounts"]:
                if m["type"] == "devpts":
                    m["options"] = [o for o in m["options"] if not o.startswith("gid=")]
            if edit:
                edit(cfg)

        bundle.configure(args, as_podman_does)
        os.chown(bundle.config_path, self.uid, self.gid)
        return bundle


@pytest.fixture
def in_userns(each_rt, rootless_user):
    return InUserNamespace(each_rt, rootless_user)


def cgroups_named(cid):
    return [os.path.join(d, n) for d, dirs, _ in os.walk("/sys/fs/cgroup") for n in dirs if cid in n]


@pytest.mark.runc_too
def test_in_user_namespace_runs_without_a_cgroup(in_userns):
    # No limit and no cgroupsPath: the host's cgroups cannot be written, so the container stays in
    # the runtime's cgroup and runs (runc's rootless rule).
    bundle = in_userns.bundle(["sh", "-c", "cat /proc/self/uid_map; id -u; ls /dev/null; exit 5"])
    cid = in_userns.new_id()
    r = in_userns.cli("run", "--bundle", bundle.path, cid)
    assert r.rc == 5, r
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["0", str(in_userns.uid), "1"], r
    assert lines[1:] == ["0", "/dev/null"], r
    assert not os.path.exists(os.path.join(in_userns.state_root, cid))
    assert cgroups_named(cid) == []


@pytest.mark.runc_too
def test_in_user_namespace_detached_state_exec_delete(in_userns):
    bundle = in_userns.bundle(["sh", "-c", LOOP])
    cid = in_userns.new_id()
    r = in_userns.cli("run", "-d", "--bundle", bundle.path, cid)
    assert r.rc == 0, r
    assert os.path.isfile(os.path.join(in_userns.state_root, cid, "state.json") if in_userns.rt.name == "runc"
                          else os.path.join(in_userns.state_root, cid)), os.listdir(in_userns.runtime_dir)
    state = json.loads(in_userns.cli("state", cid).stdout)
    in_userns.rt.pids.add(state["pid"])
    assert state["status"] == "running", state
    assert os.stat(f"/proc/{state['pid']}").st_uid == in_userns.uid, "the container runs as the user on the host"
    r = in_userns.cli("exec", cid, "id", "-u")
    assert (r.rc, r.stdout.strip()) == (0, "0"), r
    assert in_userns.cli("delete", "--force", cid).rc == 0
    wait_until(lambda: not process_alive(state["pid"]), what="the container's init to be gone")
    assert not os.path.exists(os.path.join(in_userns.state_root, cid))


def test_in_user_namespace_limit_without_a_writable_cgroup_names_the_field(in_userns):
    # A limit needs a cgroup; the user namespace cannot write the host's: one line naming the field,
    # and nothing left (no state, no cgroup, no process).
    bundle = in_userns.bundle(["true"], edit=lambda cfg: cfg["linux"].update(resources={"pids": {"limit": 10}}))
    cid = in_userns.new_id()
    r = in_userns.cli("run", "--bundle", bundle.path, cid)
    assert r.rc == 1, r
    assert len(r.err_lines) == 1 and ".linux.resources" in r.err_lines[0] and "user namespace" in r.err_lines[0], r
    assert not os.path.exists(os.path.join(in_userns.state_root, cid))
    assert cgroups_named(cid) == []


def test_in_user_namespace_cgroups_path_without_a_writable_cgroup_names_the_field(in_userns):
    bundle = in_userns.bundle(["true"], edit=lambda cfg: cfg["linux"].update(cgroupsPath="/crun-lite-userns-test"))
    cid = in_userns.new_id()
    r = in_userns.cli("run", "--bundle", bundle.path, cid)
    assert r.rc == 1, r
    assert len(r.err_lines) == 1 and ".linux.cgroupsPath" in r.err_lines[0], r
    assert not os.path.exists(os.path.join(in_userns.state_root, cid))
    assert cgroups_named("crun-lite-userns-test") == []


def delegate_cgroup(caller):
    """A cgroup v2 subtree delegated to the caller's user as systemd's Delegate=yes does it (the
    directory and its cgroup.procs, cgroup.subtree_control and cgroup.threads are the user's), below
    a parent of root's that gives it memory and pids only (as user@.service is given cpu, memory and
    pids), with every runtime call started from its leaf `runtime`, as a user's processes run inside
    user@.service. Cgroup v2 only: the host here is v1 hybrid, and the v2 guest's run of this suite
    (tests/vm) is where it runs."""
    if not os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        pytest.skip("delegation is cgroup v2's: tests/vm runs this file in a pure cgroup v2 guest")
    outer = f"/sys/fs/cgroup/crun-lite-delegated-{os.getpid()}-{len(caller.ids)}"
    with open("/sys/fs/cgroup/cgroup.subtree_control", "w") as f:
        f.write("+memory +pids")
    os.mkdir(outer)
    with open(os.path.join(outer, "cgroup.subtree_control"), "w") as f:
        f.write("+memory +pids")
    base = os.path.join(outer, "user")
    os.mkdir(base)
    for name in ("", "cgroup.procs", "cgroup.subtree_control", "cgroup.threads"):
        os.chown(os.path.join(base, name), caller.uid, caller.gid)
    with open(os.path.join(base, "cgroup.subtree_control"), "w") as f:
        f.write("+memory +pids")
    runtime_leaf = os.path.join(base, "runtime")
    os.mkdir(runtime_leaf)
    os.chown(os.path.join(runtime_leaf, "cgroup.procs"), caller.uid, caller.gid)
    caller.start_in = runtime_leaf
    yield base
    caller.start_in = None
    for d in sorted((os.path.join(p, n) for p, dirs, _ in os.walk(outer) for n in dirs), key=len, reverse=True) + [outer]:
        wait_until(lambda: _rmdir_gone(d), what=f"rmdir {d}")


def under_root(path):
    """/sys/fs/cgroup/a/b -> a/b"""
    return os.path.relpath(path, "/sys/fs/cgroup")


@pytest.fixture
def delegated(in_userns):
    yield from delegate_cgroup(in_userns)


@pytest.fixture
def delegated_to_user(rootless):
    yield from delegate_cgroup(rootless)


def _rmdir_gone(path):
    try:
        os.rmdir(path)
    except FileNotFoundError:
        pass
    except OSError:
        return False
    return True


def assert_delegated_cgroup_takes_the_limits(caller, delegated, exec_cgroup):
    """The container's cgroup is made in the delegated subtree, where cgroupsPath names it, with the
    limits; `exec` joins it (`exec_cgroup`: the line exec's process sees); gone after delete."""
    cgroup = under_root(delegated) + "/ctr"
    bundle = caller.bundle(["sh", "-c", "cat /sys/fs/cgroup/pids.max /sys/fs/cgroup/memory.max; " + LOOP],
                           edit=lambda cfg: cfg["linux"].update(cgroupsPath="/" + cgroup, resources={
                               "pids": {"limit": 10}, "memory": {"limit": 64 << 20}}))
    cid = caller.new_id()
    r = caller.cli("run", "-d", "--bundle", bundle.path, cid)
    assert r.rc == 0, r
    pid = json.loads(caller.cli("state", cid).stdout)["pid"]
    caller.rt.pids.add(pid)
    host_dir = os.path.join(delegated, "ctr")
    with open(f"/proc/{pid}/cgroup") as f:
        assert f.read().strip() == f"0::/{cgroup}"
    with open(os.path.join(host_dir, "pids.max")) as f, open(os.path.join(host_dir, "memory.max")) as g:
        assert (f.read().strip(), g.read().strip()) == ("10", str(64 << 20))
    r = caller.cli("exec", cid, "cat", "/proc/self/cgroup")
    assert (r.rc, r.stdout.strip()) == (0, exec_cgroup.format(cgroup=cgroup)), r
    assert caller.cli("delete", "--force", cid).rc == 0
    wait_until(lambda: not os.path.exists(host_dir), what="the container's cgroup to go")
    assert not os.path.exists(os.path.join(caller.state_root, cid))


@pytest.mark.runc_too
def test_in_user_namespace_a_delegated_cgroup_takes_the_limits(in_userns, delegated):
    # The user owns the subtree: the container's cgroup is made there and carries the limits.
    # Root's config has a cgroup namespace: exec sees the container's cgroup as its root.
    assert_delegated_cgroup_takes_the_limits(in_userns, delegated, "0::/")


def test_rootless_a_delegated_cgroup_takes_the_limits(rootless, delegated_to_user):
    # An unprivileged user (euid not 0) with a delegated subtree: limits are applied there instead
    # of refused (issue 20, item 2). `spec --rootless` gives no cgroup namespace: exec sees the path.
    assert_delegated_cgroup_takes_the_limits(rootless, delegated_to_user, "0::/{cgroup}")


def test_rootless_limit_outside_the_delegated_cgroup_names_the_field(rootless, delegated_to_user):
    # Delegated somewhere, but the config names a cgroup elsewhere: refused, nothing left.
    bundle = rootless.bundle(["true"], edit=lambda cfg: cfg["linux"].update(
        cgroupsPath="/crun-lite-not-delegated", resources={"pids": {"limit": 10}}))
    cid = rootless.new_id()
    r = rootless.cli("run", "--bundle", bundle.path, cid)
    assert r.rc == 1, r
    assert len(r.err_lines) == 1 and ".linux.resources" in r.err_lines[0] and "unprivileged user" in r.err_lines[0], r
    assert not os.path.exists(os.path.join(rootless.state_root, cid))
    assert not os.path.exists("/sys/fs/cgroup/crun-lite-not-delegated")


def check_findings(caller, bundle):
    r = caller.cli("check", "--bundle", bundle.path, "--format", "json")
    return r, json.loads(r.stdout)["findings"]


def test_rootless_check_tells_the_cgroup_rule(rootless):
    # issue 20, item 5: check says what create will do with the cgroup, as the user would meet it.
    bundle = rootless.bundle(["true"])
    r, findings = check_findings(rootless, bundle)
    assert r.rc == 0, r
    assert any(f["severity"] == "info" and "no cgroup of its own" in f["message"] for f in findings), findings
    assert any(f["severity"] == "info" and "the runtime runs as an unprivileged user in cgroup" in f["message"] for f in findings), findings
    limited = rootless.bundle(["true"], edit=lambda cfg: cfg["linux"].update(resources={"pids": {"limit": 10}}))
    r, findings = check_findings(rootless, limited)
    errors = [f for f in findings if f["severity"] == "error"]
    assert r.rc == 1 and [f["path"] for f in errors] == [".linux.resources"], (r, findings)
    assert "unprivileged user cannot write" in errors[0]["message"], errors


def test_rootless_check_with_a_delegated_cgroup(rootless, delegated_to_user):
    cgroup = under_root(delegated_to_user) + "/ctr"
    bundle = rootless.bundle(["true"], edit=lambda cfg: cfg["linux"].update(
        cgroupsPath="/" + cgroup, resources={"pids": {"limit": 10}, "memory": {"limit": 64 << 20}}))
    r, findings = check_findings(rootless, bundle)
    assert r.rc == 0, (r, findings)
    assert any(f["severity"] == "info" and f"cgroup /{cgroup} can be made" in f["message"] for f in findings), findings
    # a controller the subtree was not given (cpu: its parent gives it memory and pids only)
    cpu = rootless.bundle(["true"], edit=lambda cfg: cfg["linux"].update(
        cgroupsPath="/" + cgroup, resources={"cpu": {"shares": 512}}))
    r, findings = check_findings(rootless, cpu)
    errors = [f for f in findings if f["severity"] == "error"]
    assert r.rc == 1 and [f["path"] for f in errors] == [".linux.resources.cpu.shares"], (r, findings)
    assert not os.path.exists(os.path.join(delegated_to_user, "ctr")), "check made nothing"


def test_rootless_check_a_relative_path_below_the_runtimes_own_cgroup(rootless, delegated_to_user):
    # The runtime's own cgroup is the user's (as a scope under user@.service is), so a relative
    # cgroupsPath below it can be made; but it holds the runtime, and cgroup v2 enables no
    # controller below a cgroup with processes: a limit there is an error naming it.
    leaf = os.path.join(delegated_to_user, "runtime")
    for name in ("", "cgroup.subtree_control"):
        os.chown(os.path.join(leaf, name), rootless.uid, rootless.gid)
    bundle = rootless.bundle(["true"], edit=lambda cfg: cfg["linux"].update(
        cgroupsPath="ctr", resources={"memory": {"limit": 64 << 20}}))
    r, findings = check_findings(rootless, bundle)
    errors = [f for f in findings if f["severity"] == "error"]
    assert r.rc == 1 and [f["path"] for f in errors] == [".linux.resources.memory.limit"], (r, findings)
    assert "holds processes" in errors[0]["message"], errors
    assert any(f["severity"] == "info" and "can be made" in f["message"] for f in findings), findings
