#pragma once
// Every trainer by its name: the one place that knows them all, so it links LibTorch (the
// classify, detect and forecast trainers) besides the LibTorch-free ones of trainers/core/.
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/settings.hpp"
#include "trainers/core/trainer.hpp"

namespace hpsearch {

// Builds the trainer named by the space file's `trainer` object and checks its settings; `file`
// names the space file in errors (FileError at "trainer.KEY"). Cheap: data is loaded on first run.
std::unique_ptr<Trainer> make_trainer(const nlohmann::json& settings, const std::string& file);

// What the trainer runs, for a search's start line: "command trainer running python3 train.py
// --config {config}", "synthetic trainer (branin)", "classify trainer on cpu (2 threads, LibTorch
// 1.13.0)". `settings` were checked by make_trainer.
std::string describe_trainer(const nlohmann::json& settings);

// How the trainer's trials advance, for the progress line: what its steps are called, and the step
// of a trial's last report given the trial's configuration, when known before it runs (the
// LibTorch trainers report epochs 0..epochs, a synthetic learning curve steps 1..steps; a
// command's program may report anything: never known).
struct StepPlan {
  std::string unit = "step";
  std::function<std::optional<int>(const nlohmann::json& config)> last_step;
};
StepPlan step_plan(const nlohmann::json& settings);

// make_trainer's checks, before a search or a train: returns the table of the configuration keys
// that trainer reads (classify, detect, forecast), against which the constant parameters are
// checked before any trial runs, or null for the trainers that take any configuration (a
// command's script reads what it likes; the synthetic functions read x1..xN and ignore the rest).
const settings::Table* check_trainer(const nlohmann::json& settings, const std::string& file);

}  // namespace hpsearch
