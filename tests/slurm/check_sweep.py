#!/usr/bin/python3
"""Checks a merged sweep: every expected (nodes, ranks, workers, strategy, cache) combination of
each shape is present exactly once, complete, without failures, with every layout attribute, and
every run found the same checksum for every image.

    check_sweep.py MERGED.h5 --shapes array,packed --nodes 1,2 --layouts 1x2,2x1
                   --strategies sequential,threads --workers 1,2 --cache warm,cold
The shape of a run is read from its provenance (source_file under <dir>/<shape>/results/).
"""

import argparse
import collections
import itertools
import sys

import h5py

LAYOUT_ATTRS = ["nodes", "ranks_per_node", "ranks", "workers", "strategy", "distribution", "mode",
                "kernel_repeat", "gil", "cache", "input_fingerprint", "run_uuid",
                "slurm_job_id", "slurm_step_id", "source_file", "source_job",
                "cache_resident_fraction"]
PARALLEL = {"threads", "openmp", "pool", "processes"}


def text(v):
    return v.decode() if isinstance(v, bytes) else v


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("merged")
    for name in ("shapes", "nodes", "layouts", "strategies", "workers", "cache"):
        p.add_argument("--" + name, required=True)
    a = p.parse_args()
    split = lambda s: s.split(",")  # noqa: E731
    expected = set()
    for shape, n, layout, s, w, c in itertools.product(
            split(a.shapes), split(a.nodes), split(a.layouts), split(a.strategies),
            split(a.workers), split(a.cache)):
        rpn = int(layout.split("x")[0])
        wk = int(w) if s in PARALLEL else 1
        expected.add((shape, int(n), int(n) * rpn, wk, s, c))

    seen = collections.Counter()
    checksums = {}
    errors = []
    with h5py.File(a.merged, "r") as f:
        for name in sorted(f["runs"]):
            g = f["runs"][name]
            at = {k: text(v) for k, v in g.attrs.items()}
            missing = [k for k in LAYOUT_ATTRS if k not in at]
            if missing:
                errors.append(f"{name}: missing attributes {missing}")
                continue
            shape = at["source_file"].split("/")[-3]
            key = (shape, int(at["nodes"]), int(at["ranks"]), int(at["workers"]), at["strategy"],
                   at["cache"])
            seen[key] += 1
            if at["status"] != "complete" or int(at["n_failed"]) != 0:
                errors.append(f"{name} {key}: status {at['status']}, {at['n_failed']} failed")
            ranks = g["ranks"][:]
            nodes = {text(x) for x in ranks["node"]}
            if len(nodes) != int(at["nodes"]) or any(not x.startswith("node") for x in nodes):
                errors.append(f"{name} {key}: rank node names {sorted(nodes)}")
            if int(at["ranks_per_node"]) * int(at["nodes"]) != int(at["ranks"]):
                errors.append(f"{name} {key}: ranks_per_node {at['ranks_per_node']}")
            for row in g["images"][:]:
                checksums.setdefault(text(row["path"]), set()).add(int(row["checksum"]))
    for key in sorted(expected - set(seen)):
        errors.append(f"missing run {key}")
    for key in sorted(set(seen) - expected):
        errors.append(f"unexpected run {key}")
    for key, count in sorted(seen.items()):
        if count != 1:
            errors.append(f"{count} runs of {key}")
    differing = [p for p, c in checksums.items() if len(c) != 1]
    if differing:
        errors.append(f"checksums differ between runs for {differing}")
    if errors:
        print("\n".join(errors), file=sys.stderr)
        return 1
    print(f"check_sweep: {len(seen)} runs, every expected combination once, complete, "
          f"{len(checksums)} images with one checksum each")
    return 0


if __name__ == "__main__":
    sys.exit(main())
