"""Idmapped bind mounts (issue 20, item 4): a volume in a container with a user namespace, with the
`idmap` / `ridmap` options and the mount's own uidMappings/gidMappings, seen from inside and from
the host; runc 1.3.6 beside crun-lite where it has the behaviour (runc >= 1.2)."""

import json
import os
import subprocess
import tempfile

import pytest

from helpers import CRUN_LITE, one_error_line, run_cmd

HOST_BASE = 100000  # the container's root on the host


@pytest.fixture(scope="module")
def ext4():
    """An ext4 filesystem (a loop-mounted image) for the volumes: ext4 takes idmapped mounts on
    every kernel that has them, while tmpfs needs Linux 6.3 (the v2 guest runs 6.1)."""
    base = tempfile.mkdtemp(prefix="idmap-ext4-", dir="/var/tmp")
    image, mnt = os.path.join(base, "image"), os.path.join(base, "mnt")
    os.mkdir(mnt)
    subprocess.run(["modprobe", "loop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run(["truncate", "-s", "32M", image], check=True)
    subprocess.run(["mkfs.ext4", "-q", image], check=True)
    subprocess.run(["mount", "-o", "loop", image, mnt], check=True)
    os.chmod(mnt, 0o755)
    os.chmod(base, 0o755)
    yield mnt
    subprocess.run(["umount", mnt], check=True)
    subprocess.run(["rm", "-rf", base], check=True)


def userns(cfg):
    cfg["linux"]["namespaces"].append({"type": "user"})
    cfg["linux"]["uidMappings"] = [{"containerID": 0, "hostID": HOST_BASE, "size": 65536}]
    cfg["linux"]["gidMappings"] = [{"containerID": 0, "hostID": HOST_BASE, "size": 65536}]


def volume_bundle(rt, ext4, owner, options, mappings=None, script=None):
    """A bundle with a user namespace and a volume at /vol: a directory of the ext4 filesystem,
    owned by `owner` and holding a file `owned` of the same owner. The container lists /vol's
    owners and writes /vol/made-inside."""
    script = script or 'stat -c "%u:%g %n" /vol/owned; touch /vol/made-inside; stat -c "%u:%g %n" /vol/made-inside'
    bundle = rt.make_bundle(args=["sh", "-c", script], edit=userns)
    os.mkdir(os.path.join(bundle.rootfs, "vol"))  # the mapped root cannot make it in a root-owned rootfs
    host = tempfile.mkdtemp(dir=ext4)
    os.chmod(host, 0o755)
    with open(os.path.join(host, "owned"), "w") as f:
        f.write("x\n")
    for p in (host, os.path.join(host, "owned")):
        os.chown(p, owner, owner)
    mount = {"destination": "/vol", "type": "bind", "source": host, "options": ["rbind", *options]}
    if mappings:
        mount["uidMappings"] = mappings
        mount["gidMappings"] = mappings
    bundle.edit(lambda c: c["mounts"].append(mount))
    return bundle, host


def host_owner(path):
    st = os.stat(path)
    return f"{st.st_uid}:{st.st_gid}"


def test_without_idmap_the_host_ids_show_through_the_user_namespace(rt, ext4):
    # The control: a plain bind shows the host's root as the overflow id, and what the container's
    # root writes lands on the host as HOST_BASE.
    bundle, host = volume_bundle(rt, ext4, 0, [])
    os.chmod(host, 0o777)
    r = rt.run(rt.new_id(), bundle)
    assert r.rc == 0, r
    assert r.stdout.split("\n")[0] == "65534:65534 /vol/owned", r
    assert host_owner(os.path.join(host, "made-inside")) == f"{HOST_BASE}:{HOST_BASE}"


# idmap without mappings of its own takes the container's (0 -> HOST_BASE): the host's root owns
# the volume; inside it is root's, and what the container's root writes is the host root's.
# The mount's own mappings take the volume's ids (containerID) to the ids of the container's user
# namespace on the host (hostID): with 1000 -> HOST_BASE a uid-1000 volume becomes the container's
# root's, and a file the container's root writes belongs to uid 1000 on the host.
@pytest.mark.runc_too(since="1.2.0")
@pytest.mark.parametrize("owner,mappings", [(0, None), (1000, [{"containerID": 1000, "hostID": HOST_BASE, "size": 1}])],
                         ids=["the containers mappings", "the mounts own mappings"])
def test_idmap_gives_the_container_the_volume_as_its_own(each_rt, ext4, owner, mappings):
    bundle, host = volume_bundle(each_rt, ext4, owner, ["idmap"], mappings=mappings)
    r = each_rt.run(each_rt.new_id(), bundle)
    assert r.rc == 0, r
    assert r.stdout.splitlines() == ["0:0 /vol/owned", "0:0 /vol/made-inside"], r
    assert host_owner(os.path.join(host, "made-inside")) == f"{owner}:{owner}"


@pytest.mark.runc_too(since="1.2.0")
def test_idmap_maps_the_top_mount_and_ridmap_every_submount(each_rt, ext4):
    # A bind mount under the volume's source: rbind brings it along; idmap maps only the top,
    # ridmap maps it too.
    script = 'stat -c "%u %n" /vol/owned /vol/sub/owned'
    seen = {}
    for option in ("idmap", "ridmap"):
        bundle, host = volume_bundle(each_rt, ext4, 0, [option], script=script)
        sub, elsewhere = os.path.join(host, "sub"), tempfile.mkdtemp(dir=ext4)
        os.mkdir(sub)
        os.chmod(elsewhere, 0o755)
        open(os.path.join(elsewhere, "owned"), "w").close()
        subprocess.run(["mount", "--bind", elsewhere, sub], check=True)
        try:
            r = each_rt.run(each_rt.new_id(), bundle)
        finally:
            subprocess.run(["umount", "-l", sub], check=True)
        assert r.rc == 0, r
        seen[option] = r.stdout.split()
    assert seen["idmap"] == ["0", "/vol/owned", "65534", "/vol/sub/owned"], seen
    assert seen["ridmap"] == ["0", "/vol/owned", "0", "/vol/sub/owned"], seen


def test_an_idmap_the_filesystem_cannot_do_names_the_mount(rt):
    # sysfs has no idmapped mounts: one line naming the mount, and nothing left behind.
    bundle = rt.make_bundle(args=["true"], edit=userns)
    os.mkdir(os.path.join(bundle.rootfs, "vol"))
    bundle.edit(lambda c: c["mounts"].append({"destination": "/vol", "type": "bind", "source": "/sys/kernel",
                                              "options": ["rbind", "idmap"]}))
    index = len(bundle.config["mounts"]) - 1
    cid = rt.new_id()
    r = rt.run(cid, bundle)
    one_error_line(r, f".mounts[{index}]", "idmap", "may not support idmapped mounts")
    assert rt.cli("state", cid).rc != 0, "no state left"


def test_features_claims_the_idmapped_mounts_shown_here():
    r = run_cmd([CRUN_LITE, "features"], timeout=30)
    assert r.rc == 0, r
    features = json.loads(r.stdout)
    assert features["linux"]["mountExtensions"] == {"idmap": {"enabled": True}}, features["linux"]
    assert {"idmap", "ridmap"} <= set(features["mountOptions"]), features["mountOptions"]
