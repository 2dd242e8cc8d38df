#include "search/pruners/pruner.hpp"

#include <algorithm>

#include "core/errors.hpp"
#include "core/json_input.hpp"
#include "core/settings.hpp"
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

// The settings shared by several pruner types, declared once; their defaults are the settings
// structs' (percentile_pruner.hpp, successive_halving.hpp).
settings::Setting startup_trials() {
  return settings::integer("startup_trials", PercentileSettings{}.startup_trials, "nothing is stopped before this many trials are COMPLETE",
                           0);
}
settings::Setting warmup_steps() {
  return settings::integer("warmup_steps", PercentileSettings{}.warmup_steps, "steps 1..`warmup_steps` are never judged", 0);
}
settings::Setting interval_steps() {
  return settings::integer("interval_steps", PercentileSettings{}.interval_steps,
                           "after the warm-up, one step per interval is judged: the first step reported in each interval; "
                           "warm-up 2, interval 3: steps 5, 8, 11...",
                           1);
}
settings::Setting min_trials() {
  return settings::integer("min_trials", PercentileSettings{}.min_trials, "fewest COMPLETE trials with a value at the step for a judgement",
                           1);
}
settings::Setting min_resource() {
  return settings::integer("min_resource", HalvingSettings{}.min_resource, "step of the first rung; rung i is at step `min_resource`·η^i",
                           1);
}
settings::Setting reduction_factor() {
  return settings::integer("reduction_factor", HalvingSettings{}.reduction_factor,
                           "η: at each rung the best max(1, ⌊n/η⌋) of the n trials that reached it go on", 2);
}
// No default: without it asha has rungs at every power of η, and hyperband cannot size its brackets.
settings::Setting max_resource() {
  return settings::integer("max_resource", nullptr, "rungs are only below this step; set it to the number of steps a trial trains", 1);
}

const settings::Table& none_table() {
  static const settings::Table table{"none pruner", {}, {"type"}};
  return table;
}
const settings::Table& median_table() {
  static const settings::Table table{"median pruner", {startup_trials(), warmup_steps(), interval_steps(), min_trials()}, {"type"}};
  return table;
}
const settings::Table& percentile_table() {
  static const settings::Table table{
      "percentile pruner",
      {settings::open_max(settings::open_min(settings::number(
           "percentile", PercentileSettings{}.percentile,
           "stop when the trial's best value so far is worse than this percentile (linear interpolation) of the values the "
           "COMPLETE trials reported at the same step; lower is more aggressive",
           0, 100))),
       startup_trials(), warmup_steps(), interval_steps(), min_trials()},
      {"type"}};
  return table;
}
const settings::Table& asha_table() {
  static const settings::Table table{
      "asha pruner",
      {min_resource(), reduction_factor(), max_resource(),
       settings::integer("min_early_stopping_rate", HalvingSettings{}.min_early_stopping_rate, "s: rungs start at i = s", 0)},
      {"type"}};
  return table;
}
const settings::Table& hyperband_table() {
  static const settings::Table table{
      "hyperband pruner", {min_resource(), reduction_factor(), settings::required(max_resource())}, {"type"}};
  return table;
}

PercentileSettings percentile_settings(const settings::Reader& r) {
  PercentileSettings s;
  s.startup_trials = r.int32("startup_trials");
  s.warmup_steps = r.int32("warmup_steps");
  s.interval_steps = r.int32("interval_steps");
  s.min_trials = r.int32("min_trials");
  return s;
}

HalvingSettings halving_settings(const settings::Reader& r) {
  HalvingSettings s;
  s.min_resource = r.int32("min_resource");
  s.reduction_factor = r.int32("reduction_factor");
  if (r.has("max_resource")) s.max_resource = r.int32("max_resource");
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

const settings::Table& pruner_settings(const std::string& type) {
  if (type == "none") return none_table();
  if (type == "median") return median_table();
  if (type == "percentile") return percentile_table();
  if (type == "asha") return asha_table();
  if (type == "hyperband") return hyperband_table();
  throw Error("pruner_settings: no pruner type '" + type + "'");
}

std::unique_ptr<Pruner> make_pruner(const json& settings, const std::string& file) {
  if (settings.is_null()) return std::make_unique<NoPruner>();
  if (!settings.is_object()) throw FileError(file, "pruner", "must be an object such as {\"type\": \"median\"}");
  if (settings.contains("type") && !settings["type"].is_string()) throw FileError(file, "pruner.type", "must be a string");
  const std::string type = settings.value("type", "none");
  if (type != "none" && type != "median" && type != "percentile" && type != "asha" && type != "hyperband") {
    throw FileError(file, "pruner.type",
                    "unknown pruner '" + quoted_text(type, 60) + "'; use \"none\", \"median\", \"percentile\", \"asha\" or \"hyperband\"");
  }
  const settings::Reader r(settings, pruner_settings(type), file, "pruner");  // refuses keys the type does not take
  if (type == "none") return std::make_unique<NoPruner>();
  if (type == "median") return std::make_unique<MedianPruner>(percentile_settings(r));
  if (type == "percentile") {
    PercentileSettings s = percentile_settings(r);
    s.percentile = r.number("percentile");
    return std::make_unique<PercentilePruner>(s);
  }
  HalvingSettings s = halving_settings(r);
  if (type == "asha") {
    s.min_early_stopping_rate = r.int32("min_early_stopping_rate");
    return std::make_unique<SuccessiveHalvingPruner>(s);
  }
  if (s.max_resource < s.min_resource) r.fail("max_resource", "must be >= min_resource");
  return std::make_unique<HyperbandPruner>(s);
}

}  // namespace hpsearch
