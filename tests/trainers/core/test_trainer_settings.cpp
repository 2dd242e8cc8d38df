// The synthetic and command trainers read their settings through their declared tables: unknown
// keys are refused with the list of valid ones, bounds are checked, and the README's tables of
// them are exactly what the declarations write.
#include <gtest/gtest.h>

#include "core/errors.hpp"
#include "core/settings.hpp"
#include "trainers/core/command_trainer.hpp"
#include "trainers/core/synthetic_trainer.hpp"

using namespace hpsearch;
using nlohmann::json;

namespace {

std::string readme() { return settings::read_text_file(std::string(HPSEARCH_SOURCE_DIR) + "/README.md"); }

template <typename T>
std::string error_of(const json& settings) {
  try {
    T trainer(settings, "s.json");
  } catch (const FileError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST(TrainerSettings, TheReadmeTablesAreTheDeclarations) {
  const std::string text = readme();
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(settings::table_after_marker(text, "synthetic trainer"), settings::markdown(synthetic_settings_table()));
  EXPECT_EQ(settings::table_after_marker(text, "command trainer"), settings::markdown(command_settings_table()));
}

TEST(TrainerSettings, SyntheticRefusesUnknownKeysAndBadValues) {
  EXPECT_EQ(error_of<SyntheticTrainer>({{"type", "synthetic"}, {"function", "branin"}, {"stpes", 3}}),
            "s.json: trainer.stpes: unknown setting of the synthetic trainer (it takes function, steps, noise and sleep_ms)");
  EXPECT_EQ(error_of<SyntheticTrainer>({{"type", "synthetic"}}).rfind("s.json: trainer.function: is required", 0), 0u);
  EXPECT_EQ(error_of<SyntheticTrainer>({{"type", "synthetic"}, {"function", "sphere"}}),
            "s.json: trainer.function: must be \"branin\", \"hartmann6\", \"rosenbrock\" or \"learning_curve\", got \"sphere\"");
  EXPECT_EQ(error_of<SyntheticTrainer>({{"type", "synthetic"}, {"function", "branin"}, {"steps", 3}}),
            "s.json: trainer.steps: only the learning_curve function reports steps");
  EXPECT_EQ(error_of<SyntheticTrainer>({{"type", "synthetic"}, {"function", "learning_curve"}, {"steps", 2.5}}),
            "s.json: trainer.steps: must be an integer >= 0, got 2.5");
  EXPECT_EQ(error_of<SyntheticTrainer>({{"type", "synthetic"}, {"function", "branin"}, {"noise", -1}}),
            "s.json: trainer.noise: must be a number >= 0, got -1");
  EXPECT_EQ(error_of<SyntheticTrainer>({{"type", "synthetic"}, {"function", "learning_curve"}, {"steps", 4}}), "no error");
}

TEST(TrainerSettings, CommandRefusesUnknownKeysAndBadValues) {
  const json argv = json::array({"python3", "train.py"});
  EXPECT_EQ(error_of<CommandTrainer>({{"type", "command"}, {"argv", argv}, {"timeout", 3}}),
            "s.json: trainer.timeout: unknown setting of the command trainer (it takes argv and timeout_s)");
  EXPECT_EQ(error_of<CommandTrainer>({{"type", "command"}}).rfind("s.json: trainer.argv: is required", 0), 0u);
  EXPECT_EQ(error_of<CommandTrainer>({{"type", "command"}, {"argv", json::array()}}),
            "s.json: trainer.argv: must be a non-empty array of strings");
  EXPECT_EQ(error_of<CommandTrainer>({{"type", "command"}, {"argv", argv}, {"timeout_s", 0}}),
            "s.json: trainer.timeout_s: must be a number > 0, got 0");
  EXPECT_EQ(error_of<CommandTrainer>({{"type", "command"}, {"argv", argv}, {"timeout_s", 5}}), "no error");
}
