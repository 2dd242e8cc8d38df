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

  progress.trial_started(3, std::nullopt);  // trial 3 again
  progress.trial_finished(TrialState::Complete, 7.0, 3);
  EXPECT_NE(progress.line().find("5/10 done, 0 running, 1 failed, 1 pruned, best 6.486 (#0)"), std::string::npos) << progress.line();
  progress.trial_started(5, std::nullopt);
  progress.trial_finished(TrialState::Complete, 1.25, 5);
  EXPECT_NE(progress.line().find("6/10 done, 0 running, 1 failed, 1 pruned, best 1.25 (#5)"), std::string::npos) << progress.line();
}

TEST(Progress, MaximizeKeepsTheLargestValue) {
  StudyHistory before;
  before.mode = ObjectiveMode::Maximize;
  before.trials = {finished(0, TrialState::Complete, 0.81), finished(1, TrialState::Complete, 0.74)};
  Progress progress(4, before, Progress::Style::None);
  progress.trial_started(2, std::nullopt);
  progress.trial_finished(TrialState::Complete, 0.79, 2);
  EXPECT_NE(progress.line().find("3/4 done, 0 running, 0 failed, best 0.81 (#0)"), std::string::npos) << progress.line();
}

// A clock that moves only when the test says so.
struct TestClock {
  Progress::Clock::time_point now{};
  void advance(double seconds) { now += std::chrono::duration_cast<Progress::Clock::duration>(std::chrono::duration<double>(seconds)); }
};

Progress progress_on(TestClock& clock, int total) {
  StudyHistory none;
  return Progress(total, none, Progress::Style::None, "epoch", stderr, std::chrono::seconds(10), [&clock] { return clock.now; });
}

// Before any trial finishes, the step reports give the estimate: one trial of 10 epochs at epoch 2
// after 20 s is a fifth of a trial in 20 s, so 10 trials take 1000 s, 980 s of them left.
TEST(Progress, EstimatesFromStepReportsBeforeTheFirstTrialFinishes) {
  TestClock clock;
  Progress progress = progress_on(clock, 10);
  progress.trial_started(0, 10);
  EXPECT_FALSE(progress.seconds_left());  // nothing reported yet: "? left"
  EXPECT_NE(progress.line().find("1 running (#0 starting)"), std::string::npos) << progress.line();
  EXPECT_NE(progress.line().find("? left"), std::string::npos) << progress.line();
  clock.advance(20);
  progress.trial_step(0, 2);
  ASSERT_TRUE(progress.seconds_left());
  EXPECT_NEAR(*progress.seconds_left(), 980, 1e-6);
  EXPECT_NE(progress.line().find("1 running (#0 epoch 2/10)"), std::string::npos) << progress.line();
}

// Between events the estimate counts down; it does not grow because time passes with no report.
TEST(Progress, EstimateCountsDownBetweenEvents) {
  TestClock clock;
  Progress progress = progress_on(clock, 4);
  progress.trial_started(0, std::nullopt);
  clock.advance(10);
  progress.trial_finished(TrialState::Complete, 1.0, 0);  // 1 trial in 10 s: 30 s for the 3 left
  progress.trial_started(1, std::nullopt);
  EXPECT_NEAR(*progress.seconds_left(), 30, 1e-6);
  clock.advance(8);
  EXPECT_NEAR(*progress.seconds_left(), 22, 1e-6);
  clock.advance(30);
  EXPECT_NEAR(*progress.seconds_left(), 0, 1e-6);         // late, never negative
  progress.trial_finished(TrialState::Complete, 2.0, 1);  // slower than thought: 2 trials in 48 s, 48 s for 2 more
  EXPECT_NEAR(*progress.seconds_left(), 48, 1e-6);
}

// Trials without a known length (a command's program) count only once finished; several running
// trials are listed by number, the first three, then how many more.
TEST(Progress, ListsRunningTrialsAndWaitsForACompletionWithoutKnownLengths) {
  TestClock clock;
  Progress progress = progress_on(clock, 10);
  for (int k = 0; k < 5; ++k) progress.trial_started(k, std::nullopt);
  clock.advance(5);
  progress.trial_step(1, 3);
  EXPECT_FALSE(progress.seconds_left());
  EXPECT_NE(progress.line().find("5 running (#0 starting, #1 epoch 3, #2 starting, +2 more)"), std::string::npos) << progress.line();
  progress.trial_stopped(0);  // its worker lost: runs again later
  EXPECT_NE(progress.line().find("4 running (#1 epoch 3,"), std::string::npos) << progress.line();
}

}  // namespace
}  // namespace hpsearch
