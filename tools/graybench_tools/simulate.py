"""Replay measured per-image costs under other rank counts, worker counts and distributions.

The model (also printed by `graybench-simulate --explain`):

1. Costs. From one or more *source* runs of the same input set (default: the complete
   sequential 1x1 runs of the file, the least disturbed measurement), each image i gets a cost
   c_i = median over the source runs of (t_end - t_start), its time on a worker, divided by the
   source run's stretch (below), so that c_i is the time on an uncontended core.
2. Overheads, measured on the same source runs (medians):
   - o, per image: the gap between one image's end and the next image's start on the same
     worker (queueing, bookkeeping), averaged over the run's images;
   - s, start: from the run's common start to the first image starting (set-up, distribution);
   - e, end: from the last image's end to the end of the wall (gather, final barrier).
3. Placement. Images go to ranks as graybench distributes them: block (contiguous slices,
   counts balanced to +-1), cyclic (i mod ranks), size (longest first by width x height, to the
   least-loaded rank), dynamic (no static split: every worker of every rank takes the next image
   of one shared list, i.e. chunk 1). Within a rank, workers take the rank's images in index
   order as each becomes free (list scheduling: the threads/pool queue).
4. Contention. With L = ranks x workers busy lanes on C cores (default: the source runs'
   cpus_online), every cost is stretched by max(1, L / C) (processor sharing).
5. Prediction: wall = s + max over lanes of the lane's finish time + e, where a lane's images run
   back to back with cost c_i * stretch + o. Imbalance = max / mean of the ranks' finish times.
   Speedup = predicted 1x1 wall (sum c_i + n o + s + e) / predicted wall.

Not modelled: the GIL (use it for GIL-free strategies only), memory bandwidth and cache
sharing between cores, process start-up of `processes`, MPI messages of `dynamic`.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import load as _load

POLICIES = ("block", "cyclic", "size", "dynamic")


@dataclass
class Costs:
    """What the model needs from the source runs."""

    cost: np.ndarray      # seconds per image on an uncontended core, by image index
    work: np.ndarray      # width x height (or bytes) per image, for the size policy
    per_image: float      # o
    start: float          # s
    end: float            # e
    cores: int            # C
    sources: list         # (source, run) of the runs the costs came from


def _run_overheads(img: pd.DataFrame, wall: float) -> tuple[float, float, float]:
    """(o, s, e) of one run's image rows."""
    img = img.sort_values(["rank", "worker", "t_start"])
    gaps = []
    for _, lane in img.groupby(["rank", "worker"]):
        t0 = lane["t_start"].to_numpy(float)
        t1 = lane["t_end"].to_numpy(float)
        if len(lane) > 1:
            gaps.extend(np.clip(t0[1:] - t1[:-1], 0, None))
    o = float(np.sum(gaps) / len(img)) if len(img) else 0.0
    s = float(img["t_start"].min())
    e = float(max(0.0, wall - img["t_end"].max()))
    return o, s, e


def _stretch(lanes: int, cores: int) -> float:
    return max(1.0, lanes / max(1, cores))


def _like(runs: pd.DataFrame, ref: pd.Series) -> pd.Series:
    """Rows of `runs` measured under the same settings as `ref`: input set, mode, kernel
    repeat, whether PNGs were written, decoder and PNG level (costs differ with each)."""
    same = ((runs["input_fingerprint"] == ref["input_fingerprint"]) & (runs["mode"] == ref["mode"])
            & (runs["kernel_repeat"] == ref["kernel_repeat"]))
    if "output_dir" in runs:
        writes = runs["output_dir"].fillna("").astype(str) != ""
        same &= writes == (str(ref.get("output_dir", "") or "") not in ("", "nan"))
    for key in ("decoder", "png_level"):
        if key in runs:
            same &= runs[key].astype(str) == str(ref[key])
    return same


def measure(res: _load.Results, runs: list[tuple[str, str]] | None = None,
            cores: int | None = None) -> Costs:
    """Per-image costs and overheads from `runs` (default: complete sequential 1x1 runs)."""
    r = res.runs
    if runs is None:
        ok = r[(r["strategy"] == "sequential") & (r["ranks"] == 1) & (r["workers"] == 1)
               & (r["status"] == "complete")]
        if ok.empty:
            raise _load.ResultsError(
                "no complete sequential 1-rank run to take costs from: name one with --from")
        # One input set and the same settings (mode, outputs, ...): those of the latest run.
        ok = ok[_like(ok, ok.iloc[-1])]
        runs = list(zip(ok["source"], ok["run"]))
    costs, overheads, cpus = [], [], []
    for source, run in runs:
        row = r[(r["source"] == source) & (r["run"] == run)].iloc[0]
        img = res.images[(res.images["source"] == source) & (res.images["run"] == run)]
        img = img[img["status"] != "not_processed"].sort_values("image")
        if img.empty:
            continue
        c = int(row.get("cpus_online", 0) or 0) or (cores or 1)
        stretch = _stretch(int(row["ranks"]) * int(row["workers"]), c)
        costs.append(pd.Series((img["t_end"] - img["t_start"]).to_numpy(float) / stretch,
                               index=img["image"].to_numpy()))
        overheads.append(_run_overheads(img, float(row["wall_s"])))
        cpus.append(c)
    if not costs:
        raise _load.ResultsError("the source runs have no image rows")
    table = pd.concat(costs, axis=1)
    cost = table.median(axis=1).sort_index()
    img0 = res.images[(res.images["source"] == runs[0][0]) & (res.images["run"] == runs[0][1])]
    img0 = img0.set_index("image").reindex(cost.index)
    work = (img0["width"].astype(float) * img0["height"].astype(float)).to_numpy()
    work = np.where(work > 0, work, img0["bytes_in"].astype(float).to_numpy())
    o, s, e = (float(np.median([x[k] for x in overheads])) for k in range(3))
    return Costs(cost.to_numpy(float), work, o, s, e, cores or int(np.median(cpus)), list(runs))


def plan(policy: str, n: int, ranks: int, work: np.ndarray) -> list[list[int]]:
    """graybench's static distribution of n images over ranks (indices ascending per rank)."""
    if policy == "block":
        base, extra = divmod(n, ranks)
        out, k = [], 0
        for r in range(ranks):
            cnt = base + (1 if r < extra else 0)
            out.append(list(range(k, k + cnt)))
            k += cnt
        return out
    if policy == "cyclic":
        return [list(range(r, n, ranks)) for r in range(ranks)]
    if policy == "size":
        order = sorted(range(n), key=lambda i: -work[i])  # stable: ties keep the lower index
        loads = [(0.0, r) for r in range(ranks)]
        heapq.heapify(loads)
        out = [[] for _ in range(ranks)]
        for i in order:
            load, r = heapq.heappop(loads)
            out[r].append(i)
            heapq.heappush(loads, (load + max(work[i], 1.0), r))
        return [sorted(x) for x in out]
    raise ValueError(f"unknown static policy {policy}")


def _list_schedule(items: list[int], lanes: int, cost: np.ndarray, o: float) -> np.ndarray:
    """Finish time of each lane when lanes take `items` in order as they become free."""
    heap = [(0.0, k) for k in range(lanes)]
    finish = np.zeros(lanes)
    for i in items:
        t, k = heapq.heappop(heap)
        t += cost[i] + o
        finish[k] = t
        heapq.heappush(heap, (t, k))
    return finish


def predict(c: Costs, ranks: int, workers: int, policy: str) -> dict:
    """Predicted wall, imbalance and the per-rank finish times of one layout."""
    n = len(c.cost)
    stretch = _stretch(ranks * workers, c.cores)
    cost = c.cost * stretch
    if policy == "dynamic":
        finish = _list_schedule(list(range(n)), ranks * workers, cost, c.per_image)
        per_rank = finish.reshape(ranks, workers).max(axis=1)
    else:
        per_rank = np.array([_list_schedule(share, workers, cost, c.per_image).max()
                             if share else 0.0 for share in plan(policy, n, ranks, c.work)])
    makespan = float(per_rank.max()) if len(per_rank) else 0.0
    mean = float(per_rank.mean()) if len(per_rank) else 0.0
    wall = c.start + makespan + c.end
    serial = c.start + float(c.cost.sum()) + n * c.per_image + c.end
    return dict(ranks=ranks, workers=workers, distribution=policy, cores=ranks * workers,
                stretch=stretch, predicted_wall_s=wall, speedup=serial / wall if wall > 0 else
                math.nan, imbalance=makespan / mean if mean > 0 else math.nan)


def sweep(c: Costs, ranks: list[int], workers: list[int], policies: list[str]) -> pd.DataFrame:
    return pd.DataFrame([predict(c, r, w, p) for p in policies for r in ranks for w in workers])


#: Strategies the model describes (workers pulling images; no GIL).
MODELLED = ("sequential", "threads", "pool", "openmp", "processes")


def check(res: _load.Results, c: Costs) -> pd.DataFrame:
    """Predicted against measured wall for every complete run of the source's input set.

    Only runs with the same settings as the sources (input set, mode, kernel_repeat, outputs
    written or not, decoder, PNG level), without --gil and of the modelled strategies.
    error = predicted / measured - 1.
    """
    r = res.runs
    src = r[[(s, n) in set(map(tuple, c.sources)) for s, n in zip(r["source"], r["run"])]].iloc[0]
    cand = r[(r["status"] == "complete") & _like(r, src)
             & (r["gil"].astype(int) == 0) & r["strategy"].isin(MODELLED)]
    rows = []
    for _, run in cand.iterrows():
        p = predict(c, int(run["ranks"]), int(run["workers"]), str(run["distribution"]))
        measured = float(run["wall_s"])
        rows.append(dict(source=run["source"], run=run["run"], strategy=run["strategy"],
                         ranks=int(run["ranks"]), workers=int(run["workers"]),
                         distribution=run["distribution"], measured_wall_s=measured,
                         predicted_wall_s=p["predicted_wall_s"],
                         error=p["predicted_wall_s"] / measured - 1 if measured > 0 else math.nan,
                         is_source=(run["source"], run["run"]) in set(map(tuple, c.sources))))
    return pd.DataFrame(rows)


def _ints(text: str) -> list[int]:
    try:
        out = [int(x) for x in text.split(",") if x.strip()]
    except ValueError as e:
        raise SystemExit(f"graybench-simulate: error: not a list of integers: {text}") from e
    if not out or min(out) < 1:
        raise SystemExit(f"graybench-simulate: error: counts must be >= 1: {text}")
    return out


def main(argv=None) -> int:
    import argparse
    import sys
    p = argparse.ArgumentParser(
        prog="graybench-simulate",
        description="Predict wall time, speedup and imbalance of other layouts by replaying the "
                    "per-image costs measured in a results file (model: --explain).",
        epilog="Exit codes: 0 ok; 2 usage (bad file, no source run).")
    p.add_argument("file", metavar="RESULTS", nargs="?", help="graybench results file (or glob)")
    p.add_argument("--from", dest="source", metavar="RUN", action="append",
                   help="take costs from this run (repeatable; default: the complete sequential "
                        "1x1 runs)")
    p.add_argument("--ranks", default="1,2,4,8", help="rank counts (default 1,2,4,8)")
    p.add_argument("--workers", default="1,2", help="workers per rank (default 1,2)")
    p.add_argument("--distribution", default="block,cyclic,size,dynamic",
                   help="policies among block,cyclic,size,dynamic (default: all)")
    p.add_argument("--cores", type=int, help="cores available (default: the source runs' "
                                              "cpus_online)")
    p.add_argument("--check", action="store_true",
                   help="compare predictions with every comparable measured run in the file")
    p.add_argument("--csv", action="store_true", help="CSV on stdout")
    p.add_argument("--explain", action="store_true", help="print the model and exit")
    args = p.parse_args(argv)
    if args.explain:
        print(__doc__)
        return 0
    if not args.file:
        p.error("give a results file")
    policies = [x for x in args.distribution.split(",") if x]
    bad = [x for x in policies if x not in POLICIES]
    if bad:
        p.error(f"unknown distribution {','.join(bad)} (choose from {','.join(POLICIES)})")
    if args.cores is not None and args.cores < 1:
        p.error("--cores must be >= 1")
    try:
        res = _load.load(args.file)
        from .report import find_run
        sources = [find_run(res.runs, s) for s in args.source] if args.source else None
        c = measure(res, sources, args.cores)
        table = check(res, c) if args.check else sweep(c, _ints(args.ranks),
                                                        _ints(args.workers), policies)
    except _load.ResultsError as e:
        print(f"graybench-simulate: error: {e}", file=sys.stderr)
        return 2
    if args.csv:
        table.to_csv(sys.stdout, index=False)
        return 0
    print(f"costs from {', '.join(r for _, r in c.sources)}: {len(c.cost)} images, "
          f"sum {c.cost.sum():.3f} s, per-image overhead {c.per_image * 1e3:.3f} ms, "
          f"start {c.start * 1e3:.1f} ms, end {c.end * 1e3:.1f} ms, {c.cores} core(s)")
    if args.check:
        if table.empty:
            print("no comparable measured run in the file")
            return 0
        fmt = {"measured_wall_s": "{:.3f}".format, "predicted_wall_s": "{:.3f}".format,
               "error": "{:+.1%}".format}
        print(table.drop(columns="source").to_string(index=False, formatters=fmt))
        others = table[~table["is_source"]]
        if len(others):
            print(f"prediction error over {len(others)} non-source run(s): median |error| "
                  f"{others['error'].abs().median():.1%}, max |error| "
                  f"{others['error'].abs().max():.1%}")
        return 0
    fmt = {"predicted_wall_s": "{:.3f}".format, "speedup": "{:.2f}".format,
           "imbalance": "{:.3f}".format, "stretch": "{:.2f}".format}
    print(table.to_string(index=False, formatters=fmt))
    return 0
