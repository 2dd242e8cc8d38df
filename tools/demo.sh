#!/usr/bin/env bash
# From a fresh Debian 12 machine to a finished search: installs what is missing, builds, runs
# a real search under MPI (1 master + 2 workers, results in runs.db, CPU or GPU as found) and
# prints its summary.
# Usage: tools/demo.sh [SPACE.json [hpsearch options...]]
# Without arguments: spaces/classify.json on Fashion-MNIST (Debian's dataset-fashion-mnist), 4
# trials of one epoch on 10,000 training images: real networks trained on real data in a few
# minutes on a CPU. Running it again continues the same study in runs.db (nothing is redone).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/build.sh
if [ $# -eq 0 ]; then
  set -- spaces/classify.json --trials 4 --set params.epochs=1 --set trainer.train_subset=10000
fi
space=$1
shift
bash tools/mpirun.sh -np 3 build/hpsearch "$space" --db runs.db "$@"
build/hpsearch summarize runs.db --study "$(basename "$space" .json)"
