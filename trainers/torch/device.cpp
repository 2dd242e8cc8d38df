#include "trainers/torch/device.hpp"

#include <torch/torch.h>

namespace hpsearch {

std::string describe_device() {
  if (torch::cuda::is_available()) {
    const auto count = torch::cuda::device_count();
    return "cuda (" + std::to_string(count) + (count == 1 ? " GPU" : " GPUs") + ", LibTorch " + TORCH_VERSION + ")";
  }
  const int threads = at::get_num_threads();
  return "cpu (" + std::to_string(threads) + (threads == 1 ? " thread" : " threads") + ", LibTorch " + TORCH_VERSION + ")";
}

std::string libtorch_version() { return TORCH_VERSION; }

}  // namespace hpsearch
