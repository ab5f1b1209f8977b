#!/usr/bin/env bash
# Configures and builds graybench into build/ (Release), tests and benchmarks included (a build
# directory the demo configured without them gets them back). Extra arguments go to cmake
# configure and come last, so they can override these.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
jobs="$(nproc 2>/dev/null || echo 2)"
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release -DGRAYBENCH_BUILD_TESTS=ON \
  -DGRAYBENCH_BUILD_BENCHMARKS=ON "$@" >/dev/null
cmake --build "$root/build" -j"$jobs"
