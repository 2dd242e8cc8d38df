#pragma once
// A study as the user asked for it: a space file, with the command line's overrides applied,
// checked as a whole before anything is written.
//
// Top-level keys of a space file: trainer (required), params (required), objective, trials,
// sampler, pruner, retries, resources, description. Any other key is an error naming the file and the key.
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/settings.hpp"
#include "search/history.hpp"
#include "search/space.hpp"

namespace hpsearch {

struct StudySpec {
  std::string source;       // where the spec came from, for messages: the space file's path, or "runs.db (study 'x')" on resume
  std::string file_text;    // its text as read
  nlohmann::json document;  // the file after --set overrides: what the study stores
  nlohmann::json trainer;   // document["trainer"]
  std::string objective_metric = "value";
  ObjectiveMode mode = ObjectiveMode::Minimize;
  ObjectiveUse objective_use = ObjectiveUse::Best;  // document["objective"]["use"]
  int trials = 100;
  int retries_failed = 0;  // document["retries"]["failed"]: runs again of a FAIL trial
  int gpus_per_trial = 0;  // document["resources"]["gpus_per_trial"]: ranks per trial group; 0 = no groups
  nlohmann::json sampler;  // document["sampler"], {"type": "random"} by default
  nlohmann::json pruner;   // document["pruner"], {"type": "none"} by default (search/pruners/)
  SearchSpace space;

  // Reads and checks a space file; `overrides` are ("dotted.path", "VALUE") pairs from --set,
  // VALUE read as JSON, else as a string. Throws FileError / UserError.
  static StudySpec load(const std::string& path, const std::vector<std::pair<std::string, std::string>>& overrides);
  // Checks a document that was stored in a database (`where` names it in errors).
  static StudySpec from_document(const nlohmann::json& document, const std::string& where, std::string file_text);
};

// Sets `value` at a dotted path such as "params.epochs", "trainer.data" or "params.layers[2].out",
// creating objects on the way. Throws UserError naming `where` when the path crosses a non-object.
void set_by_path(nlohmann::json& document, const std::string& path, nlohmann::json value, const std::string& where);

// "KEY=VALUE" -> (KEY, VALUE); throws UserError when there is no '='.
std::pair<std::string, std::string> split_assignment(const std::string& text);

// Reads VALUE as JSON when it parses ("10", "true", "[1,2]", "\"x\""), else as a plain string.
// Throws UserError naming `where` when VALUE is not UTF-8 or nests deeper than kMaxJsonDepth.
nlohmann::json parse_override_value(const std::string& text, const std::string& where = "--set");

// One --set KEY=VALUE applied to a document: the key and value checked as user text (UTF-8, the
// depth limit, array indexes), errors naming "--set KEY". What both a search and a resume apply.
void apply_override(nlohmann::json& document, const std::string& key, const std::string& value);

// The top-level keys of a space file, with objective, retries and resources as nested tables:
// what StudySpec reads and README.md's table "space file" documents.
const settings::Table& space_file_settings();

}  // namespace hpsearch
