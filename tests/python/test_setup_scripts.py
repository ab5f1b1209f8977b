"""The README's set-up scripts: tools/install-deps.sh's profiles, and the demo's build
configuration, which must need none of the packages only the test command installs."""

from __future__ import annotations

import re
import shutil

from conftest import REPO, TOOLS, run

INSTALL_DEPS = TOOLS / "install-deps.sh"


def profile_packages(name: str) -> set[str]:
    """The package names of one array (`demo=(...)` or `rest=(...)`) in install-deps.sh."""
    text = INSTALL_DEPS.read_text()
    body = re.search(rf"^{name}=\((.*?)^\)", text, re.S | re.M)
    assert body, f"no {name}=(...) in {INSTALL_DEPS}"
    return set(body.group(1).split())


def test_unknown_profile_is_a_usage_error_that_installs_nothing():
    proc = run(["bash", INSTALL_DEPS, "everything"], expect=2)
    assert "unknown profile 'everything' (all or demo)" in proc.stderr
    assert "installing" not in proc.stdout


def test_demo_profile_leaves_out_test_packages_and_services():
    demo, rest = profile_packages("demo"), profile_packages("rest")
    assert demo and rest and not demo & rest
    # What only the test command needs, and the packages that install daemons.
    for pkg in ("libgtest-dev", "libbenchmark-dev", "clang", "slurmd", "slurmctld", "munge"):
        assert pkg in rest and pkg not in demo, pkg
    # What the demo runs: the build, mpirun, and the report and the Python baseline.
    for pkg in ("cmake", "openmpi-bin", "libhdf5-dev", "python3-matplotlib", "python3-pil"):
        assert pkg in demo, pkg


def test_demo_configuration_finds_no_test_package(tmp_path):
    """tools/demo.sh configures with tests and benchmarks off: that configuration must succeed
    with GoogleTest and Google Benchmark hidden, as on a machine with the demo profile only."""
    cmake = shutil.which("cmake")
    assert cmake, "cmake not on PATH"
    proc = run([cmake, "-S", REPO, "-B", tmp_path / "build", "-DCMAKE_BUILD_TYPE=Release",
                "-DGRAYBENCH_BUILD_TESTS=OFF", "-DGRAYBENCH_BUILD_BENCHMARKS=OFF",
                "-DCMAKE_DISABLE_FIND_PACKAGE_GTest=ON",
                "-DCMAKE_DISABLE_FIND_PACKAGE_benchmark=ON"], timeout=300)
    assert "Build files have been written" in proc.stdout
    # The script configures exactly so (the two options off).
    demo = (TOOLS / "demo.sh").read_text()
    assert "-DGRAYBENCH_BUILD_TESTS=OFF" in demo and "-DGRAYBENCH_BUILD_BENCHMARKS=OFF" in demo
    assert "install-deps.sh demo" in demo
