"""graybench's grayscale equals Pillow's Image.convert("L").

PNG: exact, in every mode graybench-gen writes (16-bit RGB is reduced to its high byte, as
Pillow does; 16-bit gray opens in Pillow as mode "I", where graybench takes v >> 8).
JPEG: decoders differ slightly (stb_image vs libjpeg), so within 2 grey levels.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import h5py
import numpy as np
import pytest
from PIL import Image

from conftest import checksum64_images, image_files, output_of, run, table

JPEG_TOLERANCE = 2

# PNG IHDR (bit depth, colour type) of each graybench-gen mode.
PNG_KINDS = {
    (8, 2): "rgb", (8, 6): "rgba", (8, 0): "gray", (8, 4): "graya",
    (16, 2): "rgb16", (16, 0): "gray16",
}


def png_kind(path: Path) -> str:
    """The graybench-gen mode of a PNG, read from its IHDR chunk (not from Pillow)."""
    head = path.read_bytes()[:26]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR", path
    return PNG_KINDS[(head[24], head[25])]


def pillow_gray(path: Path) -> np.ndarray:
    """What graybench should produce for `path`, computed with Pillow alone."""
    with Image.open(path) as im:
        if im.mode in ("I", "I;16", "I;16B"):
            # 16-bit gray: graybench keeps the high byte; Pillow's convert("L") would clip.
            return (np.asarray(im).astype(np.uint32) >> 8).astype(np.uint8)
        return np.asarray(im.convert("L"), dtype=np.uint8)


def graybench_gray(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        assert im.mode == "L", (path, im.mode)
        return np.asarray(im, dtype=np.uint8)


def convert(build, root: Path, tmp: Path) -> SimpleNamespace:
    results, out = tmp / "results.h5", tmp / "out"
    run([build.graybench, "--input", root, "--results", results, "--output-dir", out, "-q"])
    files = image_files(root)
    with h5py.File(results, "r") as f:
        (name,) = list(f["runs"])
        images = table(f["runs"][name]["images"]).set_index("image").sort_index()
    assert len(images) == len(files)
    assert (images["status"] == 0).all(), images[images["status"] != 0]["error"]
    return SimpleNamespace(files=files, out=out, images=images)


@pytest.fixture(scope="module")
def png(build, generate, tmp_path_factory) -> SimpleNamespace:
    """Two PNGs of each of the six modes, two sizes."""
    root = generate("pillow-png", count=12, seed=21, sizes="64x48,48x32", formats="png",
                    modes="rgb,rgba,gray,graya,rgb16,gray16")
    return convert(build, root, tmp_path_factory.mktemp("pillow-png-run"))


@pytest.fixture(scope="module")
def jpeg(build, generate, tmp_path_factory) -> SimpleNamespace:
    """JPEGs in colour and gray (the generator drops alpha for JPEG)."""
    root = generate("pillow-jpg", count=6, seed=22, sizes="64x48,48x32", formats="jpg",
                    modes="rgb,gray,rgba")
    return convert(build, root, tmp_path_factory.mktemp("pillow-jpg-run"))


def test_png_set_covers_every_mode(png):
    assert sorted({png_kind(p) for p in png.files}) == sorted(PNG_KINDS.values())


@pytest.mark.parametrize("kind", sorted(PNG_KINDS.values()))
def test_png_equals_pillow_exactly(png, kind):
    files = [p for p in png.files if png_kind(p) == kind]
    assert files, f"no {kind} PNG generated"
    for p in files:
        expected = pillow_gray(p)
        got = graybench_gray(output_of(png.files, png.out, p))
        assert got.shape == expected.shape, p
        diff = np.argwhere(got != expected)
        assert diff.size == 0, (
            f"{p} ({kind}): {len(diff)} pixels differ, first at (y, x)={tuple(diff[0])}: "
            f"graybench {got[tuple(diff[0])]}, Pillow {expected[tuple(diff[0])]}")


def test_gray16_is_the_high_byte_not_pillows_clip(png):
    """Guards the reference itself: Pillow's own convert("L") clips 16-bit gray at 255."""
    p = next(p for p in png.files if png_kind(p) == "gray16")
    with Image.open(p) as im:
        assert im.mode.startswith("I")
        raw = np.asarray(im)
    assert raw.max() > 255
    got = graybench_gray(output_of(png.files, png.out, p))
    np.testing.assert_array_equal(got, (raw.astype(np.uint32) >> 8).astype(np.uint8))


def test_png_checksums_are_xxh3_of_pillows_bytes(png):
    expected = checksum64_images([pillow_gray(p) for p in png.files])
    assert [int(c) for c in png.images["checksum"]] == expected


def assert_jpegs_close(files, out):
    """Asserts graybench's output for every JPEG in `files` is within JPEG_TOLERANCE grey levels
    of Pillow's conversion; returns the Pillow modes the inputs opened as."""
    modes = set()
    for p in files:
        with Image.open(p) as im:
            modes.add(im.mode)
        expected = pillow_gray(p).astype(np.int16)
        got = graybench_gray(output_of(files, out, p)).astype(np.int16)
        assert got.shape == expected.shape, p
        worst = int(np.abs(got - expected).max())
        assert worst <= JPEG_TOLERANCE, f"{p}: differs from Pillow by up to {worst} grey levels"
    return modes


def test_jpeg_within_tolerance_of_pillow(jpeg):
    assert {p.suffix for p in jpeg.files} == {".jpg"}
    modes = assert_jpegs_close(jpeg.files, jpeg.out)
    # stb's JPEG writer stores even gray images as 3-component YCbCr, so Pillow sees RGB.
    assert modes == {"RGB"}


def test_libjpeg_written_jpegs_within_tolerance(build, png, tmp_path):
    """JPEGs from another encoder (libjpeg via Pillow): true 1-component gray, 4:2:0 and 4:4:4
    colour, progressive."""
    root = tmp_path / "jpegs"
    root.mkdir()
    sources = [p for p in png.files if png_kind(p) in ("rgb", "rgba", "gray")][:3]
    variants = {
        "gray.jpg": dict(mode="L"),
        "c420.jpg": dict(mode="RGB", subsampling=2),
        "c444.jpg": dict(mode="RGB", subsampling=0),
        "prog.jpg": dict(mode="RGB", progressive=True),
    }
    for i, src in enumerate(sources):
        for suffix, opts in variants.items():
            opts = dict(opts)
            with Image.open(src) as im:
                im.convert(opts.pop("mode")).save(root / f"{i}-{suffix}", quality=90, **opts)
    result = convert(build, root, tmp_path)
    assert assert_jpegs_close(result.files, result.out) == {"L", "RGB"}


def test_jpeg_checksums_match_written_pngs(jpeg):
    pixels = [graybench_gray(output_of(jpeg.files, jpeg.out, p)) for p in jpeg.files]
    assert [int(c) for c in jpeg.images["checksum"]] == checksum64_images(pixels)
