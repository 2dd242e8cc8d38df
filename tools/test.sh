#!/usr/bin/env bash
# From a fresh Debian 12 machine to every test run: installs what is missing, builds, and runs
# the unit tests (GoogleTest) and the integration tests (mpirun) through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/build.sh
cd build
ctest --output-on-failure -j 2 "$@"
