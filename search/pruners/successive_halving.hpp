#pragma once
// Asynchronous successive halving (ASHA, Li et al. 2020, as Optuna's SuccessiveHalvingPruner) and
// Hyperband built from several ASHA brackets.
//
// Rung i sits at step min_resource * eta^i, for i >= s (the min_early_stopping_rate) and below
// max_resource when one is set. A trial whose step reports cross a rung (its first reported step
// >= the rung's step) is compared with every trial, in any state but FAIL, that has crossed that
// rung, itself included, each with the value it reported at its first step >= the rung's step:
// it goes on only if its value is among the best max(1, floor(n / eta)) of those n values (ties
// go on). With trials that start one after another the first trials cannot be stopped: nobody has
// reached their rungs yet; that is the asynchronous rule.
#include <vector>

#include "search/pruners/pruner.hpp"

namespace hpsearch {

struct HalvingSettings {
  int min_resource = 1;
  int reduction_factor = 3;
  int min_early_stopping_rate = 0;
  int max_resource = 0;  // 0: no limit; rungs only below it
};

class SuccessiveHalvingPruner : public Pruner {
 public:
  // With `brackets` > 1 only trials whose number is `bracket` modulo `brackets` compete.
  explicit SuccessiveHalvingPruner(HalvingSettings settings, int brackets = 1, int bracket = 0, std::string name = "asha");
  PruneDecision decide(const StudyHistory& history, int trial_number, int step) const override;
  std::string name() const override { return name_; }
  // The steps of the rungs up to `limit` (for tests and documentation).
  std::vector<long long> rung_steps(long long limit) const;

 private:
  HalvingSettings settings_;
  int brackets_, bracket_;
  std::string name_;
};

// Hyperband: brackets s = 0 .. B-1 with B = the number of i >= 0 with min_resource * eta^i <=
// max_resource; bracket s is ASHA with min_early_stopping_rate s; trial k runs in bracket k mod B.
class HyperbandPruner : public Pruner {
 public:
  explicit HyperbandPruner(HalvingSettings settings);
  PruneDecision decide(const StudyHistory& history, int trial_number, int step) const override;
  std::string name() const override { return "hyperband"; }
  int bracket_count() const { return static_cast<int>(brackets_.size()); }
  int bracket_of(int trial_number) const { return trial_number % bracket_count(); }

 private:
  std::vector<SuccessiveHalvingPruner> brackets_;
};

}  // namespace hpsearch
