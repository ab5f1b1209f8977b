"""Read graybench results files (schema graybench/1 and graybench/2) into pandas DataFrames.

    import sys; sys.path.insert(0, "tools")
    from graybench_tools import load
    res = load.load("results/*.h5")            # paths, globs, or a list of them
    print(res.runs[["run", "strategy", "workers", "ranks", "wall_s", "status"]])
    print(res.images.groupby("status").size())  # status names: ok, decode_error, ...

Three tidy tables, each with `source` (the file) and `run` (the run group's name) as the first
columns, so runs of several files never collide:

- runs:   one row per run: every attribute of /runs/<run> (docs/schema.md), plus derived columns
          `n_processed` (images the run reached: n_images - n_not_processed) and `schema`.
- images: one row per image per run: every field of /runs/<run>/images; `status` is the status
          *name* (str) and `status_code` the integer, whether the file stores an int32 (v1) or an
          HDF5 enum (v2).
- ranks:  one row per rank per run: every field of /runs/<run>/ranks.

Strings are `str`, never `bytes`. Only h5py, numpy and pandas are needed (no graybench binary).

A file whose last save was interrupted (a graybench killed while saving leaves `<file>.journal`
beside it, docs/schema.md "Crash safety") is read as of its last committed save, from a private
rolled-back copy; the file and its journal are left as they are (`graybench --repair-results FILE`
repairs them in place).
"""

from __future__ import annotations

import glob
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from typing import Iterable, Sequence

import h5py
import numpy as np
import pandas as pd

SCHEMA_PREFIX = "graybench/"
#: Major schema versions this reader understands.
SUPPORTED_SCHEMAS = ("graybench/1", "graybench/2")

#: ImageStatus names by value, as documented in docs/schema.md (v1 stores the int only; v2 files
#: carry the names in their enum type, which take precedence when present).
STATUS_NAMES = {
    0: "ok",
    1: "read_error",
    2: "decode_error",
    3: "encode_error",
    4: "write_error",
    5: "worker_lost",
    6: "not_processed",
    7: "internal_error",
}
#: Status names that mean the image was never reached (not a failure, not processed).
UNPROCESSED = ("not_processed",)


class ResultsError(Exception):
    """A problem with the input the user can fix (missing file, not a graybench file)."""


@dataclass
class Results:
    """The three tables of one or many results files."""

    runs: pd.DataFrame
    images: pd.DataFrame
    ranks: pd.DataFrame


def python_value(value):
    """An h5py attribute or field value as a plain Python value (bytes -> str, numpy -> int/float)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        if value.shape == ():
            return python_value(value[()])
        return [python_value(v) for v in value.tolist()]
    return value


def expand(patterns: str | os.PathLike | Iterable[str | os.PathLike]) -> list[str]:
    """The files named by paths and glob patterns, in the given order, without duplicates.

    A pattern that matches nothing and is not an existing path raises ResultsError.
    """
    if isinstance(patterns, (str, os.PathLike)):
        patterns = [patterns]
    out: list[str] = []
    for p in patterns:
        p = os.fspath(p)
        matches = sorted(glob.glob(p)) if glob.has_magic(p) else [p]
        if not matches:
            raise ResultsError(f"no file matches {p}")
        for m in matches:
            if m not in out:
                out.append(m)
    if not out:
        raise ResultsError("no results file given")
    return out


from .files import (JOURNAL_MAGIC, fnv1a, journal_header, journal_path,  # noqa: E402,F401
                    repair_interrupted_save, replace_durably, results_lock, roll_back)


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def _open_rolled_back(path: str) -> h5py.File | None:
    """A read-only h5py.File of `path` as of its last committed save, when a save of it was
    interrupted (its journal exists); None when the file itself is right to read.

    The file is copied FIRST and the journal read after: whatever a live writer overwrote before
    the copy read it has its pre-image in the journal by then (a record is written before the
    bytes it saves). The journal is held open across both, and its still being the live one
    afterwards proves that one save spanned the copy; otherwise that save ended meanwhile: start
    again. The copy lives in a private temporary directory and is unlinked once open, so it goes
    away when the handle is closed or the process ends, however it ends."""
    jpath = journal_path(path)
    for _ in range(10):
        try:
            jfd = os.open(jpath, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        tmpdir = tempfile.mkdtemp(prefix="graybench-rollback-")
        try:
            copy: str | None = os.path.join(tmpdir, "results.h5")
            try:
                shutil.copyfile(path, copy)
            except FileNotFoundError:
                copy = None
            except OSError as e:  # unreadable, or no room in $TMPDIR
                raise ResultsError(f"{path}: a save of it was interrupted, and a private copy to "
                                   f"read it as of its last committed save failed: {e}") from e
            journal = _read_all(jfd)
            try:
                now = os.stat(jpath)
            except FileNotFoundError:
                continue  # that save ended (committed or rolled back) while we copied
            held = os.fstat(jfd)
            if (now.st_dev, now.st_ino) != (held.st_dev, held.st_ino):
                continue
            header = journal_header(journal)
            if header is None:
                return None  # the save had changed nothing yet
            base, created = header
            if created:
                raise ResultsError(
                    f"{path}: no run was ever committed to it: the save that was creating it was "
                    f"interrupted (graybench --repair-results {path} removes it and {jpath})")
            if copy is None:
                raise ResultsError(f"no such file: {path} (but {jpath} exists)")
            fd = os.open(copy, os.O_RDWR | os.O_CLOEXEC)
            try:
                roll_back(fd, journal, base)
            finally:
                os.close(fd)
            try:
                f = h5py.File(copy, "r")
            except OSError as e:
                raise ResultsError(f"cannot open {path} as of its last committed save: {e}") from e
            print(f"graybench: {path}: read as of its last committed save, because a save of it "
                  f"was interrupted; the file is not modified (any graybench run with --results "
                  f"{path}, or graybench --repair-results {path}, repairs it in place)",
                  file=sys.stderr)
            return f
        finally:
            os.close(jfd)
            shutil.rmtree(tmpdir, ignore_errors=True)  # an open copy lives on, unlinked
    raise ResultsError(f"{path}: saves kept finishing while it was being read; try again")


def open_committed(path: str | os.PathLike) -> h5py.File:
    """`path` opened read-only with h5py as of its last committed save (a private rolled-back
    copy when a save of it was interrupted), without checking what it holds. OSError as h5py's."""
    path = os.fspath(path)
    if not os.path.isdir(path):
        f = _open_rolled_back(path)
        if f is not None:
            return f
    return h5py.File(path, "r")


def open_results(path: str | os.PathLike) -> h5py.File:
    """Opens `path` read-only after checking it is a graybench results file (ResultsError if not).

    If a save of it was interrupted (`<path>.journal` exists), opens a private copy rolled back
    to its last committed save instead, says so on stderr, and leaves the file untouched."""
    path = os.fspath(path)
    if not os.path.isdir(path):
        f = _open_rolled_back(path)
        if f is not None:
            return _checked(path, f)
    if not os.path.exists(path):
        raise ResultsError(f"no such file: {path}")
    if os.path.isdir(path):
        raise ResultsError(f"is a directory, not a results file: {path}")
    if not h5py.is_hdf5(path):
        raise ResultsError(f"not an HDF5 file: {path}")
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise ResultsError(f"cannot open {path} as HDF5: {e}") from e
    return _checked(path, f)


def _checked(path: str, f: h5py.File) -> h5py.File:
    """`f` if it is a graybench results file this reader knows; else closes it, ResultsError."""
    schema = python_value(f.attrs.get("schema", ""))
    if not isinstance(schema, str) or not schema.startswith(SCHEMA_PREFIX):
        f.close()
        raise ResultsError(
            f"not a graybench results file (root attribute schema is {schema!r}): {path}")
    if schema not in SUPPORTED_SCHEMAS:
        f.close()
        raise ResultsError(f"{path} has schema {schema}; this reader knows "
                           f"{', '.join(SUPPORTED_SCHEMAS)}")
    if "runs" not in f or not isinstance(f["runs"], h5py.Group):
        f.close()
        raise ResultsError(f"graybench file without a /runs group: {path}")
    return f


def _status_names(dtype: np.dtype) -> dict[int, str]:
    """Value -> name of the `status` field: from the HDF5 enum type if there is one (v2)."""
    names = dict(STATUS_NAMES)
    try:
        field = dtype["status"]
    except (KeyError, TypeError, ValueError):
        return names
    enum = h5py.check_enum_dtype(field)
    if enum:
        names.update({int(v): str(k) for k, v in enum.items()})
    return names


def _table(dataset: h5py.Dataset) -> pd.DataFrame:
    """A 1-D compound dataset as a DataFrame with strings decoded and `status` named."""
    data = dataset[()]
    df = pd.DataFrame(data) if len(data) else pd.DataFrame(
        {name: pd.Series(dtype=object if dataset.dtype[name].kind in "OSU" else dataset.dtype[name])
         for name in (dataset.dtype.names or ())})
    for col in df.columns:
        if df[col].dtype == object:
            df[col] = [python_value(v) for v in df[col]]
    if "status" in df.columns and df["status"].dtype != object:
        names = _status_names(dataset.dtype)
        codes = df["status"].astype("int64")
        df["status"] = [names.get(int(c), f"status_{int(c)}") for c in codes]
        df.insert(df.columns.get_loc("status") + 1, "status_code", codes)
    return df


def _with_keys(df: pd.DataFrame, source: str, run: str) -> pd.DataFrame:
    df.insert(0, "run", run)
    df.insert(0, "source", source)
    return df


def _read_file(path: str, want_images: bool, want_ranks: bool):
    runs, images, ranks = [], [], []
    with open_results(path) as f:
        schema = python_value(f.attrs["schema"])
        for name in sorted(f["runs"]):
            group = f["runs"][name]
            row = {"source": path, "run": name, "schema": schema}
            row.update({k: python_value(v) for k, v in group.attrs.items()})
            runs.append(row)
            if want_images and isinstance(group.get("images"), h5py.Dataset):
                images.append(_with_keys(_table(group["images"]), path, name))
            if want_ranks and isinstance(group.get("ranks"), h5py.Dataset):
                ranks.append(_with_keys(_table(group["ranks"]), path, name))
    return runs, images, ranks


def _concat(frames: list[pd.DataFrame], columns: Sequence[str]) -> pd.DataFrame:
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=list(columns))
    return pd.concat(frames, ignore_index=True)


def _derive_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """Adds n_processed; fills attributes older files lack with their documented defaults."""
    if runs.empty:
        return runs
    defaults = {"status": "complete", "n_not_processed": 0, "n_failed": 0, "gil": 0,
                "kernel_repeat": 1, "distribution": "block", "mode": "files", "nodes": 1,
                "ranks": 1, "workers": 1, "repeat": 0}
    for col, value in defaults.items():
        if col not in runs:
            runs[col] = value
        else:
            runs[col] = runs[col].where(runs[col].notna(), value)
    for col in ("wall_s", "n_images", "total_pixels"):
        if col not in runs:
            runs[col] = np.nan
    runs["n_processed"] = (pd.to_numeric(runs["n_images"], errors="coerce")
                           - pd.to_numeric(runs["n_not_processed"], errors="coerce"))
    return runs


def load(paths, *, images: bool = True, ranks: bool = True) -> Results:
    """Reads every run of the files named by `paths` (a path, a glob, or a list of them).

    Set images=False / ranks=False to skip those tables on large files (they come back empty).
    Raises ResultsError when a name matches no file or a file is not a graybench results file.
    """
    all_runs, all_images, all_ranks = [], [], []
    for path in expand(paths):
        r, i, k = _read_file(path, images, ranks)
        all_runs += r
        all_images += i
        all_ranks += k
    run_df = _derive_runs(pd.DataFrame(all_runs) if all_runs
                          else pd.DataFrame(columns=["source", "run"]))
    return Results(runs=run_df,
                   images=_concat(all_images, ["source", "run", "image", "status", "status_code"]),
                   ranks=_concat(all_ranks, ["source", "run", "rank"]))


def load_runs(paths) -> pd.DataFrame:
    """Only the runs table of load()."""
    return load(paths, images=False, ranks=False).runs


def load_images(paths) -> pd.DataFrame:
    """Only the images table of load()."""
    return load(paths, ranks=False).images


def load_ranks(paths) -> pd.DataFrame:
    """Only the ranks table of load()."""
    return load(paths, images=False).ranks
