"""graybench's grayscale equals Pillow's Image.convert("L").

PNG: exact, in every mode graybench-gen writes (16-bit RGB is reduced to its high byte, as
Pillow does; 16-bit gray opens in Pillow as mode "I", where graybench takes v >> 8).
JPEG: exact with the default decoder (libjpeg-turbo at Pillow's settings) whenever Pillow links
the same libjpeg-turbo; `--decoder stb` differs (stb's IDCT and upsampling), within a tolerance.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import h5py
import numpy as np
import pytest
from PIL import Image, features

from conftest import checksum64_images, image_files, output_of, run, table

# stb_image vs libjpeg on the generated sets; on some real 4:2:2 photos stb is up to 13 off.
STB_JPEG_TOLERANCE = 2

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


def convert(build, root: Path, tmp: Path, *extra: str) -> SimpleNamespace:
    tmp.mkdir(parents=True, exist_ok=True)
    results, out = tmp / "results.h5", tmp / "out"
    run([build.graybench, "--input", root, "--results", results, "--output-dir", out, "-q",
         *extra])
    files = image_files(root)
    with h5py.File(results, "r") as f:
        (name,) = list(f["runs"])
        run_group = f["runs"][name]
        images = table(run_group["images"]).set_index("image").sort_index()
        attrs = {k: (v.decode() if isinstance(v, bytes) else v)
                 for k, v in run_group.attrs.items()}
    assert len(images) == len(files)
    assert (images["status"] == 0).all(), images[images["status"] != 0]["error"]
    return SimpleNamespace(root=root, files=files, out=out, images=images, attrs=attrs)


def require_pillows_libjpeg(attrs: dict) -> None:
    """Bit-exactness needs Pillow to decode with the libjpeg-turbo graybench linked."""
    if not features.check_feature("libjpeg_turbo"):
        pytest.skip("Pillow links a libjpeg other than libjpeg-turbo")
    ours, pillows = attrs["codec_libjpeg_turbo"], features.version("libjpeg_turbo")
    if ours != pillows:
        pytest.skip(f"Pillow links libjpeg-turbo {pillows}, graybench {ours}")


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


def jpeg_worst_difference(files, out) -> tuple[int, set]:
    """The largest |graybench - Pillow| over every JPEG in `files`, and the Pillow modes the
    inputs opened as."""
    modes, worst = set(), 0
    for p in files:
        with Image.open(p) as im:
            modes.add(im.mode)
        expected = pillow_gray(p).astype(np.int16)
        got = graybench_gray(output_of(files, out, p)).astype(np.int16)
        assert got.shape == expected.shape, p
        worst = max(worst, int(np.abs(got - expected).max()))
    return worst, modes


def test_jpeg_equals_pillow_exactly(jpeg):
    require_pillows_libjpeg(jpeg.attrs)
    assert {p.suffix for p in jpeg.files} == {".jpg"}
    worst, modes = jpeg_worst_difference(jpeg.files, jpeg.out)
    assert worst == 0
    # stb's JPEG writer stores even gray images as 3-component YCbCr, so Pillow sees RGB.
    assert modes == {"RGB"}


@pytest.fixture(scope="module")
def libjpeg_set(png, tmp_path_factory) -> Path:
    """JPEGs from another encoder (libjpeg via Pillow): 1-component gray, 4:4:4, 4:2:2 and
    4:2:0 colour, baseline and progressive, and CMYK (Adobe-inverted, as Pillow writes it)."""
    root = tmp_path_factory.mktemp("libjpeg-set") / "jpegs"
    root.mkdir()
    sources = [p for p in png.files if png_kind(p) in ("rgb", "rgba", "gray")][:3]
    variants = {
        "gray.jpg": dict(mode="L"),
        "c444.jpg": dict(mode="RGB", subsampling=0),
        "c422.jpg": dict(mode="RGB", subsampling=1),
        "c420.jpg": dict(mode="RGB", subsampling=2),
        "prog444.jpg": dict(mode="RGB", subsampling=0, progressive=True),
        "prog422.jpg": dict(mode="RGB", subsampling=1, progressive=True),
        "prog420.jpg": dict(mode="RGB", subsampling=2, progressive=True),
        "cmyk.jpg": dict(mode="CMYK"),
    }
    for i, src in enumerate(sources):
        for suffix, opts in variants.items():
            opts = dict(opts)
            with Image.open(src) as im:
                im.convert(opts.pop("mode")).save(root / f"{i}-{suffix}", quality=90, **opts)
    return root


def test_libjpeg_written_jpegs_equal_pillow_exactly(build, libjpeg_set, tmp_path):
    result = convert(build, libjpeg_set, tmp_path)
    require_pillows_libjpeg(result.attrs)
    worst, modes = jpeg_worst_difference(result.files, result.out)
    assert modes == {"L", "RGB", "CMYK"}
    assert worst == 0
    # CMYK comes out as RGB (Pillow's CMYK -> RGB), gray as one channel.
    cmyk = [i for i, p in enumerate(result.files) if p.name.endswith("cmyk.jpg")]
    gray = [i for i, p in enumerate(result.files) if p.name.endswith("gray.jpg")]
    assert set(result.images["channels"].iloc[cmyk]) == {3}
    assert set(result.images["channels"].iloc[gray]) == {1}


def test_stb_decoder_still_works(build, libjpeg_set, png, tmp_path):
    """--decoder stb: the original decoders, recorded as such; PNG stays exact."""
    result = convert(build, libjpeg_set, tmp_path / "jpeg", "--decoder", "stb")
    assert result.attrs["decoder"] == "stb"
    plain = [p for p in result.files if not p.name.endswith("cmyk.jpg")]
    worst, _ = jpeg_worst_difference(plain, result.out)
    assert worst <= STB_JPEG_TOLERANCE
    pngs = convert(build, png.root, tmp_path / "png", "--decoder", "stb")
    for p in pngs.files:
        np.testing.assert_array_equal(graybench_gray(output_of(pngs.files, pngs.out, p)),
                                      pillow_gray(p))


def test_run_records_codecs(jpeg):
    attrs = jpeg.attrs
    assert attrs["decoder"] == "auto"
    assert attrs["png_level"] == 1
    assert "libdeflate" in attrs["png_encoder"]
    for lib in ("libjpeg_turbo", "libspng", "libdeflate", "isal", "stb_image"):
        assert attrs[f"codec_{lib}"], lib


@pytest.mark.parametrize("level", [6, 12])
def test_png_levels_decode_to_the_checksummed_pixels(build, png, tmp_path, level):
    result = convert(build, png.root, tmp_path, "--png-level", str(level))
    assert result.attrs["png_level"] == level
    pixels = [graybench_gray(output_of(result.files, result.out, p)) for p in result.files]
    assert [int(c) for c in result.images["checksum"]] == checksum64_images(pixels)
    for p, got in zip(result.files, pixels):
        np.testing.assert_array_equal(got, pillow_gray(p))


def test_jpeg_checksums_match_written_pngs(jpeg):
    pixels = [graybench_gray(output_of(jpeg.files, jpeg.out, p)) for p in jpeg.files]
    assert [int(c) for c in jpeg.images["checksum"]] == checksum64_images(pixels)
