"""linux.intelRdt (Intel RDT / AMD PQoS through the resctrl filesystem). The writes themselves
are unit-tested against a directory that mimics resctrl (tests/unit/resctrl_test.cpp): this
project's machines have no RDT hardware. Here: without a resctrl mount a config with intelRdt is
an error naming .linux.intelRdt (the runtime-spec's MUST), from create, run and check alike, with
nothing left behind; on a host that has one, the container's init lands in its group."""

import json
import os

import pytest

from helpers import host_mountinfo, one_error_line, parse_mountinfo

CONFIGS = {
    "closID_and_schemas": {"closID": "guaranteed_group", "l3CacheSchema": "L3:0=7f0;1=1f", "memBwSchema": "MB:0=20;1=70"},
    "schemata": {"schemata": ["L3:0=ff", "MB:0=50"]},
    "monitoring_in_the_default_clos": {"closID": "/", "enableMonitoring": True},
    "empty": {},
}


def resctrl_root():
    for m in parse_mountinfo("\n".join(host_mountinfo())):
        if m["fstype"] == "resctrl":
            return m["mount_point"]
    return None


def rdt_bundle(rt, rdt):
    return rt.make_bundle(args=["sleep", "100"], edit=lambda c: c["linux"].update(intelRdt=rdt))


def assert_refused_without_resctrl(rt, command, config):
    root = resctrl_root()
    bundle = rdt_bundle(rt, CONFIGS[config])
    cid = rt.new_id()
    r = rt.cli(*([command, "-d"] if command == "run" else [command]), "--bundle", bundle, cid)
    if root is not None:  # a host with RDT: the empty config runs (the others depend on its hardware)
        if config == "empty":
            assert r.rc == 0, r
            with open(os.path.join(root, cid, "tasks")) as f:
                assert str(rt.state(cid)["pid"]) in f.read().split()
            assert rt.delete(cid, force=True).rc == 0
            assert not os.path.exists(os.path.join(root, cid)), "the group made for the container was left"
        return
    assert r.rc != 0, r
    if rt.name == "crun-lite":
        one_error_line(r, ".linux.intelRdt", "resctrl")
    assert rt.cli("state", cid).rc != 0, "a failed create left the container behind"


@pytest.mark.runc_too(since="1.0.0")
@pytest.mark.parametrize("command", ["create", "run"])
@pytest.mark.parametrize("config", ["closID_and_schemas", "monitoring_in_the_default_clos"])
def test_intel_rdt_without_resctrl_is_an_error_leaving_nothing(each_rt, command, config):
    assert_refused_without_resctrl(each_rt, command, config)


# crun-lite only: runc 1.3.6 runs these two without a resctrl mount, the spec's MUST
# notwithstanding: it does not know `schemata` (runtime-spec 1.3, runc >= 1.4) and acts on
# nothing in an empty intelRdt.
@pytest.mark.parametrize("command", ["create", "run"])
@pytest.mark.parametrize("config", ["schemata", "empty"])
def test_any_intel_rdt_without_resctrl_is_an_error(each_rt, command, config):
    assert_refused_without_resctrl(each_rt, command, config)


def test_check_reports_the_missing_resctrl(rt, make_bundle):
    bundle = rdt_bundle(rt, CONFIGS["closID_and_schemas" if resctrl_root() is None else "empty"])
    r = rt.cli("check", "--bundle", bundle, "--format", "json")
    findings = json.loads(r.stdout)["findings"]
    if resctrl_root() is not None:  # a host with RDT: nothing to say about intelRdt {}
        assert ".linux.intelRdt" not in [f["path"] for f in findings], findings
        return
    assert r.rc == 1, r
    assert [(f["severity"], f["path"]) for f in findings] == [("error", ".linux.intelRdt")], findings
    assert "resctrl" in findings[0]["message"] and findings[0]["hint"], findings
    assert not os.path.isdir(rt.root) or os.listdir(rt.root) == []
