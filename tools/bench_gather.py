#!/usr/bin/env python3
"""Gather-and-write scaling benchmark: many tiny images on several ranks.

Usage:
    /usr/bin/python3 tools/bench_gather.py [--build-dir build] [--ranks 4]
        [--counts 12500,25000,50000,100000] [--keep DIR] [--csv]

Generates (once) the largest count of 8x8 grayscale PNGs with graybench-gen, then for each
count runs `mpirun -np RANKS graybench --list FIRST_N_PATHS --strategy sequential` and reports
what the per-image rows cost after the work: the gather to rank 0 (`gather_s`, max over ranks),
the crash-safe append to the HDF5 file (`save`), rank 0's peak RSS, the whole invocation's
elapsed time and the results file size - in total and per image, so linear growth shows as a
flat per-image column. Figures come from one run each on whatever machine runs this; the
machine is likely shared, so compare ratios within one run.

This is a benchmark, not a test: it asserts nothing.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import h5py
import pandas as pd

SUMMARY = re.compile(
    r"wall=\s*(?P<wall>[\d.]+) s.*gather=(?P<gather>[\d.]+) s\s+save=(?P<save>[\d.]+) s\s+rss=(?P<rss>[\d.]+) MiB")


def mpi_env():
    env = dict(os.environ)
    if os.geteuid() == 0:
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    return env


def generate(build, directory, count):
    stamp = os.path.join(directory, ".count")
    if os.path.exists(stamp) and open(stamp).read().strip() == str(count):
        return
    shutil.rmtree(directory, ignore_errors=True)
    subprocess.run([os.path.join(build, "graybench-gen"), "--output", directory, "--count", str(count),
                    "--sizes", "8x8", "--formats", "png", "--modes", "gray", "--subdirs", "100"],
                   check=True, stdout=subprocess.DEVNULL)
    with open(stamp, "w") as f:
        f.write(str(count))


def run_one(build, ranks, list_file, results):
    cmd = ["mpirun", "-np", str(ranks), "--oversubscribe", os.path.join(build, "graybench"),
           "--list", list_file, "--results", results, "--strategy", "sequential"]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, env=mpi_env(), capture_output=True, text=True)
    elapsed = time.monotonic() - t0
    if proc.returncode != 0:
        sys.exit(f"bench_gather: graybench failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    m = SUMMARY.search(proc.stdout)
    if not m:
        sys.exit(f"bench_gather: no summary line in: {proc.stdout!r}")
    with h5py.File(results, "r") as f:
        run = f["runs"][sorted(f["runs"])[-1]]
        ranks_table = run["ranks"][:]
        n_rows = run["images"].shape[0]
    return {
        "wall_s": float(m["wall"]),
        "gather_s": float(m["gather"]),
        "save_s": float(m["save"]),
        "rank0_rss_mib": float(m["rss"]),
        "elapsed_s": elapsed,
        "file_mib": os.path.getsize(results) / 2**20,
        "rows": n_rows,
        "max_rank_rss_mib": ranks_table["max_rss_kb"].max() / 1024,
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build-dir", default=os.path.join(os.path.dirname(__file__), "..", "build"))
    ap.add_argument("--ranks", type=int, default=4)
    ap.add_argument("--counts", default="12500,25000,50000,100000")
    ap.add_argument("--keep", help="directory for the image set, reused between invocations")
    ap.add_argument("--csv", action="store_true")
    args = ap.parse_args(argv)
    counts = sorted(int(c) for c in args.counts.split(","))
    build = os.path.abspath(args.build_dir)

    work = args.keep or tempfile.mkdtemp(prefix="graybench-gather-")
    images = os.path.join(work, "images")
    print(f"generating {counts[-1]} images in {images} ...", file=sys.stderr)
    generate(build, images, counts[-1])
    paths = sorted(os.path.join(d, f) for d, _, fs in os.walk(images) for f in fs if f.endswith(".png"))

    rows = []
    for n in counts:
        list_file = os.path.join(work, f"list-{n}.txt")
        with open(list_file, "w") as f:
            f.write("\n".join(paths[:n]) + "\n")
        results = os.path.join(work, f"results-{n}.h5")
        if os.path.exists(results):
            os.remove(results)
        print(f"running {n} images on {args.ranks} ranks ...", file=sys.stderr)
        r = run_one(build, args.ranks, list_file, results)
        assert r["rows"] == n, (r["rows"], n)
        rows.append({"images": n, **r})

    df = pd.DataFrame(rows)
    for col in ("gather_s", "save_s", "elapsed_s"):
        df[col.replace("_s", "_us_per_image")] = df[col] / df["images"] * 1e6
    df["rank0_rss_kib_per_image"] = df["rank0_rss_mib"] * 1024 / df["images"]
    df["file_bytes_per_image"] = df["file_mib"] * 2**20 / df["images"]
    if args.csv:
        df.to_csv(sys.stdout, index=False)
    else:
        with pd.option_context("display.width", 200, "display.max_columns", 30):
            print(df.round(4).to_string(index=False))
        print(f"\n{args.ranks} ranks on {os.uname().nodename}, nproc {os.cpu_count()}; "
              "per-image columns flat = linear in the image count")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
