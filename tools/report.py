#!/usr/bin/python3
"""Summarise a graybench HDF5 results file.

Usage:
    /usr/bin/python3 tools/report.py RESULTS.h5 [--run NAME ...] [--csv]

Prints one line per run (name, strategy, workers, ranks, nodes, repeat, status,
n_images, n_failed, wall_s, images/s = n_images / wall_s, and the load imbalance
max/mean of the ranks' compute_s). Where some (strategy, workers, ranks) was
measured more than once, a second table follows with the median wall time and
images/s of each such group and the speedup over the median sequential run at
the same rank count (blank when there is none).

Options:
    --run NAME ...   report only these runs (repeatable, e.g. --run run-00001 run-00003)
    --csv            print the per-run table as CSV instead (nothing else on stdout)

Exit codes: 0 report printed; 2 usage error (missing file, not HDF5, not a
graybench results file, unknown run name), with one line on stderr.

The file is read with h5py alone (docs/schema.md describes it); no graybench code
is imported. Statistics are computed here from the raw rows the job stored.
Functions meant for reuse and tests: load_runs, load_ranks, summary, grouped.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

import h5py
import numpy as np
import pandas as pd

SCHEMA_PREFIX = "graybench/"
EXIT_OK = 0
EXIT_USAGE = 2

#: Columns of the per-run table, in print order.
RUN_COLUMNS = [
    "run", "strategy", "workers", "ranks", "nodes", "repeat", "status",
    "n_images", "n_failed", "wall_s", "images_per_s", "imbalance",
]
#: A group of runs measures the same thing: same strategy, workers and rank count.
GROUP_KEYS = ["strategy", "workers", "ranks"]


class ReportError(Exception):
    """A problem with the input the user can fix; main prints it as one line, exit 2."""


def _python_value(value):
    """Turns an h5py attribute or field value into a plain Python value."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray) and value.shape == ():
        return _python_value(value[()])
    return value


def _decode_strings(df: pd.DataFrame) -> pd.DataFrame:
    """Decodes the bytes columns h5py returns for variable-length string fields."""
    for col in df.columns:
        if df[col].dtype == object:
            df[col] = df[col].map(_python_value)
    return df


def open_results(path: str) -> h5py.File:
    """Opens `path` read-only and checks it is a graybench results file.

    Raises ReportError with a one-line message otherwise.
    """
    if not os.path.exists(path):
        raise ReportError(f"no such file: {path}")
    if os.path.isdir(path):
        raise ReportError(f"is a directory, not a results file: {path}")
    if not h5py.is_hdf5(path):
        raise ReportError(f"not an HDF5 file: {path}")
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise ReportError(f"cannot open {path} as HDF5: {e}") from e
    schema = _python_value(f.attrs.get("schema", ""))
    if not isinstance(schema, str) or not schema.startswith(SCHEMA_PREFIX):
        f.close()
        raise ReportError(
            f"not a graybench results file (root attribute schema is {schema!r}): {path}")
    if "runs" not in f or not isinstance(f["runs"], h5py.Group):
        f.close()
        raise ReportError(f"graybench file without a /runs group: {path}")
    return f


def load_ranks(path: str) -> pd.DataFrame:
    """One row per (run, rank): the raw /runs/<run>/ranks rows with a `run` column first."""
    with open_results(path) as f:
        frames = []
        for name in sorted(f["runs"]):
            group = f["runs"][name]
            if "ranks" not in group:
                continue
            df = _decode_strings(pd.DataFrame(group["ranks"][()]))
            df.insert(0, "run", name)
            frames.append(df)
    if not frames:
        return pd.DataFrame(columns=["run", "rank", "compute_s"])
    return pd.concat(frames, ignore_index=True)


def _rank_compute_s(group: h5py.Group) -> np.ndarray:
    """The compute_s of each rank of one run (empty if the run has no ranks table)."""
    ranks = group.get("ranks")
    if not isinstance(ranks, h5py.Dataset) or "compute_s" not in (ranks.dtype.names or ()):
        return np.array([])
    return np.asarray(ranks["compute_s"], dtype=float) if len(ranks) else np.array([])


def load_runs(path: str) -> pd.DataFrame:
    """One row per run, sorted by name: column `run` plus every attribute of /runs/<run>.

    Two columns summarise the run's ranks table so that summary() needs no other
    input: `compute_s_max` and `compute_s_mean` (NaN where the table is absent).
    Raises ReportError if `path` is not a graybench results file.
    """
    with open_results(path) as f:
        rows = []
        for name in sorted(f["runs"]):
            group = f["runs"][name]
            row = {"run": name}
            row.update({k: _python_value(v) for k, v in group.attrs.items()})
            compute = _rank_compute_s(group)
            row["compute_s_max"] = compute.max() if compute.size else np.nan
            row["compute_s_mean"] = compute.mean() if compute.size else np.nan
            rows.append(row)
    df = pd.DataFrame(rows)
    if df.empty:
        df = pd.DataFrame(columns=["run", "compute_s_max", "compute_s_mean"])
    return df


def summary(df: pd.DataFrame) -> pd.DataFrame:
    """The per-run table (RUN_COLUMNS) from load_runs() output.

    images_per_s = n_images / wall_s (NaN when wall_s is not positive);
    imbalance = compute_s_max / compute_s_mean (1.0 is perfect balance).
    Missing attributes become NaN rather than errors, so older files still report.
    """
    out = pd.DataFrame({"run": df["run"]}) if "run" in df else pd.DataFrame(columns=["run"])
    for col in RUN_COLUMNS[1:]:
        if col in df:
            out[col] = df[col]
    wall = pd.to_numeric(df.get("wall_s", pd.Series(np.nan, index=df.index)), errors="coerce")
    n = pd.to_numeric(df.get("n_images", pd.Series(np.nan, index=df.index)), errors="coerce")
    out["images_per_s"] = (n / wall.where(wall > 0)).astype(float)
    cmax = pd.to_numeric(df.get("compute_s_max", pd.Series(np.nan, index=df.index)),
                         errors="coerce")
    cmean = pd.to_numeric(df.get("compute_s_mean", pd.Series(np.nan, index=df.index)),
                          errors="coerce")
    out["imbalance"] = (cmax / cmean.where(cmean > 0)).astype(float)
    for col in RUN_COLUMNS:
        if col not in out:
            out[col] = np.nan
    return out[RUN_COLUMNS].reset_index(drop=True)


def grouped(per_run: pd.DataFrame) -> pd.DataFrame:
    """Medians over repeats of each (strategy, workers, ranks) group of summary() rows.

    Columns: strategy, workers, ranks, n_runs, median_wall_s, median_images_per_s,
    speedup = median wall of the sequential group at the same ranks / this median wall
    (NaN where no sequential run exists at that rank count).
    """
    cols = GROUP_KEYS + ["n_runs", "median_wall_s", "median_images_per_s", "speedup"]
    if per_run.empty:
        return pd.DataFrame(columns=cols)
    g = (per_run.groupby(GROUP_KEYS, dropna=False, sort=True)
         .agg(n_runs=("run", "size"),
              median_wall_s=("wall_s", "median"),
              median_images_per_s=("images_per_s", "median"))
         .reset_index())
    seq = g[g["strategy"] == "sequential"].groupby("ranks")["median_wall_s"].median()
    base = g["ranks"].map(seq)
    g["speedup"] = (base / g["median_wall_s"].where(g["median_wall_s"] > 0)).astype(float)
    return g[cols]


def _format(df: pd.DataFrame, formats: dict[str, str]) -> str:
    """Renders a table with fixed float formats and blanks for missing values."""
    shown = df.copy()
    for col in shown.columns:
        fmt = formats.get(col)
        shown[col] = [
            "" if v is None or (isinstance(v, float) and np.isnan(v))
            else (fmt.format(v) if fmt else str(v))
            for v in shown[col]
        ]
    return shown.to_string(index=False)


def _run_table_text(per_run: pd.DataFrame) -> str:
    table = per_run.rename(columns={"images_per_s": "images/s"})
    return _format(table, {"wall_s": "{:.6f}", "images/s": "{:.1f}", "imbalance": "{:.3f}"})


def _group_table_text(groups: pd.DataFrame) -> str:
    table = groups.rename(columns={"median_images_per_s": "median_images/s"})
    return _format(table, {"median_wall_s": "{:.6f}", "median_images/s": "{:.1f}",
                           "speedup": "{:.2f}"})


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="report.py",
        description="Summarise a graybench HDF5 results file (one line per run, medians).")
    parser.add_argument("results", metavar="RESULTS.h5", help="graybench results file")
    parser.add_argument("--run", dest="runs", metavar="NAME", nargs="+", action="extend",
                        default=[], help="report only these runs (repeatable)")
    parser.add_argument("--csv", action="store_true", help="print the per-run table as CSV")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        runs = load_runs(args.results)
        if args.runs:
            unknown = [r for r in args.runs if r not in set(runs["run"])]
            if unknown:
                raise ReportError(f"no run named {', '.join(unknown)} in {args.results}")
            runs = runs[runs["run"].isin(args.runs)].reset_index(drop=True)
    except ReportError as e:
        print(f"report.py: error: {e}", file=sys.stderr)
        return EXIT_USAGE

    per_run = summary(runs)
    if args.csv:
        per_run.to_csv(sys.stdout, index=False)
        return EXIT_OK

    print(f"{args.results}: {len(per_run)} run(s)")
    if per_run.empty:
        return EXIT_OK
    print(_run_table_text(per_run))
    groups = grouped(per_run)
    if (groups["n_runs"] > 1).any():
        print()
        print("median over repeats of each (strategy, workers, ranks); "
              "speedup vs the sequential median at the same ranks:")
        print(_group_table_text(groups))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
