#pragma once
// The trainer interface: run one resolved configuration, report metrics per step, return the
// objective. Torch-free, so that the master can validate trainer settings without LibTorch types.
//
// Failure contract: a trainer throws when the trial fails, an hpsearch::Error of its own making
// (ConfigError for a configuration value it cannot use, UserError for the user's data or files,
// Error for other faults; LibTorch's errors pass through); the worker records FAIL with the
// exception's message and takes the next trial. A non-finite objective is a failure too (checked
// by the worker). When `StepReporter::report` returns false the master has stopped
// the trial (pruning): the trainer returns promptly with the last value it had.
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "search/history.hpp"

namespace hpsearch {

class Communicator;  // comm/communicator.hpp

struct TrialContext {
  int number = 0;                                // trial number in the study
  nlohmann::json config;                         // the resolved configuration
  std::filesystem::path trial_dir;               // a folder for the trial's files; created by the trainer if it needs one
  std::string objective_metric;                  // the metric whose value is the objective ("value", "valid_loss")
  ObjectiveMode mode = ObjectiveMode::Minimize;  // whether lower or higher objective values are better
  // The ranks that train this trial together (--gpus-per-trial), or null when this rank trains it
  // alone. Only the group's rank 0 talks to the master: the other ranks' reporter is a sink.
  Communicator* group = nullptr;
};

// Creates the trial's folder and writes the resolved configuration into it as config.json, the
// file every trainer with a trial folder leaves there (the command trainer hands its path to the
// program), so that a folder says which configuration made it. Returns its path; throws Error
// when it cannot be written.
std::filesystem::path write_trial_config(const TrialContext& trial);

class StepReporter {
 public:
  virtual ~StepReporter() = default;
  // Sends {step, metrics...} to the master; false means "stop this trial now".
  virtual bool report(int step, const nlohmann::json& metrics) = 0;
  // True once the search is ending at once (a second stop signal, or the stop's time bound has
  // passed): a trainer inside a long step may look at it between batches and return, as if its
  // report had been answered "stop". The trial stays INTERRUPTED and is run again on resume, from
  // its last checkpoint, so nothing after that checkpoint needs saving.
  virtual bool stop_requested() const { return false; }
};

class Trainer {
 public:
  virtual ~Trainer() = default;
  // Returns the objective's final value. Called many times on one object (one trainer per worker
  // for a whole search), so expensive set-up such as loading a data set is done once and kept.
  virtual double run(const TrialContext& trial, StepReporter& reporter) = 0;
};

}  // namespace hpsearch
