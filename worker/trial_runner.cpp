#include "worker/trial_runner.hpp"

#include <cmath>
#include <limits>
#include <sstream>

#include "search/errors.hpp"

namespace hpsearch {

namespace {

// The configuration's `early_stopping` (patience in steps); 0 when off.
int patience_of(const nlohmann::json& config) {
  if (!config.is_object() || !config.contains("early_stopping") || config["early_stopping"].is_null()) return 0;
  const auto& p = config["early_stopping"];
  if (!p.is_number() || p.get<double>() < 0 || p.get<double>() != std::floor(p.get<double>()) || p.get<double>() > 1e9) {
    throw Error("configuration key 'early_stopping' must be a non-negative integer (patience in steps; 0: off), got " + p.dump());
  }
  return static_cast<int>(p.get<double>());
}

// Sends each step to the master and applies the patience rule after the master's answer.
class ChannelReporter : public StepReporter {
 public:
  ChannelReporter(int trial, const StepChannel& channel, const std::string& metric, ObjectiveMode mode, int patience)
      : trial_(trial), channel_(channel), metric_(metric), mode_(mode), patience_(patience) {}
  bool report(int step, const nlohmann::json& metrics) override {
    last_step_ = step;
    if (stopped_ || early_stopped_) return false;
    stopped_ = !channel_({trial_, step, metrics});
    if (stopped_) return false;
    if (metrics.is_object() && metrics.contains(metric_) && metrics[metric_].is_number()) {
      const double value = metrics[metric_].get<double>();
      const double loss = mode_ == ObjectiveMode::Minimize ? value : -value;
      if (std::isfinite(loss) && (!best_ || loss < best_loss_)) {
        best_ = value;
        best_loss_ = loss;
        best_step_ = step;
        since_best_ = 0;
      } else {
        ++since_best_;
      }
      if (patience_ > 0 && since_best_ >= patience_) early_stopped_ = true;
    }
    return !early_stopped_;
  }
  bool stopped() const { return stopped_; }
  bool early_stopped() const { return early_stopped_; }
  int last_step() const { return last_step_; }
  std::optional<double> best() const { return best_; }
  int best_step() const { return best_step_; }
  int patience() const { return patience_; }

 private:
  int trial_;
  const StepChannel& channel_;
  const std::string& metric_;
  ObjectiveMode mode_;
  int patience_;
  bool stopped_ = false, early_stopped_ = false;
  int last_step_ = 0, best_step_ = 0, since_best_ = 0;
  std::optional<double> best_;
  double best_loss_ = std::numeric_limits<double>::infinity();
};

}  // namespace

protocol::TrialResult run_trial(Trainer& trainer, const protocol::TrialAssignment& trial, const std::string& objective_metric,
                                const StepChannel& channel, ObjectiveMode mode) {
  protocol::TrialResult result;
  result.trial = trial.trial;
  try {
    ChannelReporter reporter(trial.trial, channel, objective_metric, mode, patience_of(trial.config));
    const TrialContext context{trial.trial, trial.config, trial.trial_dir, objective_metric, mode};
    const double value = trainer.run(context, reporter);
    if (reporter.early_stopped() && reporter.best()) {
      result.state = TrialState::Complete;
      result.value = reporter.best();
      std::ostringstream why;
      why.precision(6);
      why << "early stopping after step " << reporter.last_step() << ": no improvement for " << reporter.patience()
          << " step" << (reporter.patience() == 1 ? "" : "s") << "; best " << *reporter.best() << " at step " << reporter.best_step();
      result.error = why.str();
    } else if (reporter.stopped()) {
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
