"""crun's bind-mount options for symlinks (crun >= 1.10 / 1.22; not in runc, so crun-lite only):
copy-symlink, src-nofollow, dest-nofollow. What the container sees, and nothing left on the host."""

import os

from helpers import one_error_line


def symlink_bundle(rt, script, mount, image_setup=None):
    bundle = rt.make_bundle(args=["sh", "-c", script])
    host = os.path.join(bundle.path, "host")
    os.mkdir(host)
    os.symlink("/etc/target-of-the-host-link", os.path.join(host, "link"))
    with open(os.path.join(host, "file"), "w") as f:
        f.write("host file\n")
    if image_setup:
        image_setup(bundle.rootfs)
    mount = dict(mount, source=os.path.join(host, mount["source"]))
    bundle.edit(lambda c: c["mounts"].append(mount))
    return bundle


def test_copy_symlink_makes_the_symlink_at_the_destination_without_a_mount(rt):
    bundle = symlink_bundle(rt, "readlink /etc/localtime; grep -c ' /etc/localtime ' /proc/self/mountinfo",
                            {"destination": "/etc/localtime", "type": "bind", "source": "link",
                             "options": ["rbind", "copy-symlink"]},
                            # an image file there is replaced, as crun does
                            lambda rootfs: (os.makedirs(os.path.join(rootfs, "etc"), exist_ok=True),
                                            open(os.path.join(rootfs, "etc", "localtime"), "w").close()))
    r = rt.run(rt.new_id(), bundle)
    assert r.stdout.split() == ["/etc/target-of-the-host-link", "0"], r


def test_copy_symlink_of_a_source_that_is_no_symlink_is_a_plain_bind(rt):
    bundle = symlink_bundle(rt, "cat /srv/f", {"destination": "/srv/f", "type": "bind", "source": "file",
                                               "options": ["rbind", "copy-symlink"]})
    r = rt.run(rt.new_id(), bundle)
    assert r.rc == 0 and r.stdout == "host file\n", r


def test_src_nofollow_mounts_the_symlink_itself(rt):
    bundle = symlink_bundle(rt, "readlink /srv/l; grep -c ' /srv/l ' /proc/self/mountinfo",
                            {"destination": "/srv/l", "type": "bind", "source": "link", "options": ["bind", "src-nofollow"]})
    r = rt.run(rt.new_id(), bundle)
    assert r.stdout.split() == ["/etc/target-of-the-host-link", "1"], r


def test_dest_nofollow_mounts_on_the_images_symlink_not_where_it_points(rt):
    def image(rootfs):
        os.makedirs(os.path.join(rootfs, "srv"), exist_ok=True)
        os.symlink("/srv/pointed-to", os.path.join(rootfs, "srv", "dl"))
    bundle = symlink_bundle(rt, "cat /srv/dl; grep -c ' /srv/dl ' /proc/self/mountinfo; ls /srv/pointed-to 2>&1 | grep -c 'No such'",
                            {"destination": "/srv/dl", "type": "bind", "source": "file", "options": ["bind", "dest-nofollow"]},
                            image)
    r = rt.run(rt.new_id(), bundle)
    assert r.stdout.split("\n")[0] == "host file" and r.stdout.split()[-2:] == ["1", "1"], r


def test_dest_nofollow_needs_the_destination_in_the_image(rt):
    bundle = symlink_bundle(rt, "true", {"destination": "/srv/missing", "type": "bind", "source": "file",
                                         "options": ["bind", "dest-nofollow"]})
    cid = rt.new_id()
    one_error_line(rt.run(cid, bundle), ".mounts[7].destination", "dest-nofollow")
    assert rt.cli("state", cid).rc != 0


def test_symlink_options_refused_where_they_mean_nothing(rt):
    for options, needle in ((["copy-symlink", "src-nofollow"], "cannot go with"), (["nosuid", "copy-symlink"], "for bind mounts")):
        bundle = rt.make_bundle(args=["true"])
        kind = "bind" if "src-nofollow" in options else "tmpfs"
        bundle.edit(lambda c: c["mounts"].append({"destination": "/srv/x", "type": kind, "source": "/tmp" if kind == "bind" else "tmpfs",
                                                  "options": options}))
        cid = rt.new_id()
        one_error_line(rt.run(cid, bundle), ".mounts[7].options[1]", needle)
        assert rt.cli("state", cid).rc != 0
