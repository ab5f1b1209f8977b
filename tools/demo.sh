#!/usr/bin/env bash
# The README's first command: install, build, generate the built-in sample set, run graybench
# with 2 MPI ranks over every strategy, write graybench.h5 and print the report.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

bash tools/install-deps.sh
bash tools/build.sh

# Open MPI refuses to run as root unless told; containers and CI often are root.
if [ "$(id -u)" -eq 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi

build/graybench-gen --output sample --count 48 --seed 1
mpirun -np 2 --oversubscribe build/graybench --input sample --output-dir sample-gray \
  --strategy all --results graybench.h5
/usr/bin/python3 tools/report.py graybench.h5
