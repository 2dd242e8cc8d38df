// The TPE sampler: settings, reproducibility, domains, conditional spaces, running and failed
// trials, pruned-trial ranking.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>

#include "core/errors.hpp"
#include "search/random.hpp"
#include "search/sampler.hpp"
#include "search/samplers/random_sampler.hpp"
#include "search/samplers/tpe/tpe_sampler.hpp"

namespace hpsearch {
namespace {

using nlohmann::json;

SearchSpace space_of(const char* params) { return SearchSpace::parse(json::parse(params), "space.json"); }

TrialRecord complete(int number, std::vector<double> params, double value) {
  TrialRecord t;
  t.number = number;
  t.state = TrialState::Complete;
  t.point = std::move(params);
  t.value = value;
  return t;
}

// A history of n trials drawn from the prior, valued by `f`.
StudyHistory random_history(const SearchSpace& space, int n, const std::function<double(const std::vector<double>&)>& f,
                            std::uint64_t seed = 3) {
  StudyHistory history;
  RandomSampler prior(space, seed);
  for (int i = 0; i < n; ++i) {
    std::vector<double> x = prior.suggest(history, i);
    history.trials.push_back(complete(i, x, f(x)));
  }
  return history;
}

// Appends the row of trial `number` as the master does before asking (RUNNING, no params).
void open_trial(StudyHistory& history, int number) {
  TrialRecord t;
  t.number = number;
  t.state = TrialState::Running;
  history.trials.push_back(t);
}

TEST(TpeSettings, DefaultsAndOverrides) {
  const TpeSettings defaults = parse_tpe_settings(json{{"type", "tpe"}}, "s.json");
  EXPECT_EQ(defaults.n_candidates, TpeSettings{}.n_candidates);
  const TpeSettings s = parse_tpe_settings(json::parse(R"({"type": "tpe", "seed": 9, "n_startup_trials": "auto", "n_candidates": 7,
                      "gamma": {"fraction": 0.25, "exponent": 0.5, "max": 10}, "linear_forgetting": 0,
                      "prior_weight": 2.5, "bandwidth": "scott", "bandwidth_factor": 0.3, "magic_clip": false,
                      "consider_endpoints": true, "multivariate": false, "group": false, "constant_liar": false,
                      "local_period": 0, "local_fraction": 0.5, "local_scale": 0.5, "clip_by_trials": true,
                      "prune_kernels": false})"),
                                           "s.json");
  EXPECT_EQ(s.seed, 9u);
  EXPECT_EQ(s.n_startup_trials, -1);
  EXPECT_EQ(s.n_candidates, 7);
  EXPECT_EQ(s.gamma_fraction, 0.25);
  EXPECT_EQ(s.gamma_exponent, 0.5);
  EXPECT_EQ(s.gamma_max, 10);
  EXPECT_EQ(s.prior_weight, 2.5);
  EXPECT_EQ(s.bandwidth, "scott");
  EXPECT_FALSE(s.multivariate);
  EXPECT_FALSE(s.constant_liar);
  EXPECT_EQ(s.local_period, 0);
  EXPECT_FALSE(s.prune_kernels);
  EXPECT_TRUE(defaults.prune_kernels);
  // A gamma object given in part keeps the other keys' defaults.
  const TpeSettings partial = parse_tpe_settings(json::parse(R"({"gamma": {"max": 4}, "n_startup_trials": 7})"), "s.json");
  EXPECT_EQ(partial.gamma_max, 4);
  EXPECT_EQ(partial.gamma_fraction, TpeSettings{}.gamma_fraction);
  EXPECT_EQ(partial.gamma_exponent, TpeSettings{}.gamma_exponent);
  EXPECT_EQ(partial.n_startup_trials, 7);
}

TEST(TpeSettings, UnknownKeysAndBadValuesNameTheirPath) {
  auto message = [](const char* text) {
    try {
      parse_tpe_settings(json::parse(text), "space.json");
    } catch (const FileError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(R"({"type": "tpe", "n_candidate": 3})").find("space.json: sampler.n_candidate:"), std::string::npos);
  EXPECT_NE(message(R"({"type": "tpe", "gamma": {"fractoin": 0.1}})").find("sampler.gamma.fractoin"), std::string::npos);
  EXPECT_NE(message(R"({"type": "tpe", "n_candidates": 0})").find("sampler.n_candidates"), std::string::npos);
  EXPECT_NE(message(R"({"type": "tpe", "prior_weight": "high"})").find("sampler.prior_weight"), std::string::npos);
  EXPECT_NE(message(R"({"type": "tpe", "multivariate": 1})").find("sampler.multivariate"), std::string::npos);
  EXPECT_NE(message(R"({"type": "tpe", "bandwidth": "silverman"})").find("sampler.bandwidth"), std::string::npos);
  EXPECT_EQ(message(R"({"type": "tpe", "gamma": {"fractoin": 0.1}})"),
            "space.json: sampler.gamma.fractoin: unknown setting of the tpe sampler's gamma (it takes fraction, exponent and max)");
  EXPECT_EQ(message(R"({"type": "tpe", "gamma": {"fraction": 1.5}})"),
            "space.json: sampler.gamma.fraction: must be a number in (0, 1], got 1.5");
  EXPECT_EQ(message(R"({"type": "tpe", "gamma": 0.25})"),
            "space.json: sampler.gamma: must be an object such as {\"fraction\": 0.1, \"exponent\": 1, \"max\": 25}, got 0.25");
  EXPECT_EQ(message(R"({"type": "tpe", "n_startup_trials": "many"})"),
            "space.json: sampler.n_startup_trials: must be \"auto\" or an integer >= 0, got \"many\"");
  EXPECT_EQ(message(R"({"type": "tpe", "bandwidth": "silverman"})"),
            "space.json: sampler.bandwidth: must be \"neighbors\", \"scott\" or \"adaptive\", got \"silverman\"");
  EXPECT_EQ(message(R"({"type": "tpe", "local_fraction": 2})"), "space.json: sampler.local_fraction: must be a number in [0, 1], got 2");
  const std::string unknown = message(R"({"type": "tpe", "n_candidate": 3})");
  const std::string start = "space.json: sampler.n_candidate: unknown setting of the tpe sampler (it takes seed, n_startup_trials, ";
  EXPECT_EQ(unknown.rfind(start + "n_candidates, ", 0), 0u) << unknown;
  EXPECT_NE(unknown.find("local_fraction and local_scale)"), std::string::npos) << unknown;
  // Through make_sampler too.
  const SearchSpace space = space_of(R"({"x": {"$uniform": [0, 1]}})");
  EXPECT_THROW(make_sampler(json::parse(R"({"type": "tpe", "colour": 1})"), space, "f"), FileError);
  EXPECT_NE(dynamic_cast<TpeSampler*>(make_sampler(json{{"type", "tpe"}}, space, "f").get()), nullptr);
}

const char* kEveryKind = R"({
  "u": {"$uniform": [-2, 3]}, "lu": {"$loguniform": [1e-4, 1]}, "q": {"$quniform": [0, 1, 0.3]},
  "ql": {"$qloguniform": [1, 64, 4]}, "n": {"$randint": [2, 6]}, "g": {"$normal": [1, 2]},
  "lg": {"$lognormal": [0, 1]},
  "c": {"$choice": [{"kind": "a", "a": {"$uniform": [0, 1]}},
                    {"kind": "b", "b": {"$randint": [0, 3]}, "inner": {"$choice": [1, {"$quniform": [5, 9, 2]}]}},
                    "plain"]},
  "constant": 12})";

// Parameters are ordered as the JSON object's keys are (alphabetically): look them up by name.
double every_kind_loss(const std::vector<double>& x) {
  static const SearchSpace space = space_of(kEveryKind);
  auto at = [&](const char* name) { return x.at(static_cast<std::size_t>(space.index_of(name))); };
  double loss = std::pow(at("u") - 1, 2) + std::pow(std::log10(at("lu")) + 2, 2) + at("n");
  if (at("c") == 1) loss -= 1;
  return loss;
}

TEST(TpeSampler, SameSeedAndHistoryGiveTheSameSuggestion) {
  const SearchSpace space = space_of(kEveryKind);
  StudyHistory history = random_history(space, 30, every_kind_loss);
  open_trial(history, 30);
  auto a = make_sampler(json{{"type", "tpe"}, {"seed", 4}}, space, "f");
  auto b = make_sampler(json{{"type", "tpe"}, {"seed", 4}}, space, "f");
  const auto first = a->suggest(history, 30);
  for (int n = 31; n < 35; ++n) a->suggest(history, n);  // calls in between change nothing
  const auto again = a->suggest(history, 30);
  const auto other_object = b->suggest(history, 30);
  auto same = [](const std::vector<double>& x, const std::vector<double>& y) {
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (!(x[i] == y[i]) && !(std::isnan(x[i]) && std::isnan(y[i]))) return false;
    }
    return x.size() == y.size();
  };
  EXPECT_TRUE(same(first, again));
  EXPECT_TRUE(same(first, other_object));
  EXPECT_FALSE(same(first, a->suggest(history, 31)));
  auto c = make_sampler(json{{"type", "tpe"}, {"seed", 5}}, space, "f");
  EXPECT_FALSE(same(first, c->suggest(history, 30)));
}

// Pruning far kernels changes g(x) by less than 1e-13 (relative), far below the gaps between
// candidates' scores: on a long history of every kind of parameter, a tree-structured space
// included, the suggestions are those of the exhaustive sum.
TEST(TpeSampler, PrunedScoringSuggestsWhatTheExhaustiveSumSuggests) {
  const SearchSpace space = space_of(kEveryKind);
  StudyHistory history = random_history(space, 700, every_kind_loss);
  open_trial(history, 700);
  for (int seed : {1, 2}) {
    auto pruned = make_sampler(json{{"type", "tpe"}, {"seed", seed}}, space, "f");
    auto exhaustive = make_sampler(json{{"type", "tpe"}, {"seed", seed}, {"prune_kernels", false}}, space, "f");
    for (int number = 700; number < 706; ++number) {
      const auto a = pruned->suggest(history, number), b = exhaustive->suggest(history, number);
      ASSERT_EQ(a.size(), b.size());
      for (std::size_t i = 0; i < a.size(); ++i) {
        EXPECT_TRUE(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i]))) << "seed " << seed << " trial " << number << " param " << i;
      }
    }
  }
}

TEST(TpeSampler, SuggestionsStayOnTheirDomainsWithInactiveParametersNaN) {
  const SearchSpace space = space_of(kEveryKind);
  const auto& params = space.parameters();
  StudyHistory history = random_history(space, 20, every_kind_loss);
  for (bool multivariate : {true, false}) {
    auto sampler = make_sampler(json{{"type", "tpe"}, {"multivariate", multivariate}}, space, "f");
    for (int n = 20; n < 60; ++n) {
      const std::vector<double> x = sampler->suggest(history, n);
      ASSERT_EQ(x.size(), params.size());
      for (std::size_t i = 0; i < x.size(); ++i) {
        const bool active = space.is_active(i, x);
        ASSERT_EQ(active, !std::isnan(x[i])) << params[i].name;
        if (!active) continue;
        const Parameter& p = params[i];
        if (p.is_bounded() && p.kind != DistributionKind::Choice) {
          EXPECT_GE(x[i], p.low) << p.name;
          EXPECT_LE(x[i], p.high) << p.name;
        }
        if (p.is_discrete() || p.kind == DistributionKind::Choice) {
          EXPECT_EQ(p.snap(x[i]), x[i]) << p.name;
        }
        if (p.kind == DistributionKind::LogNormal) {
          EXPECT_GT(x[i], 0) << p.name;
        }
      }
      EXPECT_NO_THROW(space.resolve(x));
      history.trials.push_back(complete(n, x, every_kind_loss(x)));
    }
  }
}

TEST(TpeSampler, StartupTrialsAreTheRandomSamplersDraws) {
  const SearchSpace space = space_of(R"({"x": {"$uniform": [0, 1]}, "y": {"$choice": [1, 2, 3]}})");
  StudyHistory history;
  auto tpe = make_sampler(json{{"type", "tpe"}, {"seed", 2}, {"n_startup_trials", 4}}, space, "f");
  RandomSampler random(space, 2);
  for (int n = 0; n < 4; ++n) {
    EXPECT_EQ(tpe->suggest(history, n), random.suggest(history, n));
    history.trials.push_back(complete(n, random.suggest(history, n), n));
  }
  EXPECT_NE(tpe->suggest(history, 4), random.suggest(history, 4));  // the model takes over
}

TEST(TpeSampler, LearnsWhereTheMinimumIs) {
  const SearchSpace space = space_of(R"({"x": {"$uniform": [0, 10]}, "lr": {"$loguniform": [1e-5, 1]}})");
  const std::size_t x = static_cast<std::size_t>(space.index_of("x")), lr = static_cast<std::size_t>(space.index_of("lr"));
  auto loss = [&](const std::vector<double>& v) { return std::pow(v[x] - 7, 2) + std::pow(std::log10(v[lr]) + 4, 2); };
  auto sampler = make_sampler(json{{"type", "tpe"}, {"seed", 1}}, space, "f");
  StudyHistory history;
  for (int n = 0; n < 60; ++n) {
    open_trial(history, n);
    const auto x = sampler->suggest(history, n);
    history.trials.back() = complete(n, x, loss(x));
  }
  double best = INFINITY;
  for (const auto& t : history.trials) best = std::min(best, *t.value);
  EXPECT_LT(best, 0.1);  // random search: about 0.5 in 60 trials
}

TEST(TpeSampler, ChildrenAreModelledOnlyWhereActive) {
  // Option 1 of the choice is better, with its child b best near 0.2; option 0's child a is
  // best near 0.9 but its trials are all worse. TPE must settle on option 1 with b near 0.2,
  // leaving a NaN (inactive), and never mix a's values into b's model.
  const SearchSpace space = space_of(R"({"c": {"$choice": [{"a": {"$uniform": [0, 1]}}, {"b": {"$uniform": [0, 1]}}]}})");
  const int a = space.index_of("c[0].a"), b = space.index_of("c[1].b");
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  auto loss = [&](const std::vector<double>& x) {
    return x[0] == 0 ? 1 + std::fabs(x[static_cast<std::size_t>(a)] - 0.9) : std::fabs(x[static_cast<std::size_t>(b)] - 0.2);
  };
  StudyHistory history = random_history(space, 40, loss);
  auto sampler = make_sampler(json{{"type", "tpe"}, {"seed", 8}, {"local_period", 0}}, space, "f");
  int option1 = 0, near = 0;
  for (int n = 40; n < 70; ++n) {
    const auto x = sampler->suggest(history, n);
    if (x[0] == 1) {
      ++option1;
      EXPECT_TRUE(std::isnan(x[static_cast<std::size_t>(a)]));
      near += std::fabs(x[static_cast<std::size_t>(b)] - 0.2) < 0.15;
    } else {
      EXPECT_TRUE(std::isnan(x[static_cast<std::size_t>(b)]));
    }
  }
  EXPECT_GE(option1, 24);
  EXPECT_GE(near, option1 * 2 / 3);
}

TEST(TpeSampler, NeverDuplicatesARunningTrialInASmallDiscreteSpace) {
  // 3 x 2 = 6 points; 5 of them running: the suggestion must be the sixth, whatever the model says.
  const SearchSpace space = space_of(R"({"n": {"$randint": [0, 3]}, "c": {"$choice": ["a", "b"]}})");
  for (bool liar : {true, false}) {
    for (std::uint64_t seed = 0; seed < 5; ++seed) {
      // The loss favours the running points, so the model alone would suggest one of them.
      StudyHistory history = random_history(
          space, 12, [](const std::vector<double>& x) { return x[0] + x[1]; }, seed);
      std::set<std::pair<double, double>> running;
      for (double n : {0.0, 1.0, 2.0}) {
        for (double c : {0.0, 1.0}) {
          if (running.size() == 5) break;
          TrialRecord t;
          t.number = static_cast<int>(history.trials.size());
          t.state = TrialState::Running;
          t.point = std::vector<double>{c, n};  // keys in alphabetical order: c, n
          history.trials.push_back(t);
          running.insert({n, c});
        }
      }
      const int number = static_cast<int>(history.trials.size());
      open_trial(history, number);
      auto sampler = make_sampler(json{{"type", "tpe"}, {"seed", seed}, {"constant_liar", liar}}, space, "f");
      const auto x = sampler->suggest(history, number);
      EXPECT_EQ(running.count({x[1], x[0]}), 0u) << "seed " << seed << " liar " << liar;
      EXPECT_EQ(x[1], 2.0);
      EXPECT_EQ(x[0], 1.0);
    }
  }
}

// Fraction of 40 suggestions inside [0, 0.4] after a history where every trial below 0.5
// failed (or, with `drop_failures`, left the history) and the loss elsewhere is x, so the best
// trials sit at the failing border and a model blind to failures samples across it.
double share_in_failing_region(TrialState failure_state, bool drop_failures = false) {
  const SearchSpace space = space_of(R"({"x": {"$uniform": [0, 1]}})");
  StudyHistory history;
  Rng rng(11);
  for (int n = 0; n < 60; ++n) {
    const double x = rng.uniform();
    TrialRecord t = complete(static_cast<int>(history.trials.size()), {x}, x);
    if (x < 0.5) {
      if (drop_failures) continue;
      t.state = failure_state;
      t.value.reset();
    }
    history.trials.push_back(t);
  }
  auto sampler = make_sampler(json{{"type", "tpe"}, {"seed", 1}, {"n_startup_trials", 5}}, space, "f");
  int inside = 0;
  for (int n = 100; n < 140; ++n) inside += sampler->suggest(history, n)[0] < 0.4;
  return inside / 40.0;
}

TEST(TpeSampler, AvoidsRegionsWhereTrialsFail) {
  // Failed trials count as bad: the failing region is avoided although the best trials border it.
  const double blind = share_in_failing_region(TrialState::Fail, /*drop_failures=*/true);
  EXPECT_GE(blind, 0.1);  // what ignoring failures would do
  EXPECT_LE(share_in_failing_region(TrialState::Fail), 0.02);
  // A COMPLETE trial without a value counts as failed too.
  EXPECT_LE(share_in_failing_region(TrialState::Complete), 0.02);
}

TEST(TpeSampler, RunningTrialsPushSuggestionsAwayWithTheConstantLiar) {
  const SearchSpace space = space_of(R"({"x": {"$uniform": [0, 1]}})");
  StudyHistory base = random_history(space, 30, [](const std::vector<double>& x) { return std::fabs(x[0] - 0.3); });
  for (int k = 0; k < 6; ++k) {
    TrialRecord t;
    t.number = static_cast<int>(base.trials.size());
    t.state = TrialState::Running;
    t.point = std::vector<double>{0.3 + 0.004 * k};
    base.trials.push_back(t);
  }
  auto mean_distance = [&](bool liar) {
    auto sampler = make_sampler(json{{"type", "tpe"}, {"seed", 3}, {"constant_liar", liar}, {"local_period", 0}}, space, "f");
    double sum = 0;
    for (int n = 100; n < 140; ++n) sum += std::fabs(sampler->suggest(base, n)[0] - 0.31);
    return sum / 40;
  };
  EXPECT_GT(mean_distance(true), 1.5 * mean_distance(false));
}

TEST(TpeSampler, PrunedTrialsRankByProgressThenValue) {
  // Complete trials near 0.8 (value 1) outrank pruned ones near 0.2 that reported 0; among
  // pruned trials, those that went further outrank those stopped early with better values.
  const SearchSpace space = space_of(R"({"x": {"$uniform": [0, 1]}})");
  auto run = [&](bool with_complete) {
    StudyHistory history;
    Rng rng(5);
    for (int n = 0; n < 40; ++n) {
      const bool good_region = n % 2 == 0;
      const double x = good_region ? 0.75 + 0.1 * rng.uniform() : 0.15 + 0.1 * rng.uniform();
      TrialRecord t;
      t.number = n;
      t.point = std::vector<double>{x};
      if (good_region) {
        t.state = with_complete ? TrialState::Complete : TrialState::Pruned;
        t.intermediate = {{1, 5.0}, {10, 1.0}};
        t.value = 1.0;
      } else {
        t.state = TrialState::Pruned;
        t.intermediate = {{1, 0.0}};
        t.value = 0.0;
      }
      history.trials.push_back(t);
    }
    auto sampler = make_sampler(json{{"type", "tpe"}, {"seed", 2}}, space, "f");
    int high = 0;
    for (int n = 40; n < 70; ++n) high += sampler->suggest(history, n)[0] > 0.5;
    return high;
  };
  EXPECT_GE(run(true), 25);
  EXPECT_GE(run(false), 25);
}

TEST(TpeSampler, MaximizeModeLooksForLargeValues) {
  const SearchSpace space = space_of(R"({"x": {"$uniform": [0, 1]}})");
  StudyHistory history = random_history(space, 30, [](const std::vector<double>& x) { return x[0]; });
  history.mode = ObjectiveMode::Maximize;
  auto sampler = make_sampler(json{{"type", "tpe"}, {"seed", 2}}, space, "f");
  int high = 0;
  for (int n = 30; n < 60; ++n) high += sampler->suggest(history, n)[0] > 0.7;
  EXPECT_GE(high, 20);
}

}  // namespace
}  // namespace hpsearch
