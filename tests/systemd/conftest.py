"""Fixtures for the systemd cgroup driver tests (tests/systemd/), which need systemd as PID 1 on a
pure cgroup v2 host: run them with run-in-systemd-vm.sh, which boots such a guest.

Every test gets ``rt``, a :class:`SdRuntime`: one of the two runtimes (runc first, the reference,
then crun-lite), bound to a fresh state root under /run/sdvm-test/ and always given the global
flag ``--systemd-cgroup`` (unless a call says ``systemd=False``). Its teardown runs ``delete --force``
on what is left, then records as failures any state entry, systemd unit, cgroup directory or
process left behind by the test's containers, and only then stops and removes them.

Helpers come from tests/lib/crunlite_testlib (run_cmd with timeouts, the busybox bundles, the
runtime's command line); the bundles' config.json is `runc spec`'s, made once per session.
"""

import json
import os
import re
import shutil
import sys
import tempfile
import time
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from crunlite_testlib.bundles import BUSYBOX, make_bundle  # noqa: E402
from crunlite_testlib.processes import run_cmd  # noqa: E402
from crunlite_testlib.runtime import RuntimeCli, default_crun_lite  # noqa: E402

RUNTIMES = {
    "runc": os.environ.get("RUNC") or "/usr/sbin/runc",
    "crun-lite": default_crun_lite(),
}
STATE_BASE = "/run/sdvm-test"
CGROUP_ROOT = "/sys/fs/cgroup"
TIMEOUT = 30


# --------------------------------------------------------------------------------------------
# systemd and cgroup probes


def systemctl(*args, timeout=TIMEOUT):
    return run_cmd(["systemctl", *args], timeout=timeout)


def unit_props(unit, *props):
    """{prop: value} from `systemctl show -p ...` (LoadState=not-found for an unknown unit)."""
    r = systemctl("show", *[f"--property={p}" for p in props], unit)
    assert r.rc == 0, r
    return dict(l.split("=", 1) for l in r.stdout.splitlines() if "=" in l)


def units_matching(pattern):
    """Loaded units (any state) whose name matches the glob `pattern`: [(name, active, sub)]."""
    r = systemctl("list-units", "--all", "--plain", "--no-legend", "--full", pattern)
    assert r.rc == 0, r
    return [(f[0], f[2], f[3]) for f in (l.split() for l in r.stdout.splitlines()) if len(f) >= 4]


def cgroup_dirs_matching(needle):
    """Cgroup directories whose name contains `needle`, anywhere under /sys/fs/cgroup."""
    found = []
    for d, subdirs, _ in os.walk(CGROUP_ROOT):
        found += [os.path.join(d, s) for s in subdirs if needle in s]
    return found


def cgroup_file(path, name):
    with open(os.path.join(path, name)) as f:
        return f.read().strip()


def proc_cgroup(pid):
    with open(f"/proc/{pid}/cgroup") as f:
        return f.read().strip()


def wait_for(predicate, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def scope_of(cid, prefix="test", slice_dir="system.slice"):
    """The unit and cgroup directory of container `cid` in slice:prefix:<cid>."""
    unit = f"{prefix}-{cid}.scope"
    return unit, f"{CGROUP_ROOT}/{slice_dir}/{unit}"


def assert_nothing_left(rt, cid):
    assert not os.path.exists(os.path.join(rt.root, cid)), f"state of {cid} left in {rt.root}"
    assert units_matching(f"*{cid}*") == [], "units left"
    assert cgroup_dirs_matching(cid) == [], "cgroups left"


# --------------------------------------------------------------------------------------------
# The runtime under test


class SdRuntime(RuntimeCli):
    def __init__(self, name, binary, root, spec_config, bundle_base):
        super().__init__(binary, root, ["--systemd-cgroup"])
        self.name = name
        self.spec_config = spec_config
        self.bundle_base = bundle_base
        self.ids = []
        self.units = []  # extra units a test made (slices) for the teardown to stop
        self.bundles = []

    def new_id(self):
        cid = uuid.uuid4().hex[:12]
        self.ids.append(cid)
        return cid

    def cli(self, *args, systemd=True, timeout=TIMEOUT):
        return super().cli(*args, timeout=timeout, global_flags=None if systemd else [])

    def make_bundle(self, args, cgroups_path, resources=None, edit=None):
        """A busybox bundle with `runc spec`'s config, a writable rootfs, no terminal, `args`,
        linux.cgroupsPath = cgroups_path and linux.resources updated with `resources`."""
        path = tempfile.mkdtemp(prefix="bundle-", dir=self.bundle_base)
        self.bundles.append(path)

        def configure(cfg):
            cfg["process"]["terminal"] = False
            cfg["root"]["readonly"] = False
            cfg["linux"]["cgroupsPath"] = cgroups_path
            cfg["linux"].setdefault("resources", {}).update(resources or {})
            if edit:
                edit(cfg)
        make_bundle(path, self.spec_config, args=args, edit=configure)
        return path

    def leftovers(self):
        """What the test's containers left: state entries, units and cgroup dirs named after them."""
        found = []
        entries = sorted(os.listdir(self.root)) if os.path.isdir(self.root) else []
        found += [f"state entry {self.root}/{e}" for e in entries]
        for cid in self.ids:
            found += [f"unit {u} ({a}/{s})" for u, a, s in units_matching(f"*{cid}*")]
            found += [f"cgroup {d}" for d in cgroup_dirs_matching(cid)]
        return found

    def teardown(self):
        problems = []

        def attempt(what, fn):
            try:
                fn()
            except Exception as e:  # noqa: BLE001 - a timeout or a probe failing is reported too
                problems.append(f"{what}: {e}")

        def force_delete(cid):
            r = self.cli("delete", "--force", cid)
            assert r.rc == 0, r

        for cid in self.ids:
            if os.path.exists(os.path.join(self.root, cid)):
                attempt(f"delete --force {cid} failed", lambda: force_delete(cid))
        attempt("looking for leftovers", lambda: problems.extend(f"left behind: {x}" for x in self.leftovers()))
        # Clean up whatever is left, so that one failure does not cascade into the next tests. The
        # processes are killed first: `systemctl stop` would wait 90 s for a container's init,
        # which ignores SIGTERM.
        for cid in self.ids:
            dirs = sorted(cgroup_dirs_matching(cid), key=len, reverse=True)
            for d in dirs:
                _kill_all(d)
            units = []
            attempt("listing units", lambda: units.extend(units_matching(f"*{cid}*")))
            for u, _, _ in units:
                attempt(f"stopping {u}", lambda: systemctl("stop", u))
                attempt(f"reset-failed {u}", lambda: systemctl("reset-failed", u))
            for d in dirs:
                if not wait_for(lambda: _rmdir(d), timeout=5):
                    problems.append(f"cannot remove cgroup {d}")
        for u in reversed(self.units):
            attempt(f"stopping {u}", lambda: systemctl("stop", u))
            attempt(f"reset-failed {u}", lambda: systemctl("reset-failed", u))
        shutil.rmtree(self.root, ignore_errors=True)
        for b in self.bundles:
            shutil.rmtree(b, ignore_errors=True)
        return problems


def _kill_all(cgroup):
    try:
        with open(os.path.join(cgroup, "cgroup.kill"), "w") as f:
            f.write("1")
    except OSError:
        pass


def _rmdir(d):
    try:
        os.rmdir(d)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return True


# --------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="session")
def session_env():
    if os.geteuid() != 0:
        pytest.fail("the systemd driver tests need root")
    if not os.path.isdir("/run/systemd/system") or open("/proc/1/comm").read().strip() != "systemd":
        pytest.fail("systemd is not PID 1 here: run these tests with tests/systemd/run-in-systemd-vm.sh")
    with open("/proc/self/mountinfo") as f:
        if not any(l.split(" - ")[1].startswith("cgroup2 ") and l.split()[4] == CGROUP_ROOT for l in f):
            pytest.fail("/sys/fs/cgroup is not a cgroup2 mount")
    if not os.path.exists(BUSYBOX):
        pytest.fail(f"{BUSYBOX} missing: apt-get install busybox-static")
    if not os.access(RUNTIMES["runc"], os.X_OK):
        pytest.fail(f"runc missing at {RUNTIMES['runc']}: apt-get install runc (the reference, and `runc spec`)")
    base = tempfile.mkdtemp(prefix="sdvm-bundles-", dir="/tmp")
    r = run_cmd([RUNTIMES["runc"], "spec", "--bundle", base])
    assert r.rc == 0, r
    with open(os.path.join(base, "config.json")) as f:
        spec_config = json.load(f)
    os.unlink(os.path.join(base, "config.json"))
    os.makedirs(STATE_BASE, exist_ok=True)
    yield base, spec_config
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(params=list(RUNTIMES))
def rt(request, session_env):
    binary = RUNTIMES[request.param]
    if not os.access(binary, os.X_OK):
        pytest.fail(f"{request.param} binary not found at {binary} (build it, or set CRUN_LITE / RUNC)")
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)[:60]
    root = tempfile.mkdtemp(prefix=f"{name}-", dir=STATE_BASE)
    base, spec_config = session_env
    runtime = SdRuntime(request.param, binary, root, spec_config, base)
    yield runtime
    problems = runtime.teardown()
    assert not problems, "teardown found leftovers:\n  " + "\n  ".join(problems)


def pytest_collection_modifyitems(items):
    """Every runc case first (the reference), then every crun-lite case."""
    order = list(RUNTIMES)
    items.sort(key=lambda it: order.index(it.callspec.params.get("rt", order[0])) if hasattr(it, "callspec") else 0)
