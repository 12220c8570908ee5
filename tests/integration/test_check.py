"""`crun-lite check`: a preflight of a bundle. One run reports EVERY fault (config errors and what
this host lacks), each with its JSON path and a hint, as a table or as JSON; the exit status is 0
only when the bundle would run, and then it really runs. check itself changes nothing."""

import json
import os

import pytest

from helpers import cgroup_dirs_named, host_mountinfo


def has_cap_sys_resource():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("CapEff:"):
                return bool(int(line.split()[1], 16) & (1 << 24))
    return False


def rlimit_fault():
    """A NOFILE hard limit this runtime cannot set: above its own hard limit when it lacks
    CAP_SYS_RESOURCE (this project's machines), else above the kernel's fs.nr_open."""
    import resource
    with open("/proc/sys/fs/nr_open") as f:
        nr_open = int(f.read())
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if not has_cap_sys_resource() and hard != resource.RLIM_INFINITY and hard < nr_open:
        return hard + 1
    return nr_open + 1


def seed_faults(cfg):
    """Twelve faults of ten kinds and more. The default config has 7 mounts and 6 namespaces
    (network at index 4); returns {json path: (severity, a word the message must hold)}."""
    p = cfg["process"]
    p["args"] = ["no-such-program"]                                    # not in the rootfs
    p["capabilities"]["bounding"].append("CAP_NOPE")                   # unknown capability: a warning, as create goes on
    limit = rlimit_fault()
    p["rlimits"] = [{"type": "RLIMIT_NOFILE", "hard": limit, "soft": limit}]  # above what we can raise
    p["apparmorProfile"] = "crun-lite-no-such-profile"                 # AppArmor off (or profile not loaded)
    ns = cfg["linux"]["namespaces"]
    assert ns[4]["type"] == "network"
    ns[4]["path"] = "/nonexistent/netns"                               # namespace path missing
    ns.append({"type": "nett"})                                        # bad namespace type
    cfg["linux"]["sysctl"] = {"kernel.panic": "1"}                     # not namespaced
    cfg["linux"]["resources"]["cpu"] = {"cpus": "4000"}                # a CPU this host does not have
    cfg["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW",
                               "syscalls": [{"names": ["getpid", "no_such_syscall"], "action": "SCMP_ACT_ERRNO"}]}
    cfg["hooks"] = {"prestart": [{"path": "/nonexistent/hook"}]}        # hook missing
    cfg["mounts"].append({"destination": "/data", "type": "bind", "source": "/nonexistent-source",
                          "options": ["rbind"]})                       # bind source missing
    cfg["mounts"].append({"destination": "/scratch", "type": "tmpfs", "source": "tmpfs",
                          "options": ["nosuchoption=1"]})              # the kernel refuses the option
    return {
        ".process.args[0]": ("error", "no-such-program"),
        ".process.capabilities.bounding[3]": ("warning", "CAP_NOPE"),
        ".process.rlimits[0].hard": ("error", "RLIMIT_NOFILE"),
        ".process.apparmorProfile": ("error", "AppArmor"),
        ".linux.namespaces[4].path": ("error", "/nonexistent/netns"),
        ".linux.namespaces[6].type": ("error", "nett"),
        ".linux.sysctl.kernel.panic": ("error", "namespaced"),
        ".linux.resources.cpu.cpus": ("error", "4000"),
        ".linux.seccomp.syscalls[0].names[1]": ("warning", "no_such_syscall"),
        ".hooks.prestart[0].path": ("error", "/nonexistent/hook"),
        ".mounts[7].source": ("error", "/nonexistent-source"),
        ".mounts[8].options": ("error", "nosuchoption"),
    }


def check(rt, bundle, *args):
    return rt.cli("check", "--bundle", bundle, *args)


def assert_changed_nothing(rt, bundle, mounts_before):
    assert not os.path.isdir(rt.root) or os.listdir(rt.root) == []
    assert set(host_mountinfo()) - mounts_before == set()
    assert not [l for l in host_mountinfo() if bundle.path in l]


def test_check_finds_every_fault_in_the_table(rt, make_bundle):
    bundle = make_bundle()
    expected = {}
    bundle.edit(lambda c: expected.update(seed_faults(c)))
    before = set(host_mountinfo())
    r = check(rt, bundle)
    assert r.rc == 1, r
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["SEVERITY", "PATH", "MESSAGE"], r.stdout
    for path, (severity, word) in expected.items():
        rows = [i for i, l in enumerate(lines) if l.split()[:2] == [severity, path]]
        assert rows, f"no {severity} row for {path}:\n{r.stdout}"
        i = rows[0]
        assert word in lines[i], (path, lines[i])
        assert lines[i + 1].strip().startswith("hint: ") and len(lines[i + 1].strip()) > 10, (path, lines[i + 1])
    errors = sum(1 for s, _ in expected.values() if s == "error")
    warnings = sum(1 for s, _ in expected.values() if s == "warning")
    assert lines[-1].startswith(f"{errors} errors, {warnings} warnings: this bundle would not run here"), lines[-1]
    assert_changed_nothing(rt, bundle, before)


def test_check_finds_every_fault_in_json(rt, make_bundle):
    bundle = make_bundle()
    expected = {}
    bundle.edit(lambda c: expected.update(seed_faults(c)))
    r = check(rt, bundle, "--format", "json")
    assert r.rc == 1, r
    doc = json.loads(r.stdout)
    by_path = {f["path"]: f for f in doc["findings"]}
    for f in doc["findings"]:
        assert set(f) == {"severity", "path", "message", "hint"}, f
        assert f["severity"] in ("error", "warning") and f["message"] and f["hint"], f
    for path, (severity, word) in expected.items():
        assert path in by_path, f"{path} not reported: {json.dumps(doc, indent=1)}"
        assert by_path[path]["severity"] == severity, by_path[path]
        assert word in by_path[path]["message"], by_path[path]
    assert doc["summary"] == {"errors": len([1 for s, _ in expected.values() if s == "error"]),
                              "warnings": len([1 for s, _ in expected.values() if s == "warning"]), "ok": False}
    # Nothing beyond the seeded faults: a good config around them raises no false alarm.
    assert set(by_path) == set(expected), sorted(set(by_path) - set(expected))


def test_check_passes_a_good_bundle_which_then_runs(rt, make_bundle, new_id):
    bundle = make_bundle(args=["sh", "-c", "echo checked-and-running"])
    before = set(host_mountinfo())
    r = check(rt, bundle)
    assert r.rc == 0, r
    assert r.stdout == "0 errors, 0 warnings: this bundle would run here\n", r
    r = check(rt, bundle, "--format", "json")
    assert r.rc == 0, r
    assert json.loads(r.stdout) == {"findings": [], "summary": {"errors": 0, "warnings": 0, "ok": True}}
    assert_changed_nothing(rt, bundle, before)
    r = rt.run(new_id(), bundle)
    assert r.rc == 0, r
    assert "checked-and-running" in r.stdout


@pytest.mark.parametrize("layout", ["no_mount_namespace", "joined_mount_namespace", "bundle_as_root"])
def test_check_accepts_the_mount_namespace_layouts_create_runs(rt, make_bundle, new_id, layout):
    # Issue 18: no mount namespace (the runtime's is shared), one joined by path, root.path ".".
    bundle = make_bundle(args=["sh", "-c", "echo ran"])
    if layout == "no_mount_namespace":
        bundle.edit(lambda c: c["linux"].update(namespaces=[n for n in c["linux"]["namespaces"] if n["type"] != "mount"]))
    elif layout == "joined_mount_namespace":
        bundle.edit(lambda c: [n.update(path="/proc/self/ns/mnt") for n in c["linux"]["namespaces"] if n["type"] == "mount"])
    else:
        for name in os.listdir(bundle.rootfs):
            os.rename(os.path.join(bundle.rootfs, name), os.path.join(bundle.path, name))
        os.rmdir(bundle.rootfs)
        bundle.edit(lambda c: c["root"].update(path="."))
    r = check(rt, bundle)
    assert r.rc == 0 and r.stdout == "0 errors, 0 warnings: this bundle would run here\n", r
    if layout == "joined_mount_namespace":
        return  # /proc/self/ns/mnt is the runtime's own: running it would set the host's root up
    r = rt.run(new_id(), bundle)
    assert r.rc == 0 and r.stdout == "ran\n", r


def test_a_warning_alone_still_runs(rt, make_bundle, new_id):
    bundle = make_bundle(args=["true"], edit=lambda c: c["linux"].update(seccomp={
        "defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["no_such_syscall"], "action": "SCMP_ACT_ERRNO"}]}))
    r = check(rt, bundle, "--format", "json")
    assert r.rc == 0, r
    doc = json.loads(r.stdout)
    assert [f["severity"] for f in doc["findings"]] == ["warning"], doc
    assert doc["summary"]["ok"] is True
    assert rt.run(new_id(), bundle).rc == 0


def test_what_create_refuses_check_refuses_too(rt, make_bundle, new_id, tmp_path):
    """check ends with the planner create calls: a fault no rule of check's own looks for (an
    idmap mount without mappings) is reported at its field, and create refuses the same."""
    source = tmp_path / "data"
    source.mkdir()
    bundle = make_bundle(args=["true"], edit=lambda c: c["mounts"].append(
        {"destination": "/data", "type": "bind", "source": str(source), "options": ["rbind", "idmap"]}))
    before = set(host_mountinfo())
    r = check(rt, bundle, "--format", "json")
    assert r.rc == 1, r
    doc = json.loads(r.stdout)
    assert [(f["severity"], f["path"]) for f in doc["findings"]] == [("error", ".mounts[7].uidMappings")], doc
    assert "needs uid and gid mappings" in doc["findings"][0]["message"]
    assert_changed_nothing(rt, bundle, before)
    r = rt.run(new_id(), bundle)
    assert r.rc != 0 and ".mounts[7].uidMappings" in r.stderr, r


def test_check_reports_every_config_error_not_just_the_first(rt, make_bundle):
    # Type errors in independent parts: each one named, where create stops at the first.
    def edit(c):
        c["ociVersion"] = "9.0.0"
        c["process"]["user"]["uid"] = "0"
        c["process"]["env"].append("NOEQUALS")
        c["mounts"][0]["destination"] = "proc"
        c["linux"]["resources"]["memory"] = {"limit": "lots"}
    bundle = make_bundle(edit=edit)
    doc = json.loads(check(rt, bundle, "--format", "json").stdout)
    paths = [f["path"] for f in doc["findings"]]
    for p in (".ociVersion", ".process.user.uid", ".process.env[2]", ".mounts[0].destination",
              ".linux.resources.memory.limit"):
        assert p in paths, (p, paths)
    r = rt.cli("create", "--bundle", bundle, rt.new_id())
    assert r.rc == 1 and len(r.err_lines) == 1 and ".ociVersion" in r.err_lines[0], r


def test_check_without_a_usable_config(rt, make_bundle, tmp_path):
    bundle = make_bundle()
    with open(bundle.config_path, "w") as f:
        f.write('{"ociVersion": "1.2.0",\n  "process": ')
    r = check(rt, bundle, "--format", "json")
    assert r.rc == 1, r
    (finding,) = json.loads(r.stdout)["findings"]
    assert finding["path"] == "config.json" and "line 2" in finding["message"] and finding["hint"], finding
    os.remove(bundle.config_path)
    r = check(rt, bundle)
    assert r.rc == 1 and "config.json" in r.stdout and "crun-lite spec" in r.stdout, r
    r = check(rt, str(tmp_path / "no-such-bundle"))
    assert r.rc == 1 and "no-such-bundle" in r.stdout, r


def test_check_missing_rootfs_and_a_file_as_cwd(rt, make_bundle):
    bundle = make_bundle(edit=lambda c: c["process"].update(cwd="/bin/busybox"))
    doc = json.loads(check(rt, bundle, "--format", "json").stdout)
    assert [f["path"] for f in doc["findings"]] == [".process.cwd"], doc
    bundle.edit(lambda c: c["root"].update(path="no-such-rootfs"))
    doc = json.loads(check(rt, bundle, "--format", "json").stdout)
    assert [f["path"] for f in doc["findings"]] == [".root.path"], doc
    assert "no-such-rootfs" in doc["findings"][0]["message"]


def test_check_names_a_controller_the_host_lacks(rt, make_bundle):
    # hugetlb: present on some hosts, not on others; either check agrees with create.
    bundle = make_bundle(args=["true"], edit=lambda c: c["linux"]["resources"].update(
        hugepageLimits=[{"pageSize": "2MB", "limit": 2097152}]))
    r = check(rt, bundle, "--format", "json")
    doc = json.loads(r.stdout)
    cid = rt.new_id()
    created = rt.cli("create", "--bundle", bundle, cid)
    if doc["summary"]["ok"]:
        assert created.rc == 0, (doc, created)
        rt.remember_pid(cid)
        assert rt.delete(cid, force=True).rc == 0
    else:
        assert created.rc == 1, (doc, created)
        assert any(f["path"].startswith(".linux.resources.hugepageLimits") and "hugetlb" in f["message"]
                   for f in doc["findings"]), doc
        assert cgroup_dirs_named(cid) == []


def test_check_with_rootless_mappings(rt, make_bundle):
    # As an unprivileged user would run it: a mapping beyond one's own id needs /etc/subuid.
    def edit(c):
        c["linux"]["namespaces"].append({"type": "user"})
        c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 4294967000, "size": 1000}]
        c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 0, "size": 1}]
        c["process"]["user"]["uid"] = 5000
    bundle = make_bundle(edit=edit)
    doc = json.loads(check(rt, bundle, "--format", "json").stdout)
    paths = [f["path"] for f in doc["findings"]]
    assert ".linux.uidMappings[0]" in paths, doc     # past the last id
    assert ".process.user.uid" in paths, doc         # not mapped


def test_check_takes_the_spec_1_3_placement_fields(rt, make_bundle, new_id):
    """netDevices, memoryPolicy and execCPUAffinity are checked against this host: every host
    interface named, memory nodes and CPUs online. Every fault is reported; the same fields,
    right, pass and run."""
    def faulty(c):
        c["linux"]["netDevices"] = {"crlnosuch1": {}, "crlnosuch2": {"name": "eth1"}}
        c["linux"]["memoryPolicy"] = {"mode": "MPOL_BIND", "nodes": "1000"}
        c["process"]["execCPUAffinity"] = {"initial": "4000", "final": "0"}
    doc = json.loads(check(rt, make_bundle(args=["true"], edit=faulty), "--format", "json").stdout)
    paths = {f["path"]: f for f in doc["findings"]}
    for p in (".linux.netDevices.crlnosuch1", ".linux.netDevices.crlnosuch2", ".linux.memoryPolicy.nodes",
              ".process.execCPUAffinity.initial"):
        assert p in paths and paths[p]["severity"] == "error", (p, doc)
    assert ".process.execCPUAffinity.final" not in paths, doc
    assert doc["summary"]["ok"] is False

    def right(c):
        c["linux"]["memoryPolicy"] = {"mode": "MPOL_INTERLEAVE", "nodes": "0"}
        c["process"]["execCPUAffinity"] = {"initial": "0", "final": "0"}
    bundle = make_bundle(args=["true"], edit=right)
    r = check(rt, bundle)
    assert r.rc == 0, r
    assert rt.run(new_id(), bundle).rc == 0
