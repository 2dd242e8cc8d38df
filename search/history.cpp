#include "search/history.hpp"

#include <cmath>

#include "core/errors.hpp"

namespace hpsearch {

const char* to_string(TrialState state) {
  switch (state) {
    case TrialState::Waiting: return "WAITING";
    case TrialState::Running: return "RUNNING";
    case TrialState::Complete: return "COMPLETE";
    case TrialState::Pruned: return "PRUNED";
    case TrialState::Fail: return "FAIL";
    case TrialState::Interrupted: return "INTERRUPTED";
  }
  return "?";
}

TrialState trial_state_from_string(const std::string& text) {
  for (TrialState s :
       {TrialState::Waiting, TrialState::Running, TrialState::Complete, TrialState::Pruned, TrialState::Fail, TrialState::Interrupted}) {
    if (text == to_string(s)) return s;
  }
  throw Error("unknown trial state '" + text + "'");
}

std::optional<StepValue> objective_from_steps(const std::vector<std::pair<int, double>>& steps, ObjectiveMode mode, ObjectiveUse use) {
  std::optional<StepValue> chosen;
  for (const auto& [step, value] : steps) {
    if (step < 1 || !std::isfinite(value)) continue;
    const bool better = !chosen || (mode == ObjectiveMode::Minimize ? value < chosen->value : value > chosen->value);
    // Last: the latest trained step (steps may arrive out of order after a resume's replay).
    if (use == ObjectiveUse::Last ? (!chosen || step >= chosen->step) : better) chosen = StepValue{step, value};
  }
  return chosen;
}

}  // namespace hpsearch
