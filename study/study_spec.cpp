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
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && (text[first] == '{' || text[first] == '[' || text[first] == '"')) {
    try {
      return parse_user_json(text, where);
    } catch (const UserError& e) {
      throw UserError(std::string(e.what()) +
                      " (a value that starts with {, [ or \" is read as JSON; quote it for the shell: " + "--set 'KEY={\"a\": 1}')");
    }
  }
  std::optional<json> value = try_parse_user_json(text, where);
  if (!value) return json(text);
  return std::move(*value);
}

std::string override_flag(const std::string& key, const std::string& value) {
  // search and resume give these paths their own flags, which are --set KEY=VALUE by another name
  // (README): the message names the flag a user most likely typed.
  static const std::vector<std::pair<std::string, std::string>> shorthands = {{"trials", "--trials"},
                                                                              {"retries.failed", "--retries"},
                                                                              {"resources.gpus_per_trial", "--gpus-per-trial"},
                                                                              {"sampler.seed", "--seed"}};
  for (const auto& [path, flag] : shorthands) {
    if (key == path) return flag + " " + quoted_text(value, 60);
  }
  return "--set " + quoted_text(key + "=" + value, 80);
}

void apply_override(json& document, const std::string& key, const std::string& value) {
  if (!is_valid_utf8(key)) throw UserError("--set " + quoted_text(key) + ": the key is not valid UTF-8 text");
  const std::string where = override_flag(key, value);
  set_by_path(document, key, parse_override_value(value, where), where);
  check_json_depth(document, where);  // a deep path makes a deep document as surely as a deep value
}

namespace {

// One step of a dotted path: a key, or an [index]; `walked` is the path up to and with it.
struct PathStep {
  bool is_index = false;
  std::string key;
  std::size_t index = 0;
  std::string walked;
};

std::vector<PathStep> split_path(const std::string& path, const std::string& where) {
  std::vector<PathStep> steps;
  std::size_t pos = 0;
  while (pos < path.size()) {
    PathStep step;
    if (path[pos] == '[') {
      const auto close = path.find(']', pos);
      if (close == std::string::npos) throw UserError(where + ": unclosed '[' in the key");
      const std::string digits = path.substr(pos + 1, close - pos - 1);
      // At most 9 digits: any index an array of a space file can have, and no overflow.
      if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos)
        throw UserError(where + ": [" + quoted_text(digits, 40) + "] is not an array index (0, 1, ...)");
      step.is_index = true;
      step.index = std::stoul(digits);
      step.walked = path.substr(0, close + 1);
      pos = close + 1;
      if (pos < path.size() && path[pos] == '.') ++pos;
    } else {
      const auto end = path.find_first_of(".[", pos);
      step.key = path.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
      if (step.key.empty()) throw UserError(where + ": empty key in " + quoted_text(path));
      step.walked = path.substr(0, end == std::string::npos ? path.size() : end);
      pos = end == std::string::npos ? path.size() : (path[end] == '.' ? end + 1 : end);
    }
    steps.push_back(std::move(step));
  }
  if (steps.empty()) throw UserError(where + ": empty key");
  return steps;
}

// {"$uniform": [...]}: an object whose single key starts with '$' (search/space.hpp's grammar).
bool is_distribution(const json& v) { return v.is_object() && v.size() == 1 && v.begin().key().rfind('$', 0) == 0; }

bool holds_distribution(const json& v) {
  if (is_distribution(v)) return true;
  if (v.is_object() || v.is_array()) {
    for (const auto& item : v) {
      if (holds_distribution(item)) return true;
    }
  }
  return false;
}

// A new key `key` that --set would add below the parameter params.NAME: refused, with the
// parameter written whole (the new key in it) as the flag to give instead.
[[noreturn]] void refuse_key_inside_parameter(const json& document, const std::vector<PathStep>& steps, std::size_t at, const json& value,
                                              const std::string& where) {
  const PathStep& parent = steps[at - 1];
  const json& node = [&]() -> const json& {
    const json* n = &document;
    for (std::size_t k = 0; k < at; ++k) n = steps[k].is_index ? &(*n)[steps[k].index] : &(*n)[steps[k].key];
    return *n;
  }();
  if (is_distribution(node)) {
    throw UserError(where + ": " + quoted_text(parent.walked) + " is a distribution (" + json_text(node, 60) + ") with no key '" +
                    quoted_text(steps[at].key, 40) + "'; set it whole, e.g. --set '" + quoted_text(parent.walked) +
                    "={\"$uniform\": [0, 1]}'");
  }
  // The parameter as it would be with the new key, for the flag to give instead.
  json parameter = document["params"][steps[1].key];
  json* n = &parameter;
  for (std::size_t k = 2; k < steps.size(); ++k) {
    if (steps[k].is_index) break;
    n = &(*n)[steps[k].key];
    if (k + 1 == steps.size()) *n = value;
  }
  throw UserError(where + ": " + quoted_text(parent.walked) + " has no key '" + quoted_text(steps[at].key, 40) +
                  "', and --set adds no key inside a parameter (a mistyped one would be ignored); set the parameter whole: --set '" +
                  quoted_text(steps[1].walked) + "=" + json_text(parameter, 120) + "'");
}

}  // namespace

void set_by_path(json& document, const std::string& path, json value, const std::string& where) {
  const std::vector<PathStep> steps = split_path(path, where);
  const bool in_params = !steps[0].is_index && steps[0].key == "params";
  json* node = &document;
  for (std::size_t k = 0; k < steps.size(); ++k) {
    const PathStep& step = steps[k];
    const bool last = k + 1 == steps.size();
    const std::string parent = k == 0 ? std::string("the space file") : quoted_text(steps[k - 1].walked);
    if (step.is_index) {
      if (!node->is_array() || step.index >= node->size())
        throw UserError(where + ": " + parent + " has no element " + std::to_string(step.index) +
                        (node->is_array() ? " (it has " + std::to_string(node->size()) + ")" : " (it is not an array)"));
      node = &(*node)[step.index];
      continue;
    }
    if (node->is_null() && k == 1 && !in_params) *node = json::object();  // "sampler": null, as absent
    if (!node->is_object()) throw UserError(where + ": " + parent + " is not an object (it is " + json_text(*node, 60) + ")");
    if (!node->contains(step.key)) {
      if (k == 0 && !last) {
        // A top-level object on the way: created (with its default) only where the file declares one.
        const settings::Setting* s = space_file_settings().find(step.key);
        if (!s || s->required || !(s->kind == settings::Kind::Object || s->kind == settings::Kind::Any))
          throw UserError(where + ": the space file has no '" + quoted_text(step.key, 40) + "'" +
                          (s ? "" : " (its keys: " + space_file_settings().key_list() + ")"));
        (*node)[step.key] = s->fallback.is_object() ? s->fallback : json::object();
      } else if (in_params && k == 1 && !last) {
        throw UserError(where + ": params has no parameter '" + quoted_text(step.key, 40) +
                        "'; a new parameter is set whole, e.g. --set '" + quoted_text(step.walked) + "={\"$uniform\": [0, 1]}' or --set " +
                        quoted_text(step.walked) + "=1");
      } else if (in_params && k >= 2) {
        refuse_key_inside_parameter(document, steps, k, value, where);
      } else if (!last) {
        throw UserError(where + ": " + parent + " has no key '" + quoted_text(step.key, 40) + "'; set the object whole: --set '" +
                        quoted_text(step.walked) + "={...}'");
      }
      // else: a new last key where a settings table (or the trainer's configuration) checks it.
    }
    node = &(*node)[step.key];
  }
  *node = std::move(value);
}

void name_overrides_in_errors(const Overrides& overrides, const std::function<void()>& check) {
  try {
    check();
  } catch (const FileError& e) {
    const std::string& path = e.json_path();
    for (auto it = overrides.rbegin(); it != overrides.rend(); ++it) {
      const std::string& key = it->first;
      const bool same = path == key;
      const bool inside =
          path.size() > key.size() && path.compare(0, key.size(), key) == 0 && (path[key.size()] == '.' || path[key.size()] == '[');
      if (!same && !inside) continue;
      throw UserError(override_flag(key, it->second) + ": " + (same ? "" : path + ": ") + e.problem());
    }
    throw;
  }
}

void check_constant_params(const json& params, const settings::Table& configuration, const std::string& where, const std::string& prefix) {
  if (!params.is_object()) return;                                    // SearchSpace::parse says what params must be
  const settings::Reader keys(params, configuration, where, prefix);  // unknown keys, listing the known ones
  for (auto it = params.begin(); it != params.end(); ++it) {
    if (!holds_distribution(it.value())) {
      keys.value(it.key());  // its kind and range
      continue;
    }
    const json& v = it.value();
    if (!is_distribution(v) || v.begin().key() != "$choice" || !v.begin().value().is_array()) continue;
    for (std::size_t i = 0; i < v.begin().value().size(); ++i) {
      const json& option = v.begin().value()[i];
      if (holds_distribution(option)) continue;
      const settings::Reader one(json{{it.key(), option}}, configuration, where, prefix);
      try {
        one.value(it.key());
      } catch (const FileError& e) {
        throw FileError(where, e.json_path() + ".$choice[" + std::to_string(i) + "]", e.problem());
      }
    }
  }
}

namespace {

void collect_differences(const json& before, const json& after, const std::string& path, std::vector<std::string>& found, std::size_t limit,
                         const std::string& before_name, const std::string& after_name) {
  if (found.size() >= limit || before == after) return;
  auto shown = [](const json* v) { return v ? json_text(*v, 40) : std::string("absent"); };
  auto add = [&](const std::string& at, const json* b, const json* a) {
    if (found.size() < limit)
      found.push_back((at.empty() ? "the document" : at) + ": " + shown(b) + " in " + before_name + ", " + shown(a) + " in " + after_name);
  };
  if (before.is_object() && after.is_object() && !is_distribution(before) && !is_distribution(after)) {
    for (auto it = before.begin(); it != before.end(); ++it) {
      const std::string at = path.empty() ? it.key() : path + "." + it.key();
      if (!after.contains(it.key()))
        add(at, &it.value(), nullptr);
      else
        collect_differences(it.value(), after[it.key()], at, found, limit, before_name, after_name);
    }
    for (auto it = after.begin(); it != after.end(); ++it) {
      if (!before.contains(it.key())) add(path.empty() ? it.key() : path + "." + it.key(), nullptr, &it.value());
    }
    return;
  }
  if (before.is_array() && after.is_array() && before.size() == after.size()) {
    for (std::size_t i = 0; i < before.size(); ++i)
      collect_differences(before[i], after[i], path + "[" + std::to_string(i) + "]", found, limit, before_name, after_name);
    return;
  }
  add(path, &before, &after);  // different values, kinds, lengths or distributions: both whole
}

}  // namespace

std::string json_differences(const json& before, const json& after, const std::string& before_name, const std::string& after_name,
                             std::size_t limit) {
  std::vector<std::string> found;
  // One more than shown, to say that there are more.
  collect_differences(before, after, "", found, limit + 1, before_name, after_name);
  std::string text;
  for (std::size_t i = 0; i < found.size() && i < limit; ++i) text += (i == 0 ? "" : "; ") + found[i];
  if (found.size() > limit) text += "; ...";
  return text;
}

StudySpec StudySpec::load(const std::string& path, const Overrides& overrides) {
  std::string text = read_file(path);
  json document = parse_user_json(text, path);
  if (!document.is_object()) throw UserError(path + ": a space file is a JSON object with trainer, params, objective, trials and sampler");
  for (const auto& [key, value] : overrides) apply_override(document, key, value);
  StudySpec spec;
  name_overrides_in_errors(overrides, [&] { spec = from_document(document, path, std::move(text)); });
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
