#!/usr/bin/env bash
# clang-tidy over every C++ source of src/ with the checked-in .clang-tidy, through the
# compile_commands.json of a build tree (default build/, configured here if missing).
# Prints each warning; exits 1 if there is any, so CI requires zero. Extra arguments are file
# paths to check instead of all of src/ (e.g. the files you touched).
#   bash tools/clang-tidy.sh                 # everything under src/
#   bash tools/clang-tidy.sh src/io/file.cpp # one file
#   BUILD_DIR=build-debug bash tools/clang-tidy.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
tidy="${CLANG_TIDY:-$(command -v clang-tidy || command -v clang-tidy-14 || true)}"
if [[ -z "$tidy" ]]; then
  echo "clang-tidy not found (Debian: apt-get install clang-tidy)" >&2
  exit 2
fi
if [[ ! -f "$build/compile_commands.json" ]]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
# Generated sources (build_info.cpp) must exist before they can be parsed.
cmake --build "$build" --target graybench_git_revision >/dev/null 2>&1 || true

if [[ $# -gt 0 ]]; then
  files=("$@")
else
  mapfile -t files < <(cd "$root" && git ls-files 'src/*.cpp')
fi
jobs="${JOBS:-$(nproc 2>/dev/null || echo 2)}"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# GCC's compile commands carry flags clang does not know; drop them rather than fail.
printf '%s\n' "${files[@]}" | (cd "$root" && xargs -P "$jobs" -n 1 "$tidy" -p "$build" --quiet \
  --extra-arg=-Wno-unknown-warning-option --extra-arg=-Wno-unused-command-line-argument) \
  >"$log" 2>/dev/null || true
# One line per finding, de-duplicated (a header's warning repeats for each file including it).
warnings="$(grep -E '^[^ ].*:[0-9]+:[0-9]+: (warning|error):' "$log" | sort -u || true)"
if [[ -n "$warnings" ]]; then
  grep -vE '^[0-9]+ warnings? generated' "$log" || true
  echo
  echo "clang-tidy: $(printf '%s\n' "$warnings" | wc -l) finding(s) in ${#files[@]} file(s)" >&2
  exit 1
fi
echo "clang-tidy: 0 findings in ${#files[@]} file(s)"
