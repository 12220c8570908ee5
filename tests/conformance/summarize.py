#!/usr/bin/env python3
"""Markdown table of two result files that run.sh writes (build/conformance/results-NAME.tsv):
one row per case, with each runtime's passed/failed/skipped assertions and the failing ones.

    python3 tests/conformance/summarize.py build/conformance/results-crun-lite.tsv build/conformance/results-runc.tsv
"""
import collections
import sys


def load(path):
    cases = collections.OrderedDict()
    for line in open(path, encoding="utf-8"):
        parts = line.rstrip("\n").split("\t")
        if len(parts) < 4:
            continue
        area, name, desc, status = parts[:4]
        c = cases.setdefault((area, name), {"pass": 0, "fail": 0, "skip": 0, "failed": []})
        c[status] += 1
        if status == "fail":
            c["failed"].append(desc)
    return cases


def cell(c):
    if c is None:
        return "—"
    s = f"{c['pass']} ok"
    if c["fail"]:
        s = f"**{c['fail']} FAIL**, " + s + ": " + "; ".join(c["failed"])
    if c["skip"]:
        s += f", {c['skip']} skip"
    return s


def main():
    runs = [load(p) for p in sys.argv[1:]]
    keys = list(runs[0].keys())
    for r in runs[1:]:
        keys += [k for k in r if k not in keys]
    print("| area | case | " + " | ".join(sys.argv[1:]) + " |")
    print("|---|---|" + "---|" * len(runs))
    for k in keys:
        print(f"| {k[0]} | {k[1]} | " + " | ".join(cell(r.get(k)) for r in runs) + " |")


if __name__ == "__main__":
    main()
