"""tools/bench-compare runs end to end on a tiny set. A benchmark: nothing here checks a speed."""

from __future__ import annotations

import shutil

import h5py

from conftest import TOOLS, run

BENCH_COMPARE = TOOLS / "bench-compare"


def test_runs_on_a_tiny_set_and_stores_runs(build, generate, tmp_path):
    images = generate("bench-compare", count=4, seed=9, sizes="32x24")
    results = tmp_path / "bc.h5"
    proc = run([BENCH_COMPARE, "--input", images, "--repeat", "1", "--results", results,
                "--graybench", build.graybench, "--cpp-strategies", "sequential,pool",
                "--python-strategies", "sequential,threading", "--scratch", tmp_path],
               timeout=600)
    out = proc.stdout
    assert "images/s" in out and "Mpix/s" in out and "x best py" in out
    for case in ("graybench sequential w1 no-write", "graybench pool w2 png",
                 "python threading w2 png", "python sequential w1 no-write"):
        assert case in out, case
    assert "phase breakdown" in out and "decode floor" in out
    if shutil.which("vips"):
        assert "vips colourspace" in out
    with h5py.File(results, "r") as f:
        strategies = sorted(f["runs"][n].attrs["strategy"] for n in f["runs"])
    assert strategies == sorted(["sequential", "sequential", "pool", "pool", "pool", "pool",
                                 "py-sequential", "py-sequential", "py-threading",
                                 "py-threading"])
    assert not list(tmp_path.glob("bench-compare-*"))  # scratch cleaned up


def test_usage_errors_exit_2(tmp_path):
    proc = run([BENCH_COMPARE, "--input", tmp_path, "--cpp-strategies", "bogus"], expect=2)
    assert "unknown strategy" in proc.stderr
    proc = run([BENCH_COMPARE, "--repeat", "1"], expect=2)
    assert "no input" in proc.stderr
