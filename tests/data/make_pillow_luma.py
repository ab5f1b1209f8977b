#!/usr/bin/python3
"""Writes tests/data/pillow_luma.txt: Pillow's own convert("L") of chosen RGB, RGBA and LA pixels.

The C++ kernel test (tests/unit/kernel_test.cpp) checks graybench's to_gray() against this table,
so the oracle is Pillow itself, not a copy of graybench's formula. Run once with Debian's Pillow
(`/usr/bin/python3 tests/data/make_pillow_luma.py`); the output is checked in.
"""
import itertools
import pathlib
import random

import PIL
from PIL import Image

EDGES = (0, 1, 2, 127, 128, 129, 253, 254, 255)


def rounding_boundaries(limit: int) -> list[tuple[int, int, int]]:
    """RGB triples whose 16.16 sum has a fraction of 0x7FFF, 0x8000, 0x8001, 0xFFFF or 0: where a
    kernel that rounds, truncates or carries differently from Pillow is off by one."""
    found = []
    for r, g, b in itertools.product(range(256), repeat=3):
        frac = (r * 19595 + g * 38470 + b * 7471) & 0xFFFF
        if frac in (0x7FFF, 0x8000, 0x8001, 0xFFFF, 0x0000) and (r, g, b) != (0, 0, 0):
            found.append((r, g, b))
            if len(found) >= limit:
                break
    return found


def pillow_l(mode: str, pixels: list[tuple[int, ...]]) -> bytes:
    raw = bytes(v for px in pixels for v in px)
    return Image.frombytes(mode, (len(pixels), 1), raw).convert("L").tobytes()


def main() -> None:
    rng = random.Random(20261129)
    rgb = list(itertools.product(EDGES, repeat=3))
    rgb += rounding_boundaries(200)
    rgb += [tuple(rng.randrange(256) for _ in range(3)) for _ in range(1000)]
    rgba = [(r, g, b, rng.choice((0, 1, 128, 254, 255, rng.randrange(256)))) for r, g, b in rgb[::3]]
    la = [(v, rng.randrange(256)) for v in range(256)] + [(v, a) for v in EDGES for a in EDGES]

    lines = [
        f"# Pillow {PIL.__version__} Image.convert('L') outputs; written by make_pillow_luma.py.",
        "# mode samples... L",
    ]
    for mode, pixels in (("RGB", rgb), ("RGBA", rgba), ("LA", la)):
        for px, lum in zip(pixels, pillow_l(mode, pixels)):
            lines.append(" ".join([mode, *map(str, px), str(lum)]))
    out = pathlib.Path(__file__).with_name("pillow_luma.txt")
    out.write_text("\n".join(lines) + "\n")
    print(f"{out}: {len(lines) - 2} vectors")


if __name__ == "__main__":
    main()
