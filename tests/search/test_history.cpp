// objective_from_steps: which reported value is a trial's (objective.use).
#include <gtest/gtest.h>

#include <cmath>

#include "search/history.hpp"

using namespace hpsearch;

TEST(ObjectiveFromSteps, SkipsStepZeroAndNonFiniteValues) {
  const std::vector<std::pair<int, double>> steps = {{0, 0.01}, {1, 0.5}, {2, NAN}, {3, 0.2}, {4, 0.3}};
  const auto best = objective_from_steps(steps, ObjectiveMode::Minimize, ObjectiveUse::Best);
  ASSERT_TRUE(best);
  EXPECT_EQ(best->step, 3);
  EXPECT_DOUBLE_EQ(best->value, 0.2);
  const auto last = objective_from_steps(steps, ObjectiveMode::Minimize, ObjectiveUse::Last);
  ASSERT_TRUE(last);
  EXPECT_EQ(last->step, 4);
  const auto highest = objective_from_steps(steps, ObjectiveMode::Maximize, ObjectiveUse::Best);
  EXPECT_EQ(highest->step, 1);
}

TEST(ObjectiveFromSteps, IsNothingWithoutATrainedStep) {
  EXPECT_FALSE(objective_from_steps({}, ObjectiveMode::Minimize, ObjectiveUse::Best));
  EXPECT_FALSE(objective_from_steps({{0, 0.1}}, ObjectiveMode::Minimize, ObjectiveUse::Last));
}

TEST(ObjectiveFromSteps, LastIsTheLatestStepEvenOutOfOrder) {
  const auto last = objective_from_steps({{2, 0.4}, {1, 0.5}}, ObjectiveMode::Minimize, ObjectiveUse::Last);
  EXPECT_EQ(last->step, 2);
}
