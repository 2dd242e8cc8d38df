#include "search/pruners/successive_halving.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace hpsearch {

namespace {

// The value a trial reported at its first step >= `rung_step`, if it got there.
const std::pair<int, double>* first_at_or_after(const TrialRecord& t, long long rung_step) {
  auto it = std::lower_bound(t.intermediate.begin(), t.intermediate.end(), rung_step,
                             [](const std::pair<int, double>& p, long long s) { return p.first < s; });
  if (it != t.intermediate.end() && it->first >= rung_step) return &*it;
  // Intermediate values are kept in report order, which is step order for every trainer we have;
  // fall back to a scan should a trainer ever report steps out of order.
  for (const auto& p : t.intermediate) {
    if (p.first >= rung_step) return &p;
  }
  return nullptr;
}

}  // namespace

SuccessiveHalvingPruner::SuccessiveHalvingPruner(HalvingSettings settings, int brackets, int bracket, std::string name)
    : settings_(settings), brackets_(brackets), bracket_(bracket), name_(std::move(name)) {}

std::vector<long long> SuccessiveHalvingPruner::rung_steps(long long limit) const {
  std::vector<long long> steps;
  long long resource = settings_.min_resource;
  for (int i = 0; i < settings_.min_early_stopping_rate && resource <= limit; ++i) resource *= settings_.reduction_factor;
  while (resource <= limit && (settings_.max_resource <= 0 || resource < settings_.max_resource)) {
    steps.push_back(resource);
    resource *= settings_.reduction_factor;
  }
  return steps;
}

PruneDecision SuccessiveHalvingPruner::decide(const StudyHistory& history, int trial_number, int step) const {
  const auto& trials = history.trials;
  if (trial_number < 0 || static_cast<std::size_t>(trial_number) >= trials.size()) return {};
  const TrialRecord& trial = trials[static_cast<std::size_t>(trial_number)];
  int previous = 0;
  for (const auto& [s, v] : trial.intermediate) {
    if (s < step) previous = std::max(previous, s);
  }
  const int eta = settings_.reduction_factor;
  int rung = 0;
  for (long long rung_step = settings_.min_resource; rung_step <= step; rung_step *= eta, ++rung) {
    if (rung < settings_.min_early_stopping_rate || rung_step <= previous) continue;
    if (settings_.max_resource > 0 && rung_step >= settings_.max_resource) break;
    // This report crossed rung `rung`: compare with every trial of the bracket that crossed it.
    const auto* own = first_at_or_after(trial, rung_step);
    if (!own || !std::isfinite(own->second)) continue;
    const double own_loss = history.loss(own->second);
    std::vector<double> losses;
    for (const auto& t : trials) {
      if (t.state == TrialState::Fail || t.number % brackets_ != bracket_) continue;
      const auto* reached = &t == &trial ? own : first_at_or_after(t, rung_step);
      if (reached && std::isfinite(reached->second)) losses.push_back(history.loss(reached->second));
    }
    const std::size_t n = losses.size();
    const std::size_t kept = std::max<std::size_t>(1, n / static_cast<std::size_t>(eta));
    std::nth_element(losses.begin(), losses.begin() + static_cast<std::ptrdiff_t>(kept - 1), losses.end());
    if (own_loss <= losses[kept - 1]) continue;
    std::ostringstream reason;
    reason.precision(6);
    reason << "pruned by " << name_ << " at rung " << rung << " (step " << rung_step << "): " << own->second << " not in the top 1/" << eta
           << " of " << n << " trials (the best " << kept << " go on)";
    return {true, reason.str()};
  }
  return {};
}

HyperbandPruner::HyperbandPruner(HalvingSettings settings) {
  int count = 0;
  for (long long r = settings.min_resource; r <= settings.max_resource; r *= settings.reduction_factor) ++count;
  count = std::max(count, 1);
  for (int s = 0; s < count; ++s) {
    HalvingSettings bracket = settings;
    bracket.min_early_stopping_rate = s;
    brackets_.emplace_back(bracket, count, s, "hyperband bracket " + std::to_string(s));
  }
}

PruneDecision HyperbandPruner::decide(const StudyHistory& history, int trial_number, int step) const {
  if (trial_number < 0) return {};
  return brackets_[static_cast<std::size_t>(bracket_of(trial_number))].decide(history, trial_number, step);
}

}  // namespace hpsearch
