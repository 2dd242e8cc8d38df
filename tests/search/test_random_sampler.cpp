// Random search: reproducible from (seed, trial number) alone, inactive parameters NaN, no
// duplicate of a running trial in a discrete space.
#include <gtest/gtest.h>

#include <cmath>

#include "core/errors.hpp"
#include "search/sampler.hpp"

using namespace hpsearch;
using nlohmann::json;

namespace {

SearchSpace space_of(const char* text) { return SearchSpace::parse(json::parse(text), "s.json"); }

bool same(const std::vector<double>& a, const std::vector<double>& b) {
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!(a[i] == b[i]) && !(std::isnan(a[i]) && std::isnan(b[i]))) return false;
  }
  return a.size() == b.size();
}

}  // namespace

TEST(RandomSampler, SameSeedAndNumberGiveTheSameSuggestionWhateverTheHistory) {
  const auto space = space_of(R"({"x": {"$uniform": [0, 1]}, "d": {"$choice": [0, {"$loguniform": [1e-3, 1]}]}})");
  auto a = make_sampler(json{{"type", "random"}, {"seed", 3}}, space, "s.json");
  auto b = make_sampler(json{{"type", "random"}, {"seed", 3}}, space, "s.json");
  auto c = make_sampler(json{{"type", "random"}, {"seed", 4}}, space, "s.json");
  StudyHistory empty, busy;
  for (int i = 0; i < 5; ++i) busy.trials.push_back({i, TrialState::Complete, {0.5, 0, NAN}, 1.0, {}, ""});
  EXPECT_TRUE(same(a->suggest(empty, 7), b->suggest(busy, 7)));
  EXPECT_FALSE(same(a->suggest(empty, 7), a->suggest(empty, 8)));
  EXPECT_FALSE(same(a->suggest(empty, 7), c->suggest(empty, 7)));
}

TEST(RandomSampler, LeavesInactiveParametersNaN) {
  const auto space = space_of(R"({"d": {"$choice": [0, {"$loguniform": [1e-3, 1]}]}})");
  auto sampler = make_sampler(json{{"type", "random"}, {"seed", 1}}, space, "s.json");
  int active = 0;
  for (int n = 0; n < 200; ++n) {
    const auto v = sampler->suggest({}, n);
    if (v[0] == 0) {
      EXPECT_TRUE(std::isnan(v[1]));
    } else {
      ++active;
      EXPECT_GE(v[1], 1e-3);
      EXPECT_LE(v[1], 1);
    }
  }
  EXPECT_GT(active, 60);
  EXPECT_LT(active, 140);
}

TEST(RandomSampler, AvoidsTheConfigurationOfARunningTrial) {
  const auto space = space_of(R"({"c": {"$choice": ["a", "b"]}})");
  auto sampler = make_sampler(json{{"type", "random"}, {"seed", 1}}, space, "s.json");
  for (int n = 1; n < 50; ++n) {
    StudyHistory history;
    const auto first = sampler->suggest(history, 0);
    history.trials.push_back({0, TrialState::Running, first, std::nullopt, {}, ""});
    EXPECT_NE(sampler->suggest(history, n)[0], first[0]);
  }
}

TEST(RandomSampler, RejectsUnknownSettings) {
  const auto space = space_of(R"({"x": {"$uniform": [0, 1]}})");
  EXPECT_THROW(make_sampler(json{{"type", "random"}, {"sead", 1}}, space, "s.json"), FileError);
  EXPECT_THROW(make_sampler(json{{"type", "random"}, {"seed", -1}}, space, "s.json"), FileError);
  EXPECT_THROW(make_sampler(json{{"type", "annealing"}}, space, "s.json"), FileError);
  auto message = [&](const json& settings) {
    try {
      make_sampler(settings, space, "s.json");
    } catch (const FileError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message(json{{"type", "random"}, {"sead", 1}}), "s.json: sampler.sead: unknown setting of the random sampler (it takes seed)");
  EXPECT_EQ(message(json{{"type", "random"}, {"seed", 1.5}}), "s.json: sampler.seed: must be an integer >= 0, got 1.5");
  // A type that is not a string is the user's mistake too (it was a JSON library exception).
  EXPECT_EQ(message(json{{"type", 3}}), "s.json: sampler.type: must be a string, got 3");
  EXPECT_EQ(message(json{{"seed", 2}}), "no error") << "random is the default type";
}
