#pragma once
// What samplers and pruners know of a study: every trial so far, read through HistorySource
// (below), which the study's storage (study/storage.hpp's `Storage`) implements.
//
// The storage is the single source of truth (SQLite on disk, mirrored in memory by the master);
// samplers and pruners never keep history of their own, so a resumed search, which reloads the
// same records, makes the same decisions as one that never stopped.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace hpsearch {

// INTERRUPTED: the search was stopped (a signal) while the trial ran; like RUNNING and WAITING it
// is not finished, and the next run of the study runs it again with its number and configuration.
enum class TrialState { Waiting, Running, Complete, Pruned, Fail, Interrupted };
const char* to_string(TrialState state);                      // "WAITING", "RUNNING", ...
TrialState trial_state_from_string(const std::string& text);  // throws Error on unknown text
inline bool is_finished(TrialState s) { return s == TrialState::Complete || s == TrialState::Pruned || s == TrialState::Fail; }

enum class ObjectiveMode { Minimize, Maximize };

// Which of a trial's reported values is its objective (the space file's objective.use): the best
// over its trained steps, or the last one. Step 0, when a trainer reports it, is the untrained
// model's evaluation: a reference point, never the trial's result.
enum class ObjectiveUse { Best, Last };

struct StepValue {
  int step = 0;
  double value = 0;
};

// The trial's objective from its reported (step, objective) values: over steps >= 1 only, and only
// finite values; nothing when no trained step reported one (the trainer's returned value stands).
// What the worker sets as a trial's value and what summarize shows the step of.
std::optional<StepValue> objective_from_steps(const std::vector<std::pair<int, double>>& steps, ObjectiveMode mode, ObjectiveUse use);

struct TrialRecord {
  int number = 0;
  TrialState state = TrialState::Waiting;
  std::vector<double> point;                         // the sampler's internal values (a point of the space, see space.hpp)
  std::optional<double> value;                       // COMPLETE: the objective; PRUNED: last reported
  std::vector<std::pair<int, double>> intermediate;  // objective at each reported step, in order
  std::string error;                                 // FAIL or PRUNED: why
};

struct StudyHistory {
  ObjectiveMode mode = ObjectiveMode::Minimize;
  std::vector<TrialRecord> trials;  // indexed by trial number

  // The objective turned into a quantity to minimise.
  double loss(double value) const { return mode == ObjectiveMode::Minimize ? value : -value; }
};

// Read access to a study's history. The study's storage (study/storage.hpp; SqliteStorage on
// disk) is the implementation the master uses; tests may fill a StudyHistory directly.
class HistorySource {
 public:
  virtual ~HistorySource() = default;
  virtual const StudyHistory& history() const = 0;
};

}  // namespace hpsearch
