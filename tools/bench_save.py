#!/usr/bin/python3
"""Save-cost benchmark: many runs appended to one results file.

Usage:
    /usr/bin/python3 tools/bench_save.py [--graybench build/graybench] [--runs 200]
        [--images 10000] [--jobs 1] [--keep DIR] [--csv FILE]

Generates --images tiny (4x4) PNGs with graybench-gen, then appends --runs measured runs of
them to ONE results file with the real binary (`graybench --repeat R`, or --jobs separate
invocations of R/jobs runs each, which exercises the per-job lock and journal too), and reads
each run's `save=` figure from its summary line. A save whose cost does not depend on the file's
size shows as a flat line: the report gives the median save time of the first, middle and last
tenth of the runs, the least-squares slope in ms per 100 runs, and the final file size.
Pass --graybench of an older build to compare mechanisms side by side.

This is a benchmark, not a test: it asserts nothing. The machine is likely shared: compare
ratios within one run.
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

SUMMARY = re.compile(r"^(?P<run>run-\d+)\s.*save=(?P<save>[\d.]+) s", re.M)


def slope_ms_per_100(xs, ys):
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return 0.0 if den == 0 else 100e3 * sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den


def main():
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--graybench", default=os.path.join(here, "build", "graybench"))
    ap.add_argument("--gen", default=None, help="graybench-gen (default: beside --graybench)")
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--images", type=int, default=10000)
    ap.add_argument("--jobs", type=int, default=1, help="split the runs over this many invocations")
    ap.add_argument("--keep", default=None, help="work in DIR and keep it")
    ap.add_argument("--csv", default=None, help="write run,save_s,file_bytes rows here")
    args = ap.parse_args()
    gen = args.gen or os.path.join(os.path.dirname(os.path.abspath(args.graybench)), "graybench-gen")

    work = args.keep or tempfile.mkdtemp(prefix="graybench-bench-save-")
    os.makedirs(work, exist_ok=True)
    try:
        inputs = os.path.join(work, "in")
        if not os.path.isdir(inputs):
            subprocess.run([gen, "-o", inputs, "-n", str(args.images), "--sizes", "4x4",
                            "--formats", "png", "--modes", "gray", "--subdirs", "10"],
                           check=True, stdout=subprocess.DEVNULL)
        results = os.path.join(work, "results.h5")
        if os.path.exists(results):
            os.remove(results)
        per_job = [args.runs // args.jobs + (1 if k < args.runs % args.jobs else 0)
                   for k in range(args.jobs)]
        saves, sizes = [], []
        t0 = time.perf_counter()
        for repeat in per_job:
            p = subprocess.run([args.graybench, "-i", inputs, "-r", results, "--repeat", str(repeat)],
                               capture_output=True, text=True)
            if p.returncode != 0:
                sys.exit(f"graybench failed ({p.returncode}):\n{p.stderr}")
            found = [float(m.group("save")) for m in SUMMARY.finditer(p.stdout)]
            saves += found
            sizes += [os.path.getsize(results)] * len(found)
        elapsed = time.perf_counter() - t0

        n = len(saves)
        tenth = max(1, n // 10)
        first, middle, last = saves[:tenth], saves[n // 2 - tenth // 2:][:tenth], saves[-tenth:]
        print(f"graybench:   {args.graybench}")
        print(f"runs:        {n} of {args.images} images, in {args.jobs} invocation(s), "
              f"{elapsed:.1f} s in all")
        print(f"file:        {os.path.getsize(results) / 2**20:.1f} MiB at the end")
        print(f"save, median of runs 1-{tenth}: {1e3 * statistics.median(first):8.1f} ms")
        print(f"save, median of the middle tenth: {1e3 * statistics.median(middle):8.1f} ms")
        print(f"save, median of runs {n - tenth + 1}-{n}: {1e3 * statistics.median(last):8.1f} ms")
        print(f"slope:       {slope_ms_per_100(range(n), saves):+.1f} ms per 100 runs")
        if args.csv:
            with open(args.csv, "w") as f:
                f.write("run,save_s,file_bytes\n")
                for k, (s, b) in enumerate(zip(saves, sizes), 1):
                    f.write(f"{k},{s},{b}\n")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
