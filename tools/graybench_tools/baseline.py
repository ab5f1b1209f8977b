"""The Python original, as a baseline in graybench's own results schema (`tools/graybench-py`).

The study graybench succeeds converted images with Pillow's `ImageOps.grayscale` under five
strategies: a plain loop, `threading` workers fed by a `queue.Queue`, `multiprocessing.Pool`,
`concurrent.futures.ThreadPoolExecutor` and `ProcessPoolExecutor`. This module runs them on
graybench's input list (same listing rules, same output names) and appends runs to a graybench
HDF5 results file (docs/schema.md), strategy names prefixed `py-`, so one report shows GIL-bound
Python next to GIL-free C++.

Per image it times read, decode (`Image.open` + `load`), convert (`ImageOps.grayscale` plus the
checksum, as graybench's `convert_s` includes its checksum), encode (PNG into memory, Pillow's
defaults) and write. The checksum is graybench's: XXH3-64, seed 0, of the W x H gray bytes
(`xxhash.xxh3_64_intdigest`), so on 8-bit PNG inputs it equals graybench's row for row.

`wall_s` spans the strategy's start-up (thread or process pool creation), the work and its
shut-down, as the Python original timed it; `setup_s` and `teardown_s` say how much of it those
took. Times within a run are `time.perf_counter()` (CLOCK_MONOTONIC on Linux, shared by the
worker processes), relative to the run's start.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as _dt
import io
import multiprocessing
import os
import platform
import queue
import resource
import shlex
import shutil
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import h5py
import numpy as np
import PIL
import xxhash
from PIL import Image, ImageOps, features

from . import files as results_file

SCHEMA = "graybench/2"
CHECKSUM_ALGORITHM = "xxh3-64"
EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".tga", ".gif", ".pnm", ".pgm", ".ppm", ".psd"}
STRATEGIES = ("sequential", "threading", "mp-pool", "thread-executor", "process-executor")

# images.status values (docs/schema.md).
OK, READ_ERROR, DECODE_ERROR, ENCODE_ERROR, WRITE_ERROR = 0, 1, 2, 3, 4
NOT_PROCESSED, INTERNAL_ERROR = 6, 7

_STR = h5py.string_dtype("utf-8")
# images.status in graybench/2: an HDF5 enum (base int32) named by ImageStatus's names.
STATUS_NAMES = {"ok": 0, "read_error": 1, "decode_error": 2, "encode_error": 3, "write_error": 4,
                "worker_lost": 5, "not_processed": 6, "internal_error": 7}
_STATUS = h5py.enum_dtype(STATUS_NAMES, basetype="<i4")
# The layouts graybench writes (src/h5/results.cpp), used when the file has no run to copy from.
IMAGE_DTYPE = np.dtype([
    ("image", "<u8"), ("path", _STR), ("rank", "<i4"), ("worker", "<i4"), ("repeat", "<i4"),
    ("width", "<u4"), ("height", "<u4"), ("channels", "<u4"), ("bit_depth", "<u4"),
    ("bytes_in", "<u8"), ("bytes_out", "<u8"), ("status", _STATUS), ("error", _STR),
    ("checksum", "<u8"), ("t_start", "<f8"), ("t_end", "<f8"), ("read_s", "<f8"),
    ("decode_s", "<f8"), ("convert_s", "<f8"), ("encode_s", "<f8"), ("write_s", "<f8"),
    ("queue_wait_s", "<f8"), ("ipc_s", "<f8"), ("ipc_bytes", "<u8"),
])
RANK_DTYPE = np.dtype([
    ("rank", "<i4"), ("host", _STR), ("n_images", "<u8"), ("n_failed", "<u8"),
    ("wall_s", "<f8"), ("compute_s", "<f8"), ("distribute_s", "<f8"), ("gather_s", "<f8"),
    ("idle_s", "<f8"), ("setup_s", "<f8"), ("teardown_s", "<f8"), ("user_s", "<f8"),
    ("sys_s", "<f8"), ("max_rss_kb", "<i8"), ("cpus", _STR), ("worker_cpus", _STR),
])
INPUT_DTYPE = np.dtype([("path", _STR), ("size", "<u8")])

# Samples per pixel as graybench's decoders report them for Pillow's modes.
_CHANNELS = {"1": 1, "L": 1, "I": 1, "I;16": 1, "I;16B": 1, "F": 1, "LA": 2, "La": 2, "P": 3,
             "PA": 4, "RGB": 3, "YCbCr": 3, "LAB": 3, "HSV": 3, "RGBA": 4, "RGBa": 4,
             "RGBX": 4, "CMYK": 4}


class UsageError(Exception):
    """A bad command line or input: exit status 2."""


def checksum64(data) -> int:
    """graybench's image checksum: XXH3-64 (seed 0) of the bytes (row-major gray pixels)."""
    return xxhash.xxh3_64_intdigest(bytes(data))


# ---------------------------------------------------------------------------- input listing

@dataclass
class InputFile:
    path: str          # absolute, normalised
    size: int          # bytes when listed
    output_rel: str    # output path below --output-dir


def _supported(path: str) -> bool:
    return os.path.splitext(path)[1].lower() in EXTENSIONS


def mirror_name(relative: str) -> str:
    """graybench's output name: ".png" appended unless the name already ends in ".png"."""
    return relative if os.path.splitext(relative)[1].lower() == ".png" else relative + ".png"


def _add_input(spec: str, origin: str, out: list[tuple[str, str]]) -> None:
    if not spec:
        raise UsageError(f"{origin}empty input path")
    p = os.path.normpath(os.path.abspath(spec))
    if not os.path.exists(p):
        raise UsageError(f"{origin}input does not exist: {spec}")
    if os.path.isdir(p):
        for dirpath, dirnames, filenames in os.walk(p, followlinks=False):
            dirnames.sort()
            for name in filenames:
                f = os.path.join(dirpath, name)
                if os.path.isfile(f) and _supported(f):
                    out.append((os.path.normpath(f), p))
        return
    if not os.path.isfile(p):
        raise UsageError(f"{origin}not a regular file: {spec}")
    if not _supported(p):
        raise UsageError(f"{origin}unsupported image type: {spec} (expected png, jpg, jpeg, bmp, "
                         "tga, gif, pnm, pgm, ppm or psd)")
    out.append((p, os.path.dirname(p)))


def list_inputs(inputs: Sequence[str], lists: Sequence[str] = ()) -> list[InputFile]:
    """graybench's listing: files and recursively scanned directories, plus list files (one path
    per line, '#' comments); sorted by path, the same file (by device and inode) kept once,
    outputs mirroring paths below the inputs' common ancestor."""
    found: list[tuple[str, str]] = []
    for spec in inputs:
        _add_input(spec, "", found)
    for lst in lists:
        try:
            lines = Path(lst).read_text().splitlines()
        except OSError as e:
            raise UsageError(f"cannot read list file: {lst}") from e
        for n, line in enumerate(lines, 1):
            line = line.strip(" \t\r")
            if line and not line.startswith("#"):
                _add_input(line, f"{lst}:{n}: ", found)
    if not found:
        raise UsageError("no images found in the given inputs")
    found.sort(key=lambda c: os.fsencode(c[0]))
    ids, unique = set(), []
    for path, root in found:
        try:
            st = os.stat(path)
            key = (st.st_dev, st.st_ino)
        except OSError:
            key = path
        if key not in ids:
            ids.add(key)
            unique.append((path, root))
    root = os.path.commonpath([r for _, r in unique])
    files = []
    for path, _ in unique:
        try:
            size = os.path.getsize(path)
        except OSError:
            size = 0
        files.append(InputFile(path, size, mirror_name(os.path.relpath(path, root))))
    return files


def fingerprint(files: Sequence[InputFile]) -> str:
    """graybench's input-set fingerprint: hex FNV-1a 64 of the "path\\tsize\\n" lines."""
    h = 14695981039346656037
    for f in files:
        for b in f"{f.path}\t{f.size}\n".encode():
            h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


# ---------------------------------------------------------------------------- per-image work

@dataclass(frozen=True)
class Task:
    index: int
    path: str
    output: str   # empty: write nothing
    origin: float  # perf_counter() at the run's start


def _row(task: Task, worker: int, repeat: int) -> dict:
    return {"image": task.index, "path": task.path, "rank": 0, "worker": worker, "repeat": repeat,
            "width": 0, "height": 0, "channels": 0, "bit_depth": 0, "bytes_in": 0,
            "bytes_out": 0, "status": OK, "error": "", "checksum": 0, "t_start": 0.0,
            "t_end": 0.0, "read_s": 0.0, "decode_s": 0.0, "convert_s": 0.0, "encode_s": 0.0,
            "write_s": 0.0, "queue_wait_s": 0.0, "ipc_s": 0.0, "ipc_bytes": 0}


def process_image(task: Task, worker: int = 0, repeat: int = 0, queued: bool = False) -> dict:
    """One image, the Python original's way, every phase timed. Never raises: a failure is a row
    with a status and a message."""
    row = _row(task, worker, repeat)
    t0 = time.perf_counter()
    row["t_start"] = t0 - task.origin
    if queued:
        row["queue_wait_s"] = row["t_start"]  # every image is available from the start
    phase = READ_ERROR
    try:
        with open(task.path, "rb") as f:
            data = f.read()
        row["bytes_in"] = len(data)
        t1 = time.perf_counter()
        row["read_s"] = t1 - t0
        phase = DECODE_ERROR
        im = Image.open(io.BytesIO(data))
        im.load()
        row["width"], row["height"] = im.size
        row["channels"] = _CHANNELS.get(im.mode, len(im.getbands()))
        row["bit_depth"] = 16 if im.mode.startswith("I;16") or im.mode == "I" else 8
        t2 = time.perf_counter()
        row["decode_s"] = t2 - t1
        phase = INTERNAL_ERROR
        gray = ImageOps.grayscale(im)
        row["checksum"] = checksum64(gray.tobytes())
        t3 = time.perf_counter()
        row["convert_s"] = t3 - t2
        if task.output:
            phase = ENCODE_ERROR
            buf = io.BytesIO()
            gray.save(buf, format="PNG")
            png = buf.getvalue()
            t4 = time.perf_counter()
            row["encode_s"] = t4 - t3
            phase = WRITE_ERROR
            os.makedirs(os.path.dirname(task.output), exist_ok=True)
            with open(task.output, "wb") as f:
                f.write(png)
            row["bytes_out"] = len(png)
            row["write_s"] = time.perf_counter() - t4
    except Exception as e:  # noqa: BLE001 - a bad image is a row, never the end of the run
        row["status"] = phase
        row["error"] = f"{type(e).__name__}: {e}"[:500]
        row["checksum"] = 0
        row["bytes_out"] = 0
    row["t_end"] = time.perf_counter() - task.origin
    return row


# ---------------------------------------------------------------------------- the strategies

_worker_id = threading.local()
_process_worker_id = 0


def _assign_thread_id(counter: list, lock: threading.Lock) -> None:
    with lock:
        _worker_id.value = counter[0]
        counter[0] += 1


def _assign_process_id(counter) -> None:
    global _process_worker_id
    with counter.get_lock():
        _process_worker_id = counter.value
        counter.value += 1


def _in_process_worker(task: Task, repeat: int) -> dict:
    return process_image(task, _process_worker_id, repeat, queued=True)


def _in_thread_worker(task: Task, repeat: int) -> dict:
    return process_image(task, getattr(_worker_id, "value", 0), repeat, queued=True)


@dataclass
class Outcome:
    rows: list[dict]
    setup_s: float = 0.0
    teardown_s: float = 0.0
    interrupted: bool = False


def run_sequential(tasks: list[Task], workers: int, repeat: int) -> Outcome:
    rows = []
    try:
        for t in tasks:
            rows.append(process_image(t, 0, repeat))
    except KeyboardInterrupt:
        return Outcome(rows, interrupted=True)
    return Outcome(rows)


def run_threading(tasks: list[Task], workers: int, repeat: int) -> Outcome:
    q: queue.Queue = queue.Queue()
    rows: list[dict] = []
    lock = threading.Lock()

    def work(wid: int) -> None:
        while True:
            t = q.get()
            if t is None:
                return
            r = process_image(t, wid, repeat, queued=True)
            with lock:
                rows.append(r)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(workers)]
    for th in threads:
        th.start()
    setup = time.perf_counter() - t0
    for t in tasks:
        q.put(t)
    for _ in threads:
        q.put(None)
    try:
        for th in threads[:-1]:
            th.join()
        t1 = time.perf_counter()
        threads[-1].join()
    except KeyboardInterrupt:
        with lock:
            return Outcome(list(rows), setup, interrupted=True)
    return Outcome(rows, setup, time.perf_counter() - t1)


def run_mp_pool(tasks: list[Task], workers: int, repeat: int) -> Outcome:
    t0 = time.perf_counter()
    counter = multiprocessing.Value("i", 0)
    pool = multiprocessing.Pool(workers, initializer=_assign_process_id, initargs=(counter,))
    setup = time.perf_counter() - t0
    rows: list[dict] = []
    try:
        for r in pool.starmap(_in_process_worker, [(t, repeat) for t in tasks], chunksize=1):
            rows.append(r)
    except KeyboardInterrupt:
        pool.terminate()
        return Outcome(rows, setup, interrupted=True)
    t1 = time.perf_counter()
    pool.close()
    pool.join()
    return Outcome(rows, setup, time.perf_counter() - t1)


def _run_executor(make: Callable[[], concurrent.futures.Executor], fn, tasks: list[Task],
                  repeat: int) -> Outcome:
    t0 = time.perf_counter()
    ex = make()
    setup = time.perf_counter() - t0
    rows: list[dict] = []
    futures = [ex.submit(fn, t, repeat) for t in tasks]
    try:
        for f in concurrent.futures.as_completed(futures):
            rows.append(f.result())
    except KeyboardInterrupt:
        ex.shutdown(wait=False, cancel_futures=True)
        return Outcome(rows, setup, interrupted=True)
    t1 = time.perf_counter()
    ex.shutdown(wait=True)
    return Outcome(rows, setup, time.perf_counter() - t1)


def run_thread_executor(tasks: list[Task], workers: int, repeat: int) -> Outcome:
    counter, lock = [0], threading.Lock()
    return _run_executor(
        lambda: concurrent.futures.ThreadPoolExecutor(
            workers, initializer=_assign_thread_id, initargs=(counter, lock)),
        _in_thread_worker, tasks, repeat)


def run_process_executor(tasks: list[Task], workers: int, repeat: int) -> Outcome:
    counter = multiprocessing.Value("i", 0)
    return _run_executor(
        lambda: concurrent.futures.ProcessPoolExecutor(
            workers, initializer=_assign_process_id, initargs=(counter,)),
        _in_process_worker, tasks, repeat)


RUNNERS = {
    "sequential": run_sequential,
    "threading": run_threading,
    "mp-pool": run_mp_pool,
    "thread-executor": run_thread_executor,
    "process-executor": run_process_executor,
}


# ---------------------------------------------------------------------------- run metadata

def process_elapsed() -> float:
    """Seconds since this process started (from /proc, like graybench's startup_s), else 0."""
    try:
        start_ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return 0.0


def _iso(t: float) -> str:
    d = _dt.datetime.fromtimestamp(t, tz=_dt.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _physical_cores() -> int:
    cores, phys = set(), None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("physical id"):
                phys = line.split(":", 1)[1].strip()
            elif line.startswith("core id"):
                cores.add((phys, line.split(":", 1)[1].strip()))
    except OSError:
        pass
    return len(cores) or (os.cpu_count() or 1)


def _cpu_list(cpus: Sequence[int]) -> str:
    cpus, parts, i = sorted(cpus), [], 0
    while i < len(cpus):
        j = i
        while j + 1 < len(cpus) and cpus[j + 1] == cpus[j] + 1:
            j += 1
        parts.append(str(cpus[i]) if i == j else f"{cpus[i]}-{cpus[j]}")
        i = j + 1
    return ",".join(parts)


def _git_revision() -> str:
    try:
        out = subprocess.run(["git", "-C", str(Path(__file__).resolve().parent), "describe",
                              "--always", "--dirty"], capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _project_version() -> str:
    cmake = Path(__file__).resolve().parents[2] / "CMakeLists.txt"
    try:
        for line in cmake.read_text().splitlines():
            if line.startswith("project(") and " VERSION " in line:
                return line.split(" VERSION ", 1)[1].split()[0]
    except OSError:
        pass
    return "unknown"


def library_versions() -> dict[str, str]:
    """What decoded, encoded and hashed: recorded per run, as graybench records its codecs."""
    libjpeg = features.version("libjpeg_turbo") if features.check("libjpeg_turbo") else None
    return {
        "python_version": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "pillow_version": PIL.__version__,
        "libjpeg_version": (f"libjpeg-turbo {libjpeg}" if libjpeg
                            else str(features.version_codec("jpg") or "unknown")),
        "zlib_version": str(features.version_codec("zlib") or "unknown"),
        "xxhash_version": f"python-xxhash {xxhash.VERSION}, libxxhash {xxhash.XXHASH_VERSION}",
        "h5py_version": h5py.version.version,
        "numpy_version": np.__version__,
    }


@dataclass
class Settings:
    files: list[InputFile]
    output_dir: str | None
    results: str
    strategies: list[str]
    workers: list[int]
    workers_source: str
    repeat: int
    warmup: int
    quiet: bool
    command_line: str
    common: dict = field(default_factory=dict)


def common_attributes(s: Settings) -> dict:
    host = socket.gethostname()
    major, minor, release = h5py.version.hdf5_version_tuple
    a = {
        "ranks": 1, "nodes": 1, "hosts": host, "hostname": host,
        "command_line": s.command_line,
        "graybench_version": _project_version(), "git_revision": _git_revision(),
        "compiler": f"{platform.python_implementation()} {platform.python_version()}",
        "compiler_flags": "", "build_type": "python",
        "mpi_library": "none (graybench-py is one process)",
        "hdf5_version": f"{major}.{minor}.{release}",
        "cpu_model": _cpu_model(), "cpus_online": os.cpu_count() or 1,
        "cores_physical": _physical_cores(),
        "chunk": 1, "distribution": "block", "distribution_mechanism": "static",
        "workers_source": s.workers_source, "mode": "files", "kernel_repeat": 1,
        # Python's GIL is real here, not graybench's --gil emulation.
        "gil": 0, "gil_interval_s": sys.getswitchinterval(),
        "ipc": "", "omp_schedule": "",
        "output_dir": os.path.abspath(s.output_dir) if s.output_dir else "",
        "input_fingerprint": fingerprint(s.files),
        "total_bytes_in": sum(f.size for f in s.files),
        "checksum_algorithm": CHECKSUM_ALGORITHM,
        "implementation": "python",
        "py_kernel": "PIL.ImageOps.grayscale",
        "py_png_encoder": "Pillow PNG (zlib level 6 default, per-row filter choice)",
    }
    for name, value in sorted(os.environ.items()):
        if name.startswith(("OMP_", "SLURM_")):
            a["env_" + name] = value
    a.update(library_versions())
    return a


def run_once(s: Settings, strategy: str, workers: int, repeat: int) -> tuple[dict, list, list]:
    """One measured run: attributes, image rows (every input, sorted), the rank row."""
    eff_workers = 1 if strategy == "sequential" else workers
    origin = time.perf_counter()
    tasks = [Task(i, f.path, os.path.join(s.output_dir, f.output_rel) if s.output_dir else "",
                  origin) for i, f in enumerate(s.files)]
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    rc0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.time()
    outcome = RUNNERS[strategy](tasks, eff_workers, repeat)
    wall = time.perf_counter() - origin
    finished = time.time()
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    rc1 = resource.getrusage(resource.RUSAGE_CHILDREN)

    by_index = {r["image"]: r for r in outcome.rows}
    rows = []
    for t in tasks:
        r = by_index.get(t.index)
        if r is None:
            r = _row(t, 0, repeat)
            r["status"], r["error"] = NOT_PROCESSED, "not processed: the run was interrupted"
        rows.append(r)
    failed = sum(r["status"] not in (OK, NOT_PROCESSED) for r in rows)
    not_processed = sum(r["status"] == NOT_PROCESSED for r in rows)
    affinity = sorted(os.sched_getaffinity(0))
    over = ""
    if eff_workers > len(affinity):
        over = (f"{eff_workers} workers on {len(affinity)} CPUs this process may use: "
                "workers share cores")
    attrs = dict(s.common)
    attrs.update({
        "strategy": "py-" + strategy, "workers": eff_workers, "repeat": repeat,
        "started": _iso(started), "finished": _iso(finished), "wall_s": wall,
        "n_images": len(tasks), "n_failed": failed, "n_not_processed": not_processed,
        "status": "incomplete" if outcome.interrupted or not_processed else "complete",
        "setup_s": outcome.setup_s, "teardown_s": outcome.teardown_s,
        "distribute_s": 0.0, "gather_s": 0.0,
        "total_pixels": sum(int(r["width"]) * int(r["height"]) for r in rows),
        "total_workers": eff_workers, "oversubscribed": int(bool(over)),
        "oversubscription": over,
    })
    compute = max((r["t_end"] for r in outcome.rows), default=0.0)
    rank = {
        "rank": 0, "host": attrs["hostname"], "n_images": len(tasks), "n_failed": failed,
        "wall_s": wall, "compute_s": compute, "distribute_s": 0.0, "gather_s": 0.0,
        "idle_s": max(0.0, wall - compute), "setup_s": outcome.setup_s,
        "teardown_s": outcome.teardown_s,
        "user_s": (ru1.ru_utime - ru0.ru_utime) + (rc1.ru_utime - rc0.ru_utime),
        "sys_s": (ru1.ru_stime - ru0.ru_stime) + (rc1.ru_stime - rc0.ru_stime),
        "max_rss_kb": max(ru1.ru_maxrss, rc1.ru_maxrss), "cpus": _cpu_list(affinity),
        "worker_cpus": "",
    }
    return attrs, rows, [rank]


# ---------------------------------------------------------------------------- saving

def _table(rows: list[dict], dtype: np.dtype) -> np.ndarray:
    """Rows as a structured array of `dtype`; fields the rows lack (columns other helpers add
    to the schema) take their documented neutral value: 1 for `attempts`, else 0 or ""."""
    out = np.zeros(len(rows), dtype=dtype)
    for name in dtype.names:
        base = h5py.check_string_dtype(dtype[name])
        col = [r.get(name, 1 if name == "attempts" else ("" if base else 0)) for r in rows]
        out[name] = np.array(col, dtype=object) if base else col
    return out


def _template_dtype(f: h5py.File, name: str, default: np.dtype) -> np.dtype:
    """The dtype of `name` in the file's last run, so rows appended match the file's layout
    (and its schema version); `default` for a new file."""
    runs = f.get("runs")
    if runs is not None:
        for run in sorted(runs, reverse=True):
            if name in runs[run]:
                return runs[run][name].dtype
    return default


def save_runs(path: str, files: Sequence[InputFile], runs: list[tuple[dict, list, list]]) -> list[str]:
    """Appends `runs` to the results file as graybench does: under an exclusive flock on
    `<file>.lock`, into a copy `<file>.tmp.<host>.<pid>` that is fsynced and renamed over the
    original. A crash leaves the old file or the new one, never a damaged one."""
    t_save = time.perf_counter()
    target = os.path.realpath(path)
    tmp = f"{target}.tmp.{socket.gethostname()}.{os.getpid()}"
    names: list[str] = []
    with results_file.results_lock(target):
        # A graybench save of this file that was killed left a journal: roll it back first, or
        # the journal would later "roll back" bytes of the file we are about to rename over it.
        results_file.repair_interrupted_save(target)
        try:
            existed = os.path.exists(target)
            if existed:
                shutil.copyfile(target, tmp)
            with h5py.File(tmp, "r+" if existed else "x") as f:
                if existed:
                    schema = f.attrs.get("schema", "")
                    if isinstance(schema, bytes):
                        schema = schema.decode()
                    if not str(schema).startswith("graybench/"):
                        raise UsageError(f"--results {path} is not a graybench results file "
                                         f"(schema '{schema}')")
                    if schema != SCHEMA:
                        raise UsageError(f"--results {path} has schema {schema}, this version "
                                         f"writes {SCHEMA}: use another file")
                else:
                    f.attrs["schema"] = SCHEMA
                    f.attrs["created"] = _iso(time.time())
                    f.attrs["graybench_version"] = _project_version()
                    f.attrs["checksum_algorithm"] = CHECKSUM_ALGORITHM
                    f.create_group("runs")
                fp = fingerprint(files)
                sets = f.require_group("input_sets")
                if fp not in sets:
                    ds = sets.create_dataset(fp, data=_table(
                        [{"path": x.path, "size": x.size} for x in files], INPUT_DTYPE))
                    ds.attrs["fingerprint"] = fp
                if "inputs" not in f:
                    f["inputs"] = sets[fp]  # a hard link, as graybench makes it
                image_dtype = _template_dtype(f, "images", IMAGE_DTYPE)
                rank_dtype = _template_dtype(f, "ranks", RANK_DTYPE)
                existing = [int(n.split("-")[1]) for n in f["runs"] if n.startswith("run-")]
                nxt = max(existing, default=0) + 1
                for attrs, rows, ranks in runs:
                    name = f"run-{nxt:05d}"
                    nxt += 1
                    g = f["runs"].create_group(name)
                    for k, v in attrs.items():
                        g.attrs[k] = v
                    g.attrs["inputs"] = f"/input_sets/{fp}"
                    g.create_dataset("images", data=_table(rows, image_dtype))
                    g.create_dataset("ranks", data=_table(ranks, rank_dtype))
                    # As graybench does: the save's cost up to now, patched in before closing.
                    g.attrs["save_s"] = time.perf_counter() - t_save
                    g.attrs["job_elapsed_s"] = process_elapsed()
                    names.append(name)
            results_file.replace_durably(tmp, target)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    return names


# ---------------------------------------------------------------------------- command line

def _positive_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a comma list of positive integers: {text}")
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected a comma list of positive integers: {text}")
    return values


def _count(text: str, minimum: int) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer: {text}")
    if v < minimum:
        raise argparse.ArgumentTypeError(f"must be >= {minimum}: {text}")
    return v


def _strategies(text: str) -> list[str]:
    if text == "all":
        return list(STRATEGIES)
    names = [s.strip() for s in text.split(",") if s.strip()]
    bad = [n for n in names if n not in STRATEGIES]
    if not names or bad:
        raise argparse.ArgumentTypeError(
            f"unknown strategy {', '.join(bad) or text!r}: expected all or a comma list of "
            + ", ".join(STRATEGIES))
    return names


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="graybench-py",
        description="The Python original (Pillow's ImageOps.grayscale under five strategies) on "
                    "graybench's inputs, appending runs named py-<strategy> to a graybench "
                    "results file (docs/schema.md).",
        epilog="Exit codes: 0 all images converted; 3 finished but some images failed; "
               "2 usage error; 1 fatal error; 4 interrupted.")
    p.add_argument("-i", "--input", action="append", default=[], metavar="PATH",
                   help="image file, or directory scanned recursively (repeatable)")
    p.add_argument("--list", action="append", default=[], metavar="FILE",
                   help="file with one image or directory path per line (repeatable)")
    p.add_argument("-o", "--output-dir", metavar="DIR",
                   help="write grayscale PNGs here, named as graybench names them")
    p.add_argument("-r", "--results", default="graybench.h5", metavar="FILE",
                   help="HDF5 results file; new runs are appended (default graybench.h5)")
    p.add_argument("-s", "--strategy", type=_strategies, default=["sequential"],
                   metavar="LIST", help="comma list, or 'all': " + ", ".join(STRATEGIES))
    p.add_argument("-w", "--workers", type=_positive_list, default=None, metavar="LIST",
                   help="comma list of workers (threads or processes); default "
                        "$SLURM_CPUS_PER_TASK, else 1")
    p.add_argument("--repeat", type=lambda t: _count(t, 1), default=1, metavar="R",
                   help="measured repetitions of each strategy/worker combination")
    p.add_argument("--warmup", type=lambda t: _count(t, 0), default=0, metavar="W",
                   help="unrecorded warm-up repetitions before the measured ones")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    startup_s = process_elapsed()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser().parse_args(argv)  # exits 2 on a usage error
    t_list = time.perf_counter()
    try:
        if not args.input and not args.list:
            raise UsageError("no input: give --input PATH or --list FILE")
        files = list_inputs(args.input, args.list)
        if args.output_dir:
            out = os.path.abspath(args.output_dir)
            if os.path.exists(out) and not os.path.isdir(out):
                raise UsageError(f"--output-dir is not a directory: {args.output_dir}")
            inputs = {os.path.realpath(f.path) for f in files}
            results = os.path.realpath(args.results)
            for f in files:
                target = os.path.realpath(os.path.join(out, f.output_rel))
                if target in inputs:
                    raise UsageError(f"output {target} would overwrite an input")
                if target == results:
                    raise UsageError(f"output {target} would overwrite the --results file")
        # As graybench's pre-run check: a save of the file that was killed is rolled back
        # first (HDF5 may loop forever on a file left mid-flush).
        with results_file.results_lock(args.results):
            results_file.repair_interrupted_save(args.results)
        if os.path.exists(args.results):
            with h5py.File(args.results, "r") as f:
                schema = f.attrs.get("schema", "")
            if isinstance(schema, bytes):
                schema = schema.decode()
            if not str(schema).startswith("graybench/"):
                raise UsageError(f"--results {args.results} is not a graybench results file")
            if schema != SCHEMA:
                raise UsageError(f"--results {args.results} has schema {schema}, this version "
                                 f"writes {SCHEMA}: use another file")
    except UsageError as e:
        print(f"graybench-py: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"graybench-py: {e}", file=sys.stderr)
        return 2

    if args.workers is not None:
        workers, source = args.workers, "command line"
    elif os.environ.get("SLURM_CPUS_PER_TASK", "").isdigit():
        workers, source = [int(os.environ["SLURM_CPUS_PER_TASK"])], "SLURM_CPUS_PER_TASK"
    else:
        workers, source = [1], "default"
    s = Settings(files, args.output_dir, args.results, args.strategy, workers, source,
                 args.repeat, args.warmup, args.quiet,
                 "graybench-py " + " ".join(shlex.quote(a) for a in argv))
    s.common = common_attributes(s)
    s.common["startup_s"] = startup_s
    s.common["list_s"] = time.perf_counter() - t_list

    any_failed = False
    try:
        for strategy in s.strategies:
            counts = [1] if strategy == "sequential" else s.workers
            for w in dict.fromkeys(counts):
                for _ in range(s.warmup):
                    run_once(s, strategy, w, 0)
                for rep in range(s.repeat):
                    attrs, rows, ranks = run_once(s, strategy, w, rep)
                    names = save_runs(s.results, files, [(attrs, rows, ranks)])
                    any_failed |= attrs["n_failed"] > 0
                    if not s.quiet:
                        done = attrs["n_images"] - attrs["n_not_processed"]
                        print(f"{names[0]}: {attrs['strategy']} workers={attrs['workers']} "
                              f"repeat={rep} wall={attrs['wall_s']:.3f}s "
                              f"{done / attrs['wall_s']:.2f} images/s "
                              f"failed={attrs['n_failed']} {attrs['status']}")
                        for r in rows:
                            if r["status"] not in (OK, NOT_PROCESSED):
                                print(f"  failed: {r['path']}: {r['error']}", file=sys.stderr)
                    if attrs["status"] != "complete":
                        return 4
    except KeyboardInterrupt:
        print("graybench-py: interrupted", file=sys.stderr)
        return 4
    except UsageError as e:
        print(f"graybench-py: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # noqa: BLE001 - one clear line and the documented status
        print(f"graybench-py: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    if not s.quiet:
        print(f"results appended to {s.results}")
    return 3 if any_failed else 0
