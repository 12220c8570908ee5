"""linux.netDevices (runtime-spec 1.3, config-linux.md "Network Devices"): a host interface moves
into the container's network namespace, renamed when the entry has a `name`, with its permanent
global addresses, and up. The test makes its interfaces itself (virtual ones, so no traffic can
leave) and removes what is left of them: a `dummy`, or where the kernel has no dummy driver (this
project's host kernel) an `ifb` (an intermediate functional block, as virtual and as silent: it
sends only what tc redirects to it).

runc 1.3.6 has no netDevices (runc 1.4 has): these tests run against crun-lite only (each_rt
without the runc_too marker)."""

import os
import re
import uuid

import pytest

from helpers import run_cmd, wait_until


def ip(*args, check=True):
    r = run_cmd(["ip", *args])
    if check:
        assert r.rc == 0, r
    return r


def host_has_link(name):
    return ip("link", "show", "dev", name, check=False).rc == 0


@pytest.fixture
def host_links():
    """Makes host interfaces and network namespaces with unique names; removes whatever of them
    is left at the end."""
    made, namespaces = [], []

    class Links:
        @staticmethod
        def name(prefix="cl"):
            return prefix + uuid.uuid4().hex[:8]

        def silent(self, *addresses):
            """A dummy (or ifb) interface with these addresses."""
            name = self.name()
            if ip("link", "add", name, "type", "dummy", check=False).rc != 0:
                ip("link", "add", name, "type", "ifb")
            made.append(name)
            for a in addresses:
                ip("addr", "add", a, "dev", name)
            return name

        def veth(self):
            a, b = self.name(), self.name()
            ip("link", "add", a, "type", "veth", "peer", "name", b)
            made.extend([a, b])
            return a, b

        def netns(self):
            name = self.name("clns")
            ip("netns", "add", name)
            namespaces.append(name)
            return name

    yield Links()
    for name in made:
        if host_has_link(name):
            ip("link", "del", name, check=False)
    for name in namespaces:
        ip("netns", "del", name, check=False)


def random_address():
    """A /32 of 10.213.0.0/16 (private, on a dummy or ifb interface: nothing is ever sent)."""
    n = uuid.uuid4().int
    return f"10.213.{n % 250 + 1}.{n // 250 % 250 + 1}"


def run_and_read(rt, bundle, cid, before_start=None):
    """create, start, wait for the process to end, return what it wrote to /tmp/out."""
    rt.create(cid, bundle)
    if before_start:
        before_start()
    rt.start(cid)
    rt.wait_status(cid, "stopped")
    with open(os.path.join(bundle.rootfs, "tmp", "out")) as f:
        return f.read()


def show(name):
    return f"exec > /tmp/out 2>&1; ip -o link show dev {name}; ip -o addr show dev {name}"


def bundle_moving(rt, devices, args, edit=None):
    """A bundle whose config moves `devices` in, with a writable root for /tmp/out."""
    def full_edit(c):
        c["root"]["readonly"] = False
        c["linux"]["netDevices"] = devices
        if edit:
            edit(c)
    return rt.make_bundle(args=args, edit=full_edit)


def test_interface_moves_in_renamed_with_its_address_and_up(each_rt, host_links):
    address = random_address()
    host_name = host_links.silent(f"{address}/32", "127.213.0.9/32")
    inside = host_links.name("ct")
    bundle = bundle_moving(each_rt, {host_name: {"name": inside}}, ["sh", "-c", show(inside) + "; ls /sys/class/net"])
    cid = each_rt.new_id()

    def moved_out_of_the_host():
        # Moved at create, before the process can start.
        assert not host_has_link(host_name)

    out = run_and_read(each_rt, bundle, cid, moved_out_of_the_host)
    link = re.search(rf"^\d+: {inside}: <([^>]*)>", out, re.M)
    assert link, out
    assert "UP" in link.group(1).split(","), out
    assert re.search(rf"inet {re.escape(address)}/32 .*scope global", out), out
    # Only permanent addresses of global scope travel (the spec's rule); 127.x is host-scoped.
    assert "127.213.0.9" not in out, out
    assert host_name not in out.split(), out
    each_rt.delete(cid)


def test_interface_keeps_its_name_without_one(each_rt, host_links):
    host_name = host_links.silent()
    bundle = bundle_moving(each_rt, {host_name: {}}, ["sh", "-c", show(host_name)])
    cid = each_rt.new_id()
    out = run_and_read(each_rt, bundle, cid)
    assert re.search(rf"^\d+: {host_name}: <[^>]*\bUP\b", out, re.M), out
    each_rt.delete(cid)


def test_virtual_interfaces_go_with_the_container_network_namespace(each_rt, host_links):
    # The kernel returns physical interfaces to the initial namespace when a network namespace
    # goes, and destroys virtual ones (dummy, ifb, veth: their link ops have no netns_refund).
    # So the host's end of a veth pair disappears once the container is deleted, and the moved
    # dummy or ifb does not come back. (A physical NIC would return: this VM's only one is its uplink.)
    silent = host_links.silent(f"{random_address()}/32")
    inner, outer = host_links.veth()
    bundle = bundle_moving(each_rt, {silent: {}, inner: {"name": "eth1"}}, ["sleep", "60"])
    cid = each_rt.new_id()
    r = each_rt.run(cid, bundle, "-d")
    assert r.rc == 0, r
    assert not host_has_link(silent) and not host_has_link(inner)
    assert host_has_link(outer)
    r = each_rt.cli("exec", cid, "ip", "-o", "link", "show", "dev", "eth1")
    assert r.rc == 0 and "eth1@" in r.stdout, r
    each_rt.delete(cid, force=True)
    wait_until(lambda: not host_has_link(outer), timeout=10, what=f"the veth peer {outer} to go with the container's namespace")
    assert not host_has_link(inner) and not host_has_link(silent)


def test_interface_moves_into_a_network_namespace_joined_by_path(each_rt, host_links):
    # The interface stays in that namespace after the container, as the namespace does.
    netns = host_links.netns()
    host_name = host_links.silent(f"{random_address()}/32")
    inside = host_links.name("ct")

    def join(c):
        for n in c["linux"]["namespaces"]:
            if n["type"] == "network":
                n["path"] = f"/run/netns/{netns}"
    bundle = bundle_moving(each_rt, {host_name: {"name": inside}}, ["sh", "-c", show(inside)], join)
    cid = each_rt.new_id()
    out = run_and_read(each_rt, bundle, cid)
    assert re.search(rf"^\d+: {inside}: <[^>]*\bUP\b", out, re.M), out
    each_rt.delete(cid)
    r = ip("netns", "exec", netns, "ip", "-o", "link", "show", "dev", inside)
    assert inside in r.stdout, r


def test_a_failed_move_leaves_the_host_interfaces_as_they_were(each_rt, host_links):
    # The second interface cannot take its name ("lo" is the namespace's own): create fails with
    # one line naming it, and the first, already moved, comes back to the host with its address.
    address = random_address()
    first, second = sorted([host_links.silent(), host_links.silent()])  # the order the config's object is read in
    ip("addr", "add", f"{address}/32", "dev", first)
    bundle = bundle_moving(each_rt, {first: {"name": host_links.name("ct")}, second: {"name": "lo"}}, ["true"])
    cid = each_rt.new_id()
    r = each_rt.cli("create", "--bundle", bundle, cid)
    assert r.rc == 1 and len(r.err_lines) == 1, r
    assert f".linux.netDevices.{second}" in r.err_lines[0] and "lo" in r.err_lines[0], r
    assert host_has_link(first) and host_has_link(second)
    assert f"inet {address}/32" in ip("-o", "addr", "show", "dev", first).stdout


def test_a_create_failing_after_the_move_gives_the_interfaces_back(each_rt, host_links):
    # The move succeeds; init then fails (its program does not exist). The container's network
    # namespace goes with init, and a virtual interface with it, unless the runtime gives it back
    # first: it must be on the host again, under its own name, with its address.
    address = random_address()
    host_name = host_links.silent(f"{address}/32")
    bundle = bundle_moving(each_rt, {host_name: {"name": host_links.name("ct")}}, ["/no/such/program"])
    cid = each_rt.new_id()
    r = each_rt.cli("create", "--bundle", bundle, cid)
    assert r.rc != 0 and len(r.err_lines) == 1 and "/no/such/program" in r.err_lines[0], r
    assert host_has_link(host_name), "the interface went with the failed container's namespace"
    assert f"inet {address}/32" in ip("-o", "addr", "show", "dev", host_name).stdout
    assert not os.path.exists(os.path.join(each_rt.root, cid))
