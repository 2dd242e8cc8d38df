#include "search/pruners/percentile_pruner.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

namespace hpsearch {

double percentile_of(std::vector<double>& values, double p) {
  std::sort(values.begin(), values.end());
  const double position = p / 100.0 * static_cast<double>(values.size() - 1);
  const auto below = static_cast<std::size_t>(std::floor(position));
  const std::size_t above = std::min(below + 1, values.size() - 1);
  const double fraction = position - static_cast<double>(below);
  return values[below] + (values[above] - values[below]) * fraction;
}

std::string PercentilePruner::threshold_name() const {
  std::ostringstream s;
  s << "the " << settings_.percentile << "th percentile";
  return s.str();
}

PruneDecision PercentilePruner::decide(const StudyHistory& history, int trial_number, int step) const {
  const auto& trials = history.trials;
  if (trial_number < 0 || static_cast<std::size_t>(trial_number) >= trials.size()) return {};
  const TrialRecord& trial = trials[static_cast<std::size_t>(trial_number)];
  const int warmup = settings_.warmup_steps;
  if (step <= warmup) return {};
  // Judged: the first reported step of each interval after the warm-up.
  int previous = warmup;
  for (const auto& [s, v] : trial.intermediate) {
    if (s < step) previous = std::max(previous, s);
  }
  if ((step - warmup) / settings_.interval_steps <= (previous - warmup) / settings_.interval_steps) return {};

  int complete = 0;
  std::vector<double> others;
  for (const auto& t : trials) {
    if (t.state != TrialState::Complete) continue;
    ++complete;
    if (t.number == trial_number) continue;
    if (const double* v = value_at_step(t, step); v && std::isfinite(*v)) others.push_back(history.loss(*v));
  }
  if (complete < settings_.startup_trials || others.empty() || static_cast<int>(others.size()) < settings_.min_trials) return {};

  double best = std::numeric_limits<double>::infinity();
  // Over trained steps only, as the trial's own value (objective_from_steps): an untrained
  // network's step 0 that happens to beat the threshold must not keep a bad trial alive.
  for (const auto& [s, v] : trial.intermediate) {
    if (s >= 1 && s <= step && std::isfinite(v)) best = std::min(best, history.loss(v));
  }
  const std::size_t n = others.size();
  const double threshold = percentile_of(others, settings_.percentile);
  if (!(best > threshold)) return {};
  std::ostringstream reason;
  reason.precision(6);
  reason << "pruned by " << name() << " at step " << step << ": best value so far " << history.loss(best) << " is worse than "
         << threshold_name() << " " << history.loss(threshold) << " of " << n << " COMPLETE trial" << (n == 1 ? "" : "s")
         << " at that step";
  return {true, reason.str()};
}

}  // namespace hpsearch
