#pragma once
// A study kept in memory, with the semantics of SqliteStorage (the contract of storage.hpp): the
// same history after each call, the same attempts, nothing on disk. For tests of the master, which
// then run without a database file; a test can prepare what a dead run left (start_trial with no
// finish_trial: a RUNNING trial) and read back the attempts and steps the master wrote.
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "study/storage.hpp"

namespace hpsearch {

class MemoryStorage : public Storage {
 public:
  // An earlier attempt of a trial, as SqliteStorage keeps it in table `attempts`.
  struct Attempt {
    int attempt = 1;
    std::string state;  // FAIL, LOST, INTERRUPTED, KILLED
    std::string error;
    int worker = 0;
  };

  // `objective_metric`: the reported metric whose values are the trials' intermediate values.
  explicit MemoryStorage(ObjectiveMode mode = ObjectiveMode::Minimize, std::string objective_metric = "value");

  const StudyHistory& history() const override { return history_; }
  void start_trial(int number, const std::vector<double>& point, const nlohmann::json& config, int worker) override;
  void record_step(int number, int step, const nlohmann::json& metrics) override;
  void finish_trial(int number, TrialState state, std::optional<double> value, const std::string& error) override;
  void retry_trial(int number, const std::string& ended_as, const std::string& error, const std::string& waiting_reason) override;
  void interrupt_trials(const std::vector<int>& numbers, const std::string& reason) override;
  int attempts_ended_as(int number, const std::string& ended_as) const override;
  void refresh_lock() override { ++lock_refreshes_; }

  // What a test reads back of trial `number` (Error when there is no such trial).
  int attempt(int number) const;                               // its current attempt, 1 for its first run
  const std::vector<Attempt>& attempts(int number) const;      // its earlier attempts, oldest first
  const std::vector<nlohmann::json>& steps(int number) const;  // its current attempt's reports: {"step": k, METRIC: v, ...}
  int worker(int number) const;                                // the worker of its current attempt
  const nlohmann::json& config(int number) const;
  int lock_refreshes() const { return lock_refreshes_; }

 private:
  // What SqliteStorage keeps in its tables beside the history.
  struct Extra {
    int attempt = 1;
    int worker = 0;
    nlohmann::json config;
    std::vector<nlohmann::json> steps;
    std::vector<Attempt> attempts;
  };
  TrialRecord& record(int number);
  const Extra& extra(int number) const;

  std::string objective_metric_;
  StudyHistory history_;
  std::vector<Extra> extras_;  // by trial number, beside history_.trials
  int lock_refreshes_ = 0;
};

}  // namespace hpsearch
