#pragma once
// The compute device, chosen once per process: CUDA when LibTorch sees a GPU, else the CPU.
#include <string>

namespace hpsearch {

// "cuda (8 GPUs, LibTorch 1.13.0)" or "cpu (2 threads, LibTorch 1.13.0)", for the start-up banner.
std::string describe_device();

// "1.13.0": the LibTorch this program was built with (hpsearch --version).
std::string libtorch_version();

}  // namespace hpsearch
