#pragma once
// The trainer interface: run one resolved configuration, report metrics per step, return the
// objective. Torch-free, so that the master can validate trainer settings without LibTorch types.
//
// Failure contract: a trainer throws (any std::exception) when the trial fails; the worker records
// FAIL with the exception's message and takes the next trial. A non-finite objective is a failure
// too (checked by the worker). When `StepReporter::report` returns false the master has stopped
// the trial (pruning): the trainer returns promptly with the last value it had.
#include <filesystem>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "search/history.hpp"

namespace hpsearch {

struct TrialContext {
  int number = 0;                    // trial number in the study
  nlohmann::json config;             // the resolved configuration
  std::filesystem::path trial_dir;   // a folder for the trial's files; created by the trainer if it needs one
  std::string objective_metric;      // the metric whose value is the objective ("value", "valid_loss")
  ObjectiveMode mode = ObjectiveMode::Minimize;  // whether lower or higher objective values are better
};

class StepReporter {
 public:
  virtual ~StepReporter() = default;
  // Sends {step, metrics...} to the master; false means "stop this trial now".
  virtual bool report(int step, const nlohmann::json& metrics) = 0;
};

class Trainer {
 public:
  virtual ~Trainer() = default;
  // Returns the objective's final value. Called many times on one object (one trainer per worker
  // for a whole search), so expensive set-up such as loading a data set is done once and kept.
  virtual double run(const TrialContext& trial, StepReporter& reporter) = 0;
};

// Builds the trainer named by the space file's `trainer` object and checks its settings; `file`
// names the space file in errors (FileError at "trainer.KEY"). Cheap: data is loaded on first run.
std::unique_ptr<Trainer> make_trainer(const nlohmann::json& settings, const std::string& file);

}  // namespace hpsearch
