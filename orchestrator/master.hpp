#pragma once
// The master's loop: samples configurations, writes each trial RUNNING before handing it to an
// idle worker, records step reports and results, and answers each step with continue/stop.
// The protocol it follows is written in protocol.hpp.
#include <chrono>
#include <filesystem>
#include <map>
#include <string>

#include "orchestrator/progress.hpp"
#include "orchestrator/sqlite_storage.hpp"
#include "orchestrator/worker_pool.hpp"
#include "search/pruners/pruner.hpp"
#include "search/sampler.hpp"
#include "search/space.hpp"

namespace hpsearch {

struct MasterOptions {
  int trials = 100;                    // the study's total number of trials
  std::filesystem::path trial_root;    // trial k's folder is trial_root / "k"
  Progress::Style progress = Progress::Style::Plain;
  const Pruner* pruner = nullptr;      // asked after each step whether the trial goes on; null: always
};

struct SearchOutcome {
  int started = 0;   // trials started by this run
  int complete = 0, pruned = 0, failed = 0;
  // Where the master's time went, in seconds: the loop from start to end, and the parts of it
  // spent sampling, writing the database and handling messages (the rest is waiting for workers).
  double wall_s = 0, sampler_s = 0, storage_s = 0, messaging_s = 0;
  // Pruning decisions: how many were asked and the time they took (not part of messaging_s).
  long long decisions = 0;
  double pruner_s = 0;
};

class Master {
 public:
  Master(SqliteStorage& storage, Sampler& sampler, const SearchSpace& space, WorkerPool& workers, MasterOptions options);
  // Runs until the study holds `trials` finished trials; trials a dead run left RUNNING or WAITING
  // are run again first, with their number and configuration.
  SearchOutcome run();

 private:
  // Records a step report; the answer is whether the trial goes on.
  bool on_step(const protocol::StepReport& step);
  void start_trial(int worker, int number);

  std::map<int, std::string> stop_reasons_;  // trial -> why the pruner stopped it, until its RESULT

  SearchOutcome outcome_;
  SqliteStorage& storage_;
  Sampler& sampler_;
  const SearchSpace& space_;
  WorkerPool& workers_;
  MasterOptions options_;
};

}  // namespace hpsearch
