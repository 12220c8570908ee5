"""Faults and concurrency (hardening issue): crun-lite killed with SIGKILL at many points of its
work, then `delete --force`, must leave nothing; many commands on one ID at once must leave
exactly one winner and an uncorrupted state."""

import json
import os
import signal
import subprocess
import tempfile
import threading
import time

import pytest

from helpers import (cgroup_dirs_named, mounts_mentioning, pids_in_container_cgroup, reap_orphans,
                     wait_until)

# Delays after which `create` is killed: from before it has parsed anything to after it is done
# (a create takes about 10-30 ms here), so every phase gets hit on some run.
KILL_DELAYS_MS = [0, 1, 2, 3, 4, 5, 6, 8, 10, 12, 14, 17, 20, 25, 30, 40, 60]


def assert_no_trace(rt, cid, bundle):
    assert not os.path.exists(os.path.join(rt.root, cid)), f"state file of {cid} left behind"
    assert cgroup_dirs_named(cid) == [], f"cgroups of {cid} left behind: {cgroup_dirs_named(cid)}"
    assert pids_in_container_cgroup(cid) == [], f"processes of {cid} left behind"
    assert mounts_mentioning(bundle.path) == [], f"mounts of {cid} left behind"


@pytest.mark.parametrize("command", ["create", "run"])
def test_sigkill_at_many_points_then_delete_force_leaves_nothing(rt, make_bundle, command):
    bundle = make_bundle(args=["sleep", "30"])
    tried = 0
    for delay in KILL_DELAYS_MS:
        cid = rt.new_id("k")
        extra = ["-d"] if command == "run" else []
        p = subprocess.Popen(rt.argv(command, "--bundle", bundle, *extra, cid),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay / 1000)
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=10)
        tried += 1
        r = rt.delete(cid, force=True)
        assert r.rc == 0, (delay, r)
        reap_orphans()
        wait_until(lambda: pids_in_container_cgroup(cid) == [], what=f"processes of {cid} to end")
        assert_no_trace(rt, cid, bundle)
    assert tried == len(KILL_DELAYS_MS)


def test_sigkill_of_exec_leaves_the_container_usable(rt, make_bundle):
    bundle = make_bundle(args=["sleep", "30"])
    cid = rt.new_id()
    assert rt.run(cid, bundle, "-d").rc == 0
    for delay in (0, 2, 5, 10, 20):
        p = subprocess.Popen(rt.argv("exec", cid, "sleep", "30"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay / 1000)
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=10)
    reap_orphans()
    r = rt.cli("exec", cid, "echo", "still-usable")
    assert r.rc == 0 and "still-usable" in r.stdout, r
    assert rt.delete(cid, force=True).rc == 0
    reap_orphans()
    assert_no_trace(rt, cid, bundle)


class Outcome:
    def __init__(self, returncode, stderr):
        self.returncode, self.stderr = returncode, stderr


def parallel(argvs, timeout=60):
    # stdout to /dev/null and stderr to a file: a container's init inherits them, and a pipe it
    # holds open would keep us waiting.
    results = [None] * len(argvs)

    def one(i, argv):
        with tempfile.TemporaryFile() as err:
            try:
                rc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=err, timeout=timeout).returncode
            except subprocess.TimeoutExpired:
                rc = "timeout"
            err.seek(0)
            results[i] = Outcome(rc, err.read().decode(errors="replace"))

    threads = [threading.Thread(target=one, args=(i, a)) for i, a in enumerate(argvs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_twenty_creates_of_one_id_have_exactly_one_winner(rt, make_bundle):
    bundle = make_bundle(args=["sleep", "30"])
    cid = rt.new_id()
    results = parallel([rt.argv("create", "--bundle", bundle, cid) for _ in range(20)])
    winners = [r for r in results if r.returncode == 0]
    losers = [r for r in results if r.returncode != 0]
    assert len(winners) == 1, [r.stderr for r in results]
    for r in losers:
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "exists" in lines[0], r.stderr
    state = json.loads(rt.cli("state", cid).stdout)
    assert state["status"] == "created" and state["pid"] > 0
    assert rt.delete(cid, force=True).rc == 0
    reap_orphans()
    assert_no_trace(rt, cid, bundle)


def test_twenty_deletes_of_one_id_all_succeed_and_leave_nothing(rt, make_bundle):
    bundle = make_bundle(args=["sleep", "30"])
    cid = rt.new_id()
    assert rt.run(cid, bundle, "-d").rc == 0
    results = parallel([rt.argv("delete", "--force", cid) for _ in range(20)])
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
    reap_orphans()
    assert_no_trace(rt, cid, bundle)


def test_hundred_containers_concurrently(rt, make_bundle):
    bundle = make_bundle(args=["true"])
    ids = [rt.new_id("p") for _ in range(100)]
    results = parallel([rt.argv("run", "--bundle", bundle, cid) for cid in ids], timeout=120)
    failed = [(cid, r.returncode, r.stderr) for cid, r in zip(ids, results) if r.returncode != 0]
    assert failed == [], failed[:5]
    reap_orphans()
    for cid in ids:
        assert_no_trace(rt, cid, bundle)
