"""Cluster-scale results: run_uuid, node names, Slurm ids, --cache, and tools/graybench-merge.

Runs the real binary (mpirun, 2 ranks) and the real merge command.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import h5py
import pytest

from conftest import TOOLS, run

MERGE = TOOLS / "graybench-merge"
PY = "/usr/bin/python3"


@pytest.fixture(scope="module")
def images(generate) -> Path:
    return generate("cluster", count=8, seed=5)


def graybench(build, mpirun, mpi_env, results: Path, images: Path, *extra, env=None, expect=0):
    return run([*mpirun, build.graybench, "--input", images, "--results", results, "--quiet", *extra],
               env={**mpi_env, **(env or {})}, expect=expect)


def runs_of(path: Path) -> list[dict]:
    with h5py.File(path, "r") as f:
        return [{"name": n, **dict(f["runs"][n].attrs), "node": list(f["runs"][n]["ranks"]["node"])}
                for n in sorted(f["runs"])]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def two_files(build, mpirun, mpi_env, images, tmp_path_factory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("two")
    a, b = d / "a.h5", d / "b.h5"
    graybench(build, mpirun, mpi_env, a, images, "--strategy", "sequential,threads",
              "--workers", "2", env={"SLURMD_NODENAME": "vnode7", "SLURM_JOB_ID": "41",
                                     "SLURM_STEP_ID": "3"})
    graybench(build, mpirun, mpi_env, b, images, "--cache", "cold", "--repeat", "2")
    return a, b


def test_every_run_has_a_unique_uuid_and_the_layout_attributes(two_files):
    runs = runs_of(two_files[0]) + runs_of(two_files[1])
    uuids = [r["run_uuid"] for r in runs]
    assert len(set(uuids)) == len(uuids) == 4
    assert all(len(u) == 36 and u[14] == "4" for u in uuids)
    for r in runs:
        for key in ("nodes", "ranks_per_node", "ranks", "workers", "strategy", "distribution",
                    "mode", "kernel_repeat", "gil", "cache", "input_fingerprint",
                    "slurm_job_id", "slurm_step_id", "node_names", "cache_resident_fraction"):
            assert key in r, key


def test_node_name_comes_from_slurm_where_given(two_files):
    slurm, plain = runs_of(two_files[0])[0], runs_of(two_files[1])[0]
    assert slurm["node"] == [b"vnode7", b"vnode7"]
    assert (slurm["nodes"], slurm["ranks_per_node"], slurm["node_names"]) == (1, 2, "vnode7")
    assert (slurm["slurm_job_id"], slurm["slurm_step_id"]) == ("41", "3")
    assert plain["node"] == [os.uname().nodename.encode()] * 2
    assert plain["slurm_step_id"] == "" or "SLURM_STEP_ID" in os.environ


def test_cache_is_recorded_and_cold_runs_evict(two_files):
    warm, cold = runs_of(two_files[0]), runs_of(two_files[1])
    assert {r["cache"] for r in warm} == {"warm"}
    assert {r["cache"] for r in cold} == {"cold"}
    for r in warm + cold:
        assert 0.0 <= r["cache_resident_fraction"] <= 1.0
    # Eviction is verified with mincore; a kernel that ignores POSIX_FADV_DONTNEED shows up here
    # (on tmpfs the pages are the file: nothing can be evicted).
    fs = subprocess.run(["stat", "-f", "-c", "%T", str(two_files[1])], capture_output=True,
                        text=True).stdout.strip()
    if fs == "tmpfs":
        pytest.skip("inputs on tmpfs")
    assert all(r["cache_resident_fraction"] < 0.5 for r in cold), [
        r["cache_resident_fraction"] for r in cold]


def test_cache_usage_error(build, mpirun, mpi_env, images, tmp_path):
    p = graybench(build, mpirun, mpi_env, tmp_path / "x.h5", images, "--cache", "tepid", expect=2)
    assert "--cache" in p.stderr
    assert not (tmp_path / "x.h5").exists()


def test_merge_dedups_keeps_provenance_and_never_touches_inputs(two_files, tmp_path):
    a, b = two_files
    before = digest(a), digest(b)
    out = tmp_path / "m.h5"
    p = run([PY, MERGE, "-o", out, a, b])
    assert "4 run(s) from 2 file(s)" in p.stdout
    # Merging again, with the output itself and a glob, adds nothing.
    p = run([PY, MERGE, "-o", out, out, str(a.parent / "*.h5")])
    assert "4 run(s)" in p.stdout and "duplicate(s) skipped" in p.stdout
    merged = runs_of(out)
    assert len(merged) == 4
    assert [r["name"] for r in merged] == ["run-00001", "run-00002", "run-00003", "run-00004"]
    assert {r["source_file"] for r in merged} == {str(a), str(b)}
    assert {r["source_job"] for r in merged} == {"41", ""}
    assert sorted(r["run_uuid"] for r in merged) == sorted(
        r["run_uuid"] for r in runs_of(a) + runs_of(b))
    assert (digest(a), digest(b)) == before
    assert not list(tmp_path.glob("m.h5.tmp.*"))
    with h5py.File(out, "r") as f:
        for n in f["runs"]:
            assert f["runs"][n].attrs["inputs"] in f  # the input list came along


def test_merge_refuses_mixed_schemas(two_files, tmp_path):
    other = tmp_path / "other.h5"
    other.write_bytes(two_files[0].read_bytes())
    with h5py.File(other, "a") as f:
        f.attrs["schema"] = "graybench/99"
    p = run([PY, MERGE, "-o", tmp_path / "m.h5", two_files[0], other], expect=2)
    assert "refusing to mix schema versions" in p.stderr and "graybench/99" in p.stderr
    assert not (tmp_path / "m.h5").exists()


def test_merge_usage_errors(tmp_path):
    p = run([PY, MERGE, "-o", tmp_path / "m.h5", tmp_path / "nothing-*.h5"], expect=2)
    assert "no file matches" in p.stderr
    junk = tmp_path / "junk.h5"
    junk.write_text("not hdf5")
    p = run([PY, MERGE, "-o", tmp_path / "m.h5", junk], expect=2)
    assert "not an HDF5 file" in p.stderr
