"""Fixtures for the crun-lite integration suite.

Every test gets:
  * ``rt``: a :class:`helpers.Runtime` bound to a fresh state root under /run/crun-lite-test/
    (passed as ``--root DIR`` before the subcommand on every call). Its teardown runs
    ``delete --force`` on every container left, then asserts that nothing is left: no state
    directory entry, no container process, no cgroup directory named after a container
    (/sys/fs/cgroup/*/crun-lite-<id>, or <id> under a /crun-lite parent), no host mountinfo line
    mentioning a bundle path.
  * ``make_bundle``: ``make_bundle(args=[...], edit=lambda cfg: ...)`` builds a bundle with a
    busybox-static rootfs and a config.json written by ``crun-lite spec`` and then edited.
  * ``new_id``: unique container IDs.
  * ``each_rt``: like ``rt``, once per runtime: crun-lite, and also runc when the test is marked
    ``@pytest.mark.runc_too(since="1.3.0")`` (runc supports the behaviour from that release).
    runc is $RUNC, else ../shared/tools/anchors/runc-1.3.6, else /usr/sbin/runc; a runc older than
    ``since`` skips that one parameter and says which version it found. Such a test asserts
    behaviour only (what the container does and sees, exit statuses), never crun-lite's wording;
    ``each_rt.name`` says which runtime it is.

Every subprocess call has a timeout, so a hang fails the test instead of blocking CI.
CRUN_LITE_SYSTEMD_CGROUP=1 is the systemd mode (README.md): --systemd-cgroup on every call, the
teardown also wants no systemd unit of the containers left.
Run as root: ``CRUN_LITE=/path/to/crun-lite pytest-3 -q tests/integration`` (CRUN_LITE defaults
to build/crun-lite of this repository).
"""

import os
import re
import shutil
import tempfile

import pytest

from helpers import (BUSYBOX, CRUN_LITE, RUNC, RUNC_VERSION, SYSTEMD_CGROUP, TEST_ROOT_BASE, Runtime,
                     become_subreaper, reap_orphans)

# --------------------------------------------------------------------------------------------
# The systemd mode (CRUN_LITE_SYSTEMD_CGROUP=1, see helpers.py): a test marked
# @pytest.mark.cgroupfs_only("why") asserts what only the cgroupfs driver does, and is skipped there.


def pytest_configure(config):
    config.addinivalue_line("markers", "cgroupfs_only(reason): not run with CRUN_LITE_SYSTEMD_CGROUP=1, for reason")
    config.addinivalue_line("markers", "runc_too(since): the each_rt fixture also runs the test against runc >= since")
    config.addinivalue_line("markers", "two_cpus: tells CPU masks apart, so needs 2 online CPUs")


def pytest_generate_tests(metafunc):
    if "each_rt" in metafunc.fixturenames:
        runtimes = ["crun-lite"]
        if metafunc.definition.get_closest_marker("runc_too") is not None:
            runtimes.append("runc")
        metafunc.parametrize("each_rt", runtimes, indirect=True)


def pytest_collection_modifyitems(config, items):
    if not SYSTEMD_CGROUP:
        return
    for item in items:
        mark = item.get_closest_marker("cgroupfs_only")
        if mark is not None:
            item.add_marker(pytest.mark.skip(reason="cgroupfs only: " + (mark.args[0] if mark.args else "")))


# --------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="session", autouse=True)
def _session_setup():
    if os.geteuid() != 0:
        pytest.fail("the crun-lite integration tests need root")
    if not os.access(CRUN_LITE, os.X_OK):
        pytest.fail(f"crun-lite binary not found at {CRUN_LITE} (build it, or set CRUN_LITE)")
    if not os.path.exists(BUSYBOX):
        pytest.fail(f"{BUSYBOX} missing: apt-get install -y busybox-static")
    # Container inits whose `create` has exited are re-parented to us, so that they are reaped
    # (this machine's pid 1 may not reap orphans) and never outlive the session.
    become_subreaper()
    os.makedirs(TEST_ROOT_BASE, mode=0o755, exist_ok=True)
    os.chmod(TEST_ROOT_BASE, 0o755)
    base = tempfile.mkdtemp(prefix="bundles-", dir="/tmp")
    os.chmod(base, 0o755)
    yield base
    reap_orphans()
    shutil.rmtree(base, ignore_errors=True)
    # Every test's teardown removed its own state root: the base goes too, unless something is
    # left in it (then the teardowns said what).
    try:
        os.rmdir(TEST_ROOT_BASE)
    except OSError:
        pass


@pytest.fixture
def state_root(request):
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)[:60]
    # Again here: another session's end removes the base when it finds it empty.
    os.makedirs(TEST_ROOT_BASE, mode=0o755, exist_ok=True)
    root = tempfile.mkdtemp(prefix=f"{name}-", dir=TEST_ROOT_BASE)
    os.rmdir(root)  # crun-lite creates it; a missing root must work too
    return root


@pytest.fixture
def rt(state_root, _session_setup, request):
    runtime = Runtime(state_root, _session_setup, request.node.name)
    yield runtime
    problems = runtime.teardown()
    assert not problems, "teardown found leftovers:\n  " + "\n  ".join(problems)


@pytest.fixture
def each_rt(request, state_root, _session_setup):
    binary = None
    if request.param == "runc":
        since = request.node.get_closest_marker("runc_too").kwargs.get("since", "1.0.0")
        wanted = tuple(int(x) for x in since.split("."))
        if RUNC is None:
            pytest.fail("no runc to compare with: set RUNC, or install Debian's runc")
        if RUNC_VERSION is None or RUNC_VERSION < wanted:
            pytest.skip(f"{RUNC} is runc {RUNC_VERSION}; this behaviour needs runc >= {since} (set RUNC)")
        binary = RUNC
    runtime = Runtime(state_root, _session_setup, request.node.name, binary=binary, name=request.param)
    yield runtime
    problems = runtime.teardown()
    assert not problems, "teardown found leftovers:\n  " + "\n  ".join(problems)


@pytest.fixture
def make_bundle(rt):
    return rt.make_bundle


@pytest.fixture
def new_id(rt):
    return rt.new_id
