// The patience rule of the trial runner (early_stopping in a configuration): when a trial stops
// for want of improvement, the value it keeps, and how it meets the master's own stop.
#include <gtest/gtest.h>

#include <cmath>

#include "worker/trial_runner.hpp"

using namespace hpsearch;
using nlohmann::json;

namespace {

// Reports `values` at steps 1, 2, ... and returns the last one reported, as trainers do.
class ScriptedTrainer : public Trainer {
 public:
  explicit ScriptedTrainer(std::vector<double> values) : values_(std::move(values)) {}
  double run(const TrialContext& trial, StepReporter& reporter) override {
    double last = NAN;
    steps = 0;
    for (std::size_t i = 0; i < values_.size(); ++i) {
      last = values_[i];
      ++steps;
      if (!reporter.report(static_cast<int>(i) + 1, {{trial.objective_metric, last}})) break;
    }
    return last;
  }
  int steps = 0;

 private:
  std::vector<double> values_;
};

protocol::TrialResult run_with(ScriptedTrainer& trainer, json config, ObjectiveMode mode, int stop_at = 0) {
  const StepChannel channel = [stop_at](const protocol::StepReport& s) { return stop_at == 0 || s.step < stop_at; };
  return run_trial(trainer, {3, std::move(config), "/tmp/unused"}, "value", channel, mode);
}

}  // namespace

TEST(Patience, StopsAfterPatienceStepsWithoutStrictImprovementAndKeepsTheBest) {
  ScriptedTrainer trainer({5, 4, 4, 3.9, 3.95, 3.95, 1, 1});
  const auto r = run_with(trainer, {{"early_stopping", 2}, {"lr", 0.1}}, ObjectiveMode::Minimize);
  EXPECT_EQ(trainer.steps, 6);
  EXPECT_EQ(r.state, TrialState::Complete);
  ASSERT_TRUE(r.value.has_value());
  EXPECT_DOUBLE_EQ(*r.value, 3.9);
  EXPECT_EQ(r.error, "early stopping after step 6: no improvement for 2 steps; best 3.9 at step 4");
}

TEST(Patience, FollowsTheObjectiveMode) {
  ScriptedTrainer trainer({1, 2, 2, 1.5, 3});
  const auto r = run_with(trainer, {{"early_stopping", 2}}, ObjectiveMode::Maximize);
  EXPECT_EQ(trainer.steps, 4);
  EXPECT_EQ(r.state, TrialState::Complete);
  EXPECT_DOUBLE_EQ(*r.value, 2);
}

TEST(Patience, IsOffWithoutTheKeyOrAtZeroAndTheMastersStopComesFirst) {
  ScriptedTrainer trainer({5, 5, 5, 5});
  auto r = run_with(trainer, json::object(), ObjectiveMode::Minimize);
  EXPECT_EQ(trainer.steps, 4);
  EXPECT_EQ(r.state, TrialState::Complete);
  EXPECT_TRUE(r.error.empty());
  r = run_with(trainer, {{"early_stopping", 0}}, ObjectiveMode::Minimize);
  EXPECT_EQ(trainer.steps, 4);
  r = run_with(trainer, {{"early_stopping", 2}}, ObjectiveMode::Minimize, /*stop_at=*/2);
  EXPECT_EQ(r.state, TrialState::Pruned);
  EXPECT_EQ(trainer.steps, 2);
  r = run_with(trainer, {{"early_stopping", "two"}}, ObjectiveMode::Minimize);
  EXPECT_EQ(r.state, TrialState::Fail);
  EXPECT_NE(r.error.find("early_stopping"), std::string::npos);
}
