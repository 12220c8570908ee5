"""--pidfd-socket on create, run and exec (runc >= 1.2): the runtime hands a pidfd of the
container's init, or of the exec'd process, to the unix socket at PATH (SCM_RIGHTS), with runc's
payload beside it ("standard" for an init, "setns" for an exec). The tests receive it, read its
fdinfo `Pid:` line and poll it for the exit."""

import os
import select
import signal
import time

import pytest

from helpers import FdReceiver, one_error_line, wait_exit_status, wait_for_exec, wait_until

LOOP = "while :; do sleep 0.1; done"


def running_container(rt):
    """A container running a shell loop (run -d); returns (id, bundle)."""
    bundle = rt.make_bundle(args=["sh", "-c", LOOP])
    cid = rt.new_id()
    assert rt.run(cid, bundle, "-d").rc == 0, cid
    return cid, bundle


def receiver(rt):
    path = os.path.join(rt.bundle_base, f"pidfd-{time.monotonic_ns()}.sock")
    r = FdReceiver(path)
    rt.cleanups.append(r.close)
    return r


def only_pidfd(recv, payload):
    """The one connection's payload and fd; returns the fd."""
    (got_payload, fds), = recv.wait(1)
    assert got_payload == payload, recv.received
    assert len(fds) == 1, recv.received
    return fds[0]


def pidfd_pid(fd):
    """The pid a pidfd refers to, from its fdinfo (-1 once the process is reaped)."""
    with open(f"/proc/self/fdinfo/{fd}") as f:
        for line in f:
            if line.startswith("Pid:"):
                return int(line.split()[1])
    raise AssertionError(f"fd {fd} is not a pidfd (no Pid: line in its fdinfo)")


def exited(fd, timeout=0.0):
    """A pidfd polls readable once its process has exited."""
    p = select.poll()
    p.register(fd, select.POLLIN)
    return bool(p.poll(int(timeout * 1000)))


@pytest.mark.runc_too(since="1.2.0")
@pytest.mark.parametrize("command", ["create", "run"])
def test_pidfd_socket_receives_init(each_rt, command):
    rt = each_rt
    recv = receiver(rt)
    bundle = rt.make_bundle(args=["sh", "-c", LOOP])
    cid = rt.new_id()
    if command == "create":
        r = rt.create(cid, bundle, "--pidfd-socket", recv.path, check=False)
    else:
        r = rt.run(cid, bundle, "-d", "--pidfd-socket", recv.path)
    assert r.rc == 0, r
    fd = only_pidfd(recv, b"standard")
    pid = rt.state(cid)["pid"]
    assert pidfd_pid(fd) == pid
    if command == "create":
        rt.start(cid)
    wait_for_exec(pid, "sh")
    assert not exited(fd)
    rt.kill(cid, "KILL")
    assert exited(fd, timeout=10), "the pidfd did not report the exit of init"
    rt.wait_status(cid, "stopped")
    assert rt.delete(cid).rc == 0


@pytest.mark.runc_too(since="1.2.0")
def test_pidfd_socket_receives_the_exec_process(each_rt):
    rt = each_rt
    cid, bundle = running_container(rt)
    recv = receiver(rt)
    pid_file = os.path.join(bundle, "exec.pid")
    r = rt.cli("exec", "-d", "--pid-file", pid_file, "--pidfd-socket", recv.path, cid, "sleep", "100")
    assert r.rc == 0, r
    with open(pid_file) as f:
        pid = int(f.read())
    fd = only_pidfd(recv, b"setns")
    assert pidfd_pid(fd) == pid and pid != rt.state(cid)["pid"]
    assert not exited(fd)
    os.kill(pid, signal.SIGKILL)
    assert exited(fd, timeout=10), "the pidfd did not report the exit of the exec'd process"
    assert wait_exit_status(pid) is not None  # re-parented to the test process (a subreaper)


@pytest.mark.runc_too(since="1.2.0")
def test_pidfd_socket_of_a_foreground_exec(each_rt):
    rt = each_rt
    cid, bundle = running_container(rt)
    recv = receiver(rt)
    r = rt.cli("exec", "--pidfd-socket", recv.path, cid, "sh", "-c", "exit 3")
    assert r.rc == 3, r
    fd = only_pidfd(recv, b"setns")
    assert exited(fd) and pidfd_pid(fd) == -1  # exited and reaped by the runtime


@pytest.mark.runc_too(since="1.2.0")
@pytest.mark.parametrize("command", ["create", "run", "exec"])
def test_unreachable_pidfd_socket_fails_leaving_nothing(each_rt, command):
    rt = each_rt
    missing = os.path.join(rt.bundle_base, "no-such-socket")
    bundle = rt.make_bundle(args=["sh", "-c", LOOP])
    cid = rt.new_id()
    if command == "exec":
        assert rt.run(cid, bundle, "-d").rc == 0, cid
        r = rt.cli("exec", "--pidfd-socket", missing, cid, "true")
    elif command == "create":
        r = rt.create(cid, bundle, "--pidfd-socket", missing, check=False)
    else:
        r = rt.run(cid, bundle, "-d", "--pidfd-socket", missing)
    assert r.rc != 0, r
    if rt.name == "crun-lite":
        one_error_line(r, "--pidfd-socket", missing, status=None)
    if command == "exec":  # the container is untouched
        assert rt.status(cid) == "running"
        assert len(rt.cli("ps", cid).stdout.split("\n")) >= 2
    else:
        assert rt.cli("state", cid).rc != 0, "a failed create left the container behind"
