#!/usr/bin/env bash
# ctest label `install`: `cmake --install BUILD --prefix P` lays out graybench like HPC software,
# the installed commands work from any directory, and Debian's Lmod loads the installed modulefile.
#   install_test.sh BUILD_DIR
set -euo pipefail
build="$(cd "${1:?usage: install_test.sh BUILD_DIR}" && pwd)"
work="$(mktemp -d /tmp/gbinstall.XXXXXX)"
trap 'rm -rf "$work"' EXIT
prefix="$work/opt/graybench"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fail() { echo "FAIL: $*"; exit 1; }

cmake --install "$build" --prefix "$prefix" >"$work/install.log"
version="$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")"
for f in bin/graybench bin/graybench-gen bin/graybench-worker bin/graybench-merge bin/graybench-sweep \
         share/graybench/tools/graybench_tools/__init__.py share/graybench/tools/graybench_tools/merge.py \
         share/graybench/jobs/graybench.sbatch share/graybench/jobs/graybench-sweep \
         share/graybench/jobs/README.md share/graybench/docs/README.md share/graybench/docs/schema.md \
         share/man/man1/graybench.1 share/graybench/graybench.lua.in \
         "share/modulefiles/graybench/$version.lua"; do
  [ -e "$prefix/$f" ] || fail "not installed: $f"
done
grep -q -- "--cache" "$prefix/share/man/man1/graybench.1" || fail "man page lacks the options"

# From an unrelated directory, by absolute path: the worker mode (processes) finds the binary.
mkdir -p "$work/elsewhere" && cd "$work/elsewhere"
"$prefix/bin/graybench-gen" --output imgs --count 4 --seed 2 >/dev/null
"$prefix/bin/graybench" --input imgs --strategy processes --workers 2 --results a.h5 --quiet
"$prefix/bin/graybench-merge" -o merged.h5 a.h5 | grep -q "1 run(s)" || fail "installed graybench-merge"
"$prefix/bin/graybench-sweep" --help | grep -q "packed" || fail "installed graybench-sweep --help"

# Lmod: module use + module load put everything on PATH.
init=""
for cand in /usr/share/lmod/lmod/init/bash /usr/share/lmod/*/init/bash; do
  [ -f "$cand" ] && { init="$cand"; break; }
done
[ -n "$init" ] || { echo "SKIP: Lmod not installed (bash tools/install-deps.sh)"; exit 77; }
set +u  # Lmod's shell functions read unset variables
# shellcheck source=/dev/null
source "$init"
module use "$prefix/share/modulefiles"
module load graybench
set -u
[ "$(command -v graybench)" = "$prefix/bin/graybench" ] || fail "module load graybench: PATH"
graybench --version | grep -q "graybench $version" || fail "graybench --version"
[ "$GRAYBENCH_JOBS" = "$prefix/share/graybench/jobs" ] || fail "GRAYBENCH_JOBS"
graybench --input imgs --strategy threads --workers 2 --results b.h5 --quiet
graybench-merge -o merged.h5 a.h5 b.h5 | grep -q "2 run(s)" || fail "merge after module load"
module unload graybench
! command -v graybench >/dev/null || fail "module unload graybench left it on PATH"
echo "install: $prefix laid out, commands and modulefile work"
