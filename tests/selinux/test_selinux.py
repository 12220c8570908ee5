"""SELinux for real (issue 21, item 2): Debian's kernel booted with SELinux and Debian's reference
policy loaded (permissive: the guest's files carry no labels), in the guest of
run-in-selinux-vm.sh. Every case runs with runc first (the reference), then crun-lite:

- `process.selinuxLabel` is the container process's context (/proc/self/attr/current);
- `exec --process-label` gives the exec'd process its own context, a plain exec the container's;
- `linux.mountLabel` is the `context=` of the filesystems the container gets (the /dev tmpfs says
  so in mountinfo, and a file there carries the label);
- the session keyring the container gets is created with the process's label (keycreate);
- a label the policy does not know fails the create: crun-lite names .process.selinuxLabel in one
  line, and nothing is left;
- `features` says SELinux is enabled;
- podman (Debian's, as root, cgroupfs, vfs storage) with sVirt labels given by --security-opt:
  the container's context and its /dev's `context=` are the labels podman computed.
  (podman's default labels are container-selinux's types, which Debian's policy lacks: podman
  itself fails before it calls any runtime.)
"""

import ctypes
import json
import os
import shutil
import sys
import tempfile
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from crunlite_testlib.bundles import make_bundle, make_rootfs  # noqa: E402
from crunlite_testlib.processes import run_cmd, wait_until  # noqa: E402
from crunlite_testlib.runtime import RuntimeCli, default_crun_lite  # noqa: E402

RUNTIMES = {"runc": os.environ.get("RUNC") or "/usr/sbin/runc", "crun-lite": default_crun_lite()}
# Debian's reference policy has no container module (no container_t): sVirt's domain and image type,
# with MCS categories as libvirt gives each guest, are what it has for a confined sandbox.
LABEL = "system_u:system_r:svirt_t:s0:c1,c2"
EXEC_LABEL = "system_u:system_r:svirt_t:s0:c3,c4"
MOUNT_LABEL = "system_u:object_r:svirt_image_t:s0:c1,c2"


def context(text):
    return text.replace("\0", "").strip()


@pytest.fixture(scope="session")
def spec_config():
    assert os.path.exists("/sys/fs/selinux/enforce"), "SELinux is off: run this with tests/selinux/run-in-selinux-vm.sh"
    d = tempfile.mkdtemp()
    r = run_cmd([RUNTIMES["runc"], "spec", "--bundle", d])
    assert r.rc == 0, r
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    shutil.rmtree(d)
    return cfg


class Runtime(RuntimeCli):
    def __init__(self, name, spec_config):
        super().__init__(RUNTIMES[name], tempfile.mkdtemp(prefix=f"state-{name}-"))
        self.name = name
        self.spec_config = spec_config
        self.dirs = [self.root]
        self.ids = []

    def bundle(self, args, edit=None):
        path = tempfile.mkdtemp(prefix="bundle-")
        self.dirs.append(path)

        def configure(cfg):
            cfg["process"]["terminal"] = False
            cfg["root"]["readonly"] = False
            if edit:
                edit(cfg)
        make_bundle(path, self.spec_config, args=args, edit=configure)
        return path

    def new_id(self):
        self.ids.append(uuid.uuid4().hex[:12])
        return self.ids[-1]

    def cleanup(self):
        left = []
        for cid in self.ids:
            if os.path.exists(os.path.join(self.root, cid)):
                left.append(cid)
                self.cli("delete", "--force", cid)
        for d in self.dirs:
            shutil.rmtree(d, ignore_errors=True)
        return left


@pytest.fixture(params=list(RUNTIMES))
def rt(request, spec_config):
    runtime = Runtime(request.param, spec_config)
    yield runtime
    runtime.cleanup()


def labelled(cfg, label=LABEL):
    cfg["process"]["selinuxLabel"] = label


def test_selinux_label_is_the_process_context(rt):
    cid = rt.new_id()
    r = rt.cli("run", "--bundle", rt.bundle(["cat", "/proc/self/attr/current"], labelled), cid)
    assert (r.rc, context(r.stdout)) == (0, LABEL), r


def test_exec_gets_its_own_label_or_the_containers(rt):
    cid = rt.new_id()
    assert rt.cli("run", "-d", "--bundle", rt.bundle(["sleep", "300"], labelled), cid).rc == 0
    r = rt.cli("exec", "--process-label", EXEC_LABEL, cid, "cat", "/proc/self/attr/current")
    assert (r.rc, context(r.stdout)) == (0, EXEC_LABEL), r
    r = rt.cli("exec", cid, "cat", "/proc/self/attr/current")
    assert (r.rc, context(r.stdout)) == (0, LABEL), r
    assert rt.cli("delete", "--force", cid).rc == 0


def test_mount_label_is_the_context_of_the_containers_filesystems(rt):
    def edit(cfg):
        labelled(cfg)
        cfg["linux"]["mountLabel"] = MOUNT_LABEL
    cid = rt.new_id()
    b = rt.bundle(["sh", "-c", "cat /proc/self/mountinfo > /mountinfo.txt; exec sleep 300"], edit)
    assert rt.cli("run", "-d", "--bundle", b, cid).rc == 0
    pid = rt.state(cid)["pid"]
    inside = os.path.join(b, "rootfs", "mountinfo.txt")
    wait_until(lambda: os.path.exists(inside) and open(inside).read().endswith("\n"), what="the container's mountinfo")
    with open(inside) as f:
        dev = [l for l in f if l.split()[4] == "/dev"]
    assert len(dev) == 1 and " - tmpfs " in dev[0] and f'context="{MOUNT_LABEL}"' in dev[0], dev
    # the roots of the tmpfs at /dev/shm and of the mqueue filesystem carry the label
    for path in ("dev/shm", "dev/mqueue"):
        assert context(os.getxattr(f"/proc/{pid}/root/{path}", "security.selinux").decode()) == MOUNT_LABEL, path
    assert rt.cli("delete", "--force", cid).rc == 0


def session_keyrings():
    """{id: description} of the session keyrings this process may view (/proc/keys)."""
    found = {}
    with open("/proc/keys") as f:
        for line in f:
            fields = line.split(None, 8)
            if fields[7] == "keyring" and fields[8].startswith("_ses"):
                found[int(fields[0], 16)] = fields[8].split(":")[0]
    return found


def key_label(key_id):
    libc = ctypes.CDLL(None, use_errno=True)
    buf = ctypes.create_string_buffer(512)
    n = libc.syscall(250, 17, ctypes.c_int32(key_id), buf, ctypes.c_size_t(512))  # keyctl(KEYCTL_GET_SECURITY)
    assert n > 0, f"keyctl(KEYCTL_GET_SECURITY, {key_id}): errno {ctypes.get_errno()}"
    return context(buf.value.decode())


def test_the_session_keyring_takes_the_process_label(rt):
    before = session_keyrings()
    cid = rt.new_id()
    assert rt.cli("run", "-d", "--bundle", rt.bundle(["sleep", "300"], labelled), cid).rc == 0
    new = {k: d for k, d in session_keyrings().items() if k not in before}
    assert len(new) == 1, (before, new)
    assert key_label(next(iter(new))) == LABEL
    assert rt.cli("delete", "--force", cid).rc == 0


def test_a_label_the_policy_does_not_know_fails_naming_the_field(rt):
    cid = rt.new_id()
    r = rt.cli("run", "--bundle", rt.bundle(["true"], lambda cfg: labelled(cfg, "system_u:system_r:crun_lite_no_such_t:s0")), cid)
    assert r.rc != 0, r
    if rt.name == "crun-lite":
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        assert len(lines) == 1 and ".process.selinuxLabel" in lines[0], r
    assert not os.path.exists(os.path.join(rt.root, cid)), "state left"


def test_features_says_selinux_is_enabled(rt):
    r = rt.cli("features", raw=True)
    assert r.rc == 0, r
    assert json.loads(r.stdout)["linux"]["selinux"]["enabled"] is True, r.stdout


@pytest.fixture(scope="session")
def podman_image():
    """podman's command line (root, its own storage under /tmp) and a busybox image imported there."""
    base = tempfile.mkdtemp(prefix="podman-")
    podman = ["podman", "--root", f"{base}/root", "--runroot", f"{base}/runroot", "--storage-driver", "vfs",
              "--cgroup-manager", "cgroupfs", "--events-backend", "file"]
    rootfs = os.path.join(base, "rootfs")
    make_rootfs(rootfs)
    tar = os.path.join(base, "busybox.tar")
    assert run_cmd(["tar", "-C", rootfs, "-cf", tar, "."]).rc == 0
    r = run_cmd(podman + ["import", tar, "localhost/busybox"], timeout=120)
    assert r.rc == 0, r
    yield podman, "localhost/busybox"
    run_cmd(podman + ["rm", "-af"], timeout=120)
    run_cmd(podman + ["system", "reset", "-f"], timeout=120)
    shutil.rmtree(base, ignore_errors=True)


def test_podman_with_selinux_labels(rt, podman_image):
    podman, image = podman_image
    r = run_cmd(podman + ["--runtime", rt.binary, "run", "--rm", "--network", "none",
                          "--security-opt", "label=type:svirt_t", "--security-opt", "label=filetype:svirt_image_t",
                          "--security-opt", "label=level:s0:c5,c6", image,
                          "sh", "-c", "cat /proc/self/attr/current; echo; cat /proc/self/mountinfo"], timeout=120)
    assert r.rc == 0, r
    lines = r.stdout.splitlines()
    assert context(lines[0]) == "system_u:system_r:svirt_t:s0:c5,c6", r
    dev = [l for l in lines[1:] if len(l.split()) > 4 and l.split()[4] == "/dev"]
    assert len(dev) == 1 and 'context="system_u:object_r:svirt_image_t:s0:c5,c6"' in dev[0], r
