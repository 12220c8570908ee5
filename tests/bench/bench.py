#!/usr/bin/env python3
"""crun-lite benchmarks against runc, crun and the bare namespace cost (python3 stdlib only).

    tests/bench/bench.py [--crun-lite BIN] [--out DIR]

Normally started by tests/bench/run-all.sh, which installs the Debian packages this needs first.
Must run as root (real namespaces and cgroups). See docs/benchmarks.md for the method.

Contenders: crun-lite; the peers Debian's runc and crun (RUNC, CRUN: in PATH) and the newest
releases prebuilt beside the checkout (RUNC_NEW, CRUN_NEW: ANCHORS/runc-1.3.6 and
ANCHORS/crun-1.27.1, ANCHORS = ../shared/tools/anchors of the repository); each is named by the
version it reports. A peer that is missing, or whose first `run` of the bundle fails, is reported
with its error and left out. On a cgroup v1 hybrid host crun refuses the layout ("cgroups in
hybrid mode not supported"), so the script first re-executes itself in a private mount namespace
without the cgroup2 mount at /sys/fs/cgroup/unified (`unshare -m --propagation private`), and
every contender sees the same plain cgroup v1 host (PRIVATE_NS=0: on the host as it is).

Benchmarks (names for BENCHES / SKIP_<NAME>=1):
  run    `run` of a busybox-static /bin/true bundle: crun-lite, every peer and the namespace floor
         `unshare --fork --pid --mount --uts --ipc --net ROOTFS/bin/true`, interleaved
  cycle  `create --pid-file` + `start` + wait for the container's exit + `delete`, one sample
  exec   `exec ID /bin/true` into one long-running `sleep` container per runtime
  rss    peak RSS (ru_maxrss of the runtime's wait4, via /usr/bin/time) of `run`, and of
         /bin/true as a check of the method
  conc   N containers `run` at once (N from CONC_LEVELS; crun-lite and the peers of CONC_PEERS),
         wall time from the first launch to the last exit, CONC_REPS repetitions per point and
         runtime (at least 9 below N=100, where a batch takes milliseconds and one hiccup would
         move the scaling factor); the points take turns, repetition by repetition, as the
         runtimes do
  vm     `run` of the same bundle, crun-lite against Debian's crun, inside a pure cgroup v2 guest
         (tests/vm/run-in-v2-vm.sh; qemu, usually TCG emulation)

Environment (defaults in brackets):
  RUNS [100]  WARMUP [5]               timed / untimed runs per runtime for run, cycle, exec, rss
  BENCHES [run,cycle,exec,rss,conc,vm]  or SKIP_RUN=1, SKIP_CYCLE=1, ..., SKIP_VM=1
  CONC_LEVELS ["10 100 500"]  CONC_REPS [5]  CONC_PEERS [runc-new,crun-new] (keys: runc, crun,
                                       runc-new, crun-new)
  VM_RUNS [30]  VM_WARMUP [3]  VM_TIMEOUT [900 s]  VM_MEM [1024 MiB]
  RUNC [runc in PATH]  CRUN [crun in PATH]  RUNC_NEW [ANCHORS/runc-1.3.6]
  CRUN_NEW [ANCHORS/crun-1.27.1]  ANCHORS [REPO/../shared/tools/anchors]
  UNSHARE [unshare in PATH]  GNU_TIME [/usr/bin/time]  STRIP [strip in PATH]  PRIVATE_NS [1]

Output: a markdown table on stdout (progress goes to stderr); in DIR: benchmarks.md (the table and
the machine), results.json (every number), samples.csv (every timed sample), concurrency.dat,
concurrency.gp and concurrency.png (gnuplot). Exit status 0 when every benchmark ran (whether or
not the targets were met), 1 when a runtime failed (a concurrency failure is reported and the run
goes on; any other failure aborts), 130 when interrupted. Nothing is left behind: state roots,
bundles, containers and cgroups are removed on success, failure, Ctrl-C and SIGTERM.

Internal: `bench.py --guest ...` is what runs inside the VM.
"""

import argparse
import datetime
import json
import math
import os
import platform
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from crunlite_testlib import bundles, processes  # noqa: E402
from crunlite_testlib.runtime import RuntimeCli  # noqa: E402
ALL_BENCHES = ["run", "cycle", "exec", "rss", "conc", "vm"]

# The targets: (description, predicate on the value, shown bound).
TARGET_RUNC = 0.25        # crun-lite / runc (each version), run, cycle and exec
TARGET_FLOOR = 1.2        # crun-lite / unshare floor, run
TARGET_CRUN_NEW = 0.35    # crun-lite / the newest crun (1.27.1), run
TARGET_RSS_KIB = 2048     # crun-lite's peak RSS for run (median)
TARGET_CRUN = 0.8         # crun-lite / Debian's crun, run in the cgroup v2 VM
LINEAR_FACTOR = 1.5       # per-container time at the largest N / at the smallest N


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


class Failure(Exception):
    """A runtime (or the harness) failed: abort."""


class Stopped(Exception):
    """SIGINT / SIGTERM: stop between iterations."""


# ---------------------------------------------------------------------------------------------
# Signals: the first SIGINT/SIGTERM asks the loops to stop after the iteration in progress (and
# forwards SIGTERM to the VM harness if it runs); a second one interrupts at once. Every process
# this script starts runs in a session of its own, so a Ctrl-C at the terminal never reaches a
# runtime half-way through a container start.

stop_requested = False
vm_proc_pid = None


def on_signal(signum, frame):
    global stop_requested
    if stop_requested:
        raise KeyboardInterrupt
    stop_requested = True
    log(f"signal {signum}: stopping after the current step (again to stop at once)")
    if vm_proc_pid is not None:
        try:
            os.kill(vm_proc_pid, signal.SIGTERM)
        except ProcessLookupError:
            pass


def check_stop():
    if stop_requested:
        raise Stopped


# ---------------------------------------------------------------------------------------------
# Process helpers. posix_spawn (vfork-like in glibc) with stdin/stdout on /dev/null and stderr in
# a file, never pipes: after `create` the container init holds the same stdio until it exits.

inflight = set()   # pids of processes started and not yet reaped


def spawn(argv, errpath):
    """errpath None: stdout and stderr both go to this process's stderr (the VM harness)."""
    actions = [(os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0)]
    if errpath is None:
        actions.append((os.POSIX_SPAWN_DUP2, 2, 1))
    else:
        actions += [
            (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
            (os.POSIX_SPAWN_OPEN, 2, errpath, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
        ]
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions, setsid=True)
    inflight.add(pid)
    return pid


def wait_pid(pid):
    _, status = os.waitpid(pid, 0)
    inflight.discard(pid)
    return os.waitstatus_to_exitcode(status)


def read_err(path, limit=2000):
    try:
        with open(path, errors="replace") as f:
            return f.read(limit).strip() or "(no stderr)"
    except OSError:
        return "(no stderr)"


def exit_text(code):
    return f"exit status {code}" if code >= 0 else f"signal {-code}"


class Harness:
    """Work directories, the container IDs that may exist, and cleanup."""

    def __init__(self, prefix, state_parent, bundle_parent):
        self.prefix = prefix
        self.counter = 0
        self.live = {}          # container ID -> Runtime, for `delete -f` on failure
        self.state_dir = tempfile.mkdtemp(prefix="crun-lite-bench.", dir=state_parent)
        self.var_dir = (tempfile.mkdtemp(prefix="crun-lite-bench.", dir=bundle_parent)
                        if bundle_parent != state_parent else self.state_dir)
        self.errlog = os.path.join(self.state_dir, "stderr.log")
        self.extra_dirs = []    # more work directories to remove at the end
        self.runtimes = []

    def new_id(self, tag, kind):
        self.counter += 1
        return f"{self.prefix}-{tag}-{kind}-{self.counter:05d}"

    def invoke(self, argv, errpath=None):
        """Run argv to completion; raise Failure on a non-zero exit."""
        errpath = errpath or self.errlog
        pid = spawn(argv, errpath)
        code = wait_pid(pid)
        if code != 0:
            raise Failure(f"`{' '.join(argv)}` failed with {exit_text(code)}: {read_err(errpath)}")

    def timed(self, argv):
        t0 = time.perf_counter()
        pid = spawn(argv, self.errlog)
        code = wait_pid(pid)
        t1 = time.perf_counter()
        if code != 0:
            raise Failure(f"`{' '.join(argv)}` failed with {exit_text(code)}: {read_err(self.errlog)}")
        return (t1 - t0) * 1000.0

    def quiet(self, argv):
        """Best effort (cleanup): no error, no output."""
        try:
            pid = spawn(argv, "/dev/null")
            wait_pid(pid)
        except OSError:
            pass

    def cleanup(self):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        # Runtime processes still running (interrupted at once): let them finish, they are short.
        deadline = time.monotonic() + 60
        for pid in list(inflight):
            while time.monotonic() < deadline:
                try:
                    done, _ = os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    done = pid
                if done:
                    break
                time.sleep(0.02)
            else:
                try:
                    os.kill(pid, signal.SIGKILL)   # only our own child, by its pid
                    os.waitpid(pid, 0)
                except (ProcessLookupError, ChildProcessError):
                    pass
            inflight.discard(pid)
        for cid, rt in list(self.live.items()):
            self.quiet(rt.cmd("delete", "-f", cid))
            del self.live[cid]
        # Anything else still in a state root.
        for rt in self.runtimes:
            if rt.root and os.path.isdir(rt.root):
                for cid in os.listdir(rt.root):
                    # runc keeps a directory per container, crun-lite a file (and "<id>:exec.fifo")
                    if ":" not in cid:
                        self.quiet(rt.cmd("delete", "-f", cid))
        reap_orphans(timeout=2.0)
        for d in {self.state_dir, self.var_dir, *self.extra_dirs}:
            shutil.rmtree(d, ignore_errors=True)
        remove_leaked_cgroups(self.prefix)


def reap_orphans(timeout=0.0):
    """Reap exited orphans (this process is a child subreaper); with a timeout, wait up to that
    long for all children to go. Only called while none of our own spawns is in flight."""
    processes.reap_orphans(timeout, on_reap=inflight.discard)


def wait_exit(pid):
    """Wait for a container init (reparented to us, or not) to exit."""
    try:
        os.waitpid(pid, 0)
        return
    except ChildProcessError:
        pass
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        select.select([fd], [], [])
    finally:
        os.close(fd)


def remove_leaked_cgroups(prefix):
    """Cgroups named after this run's container IDs that a runtime left behind: report them and
    remove the empty ones (a leak is a runtime bug, worth seeing)."""
    leaked = []
    ours = (prefix + "-", f"crun-lite-{prefix}-")
    base = "/sys/fs/cgroup"
    # Not cgroups: the private namespace's tmpfs in place of the cgroup2 mount (enter_private_ns),
    # where crun's directories go, and which goes with the namespace.
    with open("/proc/self/mounts") as f:
        not_cgroups = {fields[1] for fields in (line.split() for line in f)
                       if fields[2] == "tmpfs" and fields[1].startswith(base + "/")}
    for top, dirs, _ in os.walk(base):
        depth = top[len(base):].count("/")
        dirs[:] = [d for d in dirs if os.path.join(top, d) not in not_cgroups]
        for d in dirs:
            if d.startswith(ours):  # crun-lite's default is crun-lite-<id>
                leaked.append(os.path.join(top, d))
        if depth >= 6:
            dirs[:] = []
        else:
            dirs[:] = [d for d in dirs if not d.startswith(ours)]
    if leaked:
        log("warning: a runtime left these cgroups behind (removing the empty ones):")
        for path in sorted(leaked, key=len, reverse=True):
            print(f"  {path}", file=sys.stderr)
            for sub, _, _ in sorted(os.walk(path), key=lambda t: -len(t[0])):
                try:
                    os.rmdir(sub)
                except OSError:
                    pass


class Runtime(RuntimeCli):
    def __init__(self, name, tag, binary, root):
        super().__init__(binary, root)
        self.name, self.tag = name, tag

    def cmd(self, *args):
        return self.argv(*args)


# ---------------------------------------------------------------------------------------------
# Bundles

def make_bundle(crun_lite, path, args):
    """The bundle of every benchmark: rootfs/bin/{busybox,true,sleep,sh}, `crun-lite spec`'s config
    with process.args = args; returns the namespace kinds of the config."""
    def edit(spec):
        spec["process"]["terminal"] = False
        # crun 1.8 (Debian 12, the VM benchmark) refuses ociVersion 1.2.0 ("unknown version
        # specified"); the fields this bundle uses are all 1.0, and runc 1.1 speaks 1.0.2.
        spec["ociVersion"] = "1.0.2"
    try:
        bundle = bundles.make_bundle(path, [crun_lite, "spec", "--bundle", path], args=args, edit=edit,
                                     applets=("true", "sleep", "sh"), dirs=("bin",))
    except AssertionError as e:
        raise Failure(f"`{crun_lite} spec --bundle {path}` failed: {e}")
    kinds = {ns["type"] for ns in bundle.config["linux"].get("namespaces", [])}
    missing = {"pid", "mount", "network", "ipc", "uts"} - kinds
    if missing:
        raise Failure(f"`crun-lite spec` gave no {sorted(missing)} namespace(s): {sorted(kinds)}")
    return sorted(kinds)


# ---------------------------------------------------------------------------------------------
# Statistics

def p90(values):
    s = sorted(values)
    return s[max(0, math.ceil(0.9 * len(s)) - 1)]  # nearest rank


def summary(values):
    return {"n": len(values), "median": statistics.median(values), "p90": p90(values),
            "min": min(values), "max": max(values)}


def measure(contenders, n, warmup, what):
    """contenders: [(name, fn)]; fn() returns one sample. Interleaved: a, b, c, a, b, c, ..."""
    samples = {name: [] for name, _ in contenders}
    t0 = time.monotonic()
    for i in range(warmup + n):
        for name, fn in contenders:
            check_stop()
            value = fn()
            if i >= warmup:
                samples[name].append(value)
    log(f"{what}: {len(contenders)} contenders x ({warmup} warm-up + {n}) in "
        f"{time.monotonic() - t0:.1f} s")
    return samples


def cpu_busy_fraction(interval):
    """The share of all CPUs' time spent on anything but idle/iowait over `interval` seconds."""
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return v[3] + v[4], sum(v[:8])  # idle + iowait, user..steal
    idle0, total0 = sample()
    time.sleep(interval)
    idle1, total1 = sample()
    return 1.0 - (idle1 - idle0) / max(1, total1 - total0)


def settle(max_s=15.0, busy=0.10, interval=0.1):
    """Waits until the CPUs are idle (at most `busy` for two samples in a row), at most max_s.
    A batch of hundreds of containers leaves the kernel seconds of work: network namespaces and
    cgroups are torn down by kernel workers after the processes are gone. The next batch, of
    either runtime, should not pay for the previous one's. Returns the time waited."""
    t0 = time.monotonic()
    calm = 0
    while time.monotonic() - t0 < max_s and calm < 2:
        calm = calm + 1 if cpu_busy_fraction(interval) <= busy else 0
    return time.monotonic() - t0


def cpu_pressure():
    """The `some` line of /proc/pressure/cpu: {avg10, avg60, avg300} in %."""
    try:
        with open("/proc/pressure/cpu") as f:
            fields = f.readline().split()[1:4]
        return {k: float(v) for k, v in (x.split("=") for x in fields)}
    except (OSError, ValueError, IndexError):
        return None


def conditions():
    return {"time": datetime.datetime.now().isoformat(timespec="seconds"),
            "loadavg": list(os.getloadavg()), "cpu_pressure": cpu_pressure()}


# ---------------------------------------------------------------------------------------------
# Benchmarks (host)

def bench_run(h, runtimes, bundle, unshare, n, warmup):
    """unshare None: no floor (the VM)."""
    def run_one(rt):
        def fn():
            cid = h.new_id(rt.tag, "run")
            h.live[cid] = rt
            ms = h.timed(rt.cmd("run", "--bundle", bundle, cid))
            del h.live[cid]
            reap_orphans()
            if os.path.exists(os.path.join(rt.root, cid)):
                raise Failure(f"state of {cid} left behind by {rt.name} `run` in {rt.root}")
            return ms
        return fn

    floor_argv = [unshare, "--fork", "--pid", "--mount", "--uts", "--ipc", "--net",
                  os.path.join(bundle, "rootfs", "bin", "true")]

    def floor():
        ms = h.timed(floor_argv)
        reap_orphans()
        return ms

    contenders = [(rt.name, run_one(rt)) for rt in runtimes]
    if unshare:
        contenders.append(("floor", floor))
    floor_cmd = " ".join(floor_argv[:-1]) + " ROOTFS/bin/true" if unshare else None
    return measure(contenders, n, warmup, "run"), floor_cmd


def bench_cycle(h, runtimes, bundle, n, warmup):
    def cycle_one(rt):
        def fn():
            cid = h.new_id(rt.tag, "cyc")
            pidfile = os.path.join(h.state_dir, f"{cid}.pid")
            h.live[cid] = rt
            t0 = time.perf_counter()
            h.invoke(rt.cmd("create", "--bundle", bundle, "--pid-file", pidfile, cid))
            with open(pidfile) as f:
                pid = int(f.read().strip())
            h.invoke(rt.cmd("start", cid))
            wait_exit(pid)
            h.invoke(rt.cmd("delete", cid))
            t1 = time.perf_counter()
            del h.live[cid]
            os.unlink(pidfile)
            reap_orphans()
            if os.path.exists(os.path.join(rt.root, cid)):
                raise Failure(f"state of {cid} left behind by {rt.name} `delete` in {rt.root}")
            return (t1 - t0) * 1000.0
        return fn

    return measure([(rt.name, cycle_one(rt)) for rt in runtimes], n, warmup, "create+start+delete")


def bench_exec(h, runtimes, sleep_bundle, n, warmup):
    # One long-running container per runtime, started before the loop.
    sleepers = {}
    for rt in runtimes:
        cid = h.new_id(rt.tag, "sleep")
        pidfile = os.path.join(h.state_dir, f"{cid}.pid")
        h.live[cid] = rt
        h.invoke(rt.cmd("create", "--bundle", sleep_bundle, "--pid-file", pidfile, cid))
        with open(pidfile) as f:
            sleepers[rt.name] = (cid, int(f.read().strip()))
        os.unlink(pidfile)
        h.invoke(rt.cmd("start", cid))

    def exec_one(rt):
        cid = sleepers[rt.name][0]

        def fn():
            ms = h.timed(rt.cmd("exec", cid, "/bin/true"))
            reap_orphans()
            return ms
        return fn

    samples = measure([(rt.name, exec_one(rt)) for rt in runtimes], n, warmup, "exec")
    # Stop the sleepers (on failure, cleanup's `delete -f` does it).
    for rt in runtimes:
        cid, pid = sleepers[rt.name]
        h.invoke(rt.cmd("kill", cid, "KILL"))
        wait_exit(pid)
        h.invoke(rt.cmd("delete", cid))
        del h.live[cid]
    reap_orphans()
    return samples


def bench_rss(h, runtimes, bundle, gnu_time, n, warmup):
    """ru_maxrss (KiB) of each runtime's `run`, as wait4() reports it to /usr/bin/time.

    The runtime must not be a direct child of this Python process: a child's ru_maxrss starts
    from the RSS its parent had when it forked (fork copies the mm; posix_spawn/vfork even execs
    from the parent's mm), so Python's ~10+ MiB would be the floor of every number. GNU time is
    small (< 1 MiB) and forks the runtime itself. wait4's ru_maxrss is the largest peak of the
    runtime process and of any descendant it waited for (not a sum)."""
    rssfile = os.path.join(h.state_dir, "rss")

    def timed_rss(argv):
        code = wait_pid(spawn([gnu_time, "-f", "%M", "-o", rssfile, *argv], h.errlog))
        if code != 0:
            raise Failure(f"`{' '.join(argv)}` under {gnu_time} failed with {exit_text(code)}: "
                          f"{read_err(h.errlog)}")
        with open(rssfile) as f:
            return int(f.read().split()[-1])

    def run_one(rt):
        def fn():
            cid = h.new_id(rt.tag, "rss")
            h.live[cid] = rt
            kib = timed_rss(rt.cmd("run", "--bundle", bundle, cid))
            del h.live[cid]
            reap_orphans()
            if os.path.exists(os.path.join(rt.root, cid)):
                raise Failure(f"state of {cid} left behind by {rt.name} `run` in {rt.root}")
            return kib
        return fn

    contenders = [(rt.name, run_one(rt)) for rt in runtimes]
    contenders.append(("/bin/true", lambda: timed_rss(["/bin/true"])))
    samples = measure(contenders, n, warmup, "peak RSS")

    # What the naive way (this Python process posix_spawns, then wait4) would have said.
    pid = os.posix_spawn("/bin/true", ["/bin/true"], os.environ)
    inflight.add(pid)
    _, _, ru = os.wait4(pid, 0)
    inflight.discard(pid)
    return samples, ru.ru_maxrss


def conc_stderr_dir(h):
    """Where the harness keeps each concurrent run's stderr: on a tmpfs when there is one.
    Every file made on a journal-less ext4 (this project's /run) scans the inodes deleted in
    the last 30 s, so N files of the harness's own per batch would cost each runtime time
    growing with N that is not its own."""
    with open("/proc/self/mounts") as f:
        tmpfs = {fields[1] for fields in (line.split() for line in f) if fields[2] == "tmpfs"}
    parent = "/dev/shm" if "/dev/shm" in tmpfs else h.state_dir
    path = tempfile.mkdtemp(prefix="crun-lite-bench-conc.", dir=parent)
    h.extra_dirs.append(path)
    return path


def bench_conc(h, runtimes, bundle, levels, reps):
    """N `run`s launched back to back, timed from the first launch until the last has exited."""
    errdir = conc_stderr_dir(h)

    def batch(rt, n, label):
        ids = [h.new_id(rt.tag, f"c{label}") for _ in range(n)]
        for cid in ids:
            h.live[cid] = rt
        pids = {}
        codes = {}
        t0 = time.perf_counter()
        try:
            for cid in ids:
                pids[spawn(rt.cmd("run", "--bundle", bundle, cid),
                           os.path.join(errdir, cid))] = cid
        finally:
            # Wait for every launched one, even when a launch failed; reaps orphans on the way.
            while len(codes) < len(pids):
                pid, status = os.waitpid(-1, 0)
                inflight.discard(pid)
                if pid in pids:
                    codes[pids[pid]] = os.waitstatus_to_exitcode(status)
        t1 = time.perf_counter()
        failures = []
        for cid in ids:
            if codes[cid] != 0:
                first = read_err(os.path.join(errdir, cid), 400).splitlines()[0]
                failures.append(f"{exit_text(codes[cid])}: {first}")
            if codes[cid] != 0 or os.path.exists(os.path.join(rt.root, cid)):
                if codes[cid] == 0:
                    failures.append(f"state of {cid} left behind")
                h.quiet(rt.cmd("delete", "-f", cid))
            del h.live[cid]
            try:
                os.unlink(os.path.join(errdir, cid))
            except FileNotFoundError:
                pass
        reap_orphans()
        return (t1 - t0), failures

    # Warm-up: one batch of 10 (or the smallest N, if smaller) per runtime.
    for rt in runtimes:
        check_stop()
        _, failures = batch(rt, min(10, levels[0]), "w")
        if failures:
            log(f"concurrency warm-up: {len(failures)} {rt.name} failure(s), first: {failures[0]}")
    # The levels take turns as the runtimes do (rep 0 of every N, then rep 1, ...): a slow spell
    # of the shared host then falls on all of them alike, not on whichever N it happens to meet.
    result = {n: {rt.name: {"total_s": [], "failures": []} for rt in runtimes} for n in levels}
    reps_of = {n: reps if n >= 100 else max(reps, 9) for n in levels}
    t_start = time.monotonic()
    for rep in range(max(reps_of.values())):
        for n in levels:
            if rep >= reps_of[n]:
                continue
            for rt in runtimes:
                check_stop()
                waited = settle()
                if waited > 1:
                    log(f"concurrency N={n} rep {rep} {rt.name}: waited {waited:.1f} s for the CPUs to go idle")
                secs, failures = batch(rt, n, f"{n}r{rep}")
                result[n][rt.name]["total_s"].append(secs)
                result[n][rt.name]["failures"].extend(failures)
                if failures:
                    log(f"concurrency N={n} rep {rep}: {len(failures)} {rt.name} failure(s), "
                        f"first: {failures[0]}")
        log(f"concurrency rep {rep}: {' '.join(str(n) for n in levels if rep < reps_of[n])} x "
            f"{len(runtimes)} runtimes done after {time.monotonic() - t_start:.1f} s")
    return result


def bench_vm(h, crun_lite, crun, bundle, runs, warmup, timeout, mem):
    """Boot the cgroup v2 guest and run this script in it (--guest)."""
    global vm_proc_pid
    vm_script = os.path.join(REPO, "tests", "vm", "run-in-v2-vm.sh")
    if not os.access(vm_script, os.X_OK):
        raise Failure(f"{vm_script} not found")
    outdir = os.path.join(h.var_dir, "vm-out")
    os.makedirs(outdir)
    result = os.path.join(outdir, "result.json")
    # The guest sees the host's / read-only except /tmp, /run, /dev: the binary goes next to the
    # bundle under /var/tmp, the result comes back through a read-write share.
    cl_copy = os.path.join(h.var_dir, "crun-lite")
    shutil.copy2(crun_lite, cl_copy)
    argv = [vm_script, "-t", str(timeout), "-m", str(mem), "-c", "2", "-w", outdir,
            "-e", "PYTHONDONTWRITEBYTECODE=1",
            os.path.abspath(__file__), "--guest", "--crun-lite", cl_copy, "--crun", crun,
            "--bundle", bundle, "--runs", str(runs), "--warmup", str(warmup),
            "--id-prefix", h.prefix, "--result", result]
    t0 = time.monotonic()
    log(f"vm: booting the cgroup v2 guest ({runs} runs + {warmup} warm-up per runtime, "
        f"timeout {timeout} s)")
    pid = spawn(argv, None)
    vm_proc_pid = pid
    try:
        code = wait_pid(pid)
    finally:
        vm_proc_pid = None
    check_stop()
    data = None
    if os.path.exists(result):
        with open(result) as f:
            data = json.load(f)
    if code != 0 or data is None or data.get("error"):
        why = (data or {}).get("error") or f"run-in-v2-vm.sh exited with {exit_text(code)}"
        raise Failure(f"VM benchmark failed: {why}")
    data["vm_wall_s"] = time.monotonic() - t0
    log(f"vm: done in {data['vm_wall_s']:.1f} s")
    return data


# ---------------------------------------------------------------------------------------------
# Guest side (inside run-in-v2-vm.sh)

def guest_main(args):
    result = {"error": None}
    roots = tempfile.mkdtemp(prefix="crun-lite-bench-vm.", dir="/run")
    h = Harness(args.id_prefix + "vm", roots, roots)
    runtimes = [Runtime("crun-lite", "cl", args.crun_lite, os.path.join(roots, "crun-lite")),
                Runtime("crun", "crun", args.crun, os.path.join(roots, "crun"))]
    for rt in runtimes:
        os.makedirs(rt.root)
    h.runtimes = runtimes
    try:
        result["guest"] = {
            "kernel": platform.release(),
            "cgroup": cgroup_mode(),
            "nproc": os.cpu_count(),
            "crun": version([args.crun, "--version"]),
            "crun_lite": version([args.crun_lite, "--version"]),
        }
        print(f"guest: kernel {platform.release()}, {cgroup_mode()}, {os.cpu_count()} CPUs",
              flush=True)
        before = conditions()
        samples, _ = bench_run(h, runtimes, args.bundle, None, args.runs, args.warmup)
        result["samples"] = samples
        result["conditions"] = {"before": before, "after": conditions()}
    except Failure as e:
        result["error"] = str(e)
    except (Stopped, KeyboardInterrupt):
        result["error"] = "interrupted"
    finally:
        h.cleanup()
        with open(args.result, "w") as f:
            json.dump(result, f)
    if result["error"]:
        print(f"guest: {result['error']}", file=sys.stderr)
        return 1
    return 0


# ---------------------------------------------------------------------------------------------
# Machine info

def version(argv):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, check=True,
                             stdin=subprocess.DEVNULL).stdout
        return "; ".join([line.strip() for line in out.splitlines() if line.strip()][:2])
    except (OSError, subprocess.CalledProcessError):
        return "not available"


def cgroup_mode():
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        return "cgroup v2 (unified)"
    if os.path.exists("/sys/fs/cgroup/unified/cgroup.controllers"):
        return "cgroup v1 hybrid (v1 controllers, cgroup2 at /sys/fs/cgroup/unified)"
    return "cgroup v1 (legacy)"


def line_value(path, prefix, sep):
    """What follows `sep` on the first line of file `path` that starts with `prefix`, stripped; None
    when there is no such line or file."""
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(prefix):
                    return line.split(sep, 1)[1].strip()
    except OSError:
        pass
    return None


def cpu_model():
    return line_value("/proc/cpuinfo", "model name", ":") or platform.processor() or "unknown"


def mem_total():
    kib = line_value("/proc/meminfo", "MemTotal:", ":")
    return f"{int(kib.split()[0]) / 1024 / 1024:.1f} GiB" if kib else "unknown"


def os_release():
    name = line_value("/etc/os-release", "PRETTY_NAME=", "=")
    return name.strip('"') if name is not None else "unknown"


def git_commit():
    try:
        return subprocess.run(["git", "-C", REPO, "describe", "--always", "--dirty"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def elf_section_names(path):
    """The section names of a 64-bit little-endian ELF file (empty when it is none)."""
    import struct
    try:
        with open(path, "rb") as f:
            hdr = f.read(64)
            if hdr[:4] != b"\x7fELF" or hdr[4] != 2:
                return set()
            shoff, = struct.unpack_from("<Q", hdr, 0x28)
            shentsize, shnum, shstrndx = struct.unpack_from("<HHH", hdr, 0x3A)
            f.seek(shoff)
            table = f.read(shentsize * shnum)
            heads = [struct.unpack_from("<I20xQQ", table, i * shentsize) for i in range(shnum)]
            _, stroff, strsize = heads[shstrndx]
            f.seek(stroff)
            strtab = f.read(strsize)
        return {strtab[name:strtab.index(b"\0", name)].decode(errors="replace") for name, _, _ in heads}
    except (OSError, struct.error, IndexError, ValueError):
        return set()


def binary_facts(path, tmpdir):
    """Size on disk, linking, whether symbols or debug info are in it, and its size once stripped
    (`strip`, as `cmake --install` and the .deb install crun-lite; None without binutils)."""
    try:
        size = os.stat(path).st_size
    except (OSError, TypeError):
        return {"size": None}
    sections = elf_section_names(path)
    stripped = not ({".symtab", ".debug_info"} & sections)
    stripped_size = size if stripped else None
    strip = os.environ.get("STRIP") or shutil.which("strip")
    if not stripped and strip:
        out = os.path.join(tmpdir, "stripped")
        if subprocess.run([strip, "-o", out, path], capture_output=True).returncode == 0:
            stripped_size = os.stat(out).st_size
            os.unlink(out)
    return {"size": size, "static": is_static_elf(path), "stripped": stripped,
            "stripped_size": stripped_size}


def machine_info(crun_lite, peers, tmpdir):
    return {
        "cpu": cpu_model(), "nproc": os.cpu_count(), "memory": mem_total(),
        "os": os_release(), "kernel": platform.release(), "cgroup": cgroup_mode(),
        "host_cgroup": os.environ.get("BENCH_HOST_CGROUP") or cgroup_mode(),
        "private_ns": os.environ.get("BENCH_PRIVATE_NS") == "1",
        "crun_lite": crun_lite, "crun_lite_version": version([crun_lite, "--version"]),
        "crun_lite_binary": binary_facts(crun_lite, tmpdir), "repo_commit": git_commit(),
        "peers": [dict(p, binary=binary_facts(p["path"], tmpdir)) for p in peers],
        "python": platform.python_version(),
    }


# ---------------------------------------------------------------------------------------------
# Report

def fmt_ms(v):
    return f"{v:.2f}" if v < 100 else f"{v:.1f}"


def verdict(ok):
    return "**PASS**" if ok else "**FAIL**"


def psi_text(c):
    p = c.get("cpu_pressure")
    psi = f"some avg10 {p['avg10']:.1f} % / avg60 {p['avg60']:.1f} %" if p else "n/a"
    return f"load {c['loadavg'][0]:.2f}, CPU pressure {psi}"


def fmt_size(v):
    return f"{v / 1024 / 1024:.2f} MiB ({v} B)" if v else "–"


def build_report(res, cfg):
    info = res["machine"]
    peers = info["peers"]
    L = []
    L.append("| Benchmark | Runs/runtime | crun-lite median (ms) | crun-lite p90 (ms) | Against "
             "| its median (ms) | its p90 (ms) | Ratio median | Ratio p90 | Target (median and p90) "
             "| Result median | Result p90 |")
    L.append("|---|---:|---:|---:|---|---:|---:|---:|---:|---|---|---|")

    def row(label, n, cl, other_name, other, target, bound_text):
        a, b = summary(cl), summary(other)
        ratio, ratio90 = a["median"] / b["median"], a["p90"] / b["p90"]
        ok = (lambda r: verdict(r <= target)) if target else (lambda r: "–")
        L.append(f"| {label} | {n} | {fmt_ms(a['median'])} | {fmt_ms(a['p90'])} | {other_name} "
                 f"| {fmt_ms(b['median'])} | {fmt_ms(b['p90'])} | {ratio:.2f} | {ratio90:.2f} "
                 f"| {bound_text} | {ok(ratio)} | {ok(ratio90)} |")

    def peer_rows(bench, label, s):
        """One row per peer, in PEER_SPECS order; a peer with a target that did not run gets a
        row saying so (the target is not met: it was not shown to be)."""
        n = len(s["crun-lite"])
        for p in peers:
            target = peer_target(bench, p["key"])
            if p["label"] in s:
                row(label, n, s["crun-lite"], p["label"], s[p["label"]], target,
                    f"≤ {target} × {p['label']}" if target else "–")
            elif target:
                L.append(f"| {label} | {n} | {fmt_ms(summary(s['crun-lite'])['median'])} "
                         f"| {fmt_ms(summary(s['crun-lite'])['p90'])} | {p['label']}³ | – | – | – | – "
                         f"| ≤ {target} × {p['label']} | **NOT MEASURED** | **NOT MEASURED** |")

    b = res["benchmarks"]
    if "run" in b:
        s = b["run"]["samples"]
        peer_rows("run", "`run` /bin/true", s)
        row("`run` /bin/true", len(s["crun-lite"]), s["crun-lite"], "namespace floor¹", s["floor"],
            TARGET_FLOOR, f"≤ {TARGET_FLOOR} × floor")
    if "cycle" in b:
        peer_rows("cycle", "`create`+`start`+wait+`delete`", b["cycle"]["samples"])
    if "exec" in b:
        peer_rows("exec", "`exec` /bin/true", b["exec"]["samples"])
    if "vm" in b:
        s = b["vm"]["samples"]
        g = b["vm"].get("guest", {})
        m = re.search(r"version (\d+\.\d+\.\d+)", g.get("crun", ""))
        crun_label = f"crun {m.group(1)}" if m else "crun"
        row("`run` in the cgroup v2 VM²", len(s["crun-lite"]), s["crun-lite"], crun_label,
            s["crun"], TARGET_CRUN, f"≤ {TARGET_CRUN} × {crun_label}")
    notes = []
    if "run" in b:
        notes.append(f"¹ `{b['run']['floor_cmd']}`: the kernel's cost of the same namespaces "
                     "plus one fork and exec, no runtime.")
    if "vm" in b:
        g = b["vm"].get("guest", {})
        notes.append(f"² qemu microvm under TCG emulation (absolute times are large), guest kernel "
                     f"{g.get('kernel', '?')}, {g.get('cgroup', '?')}, {g.get('nproc', '?')} vCPUs, "
                     f"crun `{g.get('crun', '?').split(';')[0]}`; VM wall time "
                     f"{b['vm'].get('vm_wall_s', 0):.0f} s.")
    if any(p["error"] for p in peers):
        notes.append("³ not measured: " + "; ".join(f"{p['label']} (`{p['path']}`): {p['error']}"
                                                     for p in peers if p["error"]))
    if len(L) > 2:
        L.append("")
        L.extend(n + "  " for n in notes)
    else:
        L = []
    if info.get("private_ns"):
        L.append("")
        L.append(f"Every contender ran in one private mount namespace without the cgroup2 mount "
                 f"(`unshare -m --propagation private`, `umount /sys/fs/cgroup/unified`, an empty tmpfs "
                 f"of its own there instead): the host is "
                 f"a {info['host_cgroup']}, which crun refuses; there all of them saw {info['cgroup']}.")

    # Binary sizes: crun-lite as installed (stripped, as `cmake --install` and the .deb put it)
    # next to each peer's binary as it ran.
    L.append("")
    L.append("| Binary | Path | Linking | Size on disk | Stripped (as installed) | crun-lite stripped ÷ it |")
    L.append("|---|---|---|---:|---:|---:|")
    mine = info["crun_lite_binary"].get("stripped_size")
    for label, path, facts in [("crun-lite", info["crun_lite"], info["crun_lite_binary"]),
                               *((p["label"], p["path"], p["binary"]) for p in peers)]:
        if not facts.get("size"):
            L.append(f"| {label} | `{path}` | not found | – | – | – |")
            continue
        link = "static" if facts["static"] else "dynamic (shared libraries not counted)"
        strip_text = ("already stripped" if facts["stripped"] else
                      fmt_size(facts["stripped_size"]) if facts["stripped_size"] else "– (no `strip`)")
        ratio = (f"{mine / facts['stripped_size']:.2f}"
                 if mine and facts["stripped_size"] and label != "crun-lite" else "–")
        L.append(f"| {label} | `{path}` | {link} | {fmt_size(facts['size'])} | {strip_text} | {ratio} |")

    if "rss" in b:
        s = b["rss"]["samples"]
        L.append("")
        L.append("| Peak RSS of `run` (ru_maxrss, via `/usr/bin/time -f %M`) | Runs | Median (KiB) "
                 "| Max (KiB) | crun-lite ÷ it (median) | Target | Result |")
        L.append("|---|---:|---:|---:|---:|---|---|")
        mine = summary(s["crun-lite"])["median"]
        for name in s:
            a = summary(s[name])
            ratio = f"{mine / a['median']:.2f}" if name not in ("crun-lite", "/bin/true") else "–"
            if name == "crun-lite":
                tgt, res_text = f"≤ {TARGET_RSS_KIB} KiB", verdict(a["median"] <= TARGET_RSS_KIB)
            elif name == "/bin/true":
                tgt, res_text = "method check: ~1 MiB", (
                    "ok" if a["median"] <= 1536 else "**method polluted**")
            else:
                tgt, res_text = "", ""
            label = name if name != "/bin/true" else "`/bin/true` (reference)"
            L.append(f"| {label} | {a['n']} | {a['median']:.0f} | {a['max']:.0f} | {ratio} "
                     f"| {tgt} | {res_text} |")
        L.append("")
        L.append(f"The same `/bin/true` spawned directly from the Python harness reports "
                 f"{b['rss']['naive_true_kib']} KiB: a child's ru_maxrss starts at its parent's RSS, "
                 "hence the small `time` in between.")

    if "conc" in b:
        c = b["conc"]
        levels = sorted(int(n) for n in c["points"])
        L.append("")
        names = c.get("runtimes") or list(c["points"][str(levels[0])])
        L.append("| Concurrent `run`s (N) | Reps | Runtime | Total (s, median) | Per container (ms) "
                 "| crun-lite ÷ it (total) | Failed runs (of N × reps) |")
        L.append("|---:|---:|---|---:|---:|---:|---:|")
        for n in levels:
            p = c["points"][str(n)]
            mcl = statistics.median(p["crun-lite"]["total_s"])
            for name in names:
                m = statistics.median(p[name]["total_s"])
                ratio = f"{mcl / m:.2f}" if name != "crun-lite" else "–"
                L.append(f"| {n} | {len(p[name]['total_s'])} | {name} | {m:.2f} | {m / n * 1000:.1f} "
                         f"| {ratio} | {len(p[name]['failures'])} |")
        if len(levels) >= 2:
            lo, hi = levels[0], levels[-1]
            parts = []
            for name in names:
                per = {n: statistics.median(c["points"][str(n)][name]["total_s"]) / n
                       for n in (lo, hi)}
                f = per[hi] / per[lo]
                kind = "linear (or better)" if f <= LINEAR_FACTOR else "**worse than linear**"
                parts.append(f"{name} {f:.2f} → {kind}")
            L.append("")
            L.append(f"Scaling: time per container at N={hi} ÷ at N={lo} (linear if ≤ "
                     f"{LINEAR_FACTOR}): " + "; ".join(parts) + ".")
        fails = {}
        for n in levels:
            for name in names:
                for msg in c["points"][str(n)][name]["failures"]:
                    key = (name, msg[:300])
                    fails.setdefault(key, []).append(n)
        if fails:
            L.append("")
            L.append("Concurrency failures (distinct messages, most frequent first):")
            for (name, msg), ns in sorted(fails.items(), key=lambda kv: -len(kv[1]))[:8]:
                L.append(f"- {name}, {len(ns)}× (N={','.join(map(str, sorted(set(ns))))}): {msg}")
    cond = []
    for name, data in b.items():
        c0, c1 = data["conditions"]["before"], data["conditions"]["after"]
        if c0.get("cpu_pressure") and c1.get("cpu_pressure"):
            cond.append(f"{name} {c0['cpu_pressure']['avg10']:.0f}→{c1['cpu_pressure']['avg10']:.0f} %")
    if cond:
        L.append("")
        L.append("Host CPU pressure (`/proc/pressure/cpu` some avg10) at the start → end of each "
                 "benchmark: " + ", ".join(cond) + ".")
    return "\n".join(L).lstrip("\n") + "\n"


def machine_md(res):
    i = res["machine"]
    cgroups = i["cgroup"]
    if i.get("private_ns"):
        cgroups = f"host: {i['host_cgroup']}; the benchmarks' private mount namespace: {i['cgroup']}"
    rows = [
        ("CPU", f"{i['cpu']}, nproc = {i['nproc']}, {i['memory']} RAM"),
        ("OS / kernel", f"{i['os']}, Linux {i['kernel']}"),
        ("cgroups", cgroups),
        ("crun-lite", f"`{i['crun_lite']}`: {i['crun_lite_version']}"),
        *((f"{p['label']} (`{p['env']}`)", f"`{p['path']}`: {p['version_text']}"
           + (f"; **{p['error']}**" if p["error"] else "")) for p in i["peers"]),
        ("Repository", f"`{i['repo_commit']}`; Python {i['python']} (harness)"),
        ("Before", psi_text(res["before"]) + f" ({res['before']['time']})"),
        ("After", psi_text(res["after"]) + f" ({res['after']['time']})"),
    ]
    out = ["| Machine | |", "|---|---|"]
    out += [f"| {k} | {v} |" for k, v in rows]
    return "\n".join(out) + "\n"


def write_outputs(res, cfg, outdir, table):
    with open(os.path.join(outdir, "results.json"), "w") as f:
        json.dump(res, f, indent=1)
    with open(os.path.join(outdir, "samples.csv"), "w") as f:
        f.write("benchmark,contender,iteration,value,unit\n")
        for bench, data in res["benchmarks"].items():
            if "samples" not in data:
                continue
            unit = "KiB" if bench == "rss" else "ms"
            for name, values in data["samples"].items():
                for i, v in enumerate(values):
                    f.write(f"{bench},{name},{i},{v:.3f},{unit}\n")
        if "conc" in res["benchmarks"]:
            for n, p in res["benchmarks"]["conc"]["points"].items():
                for name, d in p.items():
                    for i, v in enumerate(d["total_s"]):
                        f.write(f"conc-{n},{name},{i},{v * 1000:.3f},ms\n")
    cmdline = os.environ.get("BENCH_CMDLINE") or " ".join(["tests/bench/bench.py", *cfg["argv"]])
    doc = [
        "# crun-lite benchmark results",
        "",
        f"Produced by `{cmdline}` on {res['before']['time']} "
        f"(RUNS={cfg['runs']}, WARMUP={cfg['warmup']}, CONC_LEVELS=\"{' '.join(map(str, cfg['conc_levels']))}\", "
        f"CONC_REPS={cfg['conc_reps']}, VM_RUNS={cfg['vm_runs']}, benchmarks: {','.join(cfg['benches'])}).",
        "Ratios are crun-lite / other, so below 1 means crun-lite is faster; PASS/FAIL compares "
        "the median ratio and the p90 ratio with the issue's target, each on its own.",
        "",
        table,
        machine_md(res),
    ]
    if "conc" in res["benchmarks"]:
        doc.append("![Concurrent runs: total and per-container time against N](concurrency.png)\n")
    with open(os.path.join(outdir, "benchmarks.md"), "w") as f:
        f.write("\n".join(doc))


def plot_concurrency(res, outdir):
    c = res["benchmarks"]["conc"]
    levels = sorted(int(n) for n in c["points"])
    names = c.get("runtimes") or list(c["points"][str(levels[0])])
    dat = os.path.join(outdir, "concurrency.dat")
    with open(dat, "w") as f:
        f.write("# N, then per runtime (" + ", ".join(names) + "): total_s median min max, per-container ms\n")
        for n in levels:
            row = [str(n)]
            for name in names:
                t = c["points"][str(n)][name]["total_s"]
                med = statistics.median(t)
                row += [f"{med:.4f}", f"{min(t):.4f}", f"{max(t):.4f}", f"{med / n * 1000:.3f}"]
            f.write(" ".join(row) + "\n")
    # Columns of runtime i (0-based): 2+4i median, 3+4i min, 4+4i max, 5+4i per container.
    total = ", \\\n     ".join(f'"concurrency.dat" using 1:{2 + 4 * i}:{3 + 4 * i}:{4 + 4 * i} '
                                 f'with yerrorlines lw 2 title "{name}"' for i, name in enumerate(names))
    per = ", \\\n     ".join(f'"concurrency.dat" using 1:{5 + 4 * i} with linespoints lw 2 '
                               f'title "{name}"' for i, name in enumerate(names))
    gp = os.path.join(outdir, "concurrency.gp")
    with open(gp, "w") as f:
        f.write(f"""# gnuplot {os.path.basename(gp)} (from {os.path.basename(dat)}, written by bench.py)
set terminal pngcairo size 1200,500 font ",10"
set output "concurrency.png"
set multiplot layout 1,2 title "N containers run at once (RUNTIME run), medians of {c['reps']}+ reps, bars min-max ({res['machine']['nproc']} CPUs)"
set logscale x
set xrange [{levels[0] / 1.6:g}:{levels[-1] * 1.6:g}]
set xtics ({", ".join(str(n) for n in levels)})
set xlabel "N (containers started at once)"
set key top left
set grid
set title "Total wall time, first launch to last exit"
set ylabel "seconds"
set logscale y
plot {total}
set title "Per container (total / N)"
set ylabel "milliseconds"
unset logscale y
set yrange [0:*]
plot {per}
unset multiplot
""")
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        log("warning: gnuplot not found, concurrency.png not written (apt-get install gnuplot-nox)")
        return False
    r = subprocess.run([gnuplot, os.path.basename(gp)], cwd=outdir, capture_output=True, text=True)
    if r.returncode != 0 or not os.path.exists(os.path.join(outdir, "concurrency.png")):
        log(f"warning: gnuplot failed: {r.stderr.strip()}")
        return False
    return True


# ---------------------------------------------------------------------------------------------

def env_int(name, default, minimum=1):
    raw = os.environ.get(name, "")
    if raw == "":
        return default
    try:
        v = int(raw)
    except ValueError:
        sys.exit(f"bench: {name} must be an integer, got '{raw}'")
    if v < minimum:
        sys.exit(f"bench: {name} must be ≥ {minimum}, got {v}")
    return v


def config(args):
    benches = [b.strip() for b in os.environ.get("BENCHES", ",".join(ALL_BENCHES)).replace(" ", ",").split(",")
               if b.strip()]
    bad = [b for b in benches if b not in ALL_BENCHES]
    if bad:
        sys.exit(f"bench: unknown benchmark(s) in BENCHES: {bad} (known: {ALL_BENCHES})")
    benches = [b for b in ALL_BENCHES if b in benches
               and os.environ.get(f"SKIP_{b.upper()}", "") not in ("1", "yes", "true")]
    try:
        levels = sorted({int(x) for x in os.environ.get("CONC_LEVELS", "10 100 500").replace(",", " ").split()})
    except ValueError:
        sys.exit("bench: CONC_LEVELS must be integers, e.g. \"10 100 500\"")
    if not levels or levels[0] < 1:
        sys.exit("bench: CONC_LEVELS must be positive integers")
    conc_peers = [k for k in os.environ.get("CONC_PEERS", "runc-new,crun-new").replace(" ", ",").split(",") if k]
    keys = [spec[0] for spec in PEER_SPECS]
    if set(conc_peers) - set(keys):
        sys.exit(f"bench: unknown peer(s) in CONC_PEERS: {sorted(set(conc_peers) - set(keys))} (known: {keys})")
    return {
        "argv": args.orig_argv, "benches": benches,
        "runs": env_int("RUNS", 100), "warmup": env_int("WARMUP", 5, 0),
        "conc_levels": levels, "conc_reps": env_int("CONC_REPS", 5),
        "conc_peers": conc_peers,
        "vm_runs": env_int("VM_RUNS", 30), "vm_warmup": env_int("VM_WARMUP", 3, 0),
        "vm_timeout": env_int("VM_TIMEOUT", 900), "vm_mem": env_int("VM_MEM", 1024, 256),
    }


def is_static_elf(path):
    """An ELF file without a PT_INTERP program header (no dynamic loader needed)."""
    import struct
    try:
        with open(path, "rb") as f:
            ident = f.read(64)
            if ident[:4] != b"\x7fELF" or ident[4] != 2:   # 64-bit only, as the hosts here
                return False
            phoff, = struct.unpack_from("<Q", ident, 32)
            phentsize, phnum = struct.unpack_from("<HH", ident, 54)
            for i in range(phnum):
                f.seek(phoff + i * phentsize)
                if struct.unpack("<I", f.read(4))[0] == 3:   # PT_INTERP
                    return False
            return True
    except (OSError, struct.error):
        return False


def which_or(envname, name):
    v = os.environ.get(envname) or shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin:/usr/bin:/bin")
    return os.path.abspath(v) if v else None


# The peers: key (for CONC_PEERS), ID tag, variable, name in PATH or file in ANCHORS (the default).
PEER_SPECS = [
    ("runc", "runc", "RUNC", "runc", None),            # Debian 12: runc 1.1.5
    ("crun", "crun", "CRUN", "crun", None),            # Debian 12: crun 1.8.1
    ("runc-new", "runcn", "RUNC_NEW", None, "runc-1.3.6"),
    ("crun-new", "crunn", "CRUN_NEW", None, "crun-1.27.1"),
]


def peer_target(bench, key):
    """The issue's bound on crun-lite / this peer for a benchmark (median and p90), or None."""
    if key in ("runc", "runc-new") and bench in ("run", "cycle", "exec"):
        return TARGET_RUNC
    if key == "crun-new" and bench == "run":
        return TARGET_CRUN_NEW
    return None


def resolve_peers():
    """[{key, tag, env, path, label, version, error}]: error None until a check says otherwise."""
    anchors = os.environ.get("ANCHORS") or os.path.join(REPO, "..", "shared", "tools", "anchors")
    peers = []
    for key, tag, env, in_path, anchor in PEER_SPECS:
        program = key.split("-")[0]
        if os.environ.get(env):
            path = os.path.abspath(os.environ[env])
        elif in_path:
            path = which_or(env, in_path)
        else:
            path = os.path.realpath(os.path.join(anchors, anchor))
        found = bool(path) and os.path.isfile(path) and os.access(path, os.X_OK)
        version_text = version([path, "--version"]) if found else "not found"
        m = re.search(r"version (\d+\.\d+\.\d+)", version_text)
        ver = m.group(1) if m else None
        label = f"{program} {ver}" if ver else (anchor.replace("-", " ") if anchor else f"{program} ({env})")
        if any(p["label"] == label for p in peers):
            label = f"{label} ({env})"
        error = None if found else f"not found at {path or program + ' in PATH'} (set {env})"
        peers.append({"key": key, "tag": tag, "env": env, "path": path, "label": label,
                      "version": ver, "version_text": version_text, "error": error})
    return peers


def check_peers(h, peers, bundle):
    """One untimed `run` of the bundle per peer: a peer that fails keeps its error and is left out
    of the benchmarks (it is reported, not hidden). Returns the Runtimes of the others."""
    runnable = []
    for p in peers:
        if p["error"]:
            log(f"{p['label']}: {p['error']}")
            continue
        rt = Runtime(p["label"], p["tag"], p["path"], os.path.join(h.state_dir, f"root-{p['key']}"))
        os.makedirs(rt.root)
        h.runtimes.append(rt)
        cid = h.new_id(rt.tag, "check")
        h.live[cid] = rt
        try:
            h.invoke(rt.cmd("run", "--bundle", bundle, cid))
        except Failure as e:
            p["error"] = f"not runnable here: {e}"
            log(f"{p['label']}: {p['error']}")
            h.quiet(rt.cmd("delete", "-f", cid))
        else:
            runnable.append(rt)
        finally:
            del h.live[cid]
            reap_orphans()
    return runnable


def enter_private_ns(unshare):
    """On a cgroup v1 hybrid host, re-execute this script in a private mount namespace without the
    cgroup2 mount at /sys/fs/cgroup/unified (crun refuses the hybrid layout): every contender then
    sees the same plain cgroup v1 host. Same pid (unshare and sh exec), so signals still reach us.

    An empty tmpfs of the namespace's own goes where the cgroup2 mount was: crun takes every
    directory of /sys/fs/cgroup for a v1 hierarchy and makes `<id>/cgroup.procs` in it, and a bare
    `umount` would leave it the directory of the host's /sys/fs/cgroup tmpfs, which the namespace
    shares: those files would stay behind on the host, hidden under its cgroup2 mount. They stay in
    the tmpfs until the namespace goes: a page or two per crun container, so 1 MiB was full after
    the `run` benchmark and crun failed in the next one (ENOSPC); 64 MiB holds thousands."""
    if os.environ.get("BENCH_PRIVATE_NS") or os.environ.get("PRIVATE_NS", "1") in ("0", "no", "false"):
        return
    if not os.path.exists("/sys/fs/cgroup/unified/cgroup.controllers"):
        return
    os.environ["BENCH_PRIVATE_NS"] = "1"
    os.environ["BENCH_HOST_CGROUP"] = cgroup_mode()
    log("cgroup v1 hybrid host: re-executing in a private mount namespace without "
        "/sys/fs/cgroup/unified (unshare -m --propagation private)")
    os.execv(unshare, [unshare, "-m", "--propagation", "private", "sh", "-c",
                       'umount /sys/fs/cgroup/unified && mount -t tmpfs -o mode=755,size=64m '
                       'bench-no-cgroup2 /sys/fs/cgroup/unified && exec "$@"', "sh",
                       sys.executable, os.path.abspath(__file__), *sys.argv[1:]])


def host_main(args):
    cfg = config(args)
    if os.geteuid() != 0:
        sys.exit("bench: must run as root (namespaces, cgroups)")
    crun_lite = os.path.abspath(args.crun_lite)
    if not os.access(crun_lite, os.X_OK):
        sys.exit(f"bench: crun-lite binary not found or not executable: {crun_lite}")
    unshare = which_or("UNSHARE", "unshare")
    if not unshare:
        sys.exit("bench: unshare not found (apt-get install util-linux)")
    enter_private_ns(unshare)
    peers = resolve_peers()
    debian_crun = next(p for p in peers if p["key"] == "crun")
    gnu_time = os.environ.get("GNU_TIME", "/usr/bin/time")
    if "rss" in cfg["benches"] and not os.access(gnu_time, os.X_OK):
        sys.exit(f"bench: {gnu_time} not found (apt-get install time)")
    if "vm" in cfg["benches"] and not debian_crun["path"]:
        sys.exit("bench: crun not found, needed in the VM (apt-get install crun), or SKIP_VM=1")
    if not is_static_elf("/bin/busybox"):
        sys.exit("bench: /bin/busybox missing or not statically linked (apt-get install busybox-static)")
    outdir = os.path.abspath(args.out)
    os.makedirs(outdir, exist_ok=True)

    # A child subreaper: container inits outlive `create` (their parents exit) and are waited for.
    err = processes.become_subreaper()
    if err:
        sys.exit(f"bench: prctl(PR_SET_CHILD_SUBREAPER): {os.strerror(err)}")
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    prefix = f"bench{os.getpid()}"
    # State roots under /run (as the runtimes' defaults); bundles under /var/tmp, where the VM
    # guest sees them too (its /tmp and /run are its own tmpfs).
    h = Harness(prefix, "/run", "/var/tmp")
    cl = Runtime("crun-lite", "cl", crun_lite, os.path.join(h.state_dir, "root-crun-lite"))
    h.runtimes = [cl]
    res = {"benchmarks": {}, "config": cfg}
    rc = 0
    try:
        os.makedirs(cl.root)
        bundle = os.path.join(h.var_dir, "bundle-true")
        sleep_bundle = os.path.join(h.var_dir, "bundle-sleep")
        ns = make_bundle(crun_lite, bundle, ["/bin/true"])
        make_bundle(crun_lite, sleep_bundle, ["/bin/sleep", "1000000"])
        res["namespaces"] = ns
        runtimes = [cl, *check_peers(h, peers, bundle)]
        res["machine"] = machine_info(crun_lite, peers, h.state_dir)
        res["before"] = conditions()
        conc_keys = set(cfg["conc_peers"])
        conc_runtimes = [cl] + [rt for rt in runtimes[1:]
                                if next(p["key"] for p in peers if p["label"] == rt.name) in conc_keys]
        log(f"crun-lite {crun_lite}; peers {', '.join(rt.name for rt in runtimes[1:]) or 'none'}; "
            f"benchmarks {','.join(cfg['benches'])}; {psi_text(res['before'])}")
        n, w = cfg["runs"], cfg["warmup"]
        b = res["benchmarks"]
        for name in cfg["benches"]:
            start = conditions()
            if name == "run":
                samples, floor_cmd = bench_run(h, runtimes, bundle, unshare, n, w)
                b["run"] = {"samples": samples, "floor_cmd": floor_cmd}
            elif name == "cycle":
                b["cycle"] = {"samples": bench_cycle(h, runtimes, bundle, n, w)}
            elif name == "exec":
                b["exec"] = {"samples": bench_exec(h, runtimes, sleep_bundle, n, w)}
            elif name == "rss":
                samples, naive = bench_rss(h, runtimes, bundle, gnu_time, n, w)
                b["rss"] = {"samples": samples, "naive_true_kib": naive}
            elif name == "conc":
                pts = bench_conc(h, conc_runtimes, bundle, cfg["conc_levels"], cfg["conc_reps"])
                b["conc"] = {"points": {str(k): v for k, v in pts.items()}, "reps": cfg["conc_reps"],
                             "runtimes": [rt.name for rt in conc_runtimes]}
            elif name == "vm":
                b["vm"] = bench_vm(h, crun_lite, debian_crun["path"], bundle, cfg["vm_runs"],
                                   cfg["vm_warmup"], cfg["vm_timeout"], cfg["vm_mem"])
            b[name]["conditions"] = {"before": start, "after": conditions()}
        res["after"] = conditions()
    except Failure as e:
        log(f"FAILED: {e}")
        rc = 1
    except (Stopped, KeyboardInterrupt):
        log("interrupted")
        rc = 130
    finally:
        h.cleanup()
    if rc:
        return rc

    table = build_report(res, cfg)
    written = ["benchmarks.md", "results.json", "samples.csv"]
    if "conc" in res["benchmarks"]:
        written += ["concurrency.dat", "concurrency.gp"]
        if plot_concurrency(res, outdir):
            written.append("concurrency.png")
    write_outputs(res, cfg, outdir, table)
    print(table)
    print(machine_md(res))
    print(f"Written in {outdir}: {', '.join(written)}")
    conc_failures = sum(len(d["failures"]) for p in res["benchmarks"].get("conc", {}).get("points", {}).values()
                        for d in p.values())
    if conc_failures:
        log(f"{conc_failures} container(s) failed in the concurrency benchmark (see the table)")
        return 1
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--crun-lite", default=os.path.join(REPO, "build", "crun-lite"))
    ap.add_argument("--out", default=os.path.join(REPO, "build", "bench-results"))
    ap.add_argument("--guest", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--crun", help=argparse.SUPPRESS)
    ap.add_argument("--bundle", help=argparse.SUPPRESS)
    ap.add_argument("--runs", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--warmup", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--id-prefix", help=argparse.SUPPRESS)
    ap.add_argument("--result", help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.orig_argv = sys.argv[1:]
    if args.guest:
        return guest_main(args)
    return host_main(args)


if __name__ == "__main__":
    sys.exit(main())
