#include "trainers/torch/nn/compute_device.hpp"

#include <ATen/Context.h>

namespace hpsearch::nn {
namespace {
int& chosen_gpu() {
  static int index = 0;
  return index;
}
}  // namespace

void use_gpu_of_local_worker(int local_worker_index) {
  if (!torch::cuda::is_available()) return;
  const int count = static_cast<int>(torch::cuda::device_count());
  chosen_gpu() = count > 0 ? local_worker_index % count : 0;
}

torch::Device compute_device() {
  if (torch::cuda::is_available()) return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(chosen_gpu()));
  return torch::Device(torch::kCPU);
}

void configure_backends(bool deterministic) {
  at::globalContext().setBenchmarkCuDNN(!deterministic);
  at::globalContext().setDeterministicCuDNN(deterministic);
}

}  // namespace hpsearch::nn
