#include "trainers/torch/registry.hpp"

#include "core/errors.hpp"
#include "core/json_input.hpp"
#include "trainers/core/command_trainer.hpp"
#include "trainers/core/synthetic_trainer.hpp"
#include "trainers/torch/balls/detect_trainer.hpp"
#include "trainers/torch/balls/forecast_trainer.hpp"
#include "trainers/torch/classify/classify_trainer.hpp"
#include "trainers/torch/device.hpp"

namespace hpsearch {

std::unique_ptr<Trainer> make_trainer(const nlohmann::json& settings, const std::string& file) {
  if (!settings.is_object() || !settings.contains("type") || !settings["type"].is_string()) {
    throw FileError(file, "trainer", "must be an object with a \"type\": synthetic, command, classify, detect or forecast");
  }
  const std::string type = settings["type"].get<std::string>();
  if (type == "synthetic") return std::make_unique<SyntheticTrainer>(settings, file);
  if (type == "command") return std::make_unique<CommandTrainer>(settings, file);
  if (type == "classify") return std::make_unique<ClassifyTrainer>(settings, file);
  if (type == "detect") return std::make_unique<DetectTrainer>(settings, file);
  if (type == "forecast") return std::make_unique<ForecastTrainer>(settings, file);
  throw FileError(file, "trainer.type",
                  "unknown trainer '" + quoted_text(type, 60) + "'; use synthetic, command, classify, detect or forecast");
}

std::string describe_trainer(const nlohmann::json& settings) {
  const std::string type = settings.value("type", "");
  if (type == "command") {
    std::string program;
    for (const auto& word : settings.value("argv", nlohmann::json::array()))
      program += (program.empty() ? "" : " ") + word.get<std::string>();
    return "command trainer running " + program;
  }
  if (type == "synthetic") return "synthetic trainer (" + settings.value("function", std::string("?")) + ")";
  return type + " trainer on " + describe_device();
}

StepPlan step_plan(const nlohmann::json& settings) {
  const std::string type = settings.value("type", "");
  StepPlan plan;
  if (type == "synthetic") {
    const int steps = SyntheticTrainer(settings, "trainer").steps();
    if (steps == 0) return plan;
    plan.last_step = [steps](const nlohmann::json&) { return std::optional<int>(steps); };
  } else if (type == "classify" || type == "detect" || type == "forecast") {
    plan.unit = "epoch";
    plan.last_step = [](const nlohmann::json& config) {
      const auto epochs = config.find("epochs");
      return epochs != config.end() && epochs->is_number_integer() ? std::optional<int>(epochs->get<int>()) : std::nullopt;
    };
  }
  return plan;
}

const settings::Table* check_trainer(const nlohmann::json& settings, const std::string& file) {
  make_trainer(settings, file);
  const std::string type = settings["type"].get<std::string>();
  if (type == "classify") return &classify_config_table();
  if (type == "detect") return &detect_config_table();
  if (type == "forecast") return &forecast_config_table();
  return nullptr;
}

}  // namespace hpsearch
