#include "core/settings.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "core/errors.hpp"
#include "core/json_input.hpp"

namespace hpsearch::settings {

using nlohmann::json;

namespace {

// A bound as a person writes it: 0, 1e-08, 0.5 (JSON's shortest form), integers without ".0".
std::string bound_text(double x) {
  if (std::isfinite(x) && x == std::floor(x) && std::fabs(x) < 1e15) return std::to_string(static_cast<long long>(x));
  return json(x).dump();
}

std::string range_text(const Setting& s) {
  const bool low = std::isfinite(s.min), high = std::isfinite(s.max);
  if (low && high) {
    return std::string("in ") + (s.min_open ? "(" : "[") + bound_text(s.min) + ", " + bound_text(s.max) + (s.max_open ? ")" : "]");
  }
  if (low) return std::string(s.min_open ? "> " : ">= ") + bound_text(s.min);
  if (high) return std::string(s.max_open ? "< " : "<= ") + bound_text(s.max);
  return "";
}

std::string kind_text(Kind kind) {
  switch (kind) {
    case Kind::Integer: return "an integer";
    case Kind::Number: return "a number";
    case Kind::String: return "a string";
    case Kind::Boolean: return "true or false";
    case Kind::Object: return "an object";
    case Kind::Any: return "a value";
  }
  return "a value";
}

// "\"auto\"" for or_word("auto"), words joined with "or".
std::string words_text(const std::vector<std::string>& words) {
  std::string text;
  for (std::size_t i = 0; i < words.size(); ++i) text += (i == 0 ? "" : " or ") + json(words[i]).dump();
  return text;
}

// What a value of `s` must be, for messages: "an integer >= 0", "\"auto\" or an integer >= 0".
std::string expected_text(const Setting& s) {
  const std::string range = range_text(s);
  return (s.words.empty() ? "" : words_text(s.words) + " or ") + kind_text(s.kind) + (range.empty() ? "" : " " + range);
}

// JSON on one line as a person writes it, with a space after ':' and ',': {"type": "random"}.
std::string one_line(const json& v) {
  if (v.is_object()) {
    std::string text;
    for (auto it = v.begin(); it != v.end(); ++it) text += (text.empty() ? "" : ", ") + json(it.key()).dump() + ": " + one_line(it.value());
    return "{" + text + "}";
  }
  if (v.is_array()) {
    std::string text;
    for (const auto& item : v) text += (text.empty() ? "" : ", ") + one_line(item);
    return "[" + text + "]";
  }
  return v.dump();
}

// The default column of the README: the README's text, `the JSON`, or for a nested table the
// object of its defaults, written as a person would: {"fraction": 0.1, "max": 25}.
std::string default_text(const Setting& s) {
  if (s.required) return "required";
  if (!s.default_doc.empty()) return s.default_doc;
  if (s.table) {
    std::string object;
    for (const auto& sub : s.table->settings) {
      if (sub.fallback.is_null()) continue;
      object += (object.empty() ? "" : ", ") + json(sub.key).dump() + ": " + one_line(sub.fallback);
    }
    return "`{" + object + "}`";
  }
  return s.fallback.is_null() ? "none" : "`" + one_line(s.fallback) + "`";
}

}  // namespace

namespace {

Setting declare(std::string key, Kind kind, json fallback, std::string doc) {
  Setting s;
  s.key = std::move(key), s.kind = kind, s.fallback = std::move(fallback), s.doc = std::move(doc);
  return s;
}

}  // namespace

Setting integer(std::string key, json fallback, std::string doc, double min, double max) {
  Setting s = declare(std::move(key), Kind::Integer, std::move(fallback), std::move(doc));
  s.min = min, s.max = max;
  return s;
}
Setting number(std::string key, json fallback, std::string doc, double min, double max) {
  Setting s = declare(std::move(key), Kind::Number, std::move(fallback), std::move(doc));
  s.min = min, s.max = max;
  return s;
}
Setting string(std::string key, json fallback, std::string doc, std::vector<std::string> choices) {
  Setting s = declare(std::move(key), Kind::String, std::move(fallback), std::move(doc));
  s.choices = std::move(choices);
  return s;
}
Setting boolean(std::string key, bool fallback, std::string doc) {
  return declare(std::move(key), Kind::Boolean, fallback, std::move(doc));
}
Setting object(std::string key, std::string doc) { return declare(std::move(key), Kind::Object, nullptr, std::move(doc)); }
Setting any(std::string key, json fallback, std::string doc) {
  return declare(std::move(key), Kind::Any, std::move(fallback), std::move(doc));
}
Setting required(Setting s) {
  s.required = true;
  return s;
}
Setting open_min(Setting s) {
  s.min_open = true;
  return s;
}
Setting open_max(Setting s) {
  s.max_open = true;
  return s;
}
Setting null_is_default(Setting s) {
  s.null_is_default = true;
  return s;
}
Setting table(std::string key, const Table& table, std::string doc) {
  Setting s = object(std::move(key), std::move(doc));
  s.table = &table;
  return s;
}
Setting documented_default(Setting s, std::string text) {
  s.default_doc = std::move(text);
  return s;
}
Setting or_word(Setting s, std::string word) {
  s.words.push_back(std::move(word));
  return s;
}

const Setting* Table::find(const std::string& key) const {
  for (const auto& s : settings) {
    if (s.key == key) return &s;
  }
  return nullptr;
}

std::string Table::key_list() const {
  std::string list;
  for (std::size_t i = 0; i < settings.size(); ++i) {
    list += (i == 0 ? "" : i + 1 == settings.size() ? " and " : ", ") + settings[i].key;
  }
  return list;
}

Reader::Reader(const json& object, const Table& table, std::string where, std::string prefix)
    : object_(object), table_(table), where_(std::move(where)), prefix_(std::move(prefix)) {
  if (!object_.is_object()) {
    if (prefix_.empty()) throw ConfigError("the configuration must be an object, got " + json_text(object_));
    const std::string what =
        "must be an object" + (table_.example.empty() ? "" : " such as " + table_.example) + ", got " + json_text(object_);
    if (where_.empty()) throw ConfigError(prefix_ + ": " + what);
    throw FileError(where_, prefix_, what);
  }
  for (auto it = object_.begin(); it != object_.end(); ++it) {
    if (table_.find(it.key())) continue;
    bool allowed = false;
    for (const auto& k : table_.also_allowed) allowed = allowed || k == it.key();
    if (allowed) continue;
    const std::string list = table_.settings.empty() ? "nothing else" : table_.key_list();
    fail(quoted_text(it.key(), 60), "unknown " + table_.noun + " of the " + table_.name + " (it takes " + list + ")");
  }
  for (const auto& s : table_.settings) {
    if (s.required && !given(s)) fail(s.key, "is required: " + s.doc);
  }
}

const Setting& Reader::declared(const std::string& key) const {
  const Setting* s = table_.find(key);
  // A key the code reads without declaring it is the code's mistake, not the user's.
  if (!s) throw Error("settings: '" + key + "' is read but not declared in the table of the " + table_.name);
  return *s;
}

const json* Reader::given(const Setting& s) const {
  const auto it = object_.find(s.key);
  if (it == object_.end()) return nullptr;
  if (s.null_is_default && it->is_null()) return nullptr;
  return &*it;
}

bool Reader::has(const std::string& key) const { return given(declared(key)) != nullptr; }

void Reader::fail(const std::string& key, const std::string& what) const {
  if (where_.empty()) throw ConfigError(path(key) + ": " + what);
  throw FileError(where_, path(key), what);
}

void Reader::check_bounds(const Setting& s, const json& v, bool integral) const {
  const double x = v.get<double>();
  const bool finite = std::isfinite(x);
  const bool whole = !integral || (v.is_number_integer() || (finite && x == std::floor(x)));
  const bool in_range = finite && !(x < s.min || (s.min_open && x == s.min) || x > s.max || (s.max_open && x == s.max));
  if (whole && in_range) return;
  fail_kind(s, v);
}

void Reader::fail_kind(const Setting& s, const json& v) const { fail(s.key, "must be " + expected_text(s) + ", got " + json_text(v)); }

namespace {

// A number for integer() or number(): a word (or_word) must have been read with word() first.
void check_not_word(const Setting& s, const json& v, const std::string& path) {
  if (!v.is_string()) return;
  for (const auto& w : s.words) {
    if (v.get<std::string>() == w) throw Error("settings: " + path + " is " + v.dump() + "; read word() before the number");
  }
}

}  // namespace

const json& Reader::checked_number(const std::string& key, bool integral) const {
  const Setting& s = declared(key);
  const json* v = given(s);
  if (!v) {
    if (s.fallback.is_null()) throw Error("settings: " + path(key) + " has no default; check has() first");
    return s.fallback;
  }
  check_not_word(s, *v, path(key));
  if (!v->is_number()) fail_kind(s, *v);
  check_bounds(s, *v, integral);
  return *v;
}

int64_t Reader::integer(const std::string& key) const {
  const json& v = checked_number(key, /*integral=*/true);
  // Exact for JSON integers; a whole double beyond int64's range (1e300 where no max is
  // declared) saturates instead of overflowing.
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max(), kMin = std::numeric_limits<int64_t>::min();
  if (v.is_number_unsigned()) return v.get<uint64_t>() > static_cast<uint64_t>(kMax) ? kMax : static_cast<int64_t>(v.get<uint64_t>());
  if (v.is_number_integer()) return v.get<int64_t>();
  const double x = v.get<double>();
  if (x >= 9.2e18) return kMax;
  if (x <= -9.2e18) return kMin;
  return static_cast<int64_t>(x);
}

int Reader::int32(const std::string& key) const {
  const int64_t x = integer(key);
  return static_cast<int>(std::clamp<int64_t>(x, std::numeric_limits<int>::min(), std::numeric_limits<int>::max()));
}

std::string Reader::word(const std::string& key) const {
  const Setting& s = declared(key);
  const json* v = given(s);
  if (!v || !v->is_string()) return "";
  for (const auto& w : s.words) {
    if (v->get<std::string>() == w) return w;
  }
  fail_kind(s, *v);
}

Reader Reader::table(const std::string& key) const {
  const Setting& s = declared(key);
  if (!s.table) throw Error("settings: " + path(key) + " is read as a table but declared without one");
  const json* v = given(s);
  return Reader(v ? *v : json::object(), *s.table, where_, path(key));
}

double Reader::number(const std::string& key) const {
  return checked_number(key, /*integral=*/declared(key).kind == Kind::Integer).get<double>();
}

std::string Reader::string(const std::string& key) const {
  const Setting& s = declared(key);
  const json* v = given(s);
  if (!v) {
    if (!s.fallback.is_string()) throw Error("settings: " + path(key) + " has no default; check has() first");
    return s.fallback.get<std::string>();
  }
  std::string choices;
  for (std::size_t i = 0; i < s.choices.size(); ++i) {
    choices += (i == 0 ? "" : i + 1 == s.choices.size() ? " or " : ", ") + json(s.choices[i]).dump();
  }
  if (!v->is_string()) fail(key, "must be " + (choices.empty() ? std::string("a string") : choices) + ", got " + json_text(*v));
  const std::string text = v->get<std::string>();
  if (s.choices.empty()) return text;
  for (const auto& c : s.choices) {
    if (c == text) return text;
  }
  fail(key, "must be " + choices + ", got " + json_text(*v));
}

bool Reader::boolean(const std::string& key) const {
  const Setting& s = declared(key);
  const json* v = given(s);
  if (!v) return s.fallback.is_boolean() && s.fallback.get<bool>();
  if (!v->is_boolean()) fail(key, "must be true or false, got " + json_text(*v));
  return v->get<bool>();
}

json Reader::value(const std::string& key) const {
  const Setting& s = declared(key);
  const json* v = given(s);
  if (!v) return s.fallback;
  switch (s.kind) {
    case Kind::Integer: return integer(key);
    case Kind::Number: return number(key);
    case Kind::String: return string(key);
    case Kind::Boolean: return boolean(key);
    case Kind::Object:
      if (!v->is_object()) fail(key, "must be an object, got " + json_text(*v));
      return *v;
    case Kind::Any: return *v;
  }
  return *v;
}

namespace {

// One row of the README's table: | `KEY` | default | doc (range, or words) |.
std::string row(const Setting& s, const std::string& prefix) {
  std::string doc = s.doc;
  std::string range = range_text(s);
  if (!s.words.empty()) range += (range.empty() ? "" : " or ") + words_text(s.words);
  if (!range.empty()) doc += " (" + range + ")";
  return "| `" + prefix + s.key + "` | " + default_text(s) + " | " + doc + " |\n";
}

}  // namespace

std::string markdown(const Table& table) {
  std::string text = "| key | default | meaning |\n| --- | --- | --- |\n";
  for (const auto& s : table.settings) {
    text += row(s, "");
    if (s.table) {
      for (const auto& sub : s.table->settings) text += row(sub, s.key + ".");
    }
  }
  return text;
}

std::string table_after_marker(const std::string& markdown_text, const std::string& name) {
  const std::string marker = "<!-- settings: " + name + " -->";
  const auto at = markdown_text.find(marker);
  if (at == std::string::npos) return "";
  std::string table;
  std::size_t line = markdown_text.find('\n', at);
  while (line != std::string::npos && line + 1 < markdown_text.size() && markdown_text[line + 1] == '|') {
    const std::size_t end = markdown_text.find('\n', line + 1);
    table += markdown_text.substr(line + 1, end == std::string::npos ? std::string::npos : end - line);
    if (end == std::string::npos) table += "\n";
    line = end;
  }
  return table;
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace hpsearch::settings
