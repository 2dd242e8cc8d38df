#include "search/pruners/pruner.hpp"

#include <algorithm>
#include <limits>

#include "core/errors.hpp"
#include "search/pruners/percentile_pruner.hpp"
#include "search/pruners/successive_halving.hpp"

namespace hpsearch {

using nlohmann::json;

namespace {

class NoPruner : public Pruner {
 public:
  PruneDecision decide(const StudyHistory&, int, int) const override { return {}; }
  std::string name() const override { return "none"; }
};

// Reads the knobs of one pruner type; every key must be one of `allowed`.
class Knobs {
 public:
  Knobs(const json& settings, const std::string& file, const std::string& type, std::vector<std::string> allowed)
      : settings_(settings), file_(file) {
    allowed.push_back("type");
    for (auto it = settings.begin(); it != settings.end(); ++it) {
      if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end()) {
        std::string list;
        for (const auto& k : allowed) {
          if (k != "type") list += (list.empty() ? "" : ", ") + k;
        }
        throw FileError(file, "pruner." + it.key(), "unknown setting of the " + type + " pruner" + (list.empty() ? "" : " (it takes " + list + ")"));
      }
    }
  }
  int integer(const std::string& key, int fallback, int minimum) const {
    if (!settings_.contains(key)) return fallback;
    const json& v = settings_[key];
    if (!v.is_number_integer() || v.get<long long>() < minimum || v.get<long long>() > std::numeric_limits<int>::max()) {
      throw FileError(file_, "pruner." + key, "must be an integer >= " + std::to_string(minimum) + ", got " + v.dump());
    }
    return v.get<int>();
  }
  bool has(const std::string& key) const { return settings_.contains(key); }
  const json& operator[](const std::string& key) const { return settings_[key]; }

 private:
  const json& settings_;
  const std::string& file_;
};

PercentileSettings percentile_knobs(const Knobs& k) {
  PercentileSettings s;
  s.startup_trials = k.integer("startup_trials", s.startup_trials, 0);
  s.warmup_steps = k.integer("warmup_steps", s.warmup_steps, 0);
  s.interval_steps = k.integer("interval_steps", s.interval_steps, 1);
  s.min_trials = k.integer("min_trials", s.min_trials, 1);
  return s;
}

}  // namespace

const double* value_at_step(const TrialRecord& trial, int step) {
  const auto& v = trial.intermediate;
  auto it = std::lower_bound(v.begin(), v.end(), step, [](const std::pair<int, double>& p, int s) { return p.first < s; });
  if (it != v.end() && it->first == step) return &it->second;
  for (const auto& p : v) {  // steps reported out of order
    if (p.first == step) return &p.second;
  }
  return nullptr;
}

std::unique_ptr<Pruner> make_pruner(const json& settings, const std::string& file) {
  if (settings.is_null()) return std::make_unique<NoPruner>();
  if (!settings.is_object()) throw FileError(file, "pruner", "must be an object such as {\"type\": \"median\"}");
  if (settings.contains("type") && !settings["type"].is_string()) throw FileError(file, "pruner.type", "must be a string");
  const std::string type = settings.value("type", "none");
  const std::vector<std::string> percentile_keys{"startup_trials", "warmup_steps", "interval_steps", "min_trials"};
  if (type == "none") {
    Knobs(settings, file, type, {});
    return std::make_unique<NoPruner>();
  }
  if (type == "median") return std::make_unique<MedianPruner>(percentile_knobs(Knobs(settings, file, type, percentile_keys)));
  if (type == "percentile") {
    auto keys = percentile_keys;
    keys.push_back("percentile");
    const Knobs k(settings, file, type, keys);
    PercentileSettings s = percentile_knobs(k);
    if (k.has("percentile")) {
      if (!k["percentile"].is_number() || !(k["percentile"].get<double>() > 0) || !(k["percentile"].get<double>() < 100)) {
        throw FileError(file, "pruner.percentile", "must be a number in (0, 100), got " + k["percentile"].dump());
      }
      s.percentile = k["percentile"].get<double>();
    }
    return std::make_unique<PercentilePruner>(s);
  }
  if (type == "asha" || type == "hyperband") {
    std::vector<std::string> keys{"min_resource", "reduction_factor", "max_resource"};
    if (type == "asha") keys.push_back("min_early_stopping_rate");
    const Knobs k(settings, file, type, keys);
    HalvingSettings s;
    s.min_resource = k.integer("min_resource", s.min_resource, 1);
    s.reduction_factor = k.integer("reduction_factor", s.reduction_factor, 2);
    s.max_resource = k.integer("max_resource", 0, 1);
    if (type == "asha") {
      s.min_early_stopping_rate = k.integer("min_early_stopping_rate", 0, 0);
      return std::make_unique<SuccessiveHalvingPruner>(s);
    }
    if (!k.has("max_resource")) throw FileError(file, "pruner.max_resource", "is required by hyperband: the most steps a trial trains");
    if (s.max_resource < s.min_resource) throw FileError(file, "pruner.max_resource", "must be >= min_resource");
    return std::make_unique<HyperbandPruner>(s);
  }
  throw FileError(file, "pruner.type", "unknown pruner '" + type + "'; use \"none\", \"median\", \"percentile\", \"asha\" or \"hyperband\"");
}

}  // namespace hpsearch
