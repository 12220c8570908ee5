"""`crun-lite features`: the runtime-spec features document (features.md of the runtime-spec,
v1.1+), checked field by field against the schema's types, then against what really works on
this host: every namespace it lists can be created, every seccomp action and operator it lists
is accepted in a profile that a container then runs under, and the LSM and capability entries
agree with the host (the cgroup ones are the build's, on every host)."""
import json
import os
import re
import subprocess

import pytest

from helpers import CRUN_LITE

HOOKS = {"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"}
NAMESPACES = {"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"}
TOP_LEVEL = {"ociVersionMin", "ociVersionMax", "hooks", "mountOptions", "linux", "annotations", "potentiallyUnsafeConfigAnnotations"}
LINUX = {"namespaces", "capabilities", "cgroup", "seccomp", "apparmor", "selinux", "intelRdt", "mountExtensions",
         "memoryPolicy", "netDevices"}


@pytest.fixture(scope="module")
def features():
    out = subprocess.run([CRUN_LITE, "features"], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def is_str_list(value):
    return isinstance(value, list) and all(isinstance(v, str) for v in value) and len(set(value)) == len(value)


def enabled_object(value):
    return isinstance(value, dict) and set(value) == {"enabled"} and isinstance(value["enabled"], bool)


def test_document_has_the_schema_fields_and_types(features):
    assert set(features) <= TOP_LEVEL, set(features) - TOP_LEVEL
    semver = re.compile(r"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$")
    assert semver.match(features["ociVersionMin"]) and semver.match(features["ociVersionMax"]), features
    assert tuple(map(int, features["ociVersionMin"].split("-")[0].split("."))) <= \
        tuple(map(int, features["ociVersionMax"].split("-")[0].split(".")))
    assert is_str_list(features["hooks"]) and set(features["hooks"]) == HOOKS
    assert is_str_list(features["mountOptions"]) and {"ro", "rw", "nosuid", "nodev", "noexec", "bind", "rbind"} <= set(features["mountOptions"])
    assert isinstance(features["annotations"], dict) and all(isinstance(k, str) and isinstance(v, str)
                                                             for k, v in features["annotations"].items())
    linux = features["linux"]
    assert set(linux) <= LINUX, set(linux) - LINUX
    assert is_str_list(linux["namespaces"]) and set(linux["namespaces"]) <= NAMESPACES
    assert is_str_list(linux["capabilities"]) and all(c.startswith("CAP_") for c in linux["capabilities"])
    cgroup = linux["cgroup"]
    assert set(cgroup) <= {"v1", "v2", "systemd", "systemdUser", "rdma"} and all(isinstance(v, bool) for v in cgroup.values())
    seccomp = linux["seccomp"]
    assert isinstance(seccomp["enabled"], bool)
    for key in ("actions", "operators", "archs", "knownFlags", "supportedFlags"):
        assert is_str_list(seccomp[key]), key
    assert set(seccomp["supportedFlags"]) <= set(seccomp["knownFlags"])
    assert all(a.startswith("SCMP_ACT_") for a in seccomp["actions"])
    assert all(o.startswith("SCMP_CMP_") for o in seccomp["operators"])
    assert all(a.startswith("SCMP_ARCH_") for a in seccomp["archs"])
    for key in ("apparmor", "selinux", "netDevices"):
        assert enabled_object(linux[key]), key
    # memoryPolicy has no "enabled": its modes and flags say what is supported (features-linux.md).
    assert set(linux["memoryPolicy"]) <= {"modes", "flags"}, linux["memoryPolicy"]
    # features-linux.md (runtime-spec 1.3): intelRdt has "schemata" and "monitoring" beside "enabled".
    rdt = linux["intelRdt"]
    assert "enabled" in rdt and set(rdt) <= {"enabled", "schemata", "monitoring"} and all(isinstance(v, bool) for v in rdt.values()), rdt
    assert set(linux["mountExtensions"]) == {"idmap"} and enabled_object(linux["mountExtensions"]["idmap"])


def test_host_entries_match_this_host(features):
    linux = features["linux"]
    with open("/proc/sys/kernel/cap_last_cap") as f:
        last_cap = int(f.read())
    assert len(linux["capabilities"]) == last_cap + 1, linux["capabilities"]
    # The cgroup entries are what this build supports, "unrelated to whether the host uses cgroup
    # v1 or not" (runtime-spec features.md; runc says the same): both layouts, on any host (a
    # pure v2 host has no v1 "cgroup" mount, a hybrid one has both).
    assert linux["cgroup"]["v1"] is True and linux["cgroup"]["v2"] is True, linux["cgroup"]
    apparmor = "/sys/module/apparmor/parameters/enabled"
    assert linux["apparmor"]["enabled"] == (os.path.exists(apparmor) and open(apparmor).read().strip() == "Y")
    assert linux["selinux"]["enabled"] == os.path.exists("/sys/fs/selinux/enforce")
    # Supported by the runtime whatever the host, as runc reports it: without a resctrl mount a
    # config with intelRdt fails at create naming .linux.intelRdt (test_intel_rdt.py).
    assert linux["intelRdt"] == {"enabled": True, "schemata": True, "monitoring": True}
    # Acted on (test_net_devices.py, test_cpu_memory.py), so claimed in full.
    assert linux["netDevices"]["enabled"] is True
    assert linux["memoryPolicy"] == {
        "modes": ["MPOL_DEFAULT", "MPOL_PREFERRED", "MPOL_BIND", "MPOL_INTERLEAVE", "MPOL_LOCAL", "MPOL_PREFERRED_MANY",
                  "MPOL_WEIGHTED_INTERLEAVE"],
        "flags": ["MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES", "MPOL_F_STATIC_NODES"]}
    assert set(linux["namespaces"]) == {n for n in NAMESPACES if os.path.exists(
        "/proc/self/ns/" + {"mount": "mnt", "network": "net"}.get(n, n))}


def run_true(rt, bundle):
    cid = rt.new_id()
    r = rt.run(cid, bundle)
    assert r.rc == 0, r


@pytest.mark.parametrize("namespace", sorted(NAMESPACES))
def test_every_listed_namespace_can_be_created(rt, make_bundle, features, namespace):
    assert namespace in features["linux"]["namespaces"]
    spec_args = ("--rootless",) if namespace == "user" else ()

    def edit(c):
        kinds = {n["type"] for n in c["linux"]["namespaces"]}
        if namespace not in kinds:
            c["linux"]["namespaces"].append({"type": namespace})
    run_true(rt, make_bundle(args=["true"], edit=edit, spec_args=spec_args))


@pytest.mark.parametrize("action", ["SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
                                    "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"])
def test_every_listed_seccomp_action_is_accepted(rt, make_bundle, features, action):
    # A rule for a syscall `true` never makes (acct), with the action, in an allow-by-default profile.
    assert action in features["linux"]["seccomp"]["actions"]

    def edit(c):
        c["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW",
                                 "syscalls": [{"names": ["acct"], "action": action}]}
    run_true(rt, make_bundle(args=["true"], edit=edit))


def test_every_listed_seccomp_operator_is_accepted(rt, make_bundle, features):
    operators = features["linux"]["seccomp"]["operators"]

    def edit(c):
        c["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["acct"], "action": "SCMP_ACT_ERRNO",
             "args": [{"index": 0, "value": 1, "valueTwo": 1 if op == "SCMP_CMP_MASKED_EQ" else 0, "op": op}]}
            for op in operators]}
    run_true(rt, make_bundle(args=["true"], edit=edit))
