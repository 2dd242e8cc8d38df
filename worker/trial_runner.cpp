#include "worker/trial_runner.hpp"

#include <cmath>

namespace hpsearch {

namespace {

class ChannelReporter : public StepReporter {
 public:
  ChannelReporter(int trial, const StepChannel& channel) : trial_(trial), channel_(channel) {}
  bool report(int step, const nlohmann::json& metrics) override {
    last_step_ = step;
    if (stopped_) return false;
    stopped_ = !channel_({trial_, step, metrics});
    return !stopped_;
  }
  bool stopped() const { return stopped_; }
  int last_step() const { return last_step_; }

 private:
  int trial_;
  const StepChannel& channel_;
  bool stopped_ = false;
  int last_step_ = 0;
};

}  // namespace

protocol::TrialResult run_trial(Trainer& trainer, const protocol::TrialAssignment& trial, const std::string& objective_metric,
                                const StepChannel& channel) {
  protocol::TrialResult result;
  result.trial = trial.trial;
  ChannelReporter reporter(trial.trial, channel);
  try {
    const TrialContext context{trial.trial, trial.config, trial.trial_dir, objective_metric};
    const double value = trainer.run(context, reporter);
    if (reporter.stopped()) {
      result.state = TrialState::Pruned;
      if (std::isfinite(value)) result.value = value;
      result.error = "stopped by the master after step " + std::to_string(reporter.last_step());
    } else if (!std::isfinite(value)) {
      result.state = TrialState::Fail;
      result.error = "the objective '" + objective_metric + "' is " + (std::isnan(value) ? "NaN" : "infinite");
    } else {
      result.state = TrialState::Complete;
      result.value = value;
    }
  } catch (const std::exception& e) {
    result.state = TrialState::Fail;
    result.error = e.what();
  } catch (...) {
    result.state = TrialState::Fail;
    result.error = "the trainer threw an exception that is not a std::exception";
  }
  return result;
}

}  // namespace hpsearch
