// The space grammar: every distribution, nested choices, resolution, and each kind of bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "core/errors.hpp"
#include "search/random.hpp"
#include "search/samplers/random_sampler.hpp"
#include "search/space.hpp"

using hpsearch::DistributionKind;
using hpsearch::FileError;
using hpsearch::SearchSpace;
using nlohmann::json;

namespace {

SearchSpace parse(const char* text) { return SearchSpace::parse(json::parse(text), "space.json"); }

std::string error_of(const char* text) {
  try {
    parse(text);
  } catch (const FileError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST(Space, ParsesEveryDistributionWithItsArguments) {
  const auto space = parse(R"({
    "a": {"$uniform": [-5, 10]}, "b": {"$loguniform": [1e-5, 1e-1]}, "c": {"$quniform": [0, 1, 0.25]},
    "d": {"$qloguniform": [16, 256, 16]}, "e": {"$randint": [2, 6]}, "f": {"$normal": [0, 2]},
    "g": {"$lognormal": [-3, 1]}, "h": {"$choice": ["relu", "tanh"]}})");
  ASSERT_EQ(space.size(), 8u);
  const auto& p = space.parameters();
  EXPECT_EQ(p[0].name, "a");
  EXPECT_EQ(p[0].kind, DistributionKind::Uniform);
  EXPECT_DOUBLE_EQ(p[0].low, -5);
  EXPECT_DOUBLE_EQ(p[0].high, 10);
  EXPECT_EQ(p[1].kind, DistributionKind::LogUniform);
  EXPECT_EQ(p[2].kind, DistributionKind::QUniform);
  EXPECT_DOUBLE_EQ(p[2].step, 0.25);
  EXPECT_EQ(p[3].kind, DistributionKind::QLogUniform);
  EXPECT_DOUBLE_EQ(p[3].grid_high(), 256);
  EXPECT_EQ(p[4].kind, DistributionKind::RandInt);
  EXPECT_DOUBLE_EQ(p[4].low, 2);
  EXPECT_DOUBLE_EQ(p[4].high, 5);  // high excluded: stored inclusive
  EXPECT_EQ(p[5].kind, DistributionKind::Normal);
  EXPECT_DOUBLE_EQ(p[5].sigma, 2);
  EXPECT_EQ(p[6].kind, DistributionKind::LogNormal);
  EXPECT_DOUBLE_EQ(p[6].mu, -3);
  EXPECT_EQ(p[7].kind, DistributionKind::Choice);
  EXPECT_EQ(p[7].num_choices, 2u);
}

TEST(Space, ResolvesConstantsAtAnyDepthAndWritesIntegersAsIntegers) {
  const auto space = parse(R"({"optimizer": {"lr": {"$loguniform": [1e-4, 1e-1]}, "betas": [0.9, 0.999]},
                               "epochs": 90, "units": {"$randint": [1, 4]}, "width": {"$quniform": [16, 128, 16]},
                               "layers": [{"out": {"$choice": [4, 8]}}, {"out": 16}]})");
  const auto names = [&] {
    std::vector<std::string> n;
    for (const auto& p : space.parameters()) n.push_back(p.name);
    return n;
  }();
  EXPECT_EQ(names, (std::vector<std::string>{"layers[0].out", "optimizer.lr", "units", "width"}));
  const json config = space.resolve({1, 0.01, 3, 48});
  EXPECT_EQ(config, json::parse(R"({"optimizer": {"lr": 0.01, "betas": [0.9, 0.999]}, "epochs": 90, "units": 3, "width": 48,
                                    "layers": [{"out": 8}, {"out": 16}]})"));
  EXPECT_TRUE(config["units"].is_number_integer());
  EXPECT_TRUE(config["width"].is_number_integer());
}

TEST(Space, NestedChoicesActivateOnlyTheChosenOptionsParameters) {
  // hyperopt's hp.choice('d', [0., hp.uniform('d_val', .1, .45)]) and a choice of sub-spaces.
  const auto space = parse(R"({"architecture": {"dropout_prob": {"$choice": [0.0, {"$uniform": [0.1, 0.45]}]}},
                               "model": {"$choice": [{"kind": "mlp", "units": {"$randint": [8, 64]}},
                                                     {"kind": "cnn", "depth": {"$choice": [2, {"$randint": [3, 6]}]}}]}})");
  ASSERT_EQ(space.size(), 6u);
  EXPECT_EQ(space.parameters()[0].name, "architecture.dropout_prob");
  EXPECT_EQ(space.parameters()[1].name, "architecture.dropout_prob[1]");
  EXPECT_EQ(space.parameters()[1].parent, 0);
  EXPECT_EQ(space.parameters()[1].parent_option, 1);
  EXPECT_EQ(space.index_of("model[0].units"), 3);
  EXPECT_EQ(space.index_of("model[1].depth"), 4);
  EXPECT_EQ(space.index_of("model[1].depth[1]"), 5);

  std::vector<double> v = {1, 0.3, 1, 20, 1, 4};
  space.clear_inactive(v);
  EXPECT_FALSE(std::isnan(v[1]));
  EXPECT_TRUE(std::isnan(v[3]));  // model 0's units: inactive when model = 1
  EXPECT_FALSE(std::isnan(v[5]));
  EXPECT_EQ(space.resolve(v), json::parse(R"({"architecture": {"dropout_prob": 0.3}, "model": {"kind": "cnn", "depth": 4}})"));

  std::vector<double> w = {0, 0.3, 1, 20, 0, 4};
  space.clear_inactive(w);
  EXPECT_TRUE(std::isnan(w[1]));
  EXPECT_TRUE(std::isnan(w[5]));  // the grandchild goes with its parent choice
  EXPECT_FALSE(space.is_active(5, w));
  EXPECT_EQ(space.resolve(w), json::parse(R"({"architecture": {"dropout_prob": 0.0}, "model": {"kind": "cnn", "depth": 2}})"));
}

TEST(Space, ValuesOfInvertsResolve) {
  const auto space = parse(R"({"d": {"$choice": [0.0, {"$uniform": [0.1, 0.45]}]}, "bs": {"$choice": [16, 32, 64]},
                               "lr": {"$loguniform": [1e-5, 1e-1]}})");
  hpsearch::Rng rng(3);
  for (int i = 0; i < 50; ++i) {
    std::vector<double> v;
    for (const auto& p : space.parameters()) v.push_back(hpsearch::sample_prior(p, rng));
    space.clear_inactive(v);
    const auto back = space.values_of(space.resolve(v), "test");
    for (std::size_t k = 0; k < v.size(); ++k) {
      if (std::isnan(v[k])) {
        EXPECT_TRUE(std::isnan(back[k]));
      } else {
        EXPECT_DOUBLE_EQ(back[k], v[k]);
      }
    }
  }
  EXPECT_THROW(space.values_of(json::parse(R"({"d": 0.0, "bs": 48, "lr": 0.01})"), "best.json"), hpsearch::UserError);
}

TEST(Space, SamplesStayInTheirDomains) {
  const auto space = parse(R"({"c": {"$quniform": [0, 1, 0.25]}, "d": {"$qloguniform": [16, 256, 16]}, "e": {"$randint": [2, 6]},
                               "b": {"$loguniform": [1e-5, 1e-1]}})");
  hpsearch::Rng rng(11);
  std::set<double> seen_e;
  for (int i = 0; i < 2000; ++i) {
    for (const auto& p : space.parameters()) {
      const double v = hpsearch::sample_prior(p, rng);
      ASSERT_GE(v, p.low);
      ASSERT_LE(v, p.is_discrete() ? p.grid_high() : p.high);
      if (p.is_discrete()) {
        ASSERT_NEAR(std::fmod(v - p.low, p.step), 0, 1e-9);
      }
      if (p.name == "e") seen_e.insert(v);
    }
  }
  EXPECT_EQ(seen_e, (std::set<double>{2, 3, 4, 5}));
}

TEST(SpaceErrors, NameTheFileAndTheJsonPath) {
  EXPECT_EQ(error_of(R"({"opt": {"lr": {"$uniform": [1, 1]}}})"), "space.json: params.opt.lr: $uniform needs low < high, got [1,1]");
  EXPECT_EQ(error_of(R"({"lr": {"$loguniform": [0, 1]}})"),
            "space.json: params.lr: $loguniform bounds are in real space and must be > 0, got low = 0");
  EXPECT_EQ(error_of(R"({"w": {"$quniform": [0, 10, 0]}})"), "space.json: params.w: $quniform needs q > 0, got 0");
  EXPECT_EQ(error_of(R"({"w": {"$qloguniform": [-1, 10, 1]}})"),
            "space.json: params.w: $qloguniform bounds are in real space and must be > 0, got low = -1");
  EXPECT_EQ(error_of(R"({"c": {"$choice": []}})"), "space.json: params.c: $choice needs at least one option");
  EXPECT_EQ(error_of(R"({"x": {"$uniform": [0, 1, 2]}})"), "space.json: params.x: $uniform takes 2 arguments [low, high], got 3");
  EXPECT_EQ(error_of(R"({"x": {"$gaussian": [0, 1]}})").rfind("space.json: params.x: unknown distribution '$gaussian'", 0), 0u);
  EXPECT_EQ(error_of(R"({"x": {"$normal": [0, -1]}})"), "space.json: params.x: $normal needs sigma > 0, got -1");
  EXPECT_EQ(error_of(R"({"x": {"$randint": [5, 5]}})"), "space.json: params.x: $randint needs low < high, got [5,5]");
  EXPECT_EQ(error_of(R"({"x": {"$randint": [0.5, 5]}})"), "space.json: params.x: $randint bounds must be integers, got [0.5,5]");
  EXPECT_EQ(error_of(R"({"x": {"$uniform": 3}})"), "space.json: params.x: $uniform takes an array of arguments, got 3");
  EXPECT_EQ(error_of(R"({"x": {"$uniform": [0, "1"]}})"), "space.json: params.x: $uniform argument 2 must be a number, got \"1\"");
  EXPECT_EQ(error_of(R"({"x": {"$uniform": [0, 1], "other": 2}})")
                .rfind("space.json: params.x: a distribution is an object with exactly one '$' key", 0),
            0u);
  // Errors inside nested options name the option.
  EXPECT_EQ(error_of(R"({"d": {"$choice": [0, {"$uniform": [0.5, 0.1]}]}})"),
            "space.json: params.d[1]: $uniform needs low < high, got [0.5,0.1]");
  EXPECT_EQ(error_of(R"({"layers": [{"out": 4}, {"out": {"$randint": [4]}}]})"),
            "space.json: params.layers[1].out: $randint takes 2 arguments [low, high) (high excluded), got 1");
}

// Bounds the sampler cannot represent or sample are refused with the reason, not sampled wrongly
// ($randint over [0, 2^64-1] gave 0, $uniform over [-DBL_MAX, DBL_MAX] gave null).
TEST(Space, RefusesBoundsTheSamplerCannotRepresent) {
  const auto refused = [](const char* text, const char* reason) {
    const std::string message = error_of(text);
    EXPECT_NE(message.find(reason), std::string::npos) << text << " -> " << message;
    EXPECT_NE(message.find("space.json: params.x: "), std::string::npos) << message;
  };
  refused(R"({"x": {"$randint": [0, 18446744073709551615]}})", "within +-2^53");
  refused(R"({"x": {"$randint": [9223372036854775808, 18446744073709551615]}})", "within +-2^53");
  refused(R"({"x": {"$randint": [-9223372036854775808, 0]}})", "within +-2^53");
  refused(R"({"x": {"$randint": [-9007199254740992, 9007199254740992]}})", "2^53 grid points");
  refused(R"({"x": {"$uniform": [-1.7976931348623157e308, 1.7976931348623157e308]}})", "overflows a double");
  refused(R"({"x": {"$quniform": [0, 1e300, 1]}})", "2^53 grid points");
  refused(R"({"x": {"$quniform": [0, 100000000000000000, 10000000000]}})", "integer bounds must be within");
  refused(R"({"x": {"$normal": [0, 1e308]}})", "overflow a double");
  refused(R"({"x": {"$normal": [1.7e308, 1e307]}})", "overflow a double");
  refused(R"({"x": {"$lognormal": [0, 100]}})", "must be <= 709");
  refused(R"({"x": {"$lognormal": [-800, 1]}})", "must be <= 709");
  // Right at the limits the space is accepted and samples what it says.
  const auto space = parse(R"({"x": {"$randint": [9007199254740000, 9007199254740992]}, "y": {"$uniform": [-1e307, 1e307]},
                               "z": {"$lognormal": [0, 70]}})");
  hpsearch::RandomSampler sampler(space, 3);
  for (int i = 0; i < 200; ++i) {
    const json config = space.resolve(sampler.suggest(hpsearch::StudyHistory{}, i));
    const auto x = config["x"].get<int64_t>();
    EXPECT_GE(x, 9007199254740000);
    EXPECT_LT(x, 9007199254740992);
    EXPECT_TRUE(config["y"].is_number_float());
    EXPECT_TRUE(std::isfinite(config["y"].get<double>()));
  }
}

// JSON nested deeper than the one limit is refused by the space parser itself, which recurses.
TEST(Space, RefusesNestingDeeperThanTheLimit) {
  json deep = 1;
  for (int i = 0; i < 30000; ++i) deep = json::array({std::move(deep)});
  const json params = {{"x", std::move(deep)}};
  try {
    SearchSpace::parse(params, "space.json");
    FAIL() << "no error";
  } catch (const FileError& e) {
    EXPECT_NE(std::string(e.what()).find("nested deeper than 64 levels"), std::string::npos) << e.what();
  }
}

// Summaries name parameters by the keys on their path and choices by their options (issue 16).
TEST(SpaceLabels, NameParametersByTheKeysOnTheirPathAndChoicesByTheirOptions) {
  const auto space = parse(R"({
    "lr": {"$loguniform": [1e-4, 1e-1]},
    "layers": {"$choice": {
      "small": [["conv2d", {"out": {"$quniform": [8, 32, 8]}}], ["flatten", {}]],
      "large": [["conv2d", {"out": {"$quniform": [8, 32, 8]}}], ["conv2d", {"out": {"$quniform": [16, 64, 16]}}], ["flatten", {}]]}},
    "drop": {"$choice": [0.0, {"$uniform": [0.1, 0.3]}]},
    "norm": {"$choice": [null, {"eps": 1e-05, "momentum": 0.1, "affine": true}]},
    "head": {"$choice": [[["conv2d", {"out": 8}], ["flatten", {}]], [["conv2d", {"out": 16}], ["flatten", {}]]]},
    "pair": [{"$uniform": [0, 1]}, {"$uniform": [0, 1]}]})");
  std::vector<std::string> labels;
  for (const auto& p : space.parameters()) labels.push_back(p.label);
  // Options of "layers" in the order of their names: "large" (0), then "small" (1).
  EXPECT_EQ(labels, (std::vector<std::string>{"drop", "drop", "head", "layers", "layers.conv2d#1.out", "layers.conv2d#2.out",
                                              "layers.conv2d.out", "lr", "norm", "pair[0]", "pair[1]"}));
  EXPECT_EQ(space.parameters()[3].option_labels, (std::vector<std::string>{"large", "small"}));
  EXPECT_EQ(space.parameters()[2].option_labels, (std::vector<std::string>{"#1 2 layers", "#2 2 layers"}));
  EXPECT_EQ(space.parameters()[8].option_labels, (std::vector<std::string>{"null", "{affine,eps,momentum}"}));
  EXPECT_EQ(space.labels().size(), 10u);  // "drop" once

  // large, conv widths 16 and 32; drop from its uniform; norm's object; head option 2.
  std::vector<double> point = {1, 0.2, 1, 0, 16, 32, NAN, 0.01, 1, 0.5, 0.5};
  space.clear_inactive(point);
  const auto described = space.describe(point);
  // In the order of the space (keys sorted), each choice before its option's parameters.
  const std::vector<std::pair<std::string, json>> expected = {{"drop", 0.2},
                                                              {"head", "#2 2 layers"},
                                                              {"layers", "large"},
                                                              {"layers.conv2d#1.out", 16},
                                                              {"layers.conv2d#2.out", 32},
                                                              {"lr", 0.01},
                                                              {"norm", "{affine,eps,momentum}"},
                                                              {"pair[0]", 0.5},
                                                              {"pair[1]", 0.5}};
  EXPECT_EQ(described, expected);
  // The trainer receives the option, never its name.
  EXPECT_EQ(space.resolve(point)["layers"].size(), 3u);
  EXPECT_EQ(space.resolve(point)["drop"], 0.2);
  point[0] = 0;  // drop = 0.0, the constant
  EXPECT_EQ(space.describe(point)[0], (std::pair<std::string, json>{"drop", 0.0}));
}

TEST(SpaceLabels, ParametersActiveTogetherNeverShareALabel) {
  // Layers of one kind are counted; a layer's further items keep their index; the same label in
  // two options of one choice is fine, as they are never active together.
  const auto space = parse(R"({"a": [["conv2d", {"w": {"$uniform": [0, 1]}}, {"w": {"$uniform": [0, 1]}}],
                                     ["conv2d", {"w": {"$uniform": [0, 1]}}]],
                              "c": {"$choice": [{"w": {"$uniform": [0, 1]}}, {"w": {"$uniform": [0, 1]}}]}})");
  std::vector<std::string> labels;
  for (const auto& p : space.parameters()) labels.push_back(p.label);
  EXPECT_EQ(labels, (std::vector<std::string>{"a.conv2d#1.w", "a.conv2d#1[2].w", "a.conv2d#2.w", "c", "c.w", "c.w"}));
}

TEST(SpaceErrors, ANamedChoiceNeedsAnOption) {
  EXPECT_EQ(error_of(R"({"x": {"$choice": {}}})"), "space.json: params.x: $choice needs at least one option");
  EXPECT_EQ(error_of(R"({"x": {"$choice": 3}})"),
            "space.json: params.x: $choice takes an array of options or an object naming them, got 3");
}
