#!/usr/bin/env bash
# Orchestration overhead: the synthetic trainer with zero work (branin), 1 master + 2 workers
# under mpirun, 20,000 trials with the random sampler, a fresh SQLite database each run.
# Prints trials per second and the master's time per trial (from hpsearch's own accounting:
# sampling, database writes, messages), for each of RUNS runs, then the median.
# Usage: bench/orchestration_overhead.sh [BUILD_DIR=build] [TRIALS=20000] [RUNS=3]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
trials=${2:-20000}
runs=${3:-3}
[ -x "$build/hpsearch" ] || { echo "build first: tools/build.sh" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $trials trials, 1 master + 2 workers"
rates=()
for run in $(seq "$runs"); do
  line=$(bash tools/mpirun.sh -np 3 "$build/hpsearch" spaces/branin.json --db "$work/bench$run.db" --trials "$trials" \
         --progress none 2>&1 | grep 'trials in')
  echo "run $run: ${line#hpsearch: }"
  rates+=("$(echo "$line" | sed -E 's/.*\(([0-9.]+) trials\/s\).*/\1/')")
done
median=$(printf '%s\n' "${rates[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")
echo "median: $median trials/s (goal: at least 5000; Optuna with SQLite storage: under 100)"
