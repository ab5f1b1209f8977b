#!/usr/bin/env bash
# Installs graybench's dependencies from Debian 12 packages.
#
#   bash tools/install-deps.sh          # everything: build, tests, benchmarks, Slurm, Lmod, fuzzing
#   bash tools/install-deps.sh demo     # only what tools/demo.sh uses: the compiler, MPI, HDF5,
#                                       # the codecs and the Python report tools
#
# The demo profile leaves out GoogleTest, Google Benchmark, clang, the Slurm daemons, munge and
# Lmod, so running the demo on a workstation installs no services (Debian starts munged and
# enables slurmd/slurmctld on installation). The test command (tools/test.sh) installs the rest.
# Idempotent: when every package is already installed it changes nothing and needs no network.
set -euo pipefail

profile="${1:-all}"
demo=(
  build-essential cmake pkg-config git
  openmpi-bin libopenmpi-dev
  libhdf5-dev
  libstb-dev libjpeg62-turbo-dev libspng-dev libdeflate-dev libisal-dev
  libboost-program-options-dev
  libhwy-dev libxxhash-dev
  python3 python3-h5py python3-pandas python3-numpy python3-matplotlib python3-pil python3-xxhash
)
rest=(
  hdf5-tools
  libgtest-dev libbenchmark-dev
  clang libclang-rt-14-dev
  slurm-wlm slurmctld slurmd slurm-client slurm-wlm-basic-plugins munge lmod
  python3-pytest libvips-tools
)
case "$profile" in
  all) packages=("${demo[@]}" "${rest[@]}") ;;
  demo) packages=("${demo[@]}") ;;
  *) echo "install-deps: unknown profile '$profile' (all or demo)" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages of profile '$profile' present"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
