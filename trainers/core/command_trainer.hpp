#pragma once
// {"type": "command", "argv": ["python3", "train.py", "--config", "{config}"], "timeout_s": 3600}
//
// Runs a user's training program, without a shell, in a process group of its own.
// Placeholders in argv: {config} (a file holding the resolved configuration as JSON),
// {trial} (the trial number), {trial_dir} (a folder for the trial's files).
//
// Protocol with the program: each stdout line that is a JSON object is a step report
// ({"step": 3, "valid_loss": 0.12}; without "step", reports are numbered 1, 2, ...). The trial's
// value is the last reported value of the objective metric. All other output, stdout and stderr,
// goes to {trial_dir}/log.txt. The trial fails, with the reason and the last lines of stderr, when
// the program exits non-zero, is killed by a signal, runs past timeout_s (its whole process group
// is killed), or never reports the objective. When the master stops the trial (pruning), the
// process group gets SIGTERM, then SIGKILL after a grace period.
#include <string>
#include <vector>

#include "core/settings.hpp"
#include "trainers/core/trainer.hpp"

namespace hpsearch {

// The declarations of the trainer's settings (the space file's "trainer" object): what it accepts
// and the README's table of them.
const settings::Table& command_settings_table();

class CommandTrainer : public Trainer {
 public:
  CommandTrainer(const nlohmann::json& settings, const std::string& file);
  double run(const TrialContext& trial, StepReporter& reporter) override;

 private:
  std::vector<std::string> argv_;
  double timeout_s_ = 3600;
};

}  // namespace hpsearch
