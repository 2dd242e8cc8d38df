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
  static const settings::Table table{"median pruner",
                                     {settings::integer("startup_trials", 5, "trials finished before any pruning", 0),
                                      settings::open_min(settings::number("lr", 0.1, "learning rate", 0)),
                                      settings::number("percentile", 50.0, "kept percentile", 0, 100),
                                      settings::string("mode", "min", "direction", {"min", "max"}),
                                      settings::boolean("verbose", false, "print more"),
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
  const settings::Reader given(json{{"startup_trials", 7.0}, {"lr", 0.5}, {"mode", "max"}, {"verbose", true}, {"max_params", 10}},
                               knobs(), "s.json", "pruner");
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
  EXPECT_EQ(error_of(json{{"startup_trials", "3"}}, "s.json", startup), "s.json: pruner.startup_trials: must be an integer >= 0, got \"3\"");
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
}

TEST(Settings, FindsTheTableAfterItsMarkerInMarkdown) {
  const std::string text = "# x\n\n<!-- settings: median pruner -->\n" + settings::markdown(knobs()) + "\nafter\n| not | this |\n";
  EXPECT_EQ(settings::table_after_marker(text, "median pruner"), settings::markdown(knobs()));
  EXPECT_EQ(settings::table_after_marker(text, "tpe sampler"), "");
}
