// A trial's value as the trial runner sets it from the reports (objective.use): the best or the
// last trained step, never step 0 (the untrained model), for every trainer alike.
#include <gtest/gtest.h>

#include <map>

#include "worker/trial_runner.hpp"

using namespace hpsearch;
using nlohmann::json;

namespace {

// Reports `values` (step -> objective) in step order and returns `returned`.
class ReportingTrainer : public Trainer {
 public:
  ReportingTrainer(std::map<int, double> values, double returned) : values_(std::move(values)), returned_(returned) {}
  double run(const TrialContext& trial, StepReporter& reporter) override {
    steps = 0;
    for (const auto& [step, value] : values_) {
      ++steps;
      if (!reporter.report(step, {{trial.objective_metric, value}})) break;
    }
    return returned_;
  }
  int steps = 0;

 private:
  std::map<int, double> values_;
  double returned_;
};

protocol::TrialResult run_with(ReportingTrainer& trainer, ObjectiveUse use, json config = json::object(),
                               ObjectiveMode mode = ObjectiveMode::Minimize) {
  const StepChannel channel = [](const protocol::StepReport&) { return true; };
  return run_trial(trainer, {1, std::move(config), "/tmp/unused"}, "valid_loss", channel, mode, nullptr, nullptr, use);
}

}  // namespace

TEST(TrialValue, IsTheBestTrainedStepNotTheUntrainedStepZero) {
  ReportingTrainer trainer({{0, 0.1}, {1, 0.5}, {2, 0.3}, {3, 0.4}}, 0.1);
  const auto r = run_with(trainer, ObjectiveUse::Best);
  EXPECT_EQ(r.state, TrialState::Complete);
  ASSERT_TRUE(r.value.has_value());
  EXPECT_DOUBLE_EQ(*r.value, 0.3);
}

TEST(TrialValue, IsTheLastTrainedStepWithUseLast) {
  ReportingTrainer trainer({{0, 0.1}, {1, 0.5}, {2, 0.3}, {3, 0.4}}, 0.3);
  const auto r = run_with(trainer, ObjectiveUse::Last);
  ASSERT_TRUE(r.value.has_value());
  EXPECT_DOUBLE_EQ(*r.value, 0.4);
}

TEST(TrialValue, FollowsTheModeAndKeepsTheReturnedValueWithoutTrainedSteps) {
  ReportingTrainer maximize({{0, 0.9}, {1, 0.5}, {2, 0.7}}, 0.9);
  EXPECT_DOUBLE_EQ(*run_with(maximize, ObjectiveUse::Best, json::object(), ObjectiveMode::Maximize).value, 0.7);
  ReportingTrainer silent({}, 7);
  EXPECT_DOUBLE_EQ(*run_with(silent, ObjectiveUse::Best).value, 7);
  ReportingTrainer only_step_zero({{0, 0.1}}, 2);
  EXPECT_DOUBLE_EQ(*run_with(only_step_zero, ObjectiveUse::Best).value, 2);
}

TEST(TrialValue, PatienceWaitsToBeatTheBestTrainedStepNotStepZero) {
  // Counting step 0 as the best would stop after step 2 with the untrained value 0.1.
  ReportingTrainer trainer({{0, 0.1}, {1, 0.5}, {2, 0.4}, {3, 0.45}, {4, 0.46}, {5, 0.2}}, 0.2);
  const auto r = run_with(trainer, ObjectiveUse::Best, {{"early_stopping", 2}});
  EXPECT_EQ(trainer.steps, 5);  // steps 0..4
  EXPECT_EQ(r.state, TrialState::Complete);
  EXPECT_DOUBLE_EQ(*r.value, 0.4);
  EXPECT_EQ(r.error, "early stopping after step 4: no improvement for 2 steps; best 0.4 at step 2");
}
