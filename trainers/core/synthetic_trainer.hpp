#pragma once
// {"type": "synthetic", "function": NAME, "steps": S, "noise": SD, "sleep_ms": MS}
//
// Evaluates a standard test function (synthetic_functions.hpp) on the configuration's top-level
// keys x1 .. xN. `learning_curve` reports its value at each of `steps` steps (default 81) as the
// metric "value", so that pruning can be tested; the others report nothing and return at once
// (zero work: the orchestration benchmark). `noise` adds Gaussian noise of that standard deviation,
// seeded by (trial number, step) so a re-run trial gives the same numbers. `sleep_ms` waits that
// long per step (per trial for functions without steps), to imitate training time.
#include <string>

#include "core/settings.hpp"
#include "trainers/core/trainer.hpp"

namespace hpsearch {

// The declarations of the trainer's settings (the space file's "trainer" object): what it accepts
// and the README's table of them.
const settings::Table& synthetic_settings_table();

class SyntheticTrainer : public Trainer {
 public:
  SyntheticTrainer(const nlohmann::json& settings, const std::string& file);
  double run(const TrialContext& trial, StepReporter& reporter) override;
  int steps() const { return steps_; }  // the steps each trial reports (0: none)

 private:
  std::string function_;
  int steps_ = 0;
  double noise_ = 0;
  double sleep_ms_ = 0;
};

}  // namespace hpsearch
