// The LibTorch trainers' settings and configuration keys are declared once, in tables: the
// README's tables are exactly what the declarations write, every trainer shares the epoch loop's
// keys with its own defaults, and a trial's configuration is checked against its table.
#include <gtest/gtest.h>

#include "core/errors.hpp"
#include "core/settings.hpp"
#include "trainers/torch/balls/detect_trainer.hpp"
#include "trainers/torch/balls/forecast_trainer.hpp"
#include "trainers/torch/classify/classify_trainer.hpp"
#include "trainers/torch/nn/trial_setup.hpp"

using namespace hpsearch;
using nlohmann::json;

namespace {

std::string readme() { return settings::read_text_file(std::string(HPSEARCH_SOURCE_DIR) + "/README.md"); }

json fallback(const settings::Table& table, const std::string& key) {
  const settings::Setting* s = table.find(key);
  return s ? s->fallback : json("undeclared");
}

}  // namespace

TEST(TrainerTables, TheReadmeTablesAreTheDeclarations) {
  const std::string text = readme();
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(settings::table_after_marker(text, "classify trainer"), settings::markdown(classify_settings_table()));
  EXPECT_EQ(settings::table_after_marker(text, "classify configuration"), settings::markdown(classify_config_table()));
  // detect and forecast take the same settings: one README table for both.
  EXPECT_EQ(settings::table_after_marker(text, "detect trainer"), settings::markdown(detect_settings_table()));
  EXPECT_EQ(settings::table_after_marker(text, "detect trainer"), settings::markdown(forecast_settings_table()));
  EXPECT_EQ(settings::table_after_marker(text, "detect configuration"), settings::markdown(detect_config_table()));
  EXPECT_EQ(settings::table_after_marker(text, "forecast configuration"), settings::markdown(forecast_config_table()));
}

TEST(TrainerTables, TheEpochLoopKeysAreSharedWithEachTrainersDefaults) {
  EXPECT_EQ(fallback(classify_config_table(), "epochs"), 10);
  EXPECT_EQ(fallback(classify_config_table(), "batch_size"), 64);
  EXPECT_EQ(fallback(classify_config_table(), "eval_batch_size"), 1000);
  for (const settings::Table* t : {&detect_config_table(), &forecast_config_table()}) {
    EXPECT_EQ(fallback(*t, "epochs"), 90) << t->name;
    EXPECT_EQ(fallback(*t, "batch_size"), 16) << t->name;
    EXPECT_EQ(fallback(*t, "eval_batch_size"), 1024) << t->name;
  }
  // The shared keys come first, in the same order, then each trainer's own.
  const auto& shared = nn::config_table("x", {1, 1, 1, "none"}).settings;
  for (const settings::Table* t : {&classify_config_table(), &detect_config_table(), &forecast_config_table()}) {
    ASSERT_GE(t->settings.size(), shared.size());
    for (std::size_t i = 0; i < shared.size(); ++i) EXPECT_EQ(t->settings[i].key, shared[i].key) << t->name;
  }
  EXPECT_NE(detect_config_table().find("bce_loss_scale"), nullptr);
  EXPECT_EQ(forecast_config_table().find("bce_loss_scale"), nullptr);
  EXPECT_NE(classify_config_table().find("augmentation"), nullptr);
}

TEST(TrainerTables, ATrialConfigurationIsReadWithItsDefaultsAndChecked) {
  const TrialContext absent{0, json::object(), "unused", "valid_loss", ObjectiveMode::Minimize};
  const nn::TrialSetup setup(absent, detect_config_table(), default_detect_architecture());
  EXPECT_EQ(setup.loop().epochs, 90);
  EXPECT_EQ(setup.batch_size(), 16);
  EXPECT_EQ(setup.eval_batch_size(), 1024);
  EXPECT_EQ(setup.loop().seed, 0u);
  EXPECT_EQ(setup.loop().time_budget_s, 0);
  EXPECT_TRUE(setup.loop().evaluate_before_training);
  EXPECT_DOUBLE_EQ(setup.config().number("bce_loss_scale"), 0.1);

  // Null is the default, and samplers' doubles are integers; time_budget_s is read alike by all.
  const TrialContext given{0, json{{"epochs", 3.0}, {"batch_size", nullptr}, {"time_budget_s", 2.5}}, "unused", "v",
                           ObjectiveMode::Minimize};
  for (const settings::Table* t : {&classify_config_table(), &detect_config_table(), &forecast_config_table()}) {
    const nn::TrialSetup s(given, *t, default_forecast_architecture());
    EXPECT_EQ(s.loop().epochs, 3) << t->name;
    EXPECT_EQ(s.batch_size(), static_cast<int64_t>(fallback(*t, "batch_size").get<int64_t>())) << t->name;
    EXPECT_DOUBLE_EQ(s.loop().time_budget_s, 2.5) << t->name;
  }

  auto error_of = [](const json& config) {
    try {
      nn::TrialSetup(TrialContext{0, config, "unused", "v", ObjectiveMode::Minimize}, classify_config_table(),
                     default_classify_architecture());
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error_of({{"time_budget_s", -1}}), "time_budget_s: must be a number >= 0, got -1");
  EXPECT_EQ(error_of({{"epochs", 0}}), "epochs: must be an integer >= 1, got 0");
  EXPECT_EQ(error_of({{"batch_size", 16.5}}), "batch_size: must be an integer >= 1, got 16.5");
  EXPECT_EQ(error_of({{"architecture", 3}}), "architecture: must be an object, got 3");
  EXPECT_EQ(error_of(json::array()), "the configuration must be an object, got []");
}
