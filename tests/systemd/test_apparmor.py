"""AppArmor for real (issue 21, item 1), in the systemd guest: Debian's kernel with AppArmor on and
Debian's `apparmor` package (run-in-v2-vm.sh boots with AppArmor whenever apparmor_parser is
installed, and sdvm_boot installs it), as a stock Debian 12 host has them.

The two profiles of tests/fixtures/apparmor/crun-lite-test are loaded with apparmor_parser; each
allows everything but writes under one directory. runc first, then crun-lite:
- `process.apparmorProfile` is the container process's confinement (/proc/self/attr/current) and
  its deny rule holds, while the same write elsewhere works;
- `exec --apparmor` gives the exec'd process the other profile, and an exec without it the
  container's;
- a profile that is not loaded fails the create: crun-lite names .process.apparmorProfile in one
  line, and nothing is left (the teardown checks state, units, cgroups);
- `features` says AppArmor is enabled.
"""

import json
import os

import pytest

from conftest import HERE, run_cmd

PROFILES = os.path.join(HERE, "..", "fixtures", "apparmor", "crun-lite-test")
PROBE = ("cat /proc/self/attr/current; "
         "touch /forbidden/x 2>/dev/null && echo forbidden-written || echo forbidden-denied; "
         "touch /allowed/x && echo allowed-written")


@pytest.fixture(scope="module")
def profiles():
    with open("/sys/module/apparmor/parameters/enabled") as f:
        assert f.read().strip() == "Y", "AppArmor is off in this guest (is apparmor_parser installed on the host?)"
    r = run_cmd(["apparmor_parser", "-r", "-W", PROFILES], timeout=60)
    assert r.rc == 0, r
    yield
    run_cmd(["apparmor_parser", "-R", PROFILES], timeout=60)


def confined_bundle(rt, cid, args, profile):
    def edit(cfg):
        cfg["process"]["apparmorProfile"] = profile
    b = rt.make_bundle(args, f"system.slice:test:{cid}", edit=edit)
    for d in ("forbidden", "allowed", "exec-forbidden"):
        os.makedirs(os.path.join(b, "rootfs", d), exist_ok=True)
    return b


def test_apparmor_profile_confines_the_container(rt, profiles):
    cid = rt.new_id()
    r = rt.cli("run", "--bundle", confined_bundle(rt, cid, ["sh", "-c", PROBE], "crun-lite-test"), cid)
    assert r.rc == 0, r
    assert r.stdout.split("\n")[:3] == ["crun-lite-test (enforce)", "forbidden-denied", "allowed-written"], r


def test_exec_gets_its_own_profile_or_the_containers(rt, profiles):
    cid = rt.new_id()
    r = rt.cli("run", "-d", "--bundle", confined_bundle(rt, cid, ["sleep", "300"], "crun-lite-test"), cid)
    assert r.rc == 0, r
    r = rt.cli("exec", "--apparmor", "crun-lite-test-exec", cid, "sh", "-c",
               "cat /proc/self/attr/current; touch /exec-forbidden/x 2>/dev/null || echo exec-denied; touch /forbidden/y && echo ok")
    assert (r.rc, r.stdout.split()) == (0, ["crun-lite-test-exec", "(enforce)", "exec-denied", "ok"]), r
    r = rt.cli("exec", cid, "cat", "/proc/self/attr/current")
    assert (r.rc, r.stdout.strip()) == (0, "crun-lite-test (enforce)"), r
    assert rt.cli("delete", "--force", cid).rc == 0


def test_a_profile_not_loaded_fails_naming_the_field(rt, profiles):
    cid = rt.new_id()
    r = rt.cli("run", "--bundle", confined_bundle(rt, cid, ["true"], "crun-lite-not-loaded"), cid)
    assert r.rc != 0, r
    if rt.name == "crun-lite":
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        assert len(lines) == 1 and ".process.apparmorProfile" in lines[0] and "crun-lite-not-loaded" in lines[0], r
    assert not os.path.exists(os.path.join(rt.root, cid)), "state left"


def test_features_says_apparmor_is_enabled(rt, profiles):
    r = rt.cli("features", systemd=False)
    assert r.rc == 0, r
    assert json.loads(r.stdout)["linux"]["apparmor"]["enabled"] is True, r.stdout
