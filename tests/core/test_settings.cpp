// The settings reader against one declared table: defaults, bounds, kinds, choices, unknown keys
// with the list of valid ones, null as absent, errors naming the file and the path (or, for a
// trial's configuration, the key alone), and the README table written from the declarations.
#include <gtest/gtest.h>

#include "core/errors.hpp"
#include "core/settings.hpp"

using namespace hpsearch;
using nlohmann::json;

namespace {

const settings::Table& knobs() {
  static const settings::Table table{
      "median pruner",
      {settings::integer("startup_trials", 5, "trials finished before any pruning", 0),
       settings::open_min(settings::number("lr", 0.1, "learning rate", 0)), settings::number("percentile", 50.0, "kept percentile", 0, 100),
       settings::string("mode", "min", "direction", {"min", "max"}), settings::boolean("verbose", false, "print more"),
       settings::null_is_default(settings::integer("max_params", nullptr, "largest network", 1))},
      {"type"}};
  return table;
}

std::string error_of(const json& object, const std::string& where, void (*read)(const settings::Reader&)) {
  try {
    read(settings::Reader(object, knobs(), where, "pruner"));
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST(Settings, GivesTheDeclaredDefaultWhenAbsentAndTheValueWhenGiven) {
  const settings::Reader absent(json{{"type", "median"}}, knobs(), "s.json", "pruner");
  EXPECT_EQ(absent.integer("startup_trials"), 5);
  EXPECT_DOUBLE_EQ(absent.number("lr"), 0.1);
  EXPECT_EQ(absent.string("mode"), "min");
  EXPECT_FALSE(absent.boolean("verbose"));
  EXPECT_FALSE(absent.has("max_params"));
  const settings::Reader given(json{{"startup_trials", 7.0}, {"lr", 0.5}, {"mode", "max"}, {"verbose", true}, {"max_params", 10}}, knobs(),
                               "s.json", "pruner");
  EXPECT_EQ(given.integer("startup_trials"), 7);  // samplers hand integers over as doubles
  EXPECT_DOUBLE_EQ(given.number("lr"), 0.5);
  EXPECT_EQ(given.string("mode"), "max");
  EXPECT_TRUE(given.boolean("verbose"));
  EXPECT_EQ(given.integer("max_params"), 10);
  EXPECT_FALSE(settings::Reader(json{{"max_params", nullptr}}, knobs(), "s.json", "pruner").has("max_params"));
}

TEST(Settings, RefusesAnUnknownKeyWithTheListOfValidOnes) {
  try {
    settings::Reader(json{{"startup_trial", 3}}, knobs(), "s.json", "pruner");
    FAIL() << "no error";
  } catch (const FileError& e) {
    EXPECT_STREQ(e.what(),
                 "s.json: pruner.startup_trial: unknown setting of the median pruner (it takes startup_trials, lr, percentile, mode, "
                 "verbose and max_params)");
  }
}

TEST(Settings, ChecksKindsBoundsAndChoicesNamingTheFileAndPath) {
  auto startup = [](const settings::Reader& r) { r.integer("startup_trials"); };
  auto lr = [](const settings::Reader& r) { r.number("lr"); };
  auto percentile = [](const settings::Reader& r) { r.number("percentile"); };
  auto mode = [](const settings::Reader& r) { r.string("mode"); };
  EXPECT_EQ(error_of(json{{"startup_trials", -1}}, "s.json", startup), "s.json: pruner.startup_trials: must be an integer >= 0, got -1");
  EXPECT_EQ(error_of(json{{"startup_trials", 2.5}}, "s.json", startup), "s.json: pruner.startup_trials: must be an integer >= 0, got 2.5");
  EXPECT_EQ(error_of(json{{"startup_trials", "3"}}, "s.json", startup),
            "s.json: pruner.startup_trials: must be an integer >= 0, got \"3\"");
  EXPECT_EQ(error_of(json{{"lr", 0}}, "s.json", lr), "s.json: pruner.lr: must be a number > 0, got 0");
  EXPECT_EQ(error_of(json{{"percentile", 101}}, "s.json", percentile), "s.json: pruner.percentile: must be a number in [0, 100], got 101");
  EXPECT_EQ(error_of(json{{"mode", "up"}}, "s.json", mode), "s.json: pruner.mode: must be \"min\" or \"max\", got \"up\"");
  EXPECT_EQ(error_of(json::array(), "s.json", startup), "s.json: pruner: must be an object, got []");
}

TEST(Settings, ATrialConfigurationErrorNamesTheKeyAlone) {
  try {
    settings::Reader(json{{"lr", -1}}, knobs(), "", "").number("lr");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "lr: must be a number > 0, got -1");
  }
}

TEST(Settings, AKeyReadButNotDeclaredIsTheCodesMistake) {
  const settings::Reader r(json::object(), knobs(), "s.json", "pruner");
  EXPECT_THROW(r.integer("undeclared"), Error);
  try {
    r.integer("undeclared");
  } catch (const UserError&) {
    FAIL() << "not a user's mistake";
  } catch (const Error&) {
  }
}

TEST(Settings, WritesTheReadmeTableFromTheDeclarations) {
  const std::string table = settings::markdown(knobs());
  EXPECT_NE(table.find("| `startup_trials` | `5` | trials finished before any pruning (>= 0) |"), std::string::npos) << table;
  EXPECT_NE(table.find("| `lr` | `0.1` | learning rate (> 0) |"), std::string::npos) << table;
  EXPECT_NE(table.find("| `max_params` | none | largest network (>= 1) |"), std::string::npos) << table;
  // A JSON default is written as a person writes it, with spaces.
  const settings::Table objects{"space file",
                                {settings::any("sampler", json{{"type", "random"}, {"seed", json::array({1, 2})}}, "the sampler")}};
  EXPECT_EQ(settings::markdown(objects),
            "| key | default | meaning |\n| --- | --- | --- |\n| `sampler` | `{\"seed\": [1, 2], \"type\": \"random\"}` | the sampler |\n");
}

TEST(Settings, FindsTheTableAfterItsMarkerInMarkdown) {
  const std::string text = "# x\n\n<!-- settings: median pruner -->\n" + settings::markdown(knobs()) + "\nafter\n| not | this |\n";
  EXPECT_EQ(settings::table_after_marker(text, "median pruner"), settings::markdown(knobs()));
  EXPECT_EQ(settings::table_after_marker(text, "tpe sampler"), "");
}

namespace {

const settings::Table& gamma_table() {
  static const settings::Table table{"gamma of the tpe sampler",
                                     {settings::open_min(settings::number("fraction", 0.1, "share of the good set", 0, 1)),
                                      settings::integer("max", 25, "largest good set", 1)}};
  return table;
}

const settings::Table& sampler_table() {
  static const settings::Table table{
      "tpe sampler",
      {settings::documented_default(settings::integer("seed", 0, "seed of the generator", 0), "drawn when the study is created"),
       settings::or_word(settings::integer("n_startup_trials", 5, "trials drawn from the prior", 0), "auto"),
       settings::table("gamma", gamma_table(), "good-set size"), settings::integer("count", 3, "a count", 0)},
      {"type"},
      "{\"type\": \"tpe\"}",
      "knob"};
  return table;
}

std::string sampler_error(const json& object, void (*read)(const settings::Reader&)) {
  try {
    read(settings::Reader(object, sampler_table(), "s.json", "sampler"));
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST(Settings, AWordStandsInForANumberOnlyWhereDeclared) {
  const settings::Reader automatic(json{{"n_startup_trials", "auto"}}, sampler_table(), "s.json", "sampler");
  EXPECT_EQ(automatic.word("n_startup_trials"), "auto");
  EXPECT_THROW(automatic.integer("n_startup_trials"), Error) << "the word is read with word() first";
  const settings::Reader number(json{{"n_startup_trials", 7}}, sampler_table(), "s.json", "sampler");
  EXPECT_EQ(number.word("n_startup_trials"), "");
  EXPECT_EQ(number.integer("n_startup_trials"), 7);
  EXPECT_EQ(settings::Reader(json::object(), sampler_table(), "s.json", "sampler").word("n_startup_trials"), "");
  auto read = [](const settings::Reader& r) {
    if (r.word("n_startup_trials").empty()) r.integer("n_startup_trials");
  };
  EXPECT_EQ(sampler_error(json{{"n_startup_trials", "many"}}, read),
            "s.json: sampler.n_startup_trials: must be \"auto\" or an integer >= 0, got \"many\"");
  EXPECT_EQ(sampler_error(json{{"n_startup_trials", -2}}, read),
            "s.json: sampler.n_startup_trials: must be \"auto\" or an integer >= 0, got -2");
}

TEST(Settings, ANestedTableReadsItsDefaultsAndNamesItsPath) {
  const settings::Reader absent(json::object(), sampler_table(), "s.json", "sampler");
  EXPECT_DOUBLE_EQ(absent.table("gamma").number("fraction"), 0.1);
  EXPECT_EQ(absent.table("gamma").integer("max"), 25);
  const settings::Reader given(json{{"gamma", {{"max", 4}}}}, sampler_table(), "s.json", "sampler");
  EXPECT_EQ(given.table("gamma").integer("max"), 4);
  EXPECT_DOUBLE_EQ(given.table("gamma").number("fraction"), 0.1);
  EXPECT_THROW(given.table("count"), Error) << "count is no table";
  auto fraction = [](const settings::Reader& r) { r.table("gamma").number("fraction"); };
  EXPECT_EQ(sampler_error(json{{"gamma", {{"fractoin", 0.2}}}}, fraction),
            "s.json: sampler.gamma.fractoin: unknown setting of the gamma of the tpe sampler (it takes fraction and max)");
  EXPECT_EQ(sampler_error(json{{"gamma", {{"fraction", 0}}}}, fraction),
            "s.json: sampler.gamma.fraction: must be a number in (0, 1], got 0");
  EXPECT_EQ(sampler_error(json{{"gamma", 3}}, fraction), "s.json: sampler.gamma: must be an object, got 3");
}

TEST(Settings, ATableNamesItsKeysItsWayAndShowsAnExample) {
  auto nothing = [](const settings::Reader&) {};
  EXPECT_EQ(sampler_error(json{{"sed", 1}}, nothing),
            "s.json: sampler.sed: unknown knob of the tpe sampler (it takes seed, n_startup_trials, gamma and count)");
  EXPECT_EQ(sampler_error(json("tpe"), nothing), "s.json: sampler: must be an object such as {\"type\": \"tpe\"}, got \"tpe\"");
}

TEST(Settings, LargeIntegersAreExactOrSaturateInsteadOfOverflowing) {
  const settings::Reader r(json{{"count", 9007199254740993LL}}, sampler_table(), "s.json", "sampler");
  EXPECT_EQ(r.integer("count"), 9007199254740993LL) << "a JSON integer is read exactly, not through a double";
  EXPECT_EQ(r.int32("count"), std::numeric_limits<int>::max());
  const settings::Reader huge(json{{"count", 1e300}}, sampler_table(), "s.json", "sampler");
  EXPECT_EQ(huge.integer("count"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(settings::Reader(json{{"count", 12}}, sampler_table(), "s.json", "sampler").int32("count"), 12);
}

TEST(Settings, TheReadmeTableShowsDocumentedDefaultsWordsAndNestedKeys) {
  EXPECT_EQ(settings::markdown(sampler_table()),
            "| key | default | meaning |\n"
            "| --- | --- | --- |\n"
            "| `seed` | drawn when the study is created | seed of the generator (>= 0) |\n"
            "| `n_startup_trials` | `5` | trials drawn from the prior (>= 0 or \"auto\") |\n"
            "| `gamma` | `{\"fraction\": 0.1, \"max\": 25}` | good-set size |\n"
            "| `gamma.fraction` | `0.1` | share of the good set (in (0, 1]) |\n"
            "| `gamma.max` | `25` | largest good set (>= 1) |\n"
            "| `count` | `3` | a count (>= 0) |\n");
}
