#!/usr/bin/env bash
# Builds graybench's libFuzzer targets with clang (ASan + UBSan, halting on the first report),
# makes the seed corpus and runs every target for SECONDS each (default 60; CI runs 60, run it
# longer by hand: `bash tools/fuzz.sh 3600`). A crash leaves its input in build-fuzz/crashes/
# and fails the script; add that input to tests/fuzz/regressions/ once it is fixed.
#   usage: bash tools/fuzz.sh [SECONDS]
# A fixed seed makes a run repeatable on one machine (not across machines: libFuzzer's order
# still differs); without one, every run explores anew:
#   GRAYBENCH_FUZZ_SEED=N   libFuzzer's -seed (default 0: a new random seed per run)
#   GRAYBENCH_FUZZ_RUNS=N   stop each target after N inputs (default: only SECONDS stops it)
# A seeded run starts from the seed corpus alone; an unseeded one keeps what earlier runs found.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
seed=${GRAYBENCH_FUZZ_SEED:-0}
shuffle=""
[ "$seed" = 0 ] || shuffle="-shuffle=0"  # seeded: keep the sorted order (see new_corpus)
runs=${GRAYBENCH_FUZZ_RUNS:--1}
build=${GRAYBENCH_FUZZ_BUILD:-build-fuzz}
gen=${GRAYBENCH_GEN:-build/graybench-gen}

cmake -S . -B "$build" -DGRAYBENCH_FUZZ=ON -DGRAYBENCH_BUILD_TESTS=OFF \
  -DGRAYBENCH_BUILD_BENCHMARKS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ >/dev/null
targets=$(sed -n 's/^add_executable(\(fuzz_[a-z0-9_]*\) .*/\1/p' tests/fuzz/CMakeLists.txt)
# shellcheck disable=SC2086
cmake --build "$build" -j"$(nproc)" --target $targets
if [ ! -x "$gen" ]; then
  cmake --build "$build" -j"$(nproc)" --target graybench-gen
  gen="$build/graybench-gen"
fi

# Seed corpus: small images of every kind graybench-gen makes, hand-made files of the other
# formats stb reads, and every regression input.
seeds="$build/seeds"
rm -rf "$seeds" && mkdir -p "$seeds"
"$gen" -o "$seeds/gen" -n 12 --sizes 16x16,33x7,5x40 --formats png,jpg \
  --modes rgb,rgba,gray,graya,rgb16,gray16 --subdirs 1 >/dev/null
/usr/bin/python3 - "$seeds/hand" <<'PY'
import io, os, struct, sys
from PIL import Image
out = sys.argv[1]
os.makedirs(out)
rgb = Image.new("RGB", (9, 5))
rgb.putdata([(i * 29 % 256, i * 53 % 256, i * 97 % 256) for i in range(45)])
for name, im, fmt, kw in [
    ("a.bmp", rgb, "BMP", {}), ("a.tga", rgb, "TGA", {}), ("rle.tga", rgb, "TGA", {"compression": "tga_rle"}),
    ("a.gif", rgb.convert("P"), "GIF", {}), ("a.ppm", rgb, "PPM", {}), ("a.pgm", rgb.convert("L"), "PPM", {}),
    ("prog.jpg", rgb, "JPEG", {"progressive": True}), ("pal.png", rgb.convert("P"), "PNG", {}),
    ("la.png", rgb.convert("LA"), "PNG", {}), ("cmyk.jpg", rgb.convert("CMYK"), "JPEG", {}),
]:
    im.save(os.path.join(out, name), fmt, **kw)
# PSD: Pillow cannot write it; a 3x2 RGB raw-data file by hand.
w, h = 3, 2
psd = b"8BPS" + struct.pack(">H6xHIIHH", 1, 3, h, w, 8, 3) + struct.pack(">III", 0, 0, 0)
psd += struct.pack(">H", 0) + bytes(range(w * h * 3))
open(os.path.join(out, "a.psd"), "wb").write(psd)
PY
mkdir -p "$build/crashes"
# Unseeded, the targets share one corpus that grows from run to run. Seeded, each target
# starts from the seeds alone, so its sequence of inputs does not depend on how far another
# target got (a slower machine stops earlier in the same sequence).
new_corpus() {
  if [ "$seed" = 0 ]; then corpus="$build/corpus"; else corpus="$build/corpus-seed$seed-$1"; rm -rf "$corpus"; fi
  mkdir -p "$corpus"
  find "$seeds" tests/fuzz/regressions -type f ! -name '*.md' -exec cp {} "$corpus/" \;
  [ "$seed" = 0 ] && return
  # libFuzzer orders its starting corpus by size, equal sizes in directory order, which differs
  # from one file system to the next: give every seed a size of its own (zero bytes appended,
  # in name order) so that a seeded run starts from the same ordered corpus everywhere.
  local used=" " f n
  while IFS= read -r f; do
    n=$(stat -c %s "$f")
    while [[ "$used" == *" $n "* ]]; do printf '\0' >>"$f"; n=$((n + 1)); done
    used="$used$n "
  done < <(find "$corpus" -type f | LC_ALL=C sort)
}

# True when the log's one finding is UBSan arithmetic (signed overflow, shift, float cast)
# located in stb_image.h, and neither ASan nor libFuzzer (crash, leak, timeout, out of memory)
# reported anything: undefined behaviour that touches no memory, in a library we do not patch.
# Anything else (every finding in graybench's code, every memory error) fails the run.
stb_arithmetic_only() {
  grep -q "runtime error" "$1" || return 1
  ! grep -qE "ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)" "$1" || return 1
  ! grep "runtime error" "$1" | grep -vqE "stb/stb_image\.h:[0-9]+:[0-9]+: runtime error: (signed integer overflow|shift exponent|left shift|.* is outside the range of representable values)"
}

status=0
for t in $targets; do
  new_corpus "$t"
  echo "fuzz: $t for $secs s (seed $seed, runs $runs) on $(find "$corpus" -type f | wc -l) inputs"
  log="$build/$t.log"
  if ! ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
      "$build/tests/fuzz/$t" -max_total_time="$secs" -seed="$seed" -runs="$runs" $shuffle \
      -rss_limit_mb=2048 -max_len=65536 \
      -timeout=20 -print_final_stats=1 -artifact_prefix="$build/crashes/$t-" "$corpus" \
      >"$log" 2>&1; then
    if stb_arithmetic_only "$log"; then
      # Integer overflow or an oversized shift inside stb_image itself, with no memory error:
      # upstream's to fix (tests/fuzz/regressions/README.md). Kept for triage, not a failure.
      echo "fuzz: $t: arithmetic-only finding inside stb_image (upstream), input kept in" \
        "$build/crashes/ for triage:" >&2
    else
      status=1
      echo "fuzz: $t FAILED: see $log and $build/crashes/" >&2
    fi
    grep -m5 -E "ERROR|runtime error|SUMMARY" "$log" >&2 || true
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  secs_run=$(sed -n 's/.*Done \([0-9]*\) runs in \([0-9]*\) second.*/\2/p' "$log")
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1)
  echo "fuzz: $t: ${execs:-?} executions in ${secs_run:-?} s, ${cov:-cov: ?}, corpus $(find "$corpus" -type f | wc -l)"
done
exit $status
