"""tools/report.py: on real graybench output, and on hand-made files for the statistics."""

from __future__ import annotations

import importlib.util
import io
import sys
from pathlib import Path
from types import SimpleNamespace

import h5py
import numpy as np
import pandas as pd
import pytest

from conftest import TOOLS, run

REPORT = TOOLS / "report.py"


@pytest.fixture(scope="module")
def report():
    """tools/report.py imported as a module."""
    assert REPORT.is_file(), f"{REPORT} is missing"
    spec = importlib.util.spec_from_file_location("graybench_report", REPORT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def report_cli(*args, expect: int | None = 0):
    return run([sys.executable, REPORT, *map(str, args)], expect=expect)


@pytest.fixture(scope="module")
def results(build, generate, mpirun, mpi_env, tmp_path_factory) -> SimpleNamespace:
    """Three sequential repeats on one rank, then one run on two ranks, in one file."""
    root = generate("report", count=6, seed=31, sizes="64x48", formats="png,jpg")
    path = tmp_path_factory.mktemp("report") / "results.h5"
    run([build.graybench, "--input", root, "--results", path, "--repeat", "3", "-q"])
    run([*mpirun, build.graybench, "--input", root, "--results", path, "-q"], env=mpi_env)
    with h5py.File(path, "r") as f:
        names = sorted(f["runs"])
    assert len(names) == 4
    return SimpleNamespace(path=path, names=names, n_images=6)


def write_fake_results(path: Path, runs: list[dict]) -> None:
    """A minimal graybench/1-shaped file: run attributes and a ranks table with compute_s."""
    with h5py.File(path, "w") as f:
        f.attrs["schema"] = "graybench/1"
        g = f.create_group("runs")
        for k, spec in enumerate(runs, start=1):
            r = g.create_group(f"run-{k:05d}")
            compute = spec.pop("compute_s")
            for key, value in spec.items():
                r.attrs[key] = value
            ranks = np.zeros(len(compute), dtype=[("rank", "<i4"), ("compute_s", "<f8")])
            ranks["rank"] = np.arange(len(compute))
            ranks["compute_s"] = compute
            r["ranks"] = ranks


def fake_run(strategy: str, workers: int, ranks: int, repeat: int, wall: float,
             compute=None) -> dict:
    return dict(strategy=strategy, workers=workers, ranks=ranks, nodes=1, repeat=repeat,
                status="complete", n_images=100, n_failed=0, wall_s=wall,
                compute_s=compute if compute is not None else [wall] * ranks)


def test_report_prints_every_run_and_the_medians(results):
    proc = report_cli(results.path)
    assert proc.stderr == ""
    for name in results.names:
        assert name in proc.stdout
    lines = proc.stdout.splitlines()
    assert any("median" in line for line in lines), proc.stdout
    header = next(i for i, line in enumerate(lines) if "median_wall_s" in line)
    rows = [line.split() for line in lines[header + 1:] if line.strip()]
    # strategy workers ranks n_runs median_wall_s median_images/s speedup
    seq1 = next(r for r in rows if r[:3] == ["sequential", "1", "1"])
    assert seq1[3] == "3" and seq1[6] == "1.00"
    for column in ("images/s", "imbalance", "wall_s", "n_failed", "status"):
        assert column in lines[1], lines[1]


def test_report_csv_parses_and_matches_the_file(results):
    proc = report_cli(results.path, "--csv")
    df = pd.read_csv(io.StringIO(proc.stdout))
    assert list(df.columns) == ["run", "strategy", "workers", "ranks", "nodes", "repeat",
                                "status", "n_images", "n_failed", "wall_s", "images_per_s",
                                "imbalance"]
    assert list(df["run"]) == results.names
    assert list(df["ranks"]) == [1, 1, 1, 2]
    assert list(df["repeat"]) == [0, 1, 2, 0]
    assert (df["status"] == "complete").all() and (df["n_failed"] == 0).all()
    assert (df["n_images"] == results.n_images).all()
    with h5py.File(results.path, "r") as f:
        walls = [float(f["runs"][n].attrs["wall_s"]) for n in results.names]
        compute = [f["runs"][n]["ranks"]["compute_s"] for n in results.names]
    np.testing.assert_allclose(df["wall_s"], walls, rtol=1e-12)
    np.testing.assert_allclose(df["images_per_s"], results.n_images / np.array(walls), rtol=1e-9)
    np.testing.assert_allclose(df["imbalance"], [c.max() / c.mean() for c in compute],
                               rtol=1e-9)
    assert (df["imbalance"] >= 1.0 - 1e-12).all()


def test_report_run_filter(results):
    picked = [results.names[0], results.names[3]]
    proc = report_cli(results.path, "--csv", "--run", picked[0], "--run", picked[1])
    assert list(pd.read_csv(io.StringIO(proc.stdout))["run"]) == picked
    proc = report_cli(results.path, "--csv", "--run", *picked)
    assert list(pd.read_csv(io.StringIO(proc.stdout))["run"]) == picked
    proc = report_cli(results.path, "--run", "run-99999", expect=2)
    assert "run-99999" in proc.stderr and proc.stdout == ""


@pytest.mark.parametrize("kind", ["not-hdf5", "missing", "other-schema", "directory"])
def test_report_refuses_what_is_not_a_results_file(tmp_path, kind):
    path = tmp_path / "results.h5"
    if kind == "not-hdf5":
        path.write_text("just text\n")
    elif kind == "other-schema":
        with h5py.File(path, "w") as f:
            f.attrs["schema"] = "other/1"
    elif kind == "directory":
        path.mkdir()
    proc = report_cli(path, expect=2)
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert str(path) in proc.stderr


def test_load_runs_and_summary(report, results):
    runs = report.load_runs(str(results.path))
    assert isinstance(runs, pd.DataFrame)
    assert list(runs["run"]) == results.names
    for column in ("strategy", "workers", "ranks", "repeat", "wall_s", "n_images",
                   "hostname", "started", "command_line"):
        assert column in runs.columns, column
    table = report.summary(runs)
    assert list(table["run"]) == results.names
    assert table.loc[0, "images_per_s"] == pytest.approx(
        runs.loc[0, "n_images"] / runs.loc[0, "wall_s"])
    ranks = report.load_ranks(str(results.path))
    assert list(ranks.groupby("run").size()) == [1, 1, 1, 2]
    assert {"run", "rank", "host", "compute_s"} <= set(ranks.columns)


def test_grouped_medians_and_speedup(report, tmp_path):
    path = tmp_path / "fake.h5"
    write_fake_results(path, [
        fake_run("sequential", 1, 1, 0, 1.0),
        fake_run("sequential", 1, 1, 1, 3.0),
        fake_run("sequential", 1, 1, 2, 2.0),
        fake_run("threads", 4, 1, 0, 0.5),
        fake_run("threads", 4, 1, 1, 1.5),
        fake_run("threads", 4, 2, 0, 0.4, compute=[0.1, 0.3]),
        fake_run("threads", 4, 2, 1, 0.6, compute=[0.2, 0.2]),
    ])
    per_run = report.summary(report.load_runs(str(path)))
    assert list(per_run["images_per_s"]) == pytest.approx([100, 100 / 3, 50, 200, 100 / 1.5,
                                                           250, 100 / 0.6])
    assert list(per_run["imbalance"]) == pytest.approx([1, 1, 1, 1, 1, 1.5, 1])

    groups = report.grouped(per_run).set_index(["strategy", "workers", "ranks"])
    assert groups.loc[("sequential", 1, 1), "n_runs"] == 3
    assert groups.loc[("sequential", 1, 1), "median_wall_s"] == pytest.approx(2.0)
    assert groups.loc[("sequential", 1, 1), "median_images_per_s"] == pytest.approx(50.0)
    assert groups.loc[("sequential", 1, 1), "speedup"] == pytest.approx(1.0)
    assert groups.loc[("threads", 4, 1), "median_wall_s"] == pytest.approx(1.0)
    assert groups.loc[("threads", 4, 1), "speedup"] == pytest.approx(2.0)
    assert np.isnan(groups.loc[("threads", 4, 2), "speedup"]), "no sequential run at 2 ranks"

    text = report_cli(path).stdout.splitlines()
    row = next(line.split() for line in text if line.split()[:3] == ["threads", "4", "2"])
    assert len(row) == 6, f"speedup should be blank without a sequential baseline: {row}"
    row = next(line.split() for line in text if line.split()[:3] == ["threads", "4", "1"])
    assert row[-1] == "2.00"


def test_single_runs_print_no_median_table(report, tmp_path):
    path = tmp_path / "fake.h5"
    write_fake_results(path, [fake_run("sequential", 1, 1, 0, 1.0),
                              fake_run("sequential", 1, 2, 0, 0.5)])
    proc = report_cli(path)
    assert "run-00001" in proc.stdout and "run-00002" in proc.stdout
    assert "median" not in proc.stdout
