#include "protocol/protocol.hpp"

namespace hpsearch::protocol {

using nlohmann::json;

std::string encode(const StudyForWorkers& study) {
  return json{{"trainer", study.trainer},
              {"objective_metric", study.objective_metric},
              {"space_file", study.space_file},
              {"mode", study.mode == ObjectiveMode::Maximize ? "max" : "min"},
              {"heartbeat_s", study.heartbeat_s}, {"gpus_per_trial", study.gpus_per_trial}}
      .dump();
}

StudyForWorkers decode_study(const std::string& text) {
  const json j = json::parse(text);
  return {j.at("trainer"), j.at("objective_metric").get<std::string>(), j.at("space_file").get<std::string>(),
          j.value("mode", "min") == "max" ? ObjectiveMode::Maximize : ObjectiveMode::Minimize, j.value("heartbeat_s", 5.0), j.value("gpus_per_trial", 0)};
}

std::string encode(const TrialAssignment& trial) {
  return json{{"trial", trial.trial}, {"config", trial.config}, {"trial_dir", trial.trial_dir}}.dump();
}

TrialAssignment decode_trial(const std::string& text) {
  const json j = json::parse(text);
  return {j.at("trial").get<int>(), j.at("config"), j.at("trial_dir").get<std::string>()};
}

std::string encode(const StepReport& step) {
  return json{{"trial", step.trial}, {"step", step.step}, {"metrics", step.metrics}}.dump();
}

StepReport decode_step(const std::string& text) {
  const json j = json::parse(text);
  return {j.at("trial").get<int>(), j.at("step").get<int>(), j.at("metrics")};
}

std::string encode(const TrialResult& result) {
  json j{{"trial", result.trial}, {"state", to_string(result.state)}, {"error", result.error}};
  j["value"] = result.value ? json(*result.value) : json(nullptr);
  return j.dump();
}

TrialResult decode_result(const std::string& text) {
  const json j = json::parse(text);
  TrialResult r;
  r.trial = j.at("trial").get<int>();
  r.state = trial_state_from_string(j.at("state").get<std::string>());
  if (!j.at("value").is_null()) r.value = j.at("value").get<double>();
  r.error = j.at("error").get<std::string>();
  return r;
}

}  // namespace hpsearch::protocol
