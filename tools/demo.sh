#!/usr/bin/env bash
# The README's first command: install what is missing, build only graybench and graybench-gen,
# generate a sample set, run a sweep that shows something real on a 2-core machine, and write
# the report (terminal table, HTML page, PNG plots).
#
#   bash tools/demo.sh            # everything below, into demo-out/
#   DEMO_REPEAT=5 bash tools/demo.sh
#
# The sweep (CPU-bound: memory mode, so reading and decoding happen before the clock, and the
# grayscale kernel runs DEMO_KERNEL_REPEAT times per image):
#   1. on 1 rank: sequential, the baseline every speedup is measured against, and threads at
#      1 and 2 workers with and without --gil (one process, like Python: the GIL contrast);
#   2. every strategy at 1 and 2 workers per rank on 2 MPI ranks;
#   3. the thread-based strategies again with --gil (one lock per process, like CPython's);
#   4. the Python original (tools/graybench-py), if present, at 1 and 2 workers, and C++
#      sequential and threads (with and without --gil) in its files mode on 1 rank;
#   5. one files-mode run that writes the grayscale PNGs to demo-out/gray/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

out="${DEMO_OUT:-demo-out}"
repeat="${DEMO_REPEAT:-3}"
# 100: a run of the sample then lasts 40-80 ms. At 20 (15 ms runs) the second thread often
# did not start working before the first had finished (CPU utilisation 0.51 at 2 threads),
# so the GIL contrast drowned in start-up noise.
kernel_repeat="${DEMO_KERNEL_REPEAT:-100}"
build="${GRAYBENCH_BUILD_DIR:-build}"
t0=$(date +%s)
step() { printf '\n== %s (%ss)\n' "$1" "$(($(date +%s) - t0))"; }

step "dependencies (the demo's only: compiler, MPI, HDF5, codecs, Python report tools)"
bash tools/install-deps.sh demo

step "build graybench and graybench-gen (tests are built by tools/test.sh, not here)"
if [ ! -f "$build/CMakeCache.txt" ]; then
  launcher=()
  if command -v ccache >/dev/null; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  fi
  # Tests and benchmarks off: their packages are the test command's (tools/build.sh turns them
  # back on in this same build directory).
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DGRAYBENCH_BUILD_TESTS=OFF \
    -DGRAYBENCH_BUILD_BENCHMARKS=OFF "${launcher[@]}" >/dev/null
fi
cmake --build "$build" -j"$(nproc 2>/dev/null || echo 2)" --target graybench graybench-gen

# Open MPI refuses to run as root unless told; containers and CI often are root. The demo runs
# 2 ranks x 2 workers on any machine, so it allows more processes than cores.
if [ "$(id -u)" -eq 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
export OMPI_MCA_rmaps_base_oversubscribe=1

mkdir -p "$out"
sample="$out/sample"
if [ ! -f "$sample/.complete" ]; then
  step "generate the sample set ($sample: 32 PNG and JPEG images, seeded)"
  rm -rf "$sample"
  "$build/graybench-gen" --output "$sample" --count 32 --seed 1 --sizes 320x240,640x480
  touch "$sample/.complete"
else
  step "sample set already in $sample (delete it to regenerate)"
fi

stamp="$(date -u +%Y%m%d-%H%M%S)"
results="$out/graybench-$stamp.h5"
# -q: the report below shows every run once; the steps print where the sweep is.
common=(--input "$sample" --results "$results" --mode memory --kernel-repeat "$kernel_repeat"
  --repeat "$repeat" -q)
# mpirun binds each rank to one core by default: a rank's second worker would share it.
mpirun=(mpirun -np 2 --bind-to none)

step "1/5 on 1 rank: sequential (the baseline), threads at 1 and 2 workers with and without --gil"
"$build/graybench" "${common[@]}" --strategy sequential,threads --workers 1,2
"$build/graybench" "${common[@]}" --strategy threads --workers 1,2 --gil

step "2/5 every strategy at 1 and 2 workers per rank on 2 ranks"
"${mpirun[@]}" "$build/graybench" "${common[@]}" --strategy all --workers 1,2

step "3/5 the same threads, openmp and pool with the emulated GIL (--gil)"
"${mpirun[@]}" "$build/graybench" "${common[@]}" --strategy threads,openmp,pool --workers 1,2 --gil

if [ -x tools/graybench-py ]; then
  step "4/5 the Python original (tools/graybench-py) and C++ threads like it: files mode, 1 rank"
  /usr/bin/python3 tools/graybench-py --input "$sample" --results "$results" --strategy all \
    --workers 1,2 --repeat "$repeat" -q
  files=(--input "$sample" --results "$results" --repeat "$repeat" -q)
  "$build/graybench" "${files[@]}" --strategy sequential,threads --workers 1,2
  "$build/graybench" "${files[@]}" --strategy threads --workers 1,2 --gil
else
  step "4/5 skipped: tools/graybench-py (the Python original) is not in this checkout"
fi

step "5/5 one files-mode run writing the grayscale PNGs to $out/gray"
"${mpirun[@]}" "$build/graybench" --input "$sample" --results "$results" --output-dir "$out/gray" \
  --strategy threads --workers 2 -q

step "report"
/usr/bin/python3 tools/graybench-report "$results" --out "$out/report"

cat <<EOF

== done in $(($(date +%s) - t0)) s
  input images:     $sample/
  grayscale images: $out/gray/   (files mode run; the memory-mode runs convert without writing)
  results (HDF5):   $results   (layout: docs/schema.md)
  report:           $out/report/report.html  (self-contained; plus report.md, groups.csv, *.png)

What to try next:
  tools/graybench-report $results --runs          # every run, not only the groups
  tools/graybench-report $results --failures      # failed images and why (none here)
  tools/graybench-report $results --timeline run-00004 --out $out/report   # another Gantt
  tools/graybench-simulate $results --ranks 1,2,4,8,16   # predict more ranks from these costs
  mpirun -np 2 $build/graybench --input YOUR_PHOTOS --strategy all --workers 1,2 --results mine.h5
  bash tools/test.sh                                # build and run every test
EOF
