"""The HDF5 results contract (schema graybench/2, docs/schema.md), read by h5py alone.

Everything here is checked from outside: the file graybench writes, the PNGs it writes with
--output-dir, and the generated inputs. No graybench code is imported.
"""

from __future__ import annotations

import os
import re
import subprocess
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import h5py
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from conftest import checksum64, checksum64_images, image_files, output_of, run, table

SIZES = {(64, 48), (40, 30)}

RUN_ATTRS = {
    # name: expected Python/numpy kind ("int", "float", "str")
    "strategy": "str", "workers": "int", "ranks": "int", "repeat": "int",
    "started": "str", "finished": "str", "wall_s": "float", "n_images": "int",
    "n_failed": "int", "status": "str", "command_line": "str", "hostname": "str",
    "graybench_version": "str", "git_revision": "str", "compiler": "str", "build_type": "str",
    "nodes": "int", "hosts": "str", "mpi_library": "str", "hdf5_version": "str",
    "distribution": "str", "input_fingerprint": "str", "inputs": "str",
    "checksum_algorithm": "str", "startup_s": "float", "list_s": "float", "save_s": "float",
    "job_elapsed_s": "float", "simd_target": "str", "membw_gbps": "float",
}

IMAGE_FIELDS = {
    "image": "u", "path": "str", "rank": "i", "worker": "i", "repeat": "i",
    "width": "u", "height": "u", "channels": "u", "bytes_in": "u", "bytes_out": "u",
    "status": "i", "error": "str", "checksum": "u8",
    "t_start": "f", "t_end": "f", "read_s": "f", "decode_s": "f", "convert_s": "f",
    "encode_s": "f", "write_s": "f", "queue_wait_s": "f",
}
PHASES = ["read_s", "decode_s", "convert_s", "encode_s", "write_s"]

RANK_FIELDS = {
    "rank": "i", "host": "str", "n_images": "u", "wall_s": "f", "compute_s": "f",
    "user_s": "f", "sys_s": "f", "max_rss_kb": "i",
}


def _kind_ok(value, kind: str) -> bool:
    if kind == "int":
        return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
    if kind == "float":
        return isinstance(value, (float, np.floating))
    return isinstance(value, str)


def _field_ok(dtype: np.dtype, kind: str) -> bool:
    """`kind`: "str" (variable-length string), "u8" (exactly uint64), "u"/"i" (an integer
    type; "u" must be unsigned or a signed type wide enough that values are non-negative),
    "f" (floating point)."""
    if kind == "str":
        return h5py.check_string_dtype(dtype) is not None
    if kind == "u8":
        return dtype == np.dtype(np.uint64)
    if kind in ("u", "i"):
        return dtype.kind in "ui"
    return dtype.kind == "f"


def _iso(text: str) -> datetime:
    stamp = datetime.fromisoformat(text)  # Python 3.11 accepts the trailing Z
    assert stamp.tzinfo is not None, f"timestamp without a time zone: {text}"
    return stamp


def _runs(path: Path) -> list[str]:
    with h5py.File(path, "r") as f:
        return list(f["runs"])


@pytest.fixture(scope="module")
def inputs(generate) -> SimpleNamespace:
    """8 small images: png then jpg, in every 8-bit mode, two sizes, two folders."""
    root = generate("schema", count=8, seed=11, sizes="64x48,40x30", formats="png,jpg",
                    modes="rgb,rgba,gray,graya")
    files = image_files(root)
    assert len(files) == 8, files
    return SimpleNamespace(root=root, files=files)


@pytest.fixture(scope="module")
def single(build, inputs, tmp_path_factory) -> SimpleNamespace:
    """One rank, two measured repeats, outputs written."""
    tmp = tmp_path_factory.mktemp("single")
    results, out = tmp / "results.h5", tmp / "out"
    proc = run([build.graybench, "--input", inputs.root, "--results", results,
                "--output-dir", out, "--repeat", "2"])
    return SimpleNamespace(results=results, out=out, proc=proc)


@pytest.fixture(scope="module")
def two_ranks(build, inputs, mpirun, mpi_env, tmp_path_factory) -> SimpleNamespace:
    """mpirun -np 2, one run, outputs written."""
    tmp = tmp_path_factory.mktemp("mpi")
    results, out = tmp / "results.h5", tmp / "out"
    proc = run([*mpirun, build.graybench, "--input", inputs.root, "--results", results,
                "--output-dir", out], env=mpi_env)
    return SimpleNamespace(results=results, out=out, proc=proc)


def test_root_schema(single):
    with h5py.File(single.results, "r") as f:
        assert f.attrs["schema"] == "graybench/2"
        assert f.attrs["checksum_algorithm"] == f["runs"][list(f["runs"])[0]].attrs[
            "checksum_algorithm"]
        assert isinstance(f["runs"], h5py.Group)


def test_status_is_an_enum_h5py_reads_as_integers(single):
    names = ["ok", "read_error", "decode_error", "encode_error", "write_error", "worker_lost",
             "not_processed", "internal_error"]
    with h5py.File(single.results, "r") as f:
        ds = f["runs"][list(f["runs"])[0]]["images"]
        mapping = h5py.check_enum_dtype(ds.dtype["status"])
        assert mapping is not None, ds.dtype["status"]
        assert {name: mapping[name] for name in names} == {n: i for i, n in enumerate(names)}
        assert ds["status"].dtype.kind == "i"


def test_every_second_is_accounted_for(single):
    """job_elapsed_s runs from the process start to the end of the run's save, so it holds the
    start-up, the listing, every run before it and this run's own save (docs/schema.md)."""
    with h5py.File(single.results, "r") as f:
        runs = [dict(f["runs"][name].attrs) for name in sorted(f["runs"])]
    for a in runs:
        for key in ("startup_s", "list_s", "save_s"):
            assert a[key] >= 0, (key, a[key])
        assert a["job_elapsed_s"] >= a["startup_s"] + a["list_s"] + a["wall_s"] + a["save_s"]
    assert runs[1]["job_elapsed_s"] >= runs[0]["job_elapsed_s"] + runs[1]["wall_s"]


def test_run_names_are_unique_and_sort_in_creation_order(single):
    with h5py.File(single.results, "r") as f:
        names = list(f["runs"])
        assert len(names) == 2
        assert len(set(names)) == len(names)
        assert all(re.fullmatch(r"run-\d{5,}", n) for n in names), names
        assert all(isinstance(f["runs"][n], h5py.Group) for n in names)
        ordered = sorted(names)
        repeats = [int(f["runs"][n].attrs["repeat"]) for n in ordered]
        started = [_iso(f["runs"][n].attrs["started"]) for n in ordered]
    assert repeats == [0, 1]
    assert started == sorted(started)
    # Each run printed its name on stdout; the printed order is the sorted order.
    printed = re.findall(r"^(\S+)\s+sequential", single.proc.stdout, re.M)
    assert printed == ordered


def test_run_attributes(single, inputs):
    with h5py.File(single.results, "r") as f:
        for name, group in f["runs"].items():
            attrs = dict(group.attrs)
            missing = sorted(set(RUN_ATTRS) - set(attrs))
            assert not missing, f"{name} lacks attributes {missing}"
            wrong = {k: type(attrs[k]).__name__ for k, kind in RUN_ATTRS.items()
                     if not _kind_ok(attrs[k], kind)}
            assert not wrong, f"{name}: attributes of the wrong type {wrong}"

            assert attrs["strategy"] == "sequential"
            assert attrs["workers"] == 1 and attrs["ranks"] == 1 and attrs["nodes"] == 1
            assert attrs["status"] == "complete"
            assert attrs["n_images"] == len(inputs.files) and attrs["n_failed"] == 0
            assert attrs["wall_s"] > 0
            assert _iso(attrs["finished"]) >= _iso(attrs["started"])
            assert "--results" in attrs["command_line"]
            assert attrs["hostname"] and attrs["hostname"] in attrs["hosts"].split(",")
            for key in ("graybench_version", "git_revision", "compiler", "build_type",
                        "mpi_library", "distribution"):
                assert attrs[key].strip(), f"{name}: empty {key}"
            assert re.fullmatch(r"\d+\.\d+\.\d+", attrs["hdf5_version"]), attrs["hdf5_version"]
            assert re.fullmatch(r"[0-9a-f]+", attrs["input_fingerprint"])


def test_inputs_attribute_names_the_input_list(single):
    with h5py.File(single.results, "r") as f:
        whole = f["inputs"][()]
        for name, group in f["runs"].items():
            target = f.get(group.attrs["inputs"])
            assert isinstance(target, h5py.Dataset), f"{name}: inputs -> {group.attrs['inputs']}"
            np.testing.assert_array_equal(target[()], whole)
            assert group.attrs["input_fingerprint"] in group.attrs["inputs"]


def test_inputs_table(single, inputs):
    with h5py.File(single.results, "r") as f:
        ds = f["inputs"]
        assert ds.ndim == 1
        assert _field_ok(ds.dtype["path"], "str") and _field_ok(ds.dtype["size"], "u")
        df = table(ds)
    assert list(df["path"]) == sorted(df["path"])
    assert [Path(p) for p in df["path"]] == [p.absolute() for p in inputs.files]
    assert list(df["size"]) == [p.stat().st_size for p in inputs.files]


def test_images_dtype(single):
    with h5py.File(single.results, "r") as f:
        for name, group in f["runs"].items():
            ds = group["images"]
            assert isinstance(ds, h5py.Dataset) and ds.ndim == 1
            names = ds.dtype.names or ()
            missing = sorted(set(IMAGE_FIELDS) - set(names))
            assert not missing, f"{name}/images lacks fields {missing}"
            wrong = {k: str(ds.dtype[k]) for k, kind in IMAGE_FIELDS.items()
                     if not _field_ok(ds.dtype[k], kind)}
            assert not wrong, f"{name}/images: fields of the wrong type {wrong}"


def test_images_values(single, inputs):
    n = len(inputs.files)
    with h5py.File(single.results, "r") as f:
        for name, group in f["runs"].items():
            df = table(group["images"])
            wall = float(group.attrs["wall_s"])
            repeat = int(group.attrs["repeat"])
            assert len(df) == n, f"{name}: {len(df)} rows for {n} images"
            assert list(df["image"]) == list(range(n)), "rows are sorted by image, each once"
            assert (df["status"] == 0).all(), df[df["status"] != 0][["path", "error"]]
            assert (df["error"] == "").all()
            assert (df["checksum"] != 0).all()
            assert (df["rank"] == 0).all() and (df["repeat"] == repeat).all()
            assert (df["t_start"] >= 0).all() and (df["t_end"] >= df["t_start"]).all()
            assert (df["t_end"] <= wall + 1e-6).all(), "an image ended after the run's wall time"
            assert (df[PHASES + ["queue_wait_s"]] >= 0).all().all()
            # The phases of one image happen inside its [t_start, t_end] window.
            assert (df[PHASES].sum(axis=1) <= df["t_end"] - df["t_start"] + 1e-5).all()
            for _, row in df.iterrows():
                src = inputs.files[row["image"]]
                assert Path(row["path"]) == src.absolute()
                assert row["bytes_in"] == src.stat().st_size
                with Image.open(src) as im:
                    assert (row["width"], row["height"]) == im.size
                    assert row["channels"] == len(im.getbands()), (src, im.mode)
                assert (row["width"], row["height"]) in SIZES
                out = output_of(inputs.files, single.out, src)
                assert row["bytes_out"] == out.stat().st_size


def test_outputs_mirror_inputs(single, inputs):
    written = sorted(p for p in single.out.rglob("*") if p.is_file())
    expected = sorted(output_of(inputs.files, single.out, p) for p in inputs.files)
    assert written == expected
    jpg = next(p for p in inputs.files if p.suffix == ".jpg")
    assert output_of(inputs.files, single.out, jpg).name == jpg.name + ".png"


def test_checksums_are_xxh3_of_written_pngs(single, inputs):
    """XXH3-64 over the W*H gray bytes, row-major, recomputed from the PNG on disk."""
    with h5py.File(single.results, "r") as f:
        for name, group in f["runs"].items():
            df = table(group["images"])
            pixels = []
            for _, row in df.iterrows():
                out = output_of(inputs.files, single.out, inputs.files[row["image"]])
                with Image.open(out) as im:
                    assert im.mode == "L", (out, im.mode)
                    assert im.size == (row["width"], row["height"])
                    pixels.append(np.asarray(im, dtype=np.uint8))
            assert [int(c) for c in df["checksum"]] == checksum64_images(pixels), name


def test_checksum64_helpers_agree_with_reference_vectors():
    # The published XXH3-64 (seed 0) of the empty input; the others as in kernel_test.cpp.
    assert checksum64(b"") == 0x2D06800538D394C2
    assert checksum64(b"a") == 0xE6C632B61E964E1F
    assert checksum64(b"foobar") == 0xD78FDA63144C5C84
    rng = np.random.default_rng(5)
    imgs = [rng.integers(0, 256, (3, 5), dtype=np.uint8) for _ in range(3)]
    imgs.append(rng.integers(0, 256, (2, 2), dtype=np.uint8))
    assert checksum64_images(imgs) == [checksum64(i.tobytes()) for i in imgs]


def test_images_load_into_pandas(single):
    with h5py.File(single.results, "r") as f:
        first = sorted(f["runs"])[0]
        df = table(f["runs"][first]["images"])
    assert isinstance(df, pd.DataFrame)
    assert set(IMAGE_FIELDS) <= set(df.columns)
    assert df["checksum"].dtype == np.uint64
    assert pd.api.types.is_float_dtype(df["t_end"])
    assert pd.api.types.is_integer_dtype(df["width"])
    assert df["path"].map(type).eq(str).all()
    assert (df["t_end"] - df["t_start"]).gt(0).all()


def test_ranks_single_rank(single, inputs):
    with h5py.File(single.results, "r") as f:
        for name, group in f["runs"].items():
            ds = group["ranks"]
            wrong = {k: str(ds.dtype[k]) for k, kind in RANK_FIELDS.items()
                     if k not in (ds.dtype.names or ()) or not _field_ok(ds.dtype[k], kind)}
            assert not wrong, f"{name}/ranks: missing or mistyped {wrong}"
            df = table(ds)
            assert list(df["rank"]) == [0]
            assert df["n_images"].iloc[0] == len(inputs.files)
            assert df["host"].iloc[0] == group.attrs["hostname"]


def test_ranks_two_ranks(two_ranks, inputs):
    n = len(inputs.files)
    with h5py.File(two_ranks.results, "r") as f:
        (name,) = list(f["runs"])
        group = f["runs"][name]
        assert group.attrs["ranks"] == 2 and group.attrs["status"] == "complete"
        assert group.attrs["n_images"] == n and group.attrs["nodes"] >= 1
        ranks = table(group["ranks"])
        images = table(group["images"])
        wall = float(group.attrs["wall_s"])
    assert list(ranks["rank"]) == [0, 1]
    assert ranks["n_images"].sum() == n
    assert (ranks["wall_s"] > 0).all() and (ranks["compute_s"] >= 0).all()
    assert (ranks["compute_s"] <= ranks["wall_s"] + 1e-6).all()
    assert (ranks[["user_s", "sys_s"]] >= 0).all().all() and (ranks["max_rss_kb"] > 0).all()
    assert (ranks["host"] != "").all()
    # The headline wall time is the slowest rank's (barrier, clock, work, barrier, max).
    assert wall == pytest.approx(ranks["wall_s"].max(), rel=1e-9, abs=1e-9)
    assert len(images) == n and list(images["image"]) == list(range(n))
    per_rank = images.groupby("rank").size()
    assert {r: per_rank.get(r, 0) for r in ranks["rank"]} == dict(
        zip(ranks["rank"], ranks["n_images"]))
    assert (images["status"] == 0).all() and (images["checksum"] != 0).all()


def test_two_ranks_give_the_same_pixels(single, two_ranks, inputs):
    with h5py.File(single.results, "r") as f1, h5py.File(two_ranks.results, "r") as f2:
        a = table(f1["runs"][sorted(f1["runs"])[0]]["images"]).set_index("image")
        b = table(f2["runs"][sorted(f2["runs"])[0]]["images"]).set_index("image")
    assert (a["checksum"] == b["checksum"]).all()
    for p in inputs.files:
        one = output_of(inputs.files, single.out, p).read_bytes()
        two = output_of(inputs.files, two_ranks.out, p).read_bytes()
        assert one == two, p


def test_second_invocation_appends_runs(build, inputs, single, tmp_path):
    results = tmp_path / "results.h5"
    results.write_bytes(single.results.read_bytes())
    with h5py.File(results, "r") as f:
        before = {n: (dict(g.attrs), g["images"][()], g["ranks"][()])
                  for n, g in f["runs"].items()}
    run([build.graybench, "--input", inputs.root, "--results", results, "--quiet"])
    with h5py.File(results, "r") as f:
        names = sorted(f["runs"])
        assert len(names) == len(before) + 1
        new = [n for n in names if n not in before]
        assert len(new) == 1 and new[0] == names[-1], "the new run should sort last"
        for n, (attrs, images, ranks) in before.items():
            g = f["runs"][n]
            assert dict(g.attrs).keys() == attrs.keys()
            for k, v in attrs.items():
                assert np.array_equal(g.attrs[k], v), f"{n}.{k} changed"
            np.testing.assert_array_equal(g["images"][()], images)
            np.testing.assert_array_equal(g["ranks"][()], ranks)
        assert f["runs"][new[0]].attrs["status"] == "complete"


def test_h5dump_reads_the_file(single):
    proc = run(["h5dump", "-H", single.results])
    assert 'GROUP "runs"' in proc.stdout
    for ds in ('DATASET "images"', 'DATASET "ranks"', 'DATASET "inputs"'):
        assert ds in proc.stdout, ds
    assert proc.stderr == ""


def test_results_path_that_is_not_hdf5_is_refused_untouched(build, inputs, tmp_path):
    results = tmp_path / "notes.txt"
    content = b"these are my notes, not HDF5\n" * 10
    results.write_bytes(content)
    proc = run([build.graybench, "--input", inputs.root, "--results", results], expect=2)
    assert results.read_bytes() == content
    assert str(results) in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert sorted(os.listdir(tmp_path)) == ["notes.txt"], "left a temporary file behind"


def test_hdf5_file_of_another_schema_is_refused_untouched(build, inputs, tmp_path):
    results = tmp_path / "other.h5"
    with h5py.File(results, "w") as f:
        f.attrs["schema"] = "someone-else/3"
        f["data"] = np.arange(4)
    content = results.read_bytes()
    proc = run([build.graybench, "--input", inputs.root, "--results", results], expect=2)
    assert results.read_bytes() == content
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_bad_image_is_a_row_not_a_crash(build, inputs, tmp_path):
    """Exit 3; the bad images are rows with a status, a message and checksum 0."""
    root = tmp_path / "in"
    root.mkdir()
    good = next(p for p in inputs.files if p.suffix == ".png")
    (root / "a-good.png").write_bytes(good.read_bytes())
    (root / "b-truncated.png").write_bytes(good.read_bytes()[:200])
    (root / "c-text.jpg").write_text("not a JPEG\n")
    results = tmp_path / "results.h5"
    run([build.graybench, "--input", root, "--results", results, "--output-dir",
         tmp_path / "out", "-q"], expect=3)
    with h5py.File(results, "r") as f:
        (name,) = list(f["runs"])
        attrs = dict(f["runs"][name].attrs)
        df = table(f["runs"][name]["images"])
        ranks = table(f["runs"][name]["ranks"])
    assert attrs["n_images"] == 3 and attrs["n_failed"] == 2 and attrs["status"] == "complete"
    assert list(df["status"] != 0) == [False, True, True]
    bad = df[df["status"] != 0]
    assert (bad["error"] != "").all() and (bad["checksum"] == 0).all()
    assert (bad["bytes_out"] == 0).all()
    assert df.loc[0, "error"] == "" and df.loc[0, "checksum"] != 0
    assert ranks["n_failed"].sum() == 2
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a-good.png"]
