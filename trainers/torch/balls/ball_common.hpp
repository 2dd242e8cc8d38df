#pragma once
// What the detect and forecast trainers share: their settings (ball_settings.hpp), the fixed
// train/validation split and the copy of both sets to the compute device, made once per trainer
// object. Everything else they share (the configuration keys, the model's set-up, the epoch
// loop) is every LibTorch trainer's, in trainers/torch/nn/. Internal to trainers/torch/balls.
#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/errors.hpp"
#include "trainers/core/ball_settings.hpp"
#include "trainers/torch/data/balls.hpp"
#include "trainers/torch/nn/compute_device.hpp"

namespace hpsearch::balls {

// The same split for every trial of a search (and for `hpsearch train`): a permutation drawn
// from split_seed alone with its own generator (splitmix64 + Fisher-Yates, identical on every
// platform and LibTorch version), the last valid_fraction of it for validation, as the seed's
// randperm split did. Returns {train indices, valid indices}, int64 on the CPU.
inline std::pair<torch::Tensor, torch::Tensor> split_indices(int64_t n, double valid_fraction, uint64_t seed) {
  int64_t valid = static_cast<int64_t>(std::llround(static_cast<double>(n) * valid_fraction));
  valid = std::max<int64_t>(1, std::min<int64_t>(valid, n - 2));
  if (n < 3) throw UserError("the data folder holds " + std::to_string(n) + " samples; at least 3 are needed for a train/validation split");
  std::vector<int64_t> order(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[static_cast<std::size_t>(i)] = i;
  uint64_t state = seed ^ 0x5bd1e9955bd1e995ULL;
  auto next = [&state]() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  for (int64_t i = n - 1; i > 0; --i) {
    const auto j = static_cast<int64_t>(next() % static_cast<uint64_t>(i + 1));
    std::swap(order[static_cast<std::size_t>(i)], order[static_cast<std::size_t>(j)]);
  }
  const torch::Tensor all = torch::tensor(order, torch::kInt64);
  return {all.narrow(0, 0, n - valid).clone(), all.narrow(0, n - valid, valid).clone()};
}

// kBoxScale as a float tensor {4} on the CPU: boxes are divided by it for the networks' targets.
inline torch::Tensor box_scale() { return torch::tensor(std::vector<float>(data::kBoxScale.begin(), data::kBoxScale.end())); }

struct DeviceSplit {
  std::vector<torch::Tensor> train, valid;  // the rows of each tensor given to split_to_device, in its order
  torch::Tensor box_scale;                  // float {1, 1, 4} on the device, to turn outputs back into pixels
  torch::Device device = torch::kCPU;
};

// Splits the per-sample tensors `samples` (their first dimension: the same samples) with the
// settings' valid_fraction and split_seed, and copies both sets to the compute device (set up
// for `deterministic` first): one copy for the whole search.
inline DeviceSplit split_to_device(const BallTrainerSettings& settings, const std::vector<torch::Tensor>& samples) {
  DeviceSplit out;
  out.device = nn::compute_device();
  nn::configure_backends(settings.deterministic);
  const auto [train, valid] = split_indices(samples.at(0).size(0), settings.valid_fraction, settings.split_seed);
  for (const torch::Tensor& t : samples) {
    out.train.push_back(t.index_select(0, train).to(out.device));
    out.valid.push_back(t.index_select(0, valid).to(out.device));
  }
  out.box_scale = box_scale().view({1, 1, 4}).to(out.device);
  return out;
}

}  // namespace hpsearch::balls
