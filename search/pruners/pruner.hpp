#pragma once
// Pruners decide, after each step a trial reports, whether it goes on or stops (PRUNED).
//
// Contract: decide() is a pure function of (the pruner's settings, the history, the trial number,
// the step). The step being judged is already in the history (the master records it first), and a
// pruner keeps no state of its own, so a resumed search, which reloads the same history from the
// database, takes the same decisions as one that never stopped.
//
// Rules (each type's settings are declared once, in pruner.cpp: pruner_settings(type) reads them
// and writes README.md's tables of section "Pruning"):
//   none        never stops a trial.
//   percentile  stops a trial whose best value so far is worse than the given percentile of the
//               values that COMPLETE trials reported at the same step (Optuna's PercentilePruner).
//   median      percentile with percentile = 50.
//   asha        asynchronous successive halving: rungs at min_resource * eta^(s + k); a trial that
//               reaches a rung goes on only if it is among the best max(1, floor(n / eta)) of the n
//               trials that reached that rung (itself included).
//   hyperband   several ASHA brackets (s = 0, 1, ...); trial k belongs to bracket k mod brackets
//               and is compared with the trials of its bracket only.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/settings.hpp"
#include "search/history.hpp"

namespace hpsearch {

struct PruneDecision {
  bool stop = false;
  std::string reason;  // when stop: the rule or rung that stopped the trial, for the trial's record
};

class Pruner {
 public:
  virtual ~Pruner() = default;
  // Whether trial `trial_number`, which has just reported `step`, stops now.
  virtual PruneDecision decide(const StudyHistory& history, int trial_number, int step) const = 0;
  virtual std::string name() const = 0;
};

// Builds the pruner that the space file's `pruner` object asks for; null or absent means
// {"type": "none"}. `file` names the space file in errors: FileError at "pruner.KEY".
std::unique_ptr<Pruner> make_pruner(const nlohmann::json& settings, const std::string& file);

// The settings of one pruner type ("none", "median", "percentile", "asha", "hyperband"): what
// make_pruner reads and the README documents. Throws Error for another type.
const settings::Table& pruner_settings(const std::string& type);

// The objective at `step` in a trial's intermediate values (ordered by step), if reported.
const double* value_at_step(const TrialRecord& trial, int step);

}  // namespace hpsearch
