#include "trainers/nn/data_parallel.hpp"

#include "trainers/nn/compute_device.hpp"

namespace hpsearch::nn {
namespace {

// Runs `collective` on the tensors in buckets of one dtype and device, each flattened into one
// contiguous buffer, then copies the results back into the tensors.
template <typename Collective>
void bucketed(std::vector<torch::Tensor> tensors, int64_t bucket_bytes, Collective collective) {
  std::vector<torch::Tensor> bucket;
  int64_t bytes = 0;
  auto flush = [&] {
    if (bucket.empty()) return;
    std::vector<torch::Tensor> flat_parts;
    flat_parts.reserve(bucket.size());
    for (const auto& t : bucket) flat_parts.push_back(t.reshape({-1}));
    torch::Tensor flat = torch::cat(flat_parts);
    collective(flat);
    int64_t offset = 0;
    for (auto& t : bucket) {
      t.copy_(flat.slice(0, offset, offset + t.numel()).view_as(t));
      offset += t.numel();
    }
    bucket.clear();
    bytes = 0;
  };
  for (auto& t : tensors) {
    if (!bucket.empty() && (t.scalar_type() != bucket.front().scalar_type() || t.device() != bucket.front().device())) flush();
    bucket.push_back(t);
    bytes += t.numel() * static_cast<int64_t>(t.element_size());
    if (bytes >= bucket_bytes) flush();
  }
  flush();
}

}  // namespace

torch::Tensor DataParallel::shard(const torch::Tensor& global_batch) const {
  if (alone()) return global_batch;
  const int64_t n = global_batch.size(0);
  return global_batch.slice(0, n * rank() / size(), n * (rank() + 1) / size());
}

void DataParallel::average_gradients(torch::nn::Module& module, int64_t bucket_bytes) {
  if (alone()) return;
  std::vector<torch::Tensor> gradients;
  for (auto& p : module.parameters()) {
    if (!p.requires_grad()) continue;
    // A parameter unused on this rank has no gradient yet; the others may have one: zeros keep
    // the collective calls identical on every rank.
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    gradients.push_back(p.grad());
  }
  const double scale = 1.0 / size();
  bucketed(gradients, bucket_bytes, [&](torch::Tensor& flat) {
    group_->all_reduce_sum(flat);
    flat.mul_(scale);
  });
}

void DataParallel::broadcast_module(torch::nn::Module& module, int64_t bucket_bytes) {
  if (alone()) return;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> tensors;
  for (auto& p : module.parameters()) tensors.push_back(p);
  for (auto& b : module.buffers()) tensors.push_back(b);
  bucketed(tensors, bucket_bytes, [&](torch::Tensor& flat) { group_->broadcast(flat, 0); });
}

torch::Tensor DataParallel::sum(torch::Tensor values) {
  if (alone()) return values;
  values = values.contiguous();
  group_->all_reduce_sum(values);
  return values;
}

bool DataParallel::agree(bool leader_value) {
  if (alone()) return leader_value;
  // On the device the communicator serves: NCCL only moves CUDA tensors.
  const auto device = group_->name() == "nccl" ? compute_device() : torch::Device(torch::kCPU);
  auto flag = torch::full({1}, leader_value ? 1 : 0, torch::TensorOptions().dtype(torch::kInt).device(device));
  group_->broadcast(flag, 0);
  return flag.cpu().item<int>() != 0;
}

}  // namespace hpsearch::nn
