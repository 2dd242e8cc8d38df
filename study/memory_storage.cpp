#include "study/memory_storage.hpp"

#include <algorithm>

#include "core/errors.hpp"

namespace hpsearch {

using nlohmann::json;

MemoryStorage::MemoryStorage(ObjectiveMode mode, std::string objective_metric) : objective_metric_(std::move(objective_metric)) {
  history_.mode = mode;
}

TrialRecord& MemoryStorage::record(int number) {
  if (number < 0 || static_cast<std::size_t>(number) >= history_.trials.size()) {
    throw Error("MemoryStorage: no trial " + std::to_string(number));
  }
  return history_.trials[static_cast<std::size_t>(number)];
}

const MemoryStorage::Extra& MemoryStorage::extra(int number) const {
  if (number < 0 || static_cast<std::size_t>(number) >= extras_.size()) throw Error("MemoryStorage: no trial " + std::to_string(number));
  return extras_[static_cast<std::size_t>(number)];
}

void MemoryStorage::start_trial(int number, const std::vector<double>& point, const json& config, int worker) {
  const auto index = static_cast<std::size_t>(number);
  const bool rerun = number >= 0 && index < history_.trials.size();
  // Checked before anything changes, as every precondition here (the call then changes nothing).
  if (!rerun && index != history_.trials.size()) throw Error("start_trial: trial " + std::to_string(number) + " skips a number");
  if (rerun && is_finished(history_.trials[index].state)) throw Error("start_trial: trial " + std::to_string(number) + " is finished");
  if (!rerun) {
    history_.trials.emplace_back();
    extras_.emplace_back();
  }
  TrialRecord& t = history_.trials[index];
  Extra& e = extras_[index];
  // As SqliteStorage: an attempt that ended without a result (RUNNING: the search died;
  // INTERRUPTED: a signal) is kept; a WAITING trial got its new attempt from retry_trial.
  if (rerun && (t.state == TrialState::Running || t.state == TrialState::Interrupted)) {
    const bool interrupted = t.state == TrialState::Interrupted;
    const std::string error = t.error.empty() ? "the search ended while the trial ran (killed, crashed, or its node was lost)" : t.error;
    e.attempts.push_back({e.attempt, interrupted ? "INTERRUPTED" : "KILLED", error, e.worker});
    ++e.attempt;
  }
  e.worker = worker;
  e.config = config;
  e.steps.clear();
  t = TrialRecord{number, TrialState::Running, point, std::nullopt, {}, {}};  // no value, steps or error yet
}

void MemoryStorage::record_step(int number, int step, const json& metrics) {
  TrialRecord& t = record(number);
  json report = {{"step", step}};
  report.update(metrics);
  extras_[static_cast<std::size_t>(number)].steps.push_back(std::move(report));
  if (metrics.contains(objective_metric_) && metrics[objective_metric_].is_number()) {
    t.intermediate.emplace_back(step, metrics[objective_metric_].get<double>());
  }
}

void MemoryStorage::finish_trial(int number, TrialState state, std::optional<double> value, const std::string& error) {
  TrialRecord& t = record(number);
  t.state = state;
  t.value = value;
  t.error = error;
}

void MemoryStorage::retry_trial(int number, const std::string& ended_as, const std::string& error, const std::string& waiting_reason) {
  TrialRecord& t = record(number);
  Extra& e = extras_[static_cast<std::size_t>(number)];
  e.attempts.push_back({e.attempt, ended_as, error, e.worker});
  ++e.attempt;
  e.steps.clear();
  t.state = TrialState::Waiting;
  t.value.reset();
  t.intermediate.clear();
  t.error = waiting_reason;
}

void MemoryStorage::interrupt_trials(const std::vector<int>& numbers, const std::string& reason) {
  for (int number : numbers) record(number);  // all or none
  for (int number : numbers) {
    TrialRecord& t = record(number);
    t.state = TrialState::Interrupted;
    t.error = reason;
  }
}

int MemoryStorage::attempts_ended_as(int number, const std::string& ended_as) const {
  if (number < 0 || static_cast<std::size_t>(number) >= extras_.size()) return 0;  // as the SQL count of no rows
  const auto& attempts = extras_[static_cast<std::size_t>(number)].attempts;
  return static_cast<int>(std::count_if(attempts.begin(), attempts.end(), [&](const Attempt& a) { return a.state == ended_as; }));
}

int MemoryStorage::attempt(int number) const { return extra(number).attempt; }
const std::vector<MemoryStorage::Attempt>& MemoryStorage::attempts(int number) const { return extra(number).attempts; }
const std::vector<json>& MemoryStorage::steps(int number) const { return extra(number).steps; }
int MemoryStorage::worker(int number) const { return extra(number).worker; }
const json& MemoryStorage::config(int number) const { return extra(number).config; }

}  // namespace hpsearch
