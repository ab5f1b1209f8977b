"""Tiny hand-made graybench results files (h5py only) with numbers chosen to be checked by hand.

write_results(path, runs, schema=) writes the documented layout (docs/schema.md): root attrs,
one group per run with its attributes, an `images` and a `ranks` compound table. In
graybench/2 `status` is an HDF5 enum named like ImageStatus; in graybench/1 a plain int32.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

STATUS = {"ok": 0, "read_error": 1, "decode_error": 2, "encode_error": 3, "write_error": 4,
          "worker_lost": 5, "not_processed": 6, "internal_error": 7}

_STR = h5py.string_dtype("utf-8")


def _image_dtype(schema: str) -> np.dtype:
    status = (h5py.enum_dtype(STATUS, basetype="i4") if schema == "graybench/2"
              else np.dtype("<i4"))
    return np.dtype([
        ("image", "<u8"), ("path", _STR), ("rank", "<i4"), ("worker", "<i4"), ("repeat", "<i4"),
        ("width", "<u4"), ("height", "<u4"), ("channels", "<u4"), ("bit_depth", "<u4"),
        ("bytes_in", "<u8"), ("bytes_out", "<u8"), ("status", status), ("error", _STR),
        ("checksum", "<u8"), ("t_start", "<f8"), ("t_end", "<f8"), ("read_s", "<f8"),
        ("decode_s", "<f8"), ("convert_s", "<f8"), ("encode_s", "<f8"), ("write_s", "<f8"),
        ("queue_wait_s", "<f8"), ("ipc_s", "<f8"), ("ipc_bytes", "<u8")])


RANK_DTYPE = np.dtype([
    ("rank", "<i4"), ("host", _STR), ("n_images", "<u8"), ("n_failed", "<u8"), ("wall_s", "<f8"),
    ("compute_s", "<f8"), ("distribute_s", "<f8"), ("gather_s", "<f8"), ("idle_s", "<f8"),
    ("setup_s", "<f8"), ("teardown_s", "<f8"), ("user_s", "<f8"), ("sys_s", "<f8"),
    ("max_rss_kb", "<i8"), ("cpus", _STR), ("worker_cpus", _STR)])

BASE_ATTRS = dict(strategy="sequential", workers=1, ranks=1, nodes=1, repeat=0, mode="memory",
                  kernel_repeat=1, gil=0, distribution="block", status="complete",
                  input_fingerprint="aaaa", cpu_model="Test CPU", hostname="node1",
                  output_dir="", ipc="pipe", omp_schedule="static", chunk=1, n_failed=0,
                  n_not_processed=0)


def make_run(wall: float, n_images: int = 4, *, size=(100, 50), statuses=None,
             phases=None, user=None, sys_s=None, compute=None, idle=None, **attrs) -> dict:
    """A run spec: attrs (BASE_ATTRS overridden by **attrs), image rows and rank rows.

    Images are size[0] x size[1] pixels, given round-robin to ranks and workers, each taking
    wall / n_images seconds back to back on its lane. `phases` maps phase -> seconds per image.
    """
    a = {**BASE_ATTRS, **attrs}
    ranks, workers = int(a["ranks"]), int(a["workers"])
    statuses = statuses or ["ok"] * n_images
    phases = phases or {"convert_s": 0.01}
    rows = []
    lane_t: dict[tuple, float] = {}
    for i in range(n_images):
        r, w = i % ranks, (i // ranks) % workers
        t0 = lane_t.get((r, w), 0.0)
        dt = wall / n_images
        lane_t[(r, w)] = t0 + dt
        st = statuses[i]
        reached = st != "not_processed"
        rows.append(dict(
            image=i, path=f"/data/img-{i:03d}.png", rank=r, worker=w, repeat=a["repeat"],
            width=size[0] if st == "ok" else 0, height=size[1] if st == "ok" else 0,
            channels=3, bit_depth=8, bytes_in=1000, bytes_out=0, status=STATUS[st],
            error="" if st in ("ok", "not_processed") else f"{st} in img-{i:03d}",
            checksum=1234 + i if st == "ok" else 0, t_start=t0 if reached else 0.0,
            t_end=t0 + dt if reached else 0.0,
            **{p: (phases.get(p, 0.0) if reached else 0.0) for p in
               ("read_s", "decode_s", "convert_s", "encode_s", "write_s", "queue_wait_s",
                "ipc_s")},
            ipc_bytes=0))
    a.setdefault("n_images", n_images)
    a["wall_s"] = wall
    a["n_failed"] = sum(s not in ("ok", "not_processed") for s in statuses)
    a["n_not_processed"] = statuses.count("not_processed")
    a["total_pixels"] = sum(r["width"] * r["height"] for r in rows)
    rank_rows = []
    for r in range(ranks):
        rank_rows.append(dict(
            rank=r, host=a["hostname"], n_images=sum(x["rank"] == r for x in rows), n_failed=0,
            wall_s=wall, compute_s=(compute[r] if compute else wall),
            distribute_s=0.0, gather_s=0.0, idle_s=(idle[r] if idle else 0.0), setup_s=0.0,
            teardown_s=0.0, user_s=(user[r] if user else wall * workers),
            sys_s=(sys_s[r] if sys_s else 0.0), max_rss_kb=1000, cpus="0-1", worker_cpus=""))
    return {"attrs": a, "images": rows, "ranks": rank_rows}


def write_results(path: Path, runs: list[dict], schema: str = "graybench/2") -> Path:
    """Writes `runs` (make_run specs) as run-00001, run-00002, ... of a new file."""
    with h5py.File(path, "w") as f:
        f.attrs["schema"] = schema
        f.attrs["created"] = "2026-11-29T00:00:00.000Z"
        f.attrs["graybench_version"] = "test"
        g = f.create_group("runs")
        for k, spec in enumerate(runs, start=1):
            r = g.create_group(f"run-{k:05d}")
            for key, value in spec["attrs"].items():
                r.attrs[key] = value
            dt = _image_dtype(schema)
            arr = np.zeros(len(spec["images"]), dtype=dt)
            for i, row in enumerate(spec["images"]):
                for name, value in row.items():
                    arr[i][name] = value
            r.create_dataset("images", data=arr)
            ranks = np.zeros(len(spec["ranks"]), dtype=RANK_DTYPE)
            for i, row in enumerate(spec["ranks"]):
                for name, value in row.items():
                    ranks[i][name] = value
            r.create_dataset("ranks", data=ranks)
    return Path(path)
