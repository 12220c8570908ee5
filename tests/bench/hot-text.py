#!/usr/bin/env python3
"""Regenerates cmake/hot-text.ld: the code a container's life actually runs, placed first.

Why: the kernel maps a binary's code 64 KiB at a time ("fault-around"), so the resident size
of a run is set by how many 64 KiB windows of code it touches, not by how much code it runs.
Linked in the usual order, the few hundred KiB a `run` executes (glibc's start-up, the ifunc
resolvers of its string functions, malloc, CLI11, nlohmann, ours) are spread over nearly every
window of the 2.4 MiB of code. Grouped, they fill a third of them.

How: crun-lite is linked once more from the same objects with every input section of code on a
page of its own (SUBALIGN(4096)). That binary is copied to a small ext4 image on a loop device
whose read-ahead is 0, and its page cache dropped: then every page of code is read on its first
touch, by a page fault of its own (fault-around maps only pages already cached), so `perf record
-e page-faults -d` lists exactly the input sections a workload runs. The linker script lists them
(whole objects for glibc, whose functions sit one per object; single functions for libstdc++ and
crun-lite, compiled with -ffunction-sections) in an output section placed before .text.

A stale list costs memory, never correctness: sections it no longer names are linked as usual.

Usage (as root, on this project's machine, from the source tree):
    tests/bench/hot-text.py [BUILD_DIR [OUTPUT]]   # defaults: build, cmake/hot-text.ld
Needs: perf (linux-perf), losetup, mkfs.ext4, a static build made with CMake's Makefile generator
(its CMakeFiles/crun-lite.dir/link.txt is reused) and busybox-static for the bundle.
"""

import bisect
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from crunlite_testlib.bundles import make_bundle  # noqa: E402
OUTPUT = os.path.join(SOURCE, "cmake", "hot-text.ld")


def sh(*args, **kw):
    return subprocess.run(list(args), check=True, **kw)


def input_sections(map_path):
    """(address, size, object, section) of every input section in the link map."""
    lines = open(map_path).read().splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("Linker script and memory map"))
    out, pending = [], None
    for line in lines[start:]:
        m = re.match(r"^ (\.\S+)(?:\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+))?\s*$", line)
        if m:
            if m.group(2):
                out.append((int(m.group(2), 16), int(m.group(3), 16), m.group(4), m.group(1)))
                pending = None
            else:
                pending = m.group(1)
            continue
        if pending:
            m = re.match(r"^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+)", line)
            if m:
                out.append((int(m.group(1), 16), int(m.group(2), 16), m.group(3), pending))
            pending = None
    return sorted(s for s in out if s[1] > 0 and s[3].startswith(".text"))


def workload(binary, work):
    """The commands whose code counts: run, create/start/state/kill/delete, exec."""
    bundle = make_bundle(os.path.join(work, "bundle"), [binary, "spec"], args=["/bin/true"],
                         edit=lambda cfg: cfg["process"].update(terminal=False), applets=("true", "sleep", "sh"),
                         dirs=("bin",))
    state = os.path.join(work, "state")
    steps = [[binary, "--root", state, "run", "hot-run"]]
    bundle.configure(args=["/bin/sleep", "30"])
    steps += [[binary, "--root", state, "create", "hot-c"], [binary, "--root", state, "start", "hot-c"],
              [binary, "--root", state, "state", "hot-c"], [binary, "--root", state, "exec", "hot-c", "/bin/true"],
              [binary, "--root", state, "kill", "hot-c", "KILL"], [binary, "--root", state, "delete", "-f", "hot-c"]]
    return bundle.path, steps


def link_spread_out(build, work):
    """crun-lite linked again with each input section of code on its own page; returns the
    binary and its link map."""
    script, binary, link_map = (os.path.join(work, n) for n in ("spread.ld", "crun-lite-spread", "spread.map"))
    with open(script, "w") as f:
        f.write("SECTIONS\n{\n  .text.spread : SUBALIGN(4096) { *(.text .text.*) }\n}\nINSERT BEFORE .text;\n")
    command = shlex.split(open(os.path.join(build, "CMakeFiles", "crun-lite.dir", "link.txt")).read())
    command = [c for c in command if "hot-text.ld" not in c and not c.startswith("-Wl,-Map")]
    out = command.index("-o")
    command[out + 1] = binary
    sh(*command, f"-Wl,-T,{script}", f"-Wl,-Map,{link_map}", cwd=build)
    return binary, link_map


# glibc picks its string functions by CPU (ifunc): memmove-avx-unaligned-erms on one machine,
# memmove-avx512-unaligned-erms or strlen-evex on another. This project's machines change, so
# the variants an earlier list named (traced on another CPU) stay in it, after today's sections:
# a list made on an AVX2 machine would otherwise leave an AVX-512 machine's string functions
# spread over the cold code (with some 80 sections of changed code, they took the peak RSS of
# `run` from 1.4 to 2.2 MiB once).
CPU_VARIANT = re.compile(r"^\s*\*libc\.a:[a-z0-9_]+-(?:sse|ssse|avx|evex|erms|generic)[a-z0-9_-]*\.o\(")


def cpu_variants_of_other_machines(previous_list, lines):
    if not os.path.exists(previous_list):
        return []
    today = set(lines)
    return [l.rstrip("\n") for l in open(previous_list) if CPU_VARIANT.match(l) and l.rstrip("\n") not in today]


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(SOURCE, "build"))
    output = os.path.abspath(sys.argv[2]) if len(sys.argv) > 2 else OUTPUT
    if os.geteuid() != 0:
        sys.exit("hot-text: must run as root (loop device, containers)")
    work = tempfile.mkdtemp(prefix="crun-lite-hot-text.", dir="/var/tmp")
    loop = None
    try:
        binary, link_map = link_spread_out(build, work)
        sections = input_sections(link_map)
        starts = [s[0] for s in sections]
        image, mnt = os.path.join(work, "fs.img"), os.path.join(work, "mnt")
        # Room for two copies of the binary (the next one is written beside the current one)
        # and ext4's own blocks: a debug-info build is ~100 MB.
        with open(image, "wb") as f:
            f.truncate(max(256 << 20, 3 * os.path.getsize(binary) + (64 << 20)))
        sh("mkfs.ext4", "-q", "-F", image)
        loop = subprocess.run(["losetup", "-f", "--show", image], check=True, capture_output=True, text=True).stdout.strip()
        sh("blockdev", "--setra", "0", loop)
        os.mkdir(mnt)
        sh("mount", loop, mnt)
        try:
            cold = os.path.join(mnt, "crun-lite")
            bundle, steps = workload(binary, work)
            pages = set()
            for i, step in enumerate(steps):
                shutil.copy2(binary, cold + ".new")
                os.rename(cold + ".new", cold)
                fd = os.open(cold, os.O_RDONLY)
                os.fsync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                os.close(fd)
                trace = os.path.join(work, f"faults{i}.data")
                sh("perf", "record", "-q", "-e", "page-faults", "-c", "1", "-d", "-o", trace,
                   cold, *step[1:], cwd=bundle, stdout=subprocess.DEVNULL)
                out = subprocess.run(["perf", "script", "-i", trace, "-F", "addr"], check=True,
                                     capture_output=True, text=True).stdout
                pages |= {int(a, 16) >> 12 for a in out.split()}
        finally:
            subprocess.run(["umount", mnt])
    finally:
        if loop:
            subprocess.run(["losetup", "-d", loop])
        shutil.rmtree(work, ignore_errors=True)

    hot, seen = [], set()
    for page in sorted(pages):
        lo, hi = page << 12, (page + 1) << 12
        i = max(bisect.bisect_right(starts, lo) - 1, 0)
        while i < len(sections) and sections[i][0] < hi:
            address, size, obj, name = sections[i]
            if address + size > lo and (obj, name) not in seen:
                seen.add((obj, name))
                hot.append((obj, name))
            i += 1
    lines = []
    for obj, name in hot:
        archive = re.match(r"(?:.*/)?(lib[^/(]+\.a)\(([^)]+)\)$", obj)
        if archive:
            lines.append(f"    *{archive.group(1)}:{archive.group(2)}({name})")
        elif name != ".text":
            lines.append(f"    *({name})")  # a function section of our own: its name is unique
        else:
            lines.append(f"    *{os.path.basename(obj)}(.text)")
    kib = sum(s[1] for s in sections if (s[2], s[3]) in seen) // 1024
    lines += cpu_variants_of_other_machines(output, lines)
    with open(output, "w") as f:
        f.write("/* Generated by tests/bench/hot-text.py: the code `run`, `create`, `start`, `state`, `exec`,\n"
                f"   `kill` and `delete` touch ({len(hot)} input sections, {kib} KiB), placed before the rest so that\n"
                "   it fills few of the 64 KiB windows the kernel maps at a time. See that script. */\n"
                "SECTIONS\n{\n  .text.crunlite_hot :\n  {\n" + "\n".join(lines) + "\n  }\n}\nINSERT BEFORE .text;\n")
    print(f"hot-text: {len(pages)} pages touched, {len(hot)} input sections ({kib} KiB) -> {output}")


if __name__ == "__main__":
    main()
