"""Figures of a graybench report (matplotlib, Agg backend: no display needed).

Every function takes tables from report.py and returns a matplotlib Figure, or None when the
data hold nothing to draw (e.g. no multi-rank run for the imbalance view). save() writes a PNG.
"""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from . import report as rp  # noqa: E402

#: Which figures exist, in report order: file stem -> title.
FIGURES = {
    "speedup": "Speedup vs total cores",
    "efficiency": "Parallel efficiency vs total cores",
    "phases": "Where the time goes: phases per image",
    "imbalance": "Load imbalance between ranks",
    "timeline": "Timeline of one run",
    "gil": "The GIL: C++ threads, C++ threads --gil and Python",
}

_PHASE_COLOURS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#bab0ac", "#b07aa1"]


def _short(value: str) -> str:
    value = str(value)
    return value[:8] if len(value) > 12 else value


def _setting(key: str, value) -> str:
    """A compact form of one setting for legends and axis labels."""
    value = str(value)
    if key == "mode":
        return value
    if key == "kernel_repeat":
        return f"K={value}"
    if key == "outputs":
        return "writes PNGs" if value == "yes" else "no output"
    if key == "input_fingerprint":
        return f"inputs {_short(value)}"
    if key == "cpu_model":
        return value[:20]
    return f"{key}={_short(value)}"


def _labels(table: pd.DataFrame) -> pd.Series:
    """A legend label per row: strategy, --gil, and the settings that vary in `table`."""
    # A setting that only some rows record (the Python baseline has no decoder, cache or PNG
    # level) does not tell the rows that have it apart: only values that are there count.
    def recorded(k: str) -> pd.DataFrame:
        v = table[k].astype(str)
        return table[~v.isin(["", "nan", "None", "<NA>"])]

    keys = [k for k in rp.SETTINGS_KEYS + ["distribution", "nodes"]
            if k != "gil" and k in table and rp.varying(recorded(k), [k])]
    # outputs follows mode in practice (files runs write, memory runs do not): say it once.
    if "mode" in keys and "outputs" in keys:
        keys.remove("outputs")

    def label(r) -> str:
        name = rp.variant_label(r, [])
        extra = [_setting(k, r[k]) for k in keys]
        return name + (f" ({', '.join(extra)})" if extra else "")

    return table.apply(label, axis=1)


def _scaling(groups: pd.DataFrame, column: str, ylabel: str, ideal) -> plt.Figure | None:
    g = groups[groups[column].notna()].copy()
    if g.empty:
        return None
    g["label"] = _labels(g)
    fig, ax = plt.subplots(figsize=(11, 5), dpi=110)
    top = 1.0
    # 20 colours and 4 markers: no two of up to 80 groups look alike.
    colours, markers = plt.get_cmap("tab20"), ["o", "s", "^", "D"]
    for i, (label, sub) in enumerate(g.groupby("label", sort=False)):
        # Several layouts can give the same core count (2 ranks x 1 worker, 1 x 2): one point each,
        # joined in order of cores.
        sub = sub.sort_values(["cores", "ranks"])
        y = sub[column].astype(float).to_numpy()
        x = sub["cores"].astype(float).to_numpy()
        # Whiskers: the same baseline over this group's slowest and fastest complete run.
        lo = (y * sub["median_wall_s"] / sub["max_wall_s"]).to_numpy(dtype=float)
        hi = (y * sub["median_wall_s"] / sub["min_wall_s"]).to_numpy(dtype=float)
        err = np.vstack([np.clip(y - lo, 0, None), np.clip(hi - y, 0, None)])
        ax.errorbar(x, y, yerr=err, marker=markers[i // 20 % 4], capsize=3, label=label,
                    color=colours(i % 20))
        top = max(top, float(np.nanmax(hi)) if len(hi) else top)
    cores = np.arange(1, int(g["cores"].max()) + 1)
    ax.plot(cores, ideal(cores), "k--", linewidth=1, label="ideal")
    ax.set_xlabel("total cores (ranks × workers)")
    ax.set_ylabel(ylabel)
    ax.set_xticks(sorted(set(g["cores"].astype(int)) | {1}))
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    # Beside the axes, not over the points: a sweep has a dozen groups or more.
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    fig.tight_layout()
    return fig


def speedup(groups: pd.DataFrame) -> plt.Figure | None:
    """Speedup (median) vs total cores per strategy, whiskers from the fastest/slowest run."""
    fig = _scaling(groups, "speedup", "speedup vs sequential 1 rank × 1 worker (×)",
                   lambda c: c)
    if fig:
        fig.axes[0].set_title(FIGURES["speedup"])
        fig.tight_layout()
    return fig


def efficiency(groups: pd.DataFrame) -> plt.Figure | None:
    """Parallel efficiency (speedup / cores) vs total cores per strategy."""
    fig = _scaling(groups, "efficiency", "parallel efficiency (speedup / cores)",
                   lambda c: np.ones_like(c, dtype=float))
    if fig:
        fig.axes[0].set_title(FIGURES["efficiency"])
        fig.axes[0].set_ylim(0, max(1.2, fig.axes[0].get_ylim()[1]))
        fig.tight_layout()
    return fig


def _group_names(table: pd.DataFrame) -> list[str]:
    labels = _labels(table)
    return [f"{lab}  {int(r)}×{int(w)}" for lab, r, w in
            zip(labels, table["ranks"], table["workers"])]


def phases(phase_table: pd.DataFrame) -> plt.Figure | None:
    """Left: stacked work phases per image (read, decode, convert, encode, write, IPC), one bar
    per group. Right: the mean queue wait per image: time an image waited for a free worker,
    which grows with the queue's length and is not work, so it is not stacked on it."""
    names = [p for p, _ in rp.PHASES]
    if phase_table.empty:
        return None
    t = phase_table.copy()
    t[names] = t[names].astype(float).fillna(0.0) * 1e3
    t = t[t[names].sum(axis=1) > 0]
    if t.empty:
        return None
    t = t.sort_values(["strategy", "gil", "mode", "ranks", "workers"], kind="stable")
    ylabels = _group_names(t)
    fig, axes = plt.subplots(1, 2, figsize=(12, 0.32 * len(t) + 2.0), dpi=110, sharey=True,
                             gridspec_kw={"width_ratios": [3, 1.4]})
    ax = axes[0]
    left = np.zeros(len(t))
    y = np.arange(len(t))
    for (col, label), colour in zip(rp.PHASES, _PHASE_COLOURS):
        if col == "queue_wait_s":
            continue
        vals = t[col].to_numpy()
        ax.barh(y, vals, left=left, color=colour, label=label)
        left += vals
    ax.set_yticks(y)
    ax.set_yticklabels(ylabels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("worker time per image (ms), median over runs")
    ax.set_ylabel("group (strategy  ranks×workers)")
    ax.set_title("work phases")
    ax.legend(fontsize=8, ncol=3, loc="lower right")
    ax.grid(True, axis="x", alpha=0.3)
    ax = axes[1]
    ax.barh(y, t["queue_wait_s"].to_numpy(), color=_PHASE_COLOURS[5], label="queue wait")
    ax.set_xlabel("queue wait per image (ms)")
    ax.set_title("waiting for a worker")
    ax.grid(True, axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.suptitle(FIGURES["phases"])
    fig.tight_layout()
    return fig


def imbalance(groups: pd.DataFrame, ranks: pd.DataFrame | None = None,
              run_name: str = "") -> plt.Figure | None:
    """Left: median max/mean rank compute time per multi-rank group. Right: one run's ranks,
    compute time and the idle wait for the slowest rank."""
    multi = groups[(groups["ranks"] > 1) & groups["imbalance"].notna()]
    has_ranks = ranks is not None and not ranks.empty and len(ranks) > 1
    if multi.empty and not has_ranks:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(11, max(3.5, 0.3 * len(multi) + 1.8)), dpi=110,
                             gridspec_kw={"width_ratios": [3, 2]})
    ax = axes[0]
    if not multi.empty:
        m = multi.sort_values(["strategy", "gil", "ranks", "workers"], kind="stable")
        y = np.arange(len(m))
        ax.barh(y, m["imbalance"].astype(float), color="#4e79a7")
        ax.set_yticks(y)
        ax.set_yticklabels(_group_names(m), fontsize=8)
        ax.invert_yaxis()
        ax.axvline(1.0, color="k", linestyle="--", linewidth=1, label="perfect balance")
        ax.set_xlim(left=min(0.9, float(m["imbalance"].min()) - 0.05))
        ax.legend(fontsize=8)
    ax.set_xlabel("load imbalance (max / mean rank compute time)")
    ax.set_ylabel("group (strategy  ranks×workers)")
    ax.set_title("per group (median over runs)")
    ax = axes[1]
    if has_ranks:
        r = ranks.sort_values("rank")
        x = r["rank"].astype(int).to_numpy()
        compute = r["compute_s"].astype(float).to_numpy()
        idle = r["idle_s"].astype(float).to_numpy() if "idle_s" in r else np.zeros(len(r))
        ax.bar(x, compute, color="#59a14f", label="compute (start to last image)")
        ax.bar(x, idle, bottom=compute, color="#bab0ac", label="idle (waiting for others)")
        ax.set_xticks(x)
        ax.legend(fontsize=8)
    ax.set_xlabel("MPI rank")
    ax.set_ylabel("time (s)")
    ax.set_title(f"ranks of {run_name}" if run_name else "ranks")
    fig.suptitle(FIGURES["imbalance"])
    fig.tight_layout()
    return fig


def timeline(images: pd.DataFrame, title: str = "") -> plt.Figure | None:
    """Gantt chart: one lane per (rank, worker), one bar per image from t_start to t_end."""
    if images is None or images.empty or not {"t_start", "t_end"} <= set(images.columns):
        return None
    img = images[~images["status"].isin(["not_processed"])] if "status" in images else images
    if img.empty:
        return None
    lanes = sorted({(int(r), int(w)) for r, w in zip(img["rank"], img["worker"])})
    index = {lane: i for i, lane in enumerate(lanes)}
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(lanes) + 1.8), dpi=110)
    cmap = plt.get_cmap("tab10")
    for (r, w), sub in img.groupby(["rank", "worker"]):
        y = index[(int(r), int(w))]
        spans = list(zip(sub["t_start"].astype(float),
                         (sub["t_end"] - sub["t_start"]).astype(float)))
        ok = (sub["status"] == "ok").to_numpy() if "status" in sub else np.ones(len(sub), bool)
        colours = [cmap(int(r) % 10) if good else "#d62728" for good in ok]
        ax.broken_barh(spans, (y - 0.4, 0.8), facecolors=colours, edgecolor="white",
                       linewidth=0.3)
    ax.set_yticks(range(len(lanes)))
    ax.set_yticklabels([f"rank {r} / worker {w}" for r, w in lanes], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("time since the run's common start (s)")
    ax.set_ylabel("rank / worker")
    ax.set_title(title or FIGURES["timeline"])
    ax.grid(True, axis="x", alpha=0.3)
    if "status" in img and (img["status"] != "ok").any():
        ax.bar([0], [0], color="#d62728", label="failed image")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


GIL_STRATEGIES = ["threads", "py-threading", "py-thread-executor", "py-mp-pool",
                  "py-process-executor"]


def _gil_variants(g: pd.DataFrame) -> pd.DataFrame:
    """`g` with a legend label per group: C++ threads / --gil / sequential or the Python name,
    plus the settings that vary among the C++ groups."""
    g = g.copy()
    g["variant"] = [("C++ threads --gil" if s == "threads" and str(gv) not in ("0", "")
                     else "C++ threads" if s == "threads"
                     else "C++ sequential" if s == "sequential" else s)
                    for s, gv in zip(g["strategy"], g["gil"])]
    extra = rp.varying(g[g["strategy"].map(rp.family) == "cpp"],
                       ["kernel_repeat", "input_fingerprint", "ranks"])
    if extra:
        g["variant"] = g["variant"] + g.apply(
            lambda r: " (" + ", ".join(_setting(k, r[k]) if k != "ranks" else f"{r[k]} ranks"
                                       for k in extra) + ")", axis=1)
    return g


def _thread_like(g: pd.DataFrame) -> pd.DataFrame:
    """The groups of GIL_STRATEGIES in that order, then by --gil, ranks and workers."""
    order = {s: i for i, s in enumerate(GIL_STRATEGIES)}
    par = g[g["strategy"].isin(GIL_STRATEGIES)]
    return par.assign(_o=par["strategy"].map(order)).sort_values(["_o", "gil", "ranks", "workers"])


def _gil_scaling(ax: plt.Axes, g: pd.DataFrame, title: str) -> None:
    """Each thread-like variant's speedup over itself at 1 worker (else over the sequential
    group of its family), with the ideal line."""
    par = _thread_like(g)
    refs = g[~g["strategy"].isin(GIL_STRATEGIES)]
    cmap = plt.get_cmap("tab10")
    workers = sorted(par["workers"].astype(int).unique())
    for i, v in enumerate(dict.fromkeys(par["variant"])):
        sub = par[par["variant"] == v].sort_values("workers")
        one = sub[sub["workers"] == 1]
        if len(one):
            base = float(one["images_per_s"].iloc[0])
        else:  # no 1-worker run: the sequential run of the same family and rank count
            first = sub.iloc[0]
            seq = refs[(refs["strategy"] == rp.sequential_of(first["strategy"]))
                       & (refs["ranks"] == first["ranks"])]
            if seq.empty:
                continue
            base = float(seq["images_per_s"].iloc[0])
        ax.plot(sub["workers"], sub["images_per_s"] / base, marker="o", label=v,
                color=_GIL_COLOURS.get(v.split(" (")[0], cmap(i % 10)),
                linewidth=2.5 if v.startswith("C++") else 1.5)
    ideal = np.arange(1, max(workers + [2]) + 1)
    ax.plot(ideal, ideal, "k--", linewidth=1, label="ideal")
    ax.axhline(1.0, color="grey", linewidth=0.8)
    ax.set_xticks(sorted(set(workers) | {1}))
    ax.set_xlabel("workers per rank")
    ax.set_ylabel("speedup over 1 worker (or over sequential) (×)")
    ax.set_title(title, fontsize=10)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7)
    ax.grid(True, alpha=0.3)


def _gil_throughput(ax: plt.Axes, g: pd.DataFrame, title: str) -> None:
    """Images/s per worker count of every thread-like variant; dotted: sequential references."""
    par = _thread_like(g)
    variants = list(dict.fromkeys(par["variant"]))
    workers = sorted(par["workers"].astype(int).unique())
    width = 0.8 / max(1, len(variants))
    cmap = plt.get_cmap("tab10")
    for i, v in enumerate(variants):
        sub = par[par["variant"] == v].set_index("workers")
        x = np.arange(len(workers)) + (i - (len(variants) - 1) / 2) * width
        vals = [float(sub.loc[w, "images_per_s"]) if w in sub.index else 0.0 for w in workers]
        ax.bar(x, vals, width, label=v, color=_GIL_COLOURS.get(v.split(" (")[0], cmap(i % 10)))
    for j, (_, row) in enumerate(g[~g["strategy"].isin(GIL_STRATEGIES)].iterrows()):
        ax.axhline(float(row["images_per_s"]), linestyle=":", color=cmap((len(variants) + j) % 10),
                   label=f"{row['variant']} (reference)")
    ax.set_xticks(np.arange(len(workers)))
    ax.set_xticklabels([str(w) for w in workers])
    ax.set_xlabel("workers per rank")
    ax.set_ylabel("throughput (images/s)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7)
    ax.grid(True, axis="y", alpha=0.3)


_GIL_COLOURS = {"C++ threads": "#1f77b4", "C++ threads --gil": "#d62728",
                "py-threading": "#ff7f0e", "py-thread-executor": "#bcbd22",
                "py-mp-pool": "#2ca02c", "py-process-executor": "#9467bd"}


def gil(groups: pd.DataFrame) -> plt.Figure | None:
    """GIL-bound against GIL-free, single-rank groups where there are any.

    Left: CPU-bound work (C++ in memory mode, where measured): C++ threads and C++ threads
    --gil, each one's speedup over 1 worker: the GIL contrast at a glance. Middle and right,
    when the Python original was measured: its strategies beside C++ in the same mode (files:
    read, decode, convert, encode and write of the same images): throughput and scaling."""
    g = groups[(groups["n_runs"] > 0) & groups["images_per_s"].notna()].copy()
    g = g[g["strategy"].isin(GIL_STRATEGIES + ["sequential", "py-sequential"])]
    if g[g["strategy"].isin(GIL_STRATEGIES)].empty:
        return None
    # One process per rank, like Python: single-rank groups where there are any.
    if (g[g["strategy"] == "threads"]["ranks"] == 1).any():
        g = g[g["ranks"] == 1]
    cpp = g["strategy"].map(rp.family) == "cpp"
    threads_modes = list(dict.fromkeys(g[cpp & (g["strategy"] == "threads")]["mode"]))
    cpu_mode = "memory" if "memory" in threads_modes else (threads_modes or [None])[0]
    py = g[~cpp]
    py_modes = list(dict.fromkeys(py["mode"]))
    panels = []
    if cpu_mode is not None:
        cpu = g[cpp & (g["mode"] == cpu_mode)]
        repeat = ", ".join(sorted({str(k) for k in cpu["kernel_repeat"]}))
        panels.append(("cpu", _gil_variants(cpu),
                       f"C++, {cpu_mode} mode (kernel repeat {repeat}): "
                       "the GIL serialises the threads"))
    if not py.empty:
        side = g[g["mode"].isin(py_modes)]
        side = _gil_variants(side)
        modes = "/".join(py_modes)
        panels.append(("bars", side, f"the Python original beside C++, {modes} mode"))
        panels.append(("scaling", side, f"scaling, {modes} mode (Pillow releases the GIL "
                                        "in its codecs)"))
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 5), dpi=110,
                             squeeze=False)
    for ax, (kind, data, title) in zip(axes[0], panels):
        if kind == "bars":
            _gil_throughput(ax, data, title)
        else:
            _gil_scaling(ax, data, title)
    fig.suptitle(FIGURES["gil"])
    fig.tight_layout()
    return fig


def save(fig: plt.Figure, path: str | os.PathLike) -> None:
    """Writes `fig` as a PNG and frees it."""
    fig.savefig(path, format="png")
    plt.close(fig)
