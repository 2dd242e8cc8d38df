#!/usr/bin/env bash
# Compiles the CUDA-only parts of the sources (the NCCL communicator, the CUDA out-of-memory
# recovery: built only against a CUDA LibTorch) for syntax and types, without a GPU and without a
# CUDA LibTorch: CPU LibTorch 1.13's headers, the CUDA toolkit's headers and nccl.h. It catches the typos and API slips that otherwise wait for
# a session with the GPU machine. Skips (exit 0, with a line saying so) when the headers are absent.
#
#   bash tools/check-cuda-sources.sh [CUDA_INCLUDE_DIR]     (default: newest /usr/local/cuda*/include)
set -euo pipefail
cd "$(dirname "$0")/.."

cuda_include=${1:-$(ls -d /usr/local/cuda*/include 2>/dev/null | sort -V | tail -n 1 || true)}
if [[ -z "$cuda_include" || ! -f "$cuda_include/cuda_runtime_api.h" || ! -f "$cuda_include/nccl.h" ]]; then
  echo "check-cuda-sources: skipped (no CUDA headers with nccl.h; pass the include folder)"
  exit 0
fi
mpi_include=$(mpicxx --showme:incdirs 2>/dev/null | cut -d' ' -f1 || true)

# CPU LibTorch lacks the one header that a CUDA build generates; an empty one is enough here.
generated=$(mktemp -d)
trap 'rm -rf "$generated"' EXIT
mkdir -p "$generated/c10/cuda/impl"
echo '#pragma once' >"$generated/c10/cuda/impl/cuda_cmake_macros.h"

# Every source with a CUDA-only part, and the macro that turns it on (CMakeLists.txt sets them).
for source in comm/nccl_communicator.cpp:HPSEARCH_WITH_NCCL worker/trial_runner.cpp:HPSEARCH_WITH_CUDA; do
  g++ -std=c++17 -fsyntax-only -D"${source#*:}" -I. -I"$generated" -I/usr/include/torch/csrc/api/include \
    -I"$cuda_include" ${mpi_include:+-I"$mpi_include"} "${source%%:*}"
  echo "check-cuda-sources: ${source%%:*} with ${source#*:} OK (against $cuda_include)"
done
