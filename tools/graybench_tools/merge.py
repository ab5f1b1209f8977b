"""Merge many graybench results files into one (docs/schema.md, "Merged files").

Every run keeps its group, attributes, `images` and `ranks` datasets and its input list; runs are
renumbered `run-00001`... in the output in the order met (inputs in the order given, runs in name
order). A run is identified by its `run_uuid` attribute, so a run met twice (the same file given
twice, an earlier merge given again, or the output merged into itself) is stored once. Runs
written before `run_uuid` existed are identified by their start time, host, command line,
strategy, workers and repetition instead. Each run records where it came from: `source_file`,
`source_run` and `source_job` (the Slurm job, `<array job>_<task>` for array tasks); a run that
already carries them (from an earlier merge) keeps its original ones.

Inputs are never modified; an existing output's runs are kept (merging is incremental), and the
output is written next to it and renamed over it only when complete (temp + fsync + rename), so
a crash leaves the old output or the new one. Files of different schema versions are not mixed:
that is an error that names them.
"""

from __future__ import annotations

import argparse
import datetime
import glob
import hashlib
import os
import socket
import sys
from typing import Iterable, Sequence

import h5py

from . import load

EXIT_OK = 0
EXIT_FATAL = 1
EXIT_USAGE = 2
SCHEMA_PREFIX = "graybench/"


class MergeError(Exception):
    """A problem with the inputs the user can fix; main prints it as one line, exit 2."""


def _attr_str(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def run_key(run: h5py.Group) -> str:
    """Identity of a run: its `run_uuid`, or for older files a digest of what makes it unique."""
    if "run_uuid" in run.attrs:
        return "uuid:" + _attr_str(run.attrs["run_uuid"])
    parts = [_attr_str(run.attrs.get(k, "")) for k in (
        "started", "finished", "hostname", "command_line", "strategy", "workers", "repeat")]
    return "legacy:" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def source_job(run: h5py.Group) -> str:
    """The Slurm job a run belongs to, from its recorded SLURM_* variables ('' outside Slurm)."""
    a = run.attrs
    array_job = _attr_str(a.get("env_SLURM_ARRAY_JOB_ID", ""))
    task = _attr_str(a.get("env_SLURM_ARRAY_TASK_ID", ""))
    if array_job and task:
        return f"{array_job}_{task}"
    return _attr_str(a.get("env_SLURM_JOB_ID", ""))


def expand_inputs(patterns: Iterable[str]) -> list[str]:
    """Paths and globs (quoted globs too, for shells that pass them on) -> existing files."""
    out: list[str] = []
    for p in patterns:
        matches = sorted(glob.glob(p)) if glob.has_magic(p) else [p]
        if not matches:
            raise MergeError(f"no file matches '{p}'")
        for m in matches:
            if not os.path.isfile(m):
                raise MergeError(f"no such file: {m}")
            out.append(m)
    return out


def _schema(path: str, f: h5py.File) -> str:
    if "schema" not in f.attrs or "runs" not in f:
        raise MergeError(f"{path}: not a graybench results file (no 'schema' attribute or /runs)")
    schema = _attr_str(f.attrs["schema"])
    if not schema.startswith(SCHEMA_PREFIX):
        raise MergeError(f"{path}: unknown schema '{schema}'")
    return schema


def _open(path: str) -> h5py.File:
    """An input, read as of its last committed save when a save of it was interrupted
    (load.open_committed: a private rolled-back copy; the input itself is never modified)."""
    try:
        return load.open_committed(path)
    except load.ResultsError as e:
        raise MergeError(str(e)) from e
    except OSError as e:
        raise MergeError(f"{path}: not an HDF5 file ({e})") from e


def merge(output: str, inputs: Sequence[str], quiet: bool = False) -> dict:
    """Merges `inputs` (and an existing `output`) into `output`; returns counts."""
    inputs = expand_inputs(inputs)
    if not inputs:
        raise MergeError("no input files")
    # The output is rewritten under the lock graybench's saves take, and an interrupted save of
    # it is rolled back first: its journal must not outlive the file it describes.
    with load.results_lock(output):
        load.repair_interrupted_save(output)
        return _merge_locked(output, inputs, quiet)


def _merge_locked(output: str, inputs: list[str], quiet: bool) -> dict:
    sources = []
    if os.path.exists(output):
        sources.append(output)
        inputs = [p for p in inputs if not os.path.samefile(p, output)]
    sources += inputs
    files = [(p, _open(p)) for p in sources]
    try:
        schemas = {}
        for p, f in files:
            schemas.setdefault(_schema(p, f), []).append(p)
        if len(schemas) > 1:
            detail = "; ".join(f"{s}: {', '.join(ps[:3])}{' ...' if len(ps) > 3 else ''}"
                               for s, ps in sorted(schemas.items()))
            raise MergeError(f"refusing to mix schema versions ({detail}); merge each version "
                             "into its own file")
        schema = next(iter(schemas))
        target = os.path.realpath(output)  # through a symlink, the file it names is replaced
        tmp = f"{target}.tmp.{socket.gethostname()}.{os.getpid()}"
        counts = {"files": len(files), "runs": 0, "duplicates": 0}
        try:
            with h5py.File(tmp, "w") as dst:
                first = files[0][1]
                for k, v in first.attrs.items():
                    dst.attrs[k] = v
                dst.attrs["schema"] = schema
                dst.attrs["merged"] = datetime.datetime.now(datetime.timezone.utc).strftime(
                    "%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
                runs = dst.create_group("runs")
                dst.create_group("input_sets")
                seen: set[str] = set()
                for path, src in files:
                    for name in sorted(src["runs"].keys()):
                        run = src["runs"][name]
                        key = run_key(run)
                        if key in seen:
                            counts["duplicates"] += 1
                            continue
                        seen.add(key)
                        counts["runs"] += 1
                        new = f"run-{counts['runs']:05d}"
                        src.copy(run, runs, name=new)
                        g = runs[new]
                        if "source_file" not in g.attrs:
                            g.attrs["source_file"] = os.path.abspath(path)
                            g.attrs["source_run"] = name
                            g.attrs["source_job"] = source_job(run)
                        inputs_path = _attr_str(run.attrs.get("inputs", ""))
                        if inputs_path and inputs_path in src and inputs_path not in dst:
                            src.copy(src[inputs_path], dst, name=inputs_path)
                            if "inputs" not in dst:
                                dst["inputs"] = dst[inputs_path]
                dst.attrs["merged_files"] = counts["files"]
                dst.flush()
            load.replace_durably(tmp, target)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    finally:
        for _, f in files:
            f.close()
    if not quiet:
        print(f"graybench-merge: {counts['runs']} run(s) from {counts['files']} file(s) into "
              f"{output} ({counts['duplicates']} duplicate(s) skipped)")
    return counts


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="graybench-merge",
        description="Merge graybench results files (paths or globs) into one. Runs are "
                    "deduplicated by run_uuid; an existing OUT keeps its runs; inputs are "
                    "never modified. Exit 0 ok, 1 fatal, 2 usage or bad input.")
    parser.add_argument("-o", "--output", required=True, metavar="OUT.h5", help="merged file")
    parser.add_argument("inputs", nargs="+", metavar="IN.h5", help="results files or globs")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        merge(args.output, args.inputs, quiet=args.quiet)
    except MergeError as e:
        print(f"graybench-merge: {e}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as e:
        print(f"graybench-merge: {e}", file=sys.stderr)
        return EXIT_FATAL
    return EXIT_OK
