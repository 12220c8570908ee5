#!/usr/bin/env bash
# Start-up latency of crun-lite against runc, on the same bundle and the same machine.
#
#   tests/bench/run_vs_runc.sh [CRUN_LITE [RUNS [MARKDOWN_OUT]]]
#
#   CRUN_LITE     crun-lite binary (default: build/crun-lite under the repository root)
#   RUNS          timed `run` invocations per runtime (default 100)
#   MARKDOWN_OUT  optional file that receives the markdown result table as well
#
# Environment: RUNC (default /usr/sbin/runc), WARMUP (default 5 per runtime and
# benchmark), CYCLE_RUNS (default: half of RUNS, at least 10) for create+start+delete,
# RAW_OUT (a CSV file for every timed sample).
#
# Two benchmarks, both on a busybox-static rootfs whose process is /bin/true and with
# the namespaces of `crun-lite spec` (pid, ipc, uts, mount, network, cgroup):
#   run    `RUNTIME --root R run ID`, timed until the runtime exits (the container
#          has run /bin/true and been deleted by then, for both runtimes);
#   cycle  `create --pid-file P ID`, `start ID`, wait for the container's /bin/true to
#          exit, `delete ID`, timed as one unit.
# Runtimes alternate (crun-lite, runc, crun-lite, runc, ...) after a warm-up, every
# invocation gets a fresh container ID, and each runtime has its own state root.
# Wall time is time.perf_counter() around subprocess.run, so it includes fork+exec of
# the runtime binary from Python (same for both). Any non-zero exit aborts the script.
# Must run as root (real namespaces, cgroups).
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$script_dir/../.." && pwd)

crun_lite=${1:-$repo_root/build/crun-lite}
runs=${2:-100}
md_out=${3:-}
runc=${RUNC:-/usr/sbin/runc}
warmup=${WARMUP:-5}
raw_out=${RAW_OUT:-}
busybox=/bin/busybox

die() { echo "run_vs_runc.sh: $*" >&2; exit 1; }

[[ $runs =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer, got '$runs'"
cycle_runs=${CYCLE_RUNS:-$(( runs / 2 > 10 ? runs / 2 : 10 ))}
[[ $warmup =~ ^[0-9]+$ ]] || die "WARMUP must be a non-negative integer, got '$warmup'"
[[ $cycle_runs =~ ^[1-9][0-9]*$ ]] || die "CYCLE_RUNS must be a positive integer, got '$cycle_runs'"
(( EUID == 0 )) || die "must run as root"
[[ -x $crun_lite ]] || die "crun-lite binary not found or not executable: $crun_lite"
crun_lite=$(cd "$(dirname "$crun_lite")" && pwd)/$(basename "$crun_lite")
[[ -x $runc ]] || die "runc not found: $runc (apt-get install -y runc)"
[[ -x $busybox ]] || die "$busybox not found (apt-get install -y busybox-static)"
command -v python3 >/dev/null || die "python3 not found"
# A dynamically linked busybox would need its libraries in the rootfs.
if command -v file >/dev/null && ! file -L "$busybox" | grep -q 'statically linked'; then
    die "$busybox is not statically linked (apt-get install -y busybox-static)"
fi
if [[ -n $md_out ]]; then
    md_dir=$(dirname "$md_out")
    [[ -d $md_dir ]] || die "directory of MARKDOWN_OUT does not exist: $md_dir"
    md_out=$(cd "$md_dir" && pwd)/$(basename "$md_out")
fi
if [[ -n $raw_out ]]; then
    [[ -d $(dirname "$raw_out") ]] || die "directory of RAW_OUT does not exist: $raw_out"
    raw_out=$(cd "$(dirname "$raw_out")" && pwd)/$(basename "$raw_out")
fi

# Everything this script creates lives under $work: the bundle and both state roots.
work=$(mktemp -d /run/crun-lite-bench.XXXXXX)
bundle=$work/bundle
root_cl=$work/root-crun-lite
root_runc=$work/root-runc
# Unique per invocation of this script, so leftovers (state, cgroups) are attributable.
id_prefix="bench$$"

py_pid=

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    set +e
    local rt root dir bin
    for rt in crun-lite runc; do
        if [[ $rt == crun-lite ]]; then root=$root_cl; bin=$crun_lite; else root=$root_runc; bin=$runc; fi
        [[ -d $root ]] || continue
        for dir in "$root"/*/; do
            [[ -d $dir ]] || continue
            "$bin" --root "$root" delete -f "$(basename "$dir")" >/dev/null 2>&1
        done
    done
    rm -rf -- "$work"
    # Cgroups a runtime left behind (the spec has no cgroupsPath: crun-lite uses
    # /crun-lite/<id>, runc <its own cgroup>/<id> in each hierarchy). Only empty ones named
    # after this run's IDs are removed, and they are reported: a leak is a runtime bug.
    local leaked
    leaked=$(find /sys/fs/cgroup -mindepth 2 -maxdepth 6 -depth -type d -name "${id_prefix}-*" 2>/dev/null)
    if [[ -n $leaked ]]; then
        echo "run_vs_runc.sh: warning: a runtime left these cgroups behind (removing the empty ones):" >&2
        echo "$leaked" >&2
        echo "$leaked" | while read -r dir; do rmdir "$dir" 2>/dev/null; done
    fi
    exit "$rc"
}

# On Ctrl-C or SIGTERM, ask the timing loop to stop after the iteration in progress (it
# then force-deletes what it has created); a second signal stops it at once. Runtime
# processes run in their own session, so a Ctrl-C never kills one half-way through.
on_signal() {
    local code=$1
    if [[ -n $py_pid ]]; then
        kill -TERM "$py_pid" 2>/dev/null || true
        trap 'kill -INT "$py_pid" 2>/dev/null || true' INT TERM
        wait "$py_pid" 2>/dev/null || true
    fi
    exit "$code"
}
trap cleanup EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

mkdir -p "$bundle/rootfs/bin" "$root_cl" "$root_runc"
cp "$busybox" "$bundle/rootfs/bin/busybox"
ln -s busybox "$bundle/rootfs/bin/true"
"$crun_lite" spec --bundle "$bundle"
python3 - "$bundle/config.json" <<'EOF'
import json, sys
path = sys.argv[1]
with open(path) as f:
    spec = json.load(f)
spec["process"]["args"] = ["/bin/true"]
spec["process"]["terminal"] = False
kinds = sorted(ns["type"] for ns in spec["linux"]["namespaces"])
want = sorted(["pid", "mount", "network", "ipc", "uts", "cgroup"])
if kinds != want:
    sys.exit(f"unexpected namespaces in the default spec: {kinds}, expected {want}")
with open(path, "w") as f:
    json.dump(spec, f, indent=2)
EOF

export BENCH_CRUN_LITE=$crun_lite BENCH_RUNC=$runc BENCH_BUNDLE=$bundle \
       BENCH_ROOT_CL=$root_cl BENCH_ROOT_RUNC=$root_runc BENCH_WORK=$work \
       BENCH_ID_PREFIX=$id_prefix BENCH_RUNS=$runs BENCH_CYCLE_RUNS=$cycle_runs \
       BENCH_WARMUP=$warmup BENCH_MD_OUT=$md_out BENCH_RAW_OUT=$raw_out

# In the background, so that the traps above run as soon as a signal comes in.
python3 - <<'EOF' &
import ctypes, math, os, platform, select, signal, statistics, subprocess, sys, time

env = os.environ
bundle = env["BENCH_BUNDLE"]
work = env["BENCH_WORK"]
prefix = env["BENCH_ID_PREFIX"]
runs = int(env["BENCH_RUNS"])
cycle_runs = int(env["BENCH_CYCLE_RUNS"])
warmup = int(env["BENCH_WARMUP"])
md_out = env["BENCH_MD_OUT"]
raw_out = env["BENCH_RAW_OUT"]
runtimes = [
    ("crun-lite", "cl", env["BENCH_CRUN_LITE"], env["BENCH_ROOT_CL"]),
    ("runc", "runc", env["BENCH_RUNC"], env["BENCH_ROOT_RUNC"]),
]

# The container init outlives `create` (its parents exit); as a child subreaper this
# process inherits it and can wait for it, rather than leaving that to PID 1.
PR_SET_CHILD_SUBREAPER = 36
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
    sys.exit(f"prctl(PR_SET_CHILD_SUBREAPER): {os.strerror(ctypes.get_errno())}")

# SIGTERM or SIGINT: stop between iterations, so no container is left half-made; a second
# one interrupts at once (KeyboardInterrupt).
stop_requested = False


def on_signal(signum, frame):
    global stop_requested
    if stop_requested:
        raise KeyboardInterrupt
    stop_requested = True


signal.signal(signal.SIGINT, on_signal)
signal.signal(signal.SIGTERM, on_signal)

errlog = os.path.join(work, "stderr.log")
counter = 0


class Failure(Exception):
    pass


class Stopped(Exception):
    pass


def invoke(argv):
    """Run one runtime command from the bundle directory; raise Failure on a non-zero exit.

    stdout goes to /dev/null and stderr to a file, never to pipes: after `create` the
    container init holds the same stdio until it exits, so a pipe would not see EOF."""
    with open(errlog, "w+b") as err:
        # A session of its own: a Ctrl-C at the terminal must not reach the runtime.
        proc = subprocess.run(argv, cwd=bundle, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
        if proc.returncode != 0:
            err.seek(0)
            msg = err.read().decode(errors="replace").strip()
            raise Failure(f"`{' '.join(argv)}` exited with {proc.returncode}: {msg or '(no stderr)'}")


def wait_exit(pid):
    """Wait for the container init to exit (and reap it)."""
    try:
        os.waitpid(pid, 0)
        return
    except ChildProcessError:
        pass  # not reparented to us: wait through a pidfd instead
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        select.select([fd], [], [])
    finally:
        os.close(fd)


def reap_orphans(timeout=0.0):
    """Reap exited orphans; with a timeout, wait up to that long for all children to go.

    Only called while no subprocess.run is in flight, so it cannot steal its status."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            if time.monotonic() >= deadline:
                return
            time.sleep(0.01)


# Containers that may exist: ID -> (binary, root). On failure they are force-deleted
# from here, while this process is still the subreaper that can reap their init.
live = {}


def force_delete_live():
    for cid, (binary, root) in list(live.items()):
        subprocess.run([binary, "--root", root, "delete", "-f", cid], cwd=bundle,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, start_new_session=True)
        del live[cid]
    reap_orphans(timeout=2.0)


def new_id(tag, kind):
    global counter
    counter += 1
    return f"{prefix}-{tag}-{kind}-{counter:05d}"


def bench_run(binary, root, tag):
    cid = new_id(tag, "run")
    live[cid] = (binary, root)
    t0 = time.perf_counter()
    invoke([binary, "--root", root, "run", cid])
    t1 = time.perf_counter()
    del live[cid]
    reap_orphans()
    if os.path.exists(os.path.join(root, cid)):
        raise Failure(f"state of {cid} left behind by `run` in {root}")
    return (t1 - t0) * 1000.0


def bench_cycle(binary, root, tag):
    cid = new_id(tag, "cyc")
    pidfile = os.path.join(work, f"{cid}.pid")
    live[cid] = (binary, root)
    t0 = time.perf_counter()
    invoke([binary, "--root", root, "create", "--pid-file", pidfile, cid])
    with open(pidfile) as f:
        pid = int(f.read().strip())
    invoke([binary, "--root", root, "start", cid])
    wait_exit(pid)
    invoke([binary, "--root", root, "delete", cid])
    t1 = time.perf_counter()
    del live[cid]
    os.unlink(pidfile)
    reap_orphans()
    if os.path.exists(os.path.join(root, cid)):
        raise Failure(f"state of {cid} left behind by `delete` in {root}")
    return (t1 - t0) * 1000.0


def measure(fn, n):
    times = {name: [] for name, *_ in runtimes}
    for i in range(warmup + n):
        for name, tag, binary, root in runtimes:
            if stop_requested:
                raise Stopped
            t = fn(binary, root, tag)
            if i >= warmup:
                times[name].append(t)
    return times


def p90(values):
    s = sorted(values)
    return s[max(0, math.ceil(0.9 * len(s)) - 1)]  # nearest-rank


def version(argv):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
        return ", ".join(line.strip() for line in out.splitlines()[:2])
    except (OSError, subprocess.CalledProcessError, IndexError):
        return "unknown"


def cpu_pressure():
    # "some avg60" of /proc/pressure/cpu: share of time something waited for a CPU.
    try:
        with open("/proc/pressure/cpu") as f:
            return f.readline().split()[2].split("=")[1] + "%"
    except (OSError, IndexError):
        return "n/a"


load_before, psi_before = os.getloadavg(), cpu_pressure()
try:
    results = [
        ("run", runs, measure(bench_run, runs)),
        ("create+start+delete", cycle_runs, measure(bench_cycle, cycle_runs)),
    ]
except Failure as e:
    force_delete_live()
    sys.exit(f"run_vs_runc.sh: {e}")
except (Stopped, KeyboardInterrupt):
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    force_delete_live()
    sys.exit("run_vs_runc.sh: interrupted")

# Plain summary.
for bench, n, times in results:
    cl, rc = times["crun-lite"], times["runc"]
    print(f"{bench} ({n} runs each, after {warmup} warm-up runs each, interleaved):")
    for name in ("crun-lite", "runc"):
        t = times[name]
        print(f"  {name:9s}  median {statistics.median(t):8.2f} ms   p90 {p90(t):8.2f} ms"
              f"   min {min(t):8.2f} ms")
    print(f"  ratio crun-lite/runc  median {statistics.median(cl) / statistics.median(rc):.2f}"
          f"   p90 {p90(cl) / p90(rc):.2f}")
print()

# Markdown.
lines = [
    f"crun-lite: `{version([runtimes[0][2], '--version'])}`, "
    f"runc: `{version([runtimes[1][2], '--version'])}`, "
    f"kernel {platform.release()}, {os.cpu_count()} CPUs, "
    f"load average before {load_before[0]:.2f} / after {os.getloadavg()[0]:.2f} (1 min), "
    f"CPU pressure (some, avg60) before {psi_before} / after {cpu_pressure()}",
    "",
    "| Benchmark | Runs/runtime | crun-lite median (ms) | runc median (ms) | Ratio (median) "
    "| crun-lite p90 (ms) | runc p90 (ms) | Ratio (p90) |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
]
for bench, n, times in results:
    cl, rc = times["crun-lite"], times["runc"]
    mcl, mrc, pcl, prc = statistics.median(cl), statistics.median(rc), p90(cl), p90(rc)
    lines.append(f"| `{bench}` | {n} | {mcl:.2f} | {mrc:.2f} | {mcl / mrc:.2f} "
                 f"| {pcl:.2f} | {prc:.2f} | {pcl / prc:.2f} |")
md = "\n".join(lines) + "\n"
if raw_out:
    with open(raw_out, "w") as f:
        f.write("benchmark,runtime,iteration,ms\n")
        for bench, n, times in results:
            for name in ("crun-lite", "runc"):
                for i, t in enumerate(times[name]):
                    f.write(f"{bench},{name},{i},{t:.3f}\n")
print(md, end="")
if md_out:
    with open(md_out, "w") as f:
        f.write(md)
EOF
py_pid=$!
wait "$py_pid"
