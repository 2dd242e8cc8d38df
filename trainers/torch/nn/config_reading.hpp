#pragma once
// Reading a trial's resolved configuration, for the LibTorch trainers (classify, detect,
// forecast): the check that every key is one the trainer knows, and integer and number keys with
// a default (absent or null) and a lower bound. A bad value throws ConfigError, which
// the worker records as the trial's FAIL and `hpsearch train` as a mistake in the user's file.
#include <cmath>
#include <cstdint>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "core/errors.hpp"

namespace hpsearch::nn {

// Configuration keys read by the trainer or the code it hands the configuration to (optimizer,
// schedule, the worker's patience rule); anything else is a typo that would be silently ignored.
inline void check_config_keys(const nlohmann::json& config, const std::set<std::string>& known, const std::string& trainer) {
  if (!config.is_object()) throw ConfigError("the configuration must be an object, got " + config.dump());
  for (auto it = config.begin(); it != config.end(); ++it) {
    if (known.count(it.key())) continue;
    std::string list;
    for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
    throw ConfigError(it.key() + ": not a configuration key of the " + trainer + " trainer; known: " + list);
  }
}

inline int64_t config_integer(const nlohmann::json& config, const char* key, int64_t fallback, int64_t min_value) {
  if (!config.contains(key) || config[key].is_null()) return fallback;
  const nlohmann::json& v = config[key];
  // Samplers hand $choice and $quniform values over as doubles: 16.0 is still a batch size.
  if (!v.is_number() || v.get<double>() != std::floor(v.get<double>()) || v.get<double>() < static_cast<double>(min_value)) {
    throw ConfigError(std::string(key) + ": must be an integer >= " + std::to_string(min_value) + ", got " + v.dump());
  }
  return static_cast<int64_t>(v.get<double>());
}

inline double config_number(const nlohmann::json& config, const char* key, double fallback, double min_value) {
  if (!config.contains(key) || config[key].is_null()) return fallback;
  const nlohmann::json& v = config[key];
  if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < min_value) {
    throw ConfigError(std::string(key) + ": must be a number >= " + nlohmann::json(min_value).dump() + ", got " + v.dump());
  }
  return v.get<double>();
}

}  // namespace hpsearch::nn
