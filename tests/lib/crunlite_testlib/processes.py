"""Running commands and watching processes: run_cmd (a timeout, output in files), /proc probes,
waiting for a condition, a pid's exec or exit, and reaping orphans as a child subreaper."""

import ctypes
import os
import subprocess
import tempfile
import time

DEFAULT_TIMEOUT = 30
PR_SET_CHILD_SUBREAPER = 36


class Result:
    def __init__(self, args, returncode, stdout, stderr):
        self.args = args
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr

    @property
    def rc(self):
        return self.returncode

    @property
    def err_lines(self):
        return [l for l in self.stderr.splitlines() if l.strip()]

    def __repr__(self):
        return (f"Result(args={self.args!r}, rc={self.returncode}, stdout={self.stdout[-2000:]!r}, "
                f"stderr={self.stderr[-2000:]!r})")


def run_cmd(argv, timeout=DEFAULT_TIMEOUT, cwd=None, env=None, input_data=None, pass_fds=()):
    """Runs argv with a timeout; stdout and stderr go to temporary files, not pipes, so that a
    container process that inherits them (create, run -d) cannot keep us waiting for EOF."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        stdin = {"input": input_data.encode() if isinstance(input_data, str) else input_data} \
            if input_data is not None else {"stdin": subprocess.DEVNULL}
        try:
            p = subprocess.run(argv, stdout=out, stderr=err, timeout=timeout, cwd=cwd, env=env, pass_fds=pass_fds,
                               **stdin)
            rc = p.returncode
        except subprocess.TimeoutExpired:
            out.seek(0)
            err.seek(0)
            raise AssertionError(f"timed out after {timeout}s: {argv!r}\nstdout: {out.read()[-2000:]!r}\n"
                                 f"stderr: {err.read()[-2000:]!r}")
        out.seek(0)
        err.seek(0)
        return Result(argv, rc, out.read().decode(errors="replace"), err.read().decode(errors="replace"))


def process_state(pid):
    """'R', 'S', 'Z'... or None when there is no such process."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return stat[stat.rfind(")") + 2:].split()[0]


def process_alive(pid):
    """A process that exists and is not a zombie."""
    return process_state(pid) not in (None, "Z", "X")


def wait_until(predicate, timeout=10.0, interval=0.02, what="condition"):
    """predicate()'s first true value, asked every `interval` s; AssertionError after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def wait_for_exec(pid, argv0, timeout=10.0):
    """Waits until process `pid` runs `argv0` (its /proc/<pid>/cmdline starts with it). `start`
    and `run -d` return once init is released, as runc's do, which can be before its execve is
    done: a look at its /proc right away may catch the exec half-way (an empty cmdline)."""
    def running():
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                return f.read().split(b"\0")[0] == argv0.encode()
        except OSError:
            return False
    wait_until(running, timeout=timeout, what=f"pid {pid} to exec {argv0}")


def become_subreaper():
    """Makes this process a child subreaper: container inits whose `create` has exited are
    re-parented to it, to be waited for and reaped (pid 1 of a test machine may not reap them).
    Returns 0, or the errno of prctl."""
    libc = ctypes.CDLL(None, use_errno=True)
    return 0 if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0 else ctypes.get_errno()


def reap_orphans(timeout=0.0, on_reap=None):
    """Reaps the exited children, container inits re-parented to us included (we are a child
    subreaper), without blocking; with a timeout, waits up to that long for every child to go.
    on_reap(pid) is called for each one reaped."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            if time.monotonic() >= deadline:
                return
            time.sleep(0.01)
        elif on_reap is not None:
            on_reap(pid)


def wait_exit_status(pid, timeout=10.0):
    """The exit status (os.waitstatus_to_exitcode: -N for signal N) of a child, e.g. a container
    init or an `exec -d` process re-parented to us (we are a child subreaper)."""
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            raise AssertionError(f"pid {pid} did not exit within {timeout}s")
        time.sleep(0.02)


def live_children(parent=None):
    """Live (non-zombie) children of `parent` (default: us), as (pid, name). We are a child
    subreaper, so a container process that outlived the crun-lite command which made it ends up here."""
    parent = os.getpid() if parent is None else parent
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as f:
                fields = dict(l.split(":", 1) for l in f.read().splitlines() if ":" in l)
        except OSError:
            continue
        if int(fields.get("PPid", "0").strip()) == parent and not fields.get("State", "").strip().startswith(("Z", "X")):
            out.append((int(entry), fields.get("Name", "").strip()))
    return out
