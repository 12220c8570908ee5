"""The systemd cgroup driver (`--systemd-cgroup`) on a systemd 252 + pure cgroup v2 host, runc's
behaviour being the reference: every test runs against runc first, then against crun-lite.

linux.cgroupsPath is "slice:prefix:name"; the runtime asks systemd (over D-Bus) for a transient scope
"prefix-name.scope" in that slice holding the container's init, with the resources as unit
properties, and leaves no unit and no cgroup behind once the container is deleted.
Run with run-in-systemd-vm.sh (it boots the guest); see conftest.py for the fixtures.
"""

import json
import os

import pytest

from conftest import (CGROUP_ROOT, assert_nothing_left, cgroup_dirs_matching, cgroup_file, proc_cgroup, scope_of, systemctl,
                      unit_props, units_matching)
from crunlite_testlib.processes import process_alive, run_cmd, wait_until

MiB = 1024 * 1024
LIMITS = {"memory": {"limit": 64 * MiB}, "pids": {"limit": 50}, "cpu": {"quota": 50000, "period": 100000}}
SLEEP = ["sleep", "300"]


def wait_status(rt, cid, status, timeout=15):
    wait_until(lambda: rt.state(cid)["status"] == status, timeout=timeout, interval=0.1,
               what=f"{rt.name} container {cid} to be {status}")


def assert_unit_gone(unit, cgroup):
    props = unit_props(unit, "LoadState", "ActiveState")
    assert props.get("LoadState") == "not-found", f"{unit} still loaded: {props}"
    r = systemctl("status", unit)
    assert r.rc == 4 and "could not be found" in r.stderr, r
    assert not os.path.exists(cgroup), f"cgroup {cgroup} left behind"


def kill_and_delete(rt, cid, pid):
    r = rt.cli("kill", cid, "KILL")
    assert r.rc == 0, r
    wait_status(rt, cid, "stopped")
    r = rt.cli("delete", cid)
    assert r.rc == 0, r
    wait_until(lambda: not process_alive(pid), timeout=5, what=f"pid {pid} to go")


def sleeper_in_scope(rt, command):
    """A sleeping busybox container in system.slice:test:<id>, made with `create` or `run -d`;
    its unit is active. Returns (id, unit, cgroup dir, init pid)."""
    cid = rt.new_id()
    unit, cg = scope_of(cid)
    b = rt.make_bundle(SLEEP, f"system.slice:test:{cid}", LIMITS)
    r = rt.cli(*(["create"] if command == "create" else ["run", "-d"]), "--bundle", b, cid)
    assert r.rc == 0, r
    pid = rt.state(cid)["pid"]
    assert systemctl("is-active", unit).stdout.strip() == "active"
    return cid, unit, cg, pid


def read_rootfs_file(bundle, name, timeout=15):
    path = os.path.join(bundle, "rootfs", name)
    wait_until(lambda: os.path.exists(path) and open(path).read().endswith("\n"), timeout=timeout,
               what=f"the container to write /{name}")
    with open(path) as f:
        return f.read()


# --------------------------------------------------------------------------------------------
# a. run: the scope, its properties and cgroup files, the process's cgroup; gone after delete


def test_run_makes_scope_with_limits(rt):
    cid = rt.new_id()
    unit, cg = scope_of(cid)
    b = rt.make_bundle(["sh", "-c", "cat /proc/self/cgroup >/cgroup.inside; exec sleep 300"],
                       f"system.slice:test:{cid}", LIMITS)
    r = rt.cli("run", "-d", "--bundle", b, cid)
    assert r.rc == 0, r
    pid = rt.state(cid)["pid"]

    r = systemctl("is-active", unit)
    assert r.stdout.strip() == "active", r
    props = unit_props(unit, "MemoryMax", "TasksMax", "CPUQuotaPerSecUSec", "Slice")
    assert props == {"MemoryMax": "67108864", "TasksMax": "50", "CPUQuotaPerSecUSec": "500ms",
                     "Slice": "system.slice"}
    assert cgroup_file(cg, "memory.max") == "67108864"
    assert cgroup_file(cg, "pids.max") == "50"
    assert cgroup_file(cg, "cpu.max") == "50000 100000"
    assert proc_cgroup(pid) == f"0::/system.slice/{unit}"
    assert str(pid) in cgroup_file(cg, "cgroup.procs").split()
    # On cgroup v2, runc spec's config has a cgroup namespace: the container's cgroup is its "/".
    assert {"type": "cgroup"} in rt.spec_config["linux"]["namespaces"]
    assert read_rootfs_file(b, "cgroup.inside") == "0::/\n"

    kill_and_delete(rt, cid, pid)
    assert_unit_gone(unit, cg)
    assert_nothing_left(rt, cid)


# --------------------------------------------------------------------------------------------
# b. the memory limit is enforced (OOM kill), and an OOM-killed scope leaves no failed unit


def test_memory_limit_oom_kill_leaves_no_unit(rt):
    cid = rt.new_id()
    unit, cg = scope_of(cid)
    # dd's 200 MiB buffer is filled from /dev/zero, so it really is resident: more than the limit.
    script = ("dd if=/dev/zero of=/dev/null bs=200M count=1 2>/dev/null; echo dd=$? >/oom.tmp; "
              "cat /sys/fs/cgroup/memory.events >>/oom.tmp; mv /oom.tmp /oom; exec sleep 300")
    b = rt.make_bundle(["sh", "-c", script], f"system.slice:test:{cid}", LIMITS)
    r = rt.cli("run", "-d", "--bundle", b, cid)
    assert r.rc == 0, r
    pid = rt.state(cid)["pid"]
    out = read_rootfs_file(b, "oom", timeout=60)
    events = dict(l.split() for l in out.splitlines()[1:])
    assert out.splitlines()[0] == "dd=137", out  # SIGKILL
    assert int(events["oom_kill"]) >= 1, out
    assert cgroup_file(cg, "memory.max") == "67108864"

    kill_and_delete(rt, cid, pid)
    assert units_matching(f"test-{cid}*") == [], "a unit is left (active or failed) after delete"
    assert_unit_gone(unit, cg)
    assert_nothing_left(rt, cid)


# --------------------------------------------------------------------------------------------
# c. create / start / state / kill / delete, and delete --force of a running container


def test_create_start_kill_delete(rt):
    cid, unit, cg, pid = sleeper_in_scope(rt, "create")
    assert rt.state(cid)["status"] == "created"
    assert cgroup_file(cg, "cgroup.procs").split() == [str(pid)]
    assert proc_cgroup(pid) == f"0::/system.slice/{unit}"

    r = rt.cli("start", cid)
    assert r.rc == 0, r
    wait_status(rt, cid, "running")
    assert proc_cgroup(pid) == f"0::/system.slice/{unit}"
    kill_and_delete(rt, cid, pid)
    assert_unit_gone(unit, cg)
    assert_nothing_left(rt, cid)


def test_foreground_run_and_delete_of_a_collected_unit_answer_at_once(rt):
    """Each of these connects to systemd and calls it at once. Made from a shell script, where
    libdbus's BEGIN and the first call reached systemd 252 in one read, that call waited 30 s for
    a reply that never came (the delete failed; the run's delete warned)."""
    cid = rt.new_id()
    unit, cg = scope_of(cid)
    b = rt.make_bundle(["true"], f"system.slice:test:{cid}")
    script = ('"$0" --root "$1" --systemd-cgroup run --bundle "$2" "$3" && '
              '"$0" --root "$1" --systemd-cgroup run -d --bundle "$2" "$3" && sleep 1 && '
              '"$0" --root "$1" --systemd-cgroup delete "$3"')
    r = run_cmd(["sh", "-c", script, rt.binary, rt.root, b, cid], timeout=20)
    assert r.rc == 0, r
    # runc warns about a device systemd cannot allow (/dev/char/10:200); crun-lite says nothing.
    assert rt.name == "runc" or r.stderr == "", r
    assert_unit_gone(unit, cg)
    assert_nothing_left(rt, cid)


def test_delete_force_running(rt):
    cid, unit, cg, pid = sleeper_in_scope(rt, "run")
    assert rt.state(cid)["status"] == "running"

    r = rt.cli("delete", "--force", cid)
    assert r.rc == 0, r
    wait_until(lambda: not process_alive(pid), timeout=5, what=f"pid {pid} to go")
    assert_unit_gone(unit, cg)
    assert_nothing_left(rt, cid)


# --------------------------------------------------------------------------------------------
# d. delete --force without --systemd-cgroup (containerd's shim after a failed create)


def test_delete_force_without_systemd_flag(rt):
    cid, unit, cg, pid = sleeper_in_scope(rt, "create")

    r = rt.cli("delete", "--force", cid, systemd=False)
    assert r.rc == 0, r
    wait_until(lambda: not process_alive(pid), timeout=5, what=f"pid {pid} to go")
    assert_unit_gone(unit, cg)
    assert_nothing_left(rt, cid)


# --------------------------------------------------------------------------------------------
# e. a malformed cgroupsPath is refused and leaves nothing


def all_units():
    r = systemctl("list-units", "--all", "--plain", "--no-legend", "--full")
    assert r.rc == 0, r
    return {l.split()[0] for l in r.stdout.splitlines() if l.strip()}


def all_cgroups():
    return {d for d, _, _ in os.walk(CGROUP_ROOT)}


@pytest.mark.parametrize("path", ["a:b", "/abs/path", "x.slice:p:n:extra"])
def test_malformed_cgroups_path(rt, path):
    cid = rt.new_id()
    b = rt.make_bundle(SLEEP, path, LIMITS)
    units, cgroups = all_units(), all_cgroups()
    r = rt.cli("create", "--bundle", b, cid)
    assert r.rc != 0, r
    assert not os.path.exists(os.path.join(rt.root, cid)), f"state of {cid} left in {rt.root}"
    assert {u for u in all_units() - units if u.endswith((".scope", ".slice"))} == set(), r
    assert all_cgroups() - cgroups == set(), r
    assert_nothing_left(rt, cid)
    if rt.name == "crun-lite":
        assert len(r.err_lines) == 1 and ".linux.cgroupsPath" in r.err_lines[0], r


# --------------------------------------------------------------------------------------------
# f. a slice name is expanded as systemd does: test-a-b.slice is test.slice/test-a.slice/test-a-b.slice;
# no cgroupsPath at all means system.slice:<runtime's name>:<id>


def test_slice_expansion(rt):
    cid = rt.new_id()
    rt.units += ["test.slice"]  # the slices systemd made for the scope (stopped by the teardown)
    unit, cg = scope_of(cid, prefix="pfx", slice_dir="test.slice/test-a.slice/test-a-b.slice")
    b = rt.make_bundle(SLEEP, f"test-a-b.slice:pfx:{cid}", LIMITS)
    r = rt.cli("run", "-d", "--bundle", b, cid)
    assert r.rc == 0, r
    pid = rt.state(cid)["pid"]
    assert os.path.isdir(cg), cgroup_dirs_matching(cid)
    assert proc_cgroup(pid) == "0::" + cg[len(CGROUP_ROOT):]
    assert unit_props(unit, "Slice", "ActiveState") == {"Slice": "test-a-b.slice", "ActiveState": "active"}
    assert cgroup_file(cg, "memory.max") == "67108864"

    kill_and_delete(rt, cid, pid)
    assert_unit_gone(unit, cg)
    assert_nothing_left(rt, cid)


# Each runtime names the scope after itself: runc "system.slice:runc:<id>", crun-lite
# "system.slice:crun-lite:<id>" (docs/cgroups.md).
DEFAULT_PREFIX = {"runc": "runc", "crun-lite": "crun-lite"}


def test_empty_cgroups_path_is_own_scope_in_system_slice(rt):
    cid = rt.new_id()
    unit, cg = scope_of(cid, prefix=DEFAULT_PREFIX[rt.name])
    b = rt.make_bundle(SLEEP, "", LIMITS)
    r = rt.cli("run", "-d", "--bundle", b, cid)
    assert r.rc == 0, r
    pid = rt.state(cid)["pid"]
    assert proc_cgroup(pid) == f"0::/system.slice/{unit}"
    assert unit_props(unit, "MemoryMax", "ActiveState") == {"MemoryMax": "67108864", "ActiveState": "active"}

    kill_and_delete(rt, cid, pid)
    assert_unit_gone(unit, cg)
    assert_nothing_left(rt, cid)


# --------------------------------------------------------------------------------------------
# g. update, pause/resume, exec and ps of a running container (without a cgroup namespace)


def test_update_pause_exec_ps(rt, tmp_path):
    cid = rt.new_id()
    unit, cg = scope_of(cid)
    b = rt.make_bundle(SLEEP, f"system.slice:test:{cid}", LIMITS,
                       edit=lambda c: c["linux"]["namespaces"].remove({"type": "cgroup"}))
    r = rt.cli("run", "-d", "--bundle", b, cid)
    assert r.rc == 0, r
    pid = rt.state(cid)["pid"]

    r = rt.cli("update", "--memory", "128m", cid)
    assert r.rc == 0, r
    assert unit_props(unit, "MemoryMax") == {"MemoryMax": str(128 * MiB)}
    assert cgroup_file(cg, "memory.max") == str(128 * MiB)
    assert cgroup_file(cg, "pids.max") == "50"  # untouched by update

    r = rt.cli("pause", cid)
    assert r.rc == 0, r
    assert rt.state(cid)["status"] == "paused"
    assert cgroup_file(cg, "cgroup.freeze") == "1"
    assert "frozen 1" in cgroup_file(cg, "cgroup.events").splitlines()
    r = rt.cli("resume", cid)
    assert r.rc == 0, r
    assert rt.state(cid)["status"] == "running"
    assert cgroup_file(cg, "cgroup.freeze") == "0"

    r = rt.cli("exec", cid, "cat", "/proc/self/cgroup")
    assert r.rc == 0 and r.stdout == f"0::/system.slice/{unit}\n", r  # no cgroup namespace: the full path
    pid_file = tmp_path / "exec.pid"
    r = rt.cli("exec", "-d", "--pid-file", pid_file, cid, "sleep", "300")
    assert r.rc == 0, r
    exec_pid = int(pid_file.read_text())
    assert proc_cgroup(exec_pid) == f"0::/system.slice/{unit}"

    r = rt.cli("ps", "--format", "json", cid)
    assert r.rc == 0, r
    assert sorted(json.loads(r.stdout)) == sorted([pid, exec_pid]), r

    kill_and_delete(rt, cid, pid)
    assert not process_alive(exec_pid)
    assert_unit_gone(unit, cg)
    assert_nothing_left(rt, cid)
