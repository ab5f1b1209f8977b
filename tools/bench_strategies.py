#!/usr/bin/python3
"""Benchmark of the strategies (issue "strategies"): median wall time and parallel efficiency.

Usage:
    /usr/bin/python3 tools/bench_strategies.py [--build-dir build] [--images 48]
        [--sizes 320x240,640x480,800x600] [--repeat 5] [--warmup 1] [--workers 1,2]
        [--kernel-repeat-files 1] [--kernel-repeat-memory 20] [--gil] [--keep DIR] [--csv]

Generates a seeded image set with graybench-gen (in a temporary directory, or in --keep DIR,
reused when it already holds a set made with the same options), then runs ONE graybench
invocation per mode:

    graybench --input SET --results R.h5 --strategy all --workers 1,2 --repeat N --warmup W
              --mode MODE --kernel-repeat K -q            (MODE = files, then memory)

and reads R.h5 with h5py. It prints one row per (mode, strategy, workers): the median wall time
over the repeats, images/s at that median, the speedup over the sequential median of the same
mode, and the parallel efficiency

    efficiency = median_wall(strategy, 1 worker) / (workers * median_wall(strategy, workers))

followed by a "targets" section: at 2 workers in memory mode, threads/openmp/pool should reach
>= 95 % efficiency and processes >= 90 %. `memory` mode takes file reading and decoding out of the
timed work and --kernel-repeat-memory makes the kernel dominate, so it measures the strategies'
own overhead; `files` mode is the realistic end-to-end figure.

graybench is run as ONE process, without mpirun, on purpose: under mpirun Open MPI binds each
rank to a single core by default, so 2 threads or 2 worker processes of one rank would share one
core and intra-node scaling would be hidden (efficiency near 50 %). Run outside mpirun, the
workers may use every CPU this process is allowed (`nproc`).

With --gil, graybench emulates Python's GIL (--gil) and the script prints the GIL check instead
of the targets: threads/openmp/pool should gain nothing from a second worker (median wall at 2
workers / at 1 worker >= ~1), while processes, one GIL each, should still speed up (> 1).

Options:
    --build-dir DIR          build tree holding graybench and graybench-gen
                             (default: $GRAYBENCH_BUILD_DIR, else <repo>/build)
    --images N               images in the generated set (default 48)
    --sizes LIST             graybench-gen --sizes (default 320x240,640x480,800x600)
    --repeat N, --warmup W   measured / unrecorded repetitions per combination (5, 1)
    --workers LIST           worker counts (default 1,2; 1 is needed for the efficiency)
    --kernel-repeat-files K  graybench --kernel-repeat in files mode (default 1)
    --kernel-repeat-memory K graybench --kernel-repeat in memory mode (default 20)
    --gil                    emulate the GIL and print the GIL check instead of the targets
    --keep DIR               keep the set (DIR/images) and the results (DIR/results.h5)
    --csv                    print the main table as CSV and nothing else on stdout

Progress goes to stderr. Figures come from one run on a possibly shared machine: medians damp
noise, but other load on the machine still shows; rerun before trusting a small difference.

Exit codes: 0 table printed (whether or not targets are met); 1 graybench or graybench-gen
failed, or the results file lacks runs; 2 usage error.

Functions meant for reuse and tests: median_table, efficiency, gil_check, target_check.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from graybench_tools import load  # noqa: E402  the project's one reader of results files

REPO = Path(__file__).resolve().parents[1]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

#: graybench's strategies, in print order.
STRATEGIES = ["sequential", "threads", "openmp", "pool", "processes"]
#: Modes, in run and print order.
MODES = ["files", "memory"]
#: Runs measuring the same configuration (one row of the table).
CONFIG_KEYS = ["mode", "kernel_repeat", "gil"]
#: Efficiency targets at 2 workers in memory mode (issue "strategies").
TARGETS = {"threads": 0.95, "openmp": 0.95, "pool": 0.95, "processes": 0.90}
TARGET_WORKERS = 2
TARGET_MODE = "memory"
#: Strategies that share one (emulated) GIL per process, and so must not speed up under --gil.
GIL_BOUND = ["threads", "openmp", "pool"]
#: Under --gil, a 2-worker/1-worker wall ratio at or above this counts as "no speedup".
GIL_NO_SPEEDUP_MIN = 0.95
#: Average CPUs used by other processes during a graybench invocation above which we warn.
OTHER_LOAD_WARN = 0.25

TABLE_COLUMNS = ["mode", "kernel_repeat", "gil", "strategy", "workers", "n_runs",
                 "median_wall_s", "images_per_s", "speedup", "efficiency"]


class BenchError(Exception):
    """A failure to report as one line on stderr (exit 1)."""


def load_runs(h5path: str | os.PathLike) -> pd.DataFrame:
    """One row per run of a graybench results file: `run` plus every run attribute (read by
    tools/graybench_tools/load.py, the project's one reader of results files)."""
    try:
        return load.load_runs(str(h5path))
    except load.ResultsError as e:
        raise BenchError(str(e)) from e


def _order(df: pd.DataFrame) -> pd.DataFrame:
    """Sorts rows by mode, configuration, strategy (graybench's order), then workers."""
    key_mode = df["mode"].map({m: i for i, m in enumerate(MODES)}).fillna(len(MODES))
    key_strategy = df["strategy"].map({s: i for i, s in enumerate(STRATEGIES)}).fillna(
        len(STRATEGIES))
    keys = pd.DataFrame({"_m": key_mode, "_s": key_strategy}, index=df.index)
    ordered = pd.concat([df, keys], axis=1).sort_values(
        ["_m", "mode"] + [k for k in CONFIG_KEYS[1:] if k in df] + ["_s", "strategy", "workers"],
        kind="stable")
    return ordered.drop(columns=["_m", "_s"]).reset_index(drop=True)


def median_table(h5path: str | os.PathLike) -> pd.DataFrame:
    """Medians over repeats of every (mode, kernel_repeat, gil, strategy, workers) in `h5path`.

    Columns: mode, kernel_repeat, gil, strategy, workers, n_runs, median_wall_s,
    images_per_s (n_images / median_wall_s), n_failed (summed over the runs).
    Runs that did not complete are left out. Speedup and efficiency: see efficiency().
    """
    runs = load_runs(h5path)
    if runs.empty:
        raise BenchError(f"no runs in {h5path}")
    for col, default in (("mode", "files"), ("kernel_repeat", 1), ("gil", 0), ("n_failed", 0),
                         ("status", "complete")):
        if col not in runs:
            runs[col] = default
    runs = runs[runs["status"] == "complete"]
    keys = CONFIG_KEYS + ["strategy", "workers"]
    g = (runs.groupby(keys, sort=False)
         .agg(n_runs=("run", "size"), median_wall_s=("wall_s", "median"),
              n_images=("n_images", "max"), n_failed=("n_failed", "sum"))
         .reset_index())
    g["images_per_s"] = g["n_images"] / g["median_wall_s"].where(g["median_wall_s"] > 0)
    cols = keys + ["n_runs", "median_wall_s", "images_per_s", "n_failed"]
    return _order(g[cols])


def efficiency(df: pd.DataFrame) -> pd.DataFrame:
    """Adds `speedup` and `efficiency` to a table of medians (a copy is returned).

    `df` needs strategy, workers and median_wall_s; rows are compared within the same
    configuration (the CONFIG_KEYS columns present: mode, kernel_repeat, gil).
      speedup    = median wall of `sequential` (same configuration) / median_wall_s
      efficiency = median wall of the same strategy at 1 worker / (workers * median_wall_s)
    Either is NaN where its reference row is missing or a wall time is not positive.
    """
    out = df.copy()
    if out.empty:
        out["speedup"], out["efficiency"] = pd.Series(dtype=float), pd.Series(dtype=float)
        return out
    keys = [k for k in CONFIG_KEYS if k in out]
    wall = out["median_wall_s"].astype(float)
    wall = wall.where(wall > 0)
    # One string key per configuration (and per configuration + strategy) to look references up.
    config = (out[keys].astype(str).agg("\x1f".join, axis=1) if keys
              else pd.Series("", index=out.index))
    config_strategy = config + "\x1f" + out["strategy"].astype(str)
    is_seq = out["strategy"] == "sequential"
    is_one = out["workers"] == 1
    seq_wall = config.map(wall[is_seq].groupby(config[is_seq]).median()).astype(float)
    one_wall = config_strategy.map(
        wall[is_one].groupby(config_strategy[is_one]).median()).astype(float)
    out["speedup"] = seq_wall / wall
    out["efficiency"] = one_wall / (out["workers"].astype(float) * wall)
    return out


def _row(table: pd.DataFrame, strategy: str, workers: int, **config) -> pd.Series | None:
    mask = (table["strategy"] == strategy) & (table["workers"] == workers)
    for k, v in config.items():
        mask &= table[k] == v
    rows = table[mask]
    return rows.iloc[0] if len(rows) else None


def target_check(table: pd.DataFrame, workers: int = TARGET_WORKERS,
                 mode: str = TARGET_MODE) -> pd.DataFrame:
    """Efficiency against TARGETS at `workers` in `mode`, one row per targeted strategy.

    Columns: strategy, workers, efficiency, target, met (bool; False where not measured).
    """
    rows = []
    for strategy, target in TARGETS.items():
        r = _row(table, strategy, workers, mode=mode)
        eff = float(r["efficiency"]) if r is not None else np.nan
        rows.append(dict(strategy=strategy, workers=workers, efficiency=eff, target=target,
                         met=bool(eff >= target) if not np.isnan(eff) else False))
    return pd.DataFrame(rows)


def gil_check(table: pd.DataFrame, workers: int = TARGET_WORKERS) -> pd.DataFrame:
    """Under --gil, per mode: the GIL-bound strategies' wall ratio at `workers` / 1 worker and
    the processes' speedup (expected > 1). In memory mode (kernel only) the GIL-bound ratio is
    expected >= GIL_NO_SPEEDUP_MIN (no speedup); in files mode read and decode run outside the
    emulated GIL, so some speedup (< 1) is expected.

    Columns: mode, strategy, measure ('wall ratio' or 'speedup'), value, expected, as_expected.
    """
    rows = []
    for mode in [m for m in MODES if m in set(table["mode"])] + sorted(
            set(table["mode"]) - set(MODES)):
        for strategy in GIL_BOUND + ["processes"]:
            r1 = _row(table, strategy, 1, mode=mode)
            rw = _row(table, strategy, workers, mode=mode)
            if r1 is None or rw is None:
                value = np.nan
            else:
                value = float(rw["median_wall_s"]) / float(r1["median_wall_s"])
            if strategy == "processes":
                value = 1.0 / value if value else np.nan
                rows.append(dict(mode=mode, strategy=strategy, measure="speedup", value=value,
                                 expected="> 1", as_expected=bool(value > 1.0)))
            elif mode == "files":
                # The emulated GIL covers only the kernel: read and decode run outside it (as
                # Pillow's C code releases the GIL), so I/O-bound threads still speed up.
                rows.append(dict(mode=mode, strategy=strategy, measure="wall ratio", value=value,
                                 expected="< 1 (read/decode run outside the GIL)",
                                 as_expected=bool(value < 1.0)))
            else:
                rows.append(dict(mode=mode, strategy=strategy, measure="wall ratio", value=value,
                                 expected=f">= ~1 (>= {GIL_NO_SPEEDUP_MIN})",
                                 as_expected=bool(value >= GIL_NO_SPEEDUP_MIN)))
    return pd.DataFrame(rows)


# --- running the binaries -------------------------------------------------------------------

def _binary(build_dir: Path, name: str, wait_s: float = 60.0) -> Path:
    """`build_dir/name`, waiting a while if a rebuild is relinking it."""
    path = build_dir / name
    deadline = time.monotonic() + (wait_s if build_dir.is_dir() else 0)
    while not (path.is_file() and os.access(path, os.X_OK)):
        if time.monotonic() > deadline:
            raise BenchError(f"{path} is missing or not executable: build graybench first "
                             f"(cmake --build {build_dir}) or pass --build-dir")
        time.sleep(0.5)
    return path


def _busy_cpu_s() -> float | None:
    """CPU seconds the whole host has spent busy since boot (/proc/stat), None if unknown."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu" or len(fields) < 8:
        return None
    # user nice system idle iowait irq softirq steal ...: all but idle and iowait are busy
    # (guest time is already counted in user).
    ticks = [int(x) for x in fields[1:9]]
    busy = sum(ticks) - ticks[3] - ticks[4]
    return busy / os.sysconf("SC_CLK_TCK")


def _children_cpu_s() -> float:
    """CPU seconds of our waited-for children and their waited-for descendants."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _run(cmd: Sequence[str | os.PathLike], what: str) -> float | None:
    """Runs `cmd`; raises BenchError if it fails. Returns the average number of CPUs that
    *other* processes kept busy meanwhile (host busy time minus ours, over the wall time), a
    sign that the measurement was disturbed; None where /proc/stat is unavailable."""
    cmd = [str(c) for c in cmd]
    print(f"bench_strategies.py: {what}: {shlex.join(cmd)}", file=sys.stderr, flush=True)
    busy0, ours0, t0 = _busy_cpu_s(), _children_cpu_s(), time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    busy1, ours1, t1 = _busy_cpu_s(), _children_cpu_s(), time.monotonic()
    if proc.returncode != 0:
        detail = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
        raise BenchError(f"{Path(cmd[0]).name} failed ({what}) with exit code "
                         f"{proc.returncode}: {detail[-1] if detail else 'no output'}")
    if busy0 is None or busy1 is None or t1 <= t0:
        return None
    return max(0.0, (busy1 - busy0) - (ours1 - ours0)) / (t1 - t0)


def _gen_stamp(args: argparse.Namespace) -> str:
    return f"graybench-gen --count {args.images} --seed {args.seed} --sizes {args.sizes}\n"


def prepare_set(gen: Path, args: argparse.Namespace, root: Path) -> Path:
    """The image set under `root`/images: generated, or reused when its stamp matches."""
    images, stamp = root / "images", root / "generated-with.txt"
    if images.exists():
        if not stamp.is_file() or stamp.read_text() != _gen_stamp(args):
            raise BenchError(
                f"{images} exists but was not generated with these options "
                f"({_gen_stamp(args).strip()}); delete it or choose another --keep DIR")
        print(f"bench_strategies.py: reusing the image set in {images}", file=sys.stderr)
        return images
    root.mkdir(parents=True, exist_ok=True)
    _run([gen, "--output", images, "--count", args.images, "--seed", args.seed,
          "--sizes", args.sizes], "generate the image set")
    stamp.write_text(_gen_stamp(args))
    return images


def run_modes(graybench: Path, images: Path, results: Path,
              args: argparse.Namespace) -> dict[str, float | None]:
    """One graybench invocation per mode, all appending to `results`.

    Returns, per mode, the average CPUs other processes used meanwhile (see _run)."""
    other_load = {}
    for mode in MODES:
        k = args.kernel_repeat_files if mode == "files" else args.kernel_repeat_memory
        cmd = [graybench, "--input", images, "--results", results, "--strategy", "all",
               "--workers", ",".join(map(str, args.workers)), "--repeat", args.repeat,
               "--warmup", args.warmup, "--mode", mode, "--kernel-repeat", k, "-q"]
        if args.gil:
            cmd.append("--gil")
        other_load[mode] = _run(cmd, f"{mode} mode")
    return other_load


# --- printing -------------------------------------------------------------------------------

def _fmt(df: pd.DataFrame, formats: dict[str, str]) -> str:
    shown = df.copy()
    for col, fmt in formats.items():
        if col in shown:
            shown[col] = ["" if pd.isna(v) else fmt.format(v) for v in shown[col]]
    return shown.to_string(index=False)


def table_text(table: pd.DataFrame) -> str:
    shown = table[TABLE_COLUMNS].rename(columns={"images_per_s": "images/s"})
    return _fmt(shown, {"median_wall_s": "{:.6f}", "images/s": "{:.1f}", "speedup": "{:.2f}",
                        "efficiency": "{:.1%}"})


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_text(runs: pd.DataFrame, load_before: tuple[float, float, float] | None,
                 other_load: dict[str, float | None] | None = None) -> str:
    nproc = len(os.sched_getaffinity(0))
    lines = [f"machine: {platform.node()}, nproc {nproc} (cpus online {os.cpu_count()}), "
             f"CPU {_cpu_model()}"]
    if load_before is not None:
        lines.append("load average before the run: " + ", ".join(f"{x:.2f}" for x in load_before))
    measured = {m: v for m, v in (other_load or {}).items() if v is not None}
    if measured:
        lines.append("CPUs kept busy by other processes during the run (average): " +
                     ", ".join(f"{m} mode {v:.2f}" for m, v in measured.items()))
        disturbed = [m for m, v in measured.items() if v > OTHER_LOAD_WARN]
        if disturbed:
            lines.append(f"warning: other processes competed for the CPUs during "
                         f"{' and '.join(disturbed)} mode (> {OTHER_LOAD_WARN} CPUs on average): "
                         f"its multi-worker figures understate scaling; rerun on a quiet machine")
    if not runs.empty:
        first = runs.iloc[0]
        lines.append(f"graybench {first.get('graybench_version', '?')} "
                     f"({first.get('git_revision', '?')}, {first.get('build_type', '?')}, "
                     f"{first.get('compiler', '?')})")
        if str(first.get("build_type", "")).lower() not in ("release", "relwithdebinfo"):
            lines.append("warning: graybench is not an optimised build; timings are not "
                         "representative")
    lines.append("note: figures come from one run on a possibly shared machine (medians over "
                 "the repeats); other load shows up as lower efficiency.")
    if nproc < max(TARGET_WORKERS, 1):
        lines.append(f"note: only {nproc} CPU(s) available: {TARGET_WORKERS} workers cannot "
                     "scale here.")
    return "\n".join(lines)


def targets_text(table: pd.DataFrame) -> str:
    if TARGET_WORKERS not in set(table["workers"]) or 1 not in set(table["workers"]):
        return (f"targets: not evaluated (need --workers to include 1 and {TARGET_WORKERS})")
    t = target_check(table)
    lines = [f"targets (efficiency at {TARGET_WORKERS} workers, {TARGET_MODE} mode):"]
    for r in t.itertuples():
        eff = "not measured" if np.isnan(r.efficiency) else f"{r.efficiency:6.1%}"
        lines.append(f"  {r.strategy:<10} {eff}  target >= {r.target:.0%}  "
                     f"{'met' if r.met else 'NOT MET'}")
    return "\n".join(lines)


def gil_text(table: pd.DataFrame) -> str:
    if TARGET_WORKERS not in set(table["workers"]) or 1 not in set(table["workers"]):
        return (f"GIL check: not evaluated (need --workers to include 1 and {TARGET_WORKERS})")
    lines = [f"GIL check ({TARGET_WORKERS} workers vs 1, --gil):"]
    for r in gil_check(table).itertuples():
        value = "not measured" if np.isnan(r.value) else f"{r.value:5.2f}"
        verdict = "as expected" if r.as_expected else "UNEXPECTED"
        lines.append(f"  {r.mode:<7} {r.strategy:<10} {r.measure:<10} {value}  "
                     f"expected {r.expected:<15} {verdict}")
    return "\n".join(lines)


# --- command line ---------------------------------------------------------------------------

def _int_at_least(minimum: int):
    """An argparse type: an integer >= minimum."""
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if v < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}: {text!r}")
        return v
    return parse


_positive_int = _int_at_least(1)
_non_negative_int = _int_at_least(0)


def _worker_list(text: str) -> list[int]:
    values = [_positive_int(x.strip()) for x in text.split(",") if x.strip()]
    if not values:
        raise argparse.ArgumentTypeError("empty worker list")
    return sorted(set(values))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    default_build = os.environ.get("GRAYBENCH_BUILD_DIR", str(REPO / "build"))
    p = argparse.ArgumentParser(
        prog="bench_strategies.py",
        description="Median wall time and parallel efficiency of every graybench strategy, "
                    "in files and memory modes (single process, no mpirun).")
    p.add_argument("--build-dir", default=default_build,
                   help="build tree with graybench and graybench-gen "
                        "(default: $GRAYBENCH_BUILD_DIR, else <repo>/build)")
    p.add_argument("--images", type=_positive_int, default=48, help="images in the set (48)")
    p.add_argument("--sizes", default="320x240,640x480,800x600",
                   help="graybench-gen --sizes (320x240,640x480,800x600)")
    p.add_argument("--seed", type=_non_negative_int, default=1, help="graybench-gen --seed (1)")
    p.add_argument("--repeat", type=_positive_int, default=5, help="measured repetitions (5)")
    p.add_argument("--warmup", type=_non_negative_int, default=1, help="warm-up repetitions (1)")
    p.add_argument("--workers", type=_worker_list, default=[1, 2], help="worker counts (1,2)")
    p.add_argument("--kernel-repeat-files", type=_positive_int, default=1,
                   help="--kernel-repeat in files mode (1)")
    p.add_argument("--kernel-repeat-memory", type=_positive_int, default=20,
                   help="--kernel-repeat in memory mode (20)")
    p.add_argument("--gil", action="store_true",
                   help="emulate the GIL; print the GIL check instead of the targets")
    p.add_argument("--keep", metavar="DIR",
                   help="keep the image set (DIR/images, reused) and results (DIR/results.h5)")
    p.add_argument("--csv", action="store_true", help="print the main table as CSV only")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    try:
        build_dir = Path(args.build_dir).resolve()
        gen = _binary(build_dir, "graybench-gen")
        graybench = _binary(build_dir, "graybench")
        with tempfile.TemporaryDirectory(prefix="bench_strategies-") as tmp:
            root = Path(args.keep).resolve() if args.keep else Path(tmp)
            images = prepare_set(gen, args, root)
            results = root / "results.h5"
            results.unlink(missing_ok=True)  # graybench appends: start from an empty file
            other_load = run_modes(graybench, images, results, args)
            table = efficiency(median_table(results))
            runs = load_runs(results)
        if args.keep:
            print(f"bench_strategies.py: results kept in {results}", file=sys.stderr)
    except BenchError as e:
        print(f"bench_strategies.py: error: {e}", file=sys.stderr)
        return EXIT_FAILED

    if (table["n_failed"] > 0).any():
        print("bench_strategies.py: warning: some images failed to convert; see "
              "tools/graybench-report on the results", file=sys.stderr)
    if args.csv:
        table[TABLE_COLUMNS].to_csv(sys.stdout, index=False)
        return EXIT_OK

    print(f"graybench strategies: {args.images} images ({args.sizes}), repeat {args.repeat}, "
          f"warmup {args.warmup}, single process (no mpirun)"
          + (", GIL emulated" if args.gil else ""))
    print("speedup = sequential median / median (same mode); "
          "efficiency = median(1 worker) / (workers x median)")
    print(table_text(table))
    print()
    print(gil_text(table) if args.gil else targets_text(table))
    print()
    print(machine_text(runs, load_before, other_load))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
