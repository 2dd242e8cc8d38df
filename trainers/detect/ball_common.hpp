#pragma once
// What the detect and forecast trainers share: their settings (ball_settings.hpp), the reading
// of integer configuration keys, and the fixed train/validation split. Internal to
// trainers/detect and trainers/forecast (uses LibTorch).
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "trainers/detect/ball_settings.hpp"

namespace hpsearch::balls {

// Configuration keys read by the trainer or the code it hands the configuration to (optimizer,
// schedule, the worker's patience rule); anything else is a typo that would be silently ignored.
inline void check_config_keys(const nlohmann::json& config, const std::set<std::string>& known, const std::string& trainer) {
  if (!config.is_object()) throw std::invalid_argument("the configuration must be an object, got " + config.dump());
  for (auto it = config.begin(); it != config.end(); ++it) {
    if (known.count(it.key())) continue;
    std::string list;
    for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
    throw std::invalid_argument(it.key() + ": not a configuration key of the " + trainer + " trainer; known: " + list);
  }
}

inline int64_t config_integer(const nlohmann::json& config, const char* key, int64_t fallback, int64_t min_value) {
  if (!config.contains(key) || config[key].is_null()) return fallback;
  const nlohmann::json& v = config[key];
  // Samplers hand $choice and $quniform values over as doubles: 16.0 is still a batch size.
  if (!v.is_number() || v.get<double>() != std::floor(v.get<double>()) || v.get<double>() < static_cast<double>(min_value)) {
    throw std::invalid_argument(std::string(key) + ": must be an integer >= " + std::to_string(min_value) + ", got " + v.dump());
  }
  return static_cast<int64_t>(v.get<double>());
}

inline double config_number(const nlohmann::json& config, const char* key, double fallback, double min_value) {
  if (!config.contains(key) || config[key].is_null()) return fallback;
  const nlohmann::json& v = config[key];
  if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < min_value) {
    throw std::invalid_argument(std::string(key) + ": must be a number >= " + nlohmann::json(min_value).dump() + ", got " + v.dump());
  }
  return v.get<double>();
}

// The same split for every trial of a search (and for `hpsearch train`): a permutation drawn
// from split_seed alone with its own generator (splitmix64 + Fisher-Yates, identical on every
// platform and LibTorch version), the last valid_fraction of it for validation, as the seed's
// randperm split did. Returns {train indices, valid indices}, int64 on the CPU.
inline std::pair<torch::Tensor, torch::Tensor> split_indices(int64_t n, double valid_fraction, uint64_t seed) {
  int64_t valid = static_cast<int64_t>(std::llround(static_cast<double>(n) * valid_fraction));
  valid = std::max<int64_t>(1, std::min<int64_t>(valid, n - 2));
  if (n < 3) throw std::runtime_error("the data folder holds " + std::to_string(n) + " samples; at least 3 are needed for a train/validation split");
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

}  // namespace hpsearch::balls
