"""process.terminal: the pty master handed to --console-socket (received here with recv_fds, as
a container manager would), used to talk to the container's shell; consoleSize, /dev/console and
the tty's name inside; a foreground run on the caller's own terminal (under script(1)); and the
refusals (a detached terminal without a console socket, a console socket without a terminal)."""

import os
import time

import pytest

from helpers import FdReceiver, read_until, run_cmd, wait_exit_status


def console_receiver(rt, bundle):
    receiver = FdReceiver(os.path.join(bundle.path, "console.sock"))
    rt.cleanups.append(receiver.close)
    return receiver


def the_master(receiver):
    """The one connection's payload and fd: runc's protocol sends "/dev/ptmx" with one SCM_RIGHTS fd."""
    [(payload, fds)] = receiver.wait(1)
    assert payload == b"/dev/ptmx", payload
    assert len(fds) == 1, fds
    time.sleep(0.05)
    assert len(receiver.received) == 1, receiver.received  # and no second connection
    return fds[0]


def terminal_bundle(rt, args, edit=None):
    def configure(cfg):
        cfg["process"]["terminal"] = True
        if edit is not None:
            edit(cfg)
    return rt.make_bundle(args=args, edit=configure)


# ------------------------------------------------------------------------------------------------


def test_console_socket_talk_to_a_shell(rt, new_id):
    bundle = terminal_bundle(rt, ["sh"])
    receiver = console_receiver(rt, bundle)
    cid = new_id()
    rt.create(cid, bundle, "--console-socket", receiver.path)
    master = the_master(receiver)
    pid = rt.state(cid)["pid"]
    rt.start(cid)
    os.write(master, b"echo hi-$((1+2)); exit 3\n")
    # Read up to the line end, not only "hi-3": the shell may write the "\r\n" (ONLCR's) a moment
    # later, which one run on a single guest CPU caught. Without it this times out with what came.
    out = read_until(master, b"hi-3\r\n")
    assert b"hi-3\r\n" in out, out
    assert wait_exit_status(pid) == 3
    rt.wait_status(cid, "stopped")
    assert rt.delete(cid).rc == 0


def test_console_size_tty_name_and_dev_console(rt, new_id):
    script = 'stty size; tty; stat -c "%t:%T %F" /dev/console; test -t 0 && test -t 1 && test -t 2 && echo all-ttys; echo END'
    bundle = terminal_bundle(rt, ["sh", "-c", script],
                             edit=lambda cfg: cfg["process"].update(consoleSize={"height": 33, "width": 101}))
    receiver = console_receiver(rt, bundle)
    cid = new_id()
    r = rt.run(cid, bundle, "-d", "--console-socket", receiver.path)
    assert r.rc == 0, r
    master = the_master(receiver)
    out = read_until(master, b"END").decode().replace("\r", "")
    lines = out.splitlines()
    assert lines[:5] == ["33 101", "/dev/pts/0", "88:0 character special file", "all-ttys", "END"], out  # 136 == 0x88
    rt.wait_status(cid, "stopped")
    assert rt.delete(cid).rc == 0


def test_terminal_output_and_input_modes(rt, new_id):
    # The slave is a normal cooked terminal: ONLCR turns \n into \r\n, and ^C on the master interrupts.
    bundle = terminal_bundle(rt, ["sh", "-c", "echo ready; sleep 30; echo not-interrupted"])
    receiver = console_receiver(rt, bundle)
    cid = new_id()
    assert rt.run(cid, bundle, "-d", "--console-socket", receiver.path).rc == 0
    master = the_master(receiver)
    pid = rt.state(cid)["pid"]
    assert b"ready\r\n" in read_until(master, b"ready\r\n")
    os.write(master, b"\x03")
    assert wait_exit_status(pid) == 128 + 2  # SIGINT from the terminal
    rt.wait_status(cid, "stopped")
    assert rt.delete(cid).rc == 0


def test_foreground_run_on_the_callers_terminal(rt, new_id):
    bundle = terminal_bundle(rt, ["sh", "-c", "tty; stty size; echo fg-$((40+2)); exit 5"],
                             edit=lambda cfg: cfg["process"].update(consoleSize={"height": 20, "width": 70}))
    cid = new_id()
    command = " ".join(rt.argv("run", "--bundle", bundle.path, cid))
    r = run_cmd(["script", "-qec", command, "/dev/null"], timeout=30)
    assert r.rc == 5, r
    out = r.stdout.replace("\r", "")
    assert "/dev/pts/0\n" in out and "fg-42\n" in out, r
    assert "20 70\n" in out, r  # script's own terminal has no size (0x0): the configured one stays
    assert not os.path.exists(os.path.join(rt.root, cid))


@pytest.mark.parametrize("command", ["create", "run -d"])
def test_detached_terminal_needs_a_console_socket(rt, new_id, command):
    bundle = terminal_bundle(rt, ["sh", "-c", "echo should-not-run"])
    cid = new_id()
    r = rt.cli(*command.split(), "--bundle", bundle, cid)
    assert r.rc == 1, r
    assert len(r.err_lines) == 1 and r.err_lines[0].startswith("crun-lite: "), r
    assert ".process.terminal" in r.err_lines[0], r
    assert not os.path.exists(os.path.join(rt.root, cid))


@pytest.mark.parametrize("command", ["create", "run -d"])
def test_console_socket_without_terminal_fails(rt, make_bundle, new_id, command):
    bundle = make_bundle(args=["sh", "-c", "echo should-not-run"])
    receiver = console_receiver(rt, bundle)
    cid = new_id()
    r = rt.cli(*command.split(), "--bundle", bundle, "--console-socket", receiver.path, cid)
    assert r.rc == 1, r
    assert len(r.err_lines) == 1 and "console" in r.err_lines[0], r
    assert "should-not-run" not in r.stdout
    assert receiver.received == [], "nothing may be sent to the console socket"
    assert not os.path.exists(os.path.join(rt.root, cid))
