#pragma once
// A study as the user asked for it: a space file, with the command line's overrides applied,
// checked as a whole before anything is written.
//
// Top-level keys of a space file: trainer (required), params (required), objective, trials,
// sampler, pruner, retries, resources, description. Any other key is an error naming the file and the key.
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/settings.hpp"
#include "search/history.hpp"
#include "search/space.hpp"

namespace hpsearch {

// --set overrides: ("dotted.path", "VALUE") pairs, applied in order.
using Overrides = std::vector<std::pair<std::string, std::string>>;

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

  // Reads and checks a space file with the --set `overrides` applied (apply_override); an error
  // about a value an override set names its flag. Throws FileError / UserError.
  static StudySpec load(const std::string& path, const Overrides& overrides);
  // Checks a document that was stored in a database (`where` names it in errors).
  static StudySpec from_document(const nlohmann::json& document, const std::string& where, std::string file_text);
};

// The strict rule of --set KEY=VALUE, README's "--set" (why: a typo in a path must not quietly
// add a key that nothing reads, and run a hundred trials of the unchanged space):
//   - every key and index on the way must exist, except a missing top-level object the space file
//     declares (sampler, pruner, objective, retries, resources), created with its default;
//   - the last key may be new where a settings table reads the object (the top level, trainer,
//     sampler, pruner, objective, retries, resources), which refuses a key it does not know, and
//     directly under "params": a whole new parameter (a constant or a distribution), which the
//     trainer's configuration table then checks;
//   - below a parameter (inside a distribution, or a constant object or array) only existing keys
//     and elements are replaced: a new one is refused, with the whole parameter to set instead.
// Throws UserError naming `where` (the flag) when the path breaks the rule.
void set_by_path(nlohmann::json& document, const std::string& path, nlohmann::json value, const std::string& where);

// "KEY=VALUE" -> (KEY, VALUE); throws UserError when there is no '='.
std::pair<std::string, std::string> split_assignment(const std::string& text);

// VALUE as JSON when it parses ("10", "true", "null"), else as a plain string ("relu"); a value that
// starts like JSON ('{', '[' or '"') must parse, since a cut or mistyped object read as a string
// would only fail later, or not at all. Throws UserError naming `where` for that, for text that is
// not UTF-8 and for JSON nested deeper than kMaxJsonDepth.
nlohmann::json parse_override_value(const std::string& text, const std::string& where = "--set");

// "--set KEY=VALUE", shortened, or "--trials T", "--retries N", "--gpus-per-trial G", "--seed S"
// for the paths that have a flag of their own: how messages name one override.
std::string override_flag(const std::string& key, const std::string& value);

// One --set KEY=VALUE applied to a document: the key and value checked as user text (UTF-8, the
// depth limit, the path rule of set_by_path), errors naming the flag. What search, resume and
// train apply.
void apply_override(nlohmann::json& document, const std::string& key, const std::string& value);

// Runs `check`, which reads a document that `overrides` changed. A FileError it throws about a
// path an override set (or a path inside it) is rethrown naming that flag instead of the file:
// "--set params.epochs=two: must be an integer >= 1, got \"two\"" (the value came from the
// command line, and the file does not hold it). The last override of a path is the one named.
void name_overrides_in_errors(const Overrides& overrides, const std::function<void()>& check);

// Checks the constants of a `params` object (a space's, or a resolved configuration) against
// the trainer's table of configuration keys, before any trial runs: every top-level key must be
// one the trainer reads, a constant must have its declared type and range, and so must each
// constant option of a top-level $choice. Values that a distribution draws are checked by the
// trainer, per trial. FileError at "params.KEY" naming `where`.
void check_constant_params(const nlohmann::json& params, const settings::Table& configuration, const std::string& where,
                           const std::string& prefix = "params");

// The first `limit` paths at which two documents differ, with both values shortened, for the
// message that refuses a changed space: "sampler.seed: 3 in the database, 5 in the file; ...".
std::string json_differences(const nlohmann::json& before, const nlohmann::json& after, const std::string& before_name,
                             const std::string& after_name, std::size_t limit = 3);

// The top-level keys of a space file, with objective, retries and resources as nested tables:
// what StudySpec reads and README.md's table "space file" documents.
const settings::Table& space_file_settings();

}  // namespace hpsearch
