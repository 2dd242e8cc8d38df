#include <gtest/gtest.h>

#include "orchestrator/progress.hpp"

namespace hpsearch {
namespace {

TrialRecord finished(int number, TrialState state, std::optional<double> value) {
  TrialRecord t;
  t.number = number;
  t.state = state;
  t.value = value;
  return t;
}

// A resumed search shows the study's figures: the trials an earlier run finished count as done,
// failed and pruned, and the best value is the study's, not only this run's.
TEST(Progress, ResumedSearchCountsTheStudysEarlierTrials) {
  StudyHistory before;
  before.mode = ObjectiveMode::Minimize;
  before.trials = {finished(0, TrialState::Complete, 6.486), finished(1, TrialState::Fail, std::nullopt),
                   finished(2, TrialState::Pruned, 0.5),  // a pruned trial's value is never the best
                   finished(3, TrialState::Interrupted, std::nullopt), finished(4, TrialState::Complete, 30.3)};
  Progress progress(10, before, Progress::Style::None);
  EXPECT_NE(progress.line().find("4/10 done, 0 running, 1 failed, 1 pruned, best 6.486 (#0)"), std::string::npos) << progress.line();

  progress.trial_started();  // trial 3 again
  progress.trial_finished(TrialState::Complete, 7.0, 3);
  EXPECT_NE(progress.line().find("5/10 done, 0 running, 1 failed, 1 pruned, best 6.486 (#0)"), std::string::npos) << progress.line();
  progress.trial_started();
  progress.trial_finished(TrialState::Complete, 1.25, 5);
  EXPECT_NE(progress.line().find("6/10 done, 0 running, 1 failed, 1 pruned, best 1.25 (#5)"), std::string::npos) << progress.line();
}

TEST(Progress, MaximizeKeepsTheLargestValue) {
  StudyHistory before;
  before.mode = ObjectiveMode::Maximize;
  before.trials = {finished(0, TrialState::Complete, 0.81), finished(1, TrialState::Complete, 0.74)};
  Progress progress(4, before, Progress::Style::None);
  progress.trial_started();
  progress.trial_finished(TrialState::Complete, 0.79, 2);
  EXPECT_NE(progress.line().find("3/4 done, 0 running, 0 failed, best 0.81 (#0)"), std::string::npos) << progress.line();
}

}  // namespace
}  // namespace hpsearch
