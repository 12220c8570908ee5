"""Helpers shared by the crun-lite integration tests (the fixtures are in conftest.py).

The Runtime class drives the binary against one state root and does the teardown checks;
run_cmd runs anything with a timeout; the host-side probes read mountinfo, /proc and cgroups.
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
import tempfile
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
CRUN_LITE = os.path.abspath(os.environ.get("CRUN_LITE") or os.path.join(HERE, "..", "..", "build", "crun-lite"))
TEST_ROOT_BASE = "/run/crun-lite-test"
BUSYBOX = "/bin/busybox"
DEFAULT_TIMEOUT = 30
# CRUN_LITE_SYSTEMD_CGROUP=1: the systemd mode (tests/systemd/integration-in-systemd-vm.sh runs it in
# a guest with systemd as PID 1): every call of the Runtime gets the global flag --systemd-cgroup,
# a container's cgroup is the scope system.slice/crun-lite-<id>.scope, and the teardown also wants
# no unit of the test's containers left.
SYSTEMD_CGROUP = os.environ.get("CRUN_LITE_SYSTEMD_CGROUP", "") not in ("", "0")
GLOBAL_FLAGS = ["--systemd-cgroup"] if SYSTEMD_CGROUP else []

# Applets linked into every rootfs (busybox resolves its applet from argv[0]).
APPLETS = [
    "sh", "cat", "echo", "sleep", "id", "hostname", "mount", "grep", "ls", "ip", "touch", "mkdir",
    "ps", "true", "false", "kill", "stat", "readlink", "wc", "head", "tail", "env", "pwd", "test",
    "printf", "cut", "tr", "sed", "awk", "rm", "ln", "dd", "umask", "uname", "sysctl", "ifconfig",
    "nproc", "seq", "sort", "uniq", "xargs", "find", "dirname", "basename", "od", "hexdump", "chmod",
    "mknod", "date", "expr", "nsenter", "whoami", "timeout", "usleep", "cp", "mv",
]

CAP_NUMBERS = {
    "CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_DAC_READ_SEARCH": 2, "CAP_FOWNER": 3, "CAP_FSETID": 4,
    "CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_SETPCAP": 8, "CAP_LINUX_IMMUTABLE": 9,
    "CAP_NET_BIND_SERVICE": 10, "CAP_NET_BROADCAST": 11, "CAP_NET_ADMIN": 12, "CAP_NET_RAW": 13,
    "CAP_IPC_LOCK": 14, "CAP_IPC_OWNER": 15, "CAP_SYS_MODULE": 16, "CAP_SYS_RAWIO": 17,
    "CAP_SYS_CHROOT": 18, "CAP_SYS_PTRACE": 19, "CAP_SYS_PACCT": 20, "CAP_SYS_ADMIN": 21,
    "CAP_SYS_BOOT": 22, "CAP_SYS_NICE": 23, "CAP_SYS_RESOURCE": 24, "CAP_SYS_TIME": 25,
    "CAP_SYS_TTY_CONFIG": 26, "CAP_MKNOD": 27, "CAP_LEASE": 28, "CAP_AUDIT_WRITE": 29,
    "CAP_AUDIT_CONTROL": 30, "CAP_SETFCAP": 31, "CAP_MAC_OVERRIDE": 32, "CAP_MAC_ADMIN": 33,
    "CAP_SYSLOG": 34, "CAP_WAKE_ALARM": 35, "CAP_BLOCK_SUSPEND": 36, "CAP_AUDIT_READ": 37,
    "CAP_PERFMON": 38, "CAP_BPF": 39, "CAP_CHECKPOINT_RESTORE": 40,
}


def cap_mask(names):
    mask = 0
    for name in names:
        mask |= 1 << CAP_NUMBERS[name]
    return mask


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
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def cgroup_v2_only():
    """True on a pure cgroup v2 host (/sys/fs/cgroup is the cgroup2 hierarchy), False on a v1 or
    hybrid one (/sys/fs/cgroup is a tmpfs of hierarchies: cpu/, memory/..., unified/)."""
    fstype = None
    for m in parse_mountinfo("\n".join(host_mountinfo())):
        if m["mount_point"] == "/sys/fs/cgroup":
            fstype = m["fstype"]  # the last one is what the path shows
    return fstype == "cgroup2"


def crun_lite_cgroup_parents():
    """The shared parent cgroup of containers without cgroupsPath (/crun-lite), in every
    hierarchy that has one: /sys/fs/cgroup/<hierarchy>/crun-lite on v1, /sys/fs/cgroup/crun-lite on v2."""
    return sorted(d for d in glob.glob("/sys/fs/cgroup/*/crun-lite") + glob.glob("/sys/fs/cgroup/crun-lite") if os.path.isdir(d))


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


def default_cgroup_suffix(cid):
    """The end of the container's default cgroup path: /crun-lite/<id> (cgroupfs, in every
    hierarchy) or /system.slice/crun-lite-<id>.scope (systemd mode)."""
    return f"/system.slice/crun-lite-{cid}.scope" if SYSTEMD_CGROUP else f"/crun-lite/{cid}"


# the id in a /proc/<pid>/cgroup line of a container in its default cgroup
_DEFAULT_CGROUP_ID = re.compile(r"/system\.slice/crun-lite-([^/]+)\.scope$" if SYSTEMD_CGROUP else r"/crun-lite/([^/]+)$")


def container_units(ids):
    """systemd mode: the loaded units (any state) named after one of `ids`, as "name (active/sub)"."""
    if not SYSTEMD_CGROUP or not ids:
        return []
    r = run_cmd(["systemctl", "list-units", "--all", "--plain", "--no-legend", "--full", "*crun-lite*"])
    assert r.rc == 0, r
    rows = [l.lstrip("● *").split() for l in r.stdout.splitlines()]  # a failed unit may carry a mark
    return [f"{f[0]} ({f[2]}/{f[3]})" for f in rows if len(f) >= 4 and any(cid in f[0] for cid in ids)]


def container_cgroup_pids(ids):
    """{id: [live pids]} for processes in the default cgroup of <id> (one /proc scan)."""
    wanted = set(ids)
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cgroup") as f:
                lines = f.read().splitlines()
        except OSError:
            continue
        for line in lines:
            m = _DEFAULT_CGROUP_ID.search(line)
            if m and m.group(1) in wanted and process_alive(int(entry)):
                found.setdefault(m.group(1), []).append(int(entry))
                break
    return found


def container_cgroup_dirs(ids=None):
    """Cgroup directories of containers (named by ID, `ids` or any): under the shared parents
    (cgroupfs), or the scopes of system.slice (systemd mode)."""
    wanted = None if ids is None else set(ids)
    if SYSTEMD_CGROUP:  # any cgroup of system.slice named after one of them
        found = glob.glob("/sys/fs/cgroup/system.slice/*")
        named = (lambda base: base.startswith("crun-lite-")) if wanted is None else (lambda base: any(cid in base for cid in wanted))
        return [d for d in found if os.path.isdir(d) and named(os.path.basename(d))]
    found = [d for p in crun_lite_cgroup_parents() for d in glob.glob(p + "/*")]
    return [d for d in found if os.path.isdir(d) and (wanted is None or os.path.basename(d) in wanted)]


def pids_in_container_cgroup(cid):
    """Live (non-zombie) processes whose /proc/<pid>/cgroup places them in the container's default
    cgroup (.../crun-lite/<cid>, or the scope in systemd mode) or below it."""
    found = []
    suffix = default_cgroup_suffix(cid)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cgroup") as f:
                lines = f.read().splitlines()
        except OSError:
            continue
        if any(l.endswith(suffix) or (suffix + "/") in l for l in lines) and process_alive(int(entry)):
            found.append(int(entry))
    return found


def live_children(parent=None):
    """Live (non-zombie) children of `parent` (default: us). We are a child subreaper, so a
    container process that outlived the crun-lite command which made it ends up here."""
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


def reap_orphans():
    """Reap container inits that were re-parented to us (we are a child subreaper)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


# --------------------------------------------------------------------------------------------
# Running the binary


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


class Bundle:
    def __init__(self, path):
        self.path = path
        self.rootfs = os.path.join(path, "rootfs")
        self.config_path = os.path.join(path, "config.json")

    @property
    def config(self):
        with open(self.config_path) as f:
            return json.load(f)

    def write_config(self, cfg):
        with open(self.config_path, "w") as f:
            json.dump(cfg, f, indent=2)

    def edit(self, fn):
        """fn mutates the parsed config in place; a dict it returns replaces the config instead."""
        cfg = self.config
        result = fn(cfg)
        self.write_config(result if isinstance(result, dict) else cfg)
        return self

    def __str__(self):
        return self.path

    def __fspath__(self):
        return self.path


class Runtime:
    """crun-lite bound to one state root, plus the bookkeeping the teardown needs."""

    def __init__(self, root, bundle_base, test_name):
        self.binary = CRUN_LITE
        self.root = root
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
        config.json from `crun-lite spec [spec_args]`, then process.args = args and edit(cfg)
        (which mutates the config in place, or returns a dict to replace it)."""
        path = tempfile.mkdtemp(prefix="bundle-", dir=self.bundle_base)
        os.chmod(path, 0o755)  # readable by a container whose root maps to an unprivileged host uid
        self.bundles.append(path)
        bundle = Bundle(path)
        for d in ("bin", "proc", "sys", "dev", "tmp", "etc"):
            os.makedirs(os.path.join(bundle.rootfs, d), mode=0o755, exist_ok=True)
        os.chmod(bundle.rootfs, 0o755)
        os.chmod(os.path.join(bundle.rootfs, "tmp"), 0o1777)
        shutil.copy2(BUSYBOX, os.path.join(bundle.rootfs, "bin", "busybox"))
        for applet in (APPLETS if applets is None else applets):
            os.symlink("busybox", os.path.join(bundle.rootfs, "bin", applet))
        if not write_config:
            return bundle
        r = self.cli("spec", *spec_args, cwd=path)
        assert r.rc == 0, r
        if args is not None or edit is not None:
            cfg = bundle.config
            if args is not None:
                cfg["process"]["args"] = list(args)
            if edit is not None:
                new = edit(cfg)
                if isinstance(new, dict):
                    cfg = new
            bundle.write_config(cfg)
        return bundle

    # ---- running the binary

    def argv(self, *args, root=None):
        return [self.binary, "--root", self.root if root is None else root, *GLOBAL_FLAGS, *[str(a) for a in args]]

    def cli(self, *args, timeout=DEFAULT_TIMEOUT, cwd=None, root=None, pass_fds=(), input_data=None, raw=False):
        """crun-lite --root ROOT ARGS... -> Result. raw=True: ARGS is the whole command line."""
        argv = [self.binary, *[str(a) for a in args]] if raw else self.argv(*args, root=root)
        r = run_cmd(argv, timeout=timeout, cwd=cwd, pass_fds=pass_fds, input_data=input_data)
        return r

    def popen(self, *args, stdout=None, stderr=None, cwd=None):
        """Starts crun-lite in the background (e.g. a foreground `run`); teardown kills it."""
        out = stdout if stdout is not None else tempfile.TemporaryFile()
        err = stderr if stderr is not None else tempfile.TemporaryFile()
        p = subprocess.Popen(self.argv(*args), stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=cwd)
        p.out_file, p.err_file = out, err
        self.popens.append(p)
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
        r = self.cli("state", cid)
        assert r.rc == 0, r
        s = json.loads(r.stdout)
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
