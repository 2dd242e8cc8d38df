#pragma once
// The compute device, chosen once per process: CUDA when LibTorch sees a GPU, else the CPU.
#include <string>

namespace hpsearch {

// "cuda:0 (NVIDIA H100, 1 GPU)" or "cpu (2 threads)", for the start-up banner.
std::string describe_device();

}  // namespace hpsearch
