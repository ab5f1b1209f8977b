#!/usr/bin/env bash
# Builds and tests graybench's Spack recipe (tools/packaging/spack) with a real Spack, offline,
# against Debian 12's packages declared as externals. Run by hand; not part of CI (Spack is no
# Debian package). Usage and what it needs: tools/packaging/README.md.
#
#   tools/packaging/spack-test.sh [--spack DIR] [--builtin DIR] [--work DIR] [--git]
#
#   --spack DIR    a Spack checkout, >= 1.0 (default: $SPACK_ROOT)
#   --builtin DIR  Spack's builtin package repository, i.e. <spack-packages checkout>/repos/
#                  spack_repo/builtin; without it Spack clones spack-packages from GitHub
#   --work DIR     where all of Spack's state goes (config, caches, stage, install tree,
#                  environment); kept, so a second run reuses the install (default: a new
#                  directory under /tmp, removed on success)
#   --mirror DIR   a Spack source mirror (spack mirror create) holding what is not external:
#                  libdeflate's source, for machines without network access
#   --compiler-wrapper DIR
#                  a checkout of github.com/spack/compiler-wrapper, for machines that cannot
#                  download its release tarball: Spack's own recipe builds it from this
#                  checkout's tag v1.1.0 (through a small overlay repository under --work)
#   --git          also install graybench@git.<HEAD>=main from this checkout as a git URL
#                  (package_attributes), as a site with a git server would
#
# Spack's concretizer needs the clingo Python module: offline, have it importable (PYTHONPATH)
# or Spack tries to download it. Nothing is written to the Spack checkout or to ~/.spack.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
spack_root="${SPACK_ROOT:-}"
builtin=""
work=""
wrapper_src=""
mirror=""
with_git=0
while [ $# -gt 0 ]; do
  case "$1" in
    --spack) spack_root="$2"; shift 2 ;;
    --builtin) builtin="$(cd "$2" && pwd)"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    --mirror) mirror="$(cd "$2" && pwd)"; shift 2 ;;
    --compiler-wrapper) wrapper_src="$(cd "$2" && pwd)"; shift 2 ;;
    --git) with_git=1; shift ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "spack-test: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [ -z "$spack_root" ] || [ ! -x "$spack_root/bin/spack" ]; then
  echo "spack-test: give a Spack checkout with --spack DIR or SPACK_ROOT" >&2
  exit 2
fi
command -v dpkg-query >/dev/null || { echo "spack-test: needs Debian's packages (dpkg-query)" >&2; exit 2; }

keep=1
if [ -z "$work" ]; then
  work="$(mktemp -d /tmp/graybench-spack.XXXXXX)"
  keep=0
fi
mkdir -p "$work"
work="$(cd "$work" && pwd)"

# Spack reads no system or user configuration but ours (its user scope), and keeps every file
# under $work.
export SPACK_ROOT="$spack_root"
export SPACK_SYSTEM_CONFIG_PATH="$work/system-config"
export SPACK_USER_CONFIG_PATH="$work/config"
export SPACK_USER_CACHE_PATH="$work/cache"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
cfg="$SPACK_USER_CONFIG_PATH"
mkdir -p "$cfg" "$SPACK_SYSTEM_CONFIG_PATH"
spack() { "$SPACK_ROOT/bin/spack" "$@"; }
step() { printf '\n== spack-test: %s\n' "$*"; }
fail() { echo "spack-test: FAIL: $*" >&2; exit 1; }

ccache=false
command -v ccache >/dev/null && ccache=true
cat >"$cfg/config.yaml" <<EOF
config:
  install_tree:
    root: $work/opt
  build_stage: [$work/stage]
  test_stage: $work/test-stage
  source_cache: $work/source-cache
  misc_cache: $work/cache/misc
  build_jobs: $(nproc)
  ccache: $ccache
  # spack develop links the build stage from here, not from inside the checkout
  develop_stage_link: $work/develop-stage
EOF

if [ -n "$mirror" ]; then
  printf 'mirrors:\n  local:\n    url: file://%s\n    source: true\n    binary: false\n' \
    "$mirror" >"$cfg/mirrors.yaml"
fi

if [ -n "$wrapper_src" ]; then
  # compiler-wrapper is built by Spack itself for every compiled package. Its recipe downloads a
  # release tarball; this overlay keeps the recipe (install() and all) and takes the sources
  # from the given checkout instead.
  tag=v1.1.0
  commit="$(git -C "$wrapper_src" rev-parse --verify "$tag^{commit}")" \
    || fail "$wrapper_src: not a compiler-wrapper checkout with tag $tag"
  overlay="$work/overlay/spack_repo/offline"
  mkdir -p "$overlay/packages/compiler_wrapper"
  printf 'repo:\n  namespace: offline\n  api: v2.0\n' >"$overlay/repo.yaml"
  cat >"$overlay/packages/compiler_wrapper/package.py" <<EOF
from spack_repo.builtin.packages.compiler_wrapper.package import CompilerWrapper as Builtin

from spack.package import *


class CompilerWrapper(Builtin):
    git = "file://$wrapper_src"
    version("${tag#v}", commit="$commit")
EOF
fi
{
  echo "repos:"
  if [ -n "$wrapper_src" ]; then echo "  offline: $overlay"; fi
  echo "  graybench: $repo/tools/packaging/spack/spack_repo/graybench"
  if [ -n "$builtin" ]; then echo "  builtin: $builtin"; fi
} >"$cfg/repos.yaml"

# Externals: every dependency from Debian 12 (tools/install-deps.sh), at its Debian version.
deb_version() {  # Debian package -> upstream version (no epoch, no Debian revision)
  dpkg-query -W -f='${Version}' "$1" 2>/dev/null | sed -E 's/^[0-9]+://; s/[-+~].*$//; s/\.dfsg$//'
}
{
  echo "packages:"
  ext() {  # ext SPACK_NAME DEBIAN_PACKAGE [VARIANTS]
    local v
    v="$(deb_version "$2")"
    [ -n "$v" ] || fail "Debian package $2 is not installed (bash tools/install-deps.sh)"
    printf '  %s:\n    buildable: false\n    externals:\n    - spec: %s@%s%s\n      prefix: /usr\n' \
      "$1" "$1" "$v" "${3:-}"
  }
  ext cmake cmake
  ext gmake make
  ext pkgconf pkgconf
  ext openmpi libopenmpi-dev
  ext hdf5 libhdf5-dev "~mpi"
  ext boost libboost-program-options1.74-dev "+program_options"
  ext highway libhwy-dev
  ext xxhash libxxhash-dev
  ext libjpeg-turbo libjpeg62-turbo-dev
  ext libspng libspng-dev
  ext isa-l libisal-dev
  # libdeflate is built by Spack: its recipe builds 1.14 (Debian 12's) with make and later
  # versions with CMake, and an external that says build_system=makefile matches but then
  # breaks Spack 1.x's build set-up of every dependent (KeyError: ('makefile',)). It needs:
  ext zlib zlib1g-dev
  ext gzip gzip
  ext googletest libgtest-dev
  ext python python3-minimal
  ext py-h5py python3-h5py "~mpi"  # Debian's default h5py is python3-h5py-serial
  ext py-pandas python3-pandas
  ext py-numpy python3-numpy
  ext py-matplotlib python3-matplotlib
  ext py-pillow python3-pil
  ext py-xxhash python3-xxhash
  # stb has no release numbers: Debian's libstb-dev is the recipe's version 2022-09-08.
  dpkg-query -W -f='${Version}' libstb-dev 2>/dev/null | grep -q git20220908 \
    || fail "libstb-dev is not Debian 12's git20220908"
  printf '  stb:\n    buildable: false\n    externals:\n    - spec: stb@2022-09-08\n      prefix: /usr\n'
  # Virtuals resolve to those externals.
  printf '  all:\n    providers:\n      mpi: [openmpi]\n      pkgconfig: [pkgconf]\n      zlib-api: [zlib]\n'
  # Where graybench's sources are, as a site would name its git server: this checkout.
  printf '  graybench:\n    package_attributes:\n      git: file://%s\n' "$repo"
} >"$cfg/packages.yaml"

step "Spack $(spack --version), config in $cfg"
spack compiler find --scope user >/dev/null
spack compilers

step "spack spec graybench"
spack spec -I -l graybench | tee "$work/spec.txt"
# graybench@main, or on a rerun with --work the installed graybench@git.<commit>=main
grep -Eq "graybench@(main|git\.[0-9a-f]{40}=main)" "$work/spec.txt" || fail "spack spec graybench"

# 1. A checkout on disk with `spack develop`: builds exactly this working tree, no URL needed.
env_dir="$work/env"
if [ ! -f "$env_dir/spack.yaml" ]; then
  step "environment $env_dir: spack develop $repo"
  spack env create -d "$env_dir" >/dev/null
  spack -e "$env_dir" add graybench@main
  # The build directory stays out of the checkout (Spack then warns that it cannot archive
  # CMakeCache.txt "outside source path" into the install's .spack: harmless).
  spack -e "$env_dir" develop --path "$repo" --build-directory "$work/build" graybench@main
fi
step "spack install (develop)"
spack -e "$env_dir" concretize --force >/dev/null  # a rerun takes up changed configuration
spack -e "$env_dir" install --fail-fast
prefix="$(spack -e "$env_dir" location -i graybench)"
[ -x "$prefix/bin/graybench" ] || fail "no $prefix/bin/graybench"

step "the installed graybench, by path and after spack load"
"$prefix/bin/graybench" --version | tee "$work/version.txt"
grep -q "^graybench " "$work/version.txt" || fail "graybench --version"
tiny="$work/tiny"
rm -rf "$tiny" && mkdir -p "$tiny" && cd "$tiny"
"$prefix/bin/graybench-gen" --output imgs --count 4 --seed 2 >/dev/null
"$prefix/bin/graybench" --input imgs --strategy processes --workers 2 --results a.h5 --quiet
(
  eval "$(spack -e "$env_dir" load --sh graybench)"
  [ "$(command -v graybench)" = "$prefix/bin/graybench" ] || fail "spack load: graybench not on PATH"
  [ "$GRAYBENCH_JOBS" = "$prefix/share/graybench/jobs" ] || fail "spack load: GRAYBENCH_JOBS"
  graybench --input imgs --strategy threads --workers 2 --results b.h5 --quiet
  graybench-merge -o merged.h5 a.h5 b.h5 | tee merge.txt
  grep -q "2 run(s)" merge.txt || fail "graybench-merge after spack load"
)
cd "$work"

step "spack test run graybench (the recipe's stand-alone tests)"
spack test remove -y >/dev/null  # earlier runs' suites
spack -e "$env_dir" test run graybench  # exits non-zero when a test fails
spack test results -l | tee "$work/test-results.txt" | grep -E "PASSED|FAILED|SKIPPED|parts"
grep -Eq "^=+ [0-9]+ passed of [0-9]+ parts =+$" "$work/test-results.txt" \
  || fail "spack test run graybench: not every part passed"

# 2. A git URL, as on a site with a git server: this checkout's HEAD commit through file://.
if [ "$with_git" = 1 ]; then
  head="$(git -C "$repo" rev-parse HEAD)"
  step "spack install graybench@git.$head=main (git: file://$repo)"
  spack install --fail-fast "graybench@git.$head=main"
  gprefix="$(spack location -i "graybench@git.$head=main")"
  "$gprefix/bin/graybench" --version | tee "$work/version-git.txt"
  grep -q "${head:0:12}" "$work/version-git.txt" || fail "git install does not report commit $head"
fi

step "PASS: graybench installs with Spack and runs ($(head -1 "$work/version.txt"))"
if [ "$keep" = 0 ]; then
  rm -rf "$work"
else
  echo "spack-test: Spack state kept in $work"
fi
