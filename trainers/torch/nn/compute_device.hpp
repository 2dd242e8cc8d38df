#pragma once
// The device every LibTorch trainer of this process uses: CUDA when available, else the CPU.
// Chosen once per worker; cuDNN's autotuner on unless the trainer asks for deterministic algorithms.
#include <torch/torch.h>

namespace hpsearch::nn {

torch::Device compute_device();

// Called by a worker rank before its first trial: the `local_worker_index`-th worker of a node
// takes GPU index % GPU count, so that one worker per GPU uses every GPU of the node.
void use_gpu_of_local_worker(int local_worker_index);

// deterministic: cuDNN deterministic algorithms, benchmark off. Otherwise benchmark on.
void configure_backends(bool deterministic);

}  // namespace hpsearch::nn
