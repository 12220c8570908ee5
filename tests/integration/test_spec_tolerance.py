"""What the runtime-spec tells a runtime to go on without, and what runc and crun honour: filesystem
options a bind mount ignores, the "remount" option, any 1.x ociVersion, unknown capabilities,
linux.mountLabel without SELinux, linux.personality.flags, a relative mount destination, user.*
sysctls in a user namespace; and what crun-lite says about itself (--version, spec, features,
check). The refusals that stay are in test_bad_bundles.py."""

import json
import os
import re

import pytest

from helpers import CAP_NUMBERS, cap_mask, parse_mountinfo


def warnings_of(rt, r):
    """The warning lines a command wrote on stderr: runc's `level=warning msg=...`, crun-lite's
    `crun-lite: ...` (its log line on stderr, without a level)."""
    if rt.name == "runc":
        return [l for l in r.err_lines if "level=warning" in l]
    return [l for l in r.err_lines if l.startswith("crun-lite: ")]


def mount_at(text, path):
    found = [m for m in parse_mountinfo(text) if m["mount_point"] == path]
    assert found, text
    return found[-1]


DEFAULT_CAPS = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]  # `crun-lite spec`'s three


# ------------------------------------------------------------------------------------------------
# Mount options


# runc 1.3.6 refuses this ("bind mounts cannot have any filesystem-specific options applied", since
# runc 1.2; Debian's runc 1.1.5 mounts it); crun passes them to mount(2) as data, which the kernel
# ignores for MS_BIND, as the runtime-spec says options a runtime does not know go: crun-lite alone.
def test_bind_mount_with_filesystem_options_mounts_and_warns(each_rt, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "file").write_text("bound")
    os.chmod(tmp_path, 0o755)
    bundle = each_rt.make_bundle(args=["sh", "-c", "cat /data/file; grep ' /data ' /proc/self/mountinfo"], edit=lambda c: c[
        "mounts"].append({"destination": "/data", "type": "bind", "source": str(src),
                          "options": ["rbind", "mode=755", "ro", "size=1k"]}))
    r = each_rt.run(each_rt.new_id(), bundle)
    assert r.rc == 0, r
    assert r.stdout.startswith("bound"), r
    m = mount_at(r.stdout[len("bound"):], "/data")
    assert "ro" in m["options"], m  # the per-mount options still apply
    warned = warnings_of(each_rt, r)
    assert any(".mounts[7].options[1]" in l and "mode=755" in l for l in warned), r
    assert any(".mounts[7].options[3]" in l and "size=1k" in l for l in warned), r


# The runtime-spec's mount-options table: "remount" is MS_REMOUNT, which runc and crun pass to
# mount(2) at the destination, so it changes the mount an earlier entry made there.
@pytest.mark.runc_too(since="1.3.0")
def test_remount_changes_the_tmpfs_an_earlier_entry_made(each_rt):
    def edit(c):
        c["mounts"].append({"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "size=1m"]})
        c["mounts"].append({"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["remount", "ro", "size=2m"]})
    bundle = each_rt.make_bundle(args=["sh", "-c", "grep ' /scratch ' /proc/self/mountinfo; touch /scratch/x && echo wrote"],
                                 edit=edit)
    r = each_rt.run(each_rt.new_id(), bundle)
    assert r.rc != 0 or "wrote" not in r.stdout, r
    mounts = [m for m in parse_mountinfo(r.stdout) if m["mount_point"] == "/scratch"]
    assert len(mounts) == 1, r  # changed, not mounted again
    assert "ro" in mounts[0]["options"] and "size=2048k" in mounts[0]["super"], mounts


@pytest.mark.runc_too(since="1.3.0")
def test_remount_makes_an_earlier_bind_read_only(each_rt, tmp_path):
    os.chmod(tmp_path, 0o755)

    def edit(c):
        c["mounts"].append({"destination": "/data", "type": "bind", "source": str(tmp_path), "options": ["rbind"]})
        c["mounts"].append({"destination": "/data", "options": ["bind", "remount", "ro"]})
    bundle = each_rt.make_bundle(args=["sh", "-c", "grep ' /data ' /proc/self/mountinfo; touch /data/x && echo wrote"],
                                 edit=edit)
    r = each_rt.run(each_rt.new_id(), bundle)
    assert "wrote" not in r.stdout and not (tmp_path / "x").exists(), r
    mounts = [m for m in parse_mountinfo(r.stdout) if m["mount_point"] == "/data"]
    assert len(mounts) == 1 and "ro" in mounts[0]["options"], r


# ------------------------------------------------------------------------------------------------
# ociVersion and what crun-lite says it implements


@pytest.mark.runc_too(since="1.3.0")
@pytest.mark.parametrize("version", ["1.4.0", "1.9.1"])
def test_a_newer_minor_oci_version_runs(each_rt, version):
    bundle = each_rt.make_bundle(args=["echo", "ran"], edit=lambda c: c.update(ociVersion=version))
    r = each_rt.run(each_rt.new_id(), bundle)
    assert r.rc == 0 and r.stdout.strip() == "ran", r
    if each_rt.name == "crun-lite":
        assert r.err_lines == [], r  # no warning: a debug line only
        r = each_rt.cli("--debug", "run", "--bundle", bundle, each_rt.new_id())
        assert r.rc == 0, r
        assert any(".ociVersion" in l and version in l for l in r.err_lines), r


def test_version_spec_and_features_say_one_spec_version(rt, tmp_path):
    m = re.search(r"^spec: (\S+)$", rt.cli("--version", raw=True).stdout, re.M)
    assert m, "no spec line in --version"
    version = m.group(1)
    features = json.loads(rt.cli("features").stdout)
    assert features["ociVersionMax"] == version, (features["ociVersionMax"], version)
    assert rt.cli("spec", "--bundle", tmp_path).rc == 0
    assert json.loads((tmp_path / "config.json").read_text())["ociVersion"] == version
    bundle = rt.make_bundle(args=["sleep", "10"])
    cid = rt.new_id()
    rt.create(cid, bundle)
    assert rt.state(cid)["ociVersion"] == version
    assert version == "1.3.0"


# ------------------------------------------------------------------------------------------------
# Capabilities


def add_caps(c, *names):
    for s in ("bounding", "effective", "permitted"):
        c["process"]["capabilities"][s] += list(names)


# The runtime-spec: a capability the runtime does not know or the kernel lacks SHOULD NOT fail
# the container; runc warns and leaves it out.
@pytest.mark.runc_too(since="1.3.0")
def test_unknown_capabilities_are_left_out_with_a_warning(each_rt):
    bundle = each_rt.make_bundle(args=["grep", "^Cap", "/proc/self/status"],
                                 edit=lambda c: add_caps(c, "CAP_FOO", "CAP_SYSLOG_V2"))
    r = each_rt.run(each_rt.new_id(), bundle)
    assert r.rc == 0, r
    fields = dict(l.split(":\t") for l in r.stdout.splitlines())
    want = cap_mask(DEFAULT_CAPS)
    assert int(fields["CapBnd"], 16) == want and int(fields["CapEff"], 16) == want, fields
    assert any("CAP_FOO" in l for l in warnings_of(each_rt, r)), r
    if each_rt.name == "crun-lite":
        assert any(l.endswith('.process.capabilities.bounding[3]: unknown capability "CAP_FOO", ignored') for l in r.err_lines), r


@pytest.mark.runc_too(since="1.3.0")
def test_exec_with_an_unknown_capability_runs(each_rt, tmp_path):
    bundle = each_rt.make_bundle(args=["sleep", "30"])
    cid = each_rt.new_id()
    each_rt.create(cid, bundle)
    each_rt.start(cid)
    r = each_rt.cli("exec", "--cap", "CAP_FOO", "--cap", "CAP_NET_ADMIN", cid, "grep", "^CapBnd", "/proc/self/status")
    assert r.rc == 0, r
    assert int(r.stdout.split()[1], 16) == cap_mask(DEFAULT_CAPS + ["CAP_NET_ADMIN"]), r
    assert any("CAP_FOO" in l for l in warnings_of(each_rt, r)), r
    process = {"user": {"uid": 0, "gid": 0}, "args": ["/bin/grep", "^CapEff", "/proc/self/status"], "cwd": "/", "env": ["PATH=/bin"],
               "capabilities": {s: ["CAP_KILL", "CAP_NOPE"] for s in ("bounding", "effective", "permitted")}}
    (tmp_path / "process.json").write_text(json.dumps(process))
    r = each_rt.cli("exec", "--process", tmp_path / "process.json", cid)
    assert r.rc == 0, r
    assert int(r.stdout.split()[1], 16) == 1 << CAP_NUMBERS["CAP_KILL"], r
    assert any("CAP_NOPE" in l for l in warnings_of(each_rt, r)), r
    assert each_rt.delete(cid, force=True).rc == 0


def test_a_malformed_capability_name_is_still_refused(rt):
    # runc warns about any name it does not know; crun-lite keeps a typo of the form an error.
    bundle = rt.make_bundle(args=["true"], edit=lambda c: add_caps(c, "cap_kill"))
    r = rt.run(rt.new_id(), bundle)
    assert r.rc == 1 and len(r.err_lines) == 1 and ".process.capabilities.bounding[3]" in r.err_lines[0], r
    bundle = rt.make_bundle(args=["sleep", "30"])
    cid = rt.new_id()
    rt.create(cid, bundle)
    r = rt.cli("exec", "--cap", "NET_ADMIN", cid, "true")
    assert r.rc != 0 and len(r.err_lines) == 1 and r.err_lines[0].startswith("crun-lite: --cap: malformed") \
        and "NET_ADMIN" in r.err_lines[0], r


# ------------------------------------------------------------------------------------------------
# mountLabel, personality flags, relative destinations, user.* sysctls


# crun ignores linux.mountLabel on a host without SELinux; runc 1.3.6 passes context= to the
# filesystems and fails here, so crun-lite alone.
def test_mount_label_without_selinux_is_ignored(rt):
    if os.path.exists("/sys/fs/selinux/enforce"):
        pytest.skip("SELinux is enabled here: the label is applied, not ignored")
    bundle = rt.make_bundle(args=["sh", "-c", "grep ' /dev ' /proc/self/mountinfo"],
                            edit=lambda c: c["linux"].update(mountLabel="system_u:object_r:container_file_t:s0"))
    r = rt.run(rt.new_id(), bundle)
    assert r.rc == 0, r
    assert "context=" not in r.stdout, r


@pytest.mark.runc_too(since="1.3.0")
def test_personality_flags_are_ignored_with_a_warning(each_rt):
    bundle = each_rt.make_bundle(args=["sh", "-c", "uname -m"], edit=lambda c: c["linux"].update(
        personality={"domain": "LINUX32", "flags": ["ADDR_NO_RANDOMIZE"]}))
    r = each_rt.run(each_rt.new_id(), bundle)
    assert r.rc == 0, r
    assert r.stdout.strip() in ("i686", "i386", "armv7l", "armv8l"), r  # the domain still applies
    assert any("personality" in l for l in warnings_of(each_rt, r)), r
    if each_rt.name == "crun-lite":
        assert any(".linux.personality.flags" in l for l in r.err_lines), r


# Deprecated, allowed by the runtime-spec: runc warns and takes it against the container's /.
@pytest.mark.runc_too(since="1.3.0")
def test_a_relative_mount_destination_is_resolved_against_root(each_rt):
    bundle = each_rt.make_bundle(args=["sh", "-c", "grep ' /scratch ' /proc/self/mountinfo"], edit=lambda c: c[
        "mounts"].append({"destination": "scratch", "type": "tmpfs", "source": "tmpfs", "options": ["size=1k"]}))
    r = each_rt.run(each_rt.new_id(), bundle)
    assert r.rc == 0, r
    assert mount_at(r.stdout, "/scratch")["fstype"] == "tmpfs", r
    assert warnings_of(each_rt, r), r
    if each_rt.name == "crun-lite":
        assert any(".mounts[7].destination" in l and "deprecated" in l for l in r.err_lines), r


def with_user_namespace(c):
    c["linux"]["namespaces"].append({"type": "user"})
    c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]


# user.* sysctls (the ucount limits) belong to the user namespace: runc >= 1.4 allows them with a
# new one (runc 1.3.6 refuses them), so crun-lite alone here.
def test_user_sysctls_are_set_in_the_containers_user_namespace(rt):
    with open("/proc/sys/user/max_user_namespaces") as f:
        host_before = f.read()

    def edit(c):
        with_user_namespace(c)
        c["linux"]["sysctl"] = {"user.max_user_namespaces": "7", "user/max_mnt_namespaces": "9"}
    bundle = rt.make_bundle(args=["cat", "/proc/sys/user/max_user_namespaces", "/proc/sys/user/max_mnt_namespaces"],
                            edit=edit)
    r = rt.run(rt.new_id(), bundle)
    assert r.rc == 0, r
    assert r.stdout.split() == ["7", "9"], r
    with open("/proc/sys/user/max_user_namespaces") as f:
        assert f.read() == host_before


# ------------------------------------------------------------------------------------------------
# features and check


def test_features_lists_every_mount_option_and_rdma(rt):
    features = json.loads(rt.cli("features").stdout)
    assert {"tmpcopyup", "remount", "idmap", "ridmap", "rbind", "rro"} <= set(features["mountOptions"]), features
    assert features["linux"]["cgroup"]["rdma"] is True


def test_check_warns_where_create_goes_on(rt):
    def edit(c):
        add_caps(c, "CAP_FOO")
        c["linux"]["personality"] = {"domain": "LINUX", "flags": ["ADDR_NO_RANDOMIZE"]}
        c["linux"]["mountLabel"] = "system_u:object_r:container_file_t:s0"
        c["mounts"].append({"destination": "scratch", "type": "tmpfs", "source": "tmpfs"})
        c["mounts"].append({"destination": "/data", "type": "bind", "source": "/tmp", "options": ["rbind", "mode=755"]})
    bundle = rt.make_bundle(args=["true"], edit=edit)
    r = rt.cli("check", "--bundle", bundle, "--format", "json")
    assert r.rc == 0, r
    doc = json.loads(r.stdout)
    found = {f["path"]: f["severity"] for f in doc["findings"]}
    expected = [".process.capabilities.bounding[3]", ".process.capabilities.effective[3]", ".linux.personality.flags",
                ".mounts[7].destination", ".mounts[8].options[1]"]
    if not os.path.exists("/sys/fs/selinux/enforce"):
        expected.append(".linux.mountLabel")
    for path in expected:
        assert found.get(path) == "warning", (path, doc)
    assert doc["summary"]["errors"] == 0, doc
    r = rt.run(rt.new_id(), bundle)
    assert r.rc == 0, r
