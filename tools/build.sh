#!/usr/bin/env bash
# Installs what is missing, then configures and builds hpsearch in build/ (Release).
# Usage: tools/build.sh [extra cmake arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
if [ ! -f build/CMakeCache.txt ]; then
  cmake -S . -B build "${generator[@]}" -DCMAKE_BUILD_TYPE=Release "$@"
fi
cmake --build build -j "$(nproc)"
