#!/usr/bin/env bash
# From a fresh Debian 12 machine to a finished search: installs what is missing, builds, runs
# a real search under MPI (1 master + 2 workers, results in runs.db, CPU or GPU as found) and
# prints its summary.
# Usage: tools/demo.sh [SPACE.json] [hpsearch options...]   (default: spaces/branin.json)
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/build.sh
space=${1:-spaces/branin.json}
shift || true
bash tools/mpirun.sh -np 3 build/hpsearch "$space" --db runs.db "$@"
build/hpsearch summarize runs.db --study "$(basename "$space" .json)"
