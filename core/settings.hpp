#pragma once
// Every setting of hpsearch is declared once, with its type, default, check and one-line doc, in a
// settings::Table next to the code that uses it (as LightGBM's config.h declares each parameter
// once). The same declaration reads the user's JSON (settings::Reader: typed values, the declared
// default when absent, unknown keys refused with the list of valid ones) and writes the README's
// table of it (settings::markdown), which a test compares with the README so that the docs
// cannot drift from the code.
//
// Used for the objects a space file holds (sampler, pruner, trainer, objective, retries,
// resources) and for the keys of a trial's configuration that a trainer reads.
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace hpsearch::settings {

enum class Kind { Integer, Number, String, Boolean, Object, Any };

struct Table;

struct Setting {
  std::string key;
  Kind kind = Kind::Number;
  nlohmann::json fallback;  // the default; null: none (the setting is off, or `required`)
  std::string doc;          // one line, for the README table and the list of valid keys
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  bool min_open = false, max_open = false;  // bounds excluded
  std::vector<std::string> choices;         // String: the values allowed (empty: any)
  bool required = false;
  bool null_is_default = false;  // a JSON null reads as absent (trial configurations: "$choice": [null, 4])
  // The default as the README states it, when the JSON default is not what a user gets (a seed
  // "drawn when the study is created, then stored"); empty: the JSON default itself.
  std::string default_doc;
  // Integer, Number: strings also accepted in place of a number ("auto"); read them with word().
  std::vector<std::string> words;
  // Object: the table of its keys (the TPE sampler's gamma), read with Reader::table(); its
  // default is the object of the sub-table's defaults, and the README lists its keys as KEY.SUB.
  const Table* table = nullptr;
};

// Builders, so that a table reads as a list of declarations.
Setting integer(std::string key, nlohmann::json fallback, std::string doc, double min = -std::numeric_limits<double>::infinity(),
                double max = std::numeric_limits<double>::infinity());
Setting number(std::string key, nlohmann::json fallback, std::string doc, double min = -std::numeric_limits<double>::infinity(),
               double max = std::numeric_limits<double>::infinity());
Setting string(std::string key, nlohmann::json fallback, std::string doc, std::vector<std::string> choices = {});
Setting boolean(std::string key, bool fallback, std::string doc);
Setting object(std::string key, std::string doc);
Setting any(std::string key, nlohmann::json fallback, std::string doc);
Setting required(Setting s);         // must be present
Setting open_min(Setting s);         // min itself is refused
Setting open_max(Setting s);         // max itself is refused
Setting null_is_default(Setting s);  // null reads as absent
// An object whose keys are declared by `table` (which must outlive every reader of it).
Setting table(std::string key, const Table& table, std::string doc);
Setting documented_default(Setting s, std::string text);  // the README's default column says `text`
Setting or_word(Setting s, std::string word);             // a number, or this string ("auto")

struct Table {
  std::string name;  // what it declares, in messages: "tpe sampler", "classify trainer", "objective"
  std::vector<Setting> settings;
  // Keys allowed without a declaration of their own (a "type" that chose this table).
  // (Every member after `settings` has a default member initializer, so that a table may be
  // written with its first members only, without -Wmissing-field-initializers.)
  std::vector<std::string> also_allowed = {};
  // Shown when the value is not an object: "must be an object such as EXAMPLE, got 3".
  std::string example = "";
  // What one key is called in the unknown-key message: "unknown setting of the median pruner",
  // "unknown key of the space file".
  std::string noun = "setting";
  const Setting* find(const std::string& key) const;
  // "startup_trials, warmup_steps and interval_steps": for "unknown key" messages.
  std::string key_list() const;
};

// Reads one JSON object against a table. Errors are FileError(where, PREFIX.KEY, what) when
// `where` names a file; ConfigError("KEY: what") for a trial's configuration (where empty).
class Reader {
 public:
  // Checks the object's keys at once: every key must be declared (or in also_allowed).
  Reader(const nlohmann::json& object, const Table& table, std::string where, std::string prefix);

  bool has(const std::string& key) const;  // present (and, with null_is_default, not null)
  int64_t integer(const std::string& key) const;
  double number(const std::string& key) const;
  std::string string(const std::string& key) const;
  bool boolean(const std::string& key) const;
  // integer(), clamped to int's range: for counts and steps, where any larger value means "all".
  int int32(const std::string& key) const;
  // The word given in place of a number (or_word), or "" when the value is absent or a number.
  std::string word(const std::string& key) const;
  // The reader of an object declared with settings::table(): the given object, or {} (every
  // sub-setting's default) when absent; errors name PREFIX.KEY.SUB.
  Reader table(const std::string& key) const;
  // The value as given, or the declared default; checked against the declaration's kind.
  nlohmann::json value(const std::string& key) const;
  [[noreturn]] void fail(const std::string& key, const std::string& what) const;
  const std::string& where() const { return where_; }
  std::string path(const std::string& key) const { return prefix_.empty() ? key : prefix_ + "." + key; }

 private:
  const Setting& declared(const std::string& key) const;
  const nlohmann::json* given(const Setting& s) const;  // null when absent (or null read as absent)
  void check_bounds(const Setting& s, const nlohmann::json& v, bool integral) const;
  // The number given for `key`, checked against its declaration, or its declared default.
  const nlohmann::json& checked_number(const std::string& key, bool integral) const;
  [[noreturn]] void fail_kind(const Setting& s, const nlohmann::json& v) const;

  nlohmann::json object_;  // a copy: settings objects are small, and a reader may outlive a temporary
  const Table& table_;
  std::string where_, prefix_;
};

// The README's table of `table`: | key | default | meaning |, one row per setting (and one per
// key of a nested table, after its object's row).
std::string markdown(const Table& table);

// The table that follows the line "<!-- settings: NAME -->" in a Markdown text (up to the first
// line that does not start with '|'), or "" when there is no such marker: what a test compares
// with markdown(table), so that the README states exactly what the code declares.
std::string table_after_marker(const std::string& markdown_text, const std::string& name);

// The whole text of a file (the README, for those tests); "" when it cannot be read.
std::string read_text_file(const std::string& path);

}  // namespace hpsearch::settings
