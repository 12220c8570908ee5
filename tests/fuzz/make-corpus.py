#!/usr/bin/env python3
"""Regenerates the seed corpus of tests/fuzz/corpus/ (run as root; the result is committed).

  make-corpus.py CRUN_LITE

config/: `crun-lite spec` and `spec --rootless` output, that config with seccomp profiles
(tests/fixtures/), hooks, mounts, resources, user/time namespaces, the
process fields, bare --process and --resources objects, and some bad ones.
state/: the state files `crun-lite create` writes for a few of those configs (busybox
rootfs), plus a few damaged ones.
"""
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from crunlite_testlib.bundles import make_bundle  # noqa: E402
CONFIG = os.path.join(HERE, "corpus", "config")
STATE = os.path.join(HERE, "corpus", "state")
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")


def spec(rt, *flags):
    d = tempfile.mkdtemp()
    subprocess.run([rt, "spec", "--bundle", d, *flags], check=True)
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    shutil.rmtree(d)
    return cfg


def write(directory, name, value):
    with open(os.path.join(directory, name), "w") as f:
        f.write(value if isinstance(value, str) else json.dumps(value, indent=1))


def configs(base, rootless):
    out = {"default.json": base, "rootless.json": rootless}

    for profile in ("seccomp-docker-20.10.json", "seccomp-podman-4.3.json"):
        path = os.path.join(FIXTURES, profile)
        if os.path.exists(path):
            cfg = copy.deepcopy(base)
            with open(path) as f:
                cfg["linux"]["seccomp"] = json.load(f)
            out[profile] = cfg
    cfg = copy.deepcopy(base)
    cfg["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "flags": ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
        "listenerPath": "/run/agent.sock", "listenerMetadata": "meta",
        "syscalls": [
            {"names": ["read", "write", "exit_group"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"},
            {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"},
                      {"index": 1, "value": 255, "valueTwo": 4, "op": "SCMP_CMP_MASKED_EQ"}]},
            {"names": ["chmod"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
            {"names": ["ptrace"], "action": "SCMP_ACT_KILL_PROCESS"},
            {"names": ["kill"], "action": "SCMP_ACT_TRACE"},
            {"names": ["getpid"], "action": "SCMP_ACT_LOG"},
        ]}
    out["seccomp-custom.json"] = cfg

    cfg = copy.deepcopy(base)
    hook = {"path": "/bin/sh", "args": ["sh", "-c", "cat >/dev/null"], "env": ["A=1"], "timeout": 5}
    cfg["hooks"] = {k: [hook, {"path": "/bin/true"}] for k in
                    ("prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop")}
    cfg["annotations"] = {"org.example.key": "value", "io.kubernetes.cri.sandbox-id": "abc"}
    out["hooks.json"] = cfg

    cfg = copy.deepcopy(base)
    cfg["mounts"] += [
        {"destination": "/data", "type": "bind", "source": "/tmp", "options": ["rbind", "ro", "nosuid"]},
        {"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m", "mode=1777", "tmpcopyup"]},
        {"destination": "/idmapped", "type": "bind", "source": "/srv", "options": ["bind", "idmap"],
         "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
         "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}]},
        {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["ro", "nosuid"]},
        {"destination": "/mnt/shared", "type": "bind", "source": "/mnt", "options": ["bind", "rshared", "rw"]},
    ]
    cfg["linux"]["rootfsPropagation"] = "rslave"
    cfg["root"]["readonly"] = True
    out["mounts.json"] = cfg

    resources = {
        "devices": [{"allow": False, "access": "rwm"},
                    {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rw"},
                    {"allow": True, "type": "b", "major": 8, "access": "r"}],
        "memory": {"limit": 268435456, "reservation": 134217728, "swap": 536870912, "kernel": 0,
                   "kernelTCP": 0, "swappiness": 60, "disableOOMKiller": False, "useHierarchy": True,
                   "checkBeforeUpdate": True},
        "cpu": {"shares": 1024, "quota": 50000, "burst": 10000, "period": 100000, "realtimeRuntime": 0,
                "realtimePeriod": 0, "cpus": "0-1", "mems": "0", "idle": 0},
        "pids": {"limit": 128},
        "blockIO": {"weight": 500, "leafWeight": 300,
                    "weightDevice": [{"major": 8, "minor": 0, "weight": 200, "leafWeight": 100}],
                    "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}],
                    "throttleWriteBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}],
                    "throttleReadIOPSDevice": [{"major": 8, "minor": 0, "rate": 100}],
                    "throttleWriteIOPSDevice": [{"major": 8, "minor": 0, "rate": 100}]},
        "hugepageLimits": [{"pageSize": "2MB", "limit": 0}],
        "network": {"classID": 1048577, "priorities": [{"name": "eth0", "priority": 5}]},
        "rdma": {"mlx5_1": {"hcaHandles": 3, "hcaObjects": 10000}},
        "unified": {"memory.high": "200000000", "pids.max": "100"},
    }
    cfg = copy.deepcopy(base)
    cfg["linux"]["resources"] = resources
    cfg["linux"]["cgroupsPath"] = "system.slice:crun-lite:fuzz"
    out["resources.json"] = cfg
    out["update-resources.json"] = resources

    cfg = copy.deepcopy(base)
    have = {ns["type"] for ns in cfg["linux"]["namespaces"]}
    cfg["linux"]["namespaces"] += [{"type": t} for t in ("user", "time", "cgroup", "network", "ipc", "uts") if t not in have]
    cfg["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 1000},
                                   {"containerID": 1000, "hostID": 1000, "size": 1}]
    cfg["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    cfg["linux"]["timeOffsets"] = {"monotonic": {"secs": 86400, "nanosecs": 0}, "boottime": {"secs": -1, "nanosecs": 999999999}}
    cfg["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1", "kernel.shmmax": "65536", "net/ipv4/ping_group_range": "0 0"}
    cfg["hostname"] = "fuzz"
    cfg["domainname"] = "example.org"
    out["userns-timens-sysctl.json"] = cfg

    process = copy.deepcopy(base["process"])
    process.update({
        "terminal": True, "consoleSize": {"height": 24, "width": 80},
        "user": {"uid": 1000, "gid": 1000, "umask": 18, "additionalGids": [5, 100]},
        "env": ["PATH=/bin", "TERM=xterm", "EMPTY="],
        "capabilities": {k: ["CAP_CHOWN", "CAP_NET_BIND_SERVICE", "CAP_SYS_ADMIN"] for k in
                         ("bounding", "effective", "inheritable", "permitted", "ambient")},
        "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}, {"type": "RLIMIT_CORE", "hard": 0, "soft": 0}],
        "noNewPrivileges": True, "oomScoreAdj": -500, "apparmorProfile": "", "selinuxLabel": "",
        "ioPriority": {"class": "IOPRIO_CLASS_BE", "priority": 4},
        "scheduler": {"policy": "SCHED_DEADLINE", "nice": 0, "priority": 0, "flags": ["SCHED_FLAG_RESET_ON_FORK"],
                      "runtime": 1000000, "deadline": 2000000, "period": 3000000},
    })
    cfg = copy.deepcopy(base)
    cfg["process"] = process
    cfg["linux"]["devices"] = [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 438, "uid": 0, "gid": 0},
                               {"path": "/dev/fifo", "type": "p"}]
    cfg["linux"]["personality"] = {"domain": "LINUX32"}
    cfg["linux"]["maskedPaths"] = ["/proc/kcore", "/sys/firmware"]
    cfg["linux"]["readonlyPaths"] = ["/proc/sys"]
    out["process-devices.json"] = cfg
    out["exec-process.json"] = process

    cfg = copy.deepcopy(base)
    del cfg["process"]
    cfg["ociVersion"] = "1.0.2-dev"
    out["no-process.json"] = cfg

    # Bad ones: each refused with a different error.
    bad = copy.deepcopy(base); bad["ociVersion"] = "2.0.0"; out["bad-version.json"] = bad
    bad = copy.deepcopy(base); bad["linux"]["namespaces"] = [{"type": "pid"}]; out["bad-no-mount-ns.json"] = bad
    bad = copy.deepcopy(base); bad["process"]["user"]["uid"] = "0"; out["bad-uid-string.json"] = bad
    bad = copy.deepcopy(base); bad["linux"]["sysctl"] = {"kernel.panic": "1"}; out["bad-host-sysctl.json"] = bad
    bad = copy.deepcopy(base); bad["linux"]["intelRdt"] = {"closID": "x"}; out["bad-unimplemented.json"] = bad
    bad = copy.deepcopy(base); bad["mounts"][0]["destination"] = "proc"; out["bad-relative-mount.json"] = bad
    # Hostile strings (issue 24): a NUL byte or a control character where a string reaches a
    # syscall, and errnoRet with an action that returns no errno; each refused naming its field.
    bad = copy.deepcopy(base); bad["process"]["args"] = ["sh", "-c\u0000x"]; out["bad-nul-args.json"] = bad
    bad = copy.deepcopy(base); bad["process"]["env"].append("A=1\u0000LD_PRELOAD=/x.so"); out["bad-nul-env.json"] = bad
    bad = copy.deepcopy(base); bad["mounts"][1]["options"].append("nosuid\u0000,suid"); out["bad-nul-mount-option.json"] = bad
    bad = copy.deepcopy(base); bad["linux"]["sysctl"] = {"net.ipv4.ip_forward\u0000x": "1"}; out["bad-nul-sysctl-key.json"] = bad
    bad = copy.deepcopy(base); bad["hooks"] = {"prestart": [{"path": "/bin/true\u0000x", "args": ["t\u0001"]}]}
    out["bad-nul-hook.json"] = bad
    bad = copy.deepcopy(base); bad["linux"]["cgroupsPath"] = "/crun-lite/x\ny"; out["bad-cgroups-path-newline.json"] = bad
    bad = copy.deepcopy(base); bad["linux"]["cgroupsPath"] = "system.slice:\u001b[31m:x\u007f"
    out["bad-cgroups-path-escape.json"] = bad
    bad = copy.deepcopy(base)
    bad["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "defaultErrnoRet": 1,
                               "syscalls": [{"names": ["mount"], "action": "SCMP_ACT_KILL", "errnoRet": 1}]}
    out["bad-seccomp-errno-ret.json"] = bad
    bad = copy.deepcopy(base)
    bad["linux"]["devices"] = [{"path": "/etc/passwd", "type": "c", "major": 1, "minor": 3}]  # parses; init refuses
    out["device-over-image-file.json"] = bad
    out["bad-truncated.json"] = json.dumps(base)[:300]
    out["bad-deep.json"] = "[" * 70 + "]" * 70
    out["bad-not-object.json"] = "[1, \"a\", null, true, 1.5e300, -9223372036854775809]"
    return out


def states(rt, base):
    work = tempfile.mkdtemp(prefix="fuzz-corpus-")
    root = os.path.join(work, "state")
    out = {}
    variants = {"default": base, "hooks": None, "no-process": None}
    hooks = copy.deepcopy(base)
    hooks["hooks"] = {"poststop": [{"path": "/bin/true", "args": ["true"], "env": ["A=1"], "timeout": 3}],
                      "poststart": [{"path": "/bin/true"}]}
    hooks["annotations"] = {"org.example.key": "value"}
    variants["hooks"] = hooks
    noproc = copy.deepcopy(base)
    del noproc["process"]
    variants["no-process"] = noproc
    try:
        for name, cfg in variants.items():
            bundle = os.path.join(work, name)

            def sleeper(cfg):
                if "process" in cfg:
                    cfg["process"].update(args=["sleep", "10"], terminal=False)
            make_bundle(bundle, cfg, edit=sleeper, applets=("sh", "sleep"), dirs=("bin",))
            cid = "fuzz-" + name
            subprocess.run([rt, "--root", root, "create", "--bundle", bundle, cid], check=True, timeout=30)
            with open(os.path.join(root, cid)) as f:
                out[name + ".json"] = f.read()
            subprocess.run([rt, "--root", root, "delete", "--force", cid], check=True, timeout=30)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    record = json.loads(out["default.json"])
    minimal = {k: record[k] for k in ("id", "pid", "pid_start_time", "bundle", "rootfs", "created")}
    out["minimal.json"] = json.dumps(minimal)
    out["bad-truncated.json"] = out["default.json"][:120]
    bad = dict(record); bad["pid"] = "1"; out["bad-pid-string.json"] = json.dumps(bad)
    bad = dict(record); del bad["created"]; out["bad-missing-created.json"] = json.dumps(bad)
    bad = dict(record); bad["annotations"] = {"a": 1}; out["bad-annotation-number.json"] = json.dumps(bad)
    return out


def main():
    rt = sys.argv[1]
    base = spec(rt)
    rootless = spec(rt, "--rootless")
    for d in (CONFIG, STATE):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    for name, value in configs(base, rootless).items():
        write(CONFIG, name, value)
    for name, value in states(rt, base).items():
        write(STATE, name, value)


if __name__ == "__main__":
    main()
