"""tools/bench_strategies.py: end to end on a tiny set, and its statistics on hand-made tables."""

from __future__ import annotations

import io
import math
import sys

import pandas as pd
import pytest

from conftest import TOOLS

sys.path.insert(0, str(TOOLS))
import bench_strategies as bs  # noqa: E402

TINY = ["--images", "6", "--sizes", "64x48", "--repeat", "1", "--warmup", "0",
        "--kernel-repeat-memory", "2"]


@pytest.fixture(scope="module")
def keep(tmp_path_factory):
    return tmp_path_factory.mktemp("bench_strategies")


def bench(capsys, build, keep, *extra) -> tuple[int, str, str]:
    code = bs.main(["--build-dir", str(build.dir), *TINY, "--keep", str(keep), *map(str, extra)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def csv_table(build, keep) -> pd.DataFrame:
    """The --csv table of one real run (module scope: stdout captured by hand)."""
    saved, sys.stdout = sys.stdout, io.StringIO()
    try:
        code = bs.main(["--build-dir", str(build.dir), *TINY, "--keep", str(keep), "--csv"])
        text = sys.stdout.getvalue()
    finally:
        sys.stdout = saved
    assert code == 0, text
    return pd.read_csv(io.StringIO(text))


def test_csv_table_has_every_strategy_workers_and_mode(csv_table):
    assert list(csv_table.columns) == bs.TABLE_COLUMNS
    got = set(zip(csv_table["mode"], csv_table["strategy"], csv_table["workers"]))
    expected = {(mode, "sequential", 1) for mode in bs.MODES}
    expected |= {(mode, s, w) for mode in bs.MODES for s in bs.STRATEGIES[1:] for w in (1, 2)}
    # sequential ignores --workers: graybench measures it once, at 1 worker.
    assert got == expected
    assert len(csv_table) == len(expected)
    assert (csv_table["n_runs"] == 1).all()
    assert dict(zip(csv_table["mode"], csv_table["kernel_repeat"])) == {"files": 1, "memory": 2}
    assert (csv_table["gil"] == 0).all()


def test_csv_table_figures_are_positive(csv_table):
    for col in ("median_wall_s", "images_per_s", "speedup", "efficiency"):
        assert (csv_table[col] > 0).all(), csv_table[["strategy", "workers", col]]
    one = csv_table[csv_table["workers"] == 1]
    assert one["efficiency"].tolist() == pytest.approx([1.0] * len(one))
    seq = csv_table[csv_table["strategy"] == "sequential"]
    assert seq["speedup"].tolist() == pytest.approx([1.0] * len(seq))


def test_median_table_reads_the_kept_results(csv_table, keep):
    table = bs.efficiency(bs.median_table(keep / "results.h5"))
    assert len(table) == len(csv_table)
    assert table["efficiency"].to_numpy() == pytest.approx(csv_table["efficiency"].to_numpy(),
                                                           rel=1e-6)
    assert (table["n_failed"] == 0).all()


def test_text_report_prints_targets_and_machine(csv_table, build, keep, capsys):
    code, out, err = bench(capsys, build, keep)  # reuses the kept set
    assert code == 0, err
    assert "reusing the image set" in err
    assert "targets (efficiency at 2 workers, memory mode):" in out
    for strategy, target in (("threads", "95%"), ("openmp", "95%"), ("pool", "95%"),
                             ("processes", "90%")):
        line = next(ln for ln in out.splitlines() if ln.strip().startswith(strategy + " ")
                    and "target" in ln)
        assert f"target >= {target}" in line and ("met" in line or "NOT MET" in line), line
    assert "nproc" in out and "CPU" in out and "one run" in out


def test_gil_report_prints_the_gil_check(csv_table, build, keep, capsys):
    code, out, err = bench(capsys, build, keep, "--gil")
    assert code == 0, err
    assert "GIL check" in out and "targets" not in out
    for mode in bs.MODES:
        for strategy in ("threads", "openmp", "pool"):
            assert any(ln.split()[:3] == [mode, strategy, "wall"] for ln in out.splitlines()), out
        assert any(ln.split()[:3] == [mode, "processes", "speedup"] for ln in out.splitlines())


def test_changed_options_do_not_reuse_the_kept_set(csv_table, build, keep, capsys):
    code, _, err = bench(capsys, build, keep, "--seed", "2")
    assert code == bs.EXIT_FAILED
    assert "not generated with these options" in err


def test_graybench_failure_exits_nonzero_with_a_message(build, tmp_path, capsys):
    fake = tmp_path / "build"
    fake.mkdir()
    (fake / "graybench-gen").symlink_to(build.gen)
    script = fake / "graybench"
    script.write_text("#!/bin/sh\necho 'graybench: error: simulated failure' >&2\nexit 1\n")
    script.chmod(0o755)
    code = bs.main(["--build-dir", str(fake), *TINY, "--keep", str(tmp_path / "k")])
    _, err = capsys.readouterr()
    assert code == bs.EXIT_FAILED
    assert "graybench failed (files mode) with exit code 1" in err
    assert "simulated failure" in err


def handmade() -> pd.DataFrame:
    rows = [
        # mode, strategy, workers, median_wall_s
        ("files", "sequential", 1, 10.0),
        ("files", "threads", 1, 12.0),
        ("files", "threads", 2, 8.0),
        ("files", "processes", 1, 20.0),
        ("files", "processes", 2, 10.0),
        ("memory", "sequential", 1, 4.0),
        ("memory", "threads", 1, 4.0),
        ("memory", "threads", 2, 2.0),
        ("memory", "threads", 4, 1.25),
        ("memory", "pool", 2, 3.0),  # no 1-worker run: no efficiency
    ]
    return pd.DataFrame(rows, columns=["mode", "strategy", "workers", "median_wall_s"])


def test_efficiency_on_a_handmade_table():
    df = handmade()
    out = bs.efficiency(df)
    assert list(df.columns) == ["mode", "strategy", "workers", "median_wall_s"]  # not modified
    eff = {(r.mode, r.strategy, r.workers): r.efficiency for r in out.itertuples()}
    spd = {(r.mode, r.strategy, r.workers): r.speedup for r in out.itertuples()}
    assert eff[("files", "sequential", 1)] == pytest.approx(1.0)
    assert eff[("files", "threads", 1)] == pytest.approx(1.0)
    assert eff[("files", "threads", 2)] == pytest.approx(12.0 / (2 * 8.0))
    assert eff[("files", "processes", 2)] == pytest.approx(20.0 / (2 * 10.0))
    assert eff[("memory", "threads", 2)] == pytest.approx(4.0 / (2 * 2.0))
    assert eff[("memory", "threads", 4)] == pytest.approx(4.0 / (4 * 1.25))
    assert math.isnan(eff[("memory", "pool", 2)])
    # Speedup is against the sequential median of the same mode only.
    assert spd[("files", "threads", 2)] == pytest.approx(10.0 / 8.0)
    assert spd[("files", "processes", 1)] == pytest.approx(10.0 / 20.0)
    assert spd[("memory", "threads", 2)] == pytest.approx(4.0 / 2.0)
    assert spd[("memory", "pool", 2)] == pytest.approx(4.0 / 3.0)


def test_efficiency_separates_kernel_repeat_and_gil():
    df = pd.DataFrame({
        "mode": ["memory"] * 4, "kernel_repeat": [1, 1, 20, 20], "gil": [0, 0, 0, 0],
        "strategy": ["threads"] * 4, "workers": [1, 2, 1, 2],
        "median_wall_s": [1.0, 1.0, 10.0, 5.0]})
    out = bs.efficiency(df)
    assert out["efficiency"].tolist() == pytest.approx([1.0, 0.5, 1.0, 1.0])
    assert out["speedup"].isna().all()  # no sequential row


def test_target_and_gil_checks_on_a_handmade_table():
    df = pd.DataFrame({
        "mode": ["memory"] * 8,
        "strategy": ["threads", "threads", "openmp", "openmp", "pool", "pool",
                     "processes", "processes"],
        "workers": [1, 2] * 4,
        "median_wall_s": [1.0, 0.52, 1.0, 0.5, 1.0, 0.6, 1.0, 0.55]})
    targets = bs.target_check(bs.efficiency(df)).set_index("strategy")
    assert targets.loc["threads", "efficiency"] == pytest.approx(1 / 1.04)
    assert bool(targets.loc["threads", "met"]) is True      # 96.2 % >= 95 %
    assert bool(targets.loc["openmp", "met"]) is True       # 100 %
    assert bool(targets.loc["pool", "met"]) is False        # 83 %
    assert bool(targets.loc["processes", "met"]) is True    # 90.9 % >= 90 %
    gil = bs.gil_check(df).set_index("strategy")
    assert gil.loc["threads", "value"] == pytest.approx(0.52)
    assert bool(gil.loc["threads", "as_expected"]) is False  # it sped up: no GIL in effect
    assert gil.loc["processes", "value"] == pytest.approx(1 / 0.55)
    assert bool(gil.loc["processes", "as_expected"]) is True


def test_machine_text_warns_about_competing_load():
    runs = pd.DataFrame([{"graybench_version": "0.1.0", "git_revision": "abc",
                          "build_type": "Release", "compiler": "GNU"}])
    quiet = bs.machine_text(runs, (0.1, 0.1, 0.1), {"files": 0.01, "memory": 0.02})
    assert "nproc" in quiet and "files mode 0.01" in quiet and "warning" not in quiet
    busy = bs.machine_text(runs, None, {"files": 0.0, "memory": 0.9})
    assert "warning: other processes competed for the CPUs during memory mode" in busy
    debug = runs.assign(build_type="Debug")
    assert "not an optimised build" in bs.machine_text(debug, None, None)
