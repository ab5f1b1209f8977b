"""tools/graybench-py, the Python original as a baseline: same inputs, same schema, same checksums.

graybench and graybench-py run on one tiny generated set and append to one results file; their
per-image checksums must agree on every 8-bit PNG. On JPEG they agree only once graybench decodes
JPEG with libjpeg-turbo as Pillow does (PERF-codec's decoder, issue 8): until then that test is an
expected failure (stb_image's IDCT and upsampling differ from libjpeg's by a few grey levels).
"""

from __future__ import annotations

import sys

import h5py
import numpy as np
import pytest
from PIL import Image

from conftest import TOOLS, checksum64, image_files, output_of, run, table
from test_schema import RUN_ATTRS

GRAYBENCH_PY = TOOLS / "graybench-py"
sys.path.insert(0, str(TOOLS))

from graybench_tools import baseline  # noqa: E402


# Attributes that describe graybench's C++ kernel and have no Python counterpart.
CPP_ONLY = {"simd_target", "membw_gbps"}


def runs_by_strategy(results) -> dict[str, list]:
    out: dict[str, list] = {}
    with h5py.File(results, "r") as f:
        for name in sorted(f["runs"]):
            g = f["runs"][name]
            df = table(g["images"])
            out.setdefault(g.attrs["strategy"], []).append((name, dict(g.attrs), df))
    return out


@pytest.fixture(scope="module")
def both(build, generate, tmp_path_factory):
    """graybench (sequential) then graybench-py (every strategy, 2 workers) on 8-bit PNGs."""
    images = generate("baseline-png", count=8, seed=3, sizes="64x48,33x17",
                      modes="rgb,rgba,gray,graya")
    tmp = tmp_path_factory.mktemp("baseline")
    results = tmp / "r.h5"
    run([build.graybench, "--input", images, "--results", results, "--quiet",
         "--output-dir", tmp / "out-cpp"])
    run([GRAYBENCH_PY, "--input", images, "--results", results, "--strategy", "all",
         "--workers", "2", "--output-dir", tmp / "out-py", "--quiet"], timeout=300)
    return images, tmp, results


def test_every_python_strategy_lands_in_graybench_schema(both):
    _, _, results = both
    runs = runs_by_strategy(results)
    assert set(runs) == {"sequential"} | {f"py-{s}" for s in baseline.STRATEGIES}
    cpp_name, cpp_attrs, cpp_df = runs["sequential"][0]
    with h5py.File(results, "r") as f:
        cpp_images = f["runs"][cpp_name]["images"].dtype
        cpp_ranks = f["runs"][cpp_name]["ranks"].dtype
        for strategy, [(name, attrs, df)] in runs.items():
            assert f["runs"][name]["images"].dtype == cpp_images, strategy
            assert f["runs"][name]["ranks"].dtype == cpp_ranks, strategy
            # The run attributes readers rely on (test_schema's list), less the C++ kernel's own.
            assert set(RUN_ATTRS) - CPP_ONLY <= set(attrs), (strategy, set(RUN_ATTRS) - set(attrs))
            assert attrs["status"] == "complete" and attrs["n_failed"] == 0
            assert attrs["checksum_algorithm"] == "xxh3-64"
            assert attrs["input_fingerprint"] == cpp_attrs["input_fingerprint"]
            assert list(df["path"]) == list(cpp_df["path"])
            assert (df["status"] == 0).all()
            if strategy.startswith("py-"):
                for key in ("python_version", "pillow_version", "libjpeg_version",
                            "zlib_version"):
                    assert attrs[key], key
                workers = 1 if strategy == "py-sequential" else 2
                assert attrs["workers"] == workers
                assert set(df["worker"]) <= set(range(workers))
                assert attrs["wall_s"] > 0
                phases = df[["read_s", "decode_s", "convert_s", "encode_s", "write_s"]]
                assert (phases > 0).all().all(), strategy
                assert (df["t_end"] >= df["t_start"]).all()
                assert (df["bytes_out"] > 0).all()


def test_png_checksums_equal_graybench(both):
    _, _, results = both
    runs = runs_by_strategy(results)
    cpp = runs["sequential"][0][2].set_index("path")["checksum"]
    for strategy, [(_, _, df)] in runs.items():
        got = df.set_index("path")["checksum"]
        assert got.equals(cpp), strategy


def test_outputs_named_like_graybench_and_hold_the_checksummed_pixels(both):
    images, tmp, results = both
    files = image_files(images)
    cpp_out = sorted(p.relative_to(tmp / "out-cpp") for p in (tmp / "out-cpp").rglob("*.png"))
    py_out = sorted(p.relative_to(tmp / "out-py") for p in (tmp / "out-py").rglob("*.png"))
    assert py_out == cpp_out and len(py_out) == len(files)
    row = runs_by_strategy(results)["py-sequential"][0][2].set_index("path")
    for p in files:
        with Image.open(output_of(files, tmp / "out-py", p)) as im:
            assert im.mode == "L"
            assert checksum64(np.asarray(im)) == row.loc[str(p), "checksum"]


def test_appending_keeps_existing_runs(build, generate, tmp_path):
    images = generate("baseline-append", count=2, seed=4)
    results = tmp_path / "r.h5"
    run([GRAYBENCH_PY, "--input", images, "--results", results, "--quiet"])
    with h5py.File(results, "r") as f:
        before = f["runs/run-00001/images"][()]
        attrs = dict(f["runs/run-00001"].attrs)
    run([build.graybench, "--input", images, "--results", results, "--quiet"])
    run([GRAYBENCH_PY, "--input", images, "--results", results, "--quiet",
         "--strategy", "threading", "--workers", "1,2", "--repeat", "2", "--warmup", "1"])
    with h5py.File(results, "r") as f:
        assert sorted(f["runs"]) == [f"run-{i:05d}" for i in range(1, 7)]
        assert (f["runs/run-00001/images"][()] == before).all()
        assert dict(f["runs/run-00001"].attrs).keys() == attrs.keys()
        reps = [(f["runs"][n].attrs["workers"], f["runs"][n].attrs["repeat"])
                for n in sorted(f["runs"])[2:]]
    assert reps == [(1, 0), (1, 1), (2, 0), (2, 1)]
    assert not list(tmp_path.glob("r.h5.tmp.*"))


def test_bad_images_are_rows_and_exit_3(tmp_path):
    good = tmp_path / "in" / "good.png"
    good.parent.mkdir()
    Image.new("RGB", (5, 4), (10, 200, 30)).save(good)
    (tmp_path / "in" / "bad.png").write_bytes(b"not a png")
    results = tmp_path / "r.h5"
    proc = run([GRAYBENCH_PY, "--input", tmp_path / "in", "--results", results,
                "--strategy", "mp-pool", "--workers", "2"], expect=3)
    assert "bad.png" in proc.stderr
    with h5py.File(results, "r") as f:
        df = table(f["runs/run-00001/images"])
        assert f["runs/run-00001"].attrs["n_failed"] == 1
    bad = df[df["path"].str.endswith("bad.png")].iloc[0]
    assert bad["status"] == baseline.DECODE_ERROR and bad["checksum"] == 0 and bad["error"]


@pytest.mark.parametrize("args, message", [
    (["--input", "/nonexistent/x.png"], "does not exist"),
    (["--strategy", "bogus", "--input", "."], "unknown strategy"),
    (["--workers", "0", "--input", "."], "positive"),
    ([], "no input"),
])
def test_usage_errors_exit_2(tmp_path, args, message):
    proc = run([GRAYBENCH_PY, *args, "--results", tmp_path / "r.h5"], expect=2, cwd=tmp_path)
    assert message in proc.stderr
    assert not (tmp_path / "r.h5").exists()


def test_jpeg_checksums_equal_graybench(build, generate, tmp_path):
    # graybench decodes JPEG with libjpeg-turbo set up as Pillow sets it up (issue 8): equal.
    images = generate("baseline-jpeg", count=4, seed=5, sizes="64x48,48x40",
                      formats="jpg", modes="rgb,gray")
    results = tmp_path / "r.h5"
    run([build.graybench, "--input", images, "--results", results, "--quiet"])
    run([GRAYBENCH_PY, "--input", images, "--results", results, "--quiet"])
    runs = runs_by_strategy(results)
    cpp = runs["sequential"][0][2].set_index("path")["checksum"]
    py = runs["py-sequential"][0][2].set_index("path")["checksum"]
    assert py.equals(cpp)
