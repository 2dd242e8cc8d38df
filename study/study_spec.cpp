#include "study/study_spec.hpp"

#include <fstream>
#include <sstream>

#include "core/errors.hpp"
#include "search/pruners/pruner.hpp"

namespace hpsearch {

using nlohmann::json;

namespace {

const char* const kTopLevelKeys[] = {"trainer", "params", "objective", "trials", "sampler", "pruner", "retries", "resources", "description"};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError(path + ": cannot read the space file (does it exist? see spaces/ for examples)");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::pair<std::string, std::string> split_assignment(const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) throw UserError("--set " + text + ": expected KEY=VALUE, e.g. --set trials=10");
  return {text.substr(0, eq), text.substr(eq + 1)};
}

json parse_override_value(const std::string& text) {
  json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return json(text);
  return value;
}

void set_by_path(json& document, const std::string& path, json value, const std::string& where) {
  json* node = &document;
  std::size_t pos = 0;
  std::string walked;
  while (pos < path.size()) {
    if (path[pos] == '[') {
      const auto close = path.find(']', pos);
      if (close == std::string::npos) throw UserError(where + ": '" + path + "': unclosed '['");
      const std::size_t index = std::stoul(path.substr(pos + 1, close - pos - 1));
      if (!node->is_array() || index >= node->size()) throw UserError(where + ": '" + path + "': " + walked + " has no element " + std::to_string(index));
      node = &(*node)[index];
      walked = path.substr(0, close + 1);
      pos = close + 1;
      if (pos < path.size() && path[pos] == '.') ++pos;
      continue;
    }
    const auto end = path.find_first_of(".[", pos);
    const std::string key = path.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    if (key.empty()) throw UserError(where + ": '" + path + "': empty key");
    if (node->is_null()) *node = json::object();
    if (!node->is_object()) throw UserError(where + ": '" + path + "': " + (walked.empty() ? "the document" : walked) + " is not an object");
    node = &(*node)[key];
    walked = path.substr(0, end == std::string::npos ? path.size() : end);
    pos = end == std::string::npos ? path.size() : (path[end] == '.' ? end + 1 : end);
  }
  *node = std::move(value);
}

StudySpec StudySpec::load(const std::string& path, const std::vector<std::pair<std::string, std::string>>& overrides) {
  std::string text = read_file(path);
  json document;
  try {
    document = json::parse(text);
  } catch (const json::parse_error& e) {
    throw UserError(path + ": not valid JSON: " + e.what());
  }
  if (!document.is_object()) throw UserError(path + ": a space file is a JSON object with trainer, params, objective, trials and sampler");
  for (const auto& [key, value] : overrides) set_by_path(document, key, parse_override_value(value), "--set " + key);
  StudySpec spec = from_document(document, path, std::move(text));
  return spec;
}

StudySpec StudySpec::from_document(const json& document, const std::string& where, std::string file_text) {
  StudySpec spec;
  spec.source = where;
  spec.file_text = std::move(file_text);
  spec.document = document;
  for (auto it = document.begin(); it != document.end(); ++it) {
    bool known = false;
    for (const char* k : kTopLevelKeys) known = known || it.key() == k;
    if (!known) throw FileError(where, it.key(), "unknown key; a space file has trainer, params, objective, trials, sampler, pruner, retries, resources and description");
  }
  if (!document.contains("trainer")) throw FileError(where, "trainer", "is required, e.g. {\"type\": \"synthetic\", \"function\": \"branin\"}");
  if (!document.contains("params")) throw FileError(where, "params", "is required: the parameters to search");
  spec.trainer = document["trainer"];

  if (document.contains("objective")) {
    const json& objective = document["objective"];
    if (!objective.is_object()) throw FileError(where, "objective", "must be an object such as {\"metric\": \"valid_loss\", \"mode\": \"min\"}");
    for (auto it = objective.begin(); it != objective.end(); ++it) {
      if (it.key() != "metric" && it.key() != "mode") throw FileError(where, "objective." + it.key(), "unknown key; objective has metric and mode");
    }
    if (objective.contains("metric")) {
      if (!objective["metric"].is_string() || objective["metric"].get<std::string>().empty()) {
        throw FileError(where, "objective.metric", "must be the name of a reported metric, e.g. \"valid_loss\"");
      }
      spec.objective_metric = objective["metric"].get<std::string>();
    }
    if (objective.contains("mode")) {
      const json& mode = objective["mode"];
      if (mode == "min") spec.mode = ObjectiveMode::Minimize;
      else if (mode == "max") spec.mode = ObjectiveMode::Maximize;
      else throw FileError(where, "objective.mode", "must be \"min\" or \"max\", got " + mode.dump());
    }
  }
  if (document.contains("trials")) {
    const json& trials = document["trials"];
    if (!trials.is_number_integer() || trials.get<long long>() < 1 || trials.get<long long>() > 100000000) {
      throw FileError(where, "trials", "must be a positive integer, got " + trials.dump());
    }
    spec.trials = trials.get<int>();
  }
  if (document.contains("retries")) {
    const json& retries = document["retries"];
    if (!retries.is_object()) throw FileError(where, "retries", "must be an object such as {\"failed\": 2}");
    for (auto it = retries.begin(); it != retries.end(); ++it) {
      if (it.key() != "failed") throw FileError(where, "retries." + it.key(), "unknown key; retries has failed (how many times a FAIL trial runs again)");
    }
    if (retries.contains("failed")) {
      const json& failed = retries["failed"];
      if (!failed.is_number_integer() || failed.get<long long>() < 0 || failed.get<long long>() > 1000) {
        throw FileError(where, "retries.failed", "must be an integer from 0 to 1000, got " + failed.dump());
      }
      spec.retries_failed = failed.get<int>();
    }
  }
  if (document.contains("resources")) {
    const json& resources = document["resources"];
    if (!resources.is_object()) throw FileError(where, "resources", "must be an object such as {\"gpus_per_trial\": 2}");
    for (auto it = resources.begin(); it != resources.end(); ++it) {
      if (it.key() != "gpus_per_trial") {
        throw FileError(where, "resources." + it.key(), "unknown key; resources has gpus_per_trial (ranks, one GPU each, that train one trial)");
      }
    }
    const json& gpus = resources.value("gpus_per_trial", json(0));
    if (!gpus.is_number_integer() || gpus.get<long long>() < 0 || gpus.get<long long>() > 4096) {
      throw FileError(where, "resources.gpus_per_trial", "must be an integer from 1 to 4096 (0: one rank per trial, no group), got " + gpus.dump());
    }
    spec.gpus_per_trial = gpus.get<int>();
  }
  spec.sampler = document.contains("sampler") ? document["sampler"] : json{{"type", "random"}};
  spec.pruner = document.contains("pruner") ? document["pruner"] : json{{"type", "none"}};
  make_pruner(spec.pruner, where);  // checks every knob before anything runs
  if (document.contains("description") && !document["description"].is_string()) throw FileError(where, "description", "must be a string");
  spec.space = SearchSpace::parse(document["params"], where);
  return spec;
}

}  // namespace hpsearch
