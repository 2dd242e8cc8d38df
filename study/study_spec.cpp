#include "study/study_spec.hpp"

#include <fstream>
#include <sstream>

#include "core/errors.hpp"
#include "core/json_input.hpp"
#include "core/settings.hpp"
#include "search/pruners/pruner.hpp"

namespace hpsearch {

using nlohmann::json;

namespace {

const settings::Table& objective_table() {
  static const settings::Table table{
      "space file's objective",
      {settings::string("metric", "value", "the reported metric to optimise, e.g. \"valid_loss\""),
       settings::string("mode", "min", "whether lower (`\"min\"`) or higher (`\"max\"`) values are better", {"min", "max"}),
       settings::string("use", "best",
                        "a trial's value: the `\"best\"` of its trained steps (>= 1) or the `\"last\"` one; step 0, the untrained "
                        "model's evaluation, never counts",
                        {"best", "last"})},
      {},
      "{\"metric\": \"valid_loss\", \"mode\": \"min\"}"};
  return table;
}

const settings::Table& retries_table() {
  static const settings::Table table{
      "space file's retries",
      {settings::integer("failed", 0, "how many times a FAIL trial runs again, same number and configuration; `--retries N` overrides it",
                         0, 1000)},
      {},
      "{\"failed\": 2}"};
  return table;
}

const settings::Table& resources_table() {
  static const settings::Table table{"space file's resources",
                                     {settings::integer("gpus_per_trial", 0,
                                                        "ranks, one GPU each, that train one trial; `0`: one rank per trial, no group; "
                                                        "`--gpus-per-trial G` overrides it",
                                                        0, 4096)},
                                     {},
                                     "{\"gpus_per_trial\": 2}"};
  return table;
}

}  // namespace

// The top-level keys, declared once. trainer, params, sampler and pruner are read whole here and
// checked by their own readers (make_trainer, SearchSpace::parse, make_sampler, make_pruner).
const settings::Table& space_file_settings() {
  static const settings::Table table{
      "space file",
      {settings::required(settings::any("trainer", nullptr,
                                        "which trainer runs a configuration, and its settings, e.g. "
                                        "{\"type\": \"synthetic\", \"function\": \"branin\"}")),
       settings::required(
           settings::any("params", nullptr, "the parameters to search: the configuration, with distributions where it is searched")),
       settings::table("objective", objective_table(), "what a trial's value is: one of the metrics its trainer reports"),
       settings::integer("trials", 100, "number of trials of the study; `--trials T` overrides it", 1, 100000000),
       settings::any("sampler", json{{"type", "random"}},
                     "`{\"type\": \"random\", \"seed\": S}` or `{\"type\": \"tpe\", ...}` (see [The TPE sampler](#the-tpe-sampler)); "
                     "the seed is drawn and stored when absent"),
       settings::any("pruner", json{{"type", "none"}}, "stops unpromising trials early: see [Pruning](#pruning)"),
       settings::table("retries", retries_table(), "runs again of failed trials"),
       settings::table("resources", resources_table(),
                       "what one trial runs on: see [Several GPUs per trial](#several-gpus-per-trial---gpus-per-trial)"),
       settings::string("description", nullptr, "free text")},
      {},
      "",
      "key"};
  return table;
}

namespace {

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
  if (eq == std::string::npos || eq == 0) throw UserError("--set " + quoted_text(text) + ": expected KEY=VALUE, e.g. --set trials=10");
  return {text.substr(0, eq), text.substr(eq + 1)};
}

json parse_override_value(const std::string& text, const std::string& where) {
  // A string value is stored in the study's document: JSON strings are UTF-8, and dump() of one
  // that is not throws (after the database was created), so invalid bytes are refused here.
  if (!is_valid_utf8(text)) throw UserError(where + ": the value is not valid UTF-8 text");
  std::optional<json> value = try_parse_user_json(text, where);
  if (!value) return json(text);
  return std::move(*value);
}

void apply_override(json& document, const std::string& key, const std::string& value) {
  if (!is_valid_utf8(key)) throw UserError("--set " + quoted_text(key) + ": the key is not valid UTF-8 text");
  const std::string where = "--set " + quoted_text(key);
  set_by_path(document, key, parse_override_value(value, where), where);
  check_json_depth(document, where);  // a deep path makes a deep document as surely as a deep value
}

void set_by_path(json& document, const std::string& path, json value, const std::string& where) {
  json* node = &document;
  std::size_t pos = 0;
  std::string walked;
  while (pos < path.size()) {
    if (path[pos] == '[') {
      const auto close = path.find(']', pos);
      if (close == std::string::npos) throw UserError(where + ": '" + quoted_text(path) + "': unclosed '['");
      const std::string digits = path.substr(pos + 1, close - pos - 1);
      // At most 9 digits: any index an array of a space file can have, and no overflow.
      if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos)
        throw UserError(where + ": '" + quoted_text(path) + "': [" + quoted_text(digits, 40) + "] is not an array index (0, 1, ...)");
      const std::size_t index = std::stoul(digits);
      if (!node->is_array() || index >= node->size())
        throw UserError(where + ": '" + quoted_text(path) + "': " + quoted_text(walked) + " has no element " + std::to_string(index));
      node = &(*node)[index];
      walked = path.substr(0, close + 1);
      pos = close + 1;
      if (pos < path.size() && path[pos] == '.') ++pos;
      continue;
    }
    const auto end = path.find_first_of(".[", pos);
    const std::string key = path.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    if (key.empty()) throw UserError(where + ": '" + quoted_text(path) + "': empty key");
    if (node->is_null()) *node = json::object();
    if (!node->is_object())
      throw UserError(where + ": '" + quoted_text(path) + "': " + (walked.empty() ? "the document" : quoted_text(walked)) +
                      " is not an object");
    node = &(*node)[key];
    walked = path.substr(0, end == std::string::npos ? path.size() : end);
    pos = end == std::string::npos ? path.size() : (path[end] == '.' ? end + 1 : end);
  }
  *node = std::move(value);
}

StudySpec StudySpec::load(const std::string& path, const std::vector<std::pair<std::string, std::string>>& overrides) {
  std::string text = read_file(path);
  json document = parse_user_json(text, path);
  if (!document.is_object()) throw UserError(path + ": a space file is a JSON object with trainer, params, objective, trials and sampler");
  for (const auto& [key, value] : overrides) apply_override(document, key, value);
  StudySpec spec = from_document(document, path, std::move(text));
  return spec;
}

StudySpec StudySpec::from_document(const json& document, const std::string& where, std::string file_text) {
  check_json_depth(document, where);  // before anything below copies or walks it recursively
  StudySpec spec;
  spec.source = where;
  spec.file_text = std::move(file_text);
  spec.document = document;
  if (!document.is_object()) throw UserError(where + ": a space file is a JSON object with trainer, params, objective, trials and sampler");
  const settings::Reader r(document, space_file_settings(), where, "");  // unknown keys; trainer and params are required
  spec.trainer = r.value("trainer");

  const settings::Reader objective = r.table("objective");
  spec.objective_metric = objective.string("metric");
  if (spec.objective_metric.empty()) objective.fail("metric", "must be the name of a reported metric, e.g. \"valid_loss\"");
  spec.mode = objective.string("mode") == "max" ? ObjectiveMode::Maximize : ObjectiveMode::Minimize;
  spec.objective_use = objective.string("use") == "last" ? ObjectiveUse::Last : ObjectiveUse::Best;
  spec.trials = r.int32("trials");
  spec.retries_failed = r.table("retries").int32("failed");
  spec.gpus_per_trial = r.table("resources").int32("gpus_per_trial");
  spec.sampler = r.value("sampler");
  spec.pruner = r.value("pruner");
  make_pruner(spec.pruner, where);  // checks every knob before anything runs
  if (r.has("description")) r.string("description");
  spec.space = SearchSpace::parse(document["params"], where);
  return spec;
}

}  // namespace hpsearch
