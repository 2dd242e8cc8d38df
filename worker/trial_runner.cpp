#include "worker/trial_runner.hpp"

#include <c10/util/Exception.h>
#include <torch/cuda.h>

#include <cmath>
#include <limits>
#include <sstream>

#include "core/errors.hpp"

// The caching allocator lives in c10_cuda, which only CUDA builds of LibTorch have (the CPU
// build installs the header all the same): CMake defines HPSEARCH_WITH_CUDA when it links it.
#if defined(HPSEARCH_WITH_CUDA) && __has_include(<c10/cuda/CUDACachingAllocator.h>)
#include <c10/cuda/CUDACachingAllocator.h>
#define HPSEARCH_CAN_EMPTY_CUDA_CACHE 1
#endif

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

bool says_out_of_memory(const std::string& message) { return message.find("out of memory") != std::string::npos; }

// Sends each step to the master and applies the patience rule after the master's answer.
class ChannelReporter : public StepReporter {
 public:
  ChannelReporter(int trial, const StepChannel& channel, const std::string& metric, ObjectiveMode mode, int patience,
                  const std::atomic<bool>* cancel)
      : trial_(trial), channel_(channel), metric_(metric), mode_(mode), patience_(patience), cancel_(cancel) {}
  bool stop_requested() const override { return cancel_ && cancel_->load(); }
  bool report(int step, const nlohmann::json& metrics) override {
    last_step_ = step;
    if (stopped_ || early_stopped_) return false;
    if (stop_requested()) {
      stopped_ = true;  // the master is gone or leaving: nobody to ask
      return false;
    }
    stopped_ = !channel_({trial_, step, metrics});
    if (stopped_) return false;
    // Step 0 (the untrained model) is kept as a reference but is not a best to beat: patience
    // counts from the best trained step.
    if (!metrics.is_object() || !metrics.contains(metric_) || !metrics[metric_].is_number()) return true;
    const double value = metrics[metric_].get<double>();
    steps_.emplace_back(step, value);
    if (step >= 1) {
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
  // The objective at each step reported, step 0 included.
  const std::vector<std::pair<int, double>>& steps() const { return steps_; }

 private:
  int trial_;
  const StepChannel& channel_;
  const std::string& metric_;
  ObjectiveMode mode_;
  int patience_;
  bool stopped_ = false, early_stopped_ = false;
  int last_step_ = 0, best_step_ = 0, since_best_ = 0;
  std::optional<double> best_;
  std::vector<std::pair<int, double>> steps_;
  double best_loss_ = std::numeric_limits<double>::infinity();
  const std::atomic<bool>* cancel_;
};

}  // namespace

protocol::TrialResult run_trial(Trainer& trainer, const protocol::TrialAssignment& trial, const std::string& objective_metric,
                                const StepChannel& channel, ObjectiveMode mode, const std::atomic<bool>* cancel, Communicator* group,
                                ObjectiveUse use) {
  protocol::TrialResult result;
  result.trial = trial.trial;
  try {
    ChannelReporter reporter(trial.trial, channel, objective_metric, mode, patience_of(trial.config), cancel);
    const TrialContext context{trial.trial, trial.config, trial.trial_dir, objective_metric, mode, group};
    const double returned = trainer.run(context, reporter);
    // The value is decided here, from the reports, for every trainer alike (objective.use); a
    // trainer that reported no trained step keeps the value it returned, and a non-finite
    // returned value (a diverged run) still fails the trial.
    const std::optional<StepValue> reported = objective_from_steps(reporter.steps(), mode, use);
    const double value = reported && std::isfinite(returned) ? reported->value : returned;
    if (reporter.early_stopped() && reporter.best()) {
      result.state = TrialState::Complete;
      result.value = value;
      std::ostringstream why;
      why.precision(6);
      why << "early stopping after step " << reporter.last_step() << ": no improvement for " << reporter.patience() << " step"
          << (reporter.patience() == 1 ? "" : "s") << "; best " << *reporter.best() << " at step " << reporter.best_step();
      result.error = why.str();
    } else if (reporter.stopped()) {
      result.state = TrialState::Pruned;
      if (std::isfinite(returned)) result.value = returned;  // as far as it got, the trainer's word
      result.error = "stopped by the master after step " + std::to_string(reporter.last_step());
    } else if (!std::isfinite(value)) {
      result.state = TrialState::Fail;
      result.error = "the objective '" + objective_metric + "' is " + (std::isnan(value) ? "NaN" : "infinite");
    } else {
      result.state = TrialState::Complete;
      result.value = value;
    }
  } catch (const c10::Error& e) {
    // LibTorch's errors (c10::OutOfMemoryError is one): the message without the C++ backtrace.
    result.state = TrialState::Fail;
    result.error = e.what_without_backtrace();
  } catch (const std::exception& e) {
    result.state = TrialState::Fail;
    result.error = e.what();
  } catch (...) {
    result.state = TrialState::Fail;
    result.error = "the trainer threw an exception that is not a std::exception";
  }
  if (result.state == TrialState::Fail && says_out_of_memory(result.error)) {
    // One reason for every version and wording, so that summaries and retries can tell it apart.
    if (result.error.rfind("CUDA out of memory", 0) != 0) result.error = "CUDA out of memory: " + result.error;
    release_cuda_cache();
  }
  return result;
}

void release_cuda_cache() {
#ifdef HPSEARCH_CAN_EMPTY_CUDA_CACHE
  // The failed trial's tensors are gone with its stack; what the allocator still caches would
  // otherwise stay reserved and make the next trial on this GPU fail too.
  if (torch::cuda::is_available()) c10::cuda::CUDACachingAllocator::emptyCache();
#endif
}

}  // namespace hpsearch
