#!/usr/bin/env bash
# The GPU checks and benchmarks the README reports, for the GPU machine (one H100 or H200,
# LibTorch 2.11 + CUDA 13, NCCL, Open MPI; see ../shared/gpu/README.md). Run from the project root
# with the recipe's files copied to .gpu/ (debs/ and fashion-mnist/):
#
#   bash tools/gpu-check.sh STAGE...      stages: build test bench search-classify search-detect
#
# Every stage writes its output to $OUT/STAGE.txt (and JSON lines where it measures) and goes on
# after a failure, so that one broken stage does not hide the others' results.
set -uo pipefail
OUT=${OUT:-/tmp/hpsearch-gpu}
mkdir -p "$OUT"
BUILD=build-gpu
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
HP="$PWD/$BUILD/hpsearch"
WORK=/tmp/hpsearch-gpu-work
mkdir -p "$WORK"

build() {
  mkdir -p /tmp/deps
  for f in .gpu/debs/*.deb; do dpkg -x "$f" /tmp/deps; done
  local tp
  tp=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$tp;/tmp/deps/usr" \
    -DBoost_DIR=/tmp/deps/usr/lib/x86_64-linux-gnu/cmake/Boost-1.74.0 -DBoost_USE_STATIC_LIBS=ON \
    -DSQLite3_INCLUDE_DIR=/tmp/deps/usr/include -DSQLite3_LIBRARY=/tmp/deps/usr/lib/x86_64-linux-gnu/libsqlite3.a \
    -DCMAKE_CUDA_ARCHITECTURES=90 &&
    cmake --build "$BUILD" -j16
}

# The unit tests run their LibTorch trainers on the GPU here; the MPI and integration tests too.
test() {
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  # The unit tests and the MPI check, then the integration tests that train (the others test the
  # orchestrator, which the GPU does not change).
  (cd "$BUILD" && ctest -j8 --output-on-failure --timeout 300 -E '^integration\.' &&
    ctest -j4 --output-on-failure --timeout 300 -R 'detect_search|classify_search|trial_groups')
}

# Throughput of hpsearch's training loops against the seed's PyTorch loops, same GPU, same run;
# then the all-reduce against compute per step, and a detect trial in a group of one GPU (NCCL).
bench() {
  "$BUILD/bench/detect_throughput" --device cuda --images 20000 | tee "$OUT/detect_throughput_cpp.jsonl"
  python3 bench/detect_throughput.py --device cuda --images 20000 | tee "$OUT/detect_throughput_py.jsonl"
  "$BUILD/bench/classify_throughput" --device cuda | tee "$OUT/classify_throughput_cpp.jsonl"
  python3 bench/classify_throughput.py --device cuda | tee "$OUT/classify_throughput_py.jsonl"
  mpirun -np 1 "$BUILD/bench/allreduce_vs_compute" | tee "$OUT/allreduce_vs_compute.jsonl"
  "$HP" make-data balls --out "$WORK/balls_small" --count 600 --seed 1
  mpirun -np 2 "$HP" spaces/detect.json --db "$WORK/nccl.db" --trials 2 --gpus-per-trial 1 --seed 3 \
    --set params.epochs=2 --set trainer.data="$WORK/balls_small" --progress plain
  "$HP" summarize "$WORK/nccl.db"
}

# Fashion-MNIST: a short TPE search of spaces/classify.json with 4 workers sharing the GPU.
search-classify() {
  mkdir -p "$WORK/fashion" && cp .gpu/fashion-mnist/*.gz "$WORK/fashion/"
  time mpirun -np 5 "$HP" spaces/classify.json --db "$WORK/classify.db" --trials 16 --seed 1 \
    --set trainer.data="$WORK/fashion" --set params.epochs=8 --progress plain
  "$HP" summarize "$WORK/classify.db" --top 5
  "$HP" summarize "$WORK/classify.db" --format json > "$OUT/classify_summary.json"
}

# Issue #6 on the GPU: the same short detect search without a pruner and with ASHA.
search-detect() {
  "$HP" make-data balls --out "$WORK/balls" --count 4000 --seed 2
  for pruner in none asha; do
    local setting='{"type": "none"}'
    [ "$pruner" = asha ] && setting='{"type": "asha", "min_resource": 3, "reduction_factor": 3, "max_resource": 27}'
    time mpirun -np 5 "$HP" spaces/detect.json --db "$WORK/detect.db" --study "detect_$pruner" --trials 16 --seed 1 \
      --set trainer.data="$WORK/balls" --set params.epochs=27 --set params.early_stopping=0 \
      --set pruner="$setting" --progress plain
    "$HP" summarize "$WORK/detect.db" --study "detect_$pruner" --top 3
    "$HP" summarize "$WORK/detect.db" --study "detect_$pruner" --format json > "$OUT/detect_${pruner}_summary.json"
  done
}

for stage in "$@"; do
  echo "=== $stage $(date +%T)"
  start=$(date +%s)
  "$stage" > >(tee "$OUT/$stage.txt") 2>&1
  echo "=== $stage: exit $? in $(($(date +%s) - start)) s"
done
