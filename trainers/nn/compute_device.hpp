#pragma once
// The device every LibTorch trainer of this process uses: CUDA when available, else the CPU.
// Chosen once; cuDNN's autotuner on unless the trainer asks for deterministic algorithms.
#include <torch/torch.h>

namespace hpsearch::nn {

torch::Device compute_device();

// deterministic: cuDNN deterministic algorithms, benchmark off. Otherwise benchmark on.
void configure_backends(bool deterministic);

}  // namespace hpsearch::nn
