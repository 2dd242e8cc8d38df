#pragma once
// Percentile and median pruning (Optuna's PercentilePruner and MedianPruner): after a step that is
// judged, a trial stops when its best value so far is worse than the `percentile`-th percentile
// (linear interpolation, as numpy) of the values the COMPLETE trials reported at the same step.
// Nothing is judged before `startup_trials` trials are COMPLETE, nor at steps <= `warmup_steps`;
// after that, one step per `interval_steps` is judged (the first reported step of each interval).
#include "search/pruners/pruner.hpp"

namespace hpsearch {

struct PercentileSettings {
  double percentile = 25;  // in (0, 100); lower is more aggressive
  int startup_trials = 5;
  int warmup_steps = 0;
  int interval_steps = 1;
  int min_trials = 1;  // fewest COMPLETE trials with a value at the step for a judgement
};

class PercentilePruner : public Pruner {
 public:
  explicit PercentilePruner(PercentileSettings settings) : settings_(settings) {}
  PruneDecision decide(const StudyHistory& history, int trial_number, int step) const override;
  std::string name() const override { return "percentile"; }

 protected:
  // How the threshold is named in reasons: "the 25th percentile", "the median".
  virtual std::string threshold_name() const;

 private:
  PercentileSettings settings_;
};

// The median rule is the 50th percentile; only the wording differs.
class MedianPruner : public PercentilePruner {
 public:
  explicit MedianPruner(PercentileSettings settings) : PercentilePruner(with_median(settings)) {}
  std::string name() const override { return "median"; }

 protected:
  std::string threshold_name() const override { return "the median"; }

 private:
  static PercentileSettings with_median(PercentileSettings s) {
    s.percentile = 50;
    return s;
  }
};

// numpy.percentile(values, p) with linear interpolation; `values` is sorted in place.
double percentile_of(std::vector<double>& values, double p);

}  // namespace hpsearch
