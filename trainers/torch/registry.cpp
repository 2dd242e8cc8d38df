#include "trainers/torch/registry.hpp"

#include "core/errors.hpp"
#include "core/json_input.hpp"
#include "trainers/core/command_trainer.hpp"
#include "trainers/core/synthetic_trainer.hpp"
#include "trainers/torch/balls/detect_trainer.hpp"
#include "trainers/torch/balls/forecast_trainer.hpp"
#include "trainers/torch/classify/classify_trainer.hpp"

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

const settings::Table* check_trainer(const nlohmann::json& settings, const std::string& file) {
  make_trainer(settings, file);
  const std::string type = settings["type"].get<std::string>();
  if (type == "classify") return &classify_config_table();
  if (type == "detect") return &detect_config_table();
  if (type == "forecast") return &forecast_config_table();
  return nullptr;
}

}  // namespace hpsearch
