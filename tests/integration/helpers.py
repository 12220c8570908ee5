"""Helpers of the crun-lite integration tests (the fixtures are in conftest.py).

The Runtime class drives the binary against one state root and does the teardown checks; the
host-side probes read mountinfo, /proc and cgroups. What other suites share too (run_cmd, Bundle,
the process helpers, the capability numbers) comes from tests/lib/crunlite_testlib and is
re-exported here.
"""

import glob
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from crunlite_testlib.bundles import APPLETS, BUSYBOX, Bundle, make_bundle  # noqa: E402,F401
from crunlite_testlib.caps import CAP_NUMBERS, cap_mask  # noqa: E402,F401
from crunlite_testlib.processes import (DEFAULT_TIMEOUT, Result, become_subreaper,  # noqa: E402,F401
                                        live_children, process_alive, process_state, reap_orphans,
                                        run_cmd, wait_exit_status, wait_for_exec, wait_until)
from crunlite_testlib.runtime import RuntimeCli, default_crun_lite, default_runc, runc_version  # noqa: E402

CRUN_LITE = default_crun_lite()
# The runc that tests marked runc_too also run against (conftest.py's each_rt): $RUNC, else the
# prebuilt runc 1.3.6 in ../shared/tools/anchors/, else /usr/sbin/runc.
RUNC = default_runc()
RUNC_VERSION = runc_version(RUNC) if RUNC else None
TEST_ROOT_BASE = "/run/crun-lite-test"
# CRUN_LITE_SYSTEMD_CGROUP=1: the systemd mode (tests/systemd/integration-in-systemd-vm.sh runs it in
# a guest with systemd as PID 1): every call of the Runtime gets the global flag --systemd-cgroup,
# a container's cgroup is the scope system.slice/crun-lite-<id>.scope, and the teardown also wants
# no unit of the test's containers left.
SYSTEMD_CGROUP = os.environ.get("CRUN_LITE_SYSTEMD_CGROUP", "") not in ("", "0")
GLOBAL_FLAGS = ["--systemd-cgroup"] if SYSTEMD_CGROUP else []


# --------------------------------------------------------------------------------------------
# Host-side observations


def host_mountinfo():
    with open("/proc/self/mountinfo") as f:
        return f.read().splitlines()


def parse_mountinfo(text):
    """mountinfo text -> list of dicts (mount_point, root, options, fstype, source, super)."""
    out = []
    for line in text.splitlines():
        left, _, right = line.partition(" - ")
        f = left.split()
        r = right.split()
        if len(f) < 6 or len(r) < 2:
            continue
        out.append({
            "root": unescape_mount_path(f[3]), "mount_point": unescape_mount_path(f[4]),
            "options": f[5].split(","), "fstype": r[0], "source": r[1],
            "super": r[2].split(",") if len(r) > 2 else [], "line": line,
        })
    return out


def unescape_mount_path(p):
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), p)


def mounts_mentioning(path):
    return [l for l in host_mountinfo() if path in unescape_mount_path(l)]


def cgroup_v2_only():
    """True on a pure cgroup v2 host (/sys/fs/cgroup is the cgroup2 hierarchy), False on a v1 or
    hybrid one (/sys/fs/cgroup is a tmpfs of hierarchies: cpu/, memory/..., unified/)."""
    fstype = None
    for m in parse_mountinfo("\n".join(host_mountinfo())):
        if m["mount_point"] == "/sys/fs/cgroup":
            fstype = m["fstype"]  # the last one is what the path shows
    return fstype == "cgroup2"


def crun_lite_cgroup_parents():
    """The shared parent cgroup (/crun-lite) of containers made with crun-lite's former default
    path, /crun-lite/<id>, in every hierarchy that has one: /sys/fs/cgroup/<hierarchy>/crun-lite on
    v1, /sys/fs/cgroup/crun-lite on v2."""
    return sorted(d for d in glob.glob("/sys/fs/cgroup/*/crun-lite") + glob.glob("/sys/fs/cgroup/crun-lite") if os.path.isdir(d))


def default_cgroup_suffix(cid):
    """The end of the container's default cgroup path: /crun-lite-<id> (cgroupfs, at the root of
    every hierarchy; /crun-lite/<id> for an ID too long for the prefix) or
    /system.slice/crun-lite-<id>.scope (systemd mode)."""
    if SYSTEMD_CGROUP:
        return f"/system.slice/crun-lite-{cid}.scope"
    return f"/crun-lite-{cid}" if len("crun-lite-" + cid) <= 255 else f"/crun-lite/{cid}"


# the id in a /proc/<pid>/cgroup line of a container in its default cgroup
_DEFAULT_CGROUP_ID = re.compile(r"/system\.slice/crun-lite-([^/]+)\.scope$" if SYSTEMD_CGROUP else r"^[^:]*:[^:]*:/crun-lite[-/]([^/]+)$")


def container_units(ids):
    """systemd mode: the loaded units (any state) named after one of `ids`, as "name (active/sub)"."""
    if not SYSTEMD_CGROUP or not ids:
        return []
    r = run_cmd(["systemctl", "list-units", "--all", "--plain", "--no-legend", "--full", "*crun-lite*"])
    assert r.rc == 0, r
    rows = [l.lstrip("● *").split() for l in r.stdout.splitlines()]  # a failed unit may carry a mark
    return [f"{f[0]} ({f[2]}/{f[3]})" for f in rows if len(f) >= 4 and any(cid in f[0] for cid in ids)]


def proc_cgroups():
    """(pid, the lines of /proc/<pid>/cgroup) for every process there is (one /proc scan)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cgroup") as f:
                yield int(entry), f.read().splitlines()
        except OSError:
            continue


def container_cgroup_pids(ids):
    """{id: [live pids]} for processes in the default cgroup of <id> (one /proc scan)."""
    wanted = set(ids)
    found = {}
    for pid, lines in proc_cgroups():
        for line in lines:
            m = _DEFAULT_CGROUP_ID.search(line)
            if m and m.group(1) in wanted and process_alive(pid):
                found.setdefault(m.group(1), []).append(pid)
                break
    return found


def container_cgroup_dirs(ids=None):
    """Cgroup directories of containers (named by ID, `ids` or any): crun-lite-<id> at the root of
    each hierarchy and <id> under the former default's shared parents (cgroupfs), or the scopes of
    system.slice (systemd mode)."""
    wanted = None if ids is None else set(ids)
    if SYSTEMD_CGROUP:  # any cgroup of system.slice named after one of them
        found = glob.glob("/sys/fs/cgroup/system.slice/*")
        named = (lambda base: base.startswith("crun-lite-")) if wanted is None else (lambda base: any(cid in base for cid in wanted))
        return [d for d in found if os.path.isdir(d) and named(os.path.basename(d))]
    found = [(d, os.path.basename(d)) for p in crun_lite_cgroup_parents() for d in glob.glob(p + "/*")]
    found += [(d, os.path.basename(d)[len("crun-lite-"):])
              for d in glob.glob("/sys/fs/cgroup/*/crun-lite-*") + glob.glob("/sys/fs/cgroup/crun-lite-*")]
    return [d for d, cid in found if os.path.isdir(d) and (wanted is None or cid in wanted)]


def pids_in_container_cgroup(cid):
    """Live (non-zombie) processes whose /proc/<pid>/cgroup places them in the container's default
    cgroup (.../crun-lite-<cid>, or the scope in systemd mode) or below it."""
    suffix = default_cgroup_suffix(cid)
    return [pid for pid, lines in proc_cgroups()
            if any(l.endswith(suffix) or (suffix + "/") in l for l in lines) and process_alive(pid)]


def cgroup_dirs_at(path):
    """The directories of cgroup `path` ("/a/b") in every hierarchy: /sys/fs/cgroup/<hierarchy>/a/b
    on v1 (and hybrid's unified/), /sys/fs/cgroup/a/b on v2."""
    return glob.glob(f"/sys/fs/cgroup/*{path}") + glob.glob(f"/sys/fs/cgroup{path}")


def cgroup_dirs_named(cid):
    """The container's default cgroup directories: one per v1 hierarchy and the unified one
    (cgroupfs), or the scope's (systemd mode)."""
    if SYSTEMD_CGROUP:
        return glob.glob(f"/sys/fs/cgroup{default_cgroup_suffix(cid)}")
    return cgroup_dirs_at(default_cgroup_suffix(cid))


def status_fields(text):
    """/proc/<pid>/status text -> {field: value}."""
    out = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        out[key.strip()] = value.strip()
    return out


# --------------------------------------------------------------------------------------------
# Checking a failed command


def one_error_line(r, *needles, status=1):
    """The command failed with `status` (None: any non-zero status) and exactly one stderr line,
    `crun-lite: ...`, containing every needle; returns that line."""
    assert (r.rc != 0) if status is None else (r.rc == status), r
    assert len(r.err_lines) == 1, r
    line = r.err_lines[0]
    assert line.startswith("crun-lite: "), r
    for n in needles:
        assert n in line, (n, r)
    return line


# --------------------------------------------------------------------------------------------
# Static C programs the tests run inside containers


def static_c_program(source, name):
    """For a session fixture: compiles C `source` with `gcc -static` in a temporary directory,
    yields the binary's path, then removes the directory."""
    d = tempfile.mkdtemp(prefix=f"{name}-")
    src, out = os.path.join(d, f"{name}.c"), os.path.join(d, name)
    with open(src, "w") as f:
        f.write(source)
    r = run_cmd(["gcc", "-static", "-O1", "-Wall", "-o", out, src], timeout=120)
    assert r.rc == 0, r
    yield out
    shutil.rmtree(d, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# Running the binary


class Runtime(RuntimeCli):
    """crun-lite (or, for a comparison, runc) bound to one state root, plus the bookkeeping the
    teardown needs. `name` is "crun-lite" or "runc"."""

    def __init__(self, root, bundle_base, test_name, binary=None, name="crun-lite"):
        super().__init__(binary or CRUN_LITE, root, GLOBAL_FLAGS)
        self.name = name
        self.bundle_base = bundle_base
        self.test_name = test_name
        self.ids = []
        self.bundles = []
        self.popens = []
        self.pids = set()
        self.cleanups = []

    # ---- IDs and bundles

    def new_id(self, prefix="c"):
        cid = f"{prefix}-{uuid.uuid4().hex[:10]}"
        self.ids.append(cid)
        return cid

    def make_bundle(self, args=None, edit=None, applets=None, spec_args=(), write_config=True):
        """A bundle: rootfs/bin/busybox (a copy of busybox-static) and its applet symlinks, and a
        config.json from `crun-lite spec [spec_args]` (whichever runtime this is), then process.args = args and edit(cfg)
        (which mutates the config in place, or returns a dict to replace it)."""
        path = tempfile.mkdtemp(prefix="bundle-", dir=self.bundle_base)
        os.chmod(path, 0o755)  # readable by a container whose root maps to an unprivileged host uid
        self.bundles.append(path)
        # The config comes from crun-lite's `spec` for runc too: a comparison runs one config.
        spec = RuntimeCli(CRUN_LITE, self.root, self.global_flags).argv("spec", *spec_args)
        return make_bundle(path, spec if write_config else None, args=args, edit=edit,
                           applets=APPLETS if applets is None else applets)

    def popen(self, *args, stdout=None, stderr=None, cwd=None):
        """Starts crun-lite in the background (e.g. a foreground `run`); teardown kills it."""
        out = stdout if stdout is not None else tempfile.TemporaryFile()
        err = stderr if stderr is not None else tempfile.TemporaryFile()
        p = subprocess.Popen(self.argv(*args), stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=cwd)
        p.out_file, p.err_file = out, err
        self.popens.append(p)
        return p

    def run_foreground(self, cid, bundle, *flags, timeout=10.0):
        """`run [FLAGS] --bundle BUNDLE ID` in the background (popen), returned once its container runs."""
        p = self.popen("run", *flags, "--bundle", bundle, cid)
        wait_until(lambda: self.recorded(cid) and self.status(cid) == "running", timeout=timeout,
                   what=f"container {cid} to run")
        return p

    @staticmethod
    def popen_output(p):
        p.out_file.seek(0)
        p.err_file.seek(0)
        return p.out_file.read().decode(errors="replace"), p.err_file.read().decode(errors="replace")

    # ---- lifecycle shortcuts

    def create(self, cid, bundle, *flags, check=True, timeout=DEFAULT_TIMEOUT):
        r = self.cli("create", "--bundle", bundle, *flags, cid, timeout=timeout)
        if check:
            assert r.rc == 0, r
        if r.rc == 0:
            self.remember_pid(cid)
        return r

    def start(self, cid, check=True):
        r = self.cli("start", cid)
        if check:
            assert r.rc == 0, r
        return r

    def run(self, cid, bundle, *flags, check=False, timeout=DEFAULT_TIMEOUT):
        r = self.cli("run", "--bundle", bundle, *flags, cid, timeout=timeout)
        if check:
            assert r.rc == 0, r
        return r

    def state(self, cid):
        s = super().state(cid)
        if s.get("pid"):
            self.pids.add(s["pid"])
        return s

    def status(self, cid):
        return self.state(cid)["status"]

    def recorded(self, cid):
        """The container's state file exists and holds a record (create writes it as it goes)."""
        try:
            return os.path.getsize(os.path.join(self.root, cid)) > 0
        except OSError:
            return False

    def wait_status(self, cid, status, timeout=10.0):
        return wait_until(lambda: self.status(cid) == status, timeout=timeout,
                          what=f"container {cid} to be {status}")

    def kill(self, cid, sig=None, *flags):
        return self.cli("kill", *flags, cid, *([] if sig is None else [sig]))

    def delete(self, cid, force=False):
        return self.cli("delete", *(["--force"] if force else []), cid)

    def remember_pid(self, cid):
        try:
            with open(os.path.join(self.root, cid)) as f:
                pid = json.load(f).get("pid")
            if pid:
                self.pids.add(pid)
        except (OSError, ValueError):
            pass

    # ---- teardown

    def teardown(self):
        problems = []
        for p in self.popens:
            if p.poll() is None:
                p.kill()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                problems.append(f"crun-lite process {p.pid} ({p.args!r}) did not exit")
            for f in (p.out_file, p.err_file):
                try:
                    f.close()
                except Exception:
                    pass
        # State files; "<id>:exec.fifo" and such go with their container.
        entries = sorted(e for e in (os.listdir(self.root) if os.path.isdir(self.root) else []) if ":" not in e)
        all_ids = list(dict.fromkeys(self.ids + entries))
        for cid in entries:
            self.remember_pid(cid)
        for pids in container_cgroup_pids(all_ids).values():
            self.pids.update(pids)
        for cid in entries:
            r = self.cli("delete", "--force", cid)
            if r.rc != 0:
                problems.append(f"delete --force {cid} failed: {r!r}")
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception as e:  # noqa: BLE001 - report every cleanup problem
                problems.append(f"cleanup {fn!r} failed: {e}")
        reap_orphans()

        left = sorted(os.listdir(self.root)) if os.path.isdir(self.root) else []
        if left:
            problems.append(f"state root {self.root} not empty after delete --force: {left}")
        deadline = time.monotonic() + 5
        while True:
            alive = [pid for pid in sorted(self.pids) if process_alive(pid)]
            in_cgroups = container_cgroup_pids(all_ids)
            dirs = container_cgroup_dirs(all_ids)
            orphans = live_children()
            units = container_units(all_ids)
            if (not alive and not in_cgroups and not dirs and not orphans and not units) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
            reap_orphans()
        if alive:
            problems.append(f"container processes still alive: {alive}")
        if in_cgroups:
            problems.append(f"processes still in container cgroups: {in_cgroups}")
        if dirs:
            problems.append(f"cgroup directories left: {dirs}")
        if units:
            problems.append(f"systemd units left: {units}")
        if orphans:
            problems.append(f"processes left behind (re-parented to the test runner): {orphans}")
            for pid, _ in orphans:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        for b in self.bundles:
            m = mounts_mentioning(b)
            if m:
                problems.append(f"host mounts still mention bundle {b}: {m}")
        m = mounts_mentioning(self.root)
        if m:
            problems.append(f"host mounts still mention state root {self.root}: {m}")

        # Clean up even when something leaked, so that one failure does not cascade.
        for pids in container_cgroup_pids(all_ids).values():
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        for unit in units:  # systemd mode
            name = unit.split()[0]
            run_cmd(["systemctl", "stop", name])
            run_cmd(["systemctl", "reset-failed", name])
        for d in container_cgroup_dirs(all_ids):
            for _ in range(50):
                try:
                    os.rmdir(d)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)
        for b in self.bundles:
            for line in reversed(mounts_mentioning(b)):
                mp = parse_mountinfo(line)
                if mp:
                    subprocess.run(["umount", "-l", mp[0]["mount_point"]], timeout=10,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            shutil.rmtree(b, ignore_errors=True)
        shutil.rmtree(self.root, ignore_errors=True)
        return problems




# --------------------------------------------------------------------------------------------
# Receiving file descriptors over a unix socket (--console-socket, seccomp listenerPath)


class FdReceiver:
    """A unix stream socket server at `path`, served by a background thread: every connection is
    read to its end (or for at most `conn_timeout` seconds), and what came on it is kept as one
    (payload bytes, [received fds]) entry of `received`. `on_receive(payload, fds)`, when given,
    runs in the serving thread for each connection. close() stops the thread and closes every fd
    received (register it with rt.cleanups so that a failing test does not leak them)."""

    def __init__(self, path, on_receive=None, conn_timeout=5.0):
        self.path = path
        self.on_receive = on_receive
        self.conn_timeout = conn_timeout
        self.received = []
        self.errors = []
        self._cond = threading.Condition()
        self._closing = False
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self._thread = threading.Thread(target=self._serve, name=f"fd-receiver {path}", daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._closing:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            payload, fds = b"", []
            try:
                with conn:
                    conn.settimeout(self.conn_timeout)
                    while True:
                        data, got, _flags, _addr = socket.recv_fds(conn, 65536, 16)
                        fds.extend(got)
                        if not data and not got:
                            break
                        payload += data
            except OSError as e:  # a timeout included: keep what came
                self.errors.append(repr(e))
            with self._cond:
                self.received.append((payload, fds))
                self._cond.notify_all()
            if self.on_receive is not None:
                try:
                    self.on_receive(payload, fds)
                except Exception as e:  # noqa: BLE001 - reported by the test through .errors
                    self.errors.append(repr(e))

    def wait(self, count=1, timeout=10.0):
        """Waits until `count` connections have been received; returns `received`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out after {timeout}s waiting for {count} connection(s) on "
                                         f"{self.path}; got {self.received!r} errors {self.errors!r}")
                self._cond.wait(left)
            return list(self.received)

    def close(self):
        self._closing = True
        self._thread.join(timeout=5)
        try:
            self.sock.close()
        except OSError:
            pass
        for _, fds in self.received:
            for fd in fds:
                try:
                    os.close(fd)
                except OSError:
                    pass
        try:
            os.unlink(self.path)
        except OSError:
            pass


def read_until(fd, needle, timeout=10.0):
    """Reads a (pty master) fd until `needle` (bytes or str) shows up; returns all that was read."""
    needle = needle.encode() if isinstance(needle, str) else needle
    data = b""
    deadline = time.monotonic() + timeout
    while needle not in data:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"timed out after {timeout}s waiting for {needle!r}; read {data!r}")
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: every slave end is closed
            chunk = b""
        if not chunk:
            raise AssertionError(f"EOF before {needle!r}; read {data!r}")
        data += chunk
    return data
