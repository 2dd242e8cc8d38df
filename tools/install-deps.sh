#!/usr/bin/env bash
# Installs, from Debian 12's packages, whatever hpsearch needs to build, test and run and this
# machine lacks. Needs root (or sudo) only when something is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config python3
  libtorch-dev libopenmpi-dev openmpi-bin libsqlite3-dev sqlite3 nlohmann-json3-dev
  libboost-program-options-dev libgtest-dev libbenchmark-dev libjpeg-dev zlib1g-dev
  dataset-fashion-mnist bc procps
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "install-deps: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
