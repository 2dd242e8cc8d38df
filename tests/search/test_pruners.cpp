// Pruners against hand-computed cases (median with warm-up and interval, percentile, ASHA rungs
// and promotions with eta = 3 and 4, Hyperband brackets), the settings' errors, and what PRUNED
// trials do to the samplers.
#include <gtest/gtest.h>

#include <cmath>

#include "core/errors.hpp"
#include "search/pruners/percentile_pruner.hpp"
#include "search/pruners/pruner.hpp"
#include "search/pruners/successive_halving.hpp"
#include "search/sampler.hpp"

using namespace hpsearch;
using nlohmann::json;

namespace {

// Adds a trial whose objective at steps 1, 2, ... is `values`.
int add(StudyHistory& h, TrialState state, const std::vector<double>& values) {
  TrialRecord t;
  t.number = static_cast<int>(h.trials.size());
  t.state = state;
  for (std::size_t i = 0; i < values.size(); ++i) t.intermediate.emplace_back(static_cast<int>(i) + 1, values[i]);
  if (is_finished(state) && !values.empty()) t.value = values.back();
  h.trials.push_back(t);
  return t.number;
}

// Adds a trial that reported `value` at every step 1..steps.
int flat(StudyHistory& h, TrialState state, double value, int steps) {
  return add(h, state, std::vector<double>(static_cast<std::size_t>(steps), value));
}

std::unique_ptr<Pruner> pruner(const char* text) { return make_pruner(json::parse(text), "s.json"); }

std::string error_of(const char* text) {
  try {
    pruner(text);
  } catch (const FileError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST(PercentileOf, InterpolatesLinearlyAsNumpy) {
  std::vector<double> v{5, 1, 4, 2, 3};
  EXPECT_DOUBLE_EQ(percentile_of(v, 50), 3);
  EXPECT_DOUBLE_EQ(percentile_of(v, 25), 2);
  EXPECT_DOUBLE_EQ(percentile_of(v, 10), 1.4);
  std::vector<double> two{1, 2};
  EXPECT_DOUBLE_EQ(percentile_of(two, 50), 1.5);
}

TEST(MedianPruner, WaitsForStartupTrials) {
  StudyHistory h;
  for (int i = 0; i < 4; ++i) flat(h, TrialState::Complete, 1.0, 5);
  const int t = flat(h, TrialState::Running, 100.0, 3);
  EXPECT_FALSE(pruner(R"({"type": "median", "startup_trials": 5})")->decide(h, t, 3).stop);
  EXPECT_TRUE(pruner(R"({"type": "median", "startup_trials": 4})")->decide(h, t, 3).stop);
}

TEST(MedianPruner, ComparesTheBestValueSoFarWithTheMedianOfCompleteTrialsAtTheStep) {
  StudyHistory h;
  for (double v : {1.0, 2.0, 3.0, 4.0, 5.0}) add(h, TrialState::Complete, {50, 50, v, 50});
  // PRUNED and RUNNING trials do not count, however good.
  flat(h, TrialState::Pruned, 0.0, 3);
  flat(h, TrialState::Running, 0.0, 3);
  const auto median = pruner(R"({"type": "median"})");
  const int worse = add(h, TrialState::Running, {10, 9, 3.5});
  const auto d = median->decide(h, worse, 3);
  EXPECT_TRUE(d.stop);
  EXPECT_EQ(d.reason, "pruned by median at step 3: best value so far 3.5 is worse than the median 3 of 5 COMPLETE trials at that step");
  const int tie = add(h, TrialState::Running, {10, 9, 3});
  EXPECT_FALSE(median->decide(h, tie, 3).stop);  // not worse: goes on
  const int good_earlier = add(h, TrialState::Running, {2, 9, 9});
  EXPECT_FALSE(median->decide(h, good_earlier, 3).stop);  // its best so far, 2, is better than 3
  // No COMPLETE trial reported step 5: nothing to compare with.
  const int longer = flat(h, TrialState::Running, 100, 5);
  EXPECT_FALSE(median->decide(h, longer, 5).stop);
}

TEST(MedianPruner, JudgesOnlyAfterTheWarmupAndOncePerInterval) {
  StudyHistory h;
  for (int i = 0; i < 5; ++i) flat(h, TrialState::Complete, 1.0, 12);
  const auto median = pruner(R"({"type": "median", "warmup_steps": 2, "interval_steps": 3})");
  std::vector<int> judged;
  for (int step = 1; step <= 12; ++step) {
    StudyHistory now = h;
    const int t = flat(now, TrialState::Running, 100.0, step);
    if (median->decide(now, t, step).stop) judged.push_back(step);
  }
  EXPECT_EQ(judged, (std::vector<int>{5, 8, 11}));
  // A trial that reports every other step is judged at the first report of each interval.
  StudyHistory gaps = h;
  TrialRecord t;
  t.number = static_cast<int>(gaps.trials.size());
  t.state = TrialState::Running;
  t.intermediate = {{2, 100}, {4, 100}, {6, 100}};
  gaps.trials.push_back(t);
  EXPECT_TRUE(median->decide(gaps, t.number, 6).stop);  // interval [5, 8) starts being reported at 6
}

TEST(PercentilePruner, UsesItsPercentileAndTheObjectiveMode) {
  StudyHistory h;
  for (double v : {1.0, 2.0, 3.0, 4.0, 5.0}) flat(h, TrialState::Complete, v, 3);
  const auto p25 = pruner(R"({"type": "percentile", "percentile": 25})");
  EXPECT_TRUE(p25->decide(h, flat(h, TrialState::Running, 2.5, 3), 3).stop);  // threshold 2
  EXPECT_FALSE(p25->decide(h, flat(h, TrialState::Running, 2.0, 3), 3).stop);
  const auto p10 = pruner(R"({"type": "percentile", "percentile": 10})");
  EXPECT_TRUE(p10->decide(h, flat(h, TrialState::Running, 1.5, 3), 3).stop);  // threshold 1.4
  EXPECT_FALSE(p10->decide(h, flat(h, TrialState::Running, 1.3, 3), 3).stop);
  // Maximising, the 25th percentile of the best is 4: 3.5 stops, 4.5 goes on.
  h.mode = ObjectiveMode::Maximize;
  const int low = flat(h, TrialState::Running, 3.5, 3);
  const auto d = p25->decide(h, low, 3);
  EXPECT_TRUE(d.stop);
  EXPECT_NE(d.reason.find("the 25th percentile 4 of 5 COMPLETE trials"), std::string::npos) << d.reason;
  EXPECT_FALSE(p25->decide(h, flat(h, TrialState::Running, 4.5, 3), 3).stop);
}

TEST(AshaPruner, RungsAreMinResourceTimesPowersOfEta) {
  HalvingSettings s;
  EXPECT_EQ(SuccessiveHalvingPruner(s).rung_steps(81), (std::vector<long long>{1, 3, 9, 27, 81}));
  s.max_resource = 81;
  EXPECT_EQ(SuccessiveHalvingPruner(s).rung_steps(1000), (std::vector<long long>{1, 3, 9, 27}));
  s.reduction_factor = 4;
  s.max_resource = 0;
  EXPECT_EQ(SuccessiveHalvingPruner(s).rung_steps(100), (std::vector<long long>{1, 4, 16, 64}));
  s.min_resource = 2;
  s.min_early_stopping_rate = 1;
  EXPECT_EQ(SuccessiveHalvingPruner(s).rung_steps(100), (std::vector<long long>{8, 32}));
}

TEST(AshaPruner, KeepsTheTopThirdOfTheTrialsAtARungWithEta3) {
  StudyHistory h;
  for (double v : {1.0, 2.0, 3.0, 4.0, 5.0}) flat(h, TrialState::Complete, v, 9);
  flat(h, TrialState::Fail, 0.0, 9);  // failed trials do not compete
  const auto asha = pruner(R"({"type": "asha", "min_resource": 1, "reduction_factor": 3})");
  // 6 trials at rung 1 (step 3) with the candidate: the best 2 go on.
  const int second = add(h, TrialState::Running, {9, 9, 1.5});
  EXPECT_FALSE(asha->decide(h, second, 3).stop);
  const int third = add(h, TrialState::Running, {0.1, 0.1, 2.5});
  EXPECT_FALSE(asha->decide(h, third, 2).stop);  // step 2 is no rung
  const auto d = asha->decide(h, third, 3);
  EXPECT_TRUE(d.stop);
  // 7 trials now (the one above counts: it reached step 3): the best 2 are 1 and 1.5.
  EXPECT_EQ(d.reason, "pruned by asha at rung 1 (step 3): 2.5 not in the top 1/3 of 7 trials (the best 2 go on)");
  // At rung 0 (step 1) the values are those of step 1: 0.1 is the best.
  EXPECT_FALSE(asha->decide(h, third, 1).stop);
}

TEST(AshaPruner, WithFewerTrialsThanEtaOnlyTheBestGoesOn) {
  StudyHistory h;
  const int first = flat(h, TrialState::Running, 1.0, 1);
  EXPECT_FALSE(pruner(R"({"type": "asha"})")->decide(h, first, 1).stop);  // alone at its rung
  EXPECT_TRUE(pruner(R"({"type": "asha"})")->decide(h, flat(h, TrialState::Running, 2.0, 1), 1).stop);
  EXPECT_FALSE(pruner(R"({"type": "asha"})")->decide(h, flat(h, TrialState::Running, 0.5, 1), 1).stop);
}

TEST(AshaPruner, KeepsTheTopQuarterWithEta4AndReadsTheFirstStepPastARung) {
  StudyHistory h;
  for (double v : {1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0}) flat(h, TrialState::Pruned, v, 4);
  const auto asha = pruner(R"({"type": "asha", "reduction_factor": 4})");
  const int candidate = add(h, TrialState::Running, {0, 0, 0, 2.5});
  EXPECT_FALSE(asha->decide(h, candidate, 3).stop);
  const auto d = asha->decide(h, candidate, 4);  // 8 trials at step 4, the best 2 (1 and 2) go on
  EXPECT_TRUE(d.stop);
  EXPECT_NE(d.reason.find("at rung 1 (step 4): 2.5 not in the top 1/4 of 8 trials"), std::string::npos) << d.reason;
  EXPECT_FALSE(asha->decide(h, add(h, TrialState::Running, {0, 0, 0, 1.5}), 4).stop);
  // A trial reporting steps 2 and 5 crossed rung 1 (step 4) at step 5, with its value at step 5.
  TrialRecord gap;
  gap.number = static_cast<int>(h.trials.size());
  gap.state = TrialState::Running;
  gap.intermediate = {{2, 0.0}, {5, 6.0}};
  h.trials.push_back(gap);
  const auto g = asha->decide(h, gap.number, 5);
  EXPECT_TRUE(g.stop);
  EXPECT_NE(g.reason.find("(step 4): 6 not in"), std::string::npos) << g.reason;
}

TEST(AshaPruner, NeverStopsAtOrAfterMaxResource) {
  StudyHistory h;
  flat(h, TrialState::Complete, 1.0, 81);
  const auto asha = pruner(R"({"type": "asha", "max_resource": 27})");
  const int t = add(h, TrialState::Running, std::vector<double>(27, 0.5));
  h.trials[static_cast<std::size_t>(t)].intermediate.back().second = 9.0;  // bad at step 27
  EXPECT_FALSE(asha->decide(h, t, 27).stop);
}

TEST(HyperbandPruner, AssignsTrialsToBracketsByNumberAndComparesWithinABracket) {
  HalvingSettings s;
  s.max_resource = 81;
  HyperbandPruner hb(s);
  ASSERT_EQ(hb.bracket_count(), 5);  // first rungs at 1, 3, 9, 27 and 81 (= max: never stops)
  EXPECT_EQ(hb.bracket_of(0), 0);
  EXPECT_EQ(hb.bracket_of(7), 2);
  StudyHistory h;
  flat(h, TrialState::Complete, 1.0, 81);                              // trial 0, bracket 0
  for (int i = 1; i < 5; ++i) flat(h, TrialState::Complete, 0.0, 81);  // trials 1..4, brackets 1..4
  const int b0 = flat(h, TrialState::Running, 2.0, 1);                 // trial 5, bracket 0
  const auto d = hb.decide(h, b0, 1);
  EXPECT_TRUE(d.stop);  // trial 0 is better; trials 1..4, better still, are in other brackets
  EXPECT_EQ(d.reason, "pruned by hyperband bracket 0 at rung 0 (step 1): 2 not in the top 1/3 of 2 trials (the best 1 go on)");
  const int b1 = flat(h, TrialState::Running, 2.0, 3);  // trial 6, bracket 1: first rung at step 3
  EXPECT_FALSE(hb.decide(h, b1, 1).stop);
  EXPECT_TRUE(hb.decide(h, b1, 3).stop);
  h.trials.resize(9);
  for (int i = 7; i < 9; ++i) h.trials[static_cast<std::size_t>(i)] = {i, TrialState::Complete, {}, 0.0, {}, ""};
  const int b4 = flat(h, TrialState::Running, 5.0, 81);  // trial 9, bracket 4: plain random search
  for (int step = 1; step <= 81; ++step) EXPECT_FALSE(hb.decide(h, b4, step).stop) << step;
  EXPECT_EQ(
      dynamic_cast<HyperbandPruner&>(*pruner(R"({"type": "hyperband", "min_resource": 1, "max_resource": 80, "reduction_factor": 3})"))
          .bracket_count(),
      4);
}

TEST(MakePruner, ReadsEveryTypeAndRefusesUnknownKeys) {
  EXPECT_EQ(make_pruner(json(nullptr), "s.json")->name(), "none");
  EXPECT_EQ(pruner(R"({"type": "none"})")->name(), "none");
  EXPECT_EQ(pruner(R"({"type": "median", "startup_trials": 0, "warmup_steps": 3, "interval_steps": 2})")->name(), "median");
  EXPECT_EQ(pruner(R"({"type": "percentile", "percentile": 25})")->name(), "percentile");
  EXPECT_EQ(pruner(R"({"type": "asha", "min_resource": 1, "reduction_factor": 3, "max_resource": 90})")->name(), "asha");
  EXPECT_EQ(pruner(R"({"type": "hyperband", "max_resource": 81})")->name(), "hyperband");
  EXPECT_EQ(error_of(R"({"type": "median", "warmup": 3})"),
            "s.json: pruner.warmup: unknown setting of the median pruner (it takes startup_trials, warmup_steps, interval_steps and "
            "min_trials)");
  EXPECT_EQ(error_of(R"({"type": "median", "percentile": 30})").rfind("s.json: pruner.percentile: unknown setting", 0), 0u);
  EXPECT_EQ(error_of(R"({"type": "asha", "eta": 3})"),
            "s.json: pruner.eta: unknown setting of the asha pruner (it takes min_resource, reduction_factor, max_resource and "
            "min_early_stopping_rate)");
  EXPECT_EQ(error_of(R"({"type": "sha"})"),
            "s.json: pruner.type: unknown pruner 'sha'; use \"none\", \"median\", \"percentile\", \"asha\" or \"hyperband\"");
  EXPECT_EQ(error_of(R"({"type": "percentile", "percentile": 100})"), "s.json: pruner.percentile: must be a number in (0, 100), got 100");
  EXPECT_EQ(error_of(R"({"type": "asha", "reduction_factor": 1})"), "s.json: pruner.reduction_factor: must be an integer >= 2, got 1");
  EXPECT_EQ(error_of(R"({"type": "hyperband"})"),
            "s.json: pruner.max_resource: is required: rungs are only below this step; set it to the number of steps a trial trains");
  EXPECT_EQ(error_of(R"({"type": "hyperband", "min_resource": 9, "max_resource": 3})"),
            "s.json: pruner.max_resource: must be >= min_resource");
  EXPECT_EQ(error_of(R"({"type": "median", "startup_trials": 2.5})"), "s.json: pruner.startup_trials: must be an integer >= 0, got 2.5");
  EXPECT_EQ(error_of(R"({"type": "none", "x": 1})"), "s.json: pruner.x: unknown setting of the none pruner (it takes nothing else)");
  EXPECT_EQ(error_of(R"([1])"), "s.json: pruner: must be an object such as {\"type\": \"median\"}");
}

TEST(PrunedTrialsAndSamplers, RandomSamplerIgnoresThem) {
  const auto space = SearchSpace::parse(json::parse(R"({"x": {"$uniform": [0, 1]}})"), "s.json");
  const auto sampler = make_sampler(json{{"type", "random"}, {"seed", 3}}, space, "s.json");
  StudyHistory empty, pruned;
  for (int i = 0; i < 5; ++i) {
    flat(pruned, TrialState::Pruned, 1.0 * i, i + 1);
    pruned.trials.back().point = {0.1 * i};
  }
  EXPECT_EQ(sampler->suggest(empty, 5), sampler->suggest(pruned, 5));
}

TEST(PrunedTrialsAndSamplers, TpeRanksAPrunedTrialThatGotFurtherAboveOneStoppedEarlier) {
  const auto space = SearchSpace::parse(json::parse(R"({"x": {"$uniform": [0, 1]}})"), "s.json");
  const auto tpe = make_sampler(json{{"type", "tpe"}, {"seed", 1}, {"n_startup_trials", 2}}, space, "s.json");
  // Trial 0 reached step 27 with a poor value at x = 0.9; trial 1 was stopped at step 1 with a
  // better value at x = 0.1. The good set (one trial of two) is trial 0: suggestions go near 0.9.
  StudyHistory h;
  flat(h, TrialState::Pruned, 50.0, 27);
  h.trials.back().point = {0.9};
  flat(h, TrialState::Pruned, 10.0, 1);
  h.trials.back().point = {0.1};
  double mean = 0;
  for (int n = 2; n < 22; ++n) mean += tpe->suggest(h, n)[0] / 20;
  EXPECT_GT(mean, 0.6);
  // When both got equally far, the better value wins.
  h.trials[0].intermediate.resize(1);
  double mean_same_step = 0;
  for (int n = 2; n < 22; ++n) mean_same_step += tpe->suggest(h, n)[0] / 20;
  EXPECT_LT(mean_same_step, 0.4);
}
