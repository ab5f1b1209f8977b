"""Shared fixtures for the Python tests of graybench's HDF5 contract, Pillow parity and tools.

Run with Debian's interpreter (it has h5py, pandas, numpy, Pillow):
    GRAYBENCH_BUILD_DIR=build /usr/bin/python3 -m pytest -q tests/python

GRAYBENCH_BUILD_DIR names the build tree holding graybench and graybench-gen
(default: <repo>/build). Missing binaries fail the tests; nothing is skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import pytest
import xxhash

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / "tools"

# Open MPI refuses to run as root without these; oversubscription lets 2+ ranks share few cores.
MPI_ENV_VARS = {
    "OMPI_ALLOW_RUN_AS_ROOT": "1",
    "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
    "OMPI_MCA_rmaps_base_oversubscribe": "1",
}


def checksum64(data) -> int:
    """graybench's image checksum (schema `checksum_algorithm` "xxh3-64"): XXH3-64, seed 0, of a
    bytes-like object or a uint8 array (flattened in row-major order)."""
    if isinstance(data, np.ndarray):
        if data.dtype != np.uint8:
            raise TypeError(f"checksum64 wants uint8 pixels, got {data.dtype}")
        data = np.ascontiguousarray(data).tobytes()
    return xxhash.xxh3_64_intdigest(bytes(data))


def checksum64_images(images: Sequence[np.ndarray]) -> list[int]:
    """checksum64 of each uint8 image."""
    return [checksum64(img) for img in images]


def run(cmd: Sequence[str | os.PathLike], *, expect: int | None = 0, env: dict | None = None,
        cwd: str | os.PathLike | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Runs `cmd`, capturing text output; asserts the exit code is `expect` (None: any)."""
    cmd = [str(c) for c in cmd]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=timeout, check=False)
    if expect is not None and proc.returncode != expect:
        raise AssertionError(
            f"{' '.join(cmd)}\n  exited {proc.returncode}, expected {expect}\n"
            f"  stdout: {proc.stdout.strip()}\n  stderr: {proc.stderr.strip()}")
    # HighFive's rule: HDF5's own error dump means something went wrong even if we exited 0.
    assert "HDF5-DIAG" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    return proc


@dataclass(frozen=True)
class Build:
    """The binaries under test."""

    dir: Path
    graybench: Path
    gen: Path


def _find_binary(build_dir: Path, name: str, wait_s: float = 20.0) -> Path:
    """The path of `name` in the build tree; tolerates a rebuild that briefly removes it."""
    path = build_dir / name
    # Only an existing build tree is worth waiting for (a rebuild may be relinking the binary).
    deadline = time.monotonic() + (wait_s if build_dir.is_dir() else 0)
    while not (path.is_file() and os.access(path, os.X_OK)):
        if time.monotonic() > deadline:
            pytest.fail(
                f"{path} is missing or not executable: build graybench first "
                f"(cmake -S {REPO} -B {build_dir} && cmake --build {build_dir}) or set "
                f"GRAYBENCH_BUILD_DIR to the build tree", pytrace=False)
        time.sleep(0.5)
    return path


@pytest.fixture(scope="session")
def build() -> Build:
    """The build tree from GRAYBENCH_BUILD_DIR (default <repo>/build) and its two binaries."""
    build_dir = Path(os.environ.get("GRAYBENCH_BUILD_DIR", REPO / "build")).resolve()
    return Build(build_dir, _find_binary(build_dir, "graybench"),
                 _find_binary(build_dir, "graybench-gen"))


@pytest.fixture(scope="session")
def build_dir(build: Build) -> Path:
    return build.dir


@pytest.fixture(scope="session")
def mpi_env() -> dict:
    """The environment for mpirun: ours plus Open MPI's run-as-root and oversubscribe switches."""
    return {**os.environ, **MPI_ENV_VARS}


@pytest.fixture(scope="session")
def mpirun() -> list[str]:
    """The launcher prefix for two ranks."""
    exe = shutil.which("mpirun") or shutil.which("mpiexec")
    if exe is None:
        pytest.fail("mpirun not found on PATH: install Open MPI (Debian: openmpi-bin)",
                    pytrace=False)
    return [exe, "-np", "2", "--oversubscribe"]


@pytest.fixture(scope="session")
def generate(build: Build, tmp_path_factory):
    """generate(name, count=, seed=, sizes=, formats=, modes=) -> directory of a seeded image set."""

    def _generate(name: str, *, count: int, seed: int, sizes: str = "64x48",
                  formats: str = "png", modes: str = "rgb,rgba,gray,graya") -> Path:
        out = tmp_path_factory.mktemp(name) / "images"
        run([build.gen, "--output", out, "--count", count, "--seed", seed, "--sizes", sizes,
             "--formats", formats, "--modes", modes])
        return out

    return _generate


def image_files(root: Path) -> list[Path]:
    """All generated images under `root`, sorted like graybench's /inputs."""
    return sorted(p for p in Path(root).rglob("*") if p.suffix in (".png", ".jpg"))


def output_of(images: Sequence[Path], output_dir: Path, image: Path) -> Path:
    """Where graybench --output-dir writes `image` of the input set `images`: mirrored below
    the inputs' common directory, ".png" appended unless the name already ends in .png
    (set-0/img-00002.jpg -> OUT/set-0/img-00002.jpg.png)."""
    root = Path(os.path.commonpath([str(Path(p).parent) for p in images]))
    rel = Path(image).relative_to(root)
    name = rel.name if rel.name.endswith(".png") else rel.name + ".png"
    return Path(output_dir) / rel.parent / name


def table(dataset) -> pd.DataFrame:
    """A 1-D compound h5py dataset as a DataFrame, variable-length strings decoded to str."""
    df = pd.DataFrame(dataset[()])
    for col in df.columns:
        if df[col].dtype == object:
            df[col] = [v.decode() if isinstance(v, bytes) else v for v in df[col]]
    return df
