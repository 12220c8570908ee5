#!/usr/bin/env python3
"""`run /bin/true` with --systemd-cgroup, side by side, in a guest whose PID 1 is systemd.

    tests/bench/systemd-bench.py [--runs N] [--warmup N] [CRUN_LITE]

On the host: boots the systemd guest (tests/vm/run-in-v2-vm.sh -s; pure cgroup v2, systemd 252)
and runs itself there with --guest. In the guest: one busybox bundle (ociVersion 1.0.2, which
every runtime here reads), then `RUNTIME --systemd-cgroup run ID` of /bin/true, interleaved
(crun-lite, runc, crun, ... then again), N times each after a warm-up; each container gets its
runtime's default unit for an empty cgroupsPath (runc-ID.scope, crun-lite-ID.scope, ...). Every
run is checked to leave no state behind. Prints a markdown table: median and p90 per runtime and
crun-lite's ratio to each, against the target (crun-lite <= 0.5 x crun's median). Exit status 0
when every run succeeded and left nothing behind, whether or not the target was met.

Runtimes: crun-lite (CRUN_LITE, default build/crun-lite), Debian's runc 1.1.5 and crun 1.8.1
(installed with apt when missing), and the newer prebuilt runc 1.3.6 and crun 1.27.1 of the
shared tools beside the checkout (../shared/tools/anchors, or $ANCHORS; skipped with a note when
absent). Needs root. About 2 minutes under TCG emulation.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from crunlite_testlib import bundles  # noqa: E402
TARGET = 0.5  # crun-lite / crun (the newest crun at hand), median


def host_main(args):
    crun_lite = os.path.realpath(args.crun_lite or os.path.join(REPO, "build", "crun-lite"))
    if not os.access(crun_lite, os.X_OK):
        sys.exit(f"systemd-bench: no crun-lite at {crun_lite} (build it first)")
    need = [p for p, binary in (("runc", "/usr/sbin/runc"), ("crun", "/usr/bin/crun"), ("libyajl2", None))
            if (binary and not os.access(binary, os.X_OK)) or
            (binary is None and subprocess.run(["dpkg", "-s", p], capture_output=True).returncode != 0)]
    if need:  # libyajl2: what the prebuilt crun 1.27.1 links
        print(f"systemd-bench: installing {' '.join(need)} (apt-get)", file=sys.stderr)
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *need], check=True,
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    anchors = os.environ.get("ANCHORS") or os.path.join(REPO, "..", "shared", "tools", "anchors")
    anchors = os.path.realpath(anchors)
    # The guest's /tmp and /run are its own: the binary goes where the guest sees it.
    work = tempfile.mkdtemp(prefix="crun-lite-sdbench.", dir="/var/tmp")
    try:
        shutil.copy2(crun_lite, os.path.join(work, "crun-lite"))
        argv = [os.path.join(REPO, "tests", "vm", "run-in-v2-vm.sh"), "-s", "-t", "900", "-m", "1024", "-c", "2",
                "-e", "PYTHONDONTWRITEBYTECODE=1", os.path.abspath(__file__), "--guest", "--anchors", anchors,
                "--runs", str(args.runs), "--warmup", str(args.warmup), os.path.join(work, "crun-lite")]
        return subprocess.run(argv).returncode
    finally:
        shutil.rmtree(work, ignore_errors=True)


def make_bundle(crun_lite, path):
    def edit(cfg):
        cfg["ociVersion"] = "1.0.2"  # crun 1.8 refuses 1.2.0; this bundle uses 1.0 fields only
        cfg["process"]["terminal"] = False
        cfg["linux"].pop("cgroupsPath", None)
    bundles.make_bundle(path, [crun_lite, "spec", "--bundle", path], args=["/bin/true"], edit=edit,
                        applets=("true",), dirs=("bin",))


def guest_main(args):
    runtimes = [("crun-lite", args.crun_lite), ("runc 1.1.5", "/usr/sbin/runc"), ("crun 1.8.1", "/usr/bin/crun")]
    for name, file in (("runc 1.3.6", "runc-1.3.6"), ("crun 1.27.1", "crun-1.27.1")):
        path = os.path.join(args.anchors, file)
        if os.access(path, os.X_OK):
            runtimes.append((name, path))
        else:
            print(f"note: {path} is missing: {name} left out", flush=True)
    base = tempfile.mkdtemp(prefix="sdbench.", dir="/run")
    bundle = os.path.join(base, "bundle")
    make_bundle(args.crun_lite, bundle)
    roots = {name: os.path.join(base, f"root{i}") for i, (name, _) in enumerate(runtimes)}
    samples = {name: [] for name, _ in runtimes}
    failures = 0
    for i in range(args.warmup + args.runs):
        for k, (name, binary) in enumerate(runtimes):
            cid = f"sdb{i}-{k}"
            argv = [binary, "--systemd-cgroup", "--root", roots[name], "run", "--bundle", bundle, cid]
            t0 = time.perf_counter()
            r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True)
            ms = (time.perf_counter() - t0) * 1000.0
            if r.returncode != 0 or os.path.exists(os.path.join(roots[name], cid)):
                failures += 1
                print(f"FAIL: {name}: {' '.join(argv)} -> {r.returncode}: {r.stderr.strip()[:300]}", flush=True)
                subprocess.run([binary, "--systemd-cgroup", "--root", roots[name], "delete", "--force", cid],
                               capture_output=True)
                continue
            if i >= args.warmup:
                samples[name].append(ms)
    left = subprocess.run(["systemctl", "list-units", "--all", "--no-legend", "--plain", "*sdb*"],
                          capture_output=True, text=True).stdout.strip()
    if left:
        failures += 1
        print(f"FAIL: units left behind:\n{left}", flush=True)
    med = {n: statistics.median(s) for n, s in samples.items() if s}
    p90 = {n: sorted(s)[max(0, int(0.9 * len(s) + 0.5) - 1)] for n, s in samples.items() if s}
    systemd = subprocess.run(["systemctl", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    print(f"\n`run /bin/true` with --systemd-cgroup in the systemd guest ({systemd}, kernel "
          f"{os.uname().release}; {args.runs} runs each, interleaved, {args.warmup} warm-up)\n")
    print("| runtime | median (ms) | p90 (ms) | crun-lite / runtime (medians) |")
    print("|---|---:|---:|---:|")
    for name, _ in runtimes:
        if name in med:
            ratio = med["crun-lite"] / med[name] if "crun-lite" in med else float("nan")
            print(f"| {name} | {med[name]:.1f} | {p90[name]:.1f} | {ratio:.2f} |")
    crun_names = [n for n in ("crun 1.27.1", "crun 1.8.1") if n in med]
    ok = failures == 0 and "crun-lite" in med and crun_names
    if ok:
        ratio = med["crun-lite"] / med[crun_names[0]]
        verdict = "PASS" if ratio <= TARGET else "FAIL"
        print(f"\ntarget: crun-lite <= {TARGET} x {crun_names[0]}'s median: {ratio:.2f} {verdict}")
    shutil.rmtree(base, ignore_errors=True)
    return 0 if ok else 1


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("crun_lite", nargs="?")
    p.add_argument("--runs", type=int, default=30)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--guest", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--anchors", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.guest:
        return guest_main(args)
    if os.geteuid() != 0:
        sys.exit("systemd-bench: must run as root")
    return host_main(args)


if __name__ == "__main__":
    sys.exit(main())
