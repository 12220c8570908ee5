"""linux.seccomp: the profiles Docker 20.10 and Podman 4.3 ship, custom rules (actions, argument
conditions, unknown names), runc's ENOSYS answer for syscalls newer than the profile, and
SCMP_ACT_NOTIFY with a listener written here (the notify fd answered with ioctls).

Errnos are read from a tiny static C probe compiled once per session and copied into each
rootfs: `/probe NR[,ARG...]...` makes each syscall and prints `NR[,ARG...]=ERRNO_NAME` or `...=ok`.
Where the kernel itself could give the errno the filter is expected to, the same probes are also
run without seccomp (the "control"), so that the answer is known to come from the filter."""

import ctypes
import fcntl
import json
import os
import select
import shutil
import struct
import tempfile
import threading

import pytest

from helpers import APPLETS, FdReceiver, one_error_line, static_c_program

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")
DOCKER_PROFILE = os.path.join(FIXTURES, "seccomp-docker-20.10.json")
PODMAN_PROFILE = os.path.join(FIXTURES, "seccomp-podman-4.3.json")
LOOP = "while :; do sleep 0.1; done"

# x86_64 syscall numbers (ABI-stable) used by the probes below.
NR = {"mkdir": 83, "getppid": 110, "personality": 135, "umask": 95, "socket": 41, "acct": 163, "swapon": 167,
      "delete_module": 176, "keyctl": 250, "unshare": 272, "open_tree": 428, "clone3": 435, "faccessat2": 439,
      "cachestat": 451, "fchmodat2": 452, "getpid": 39, "syslog": 103, "quotactl": 179, "lookup_dcookie": 212,
      "add_key": 248, "request_key": 249, "io_uring_setup": 425}
CLONE_NEWUSER = 0x10000000

PROBE_SOURCE = r"""
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

/* For each argument "NR[,ARG...]": syscall(NR, ARG...), then "ITEM=ERRNO_NAME" or "ITEM=ok",
   written at once (a probe killed by the filter has printed everything before the kill). */
int main(int argc, char **argv) {
    for (int i = 1; i < argc; ++i) {
        unsigned long v[7] = {0};
        int n = 0;
        char *p = argv[i];
        while (n < 7) {
            char *end;
            v[n++] = strtoul(p, &end, 0);
            if (*end != ',') break;
            p = end + 1;
        }
        errno = 0;
        long rc = syscall((long)v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
        int e = errno;
        char line[256];
        int len;
        if (rc >= 0) {
            len = snprintf(line, sizeof line, "%s=ok\n", argv[i]);
        } else {
            const char *name = strerrorname_np(e);
            len = snprintf(line, sizeof line, "%s=%s\n", argv[i], name ? name : "E?");
        }
        if (write(1, line, (size_t)len) != len) return 2;
    }
    return 0;
}
"""


@pytest.fixture(scope="session")
def probe():
    yield from static_c_program(PROBE_SOURCE, "seccomp-probe")


def load(path):
    with open(path) as f:
        return json.load(f)


def profile_names(profile):
    return {n for rule in profile.get("syscalls", []) for n in rule["names"]}


def seccomp_rule(names, action, errno_ret=None, args=None):
    rule = {"names": list(names), "action": action}
    if errno_ret is not None:
        rule["errnoRet"] = errno_ret
    if args is not None:
        rule["args"] = args
    return rule


def allow_all_but(*rules):
    return {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": list(rules)}


def probe_bundle(rt, probe, args, seccomp=None, caps=None, writable=False, edit=None, applets=None):
    """A bundle whose rootfs holds /probe; args is process.args."""
    def configure(cfg):
        # A filter that kills dumps core (SIGSYS): not here.
        cfg["process"]["rlimits"].append({"type": "RLIMIT_CORE", "hard": 0, "soft": 0})
        if seccomp is not None:
            cfg["linux"]["seccomp"] = seccomp
        if caps is not None:
            for s in ("bounding", "effective", "permitted"):
                cfg["process"]["capabilities"][s] = sorted(set(cfg["process"]["capabilities"][s]) | set(caps))
        if writable:
            cfg["root"]["readonly"] = False
        if edit is not None:
            edit(cfg)

    bundle = rt.make_bundle(args=args, edit=configure, applets=applets)
    shutil.copy2(probe, os.path.join(bundle.rootfs, "probe"))
    return bundle


def parse_probe(stdout):
    return dict(line.split("=", 1) for line in stdout.splitlines() if "=" in line)


def run_probe(rt, probe, calls, seccomp=None, caps=None, expect_rc=0):
    """Runs /probe CALLS... as the container's process; returns {call: result}."""
    bundle = probe_bundle(rt, probe, ["/probe", *calls], seccomp=seccomp, caps=caps)
    r = rt.run(rt.new_id(), bundle)
    assert r.rc == expect_rc, r
    results = parse_probe(r.stdout)
    if expect_rc == 0:
        assert list(results) == list(calls), r
    return results


# ------------------------------------------------------------------------------------------------
# Docker 20.10's profile


def test_docker_profile_errnos(rt, probe):
    unshare_user = f"{NR['unshare']},{CLONE_NEWUSER:#x}"
    calls = [unshare_user, str(NR["clone3"]), str(NR["getpid"])]
    control = run_probe(rt, probe, calls)
    # Without a filter a container's root may make a user namespace, and clone3 with no arguments is EINVAL.
    assert control == {unshare_user: "ok", "435": "EINVAL", "39": "ok"}, control
    docker = run_probe(rt, probe, calls, seccomp=load(DOCKER_PROFILE))
    # unshare is not in the profile (default SCMP_ACT_ERRNO: EPERM); clone3 is listed with errnoRet 38 so
    # that glibc falls back to clone.
    assert docker == {unshare_user: "EPERM", "435": "ENOSYS", "39": "ok"}, docker


def test_docker_profile_unshare_applet_fails(rt, probe):
    script = "unshare -U true; echo rc=$?"
    r = rt.run(rt.new_id(), probe_bundle(rt, probe, ["sh", "-c", script], applets=APPLETS + ["unshare"]))
    assert r.rc == 0 and r.stdout == "rc=0\n", r  # the control: allowed without the profile
    r = rt.run(rt.new_id(), probe_bundle(rt, probe, ["sh", "-c", script], seccomp=load(DOCKER_PROFILE),
                                         applets=APPLETS + ["unshare"]))
    assert r.rc == 0, r
    assert r.stdout == "rc=1\n", r
    assert "Operation not permitted" in r.stderr, r


def test_docker_profile_allows_ordinary_work(rt, probe):
    script = ("echo ok; mkdir /tmp/d && touch /tmp/d/f && ls /tmp/d; echo $(( 6 * 7 )) | cat; "
              "grep -c ^Seccomp: /proc/self/status; grep ^Seccomp: /proc/self/status; sleep 0.01; id -u; ps >/dev/null; "
              "date +%Y >/dev/null && echo done")
    bundle = probe_bundle(rt, probe, ["sh", "-c", script], seccomp=load(DOCKER_PROFILE), writable=True)
    r = rt.run(rt.new_id(), bundle)
    assert r.rc == 0, r
    # Seccomp: 2 is SECCOMP_MODE_FILTER
    assert r.stdout == "ok\nf\n42\n1\nSeccomp:\t2\n0\ndone\n", r
    assert r.stderr == "", r


# ------------------------------------------------------------------------------------------------
# Podman 4.3's profile (defaultErrnoRet 38: whatever it does not list is ENOSYS)


def test_podman_profile_errnos(rt, probe):
    podman = load(PODMAN_PROFILE)
    assert podman["defaultAction"] == "SCMP_ACT_ERRNO" and podman["defaultErrnoRet"] == 38
    names = profile_names(podman)
    # swapon is listed explicitly in this fixture, under an SCMP_ACT_ERRNO rule with errnoRet 1 (EPERM).
    swapon_rules = [r for r in podman["syscalls"] if "swapon" in r["names"]]
    assert [(r["action"], r.get("errnoRet")) for r in swapon_rules] == [("SCMP_ACT_ERRNO", 1)], swapon_rules
    # A syscall the profile does not list at all, whose kernel answer with these arguments is not ENOSYS.
    candidates = ["acct", "syslog", "quotactl", "lookup_dcookie", "add_key", "request_key"]
    absent = [n for n in candidates if n not in names]
    assert absent, f"every candidate is listed by the podman profile: {candidates}"
    unlisted = str(NR[absent[0]])
    calls = [str(NR["delete_module"]), str(NR["swapon"]), unlisted, str(NR["getpid"])]
    # With CAP_SYS_MODULE and CAP_SYS_ADMIN the kernel goes past its capability checks (to EFAULT on the
    # NULL names, or ENOSYS for delete_module on a kernel without module unloading), so that the
    # errnos expected below can only come from the filter.
    caps = ["CAP_SYS_MODULE", "CAP_SYS_ADMIN"]
    expected = {"176": "EPERM", "167": "EPERM", unlisted: "ENOSYS", "39": "ok"}
    control = run_probe(rt, probe, calls, caps=caps)
    for call in ("176", "167", unlisted):
        assert control[call] not in (expected[call], "ok"), (call, control)
    results = run_probe(rt, probe, calls, seccomp=podman, caps=caps)
    assert results == expected, (absent[0], results)


def test_podman_profile_allows_ordinary_work(rt, probe):
    bundle = probe_bundle(rt, probe, ["sh", "-c", "echo ok; ls / >/dev/null; id -u"], seccomp=load(PODMAN_PROFILE))
    r = rt.run(rt.new_id(), bundle)
    assert r.rc == 0 and r.stdout == "ok\n0\n", r


# ------------------------------------------------------------------------------------------------
# Custom profiles: actions and argument conditions


def test_errno_rule_on_mkdir(rt, probe):
    profile = allow_all_but(seccomp_rule(["mkdir", "mkdirat"], "SCMP_ACT_ERRNO", errno_ret=13))
    script = "touch /tmp/f && echo touched; mkdir /tmp/x; echo rc=$?"
    bundle = probe_bundle(rt, probe, ["sh", "-c", script], seccomp=profile, writable=True)
    r = rt.run(rt.new_id(), bundle)
    assert r.rc == 0, r
    assert r.stdout == "touched\nrc=1\n", r
    assert "Permission denied" in r.stderr, r
    assert os.path.exists(os.path.join(bundle.rootfs, "tmp", "f"))
    assert not os.path.exists(os.path.join(bundle.rootfs, "tmp", "x"))


@pytest.mark.parametrize("no_new_privileges", [False, True])
def test_run_works_under_a_filter_that_denies_receiving_messages(rt, probe, no_new_privileges):
    # Without noNewPrivileges the filter is loaded before init is started: `run` then starts it
    # through exec.fifo (open and write), as `start` does, not over its sync socket, where init
    # would have to receive START (recvmsg) under a filter that may deny it. With
    # noNewPrivileges the filter is loaded right before execve.
    profile = allow_all_but(seccomp_rule(["recvmsg", "recvfrom"], "SCMP_ACT_ERRNO", errno_ret=1))
    bundle = probe_bundle(rt, probe, ["sh", "-c", "echo ran"], seccomp=profile,
                          edit=lambda cfg: cfg["process"].update(noNewPrivileges=no_new_privileges))
    cid = rt.new_id()
    r = rt.run(cid, bundle)
    assert r.rc == 0 and r.stdout == "ran\n", r
    assert not os.path.exists(os.path.join(rt.root, cid))


def test_argument_conditions_eq_and_masked_eq(rt, probe):
    personality = NR["personality"]
    profile = allow_all_but(
        seccomp_rule(["personality"], "SCMP_ACT_ERRNO", errno_ret=1,
                     args=[{"index": 0, "value": 0xffffffff, "op": "SCMP_CMP_EQ"}]),
        # (arg0 & 0x0f00) == 0x0100 -> EACCES
        seccomp_rule(["personality"], "SCMP_ACT_ERRNO", errno_ret=13,
                     args=[{"index": 0, "value": 0x0f00, "valueTwo": 0x0100, "op": "SCMP_CMP_MASKED_EQ"}]),
    )
    calls = [f"{personality},0xffffffff", f"{personality},0", f"{personality},0x100", f"{personality},0x1108",
             f"{personality},0x200", f"{personality},0x8"]
    assert run_probe(rt, probe, calls) == {c: "ok" for c in calls}
    results = run_probe(rt, probe, calls, seccomp=profile)
    assert results == {
        f"{personality},0xffffffff": "EPERM", f"{personality},0": "ok", f"{personality},0x100": "EACCES",
        f"{personality},0x1108": "EACCES", f"{personality},0x200": "ok", f"{personality},0x8": "ok",
    }, results


def test_argument_conditions_combine(rt, probe):
    """Conditions on different arguments must all match (AND); conditions on the same argument are
    separate rules (any matching applies the action), as runc does it."""
    sock, umask = NR["socket"], NR["umask"]
    profile = allow_all_but(
        # socket(AF_NETLINK, *, NETLINK_AUDIT) -> EINVAL, as podman's profile says
        seccomp_rule(["socket"], "SCMP_ACT_ERRNO", errno_ret=22,
                     args=[{"index": 0, "value": 16, "op": "SCMP_CMP_EQ"}, {"index": 2, "value": 9, "op": "SCMP_CMP_EQ"}]),
        seccomp_rule(["umask"], "SCMP_ACT_ERRNO", errno_ret=16,
                     args=[{"index": 0, "value": 0o22, "op": "SCMP_CMP_EQ"}, {"index": 0, "value": 0o77, "op": "SCMP_CMP_EQ"}]),
        seccomp_rule(["getppid"], "SCMP_ACT_ERRNO", errno_ret=33,
                     args=[{"index": 0, "value": 5, "op": "SCMP_CMP_GT"}]),
    )
    calls = [f"{sock},16,3,9", f"{sock},16,3,0", f"{sock},1,1,9", f"{umask},022", f"{umask},077",
             f"{umask},027", "110,6", "110,5"]
    results = run_probe(rt, probe, calls, seccomp=profile)
    assert results == {
        f"{sock},16,3,9": "EINVAL", f"{sock},16,3,0": "ok", f"{sock},1,1,9": "EPROTONOSUPPORT",
        f"{umask},022": "EBUSY", f"{umask},077": "EBUSY", f"{umask},027": "ok", "110,6": "EDOM", "110,5": "ok",
    }, results


@pytest.mark.parametrize("action", ["SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_KILL", "SCMP_ACT_TRAP"])
def test_killing_actions(rt, probe, action):
    # getpid works, getppid kills the process with SIGSYS (128 + 31) before it can print.
    profile = allow_all_but(seccomp_rule(["getppid"], action))
    results = run_probe(rt, probe, ["39", "110", "39"], seccomp=profile, expect_rc=159)
    assert results == {"39": "ok"}, results


def test_log_action_allows(rt, probe):
    profile = allow_all_but(seccomp_rule(["getppid"], "SCMP_ACT_LOG"),
                            seccomp_rule(["getpid"], "SCMP_ACT_ERRNO", errno_ret=1))
    assert run_probe(rt, probe, ["110", "39"], seccomp=profile) == {"110": "ok", "39": "EPERM"}


def test_unknown_syscall_name_is_skipped(rt, probe):
    profile = allow_all_but(seccomp_rule(["not_a_syscall", "getppid"], "SCMP_ACT_ERRNO", errno_ret=1))
    bundle = probe_bundle(rt, probe, ["/probe", "110", "39"], seccomp=profile)
    r = rt.cli("--debug", "run", "--bundle", bundle, rt.new_id())
    assert r.rc == 0, r
    assert parse_probe(r.stdout) == {"110": "EPERM", "39": "ok"}, r
    assert "not_a_syscall" in r.stderr, r
    r = rt.run(rt.new_id(), bundle)
    assert r.rc == 0 and parse_probe(r.stdout) == {"110": "EPERM", "39": "ok"}, r


BAD_PROFILES = {
    "action": (allow_all_but(seccomp_rule(["getppid"], "SCMP_ACT_BOGUS")), ".linux.seccomp.syscalls[0].action"),
    "operator": (allow_all_but(seccomp_rule(["getppid"], "SCMP_ACT_ERRNO",
                                            args=[{"index": 0, "value": 1, "op": "SCMP_CMP_SOMETIMES"}])),
                 ".linux.seccomp.syscalls[0].args[0].op"),
    "architecture": ({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_VAX"], "syscalls": []},
                     ".linux.seccomp.architectures[0]"),
}


@pytest.mark.parametrize("case", sorted(BAD_PROFILES))
def test_bad_profile_is_refused(rt, probe, case):
    profile, path = BAD_PROFILES[case]
    bundle = probe_bundle(rt, probe, ["sh", "-c", "echo should-not-run"], seccomp=profile)
    cid = rt.new_id()
    r = rt.run(cid, bundle)
    one_error_line(r, path, status=None)
    assert "should-not-run" not in r.stdout
    assert not os.path.exists(os.path.join(rt.root, cid))


def test_syscalls_newer_than_the_profile_get_enosys(rt, probe):
    docker = load(DOCKER_PROFILE)
    lib = ctypes.CDLL("libseccomp.so.2")
    lib.seccomp_syscall_resolve_name.restype = ctypes.c_int
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]

    def number(name):
        return lib.seccomp_syscall_resolve_name(name.encode())

    # Docker's profile without any syscall numbered 435 (clone3) or above: the highest it names is below 435.
    for rule in docker["syscalls"]:
        rule["names"] = [n for n in rule["names"] if number(n) < 435]
    docker["syscalls"] = [r for r in docker["syscalls"] if r["names"]]
    highest = max(number(n) for n in profile_names(docker))
    assert 400 < highest < 435, highest
    calls = [str(NR["cachestat"]), str(NR["fchmodat2"]), str(NR["clone3"]), str(NR["faccessat2"]),
             str(NR["open_tree"]), str(NR["acct"]), f"{NR['keyctl']},0xffff", str(NR["getpid"])]
    control = run_probe(rt, probe, calls)
    # The kernel has all of them but perhaps the newest, cachestat (6.5) and fchmodat2 (6.6): a
    # 6.1 kernel (Debian 12's, the cgroup v2 VM's) answers ENOSYS itself there, so only clone3
    # and faccessat2 show that the filter, not the kernel, says ENOSYS.
    assert {nr for nr, e in control.items() if e == "ENOSYS"} <= {"451", "452"}, control
    results = run_probe(rt, probe, calls, seccomp=docker)
    assert results == {
        "451": "ENOSYS", "452": "ENOSYS", "435": "ENOSYS", "439": "ENOSYS",  # newer than every name: ENOSYS
        "428": "EPERM", "163": "EPERM", "250,0xffff": "EPERM",  # older and unlisted: the default action
        "39": "ok",
    }, results
    # busybox still works under it (faccessat2 and clone3 fall back to the old calls)
    bundle = probe_bundle(rt, probe, ["sh", "-c", "echo ok; test -x /probe && ls /probe; id -u"], seccomp=docker)
    r = rt.run(rt.new_id(), bundle)
    assert r.rc == 0 and r.stdout == "ok\n/probe\n0\n", r


# ------------------------------------------------------------------------------------------------
# SCMP_ACT_NOTIFY and the seccomp agent on listenerPath

SECCOMP_IOCTL_NOTIF_RECV = 0xC0502100
SECCOMP_IOCTL_NOTIF_SEND = 0xC0182101
SECCOMP_USER_NOTIF_FLAG_CONTINUE = 1
NOTIF = struct.Struct("<QIIiIQ6Q")  # struct seccomp_notif: id, pid, flags, data{nr, arch, ip, args[6]}
NOTIF_RESP = struct.Struct("<QqiI")  # struct seccomp_notif_resp: id, val, error, flags
assert NOTIF.size == 80 and NOTIF_RESP.size == 24


class SeccompAgent:
    """Receives listener fds on a unix socket (FdReceiver) and answers every notification on them:
    answers[i] is the errno (positive) to fail the i-th notification with, or None to let the syscall
    go on (SECCOMP_USER_NOTIF_FLAG_CONTINUE); once answers run out, everything continues."""

    def __init__(self, path, answers=()):
        self.answers = list(answers)
        self.notifications = []  # (nr, pid, answer)
        self.errors = []
        self._fds = []
        self._lock = threading.Lock()
        self._stop = False
        self.receiver = FdReceiver(path, on_receive=self._add)
        self._thread = threading.Thread(target=self._serve, name="seccomp agent", daemon=True)
        self._thread.start()

    def _add(self, payload, fds):
        with self._lock:
            self._fds.extend(fds)

    def _serve(self):
        hung_up = set()
        while not self._stop:
            with self._lock:
                fds = [fd for fd in self._fds if fd not in hung_up]
            if not fds:
                select.select([], [], [], 0.02)
                continue
            poller = select.poll()
            for fd in fds:
                poller.register(fd, select.POLLIN)
            for fd, events in poller.poll(50):
                if events & select.POLLIN:
                    self._answer(fd)
                elif events & (select.POLLHUP | select.POLLERR | select.POLLNVAL):
                    hung_up.add(fd)  # every process using that filter is gone

    def _answer(self, fd):
        buf = bytearray(NOTIF.size)
        try:
            fcntl.ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, buf, True)
        except OSError as e:  # ENOENT: the caller died meanwhile
            self.errors.append(f"NOTIF_RECV: {e}")
            return
        nid, pid, _flags, nr, _arch, _ip, *_args = NOTIF.unpack(buf)
        with self._lock:
            answer = self.answers.pop(0) if self.answers else None
            self.notifications.append((nr, pid, answer))
        if answer is None:
            resp = NOTIF_RESP.pack(nid, 0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE)
        else:
            resp = NOTIF_RESP.pack(nid, 0, -answer, 0)
        try:
            fcntl.ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, bytearray(resp), True)
        except OSError as e:
            self.errors.append(f"NOTIF_SEND: {e}")

    def payloads(self, count, timeout=10.0):
        got = self.receiver.wait(count, timeout=timeout)
        return [(json.loads(p.decode()), fds) for p, fds in got]

    def close(self):
        self._stop = True
        self._thread.join(timeout=5)
        self.receiver.close()


def notify_profile(listener, metadata="agent-metadata-42"):
    return {
        "defaultAction": "SCMP_ACT_ALLOW",
        "listenerPath": listener,
        "listenerMetadata": metadata,
        "syscalls": [seccomp_rule(["mkdir", "mkdirat"], "SCMP_ACT_NOTIFY")],
    }


@pytest.fixture
def agent_factory(rt):
    def make(path, answers=()):
        agent = SeccompAgent(path, answers)
        rt.cleanups.append(agent.close)
        return agent
    return make


def test_notify_agent_gets_the_fd_and_answers(rt, probe, agent_factory):
    listener = os.path.join(tempfile.mkdtemp(prefix="agent-", dir=rt.bundle_base), "agent.sock")
    agent = agent_factory(listener, answers=[13, None])  # first mkdir: EACCES; second: carries on
    script = "mkdir /tmp/a; echo a=$?; mkdir /tmp/b; echo b=$?; ls -d /tmp/b"
    bundle = probe_bundle(rt, probe, ["sh", "-c", script], seccomp=notify_profile(listener), writable=True,
                          edit=lambda cfg: cfg.update(annotations={"agent.test": "yes"}))
    cid = rt.new_id()
    r = rt.run(cid, bundle)
    assert r.rc == 0, r
    assert r.stdout == "a=1\nb=0\n/tmp/b\n", r
    assert "Permission denied" in r.stderr, r
    assert not os.path.exists(os.path.join(bundle.rootfs, "tmp", "a"))
    assert os.path.isdir(os.path.join(bundle.rootfs, "tmp", "b"))

    [(payload, fds)] = agent.payloads(1)
    assert len(fds) == 1, fds
    assert payload["ociVersion"], payload
    assert payload["fds"] == ["seccompFd"], payload
    assert isinstance(payload["pid"], int) and payload["pid"] > 0, payload
    assert payload["metadata"] == "agent-metadata-42", payload
    state = payload["state"]
    assert state["id"] == cid, payload
    assert state["status"] == "creating", payload
    assert state["pid"] == payload["pid"], payload
    assert state["bundle"] == os.path.realpath(bundle.path), payload
    assert state.get("annotations") == {"agent.test": "yes"}, payload
    assert [(nr, ans) for nr, _, ans in agent.notifications] in ([(83, 13), (83, None)], [(258, 13), (258, None)]), \
        agent.notifications
    assert not agent.errors and not agent.receiver.errors, (agent.errors, agent.receiver.errors)


def test_notify_profile_works_for_exec(rt, probe, agent_factory):
    listener = os.path.join(tempfile.mkdtemp(prefix="agent-", dir=rt.bundle_base), "agent.sock")
    agent = agent_factory(listener, answers=[13])
    bundle = probe_bundle(rt, probe, ["sh", "-c", LOOP], seccomp=notify_profile(listener, "for-exec"), writable=True)
    cid = rt.new_id()
    assert rt.run(cid, bundle, "-d").rc == 0, "run -d"
    init_pid = rt.state(cid)["pid"]
    agent.payloads(1)
    r = rt.cli("exec", cid, "mkdir", "/tmp/by-exec")
    assert r.rc == 1, r
    assert "Permission denied" in r.stderr, r
    r = rt.cli("exec", cid, "sh", "-c", "mkdir /tmp/by-exec-2 && echo made")  # no answers left: continue
    assert r.rc == 0 and r.stdout == "made\n", r
    assert os.path.isdir(os.path.join(bundle.rootfs, "tmp", "by-exec-2"))
    assert not os.path.exists(os.path.join(bundle.rootfs, "tmp", "by-exec"))
    got = agent.payloads(3)
    assert len(got) == 3, got
    for payload, fds in got[1:]:
        assert len(fds) == 1, fds
        assert payload["metadata"] == "for-exec" and payload["fds"] == ["seccompFd"], payload
        assert payload["state"]["id"] == cid, payload
        assert payload["pid"] != init_pid and payload["pid"] > 0, payload
    assert [ans for _, _, ans in agent.notifications] == [13, None], agent.notifications
    assert rt.delete(cid, force=True).rc == 0


def test_notify_exec_payload_describes_the_running_container(rt, probe, agent_factory):
    # runc: for an exec'd process, the state is the container's (status "running", init's pid);
    # the top-level pid is the new process's.
    listener = os.path.join(tempfile.mkdtemp(prefix="agent-", dir=rt.bundle_base), "agent.sock")
    agent = agent_factory(listener)
    bundle = probe_bundle(rt, probe, ["sh", "-c", LOOP], seccomp=notify_profile(listener))
    cid = rt.new_id()
    assert rt.run(cid, bundle, "-d").rc == 0
    init_pid = rt.state(cid)["pid"]
    pid_file = os.path.join(bundle.path, "exec.pid")
    r = rt.cli("exec", "--pid-file", pid_file, cid, "true")
    assert r.rc == 0, r
    with open(pid_file) as f:
        exec_pid = int(f.read())
    got = agent.payloads(2)
    payload = json.loads(agent.receiver.received[1][0])
    assert got[0][0]["state"]["pid"] == init_pid
    shown = json.dumps(payload)
    assert payload["pid"] == exec_pid, shown
    assert payload["state"]["status"] == "running", shown
    assert payload["state"]["pid"] == init_pid, shown
    assert rt.delete(cid, force=True).rc == 0
