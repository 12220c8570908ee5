"""Where the container's processes run and allocate: the CPU affinity (process.execCPUAffinity,
runtime-spec 1.2.1, and the reset of an affinity inherited from whoever started the runtime) and
the NUMA memory policy (linux.memoryPolicy, runtime-spec 1.3), read back from /proc inside."""

import json
import os
import re

import pytest

from helpers import one_error_line, run_cmd, status_fields

LOOP = "while :; do sleep 0.1; done"
SHOW_CPUS = ["grep", "Cpus_allowed_list", "/proc/self/status"]


def online(kind):
    """The CPUs or memory nodes this host has online, as a set of numbers."""
    with open(f"/sys/devices/system/{kind}/online") as f:
        out = set()
        for part in f.read().strip().split(","):
            lo, _, hi = part.partition("-")
            out.update(range(int(lo), int(hi or lo) + 1))
        return out


def cpus_in(output):
    m = re.search(r"Cpus_allowed_list:\s*(\S+)", output)
    assert m, output
    out = set()
    for part in m.group(1).split(","):
        lo, _, hi = part.partition("-")
        out.update(range(int(lo), int(hi or lo) + 1))
    return out


def under_taskset(rt, cpu, *args):
    """The runtime's command started with its CPU affinity restricted to `cpu`, as a shim or
    an engine with systemd's CPUAffinity= would start it."""
    return run_cmd(["taskset", "-c", str(cpu), *rt.argv(*args)])


def needs_two_cpus(test):
    """Marks a test two_cpus (CI runs the guest's suite on one vCPU without them, and these on two:
    tests/CMakeLists.txt), and skips it where fewer than 2 CPUs are online."""
    test = pytest.mark.skipif(len(online("cpu")) < 2, reason="needs 2 online CPUs to tell masks apart")(test)
    return pytest.mark.two_cpus(test)


# ------------------------------------------------------------------------------------------------
# The inherited affinity is reset (runc >= 1.3.1, runc#4858): a runtime started under
# `taskset -c 0` gives its container every CPU of the container's cpuset, not CPU 0 alone.


@needs_two_cpus
@pytest.mark.runc_too(since="1.3.1")
def test_run_does_not_pass_the_runtimes_cpu_affinity_on(each_rt):
    bundle = each_rt.make_bundle(args=SHOW_CPUS)
    r = under_taskset(each_rt, 0, "run", "--bundle", bundle, each_rt.new_id())
    assert r.rc == 0, r
    assert cpus_in(r.stdout) == online("cpu"), r


@needs_two_cpus
@pytest.mark.runc_too(since="1.3.1")
def test_exec_does_not_pass_the_runtimes_cpu_affinity_on(each_rt):
    bundle = each_rt.make_bundle(args=["sh", "-c", LOOP])
    cid = each_rt.new_id()
    assert each_rt.run(cid, bundle, "-d").rc == 0
    r = under_taskset(each_rt, 1, "exec", cid, *SHOW_CPUS)
    assert r.rc == 0, r
    assert cpus_in(r.stdout) == online("cpu"), r
    each_rt.delete(cid, force=True)


# ------------------------------------------------------------------------------------------------
# execCPUAffinity: "not applicable to the container's init process" (config.md); for exec,
# `initial` is the affinity the process sets itself up with, before it joins the container's
# cgroups, and `final` the one it runs with. runc 1.3.0 has it; like crun, runc takes the
# config's value for an `exec --process` that has none.


@needs_two_cpus
@pytest.mark.runc_too(since="1.3.1")
def test_init_takes_no_exec_cpu_affinity(each_rt):
    bundle = each_rt.make_bundle(args=SHOW_CPUS,
                                 edit=lambda c: c["process"].update(execCPUAffinity={"initial": "0", "final": "1"}))
    r = under_taskset(each_rt, 0, "run", "--bundle", bundle, each_rt.new_id())
    assert r.rc == 0, r
    assert cpus_in(r.stdout) == online("cpu"), r


def process_json(bundle, name, affinity=None):
    p = {"args": SHOW_CPUS, "cwd": "/", "user": {"uid": 0, "gid": 0}, "env": ["PATH=/bin"]}
    if affinity is not None:
        p["execCPUAffinity"] = affinity
    path = os.path.join(bundle.path, name)
    with open(path, "w") as f:
        json.dump(p, f)
    return path


@needs_two_cpus
@pytest.mark.runc_too(since="1.3.0")
def test_exec_cpu_affinity_final_initial_and_the_configs_default(each_rt):
    bundle = each_rt.make_bundle(args=["sh", "-c", LOOP],
                                 edit=lambda c: c["process"].update(execCPUAffinity={"final": "1"}))
    cid = each_rt.new_id()
    assert each_rt.run(cid, bundle, "-d").rc == 0

    def exec_cpus(*flags, taskset=None):
        argv = ["exec", *flags, cid] + ([] if flags else SHOW_CPUS)
        r = under_taskset(each_rt, taskset, *argv) if taskset is not None else each_rt.cli(*argv)
        assert r.rc == 0, r
        return cpus_in(r.stdout)

    assert exec_cpus() == {1}                                                   # the config's final
    assert exec_cpus("--process", process_json(bundle, "none.json")) == {1}     # --process without one: the config's
    assert exec_cpus("--process", process_json(bundle, "final.json", {"final": "0"})) == {0}
    # `initial` alone: the process keeps the CPUs it was set up on, whatever the runtime had; a
    # kernel before 6.2 resets the affinity to the cpuset's when the process joins the container's
    # cpuset cgroup (6.2 keeps the one asked for), with runc as with crun-lite.
    assert exec_cpus("--process", process_json(bundle, "initial.json", {"initial": "0"}), taskset=1) == \
        ({0} if kernel_at_least(6, 2) else online("cpu"))
    assert exec_cpus("--process", process_json(bundle, "both.json", {"initial": "0", "final": "0-1"}), taskset=0) == {0, 1}
    each_rt.delete(cid, force=True)


# ------------------------------------------------------------------------------------------------
# memoryPolicy: set_mempolicy in the container's processes before exec. /proc/PID/numa_maps shows
# the policy on each mapping without one of its own ("bind:0", "interleave:0", "local"...).
# runc 1.3.6 has no memoryPolicy (runc 1.4 has): crun-lite only.

POLICIES = [
    ("MPOL_BIND", "0", [], "bind:0"),
    ("MPOL_INTERLEAVE", "0", [], "interleave:0"),
    ("MPOL_WEIGHTED_INTERLEAVE", "0", [], "weighted interleave:0"),
    ("MPOL_PREFERRED", "0", [], "prefer:0"),
    ("MPOL_PREFERRED_MANY", "0", [], "prefer (many):0"),
    ("MPOL_LOCAL", "", [], "local"),
    ("MPOL_DEFAULT", "", [], "default"),
    ("MPOL_BIND", "0", ["MPOL_F_STATIC_NODES"], "bind=static:0"),
    ("MPOL_INTERLEAVE", "0", ["MPOL_F_RELATIVE_NODES"], "interleave=relative:0"),
    ("MPOL_BIND", "0", ["MPOL_F_NUMA_BALANCING"], "bind=balancing:0"),
]


def numa_policies(text):
    """The policy column of numa_maps lines ("7f00 bind:0 anon=1 ...", "7f00 prefer (many):0 heap ..."):
    the word after the address ("bind=static:0" has its flags after a "="), and the words after
    it up to the first key=value or heap/stack/huge word."""
    policies = set()
    for line in text.splitlines():
        words = line.split()[1:2]
        for word in line.split()[2:]:
            if "=" in word or word in ("heap", "stack", "huge"):
                break
            words.append(word)
        policies.add(" ".join(words))
    return policies


def kernel_at_least(major, minor):
    release = tuple(int(x) for x in re.match(r"(\d+)\.(\d+)", os.uname().release).groups())
    return release >= (major, minor)


@pytest.mark.parametrize("mode,nodes,flags,shown", POLICIES, ids=[f"{m}{'+' + '+'.join(f) if f else ''}" for m, _, f, _ in POLICIES])
def test_memory_policy_reaches_the_process_and_exec(each_rt, mode, nodes, flags, shown):
    assert 0 in online("node")
    policy = {"mode": mode, "nodes": nodes}
    if flags:
        policy["flags"] = flags
    bundle = each_rt.make_bundle(args=["sh", "-c", "cat /proc/self/numa_maps; exec sh -c '" + LOOP + "'"],
                                 edit=lambda c: c["linux"].update(memoryPolicy=policy))
    cid = each_rt.new_id()
    r = each_rt.run(cid, bundle, "-d")
    if mode == "MPOL_WEIGHTED_INTERLEAVE" and not kernel_at_least(6, 9):
        # The kernel has no such mode (the v2 guest runs 6.1): one line saying so, nothing left.
        one_error_line(r, ".linux.memoryPolicy", "Linux 6.9")
        assert each_rt.cli("state", cid).rc != 0
        return
    assert r.rc == 0, r
    r = each_rt.cli("exec", cid, "cat", "/proc/self/numa_maps")
    assert r.rc == 0, r
    assert numa_policies(r.stdout) == {shown}, r.stdout
    # init's own process (the container's pid 1 as the host sees it)
    with open(f"/proc/{each_rt.state(cid)['pid']}/numa_maps") as f:
        assert numa_policies(f.read()) == {shown}
    each_rt.delete(cid, force=True)
