"""What the container's process sees, asserted from its own output: namespaces, mounts, masks,
identity, capabilities, limits, devices, descriptors; and `list`/`state` as runc prints them."""

import json
import os
import re
import subprocess
import uuid

import pytest

from helpers import (CAP_NUMBERS, TEST_ROOT_BASE, cap_mask, cgroup_dirs_at, cgroup_dirs_named, cgroup_v2_only,
                     host_mountinfo, mounts_mentioning, parse_mountinfo, process_alive, run_cmd, status_fields, wait_until)

LOOP = "while :; do sleep 0.1; done"
STATE_FIELDS = {"ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "owner"}


def inside(rt, script, edit=None, expect_rc=0, flags=(), bundle=None):
    """Runs `sh -c script` in the foreground and returns its stdout."""
    if bundle is None:
        bundle = rt.make_bundle(args=["sh", "-c", script], edit=edit)
    r = rt.run(rt.new_id(), bundle, *flags)
    assert r.rc == expect_rc, r
    return r.stdout


def drop_namespace(cfg, kind):
    cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"] if n["type"] != kind]


def set_namespace(cfg, kind, path=None):
    drop_namespace(cfg, kind)
    cfg["linux"]["namespaces"].append({"type": kind, **({"path": path} if path else {})})


def mounts_by_point(text):
    return {m["mount_point"]: m for m in parse_mountinfo(text)}


# ------------------------------------------------------------------------------------------------
# Namespaces and names


def test_process_is_pid_1(rt):
    assert inside(rt, "echo $$") == "1\n"


def test_pid_namespace_hides_host_processes(rt):
    out = inside(rt, "ls /proc | grep -E '^[0-9]+$' | sort -n | tr '\\n' ' '")
    pids = [int(p) for p in out.split()]
    # sh (pid 1) and the pipeline's own processes only
    assert pids and pids[0] == 1 and max(pids) < 10, out


def test_default_hostname(rt):
    assert inside(rt, "hostname") == "crun-lite\n"


def test_configured_hostname_and_domainname(rt):
    out = inside(rt, "hostname; cat /proc/sys/kernel/domainname",
                 edit=lambda cfg: cfg.update(hostname="box-1234", domainname="example.org"))
    assert out == "box-1234\nexample.org\n"


def test_host_hostname_unchanged(rt):
    with open("/proc/sys/kernel/hostname") as f:
        before = f.read()
    inside(rt, "hostname", edit=lambda cfg: cfg.update(hostname="changed-inside"))
    with open("/proc/sys/kernel/hostname") as f:
        assert f.read() == before


def test_namespaces_differ_from_the_hosts(rt):
    out = inside(rt, "for n in ipc mnt net pid uts cgroup; do readlink /proc/self/ns/$n; done")
    inside_ns = out.split()
    host_ns = [os.readlink(f"/proc/self/ns/{n}") for n in ["ipc", "mnt", "net", "pid", "uts", "cgroup"]]
    assert len(inside_ns) == 6
    for a, b in zip(inside_ns, host_ns):
        assert a != b, (a, b)


def test_without_a_namespace_the_hosts_is_shared(rt):
    out = inside(rt, "readlink /proc/self/ns/ipc", edit=lambda cfg: drop_namespace(cfg, "ipc"))
    assert out.strip() == os.readlink("/proc/self/ns/ipc")


def test_cgroup_namespace_roots_the_view(rt):
    out = inside(rt, "cat /proc/self/cgroup")
    for line in out.splitlines():
        assert line.split(":", 2)[2] == "/", out


def test_container_is_placed_in_its_cgroups(rt, make_bundle, new_id):
    bundle = make_bundle(args=["sh", "-c", LOOP])
    cid = new_id()
    assert rt.run(cid, bundle, "-d").rc == 0
    pid = rt.state(cid)["pid"]
    with open(f"/proc/{pid}/cgroup") as f:
        lines = f.read().splitlines()
    assert lines
    for line in lines:
        assert line.split(":", 2)[2] == f"/crun-lite-{cid}", lines
    dirs = cgroup_dirs_named(cid)
    assert dirs
    for d in dirs:
        with open(os.path.join(d, "cgroup.procs")) as f:
            assert str(pid) in f.read().split(), d
    devices = f"/sys/fs/cgroup/devices/crun-lite-{cid}/devices.list"
    if os.path.exists("/sys/fs/cgroup/devices"):  # v1 device controller (this project's hosts)
        # The device rules: deny-all from the config, then the standard devices.
        with open(devices) as f:
            rules = f.read().split("\n")
        assert "c 1:3 rwm" in rules and "a *:* rwm" not in rules, rules
    assert rt.delete(cid, force=True).rc == 0
    assert cgroup_dirs_named(cid) == []


def test_cgroups_path(rt, make_bundle, new_id):
    name = f"crun-lite-it-{uuid.uuid4().hex[:8]}"
    bundle = make_bundle(args=["sh", "-c", LOOP],
                         edit=lambda cfg: cfg["linux"].update(cgroupsPath=f"/{name}/inner"))
    cid = new_id()

    def remove_parents():  # runc, too, leaves the parents of cgroupsPath in place
        for d in cgroup_dirs_at(f"/{name}/inner") + cgroup_dirs_at(f"/{name}"):
            os.rmdir(d)

    rt.cleanups.append(remove_parents)
    assert rt.run(cid, bundle, "-d").rc == 0
    pid = rt.state(cid)["pid"]
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f.read().splitlines():
            assert line.split(":", 2)[2] == f"/{name}/inner", line
    assert cgroup_dirs_at(f"/{name}/inner")
    assert rt.delete(cid, force=True).rc == 0
    assert cgroup_dirs_at(f"/{name}/inner") == []


# ------------------------------------------------------------------------------------------------
# Mounts, masks, read-only


def test_proc_sys_dev_mounts(rt):
    m = mounts_by_point(inside(rt, "cat /proc/self/mountinfo"))
    assert m["/proc"]["fstype"] == "proc"
    assert m["/sys"]["fstype"] == "sysfs"
    assert "ro" in m["/sys"]["options"]
    for opt in ("nosuid", "nodev", "noexec"):
        assert opt in m["/sys"]["options"], m["/sys"]
    assert m["/dev"]["fstype"] == "tmpfs" and "nosuid" in m["/dev"]["options"]
    assert m["/dev/pts"]["fstype"] == "devpts"
    assert m["/dev/shm"]["fstype"] == "tmpfs"
    assert m["/dev/mqueue"]["fstype"] == "mqueue"
    assert "ro" in m["/sys/fs/cgroup"]["options"]
    assert "ro" in m["/"]["options"], m["/"]
    if cgroup_v2_only():  # the cgroup2 hierarchy itself
        assert m["/sys/fs/cgroup"]["fstype"] == "cgroup2", m["/sys/fs/cgroup"]
    else:  # a tmpfs of hierarchies
        cgroup_mounts = [p for p in m if p.startswith("/sys/fs/cgroup/")]
        assert any(m[p]["fstype"] in ("cgroup", "cgroup2") for p in cgroup_mounts), cgroup_mounts


def test_sys_is_read_only(rt):
    out = inside(rt, "echo x > /sys/kernel/notes 2>/dev/null && echo writable || echo refused; "
                     "touch /sys/newfile 2>/dev/null && echo writable || echo refused")
    assert out == "refused\nrefused\n"


def test_masked_paths(rt):
    with open("/proc/timer_list") as f:
        assert f.read(), "the host's /proc/timer_list is not empty"
    script = ("if [ -e /proc/kcore ]; then cat /proc/kcore 2>/dev/null | wc -c; else echo 0; fi; "
              "cat /proc/timer_list | wc -c; cat /proc/keys | wc -c; "
              "ls -A /proc/acpi | wc -l; ls -A /sys/firmware | wc -l; "
              "touch /proc/acpi/x 2>/dev/null && echo writable || echo refused; "
              "cat /proc/self/mountinfo")
    out = inside(rt, script).splitlines()
    assert [l.strip() for l in out[:5]] == ["0", "0", "0", "0", "0"], out[:6]
    assert out[5] == "refused"
    m = mounts_by_point("\n".join(out[6:]))
    for p in ("/proc/timer_list", "/proc/keys", "/proc/acpi", "/sys/firmware"):
        assert p in m, f"{p} is not masked"
    if os.path.exists("/proc/kcore"):
        assert "/proc/kcore" in m


def test_custom_masked_path_file_and_directory(rt, make_bundle):
    # Masked directories share one read-only tmpfs: each is a copy of the first one's mount.
    def edit(cfg):
        cfg["linux"]["maskedPaths"] = ["/etc/secret", "/etc/secretdir", "/does/not/exist", "/etc/otherdir"]

    bundle = make_bundle(args=["sh", "-c", "cat /etc/secret | wc -c; ls -A /etc/secretdir | wc -l; "
                                           "ls -A /etc/otherdir | wc -l; touch /etc/otherdir/new 2>/dev/null || "
                                           "echo refused; grep -c ' /etc/[a-z]*dir ro,' /proc/self/mountinfo"],
                         edit=edit)
    with open(os.path.join(bundle.rootfs, "etc/secret"), "w") as f:
        f.write("password")
    for d in ("secretdir", "otherdir"):
        os.makedirs(os.path.join(bundle.rootfs, "etc", d))
        with open(os.path.join(bundle.rootfs, "etc", d, "key"), "w") as f:
            f.write("key")
    out = inside(rt, None, bundle=bundle)
    assert [l.strip() for l in out.splitlines()] == ["0", "0", "0", "refused", "2"], out


def test_readonly_paths(rt):
    def edit(cfg):
        # Give the process what it takes to write there, so only the read-only mount stops it.
        caps = cfg["process"]["capabilities"]
        for s in ("bounding", "effective", "permitted"):
            caps[s] += ["CAP_SYS_ADMIN", "CAP_NET_ADMIN"]

    with open("/proc/sys/net/ipv4/ip_default_ttl") as f:
        host_ttl = f.read()
    out = inside(rt, "echo 99 > /proc/sys/net/ipv4/ip_default_ttl 2>/dev/null && echo writable || echo refused; "
                     "cat /proc/self/mountinfo", edit=edit)
    lines = out.splitlines()
    assert lines[0] == "refused", out
    m = mounts_by_point("\n".join(lines[1:]))
    for p in ("/proc/sys", "/proc/bus", "/proc/fs", "/proc/irq"):
        if os.path.exists(p):
            assert p in m and "ro" in m[p]["options"], (p, m.get(p))
    with open("/proc/sys/net/ipv4/ip_default_ttl") as f:
        assert f.read() == host_ttl


def test_readonly_root(rt):
    out = inside(rt, "touch /x 2>/dev/null && echo writable || echo refused; "
                     "mkdir /newdir 2>/dev/null && echo writable || echo refused; "
                     "touch /dev/shm/ok && echo shm-writable")
    assert out == "refused\nrefused\nshm-writable\n"


def test_writable_root(rt, make_bundle):
    bundle = make_bundle(args=["sh", "-c", "echo hello > /x && cat /x"],
                         edit=lambda cfg: cfg["root"].update(readonly=False))
    out = inside(rt, None, bundle=bundle)
    assert out == "hello\n"
    with open(os.path.join(bundle.rootfs, "x")) as f:
        assert f.read() == "hello\n"


def test_absolute_root_path(rt, make_bundle):
    bundle = make_bundle(args=["sh", "-c", "echo abs"])
    bundle.edit(lambda cfg: cfg["root"].update(path=bundle.rootfs))
    assert inside(rt, None, bundle=bundle) == "abs\n"


def test_bind_mount_read_only_and_read_write(rt, make_bundle):
    bundle = make_bundle()
    ro = os.path.join(bundle.path, "ro-src")
    rw = os.path.join(bundle.path, "rw-src")
    os.mkdir(ro)
    os.mkdir(rw)
    with open(os.path.join(ro, "data"), "w") as f:
        f.write("from-host")

    def edit(cfg):
        cfg["mounts"] += [
            {"destination": "/data/ro", "type": "bind", "source": ro, "options": ["bind", "ro"]},
            {"destination": "/data/rw", "type": "bind", "source": rw, "options": ["rbind", "rw"]},
            {"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m", "mode=700"]},
        ]
        cfg["process"]["args"] = ["sh", "-c",
                                  "cat /data/ro/data; echo; touch /data/ro/new 2>/dev/null && echo writable || echo refused; "
                                  "echo written > /data/rw/out; stat -c '%a' /scratch; cat /proc/self/mountinfo"]

    bundle.edit(edit)
    out = inside(rt, None, bundle=bundle).splitlines()
    assert out[:3] == ["from-host", "refused", "700"], out
    m = mounts_by_point("\n".join(out[3:]))
    assert m["/scratch"]["fstype"] == "tmpfs" and "size=1024k" in m["/scratch"]["super"], m["/scratch"]
    assert not os.path.exists(os.path.join(ro, "new"))
    with open(os.path.join(rw, "out")) as f:
        assert f.read() == "written\n"


def test_relative_bind_source_is_relative_to_the_bundle(rt, make_bundle):
    bundle = make_bundle(args=["sh", "-c", "cat /rel/file"])
    os.mkdir(os.path.join(bundle.path, "reldir"))
    with open(os.path.join(bundle.path, "reldir", "file"), "w") as f:
        f.write("relative-ok")
    bundle.edit(lambda cfg: cfg["mounts"].append(
        {"destination": "/rel", "type": "bind", "source": "reldir", "options": ["rbind", "ro"]}))
    assert inside(rt, None, bundle=bundle) == "relative-ok"


@pytest.mark.parametrize("link", ["../run", "/run"])
def test_mount_destination_through_a_dangling_symlink_of_the_image(rt, make_bundle, link):
    # Images commonly ship /var/run -> /run (or ../run) without /run itself. runc resolves the
    # destination inside the rootfs (securejoin) and creates what is missing: /run/app here.
    bundle = make_bundle(args=["sh", "-c", "grep -c ' /run/app ' /proc/self/mountinfo; touch /var/run/app/x && echo ok"])
    os.makedirs(os.path.join(bundle.rootfs, "var"))
    os.symlink(link, os.path.join(bundle.rootfs, "var", "run"))
    bundle.edit(lambda cfg: cfg["mounts"].append({"destination": "/var/run/app", "type": "tmpfs", "source": "tmpfs"}))
    assert inside(rt, None, bundle=bundle) == "1\nok\n"
    assert os.path.isdir(os.path.join(bundle.rootfs, "run", "app"))


@pytest.mark.parametrize("propagation", ["private", "rprivate", "slave", "rslave", "shared", "rshared"])
def test_rootfs_propagation(rt, make_bundle, propagation):
    bundle = make_bundle(args=["sh", "-c", "cat /proc/self/mountinfo"],
                         edit=lambda cfg: cfg["linux"].update(rootfsPropagation=propagation))
    out = inside(rt, None, bundle=bundle)
    root = [l for l in out.splitlines() if l.split()[4] == "/"]
    assert len(root) == 1, out
    optional = root[0].split(" - ")[0].split()[6:]
    if "shared" in propagation:
        assert any(o.startswith("shared:") for o in optional), root
    else:
        assert not any(o.startswith("shared:") for o in optional), root


def bundle_directory_as_root(bundle):
    """root.path "." : the bundle directory itself is the root filesystem (its config.json too)."""
    for name in os.listdir(bundle.rootfs):
        os.rename(os.path.join(bundle.rootfs, name), os.path.join(bundle.path, name))
    os.rmdir(bundle.rootfs)
    bundle.edit(lambda cfg: cfg["root"].update(path="."))


@pytest.mark.runc_too(since="1.3.0")
@pytest.mark.parametrize("propagation", ["shared", "rshared"])
def test_bundle_directory_as_root_with_shared_propagation(each_rt, propagation):
    # "<bundle>/." must be found as the bundle's own path when looking for the mount holding the
    # root, which pivot_root wants private (it failed with EINVAL).
    bundle = each_rt.make_bundle(args=["sh", "-c", "test -f /config.json && echo bundle-is-root; awk '$5 == \"/\"' /proc/self/mountinfo | wc -l"],
                                 edit=lambda cfg: cfg["linux"].update(rootfsPropagation=propagation))
    bundle_directory_as_root(bundle)
    r = each_rt.run(each_rt.new_id(), bundle)
    assert r.rc == 0, r
    assert r.stdout.split() == ["bundle-is-root", "1"], r


def host_mount(rt, *args):
    """`mount ARGS...` on the host, the last argument its mount point; the test's cleanups
    unmount it (lazily, with what is below it) before the teardown looks for leftovers."""
    r = run_cmd(["mount", *args])
    assert r.rc == 0, r
    rt.cleanups.append(lambda: subprocess.run(["umount", "-l", args[-1]], timeout=10, stdout=subprocess.DEVNULL,
                                              stderr=subprocess.DEVNULL))


def with_capability(cfg, cap):
    for kind in ("bounding", "effective", "permitted"):
        cfg["process"]["capabilities"][kind].append(cap)


@pytest.mark.runc_too(since="1.3.0")
def test_rshared_volume_propagates_both_ways_with_a_rootfs_mount_point(each_rt):
    # Kubernetes' mountPropagation: Bidirectional (critest: "mount with 'rshared' should support
    # propagation from host to container and vice versa"), with the rootfs a mount of its own as
    # containerd makes it (an overlay at bundle/rootfs), shared as under systemd.
    rt = each_rt
    bundle = rt.make_bundle(args=["sh", "-c", LOOP])
    volume = os.path.join(bundle.path, "volume")
    os.mkdir(volume)
    host_mount(rt, "--bind", bundle.rootfs, bundle.rootfs)
    host_mount(rt, "--make-shared", bundle.rootfs)
    host_mount(rt, "-t", "tmpfs", "crunlite-volume", volume)
    host_mount(rt, "--make-shared", volume)
    os.mkdir(os.path.join(volume, "from-host"))
    os.mkdir(os.path.join(volume, "from-container"))

    def edit(cfg):
        cfg["linux"]["rootfsPropagation"] = "rshared"
        cfg["mounts"].append({"destination": "/volume", "type": "bind", "source": volume, "options": ["rbind", "rshared"]})
        with_capability(cfg, "CAP_SYS_ADMIN")

    bundle.edit(edit)
    cid = rt.new_id()
    assert rt.run(cid, bundle, "-d").rc == 0
    # Host to container: a mount made on the host under the volume's source after the start.
    host_mount(rt, "-t", "tmpfs", "crunlite-from-host", os.path.join(volume, "from-host"))
    open(os.path.join(volume, "from-host", "made-on-host"), "w").close()
    r = rt.cli("exec", cid, "sh", "-c", "cat /volume/from-host/made-on-host && echo seen; "
               "mount -t tmpfs crunlite-from-container /volume/from-container && touch /volume/from-container/made-inside")
    rt.cleanups.append(lambda: subprocess.run(["umount", "-l", os.path.join(volume, "from-container")], timeout=10,
                                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    assert r.rc == 0 and r.stdout == "seen\n", r
    # Container to host: the mount made inside shows on the host, with what was written into it.
    assert os.path.exists(os.path.join(volume, "from-container", "made-inside"))
    assert any(m["mount_point"] == os.path.join(volume, "from-container") for m in parse_mountinfo("\n".join(host_mountinfo())))
    assert rt.delete(cid, force=True).rc == 0


@pytest.mark.parametrize("cgroupns", [True, False])
def test_cgroup_mount_shows_the_containers_own_cgroups(rt, cgroupns):
    def edit(cfg):
        if not cgroupns:
            drop_namespace(cfg, "cgroup")

    # A v1 host has a hierarchy per controller, a v2 host one hierarchy at /sys/fs/cgroup.
    hierarchies = ["/sys/fs/cgroup"] if cgroup_v2_only() else ["/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids"]
    out = inside(rt, "".join(f"cat {h}/cgroup.procs; echo --; " for h in hierarchies) +
                 f"ls {hierarchies[0]} | grep -c '^crun-lite'; true", edit=edit)
    *procs, nested = out.split("--\n")
    for h, listed in zip(hierarchies, procs):
        assert "1" in listed.split(), (h, out)
    assert nested.strip() == "0", "the host's hierarchy is visible, not the container's cgroup"


def test_cgroup_mounts_are_the_containers_own_directories(rt):
    # The /sys/fs/cgroup/<hierarchy> mounts (v1), or /sys/fs/cgroup itself (v2): each rooted at
    # the container's cgroup ("/" seen from its cgroup namespace, as a fresh cgroup mount there
    # would be), with the config's options, and in no peer group or master of the host's.
    def cgroup_mounts(text):
        return {m["mount_point"]: m["line"] for m in parse_mountinfo(text) if m["fstype"] in ("cgroup", "cgroup2")
                and (m["mount_point"] + "/").startswith("/sys/fs/cgroup/")}

    with open("/proc/self/mountinfo") as f:
        host = cgroup_mounts(f.read())
    assert host
    lines = list(cgroup_mounts(inside(rt, "grep ' /sys/fs/cgroup' /proc/self/mountinfo")).values())
    assert sorted(l.split()[4] for l in lines) == sorted(host), (lines, sorted(host))
    for line in lines:
        fields = line.split(" - ")[0].split()
        assert fields[3] == "/", line
        assert {"ro", "nosuid", "nodev", "noexec"} <= set(fields[5].split(",")), line
        host_groups = {o.split(":")[1] for o in host[fields[4]].split(" - ")[0].split()[6:]}
        groups = {o.split(":")[1] for o in fields[6:]}
        assert not (groups & host_groups), (line, host[fields[4]])


def test_a_second_cgroup_mount_shows_the_containers_own_cgroups_too(rt):
    # Only the first "cgroup" mount comes from the runtime: a later one is made by init, which
    # must not show the host's hierarchy either (init joins its cgroups after mounting).
    def edit(cfg):
        cfg["mounts"].append({"destination": "/cg2", "type": "cgroup", "source": "cgroup",
                              "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]})

    # v1: a tmpfs of hierarchies (/cg2/memory...); v2: the cgroup2 hierarchy at /cg2 itself.
    cg = "/cg2" if cgroup_v2_only() else "/cg2/memory"
    out = inside(rt, f"ls {cg} | grep -c '^crun-lite'; grep -c ' {cg} ' /proc/self/mountinfo; "
                     f"grep -c '^1$' {cg}/cgroup.procs; true", edit=edit)
    assert out.split() == ["0", "1", "1"], out


def test_no_pivot(rt, make_bundle):
    bundle = make_bundle(args=["sh", "-c", "echo $$; ls /bin/busybox; grep -c ' / ' /proc/self/mountinfo"])
    out = inside(rt, None, bundle=bundle, flags=("--no-pivot",)).splitlines()
    assert out[0] == "1" and out[1] == "/bin/busybox", out


# ------------------------------------------------------------------------------------------------
# Capabilities and privileges


def test_default_capabilities(rt):
    f = status_fields(inside(rt, "grep -E '^(Cap|NoNewPrivs)' /proc/self/status"))
    expected = cap_mask(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"])
    assert int(f["CapBnd"], 16) == expected
    assert int(f["CapEff"], 16) == expected
    assert int(f["CapPrm"], 16) == expected
    assert int(f["CapInh"], 16) == 0
    assert int(f["CapAmb"], 16) == 0
    assert f["NoNewPrivs"] == "1"


def test_capabilities_as_root(rt):
    sets = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW", "CAP_SYS_CHROOT", "CAP_AUDIT_WRITE", "CAP_CHECKPOINT_RESTORE"]

    def edit(cfg):
        cfg["process"]["capabilities"] = {"bounding": sets, "effective": sets, "permitted": sets,
                                          "inheritable": ["CAP_KILL", "CAP_CHOWN"]}

    f = status_fields(inside(rt, "grep -E '^Cap' /proc/self/status", edit=edit))
    assert int(f["CapBnd"], 16) == cap_mask(sets), f
    assert int(f["CapEff"], 16) == cap_mask(sets), f
    assert int(f["CapPrm"], 16) == cap_mask(sets), f
    assert int(f["CapInh"], 16) == cap_mask(["CAP_KILL", "CAP_CHOWN"]), f
    assert int(f["CapAmb"], 16) == 0, f


def test_capabilities_as_non_root_with_ambient(rt):
    bounding = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID", "CAP_SYS_TIME"]
    granted = ["CAP_NET_BIND_SERVICE", "CAP_CHOWN"]

    def edit(cfg):
        cfg["process"]["user"] = {"uid": 1000, "gid": 1000}
        cfg["process"]["capabilities"] = {"bounding": bounding, "effective": granted, "permitted": granted,
                                          "inheritable": granted, "ambient": granted}

    f = status_fields(inside(rt, "grep -E '^(Cap|Uid)' /proc/self/status", edit=edit))
    assert f["Uid"].split() == ["1000"] * 4
    assert int(f["CapBnd"], 16) == cap_mask(bounding), f
    assert int(f["CapInh"], 16) == cap_mask(granted), f
    assert int(f["CapAmb"], 16) == cap_mask(granted), f
    assert int(f["CapPrm"], 16) == cap_mask(granted), f
    assert int(f["CapEff"], 16) == cap_mask(granted), f


def test_no_capabilities_at_all(rt):
    def edit(cfg):
        del cfg["process"]["capabilities"]

    f = status_fields(inside(rt, "grep -E '^Cap' /proc/self/status", edit=edit))
    for k in ("CapBnd", "CapEff", "CapPrm", "CapInh", "CapAmb"):
        assert int(f[k], 16) == 0, f


def test_every_capability_the_host_has(rt):
    # All the caller's own capabilities (a sandbox may lack some), including those above bit 31.
    with open("/proc/self/status") as f:
        host = int(status_fields(f.read())["CapBnd"], 16)
    names = [n for n, v in CAP_NUMBERS.items() if host & (1 << v)]

    def edit(cfg):
        cfg["process"]["capabilities"] = {"bounding": names, "effective": names, "permitted": names}

    f = status_fields(inside(rt, "grep -E '^Cap' /proc/self/status", edit=edit))
    assert int(f["CapBnd"], 16) == cap_mask(names) == host
    assert int(f["CapEff"], 16) == host
    assert int(f["CapPrm"], 16) == host


def test_no_new_privileges_false(rt):
    f = status_fields(inside(rt, "grep NoNewPrivs /proc/self/status",
                             edit=lambda cfg: cfg["process"].update(noNewPrivileges=False)))
    assert f["NoNewPrivs"] == "0"


def test_oom_score_adj(rt):
    out = inside(rt, "cat /proc/self/oom_score_adj", edit=lambda cfg: cfg["process"].update(oomScoreAdj=321))
    assert out == "321\n"


# ------------------------------------------------------------------------------------------------
# Process attributes


def test_rlimits(rt):
    def edit(cfg):
        cfg["process"]["rlimits"] = [
            {"type": "RLIMIT_NOFILE", "soft": 1000, "hard": 2000},
            {"type": "RLIMIT_CORE", "soft": 4096, "hard": 8192},
            {"type": "RLIMIT_MSGQUEUE", "soft": 10000, "hard": 20000},
        ]

    out = inside(rt, "ulimit -n; ulimit -Hn; grep -E '^Max (open files|core file size|msgqueue size)' /proc/self/limits",
                 edit=edit).splitlines()
    assert out[0] == "1000" and out[1] == "2000", out
    limits = {re.split(r"\s{2,}", l)[0]: re.split(r"\s{2,}", l)[1:3] for l in out[2:]}
    assert limits["Max open files"] == ["1000", "2000"], limits
    assert limits["Max core file size"] == ["4096", "8192"], limits
    assert limits["Max msgqueue size"] == ["10000", "20000"], limits


def test_rlimit_raised_above_the_callers(rt):
    # The runtime runs with a NOFILE hard limit of its own; a container may get more (up to the host max).
    out = inside(rt, "ulimit -n; ulimit -Hn",
                 edit=lambda cfg: cfg["process"].update(rlimits=[{"type": "RLIMIT_NOFILE", "soft": 15000, "hard": 20000}]))
    assert out == "15000\n20000\n"


def test_user_group_and_additional_gids(rt):
    def edit(cfg):
        cfg["process"]["user"] = {"uid": 1234, "gid": 567, "additionalGids": [10, 20, 30]}

    out = inside(rt, "id -u; id -g; grep -E '^(Uid|Gid|Groups)' /proc/self/status", edit=edit).splitlines()
    assert out[0] == "1234" and out[1] == "567", out
    f = status_fields("\n".join(out[2:]))
    assert f["Uid"].split() == ["1234"] * 4
    assert f["Gid"].split() == ["567"] * 4
    assert sorted(int(g) for g in f["Groups"].split()) == [10, 20, 30]


def test_root_has_no_supplementary_groups(rt):
    f = status_fields(inside(rt, "grep -E '^Groups' /proc/self/status"))
    assert f["Groups"] == ""


def test_env(rt):
    def edit(cfg):
        cfg["process"]["env"] = ["PATH=/bin", "FOO=bar baz", "EMPTY=", "WITH_EQ=a=b", "HOME=/custom"]

    out = inside(rt, 'echo "$FOO|$EMPTY|$WITH_EQ|$HOME|$PATH"; env | sort', edit=edit).splitlines()
    assert out[0] == "bar baz||a=b|/custom|/bin"
    env = set(out[1:])
    assert {"PATH=/bin", "FOO=bar baz", "EMPTY=", "WITH_EQ=a=b", "HOME=/custom"} <= env
    # Nothing of the runtime's environment leaks in.
    assert not any(k.startswith(("CRUN_LITE=", "PYTEST", "SUDO_")) for k in env), env


def test_env_does_not_leak_from_the_caller(rt, make_bundle, new_id):
    bundle = make_bundle(args=["env"], edit=lambda cfg: cfg["process"].update(env=["PATH=/bin"]))
    r = run_cmd(rt.argv("run", "--bundle", bundle, new_id()), env={"LEAKY_VAR": "1", "PATH": os.environ["PATH"]})
    assert r.rc == 0, r
    assert "LEAKY_VAR" not in r.stdout
    assert set(r.stdout.split()) == {"PATH=/bin", "HOME=/"}, r.stdout


def test_home_defaults_from_passwd(rt, make_bundle):
    bundle = make_bundle(args=["sh", "-c", 'echo "$HOME"'])
    with open(os.path.join(bundle.rootfs, "etc/passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n")
    bundle.edit(lambda cfg: cfg["process"].update(user={"uid": 1000, "gid": 1000}))
    assert inside(rt, None, bundle=bundle) == "/home/alice\n"


def test_home_defaults_to_slash(rt):
    assert inside(rt, 'echo "$HOME"') == "/\n"


def test_cwd(rt, make_bundle):
    bundle = make_bundle(args=["sh", "-c", "pwd; echo $PWD"], edit=lambda cfg: cfg["process"].update(cwd="/etc"))
    assert inside(rt, None, bundle=bundle) == "/etc\n/etc\n"


def test_cwd_is_created_when_missing(rt, make_bundle):
    # runc creates a missing cwd (MkdirAll in prepareRootfs, before the root turns read-only).
    bundle = make_bundle(args=["sh", "-c", "pwd"], edit=lambda cfg: cfg["process"].update(cwd="/srv/app/dir"))
    assert inside(rt, None, bundle=bundle) == "/srv/app/dir\n"
    assert os.path.isdir(os.path.join(bundle.rootfs, "srv/app/dir"))


@pytest.mark.parametrize("umask,expected", [(None, "0022"), (0o077, "0077"), (0, "0000"), (0o027, "0027")])
def test_umask(rt, umask, expected):
    def edit(cfg):
        if umask is not None:
            cfg["process"]["user"]["umask"] = umask

    out = inside(rt, "umask; touch /dev/shm/f; stat -c %a /dev/shm/f", edit=edit).splitlines()
    assert out[0] == expected
    assert int(out[1], 8) == 0o666 & ~int(expected, 8)


# ------------------------------------------------------------------------------------------------
# User, network, time namespaces; joining by path; sysctl


def userns(cfg):
    set_namespace(cfg, "user")
    cfg["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    cfg["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]


def test_user_namespace(rt, make_bundle):
    bundle = make_bundle(edit=userns)
    # The container's root (host uid 100000) cannot create the mount point in a rootfs owned by
    # the host's root: it has to exist.
    os.mkdir(os.path.join(bundle.rootfs, "out"))
    out_dir = os.path.join(bundle.path, "out")
    os.mkdir(out_dir)
    os.chmod(out_dir, 0o777)
    bundle.edit(lambda cfg: cfg["mounts"].append(
        {"destination": "/out", "type": "bind", "source": out_dir, "options": ["rbind", "rw"]}))
    bundle.edit(lambda cfg: cfg["process"].update(args=[
        "sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g; stat -c %u /bin/busybox; "
                    "touch /out/made-inside; echo $$; hostname"]))
    out = inside(rt, None, bundle=bundle).splitlines()
    assert out[0].split() == ["0", "100000", "65536"], out
    assert out[1].split() == ["0", "100000", "65536"], out
    assert out[2:4] == ["0", "0"], out
    assert out[4] == "65534", "host root's files show as the overflow uid"
    assert out[5:7] == ["1", "crun-lite"], out
    st = os.stat(os.path.join(out_dir, "made-inside"))
    assert (st.st_uid, st.st_gid) == (100000, 100000)


def test_user_namespace_with_non_root_user(rt):
    def edit(cfg):
        userns(cfg)
        cfg["process"]["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [5]}

    out = inside(rt, "id -u; id -g; grep -E '^(Uid|Groups)' /proc/self/status", edit=edit).splitlines()
    assert out[:2] == ["1000", "1000"], out
    f = status_fields("\n".join(out[2:]))
    assert f["Groups"].split() == ["5"]


def test_loopback_is_up_in_a_new_network_namespace(rt):
    out = inside(rt, "cat /sys/class/net/lo/flags; ls /sys/class/net; ip addr show lo").splitlines()
    assert int(out[0], 16) & 0x1, out  # IFF_UP
    assert out[1].split() == ["lo"], out
    assert "127.0.0.1" in "\n".join(out[2:]), out
    assert "UP" in "\n".join(out[2:]), out


def _make_netns(rt, ttl):
    path = os.path.join(TEST_ROOT_BASE, f"netns-{uuid.uuid4().hex[:8]}")
    open(path, "w").close()

    def cleanup():
        subprocess.run(["umount", path], timeout=10, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.unlink(path)

    rt.cleanups.append(cleanup)
    r = run_cmd(["unshare", f"--net={path}", "sh", "-c", f"echo {ttl} > /proc/sys/net/ipv4/ip_default_ttl"])
    assert r.rc == 0, r
    return path


def test_join_network_namespace_by_path(rt):
    path = _make_netns(rt, 77)
    out = inside(rt, "readlink /proc/self/ns/net; cat /proc/sys/net/ipv4/ip_default_ttl",
                 edit=lambda cfg: set_namespace(cfg, "network", path)).splitlines()
    assert out[0] == f"net:[{os.stat(path).st_ino}]", out
    assert out[1] == "77"


def test_join_uts_and_pid_namespaces_of_a_running_container(rt, make_bundle, new_id):
    first = make_bundle(args=["sh", "-c", LOOP], edit=lambda cfg: cfg.update(hostname="alpha-host"))
    a = new_id("alpha")
    assert rt.run(a, first, "-d").rc == 0
    pid = rt.state(a)["pid"]

    def edit(cfg):
        cfg.pop("hostname")
        set_namespace(cfg, "uts", f"/proc/{pid}/ns/uts")
        set_namespace(cfg, "pid", f"/proc/{pid}/ns/pid")

    out = inside(rt, "hostname; echo $$; cat /proc/1/cmdline | tr '\\0' ' '; echo; readlink /proc/self/ns/uts",
                 edit=edit).splitlines()
    assert out[0] == "alpha-host", out
    assert out[1] != "1", "joined the pid namespace: not pid 1 there"
    assert out[2].startswith("sh -c while"), out
    assert out[3] == os.readlink(f"/proc/{pid}/ns/uts")
    assert rt.status(a) == "running"
    assert rt.delete(a, force=True).rc == 0


def test_join_a_user_namespace_by_path_with_a_new_pid_namespace(rt, make_bundle, new_id):
    # A pid namespace made in a joined user namespace only holds children: init forks once more
    # after joining, and the process that goes on must still end up in the container's cgroups.
    def user_namespace(cfg):
        set_namespace(cfg, "user")
        cfg["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        cfg["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]

    holder = make_bundle(args=["sh", "-c", LOOP], edit=user_namespace)
    h = new_id("userns")
    assert rt.run(h, holder, "-d").rc == 0
    pid = rt.state(h)["pid"]

    def edit(cfg):
        set_namespace(cfg, "user", f"/proc/{pid}/ns/user")
        cfg["linux"].pop("uidMappings", None)
        cfg["linux"].pop("gidMappings", None)

    bundle = make_bundle(args=["sh", "-c", LOOP], edit=edit)
    cid = new_id("joiner")
    assert rt.run(cid, bundle, "-d").rc == 0
    joiner = rt.state(cid)["pid"]
    assert os.readlink(f"/proc/{joiner}/ns/user") == os.readlink(f"/proc/{pid}/ns/user")
    assert os.readlink(f"/proc/{joiner}/ns/pid") != os.readlink(f"/proc/{pid}/ns/pid")
    with open(f"/proc/{joiner}/status") as f:
        nspid = [l.split()[1:] for l in f if l.startswith("NSpid:")][0]
    assert nspid[-1] == "1", nspid  # the forked process is init of the new pid namespace
    with open(f"/proc/{joiner}/cgroup") as f:
        lines = f.read().splitlines()
    for line in lines:
        assert line.split(":", 2)[2] == f"/crun-lite-{cid}", lines
    assert rt.delete(cid, force=True).rc == 0
    assert rt.delete(h, force=True).rc == 0


@pytest.mark.runc_too(since="1.3.0")
def test_no_mount_namespace_shares_the_runtimes(each_rt):
    # runtime-spec: a namespace type not listed is the runtime's. The root filesystem is then
    # set up in the host's mount namespace (runc does so too) and entered with chroot.
    rt = each_rt
    def edit(cfg):
        drop_namespace(cfg, "mount")
        # runc refuses masked and read-only paths without a mount namespace of its own
        # ("unable to restrict sys entries"); crun-lite makes them on its host root mount.
        cfg["linux"].pop("maskedPaths")
        cfg["linux"].pop("readonlyPaths")

    bundle = rt.make_bundle(args=["sh", "-c", LOOP], edit=edit)
    with open(os.path.join(bundle.rootfs, "etc", "marker"), "w") as f:
        f.write("container-root\n")
    if rt.name == "runc":
        # runc leaves its mounts on the host after delete: unmount them before the teardown
        # looks for leftovers (crun-lite must leave none, asserted below).
        def unmount_runc_leftovers():
            for line in reversed(mounts_mentioning(bundle.path)):
                subprocess.run(["umount", "-l", parse_mountinfo(line)[0]["mount_point"]], timeout=10,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        rt.cleanups.append(unmount_runc_leftovers)
    cid = rt.new_id()
    assert rt.run(cid, bundle, "-d").rc == 0
    pid = rt.state(cid)["pid"]
    assert os.readlink(f"/proc/{pid}/ns/mnt") == os.readlink("/proc/self/ns/mnt")
    with open(f"/proc/{pid}/root/etc/marker") as f:
        assert f.read() == "container-root\n"
    # Its /proc is a mount in the host's namespace, below the bundle.
    assert any(m["mount_point"] == os.path.join(bundle.rootfs, "proc") for m in parse_mountinfo("\n".join(host_mountinfo())))
    assert rt.delete(cid, force=True).rc == 0
    if rt.name == "crun-lite":
        assert mounts_mentioning(bundle.path) == []


def test_no_mount_namespace_container_process_and_exec_see_its_root(rt, make_bundle, new_id):
    # crun-lite only: runc's exec has no mount namespace to join and leaves the process in the
    # host's root; crun-lite chroots it into the container's, as its init is.
    bundle = make_bundle(args=["sh", "-c", "cat /etc/marker; readlink /proc/self/ns/mnt; " + LOOP],
                         edit=lambda cfg: drop_namespace(cfg, "mount"))
    with open(os.path.join(bundle.rootfs, "etc", "marker"), "w") as f:
        f.write("container-root\n")
    cid = new_id()
    assert rt.run(cid, bundle, "-d").rc == 0
    r = rt.cli("exec", cid, "sh", "-c", "cat /etc/marker; test -e /bin/busybox && echo has-busybox; readlink /proc/self/ns/mnt")
    assert r.rc == 0, r
    assert r.stdout.splitlines() == ["container-root", "has-busybox", os.readlink("/proc/self/ns/mnt")], r
    assert rt.delete(cid, force=True).rc == 0
    assert mounts_mentioning(bundle.path) == []


def test_no_mount_namespace_failed_create_leaves_no_mount(rt, make_bundle, new_id):
    # A create that fails half-way through the mounts takes the host root mount with it.
    def edit(cfg):
        drop_namespace(cfg, "mount")
        cfg["mounts"].append({"destination": "/broken", "type": "tmpfs", "source": "tmpfs", "options": ["size=nonsense"]})

    bundle = make_bundle(edit=edit)
    r = rt.create(new_id(), bundle, check=False)
    assert r.rc != 0 and ".mounts[7]" in r.stderr, r
    assert mounts_mentioning(bundle.path) == []


@pytest.mark.runc_too(since="1.3.0")
def test_join_mount_namespace_by_path(each_rt):
    # The root filesystem is resolved and set up in the joined namespace, as runc does: the
    # container sees a mount that exists only there.
    rt = each_rt
    bundle = rt.make_bundle(args=["sh", "-c", "cat /only-there/marker; readlink /proc/self/ns/mnt"])
    only_there = os.path.join(bundle.rootfs, "only-there")
    os.mkdir(only_there)
    helper = subprocess.Popen(["unshare", "-m", "--propagation", "private", "sh", "-c",
                               f"mount -t tmpfs crunlite-only-there {only_there} && echo in-that-namespace > {only_there}/marker "
                               "&& echo ready && exec sleep 1000"], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)

    def end_helper():
        helper.kill()
        helper.wait(timeout=10)

    rt.cleanups.append(end_helper)
    assert helper.stdout.readline() == b"ready\n"
    ns = f"/proc/{helper.pid}/ns/mnt"
    bundle.edit(lambda cfg: set_namespace(cfg, "mount", ns))
    assert not os.path.exists(os.path.join(only_there, "marker")), "the mount is the helper namespace's alone"
    r = rt.run(rt.new_id(), bundle)
    assert r.rc == 0, r
    assert r.stdout.splitlines() == ["in-that-namespace", os.readlink(ns)], r


def test_time_namespace_offsets(rt):
    def edit(cfg):
        set_namespace(cfg, "time")
        cfg["linux"]["timeOffsets"] = {"boottime": {"secs": 1000000, "nanosecs": 0},
                                       "monotonic": {"secs": 500000, "nanosecs": 0}}

    with open("/proc/uptime") as f:
        host_before = float(f.read().split()[0])
    out = inside(rt, "cat /proc/uptime; cat /proc/self/timens_offsets", edit=edit).splitlines()
    with open("/proc/uptime") as f:
        host_after = float(f.read().split()[0])
    uptime = float(out[0].split()[0])
    assert host_before + 1000000 - 1 <= uptime <= host_after + 1000000 + 1, (uptime, host_before)
    offsets = {l.split()[0]: l.split()[1:] for l in out[1:]}
    assert offsets["boottime"] == ["1000000", "0"], out
    assert offsets["monotonic"] == ["500000", "0"], out


def test_sysctl_in_the_containers_namespaces(rt):
    with open("/proc/sys/net/ipv4/ip_forward") as f:
        host_forward = f.read()
    with open("/proc/sys/kernel/shmmni") as f:
        host_shmmni = f.read()
    out = inside(rt, "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni",
                 edit=lambda cfg: cfg["linux"].update(sysctl={"net.ipv4.ip_forward": "1", "kernel.shmmni": "1234"}))
    assert out.split() == ["1", "1234"]
    with open("/proc/sys/net/ipv4/ip_forward") as f:
        assert f.read() == host_forward
    with open("/proc/sys/kernel/shmmni") as f:
        assert f.read() == host_shmmni


# ------------------------------------------------------------------------------------------------
# Devices


def test_linux_devices(rt):
    def edit(cfg):
        cfg["linux"]["devices"] = [
            {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o666, "uid": 0, "gid": 0},
            {"path": "/dev/custom-null", "type": "c", "major": 1, "minor": 3, "fileMode": 0o646, "uid": 12, "gid": 34},
            {"path": "/dev/sub/dir/blk", "type": "b", "major": 7, "minor": 200, "fileMode": 0o600},
            {"path": "/dev/myfifo", "type": "p", "fileMode": 0o622},
        ]

    out = inside(rt, "for d in /dev/fuse /dev/custom-null /dev/sub/dir/blk; do stat -c '%F|%t|%T|%a|%u|%g' $d; done; "
                     "stat -c '%F|%a' /dev/myfifo; echo data > /dev/custom-null && echo usable", edit=edit).splitlines()
    assert out[0] == "character special file|a|e5|666|0|0", out
    assert out[1] == "character special file|1|3|646|12|34", out
    assert out[2] == "block special file|7|c8|600|0|0", out
    assert out[3] in ("fifo|622", "FIFO|622"), out
    assert out[4] == "usable"


def test_device_nodes_in_an_image_directory(rt, make_bundle):
    # Outside the fresh /dev: a set-group-ID directory of the image would hand its group to a
    # new node. (A file the image has at a node's path is refused, never replaced nor followed:
    # test_bad_bundles.py, test_device_over_an_image_file_is_refused.)
    def edit(cfg):
        cfg["linux"]["devices"] = [
            {"path": "/srv/sgid/null", "type": "c", "major": 1, "minor": 3, "fileMode": 0o666},
            {"path": "/srv/sgid/zero", "type": "c", "major": 1, "minor": 5, "fileMode": 0o640, "uid": 7, "gid": 8},
            {"path": "/srv/plain/new", "type": "c", "major": 1, "minor": 3, "fileMode": 0o600},
        ]

    bundle = make_bundle(args=["sh", "-c", "for d in /srv/sgid/null /srv/sgid/zero /srv/plain/new; "
                                            "do stat -c '%F|%t|%T|%a|%u|%g' $d; done"], edit=edit)
    sgid = os.path.join(bundle.rootfs, "srv", "sgid")
    plain = os.path.join(bundle.rootfs, "srv", "plain")
    os.makedirs(sgid)
    os.makedirs(plain)
    os.chown(sgid, 0, 50)
    os.chmod(sgid, 0o2775)
    out = inside(rt, None, bundle=bundle).splitlines()
    assert out == ["character special file|1|3|666|0|0", "character special file|1|5|640|7|8",
                   "character special file|1|3|600|0|0"], out


def test_default_devices(rt):
    script = ("for d in null zero full random urandom tty; do stat -c '%n|%F|%t|%T|%a' /dev/$d; done; "
              "echo x > /dev/null && echo null-ok; head -c 5 /dev/zero | wc -c; head -c 7 /dev/urandom | wc -c; "
              "echo x > /dev/full 2>/dev/null && echo full-wrote || echo full-refused")
    out = inside(rt, script).splitlines()
    assert out[:6] == ["/dev/null|character special file|1|3|666", "/dev/zero|character special file|1|5|666",
                       "/dev/full|character special file|1|7|666", "/dev/random|character special file|1|8|666",
                       "/dev/urandom|character special file|1|9|666", "/dev/tty|character special file|5|0|666"], out
    assert out[6] == "null-ok"
    assert [o.strip() for o in out[7:9]] == ["5", "7"]
    assert out[9] == "full-refused"


def test_devices_cgroup_denies_other_devices(rt):
    # Nodes made inside /dev (a tmpfs without nodev): 1:3 is allowed by the device cgroup, 1:1
    # (/dev/mem) is not, so only the first can be opened.
    def edit(cfg):
        for s in ("bounding", "effective", "permitted"):
            cfg["process"]["capabilities"][s] += ["CAP_MKNOD"]

    out = inside(rt, "mknod /dev/test-null c 1 3 && mknod /dev/test-mem c 1 1 && echo made; "
                     "echo x > /dev/test-null && echo null-opened; "
                     "head -c 1 /dev/test-mem >/dev/null 2>&1 && echo mem-opened || echo mem-denied", edit=edit)
    assert out == "made\nnull-opened\nmem-denied\n"


def test_dev_symlinks(rt):
    out = inside(rt, "for l in fd stdin stdout stderr ptmx; do readlink /dev/$l; done; ls /dev/fd/ | sort -n | head -3 | tr '\\n' ' '")
    lines = out.splitlines()
    assert lines[:5] == ["/proc/self/fd", "/proc/self/fd/0", "/proc/self/fd/1", "/proc/self/fd/2", "pts/ptmx"], out
    assert lines[5].split() == ["0", "1", "2"], out


# ------------------------------------------------------------------------------------------------
# File descriptors


def fd_numbers(stdout):
    return sorted(int(x) for x in stdout.split())


def test_no_leaked_fds(rt, make_bundle, new_id):
    # ls is the container's process itself (no shell, whose redirections keep fds of their own).
    bundle = make_bundle(args=["ls", "/proc/self/fd"])
    # The caller hands crun-lite extra descriptors: without --preserve-fds they must not reach the container.
    leak_r, leak_w = os.pipe()
    try:
        r = run_cmd(rt.argv("run", "--bundle", bundle, new_id()), pass_fds=(leak_r, leak_w))
    finally:
        os.close(leak_r)
        os.close(leak_w)
    assert r.rc == 0, r
    assert fd_numbers(r.stdout) == [0, 1, 2, 3], r.stdout  # 3: the directory ls reads


def test_no_leaked_fds_from_a_shell(rt):
    out = inside(rt, "ls /proc/self/fd")
    assert fd_numbers(out) == [0, 1, 2, 3], out


@pytest.mark.parametrize("count", [1, 2])
def test_preserve_fds(rt, make_bundle, new_id, count):
    listing = make_bundle(args=["ls", "/proc/self/fd"])
    reading = make_bundle(args=["sh", "-c", "cat <&3"])
    data = os.path.join(reading.path, "passed.txt")
    with open(data, "w") as f:
        f.write("through-fd-3\n")
    wrapper = ["/bin/sh", "-c", 'exec 3<"$0" 4<"$0" 5<"$0"; exec "$@"', data]
    r = run_cmd(wrapper + rt.argv("run", "--preserve-fds", str(count), "--bundle", listing, new_id()))
    assert r.rc == 0, r
    # 0-2, the preserved ones, and the directory ls reads; never the fds beyond --preserve-fds.
    assert fd_numbers(r.stdout) == list(range(3 + count + 1)), r.stdout
    r = run_cmd(wrapper + rt.argv("run", "--preserve-fds", str(count), "--bundle", reading, new_id()))
    assert r.rc == 0, r
    assert r.stdout == "through-fd-3\n"


def test_preserve_fds_with_create_and_start(rt, make_bundle, new_id):
    bundle = make_bundle()
    out_dir = os.path.join(bundle.path, "out")
    os.mkdir(out_dir)
    bundle.edit(lambda cfg: cfg["mounts"].append(
        {"destination": "/out", "type": "bind", "source": out_dir, "options": ["rbind", "rw"]}))
    bundle.edit(lambda cfg: cfg["process"].update(args=["sh", "-c", "cat <&3 > /out/got"]))
    data = os.path.join(bundle.path, "passed.txt")
    with open(data, "w") as f:
        f.write("via-create")
    cid = new_id()
    r = run_cmd(["/bin/sh", "-c", 'exec 3<"$0"; exec "$@"', data] +
                rt.argv("create", "--preserve-fds", "1", "--bundle", bundle, cid))
    assert r.rc == 0, r
    rt.remember_pid(cid)
    rt.start(cid)
    rt.wait_status(cid, "stopped")
    with open(os.path.join(out_dir, "got")) as f:
        assert f.read() == "via-create"
    assert rt.delete(cid).rc == 0


# ------------------------------------------------------------------------------------------------
# list and state


def test_list_table_json_and_quiet(rt, make_bundle, new_id):
    loop = make_bundle(args=["sh", "-c", LOOP])
    quick = make_bundle(args=["true"])
    created, running, stopped = new_id("created"), new_id("running"), new_id("stopped")
    rt.create(created, loop)
    assert rt.run(running, loop, "-d").rc == 0
    assert rt.run(stopped, quick, "--keep").rc == 0
    states = {c: rt.state(c) for c in (created, running, stopped)}
    assert states[created]["status"] == "created"
    assert states[running]["status"] == "running"
    assert states[stopped]["status"] == "stopped"

    r = rt.cli("list")
    assert r.rc == 0, r
    lines = r.stdout.splitlines()
    assert re.match(r"^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER\s*$", lines[0]), lines[0]
    rows = {l.split()[0]: l.split() for l in lines[1:]}
    assert set(rows) == {created, running, stopped}
    for cid, s in states.items():
        assert rows[cid][1:5] == [str(s["pid"]), s["status"], s["bundle"], s["created"]], rows[cid]
        assert rows[cid][5] == "root"

    for fmt in (["--format", "json"], ["-f", "json"]):
        r = rt.cli("list", *fmt)
        assert r.rc == 0, r
        listed = json.loads(r.stdout)
        assert isinstance(listed, list)
        by_id = {s["id"]: s for s in listed}
        assert set(by_id) == {created, running, stopped}
        for cid, s in states.items():
            assert STATE_FIELDS <= set(by_id[cid]), by_id[cid]
            for k in ("pid", "status", "bundle", "rootfs", "created", "ociVersion"):
                assert by_id[cid][k] == s[k], (k, by_id[cid], s)
            assert by_id[cid]["owner"] == "root"

    for q in ("-q", "--quiet"):
        r = rt.cli("list", q)
        assert r.rc == 0, r
        assert sorted(r.stdout.split()) == sorted([created, running, stopped])

    r = rt.cli("list", "--format", "table")
    assert r.rc == 0 and r.stdout.splitlines()[0].split() == ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]
    for cid in (created, running, stopped):
        assert rt.delete(cid, force=True).rc == 0
    r = rt.cli("list", "-q")
    assert r.rc == 0 and r.stdout.strip() == ""


def test_list_with_missing_root_is_empty(rt):
    missing = os.path.join(TEST_ROOT_BASE, f"missing-{uuid.uuid4().hex[:8]}")
    r = rt.cli("list", root=missing)
    assert r.rc == 0, r
    assert [l for l in r.stdout.splitlines()[1:] if l.strip()] == [], r
    r = rt.cli("list", "--format", "json", root=missing)
    assert r.rc == 0, r
    assert json.loads(r.stdout) in ([], None), r
    r = rt.cli("list", "-q", root=missing)
    assert r.rc == 0 and r.stdout.strip() == "", r
    assert not os.path.exists(missing), "list must not create the root"


def test_state_json_fields(rt, make_bundle, new_id):
    bundle = make_bundle(args=["sh", "-c", LOOP], edit=lambda cfg: cfg.update(annotations={"a": "b"}))
    cid = new_id()
    rt.create(cid, bundle)
    r = rt.cli("state", cid)
    assert r.rc == 0, r
    s = json.loads(r.stdout)
    assert STATE_FIELDS | {"annotations"} <= set(s), s
    assert s["id"] == cid and s["status"] == "created" and s["annotations"] == {"a": "b"}
    assert isinstance(s["pid"], int) and process_alive(s["pid"])
    assert s["bundle"] == os.path.realpath(bundle.path)
    rt.start(cid)
    assert rt.state(cid)["status"] == "running"
    assert rt.kill(cid, "KILL").rc == 0
    wait_until(lambda: rt.state(cid)["status"] == "stopped", what="stopped")
    assert rt.state(cid)["pid"] == 0
    assert rt.delete(cid).rc == 0


def test_ambient_capability_that_is_not_inheritable_is_skipped(rt, make_bundle, new_id):
    # As runc does (and buildah relies on): the kernel cannot raise an ambient capability that
    # is not also permitted and inheritable; the container runs without it.
    bundle = make_bundle(args=["sh", "-c", "grep -E '^Cap(Amb|Eff)' /proc/self/status"],
                         edit=lambda c: c["process"]["capabilities"].update(ambient=["CAP_CHOWN", "CAP_KILL"]))
    r = rt.run(new_id(), bundle)
    assert r.rc == 0, r
    fields = dict(line.split(":\t") for line in r.stdout.splitlines())
    assert int(fields["CapAmb"], 16) == 0, fields
    assert int(fields["CapEff"], 16) & (1 << 5), fields  # CAP_KILL stays effective
