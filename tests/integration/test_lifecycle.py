"""The container lifecycle through runc's command line: create, start, state, kill, delete,
run (foreground, detached, --keep), signal forwarding, and concurrent commands on one ID."""

import datetime
import json
import os
import re
import signal
import stat
import threading
import time

import pytest

from helpers import (cgroup_dirs_at, cgroup_dirs_named, crun_lite_cgroup_parents, one_error_line, process_alive,
                     wait_until)

LOOP = "while :; do sleep 0.1; done"
RFC3339_NANO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$")
STATE_FIELDS = {"ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "owner"}


def add_out_dir(bundle, name="out"):
    """Bind-mounts a fresh host directory of the bundle at /<name>; returns its host path."""
    host = os.path.join(bundle.path, name)
    os.mkdir(host)

    def edit(cfg):
        cfg["mounts"].append({"destination": "/" + name, "type": "bind", "source": host, "options": ["rbind", "rw"]})

    bundle.edit(edit)
    return host


def parse_created(text):
    assert RFC3339_NANO.match(text), text
    base = re.sub(r"\.\d+", "", text).replace("Z", "+00:00")
    return datetime.datetime.fromisoformat(base)


# ------------------------------------------------------------------------------------------------
# run


def test_run_exit_status_is_the_containers(rt, make_bundle, new_id):
    bundle = make_bundle(args=["sh", "-c", "exit 42"])
    cid = new_id()
    r = rt.run(cid, bundle)
    assert r.rc == 42, r
    assert not os.path.exists(os.path.join(rt.root, cid)), "run without --keep must delete the container"
    assert rt.cli("state", cid).rc != 0


@pytest.mark.parametrize("detach", [False, True])
def test_run_of_a_config_without_process_is_refused_and_leaves_nothing(rt, make_bundle, new_id, detach):
    # Such a container can be created (and deleted) but never started: `run` says so, as `start`
    # does, and removes what its create made.
    bundle = make_bundle(edit=lambda cfg: cfg.pop("process") and None)
    cid = new_id()
    r = rt.run(cid, bundle, *(["-d"] if detach else []))
    assert r.rc != 0, r
    assert len(r.err_lines) == 1 and "cannot start a container without a process" in r.err_lines[0], r
    assert not os.path.exists(os.path.join(rt.root, cid))
    assert cgroup_dirs_named(cid) == []


@pytest.mark.cgroupfs_only("the default cgroup path is the cgroupfs driver's; with systemd each container is a "
                           "scope of system.slice, which systemd owns")
def test_default_cgroup_is_one_level_at_the_root_and_goes_with_its_container(rt, make_bundle, new_id):
    cid = new_id()
    assert rt.run(cid, make_bundle(args=["sh", "-c", "sleep 100"]), "-d").rc == 0
    assert cgroup_dirs_at(f"/crun-lite/{cid}") == [], "the container went below a shared /crun-lite parent"
    dirs = cgroup_dirs_named(cid)
    # Right below each hierarchy's root: /sys/fs/cgroup/<v1 hierarchy>/ or /sys/fs/cgroup/ (v2).
    assert dirs and all(re.fullmatch(rf"/sys/fs/cgroup(/[^/]+)?/crun-lite-{re.escape(cid)}", d) for d in dirs), dirs
    assert rt.delete(cid, force=True).rc == 0
    assert [d for d in dirs if os.path.exists(d)] == [], "the container's cgroups stayed on the host"


@pytest.mark.cgroupfs_only("the shared crun-lite parent cgroup is the cgroupfs driver's; with systemd each "
                           "container is a scope of system.slice, which systemd owns")
def test_shared_cgroup_parent_goes_with_the_last_container(rt, make_bundle, new_id):
    # /crun-lite/<id> was the default path before /crun-lite-<id>: containers made that way (by an
    # older crun-lite, or given that cgroupsPath) still leave no shared parent behind.
    others = crun_lite_cgroup_parents()
    assert others == [], f"containers of another test are below a shared parent: {others}"
    first, second = new_id(), new_id()
    for cid in (first, second):
        bundle = make_bundle(args=["sh", "-c", "sleep 100"],
                             edit=lambda cfg, cid=cid: cfg["linux"].update(cgroupsPath=f"/crun-lite/{cid}"))
        assert rt.run(cid, bundle, "-d").rc == 0
    parents = crun_lite_cgroup_parents()
    assert parents
    assert rt.delete(first, force=True).rc == 0
    assert crun_lite_cgroup_parents() == parents, "removed while another container was below it"
    assert rt.delete(second, force=True).rc == 0
    assert crun_lite_cgroup_parents() == [], "the shared parent stayed on the host"


@pytest.mark.cgroupfs_only("cgroupsPath is a cgroupfs path; with systemd it names a slice and a scope")
def test_a_crun_lite_cgroup_below_the_root_is_the_callers_and_stays(rt, make_bundle, new_id):
    # Only /crun-lite right below a hierarchy's root is the runtime's shared parent. A parent of
    # that name deeper down belongs to the caller's tree and stays, as every parent of a
    # cgroupsPath does (runc and crun remove the container's own cgroup only).
    cid = new_id()
    outer = f"/crun-lite-test-outer-{cid}"
    bundle = make_bundle(args=["sh", "-c", "sleep 100"],
                         edit=lambda cfg: cfg["linux"].update(cgroupsPath=f"{outer}/crun-lite/{cid}"))
    assert rt.run(cid, bundle, "-d").rc == 0
    parents = cgroup_dirs_at(f"{outer}/crun-lite")
    try:
        assert parents and cgroup_dirs_at(f"{outer}/crun-lite/{cid}"), "the container is not at its cgroupsPath"
        assert rt.delete(cid, force=True).rc == 0
        assert cgroup_dirs_at(f"{outer}/crun-lite/{cid}") == [], "the container's cgroups stayed on the host"
        assert cgroup_dirs_at(f"{outer}/crun-lite") == parents, "the caller's crun-lite cgroup was removed"
    finally:
        rt.delete(cid, force=True)
        for d in cgroup_dirs_at(f"{outer}/crun-lite") + cgroup_dirs_at(outer):
            os.rmdir(d)


def test_run_stdout_and_stderr_reach_the_caller(rt, make_bundle, new_id):
    bundle = make_bundle(args=["sh", "-c", "echo to-stdout; echo to-stderr >&2"])
    r = rt.run(new_id(), bundle)
    assert r.rc == 0, r
    assert r.stdout == "to-stdout\n", r
    assert r.stderr == "to-stderr\n", r


def test_run_uses_the_current_directory_as_bundle(rt, make_bundle, new_id):
    bundle = make_bundle(args=["sh", "-c", "exit 3"])
    r = rt.cli("run", new_id(), cwd=bundle.path)
    assert r.rc == 3, r


@pytest.mark.parametrize("code", [0, 1, 255])
def test_run_exit_codes(rt, make_bundle, new_id, code):
    r = rt.run(new_id(), make_bundle(args=["sh", "-c", f"exit {code}"]))
    assert r.rc == code, r


def test_run_passes_stdin_through(rt, make_bundle, new_id):
    bundle = make_bundle(args=["sh", "-c", "tr a-z A-Z"])
    r = rt.cli("run", "--bundle", bundle, new_id(), input_data="hello stdin\n")
    assert r.rc == 0, r
    assert r.stdout == "HELLO STDIN\n"


def test_run_foreground_with_a_concurrent_delete_force(rt, make_bundle, new_id):
    bundle = make_bundle(args=["sh", "-c", LOOP])
    cid = new_id()
    p = rt.run_foreground(cid, bundle)
    r = rt.delete(cid, force=True)
    assert r.rc == 0, r
    assert p.wait(timeout=15) == 137, rt.popen_output(p)
    out, err = rt.popen_output(p)
    assert "does not exist" not in err and "panic" not in err.lower(), err
    assert not os.path.exists(os.path.join(rt.root, cid))


def test_run_detach_returns_at_once_and_leaves_it_running(rt, make_bundle, new_id):
    bundle = make_bundle(args=["sh", "-c", LOOP])
    cid = new_id()
    pid_file = os.path.join(bundle.path, "run.pid")
    t0 = time.monotonic()
    r = rt.run(cid, bundle, "-d", "--pid-file", pid_file, timeout=15)
    assert r.rc == 0, r
    assert time.monotonic() - t0 < 5
    s = rt.state(cid)
    assert s["status"] == "running"
    with open(pid_file) as f:
        assert f.read() == str(s["pid"])
    assert process_alive(s["pid"])
    time.sleep(0.3)
    assert rt.status(cid) == "running"
    assert rt.delete(cid, force=True).rc == 0
    wait_until(lambda: not process_alive(s["pid"]), what="init to die after delete --force")


def test_run_detach_long_flag(rt, make_bundle, new_id):
    bundle = make_bundle(args=["sh", "-c", LOOP])
    cid = new_id()
    assert rt.run(cid, bundle, "--detach").rc == 0
    assert rt.status(cid) == "running"
    assert rt.delete(cid, force=True).rc == 0


def test_run_keep_leaves_a_stopped_container(rt, make_bundle, new_id):
    bundle = make_bundle(args=["sh", "-c", "exit 3"])
    cid = new_id()
    r = rt.run(cid, bundle, "--keep")
    assert r.rc == 3, r
    s = rt.state(cid)
    assert s["status"] == "stopped"
    assert s["pid"] == 0
    assert os.path.isfile(os.path.join(rt.root, cid))
    r = rt.delete(cid)
    assert r.rc == 0, r
    assert not os.path.exists(os.path.join(rt.root, cid))


def test_run_killed_by_sigkill_exits_137(rt, make_bundle, new_id):
    bundle = make_bundle(args=["sh", "-c", LOOP])
    cid = new_id()
    p = rt.run_foreground(cid, bundle)
    r = rt.kill(cid, "KILL")
    assert r.rc == 0, r
    assert p.wait(timeout=15) == 137, rt.popen_output(p)
    assert not os.path.exists(os.path.join(rt.root, cid))


@pytest.mark.parametrize("sig,code", [(signal.SIGTERM, 23), (signal.SIGHUP, 24), (signal.SIGINT, 25),
                                      (signal.SIGUSR1, 26)])
def test_run_forwards_signals_to_the_container(rt, make_bundle, new_id, sig, code):
    bundle = make_bundle()
    out = add_out_dir(bundle)
    name = signal.Signals(sig).name[3:]
    bundle.edit(lambda cfg: cfg["process"].update(
        args=["sh", "-c", f"trap 'exit {code}' {name}; touch /out/ready; {LOOP}"]))
    cid = new_id()
    p = rt.popen("run", "--bundle", bundle, cid)
    wait_until(lambda: os.path.exists(os.path.join(out, "ready")) or p.poll() is not None,
               what="the trap to be set")
    assert p.poll() is None, rt.popen_output(p)
    p.send_signal(sig)
    assert p.wait(timeout=15) == code, rt.popen_output(p)
    assert not os.path.exists(os.path.join(rt.root, cid))


def test_run_foreground_exit_by_signal_inside(rt, make_bundle, new_id):
    # The container's process kills itself with a signal it does not catch: 128 + N. (Without a
    # pid namespace of its own: pid 1 of a namespace is immune to its own uncaught signals.)
    def no_pid_ns(cfg):
        cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"] if n["type"] != "pid"]

    bundle = make_bundle(args=["sh", "-c", "kill -USR2 $$; sleep 5"], edit=no_pid_ns)
    r = rt.run(new_id(), bundle, timeout=20)
    assert r.rc == 128 + signal.SIGUSR2, r


# ------------------------------------------------------------------------------------------------
# create / start / state / delete


def test_create_start_state_delete(rt, make_bundle, new_id):
    bundle = make_bundle()
    out = add_out_dir(bundle)
    bundle.edit(lambda cfg: cfg["process"].update(args=[
        "sh", "-c", "touch /out/started; while [ ! -e /out/finish ]; do usleep 20000; done; echo bye > /out/finished"]))
    cid = new_id()
    pid_file = os.path.join(bundle.path, "container.pid")
    before = datetime.datetime.now(datetime.timezone.utc)
    r = rt.create(cid, bundle, "--pid-file", pid_file)
    assert r.stdout == "", r

    s = rt.state(cid)
    assert STATE_FIELDS <= set(s), s
    assert s["id"] == cid
    assert s["status"] == "created"
    assert s["bundle"] == os.path.realpath(bundle.path)
    assert s["rootfs"] == os.path.join(os.path.realpath(bundle.path), "rootfs")
    assert re.match(r"^1\.\d+\.\d+", s["ociVersion"]), s
    created = parse_created(s["created"])
    assert before - datetime.timedelta(seconds=5) <= created <= datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=5)
    pid = s["pid"]
    assert isinstance(pid, int) and pid > 0
    assert os.path.isdir(f"/proc/{pid}")
    assert process_alive(pid)
    with open(pid_file) as f:
        assert f.read() == str(pid), "the pid file holds the decimal pid, no newline"
    with open(os.path.join(rt.root, cid)) as f:
        fifo = os.path.join(rt.root, json.load(f)["exec_fifo"])
    assert stat.S_ISFIFO(os.stat(fifo).st_mode), fifo

    # The user program must not have started.
    time.sleep(0.3)
    assert not os.path.exists(os.path.join(out, "started")), "the program ran before start"
    assert rt.status(cid) == "created"

    r = rt.start(cid)
    assert r.stdout == "" and r.stderr == "", r
    wait_until(lambda: os.path.exists(os.path.join(out, "started")), what="the program to start")
    s = rt.state(cid)
    assert s["status"] == "running"
    assert s["pid"] == pid
    assert not os.path.exists(fifo)

    open(os.path.join(out, "finish"), "w").close()
    rt.wait_status(cid, "stopped")
    stopped = rt.state(cid)
    assert stopped["pid"] == 0
    assert stopped["created"] == s["created"] and stopped["bundle"] == s["bundle"]
    with open(os.path.join(out, "finished")) as f:
        assert f.read() == "bye\n"

    r = rt.delete(cid)
    assert r.rc == 0, r
    assert not os.path.exists(os.path.join(rt.root, cid))
    one_error_line(rt.cli("state", cid), f'container "{cid}" does not exist')


def test_state_output_is_runc_shaped(rt, make_bundle, new_id):
    bundle = make_bundle(args=["sh", "-c", LOOP],
                         edit=lambda cfg: cfg.update(annotations={"org.example.key": "value", "other": "x"}))
    cid = new_id()
    rt.create(cid, bundle)
    r = rt.cli("state", cid)
    assert r.rc == 0, r
    s = json.loads(r.stdout)
    assert STATE_FIELDS <= set(s), s
    assert s["annotations"] == {"org.example.key": "value", "other": "x"}
    assert s["status"] == "created"
    rt.start(cid)
    assert rt.state(cid)["status"] == "running"
    assert rt.delete(cid, force=True).rc == 0


def test_state_without_annotations_has_none(rt, make_bundle, new_id):
    bundle = make_bundle(args=["true"])
    cid = new_id()
    rt.create(cid, bundle)
    s = rt.state(cid)
    assert "annotations" not in s or not s["annotations"], s
    assert rt.delete(cid).rc == 0


def test_create_uses_the_current_directory_as_bundle(rt, make_bundle, new_id):
    bundle = make_bundle(args=["true"])
    cid = new_id()
    r = rt.cli("create", cid, cwd=bundle.path)
    assert r.rc == 0, r
    rt.remember_pid(cid)
    assert rt.state(cid)["bundle"] == os.path.realpath(bundle.path)
    assert rt.delete(cid).rc == 0


def test_pid_file_relative_to_cwd(rt, make_bundle, new_id):
    bundle = make_bundle(args=["true"])
    cid = new_id()
    r = rt.cli("create", "--pid-file", "rel.pid", cid, cwd=bundle.path)
    assert r.rc == 0, r
    rt.remember_pid(cid)
    with open(os.path.join(bundle.path, "rel.pid")) as f:
        assert f.read() == str(rt.state(cid)["pid"])
    assert rt.delete(cid).rc == 0


def test_program_exit_makes_it_stopped_with_pid_zero(rt, make_bundle, new_id):
    bundle = make_bundle(args=["sh", "-c", "exit 5"])
    cid = new_id()
    rt.create(cid, bundle)
    pid = rt.state(cid)["pid"]
    rt.start(cid)
    rt.wait_status(cid, "stopped")
    assert rt.state(cid)["pid"] == 0
    assert not process_alive(pid)
    one_error_line(rt.kill(cid, "KILL"), "container not running")
    assert rt.delete(cid).rc == 0


def test_delete_created_container_ends_init(rt, make_bundle, new_id):
    bundle = make_bundle()
    out = add_out_dir(bundle)
    bundle.edit(lambda cfg: cfg["process"].update(args=["sh", "-c", "touch /out/started"]))
    cid = new_id()
    rt.create(cid, bundle)
    pid = rt.state(cid)["pid"]
    r = rt.delete(cid)
    assert r.rc == 0, r
    wait_until(lambda: not process_alive(pid), what="the created container's init to end")
    assert not os.path.exists(os.path.join(rt.root, cid))
    assert not os.path.exists(os.path.join(out, "started"))


def test_delete_kills_what_init_left_behind_without_a_pid_namespace(rt, make_bundle, new_id):
    # Without a pid namespace, init's exit does not end its children: delete must, via the cgroup.
    def edit(cfg):
        cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"] if n["type"] != "pid"]

    bundle = make_bundle(args=["sh", "-c", "sleep 1000 & echo started"], edit=edit)
    cid = new_id()
    r = rt.run(cid, bundle, "--keep")
    assert r.rc == 0, r
    assert rt.status(cid) == "stopped"
    dirs = cgroup_dirs_named(cid)
    assert dirs
    with open(os.path.join(dirs[0], "cgroup.procs")) as f:
        orphans = [int(x) for x in f.read().split()]
    assert orphans, "the background sleep should still be in the container's cgroup"
    rt.pids.update(orphans)
    r = rt.delete(cid)
    assert r.rc == 0, r
    wait_until(lambda: not any(process_alive(p) for p in orphans), what="the leftover processes to be killed")
    assert cgroup_dirs_named(cid) == []


def test_start_after_init_was_killed(rt, make_bundle, new_id):
    bundle = make_bundle(args=["true"])
    cid = new_id()
    rt.create(cid, bundle)
    pid = rt.state(cid)["pid"]
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not process_alive(pid), what="init to die")
    assert rt.status(cid) == "stopped"
    one_error_line(rt.start(cid, check=False))
    assert rt.delete(cid).rc == 0


def test_delete_running_without_force_is_refused(rt, make_bundle, new_id):
    bundle = make_bundle(args=["sh", "-c", LOOP])
    cid = new_id()
    assert rt.run(cid, bundle, "-d").rc == 0
    pid = rt.state(cid)["pid"]
    one_error_line(rt.delete(cid), f"cannot delete container {cid} that is not stopped")
    assert rt.status(cid) == "running"
    assert process_alive(pid)
    r = rt.delete(cid, force=True)
    assert r.rc == 0, r
    wait_until(lambda: not process_alive(pid), what="init to die")
    assert not os.path.exists(os.path.join(rt.root, cid))


def test_delete_short_force_flag(rt, make_bundle, new_id):
    bundle = make_bundle(args=["sh", "-c", LOOP])
    cid = new_id()
    assert rt.run(cid, bundle, "-d").rc == 0
    assert rt.cli("delete", "-f", cid).rc == 0
    assert not os.path.exists(os.path.join(rt.root, cid))


def test_delete_missing_container(rt, new_id):
    cid = new_id()
    r = rt.delete(cid, force=True)
    assert r.rc == 0 and r.stderr == "", r
    one_error_line(rt.delete(cid), f'container "{cid}" does not exist')


def test_state_and_kill_of_missing_container(rt, new_id):
    cid = new_id()
    one_error_line(rt.cli("state", cid), f'container "{cid}" does not exist')
    one_error_line(rt.kill(cid, "TERM"), f'container "{cid}" does not exist')
    one_error_line(rt.start(cid, check=False), f'container "{cid}" does not exist')


def test_start_twice_and_start_stopped_fail(rt, make_bundle, new_id):
    bundle = make_bundle(args=["sh", "-c", LOOP])
    cid = new_id()
    rt.create(cid, bundle)
    rt.start(cid)
    r = rt.start(cid, check=False)
    one_error_line(r)
    assert rt.status(cid) == "running"
    assert rt.kill(cid, "KILL").rc == 0
    rt.wait_status(cid, "stopped")
    one_error_line(rt.start(cid, check=False))
    assert rt.delete(cid).rc == 0


# ------------------------------------------------------------------------------------------------
# kill


@pytest.mark.parametrize("sig", [None, "TERM", "SIGTERM", "15", "term", "sigterm"])
def test_kill_term_reaches_the_trap(rt, make_bundle, new_id, sig):
    bundle = make_bundle()
    out = add_out_dir(bundle)
    bundle.edit(lambda cfg: cfg["process"].update(
        args=["sh", "-c", f"trap 'echo got > /out/term; exit 7' TERM; touch /out/ready; {LOOP}"]))
    cid = new_id()
    rt.create(cid, bundle)
    rt.start(cid)
    wait_until(lambda: os.path.exists(os.path.join(out, "ready")), what="the trap to be set")
    r = rt.kill(cid, sig)
    assert r.rc == 0, r
    rt.wait_status(cid, "stopped")
    assert rt.state(cid)["pid"] == 0
    assert os.path.exists(os.path.join(out, "term"))
    assert rt.delete(cid).rc == 0


@pytest.mark.parametrize("sig", ["KILL", "SIGKILL", "9"])
def test_kill_sigkill(rt, make_bundle, new_id, sig):
    bundle = make_bundle(args=["sh", "-c", LOOP])
    cid = new_id()
    assert rt.run(cid, bundle, "-d").rc == 0
    pid = rt.state(cid)["pid"]
    assert rt.kill(cid, sig).rc == 0
    rt.wait_status(cid, "stopped")
    wait_until(lambda: not process_alive(pid), what="init to die")
    assert rt.delete(cid).rc == 0


def test_kill_signal_zero_probes_a_running_container(rt, make_bundle, new_id):
    # runc passes numbers through (parseSignal: strconv.Atoi); 0 checks that init exists.
    bundle = make_bundle(args=["sh", "-c", LOOP])
    cid = new_id()
    assert rt.run(cid, bundle, "-d").rc == 0
    r = rt.kill(cid, "0")
    assert r.rc == 0, r
    assert rt.status(cid) == "running"
    assert rt.delete(cid, force=True).rc == 0


@pytest.mark.parametrize("sig", ["SIGFOO", "NOPE", "-1", "99999"])
def test_kill_unknown_signal_is_an_error(rt, make_bundle, new_id, sig):
    bundle = make_bundle(args=["sh", "-c", LOOP])
    cid = new_id()
    assert rt.run(cid, bundle, "-d").rc == 0
    r = rt.kill(cid, sig)
    assert r.rc != 0, r
    assert r.err_lines and r.err_lines[-1].startswith("crun-lite: "), r
    assert rt.status(cid) == "running"
    assert rt.delete(cid, force=True).rc == 0


def test_kill_stopped_container_fails(rt, make_bundle, new_id):
    bundle = make_bundle(args=["true"])
    cid = new_id()
    assert rt.run(cid, bundle, "--keep").rc == 0
    one_error_line(rt.kill(cid, "TERM"), "container not running")
    one_error_line(rt.kill(cid), "container not running")
    assert rt.delete(cid).rc == 0


@pytest.mark.runc_too(since="1.1.0")
def test_kill_all_of_a_stopped_container_succeeds_and_ends_what_outlived_init(each_rt):
    # containerd's shim runs `kill --all ID KILL` after every container's init has exited; it
    # must exit 0 (runc's does), and processes that outlived init (no pid namespace here, so
    # they were not killed with it) are signalled.
    bundle = each_rt.make_bundle()
    out = add_out_dir(bundle)
    bundle.edit(lambda cfg: (
        cfg["linux"].update(namespaces=[n for n in cfg["linux"]["namespaces"] if n["type"] != "pid"]),
        cfg["process"].update(args=["sh", "-c", "sleep 1000 & echo $! > /out/orphan; "
                                                "while [ ! -e /out/go ]; do sleep 0.05; done"])))
    cid = each_rt.new_id()
    assert each_rt.run(cid, bundle, "-d").rc == 0
    # Non-empty: the shell creates the file before it writes the pid.
    wait_until(lambda: os.path.exists(os.path.join(out, "orphan")) and os.path.getsize(os.path.join(out, "orphan")) > 0,
               what="the orphan to start")
    with open(os.path.join(out, "orphan")) as f:
        orphan_pid_in_container = int(f.read())
    # No pid namespace: the pid it wrote is the host's.
    assert process_alive(orphan_pid_in_container)
    open(os.path.join(out, "go"), "w").close()
    each_rt.wait_status(cid, "stopped")
    r = each_rt.kill(cid, "KILL", "--all")
    assert r.rc == 0, r
    wait_until(lambda: not process_alive(orphan_pid_in_container), what="the orphan to be killed")
    assert each_rt.delete(cid).rc == 0


def test_kill_all_signals_every_process(rt, make_bundle, new_id):
    bundle = make_bundle()
    out = add_out_dir(bundle)
    # init catches USR1 and survives; its child has the default action and dies. The child is a
    # fork of the shell, with the shell's trap until it resets it: "ready" waits for that (SigCgt
    # without USR1's bit, 1 << 9), or a signal in between would be taken by the trap.
    bundle.edit(lambda cfg: cfg["process"].update(args=[
        "sh", "-c", "trap 'echo usr1 >> /out/init-usr1' USR1; sleep 1000 & child=$!; "
                    "while c=$(sed -n 's/^SigCgt:[[:space:]]*//p' /proc/$child/status) && [ $((0x$c & 0x200)) != 0 ]; "
                    "do sleep 0.01; done; touch /out/ready; "
                    "while kill -0 $child 2>/dev/null; do sleep 0.1; done; touch /out/child-dead; " + LOOP]))
    cid = new_id()
    assert rt.run(cid, bundle, "-d").rc == 0
    wait_until(lambda: os.path.exists(os.path.join(out, "ready")), what="the child to start")
    r = rt.kill(cid, "USR1", "--all")
    assert r.rc == 0, r
    wait_until(lambda: os.path.exists(os.path.join(out, "child-dead")), what="the child to die of USR1")
    wait_until(lambda: os.path.exists(os.path.join(out, "init-usr1")), what="init to get USR1 too")
    assert rt.status(cid) == "running"
    assert rt.delete(cid, force=True).rc == 0


def test_kill_created_container(rt, make_bundle, new_id):
    bundle = make_bundle(args=["sh", "-c", LOOP])
    cid = new_id()
    rt.create(cid, bundle)
    pid = rt.state(cid)["pid"]
    assert rt.kill(cid, "KILL").rc == 0
    rt.wait_status(cid, "stopped")
    wait_until(lambda: not process_alive(pid), what="init to die")
    assert rt.delete(cid).rc == 0


# ------------------------------------------------------------------------------------------------
# IDs and concurrency


def test_create_same_id_twice_fails_and_keeps_the_first(rt, make_bundle, new_id):
    bundle = make_bundle(args=["sh", "-c", LOOP])
    other = make_bundle(args=["sh", "-c", LOOP])
    cid = new_id()
    rt.create(cid, bundle)
    pid = rt.state(cid)["pid"]
    r = rt.create(cid, other, check=False)
    one_error_line(r, "exists")
    r = rt.run(cid, other, "-d")
    one_error_line(r, "exists")
    s = rt.state(cid)
    assert s["status"] == "created"
    assert s["pid"] == pid
    assert s["bundle"] == os.path.realpath(bundle.path)
    assert process_alive(pid)
    assert rt.delete(cid).rc == 0


def test_parallel_create_of_one_id_has_one_winner(rt, make_bundle, new_id):
    bundles = [make_bundle(args=["sh", "-c", LOOP]) for _ in range(6)]
    cid = new_id()
    results = [None] * len(bundles)

    def go(i):
        results[i] = rt.cli("create", "--bundle", bundles[i], cid, timeout=30)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(bundles))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    rt.remember_pid(cid)
    winners = [r for r in results if r.rc == 0]
    losers = [r for r in results if r.rc != 0]
    assert len(winners) == 1, results
    for r in losers:
        one_error_line(r, "exists")
    s = rt.state(cid)
    assert s["status"] == "created"
    assert process_alive(s["pid"])
    assert rt.delete(cid).rc == 0


@pytest.mark.parametrize("probe", ["0", "CONT"])
def test_parallel_state_kill_list_and_delete_on_one_id(rt, make_bundle, new_id, probe):
    # 10 concurrent readers/signallers (state, kill -0 or kill CONT, list) and one delete -f.
    bundle = make_bundle(args=["sh", "-c", LOOP])
    cid = new_id()
    assert rt.run(cid, bundle, "-d").rc == 0
    pid = rt.state(cid)["pid"]
    results = []
    lock = threading.Lock()
    barrier = threading.Barrier(11)

    def worker(kind):
        barrier.wait()
        for _ in range(8):
            if kind == "state":
                r = rt.cli("state", cid)
            elif kind == "kill":
                r = rt.kill(cid, probe)
            else:
                r = rt.cli("list", "--format", "json")
            with lock:
                results.append((kind, r))

    def deleter():
        barrier.wait()
        time.sleep(0.05)
        r = rt.delete(cid, force=True)
        with lock:
            results.append(("delete", r))

    kinds = ["state"] * 4 + ["kill"] * 3 + ["list"] * 3
    threads = [threading.Thread(target=worker, args=(k,)) for k in kinds] + [threading.Thread(target=deleter)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads)

    for kind, r in results:
        assert r.rc in (0, 1), (kind, r)  # never a crash (negative) or an abort
        if kind == "delete":
            assert r.rc == 0, r
        elif kind == "state":
            if r.rc == 0:
                s = json.loads(r.stdout)
                assert s["id"] == cid and s["status"] in ("running", "stopped"), s
            else:
                one_error_line(r, "does not exist")
        elif kind == "kill":
            if r.rc != 0:
                line = one_error_line(r)
                assert "does not exist" in line or "not running" in line, r
        else:
            assert r.rc == 0, r
            listed = json.loads(r.stdout) or []
            for s in listed:
                assert s["id"] == cid and s["status"] in ("running", "stopped"), s
    wait_until(lambda: not process_alive(pid), what="init to die")
    assert not os.path.exists(os.path.join(rt.root, cid))
    one_error_line(rt.cli("state", cid), "does not exist")


def test_parallel_lifecycles_of_different_ids(rt, make_bundle, new_id):
    # Containers share the crun-lite parent cgroup: creating and deleting them in parallel
    # must never make one fail because another removed (or was removing) a shared directory.
    bundle = make_bundle(args=["true"])
    workers = [new_id("par") for _ in range(4)]
    failures = []
    lock = threading.Lock()
    deadline = time.monotonic() + 5

    def cycle(prefix):
        i = 0
        while time.monotonic() < deadline and not failures:
            name = f"{prefix}-{i}"
            i += 1
            with lock:
                rt.ids.append(name)
            for step in (("create", "--bundle", bundle, name), ("delete", name)):
                r = rt.cli(*step)
                if r.rc != 0:
                    with lock:
                        failures.append(r)
                    return

    threads = [threading.Thread(target=cycle, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not failures, failures


def test_bundle_path_with_spaces(rt, make_bundle, new_id):
    bundle = make_bundle(args=["sh", "-c", LOOP])
    spaced = os.path.join(os.path.dirname(bundle.path), "with space " + os.path.basename(bundle.path))
    os.rename(bundle.path, spaced)
    rt.bundles.append(spaced)
    cid = new_id()
    r = rt.cli("run", "-d", "--bundle", spaced, cid)
    assert r.rc == 0, r
    rt.remember_pid(cid)
    s = rt.state(cid)
    assert s["bundle"] == spaced and s["status"] == "running"
    r = rt.cli("list")
    assert spaced in r.stdout
    assert rt.delete(cid, force=True).rc == 0


# ------------------------------------------------------------------------------------------------
# The command line itself


@pytest.mark.parametrize("cmd", ["spec", "create", "start", "run", "state", "kill", "delete", "list"])
def test_help_on_every_command(rt, cmd):
    r = rt.cli(cmd, "--help")
    assert r.rc == 0, r
    assert cmd in r.stdout and ("Usage" in r.stdout or "USAGE" in r.stdout), r


def test_global_help_and_version(rt):
    r = rt.cli("--help", raw=True)
    assert r.rc == 0, r
    for cmd in ["spec", "create", "start", "run", "state", "kill", "delete", "list"]:
        assert cmd in r.stdout
    r = rt.cli("--version", raw=True)
    assert r.rc == 0, r
    assert "crun-lite" in r.stdout and "spec: 1." in r.stdout, r
    # As crun prints it: the state directory, then the compiled-in features, only the ones present.
    lines = r.stdout.splitlines()
    assert any(line.startswith("rundir: ") for line in lines), r
    assert "+CAP" in lines[-1].split() and "+SECCOMP" in lines[-1].split() and "-" not in lines[-1], r


@pytest.mark.parametrize("argv", [
    ["create", "--no-such-flag", "x"],
    ["state", "--bogus", "x"],
    ["delete", "--forcee", "x"],
    ["list", "--format", "yaml"],
    ["kill", "--everything", "x"],
    ["--no-such-global", "list"],
    ["no-such-command"],
    [],
])
def test_unknown_flags_and_commands_are_rejected(rt, argv):
    r = rt.cli(*argv)
    assert r.rc != 0, r


def test_log_file_gets_text_lines(rt, make_bundle, new_id):
    bundle = make_bundle(args=["true"])
    log = os.path.join(bundle.path, "crun.log")
    cid = new_id()
    r = rt.cli("--log", log, "state", cid)
    assert r.rc == 1
    with open(log) as f:
        lines = f.read().splitlines()
    assert lines and "level=error" in lines[-1] and "does not exist" in lines[-1], lines


# ------------------------------------------------------------------------------------------------
# spec


def test_spec_writes_runc_defaults(rt, make_bundle):
    bundle = make_bundle()
    cfg = bundle.config
    p = cfg["process"]
    assert p["terminal"] is False
    assert p["args"] == ["sh"]
    assert p["cwd"] == "/"
    assert p["noNewPrivileges"] is True
    assert p["user"]["uid"] == 0 and p["user"]["gid"] == 0
    caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    for s in ("bounding", "effective", "permitted"):
        assert sorted(p["capabilities"][s]) == caps
    assert not p["capabilities"].get("inheritable") and not p["capabilities"].get("ambient")
    assert p["rlimits"] == [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}]
    assert cfg["hostname"] == "crun-lite"
    assert cfg["root"] == {"path": "rootfs", "readonly": True}
    assert [n["type"] for n in cfg["linux"]["namespaces"]] == ["pid", "ipc", "uts", "mount", "network", "cgroup"]
    dests = [m["destination"] for m in cfg["mounts"]]
    assert dests == ["/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup"]
    assert "/proc/kcore" in cfg["linux"]["maskedPaths"]
    assert "/proc/sys" in cfg["linux"]["readonlyPaths"]
    assert cfg["linux"]["resources"]["devices"] == [{"allow": False, "access": "rwm"}]
    # A second `spec` refuses to overwrite.
    r = rt.cli("spec", cwd=bundle.path)
    assert r.rc != 0
    r = rt.cli("spec", "--bundle", bundle.path)
    assert r.rc != 0
    assert bundle.config == cfg


def test_spec_rootless(rt, make_bundle):
    bundle = make_bundle(write_config=False)
    r = rt.cli("spec", "--rootless", "--bundle", bundle.path)
    assert r.rc == 0, r
    cfg = bundle.config
    types = [n["type"] for n in cfg["linux"]["namespaces"]]
    assert "user" in types and "network" not in types
    assert cfg["linux"]["uidMappings"] == [{"containerID": 0, "hostID": os.getuid(), "size": 1}]


def test_default_spec_runs_unchanged_args_replaced(rt, make_bundle, new_id):
    # The default config works as is (only the interactive shell replaced).
    bundle = make_bundle(args=["sh", "-c", "echo ok"])
    r = rt.run(new_id(), bundle)
    assert r.rc == 0 and r.stdout == "ok\n", r



def test_config_without_process_creates_but_does_not_start(rt, make_bundle, new_id):
    # runtime-spec: process is optional at create; start must then fail. delete cleans up.
    bundle = make_bundle(edit=lambda c: c.pop("process") and None)
    cid = new_id()
    rt.create(cid, bundle)
    assert rt.status(cid) == "created"
    r = rt.start(cid, check=False)
    assert r.rc != 0 and ".process" in r.stderr, r
    assert rt.status(cid) == "created"
    assert rt.delete(cid).rc == 0
