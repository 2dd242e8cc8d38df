#include "search/history.hpp"

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

}  // namespace hpsearch
