#!/usr/bin/env bash
# Installs graybench's build, test and tool dependencies from Debian 12 packages.
# Idempotent: when every package is already installed it changes nothing and needs no network.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  openmpi-bin libopenmpi-dev
  libhdf5-dev hdf5-tools
  libstb-dev libjpeg62-turbo-dev libspng-dev libdeflate-dev libisal-dev
  libboost-program-options-dev
  libhwy-dev libxxhash-dev
  libgtest-dev libbenchmark-dev
  clang libclang-rt-14-dev
  slurm-wlm slurmctld slurmd slurm-client slurm-wlm-basic-plugins munge lmod
  python3 python3-h5py python3-pandas python3-numpy python3-matplotlib python3-pil python3-pytest
  python3-xxhash libvips-tools
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
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
