"""Statistics of graybench results: per-run rates, per-layout groups, speedup, Amdahl fits.

Everything is computed from the raw rows the job stored (load.py reads them); nothing here
needs the graybench binary. The definitions, also printed by `graybench-report --explain`:

- A *group* is every run with the same layout: strategy, nodes, ranks per node, ranks, workers,
  distribution, mode, kernel_repeat, gil, cache, input_fingerprint and cpu_model, plus the
  settings recorded for some strategies only (ipc for processes, omp_schedule for openmp, chunk
  for dynamic, whether outputs were written, decoder and png_level where recorded). Runs that
  differ in any of these are never pooled.
- Only *complete* runs enter a group's statistics; incomplete runs are counted (n_incomplete)
  and listed, never in a median.
- Rates count processed images only: n_processed = n_images - n_not_processed (a failed image
  was processed: it cost time); Mpix counts the pixels of the processed rows' width x height.
- cv = sample standard deviation / mean of the complete runs' wall times (NaN below 2 runs).
- cpu_utilisation = sum over ranks of (user_s + sys_s) / (wall_s x ranks x workers).
- speedup = median wall of the baseline group / median wall of this group. The baseline is the
  single-rank, single-worker sequential group of the same family (C++ `sequential`, or
  `py-sequential` for the Python baseline's py-* strategies) with the same settings (mode,
  kernel_repeat, gil, cache, input_fingerprint, cpu_model, outputs, decoder, png_level); when
  no sequential group has the same gil value, the one without --gil is used (a single thread
  never waits for the GIL) and `baseline` says so.
- efficiency = speedup / cores, cores = ranks x workers.
- Amdahl serial fraction f per strategy and settings: least squares of 1/S = f + (1 - f)/p over
  the groups with p > 1 cores: f = sum((1/S - 1/p)(1 - 1/p)) / sum((1 - 1/p)^2).
"""

from __future__ import annotations

import math
import os
from typing import Iterable

import numpy as np
import pandas as pd

from . import load as _load

#: Layout columns every group is keyed by (cache: only where recorded; empty otherwise).
LAYOUT_KEYS = ["strategy", "nodes", "ranks_per_node", "ranks", "workers", "distribution", "mode",
               "kernel_repeat", "gil", "cache", "input_fingerprint", "cpu_model"]
#: Settings recorded for some strategies or by some versions; also never pooled.
EXTRA_KEYS = ["ipc", "omp_schedule", "chunk", "outputs", "decoder", "png_level"]
GROUP_KEYS = LAYOUT_KEYS + EXTRA_KEYS
#: Keys a speedup baseline must share with the group (everything but where and how wide it ran).
SETTINGS_KEYS = ["mode", "kernel_repeat", "gil", "cache", "input_fingerprint", "cpu_model",
                 "outputs", "decoder", "png_level"]
#: Phase columns of the images table, in stacking order, and their labels.
PHASES = [("read_s", "read"), ("decode_s", "decode"), ("convert_s", "convert"),
          ("encode_s", "encode"), ("write_s", "write"), ("queue_wait_s", "queue wait"),
          ("ipc_s", "IPC")]
#: Groups whose wall-time CV is above this are flagged: a difference smaller than the noise.
CV_THRESHOLD = 0.10

#: The CSV's columns, in order (graybench-report --csv).
CSV_COLUMNS = ["strategy", "nodes", "ranks_per_node", "ranks", "workers", "cores",
               "distribution", "mode", "kernel_repeat", "gil", "cache", "input_fingerprint",
               "cpu_model", "ipc", "omp_schedule", "chunk", "outputs", "decoder", "png_level",
               "n_runs", "n_incomplete", "median_wall_s", "min_wall_s", "max_wall_s", "q1_wall_s",
               "q3_wall_s", "cv", "high_cv", "images_per_s", "mpix_per_s", "cpu_utilisation",
               "imbalance", "speedup", "efficiency", "baseline"]

RUN_COLUMNS = ["source", "run", "strategy", "ranks", "workers", "mode", "gil", "repeat", "status",
               "n_images", "n_processed", "n_failed", "wall_s", "images_per_s", "mpix_per_s",
               "cpu_utilisation", "imbalance"]


def family(strategy: str) -> str:
    """'py' for the Python baseline's strategies, 'cpp' for graybench's."""
    return "py" if str(strategy).startswith("py-") else "cpp"


def sequential_of(strategy: str) -> str:
    return "py-sequential" if family(strategy) == "py" else "sequential"


def _num(df: pd.DataFrame, col: str, default=np.nan) -> pd.Series:
    if col not in df:
        return pd.Series(default, index=df.index, dtype=float)
    return pd.to_numeric(df[col], errors="coerce").astype(float)


def _text(v) -> str:
    """A cell as text: "" for missing; a whole number stored as float (an attribute some files
    lack, e.g. png_level beside the Python baseline's runs, makes the column float) as written."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _str_col(df: pd.DataFrame, col: str) -> pd.Series:
    if col not in df:
        return pd.Series("", index=df.index, dtype=object)
    return df[col].map(_text)


def per_run(res: _load.Results) -> pd.DataFrame:
    """One row per run with the layout keys normalised and the per-run measures.

    Adds: ranks_per_node, cores, outputs, images_per_s (n_processed / wall_s), mpix_per_s,
    cpu_utilisation, imbalance (max/mean of the ranks' compute_s), complete (bool).
    """
    runs = res.runs.copy()
    if runs.empty:
        return pd.DataFrame(columns=RUN_COLUMNS + GROUP_KEYS + ["complete", "cores"])
    for col in ("nodes", "ranks", "workers", "kernel_repeat", "gil", "repeat"):
        runs[col] = _num(runs, col, 1 if col != "gil" and col != "repeat" else 0).fillna(
            0 if col in ("gil", "repeat") else 1).astype(int)
    runs["ranks_per_node"] = np.ceil(runs["ranks"] / runs["nodes"].clip(lower=1)).astype(int)
    runs["cores"] = runs["ranks"] * runs["workers"]
    runs["outputs"] = _str_col(runs, "output_dir").map(lambda s: "yes" if s else "no")
    strategy = _str_col(runs, "strategy")
    # Settings that only mean something for one strategy are blanked elsewhere, so that e.g. a
    # threads run recorded with the default ipc=pipe still matches one recorded without it.
    runs["ipc"] = _str_col(runs, "ipc").where(strategy == "processes", "")
    runs["omp_schedule"] = _str_col(runs, "omp_schedule").where(strategy == "openmp", "")
    runs["chunk"] = _str_col(runs, "chunk").where(_str_col(runs, "distribution") == "dynamic", "")
    for col in ("distribution", "mode", "cache", "input_fingerprint", "cpu_model", "decoder",
                "png_level", "strategy"):
        runs[col] = _str_col(runs, col)
    if "cpu_model" in res.runs and (runs["cpu_model"] == "").any() and "hostname" in runs:
        runs.loc[runs["cpu_model"] == "", "cpu_model"] = _str_col(runs, "hostname")
    runs["complete"] = _str_col(runs, "status").replace("", "complete") == "complete"

    wall = _num(runs, "wall_s")
    wall = wall.where(wall > 0)
    processed = _num(runs, "n_processed")
    runs["n_processed"] = processed
    runs["images_per_s"] = processed / wall

    key = ["source", "run"]
    pixels = _num(runs, "total_pixels")
    if not res.images.empty and {"width", "height", "status"} <= set(res.images.columns):
        img = res.images
        done = img[~img["status"].isin(_load.UNPROCESSED)]
        px = (done["width"].astype(float) * done["height"].astype(float)).groupby(
            [done["source"], done["run"]]).sum()
        from_images = pd.Series([px.get((s, r), np.nan) for s, r in zip(runs.source, runs.run)],
                                index=runs.index)
        pixels = from_images.where(from_images.notna(), pixels)
    runs["mpix_per_s"] = pixels / 1e6 / wall

    cpu = pd.Series(np.nan, index=runs.index)
    imbalance = pd.Series(np.nan, index=runs.index)
    if not res.ranks.empty:
        rk = res.ranks
        by = rk.groupby(key)
        if {"user_s", "sys_s"} <= set(rk.columns):
            used = (rk["user_s"].astype(float) + rk["sys_s"].astype(float)).groupby(
                [rk["source"], rk["run"]]).sum()
            cpu = pd.Series([used.get((s, r), np.nan) for s, r in zip(runs.source, runs.run)],
                            index=runs.index)
            cpu = cpu / (wall * runs["cores"])
        if "compute_s" in rk.columns:
            cmax = by["compute_s"].max()
            cmean = by["compute_s"].mean()
            ratio = cmax / cmean.where(cmean > 0)
            imbalance = pd.Series([ratio.get((s, r), np.nan)
                                   for s, r in zip(runs.source, runs.run)], index=runs.index)
    runs["cpu_utilisation"] = cpu
    runs["imbalance"] = imbalance
    for col in RUN_COLUMNS:
        if col not in runs:
            runs[col] = np.nan
    return runs.reset_index(drop=True)


def _cv(x: pd.Series) -> float:
    x = x.dropna()
    if len(x) < 2 or x.mean() <= 0:
        return float("nan")
    return float(x.std(ddof=1) / x.mean())


def groups(runs: pd.DataFrame, cv_threshold: float = CV_THRESHOLD) -> pd.DataFrame:
    """One row per layout group of per_run() rows (CSV_COLUMNS), sorted by settings then cores.

    Statistics use complete runs only; a group made of incomplete runs alone still appears,
    with n_runs 0 and its statistics NaN.
    """
    if runs.empty:
        return pd.DataFrame(columns=CSV_COLUMNS)
    rows = []
    for key, g in runs.groupby(GROUP_KEYS, dropna=False, sort=False):
        row = dict(zip(GROUP_KEYS, key))
        ok = g[g["complete"]]
        wall = ok["wall_s"].astype(float)
        row.update(
            cores=int(g["cores"].iloc[0]), n_runs=len(ok), n_incomplete=int((~g["complete"]).sum()),
            median_wall_s=wall.median(), min_wall_s=wall.min(), max_wall_s=wall.max(),
            q1_wall_s=wall.quantile(0.25) if len(ok) else np.nan,
            q3_wall_s=wall.quantile(0.75) if len(ok) else np.nan,
            cv=_cv(wall), images_per_s=ok["images_per_s"].median(),
            mpix_per_s=ok["mpix_per_s"].median(), cpu_utilisation=ok["cpu_utilisation"].median(),
            imbalance=ok["imbalance"].median())
        rows.append(row)
    out = pd.DataFrame(rows)
    out["high_cv"] = out["cv"] > cv_threshold
    out = add_speedup(out)
    out["_fam"] = out["strategy"].map(family)
    out = out.sort_values(["_fam"] + SETTINGS_KEYS + ["strategy", "gil", "ranks", "workers"],
                          kind="stable").drop(columns="_fam")
    return out[CSV_COLUMNS].reset_index(drop=True)


def _settings(row) -> tuple:
    return tuple(str(row[k]) for k in SETTINGS_KEYS)


def add_speedup(g: pd.DataFrame) -> pd.DataFrame:
    """speedup, efficiency and baseline columns against the single-rank sequential group."""
    g = g.copy()
    base = {}
    for _, row in g.iterrows():
        if row["ranks"] == 1 and row["workers"] == 1 and row["strategy"] in (
                "sequential", "py-sequential") and row["n_runs"] > 0:
            base[(row["strategy"], _settings(row))] = row["median_wall_s"]
    speedup, label = [], []
    for _, row in g.iterrows():
        seq = sequential_of(row["strategy"])
        settings = _settings(row)
        wall = base.get((seq, settings))
        note = f"{seq} 1x1"
        if wall is None and str(row["gil"]) != "0":
            no_gil = tuple("0" if k == "gil" else v for k, v in zip(SETTINGS_KEYS, settings))
            wall = base.get((seq, no_gil))
            note = f"{seq} 1x1 without --gil"
        if wall is None or not (row["median_wall_s"] > 0):
            speedup.append(np.nan)
            label.append("")
        else:
            speedup.append(wall / row["median_wall_s"])
            label.append(note)
    g["speedup"] = speedup
    g["efficiency"] = g["speedup"] / g["cores"]
    g["baseline"] = label
    return g


def amdahl(g: pd.DataFrame) -> pd.DataFrame:
    """Serial fraction f per strategy and settings, fitted to the groups with cores > 1.

    Columns: strategy, gil, the other SETTINGS_KEYS, n_points, serial_fraction (the least-squares
    f, not clipped), max_speedup (1/f, the speedup no core count can exceed; NaN when f > 1),
    rms_residual (of the fitted speedups) and fit_note: empty when 0 <= f <= 1, else why the
    model does not describe the group (f > 1: slower than its baseline, overhead rather than a
    serial part; f < 0: faster than linear, caches or noise).
    """
    cols = ["strategy"] + SETTINGS_KEYS + ["n_points", "serial_fraction", "max_speedup",
                                           "rms_residual", "fit_note"]
    rows = []
    usable = g[g["speedup"].notna() & (g["speedup"] > 0)]
    for key, sub in usable.groupby(["strategy"] + SETTINGS_KEYS, sort=False):
        sub = sub[sub["cores"] > 1]
        if sub.empty:
            continue
        p = sub["cores"].astype(float).to_numpy()
        s = sub["speedup"].astype(float).to_numpy()
        x = 1 - 1 / p
        f = float(np.sum((1 / s - 1 / p) * x) / np.sum(x * x))
        fit = 1 / (f + (1 - f) / p)
        note = ("slower than its baseline: overhead outweighs the added cores, Amdahl's model "
                "does not apply" if f > 1 else
                "faster than linear (caches or noise): no serial fraction to fit" if f < 0
                else "")
        rows.append(dict(zip(["strategy"] + SETTINGS_KEYS, key), n_points=len(sub),
                         serial_fraction=f,
                         max_speedup=np.nan if f > 1 else (1 / f) if f > 0 else np.inf,
                         rms_residual=float(np.sqrt(np.mean((fit - s) ** 2))), fit_note=note))
    return pd.DataFrame(rows, columns=cols)


def failures(res: _load.Results, runs: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every failed image (status neither ok nor not_processed) with its reason."""
    cols = ["source", "run", "strategy", "image", "path", "rank", "worker", "status", "error"]
    img = res.images
    if img.empty or "status" not in img:
        return pd.DataFrame(columns=cols)
    bad = img[~img["status"].isin(["ok", *_load.UNPROCESSED])].copy()
    strategy = res.runs.set_index(["source", "run"])["strategy"] if not res.runs.empty else {}
    bad["strategy"] = [strategy.get((s, r), "") for s, r in zip(bad["source"], bad["run"])]
    for col in cols:
        if col not in bad:
            bad[col] = ""
    return bad[cols].reset_index(drop=True)


def phases(res: _load.Results, runs: pd.DataFrame) -> pd.DataFrame:
    """Mean seconds per processed image of each phase, per group (median over complete runs).

    Columns: GROUP_KEYS, then one column per PHASES name (seconds per image, summed over the
    workers that did them: this is worker time, not wall time).
    """
    names = [p for p, _ in PHASES]
    if res.images.empty or runs.empty:
        return pd.DataFrame(columns=GROUP_KEYS + names)
    img = res.images[~res.images["status"].isin(_load.UNPROCESSED)]
    present = [p for p in names if p in img.columns]
    per = img.groupby(["source", "run"])[present].mean()
    ok = runs[runs["complete"]]
    joined = ok.join(per, on=["source", "run"])
    for p in names:
        if p not in joined:
            joined[p] = 0.0
    out = joined.groupby(GROUP_KEYS, dropna=False, sort=False)[names].median().reset_index()
    return out


def rank_table(res: _load.Results, source: str, run: str) -> pd.DataFrame:
    """The ranks rows of one run."""
    rk = res.ranks
    if rk.empty:
        return rk
    return rk[(rk["source"] == source) & (rk["run"] == run)].reset_index(drop=True)


def find_run(runs: pd.DataFrame, name: str) -> tuple[str, str]:
    """(source, run) of `name`: `run-00003`, or `FILE:run-00003` when several files hold it."""
    source = None
    if ":" in name and not name.startswith("run-"):
        source, name = name.rsplit(":", 1)
    hits = runs[runs["run"] == name]
    if source is not None:
        hits = hits[hits["source"] == source]
    if hits.empty:
        raise _load.ResultsError(f"no run named {name}" + (f" in {source}" if source else ""))
    if len(hits) > 1:
        raise _load.ResultsError(
            f"{name} is in several files ({', '.join(hits['source'])}): write FILE:{name}")
    return hits["source"].iloc[0], name


def default_timeline_run(runs: pd.DataFrame) -> tuple[str, str] | None:
    """The run a timeline shows by default: the complete run with the most cores (latest first)."""
    if runs.empty:
        return None
    ok = runs[runs["complete"]] if runs["complete"].any() else runs
    best = ok.iloc[::-1].sort_values("cores", ascending=False, kind="stable").iloc[0]
    return best["source"], best["run"]


def varying(table: pd.DataFrame, keys: Iterable[str]) -> list[str]:
    """The keys whose value differs between rows of `table`."""
    return [k for k in keys if k in table and table[k].astype(str).nunique() > 1]


def variant_label(row, keys: list[str]) -> str:
    """A short name for a group's strategy and settings: 'threads --gil', 'pool (files)'."""
    label = str(row["strategy"])
    if str(row.get("gil", "0")) not in ("0", "", "nan") and not label.startswith("py-"):
        label += " --gil"
    extra = [f"{k}={row[k]}" for k in keys if k not in ("strategy", "gil")]
    return label + (f" ({', '.join(extra)})" if extra else "")


# ---------------------------------------------------------------------------------------------
# Output: terminal text, Markdown, CSV, HTML; the graybench-report command.

EXIT_OK = 0
EXIT_USAGE = 2

#: Column legend printed under the terminal table and in the HTML/Markdown.
LEGEND = [
    ("r×w", "MPI ranks × workers per rank (cores = their product)"),
    ("runs", "complete runs in the group (+N incomplete: shown, never in a median)"),
    ("wall s", "median wall time, barrier to barrier, max over ranks"),
    ("min–max", "fastest and slowest complete run"),
    ("cv", "coefficient of variation of wall (std/mean); '!' marks cv above the threshold: "
           "differences smaller than that are noise"),
    ("img/s, Mpix/s", "median rate over processed images only (not-reached images excluded)"),
    ("cpu", "CPU utilisation: user+sys over wall × cores"),
    ("imb", "load imbalance: max/mean of the ranks' compute time (1 = perfect)"),
    ("speedup", "baseline median wall / this median wall; baseline = sequential 1×1, "
                "same input set and settings (py-sequential for py-*)"),
    ("eff", "parallel efficiency = speedup / cores"),
]

_FORMATS = {"median_wall_s": "{:.3f}", "min_wall_s": "{:.3f}", "max_wall_s": "{:.3f}",
            "q1_wall_s": "{:.3f}", "q3_wall_s": "{:.3f}", "cv": "{:.3f}",
            "images_per_s": "{:.1f}", "mpix_per_s": "{:.2f}", "cpu_utilisation": "{:.2f}",
            "imbalance": "{:.3f}", "speedup": "{:.2f}", "efficiency": "{:.2f}",
            "wall_s": "{:.3f}", "serial_fraction": "{:.3f}", "max_speedup": "{:.1f}",
            "rms_residual": "{:.3f}"}


def _blank(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _fmt(v, fmt: str | None = None) -> str:
    if _blank(v):
        return ""
    if fmt and isinstance(v, (int, float, np.number)) and not isinstance(v, bool):
        return fmt.format(v)
    return str(v)


def settings_text(row) -> str:
    """One line naming a settings block: mode, kernel repeat, inputs, CPU and the rest."""
    parts = [f"mode={row['mode']}", f"kernel_repeat={row['kernel_repeat']}"]
    for k in ("cache", "outputs", "decoder", "png_level"):
        if str(row.get(k, "")) not in ("", "nan"):
            parts.append(f"{k}={row[k]}")
    parts.append(f"inputs={_short_fp(row['input_fingerprint'])}")
    if str(row.get("cpu_model", "")):
        parts.append(f"cpu={row['cpu_model']}")
    return "  ".join(parts)


def _short_fp(fp) -> str:
    fp = str(fp)
    return fp[:12] if fp else "?"


def _block_keys() -> list[str]:
    return [k for k in SETTINGS_KEYS if k != "gil"]


def group_text(g: pd.DataFrame, cv_threshold: float) -> str:
    """The terminal table: one block per settings (input set, mode, ...), one line per group."""
    lines = []
    for _, block in g.groupby(_block_keys(), dropna=False, sort=False):
        lines.append(settings_text(block.iloc[0]))
        rows = []
        for _, r in block.iterrows():
            name = str(r["strategy"]) + (" --gil" if str(r["gil"]) not in ("0", "") and
                                         family(r["strategy"]) == "cpp" else "")
            extra = [f"{k}={r[k]}" for k in ("distribution", "ipc", "omp_schedule", "chunk")
                     if str(r[k]) and not (k == "distribution" and r["ranks"] == 1)]
            if r["nodes"] > 1:
                extra.insert(0, f"nodes={r['nodes']}")
            runs = str(r["n_runs"]) + (f"+{r['n_incomplete']}" if r["n_incomplete"] else "")
            rows.append({
                "strategy": name, "r×w": f"{r['ranks']}×{r['workers']}",
                "layout": " ".join(extra), "runs": runs,
                "wall s": _fmt(r["median_wall_s"], "{:.3f}"),
                "min–max": ("" if _blank(r["min_wall_s"]) else
                            f"{r['min_wall_s']:.3f}–{r['max_wall_s']:.3f}"),
                "cv": _fmt(r["cv"], "{:.3f}") + ("!" if r["high_cv"] else ""),
                "img/s": _fmt(r["images_per_s"], "{:.1f}"),
                "Mpix/s": _fmt(r["mpix_per_s"], "{:.2f}"),
                "cpu": _fmt(r["cpu_utilisation"], "{:.2f}"),
                "imb": _fmt(r["imbalance"], "{:.3f}"),
                "speedup": _fmt(r["speedup"], "{:.2f}"),
                "eff": _fmt(r["efficiency"], "{:.2f}"),
            })
        t = pd.DataFrame(rows)
        if (t["layout"] == "").all():
            t = t.drop(columns="layout")
        lines.append(t.to_string(index=False))
        lines.append("")
    return "\n".join(lines).rstrip()


def amdahl_text(fits: pd.DataFrame) -> str:
    lines = []
    for _, r in fits.iterrows():
        gil = " --gil" if str(r["gil"]) not in ("0", "") and family(r["strategy"]) == "cpp" else ""
        head = f"  {r['strategy']}{gil} [{r['mode']}, inputs={_short_fp(r['input_fingerprint'])}]"
        if r.get("fit_note", ""):
            lines.append(f"{head}: {r['fit_note']} (fit f = {r['serial_fraction']:.2f} from "
                         f"{r['n_points']} point(s))")
        else:
            lines.append(f"{head}: serial fraction {r['serial_fraction']:.3f} from "
                         f"{r['n_points']} point(s), speedup limit "
                         f"{_fmt(r['max_speedup'], '{:.1f}')}")
    return "\n".join(lines)


def markdown_table(df: pd.DataFrame, formats: dict[str, str] | None = None) -> str:
    """A GitHub-flavoured Markdown table (no tabulate needed)."""
    formats = formats or _FORMATS
    cols = list(df.columns)
    out = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for _, r in df.iterrows():
        out.append("| " + " | ".join(_fmt(r[c], formats.get(c)).replace("|", "\\|")
                                     for c in cols) + " |")
    return "\n".join(out)


def run_table(runs: pd.DataFrame) -> pd.DataFrame:
    return runs[RUN_COLUMNS].copy()


class Report:
    """Everything a report shows, computed once from the loaded results."""

    def __init__(self, res: _load.Results, cv_threshold: float = CV_THRESHOLD,
                 timeline_run: str | None = None):
        self.res = res
        self.cv_threshold = cv_threshold
        self.runs = per_run(res)
        self.groups = groups(self.runs, cv_threshold)
        self.fits = amdahl(self.groups)
        self.failures = failures(res)
        self.phases = phases(res, self.runs)
        self.incomplete = self.runs[~self.runs["complete"]] if not self.runs.empty else self.runs
        if timeline_run:
            self.timeline_key = find_run(self.runs, timeline_run)
        else:
            self.timeline_key = default_timeline_run(self.runs)

    def timeline_images(self) -> pd.DataFrame:
        if self.timeline_key is None or self.res.images.empty:
            return pd.DataFrame()
        s, r = self.timeline_key
        img = self.res.images
        return img[(img["source"] == s) & (img["run"] == r)]

    def timeline_title(self) -> str:
        if self.timeline_key is None:
            return ""
        s, r = self.timeline_key
        row = self.runs[(self.runs["source"] == s) & (self.runs["run"] == r)].iloc[0]
        gil = " --gil" if row["gil"] else ""
        return (f"{r} ({os.path.basename(s)}): {row['strategy']}{gil}, {row['ranks']} rank(s) × "
                f"{row['workers']} worker(s), {row['mode']}, wall {row['wall_s']:.3f} s")

    def figures(self) -> dict:
        from . import plots
        run_name = self.timeline_key[1] if self.timeline_key else ""
        ranks = rank_table(self.res, *self.timeline_key) if self.timeline_key else None
        return {
            "speedup": plots.speedup(self.groups),
            "efficiency": plots.efficiency(self.groups),
            "phases": plots.phases(self.phases),
            "imbalance": plots.imbalance(self.groups, ranks, run_name),
            "timeline": plots.timeline(self.timeline_images(), self.timeline_title()),
            "gil": plots.gil(self.groups),
        }

    def text(self) -> str:
        files = sorted(set(self.runs["source"])) if not self.runs.empty else []
        out = [f"{len(self.runs)} run(s) in {len(files)} file(s): {', '.join(files)}",
               f"{len(self.groups)} group(s) of runs with the same layout "
               f"(strategy, ranks, workers, distribution, mode, kernel repeat, GIL, inputs, CPU)",
               ""]
        if self.groups.empty:
            return "\n".join(out)
        out.append(group_text(self.groups, self.cv_threshold))
        if not self.fits.empty:
            out += ["", "Amdahl fit, 1/speedup = f + (1-f)/cores:", amdahl_text(self.fits)]
        flagged = self.groups[self.groups["high_cv"]]
        if len(flagged):
            out += ["", f"{len(flagged)} group(s) marked '!' have cv > {self.cv_threshold:.2f}: "
                        "their run-to-run noise is larger than that; repeat (--repeat) or measure "
                        "on a quiet node before trusting a smaller difference."]
        if len(self.incomplete):
            out += ["", "Incomplete runs (interrupted; rates over processed images, "
                        "never in medians): " + ", ".join(
                            f"{r.run} {r.strategy} {int(r.n_processed)}/{int(r.n_images)} images "
                            f"{_fmt(r.images_per_s, '{:.1f}')} img/s"
                            for r in self.incomplete.itertuples())]
        if len(self.failures):
            out += ["", f"{len(self.failures)} failed image(s): list them with --failures"]
        out += ["", "Columns: " + "; ".join(f"{k}: {v}" for k, v in LEGEND)]
        return "\n".join(out)

    def markdown(self, figure_files: dict[str, str]) -> str:
        from . import plots
        out = ["# graybench report", "", self.text().split("\n")[0], "",
               "## Groups", "", markdown_table(self.groups), ""]
        if not self.fits.empty:
            out += ["## Amdahl fits", "", markdown_table(self.fits), ""]
        out += ["## Runs", "", markdown_table(run_table(self.runs)), ""]
        if len(self.failures):
            out += ["## Failed images", "", markdown_table(self.failures), ""]
        out += ["## Figures", ""]
        for stem, path in figure_files.items():
            out += [f"![{plots.FIGURES[stem]}]({path})", ""]
        out += ["## Columns", ""] + [f"- **{k}**: {v}" for k, v in LEGEND]
        return "\n".join(out) + "\n"

    def html(self, pngs: dict[str, bytes]) -> str:
        from . import html as H
        from . import plots
        captions = {
            "speedup": "Median speedup of each strategy against the sequential single-rank run of "
                       "the same inputs and settings; whiskers span the fastest and slowest "
                       "complete run; dashed: ideal (speedup = cores).",
            "efficiency": "Speedup divided by cores; 1 is perfect scaling.",
            "phases": "Mean worker time per processed image in each phase (read, decode, "
                      "convert, encode, write, queue wait, IPC), median over the group's runs.",
            "imbalance": "Left: max/mean of the ranks' compute time per multi-rank group. Right: "
                         "compute and idle time per rank of the timeline's run.",
            "timeline": "Each bar is one image, from its start to its end, on the lane of the "
                        "rank and worker that processed it (red: failed).",
            "gil": "Left: CPU-bound work (C++ in memory mode): C++ threads and C++ threads "
                   "--gil, each one's speedup over itself at 1 worker: the GIL-bound line stays "
                   "near 1, the GIL-free one follows the ideal. Middle and right, when the "
                   "Python original was run: its strategies beside C++ in the same mode "
                   "(files): throughput (dotted: the sequential references) and scaling.",
        }
        flag = lambda r: "flag" if r.get("high_cv", False) else ""  # noqa: E731
        sections = [("Summary", H.pre(self.text()))]
        sections.append(("Groups", H.table(self.groups, _FORMATS, flag)))
        if not self.fits.empty:
            sections.append(("Amdahl fits", H.table(self.fits, _FORMATS)))
        figs = "".join(H.figure(png, plots.FIGURES[stem], captions[stem])
                       for stem, png in pngs.items())
        sections.append(("Figures", figs or H.paragraph("nothing to plot")))
        incomplete = lambda r: "" if r["status"] in ("complete", "") else "incomplete"  # noqa
        sections.append(("Runs", H.table(run_table(self.runs), _FORMATS, incomplete)))
        if len(self.failures):
            sections.append(("Failed images", H.table(self.failures)))
        sections.append(("Columns", "<ul>" + "".join(
            f"<li><b>{k}</b>: {v}</li>" for k, v in LEGEND) + "</ul>"))
        return H.page("graybench report", sections)

    def write(self, out_dir: str) -> dict[str, str]:
        """Writes report.html, report.md, groups.csv, runs.csv, failures.csv and the PNGs."""
        import io
        from . import plots
        os.makedirs(out_dir, exist_ok=True)
        written, pngs = {}, {}
        for stem, fig in self.figures().items():
            if fig is None:
                continue
            buf = io.BytesIO()
            fig.savefig(buf, format="png")
            plots.plt.close(fig)
            pngs[stem] = buf.getvalue()
            path = os.path.join(out_dir, f"{stem}.png")
            with open(path, "wb") as f:
                f.write(pngs[stem])
            written[stem] = path
        self.groups.to_csv(os.path.join(out_dir, "groups.csv"), index=False)
        run_table(self.runs).to_csv(os.path.join(out_dir, "runs.csv"), index=False)
        self.failures.to_csv(os.path.join(out_dir, "failures.csv"), index=False)
        with open(os.path.join(out_dir, "report.md"), "w", encoding="utf-8") as f:
            f.write(self.markdown({k: os.path.basename(v) for k, v in written.items()}))
        with open(os.path.join(out_dir, "report.html"), "w", encoding="utf-8") as f:
            f.write(self.html(pngs))
        for name in ("report.html", "report.md", "groups.csv", "runs.csv", "failures.csv"):
            written[name] = os.path.join(out_dir, name)
        return written


def parse_args(argv):
    import argparse
    p = argparse.ArgumentParser(
        prog="graybench-report",
        description="Report on graybench results files: groups runs by their whole layout, "
                    "medians and spread, rates over processed images, speedup, efficiency, "
                    "Amdahl fits; plots and an HTML page with --out.",
        epilog="Exit codes: 0 ok; 2 usage (no such file, not a graybench results file, unknown "
               "run). Definitions: python3 -c 'import graybench_tools.report as r; "
               "help(r)' or --explain.")
    p.add_argument("files", metavar="FILE_OR_GLOB", nargs="*",
                   help="results files (HDF5) or glob patterns")
    p.add_argument("--csv", action="store_true",
                   help="print one CSV row per group on stdout (nothing else)")
    p.add_argument("--runs", action="store_true", help="also print the per-run table")
    p.add_argument("--failures", action="store_true",
                   help="list every failed image with its reason (alone, on stdout)")
    p.add_argument("--out", metavar="DIR",
                   help="write report.html (self-contained), report.md, CSVs and PNG plots")
    p.add_argument("--timeline", metavar="RUN",
                   help="run for the timeline/ranks plots: run-00003 or FILE:run-00003 "
                        "(default: the complete run with the most cores)")
    p.add_argument("--cv-threshold", type=float, default=CV_THRESHOLD, metavar="X",
                   help=f"flag groups whose wall-time cv exceeds X (default {CV_THRESHOLD})")
    p.add_argument("--explain", action="store_true",
                   help="print how every number is defined and exit")
    args = p.parse_args(argv)
    if not args.explain and not args.files:
        p.error("give at least one results file")
    return args


def main(argv=None, prog: str = "graybench-report") -> int:
    import sys
    args = parse_args(argv)
    if args.explain:
        print(__doc__)
        return EXIT_OK
    try:
        res = _load.load(args.files)
        rep = Report(res, args.cv_threshold, args.timeline)
    except _load.ResultsError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    if args.csv:
        rep.groups.to_csv(sys.stdout, index=False)
        return EXIT_OK
    if args.failures:
        if rep.failures.empty:
            print("no failed images")
        else:
            print(rep.failures.to_string(index=False))
        return EXIT_OK
    print(rep.text())
    if args.runs:
        print()
        print(run_table(rep.runs).to_string(
            index=False, formatters={k: (lambda v, f=f: _fmt(v, f))
                                     for k, f in _FORMATS.items() if k in RUN_COLUMNS}))
    if args.out:
        written = rep.write(args.out)
        print()
        print(f"report written to {args.out}/: report.html (open in a browser), report.md, "
              f"groups.csv, runs.csv, failures.csv, "
              + ", ".join(f"{k}.png" for k in written if not k.count(".")))
    return EXIT_OK
