#include "search/space.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>

#include "core/errors.hpp"
#include "core/json_input.hpp"

namespace hpsearch {

using nlohmann::json;

const char* to_string(DistributionKind kind) {
  switch (kind) {
    case DistributionKind::Uniform: return "$uniform";
    case DistributionKind::LogUniform: return "$loguniform";
    case DistributionKind::QUniform: return "$quniform";
    case DistributionKind::QLogUniform: return "$qloguniform";
    case DistributionKind::RandInt: return "$randint";
    case DistributionKind::Normal: return "$normal";
    case DistributionKind::LogNormal: return "$lognormal";
    case DistributionKind::Choice: return "$choice";
  }
  return "?";
}

bool same_point(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!(a[i] == b[i]) && !(std::isnan(a[i]) && std::isnan(b[i]))) return false;
  }
  return true;
}

double Parameter::grid_high() const { return low + std::floor((high - low) / step + 1e-9) * step; }

double Parameter::snap(double value) const {
  if (std::isnan(value)) return value;
  if (is_discrete()) {
    const double k_max = std::floor((high - low) / step + 1e-9);
    double k = std::round((value - low) / step);
    k = std::min(std::max(k, 0.0), k_max);
    return low + k * step;
  }
  if (kind == DistributionKind::Choice) {
    return std::min(std::max(std::round(value), 0.0), static_cast<double>(num_choices - 1));
  }
  if (is_bounded()) return std::min(std::max(value, low), high);
  return value;
}

// The space as a tree mirroring the JSON: constants, objects, arrays and parameters. Subtrees
// without any distribution are folded into one constant, so resolving costs one copy for them.
struct SearchSpace::Node {
  enum class Type { Constant, Object, Array, Param } type = Type::Constant;
  json constant;
  std::vector<std::pair<std::string, Node>> members;  // Object
  std::vector<Node> items;                            // Array
  int param = -1;                                     // Param
  std::vector<Node> options;                          // Param that is a choice
  bool named_options = false;                         // a choice written {"$choice": {NAME: option, ...}}
  bool integer = false;                               // Param whose values are written as integers

  bool is_constant() const { return type == Type::Constant; }
};

namespace {

// 2^53: the largest integer below which every integer is a double.
constexpr uint64_t kMaxExactInteger = uint64_t{1} << 53;
// How many standard deviations of a normal draw must stay finite: draws beyond are rarer than 1e-23.
constexpr double kSpreadSigmas = 10;

// Appends the next segment of a path to a label: "a" + "b" = "a.b", "a" + "[2]" = "a[2]", "a" + "" = "a".
std::string join_label(const std::string& label, const std::string& segment) {
  if (segment.empty()) return label;
  if (label.empty() || segment[0] == '[') return label + segment;
  return label + "." + segment;
}

// The kind of a layer written ["conv2d", {...}]: its leading string; empty for any other value.
std::string layer_kind(const json& item) {
  return item.is_array() && !item.empty() && item[0].is_string() ? item[0].get<std::string>() : std::string();
}

// How an unnamed option reads in a summary: a short constant as written, a distribution by its
// kind and arguments, a longer array or object by its shape ("7 layers", "{affine,eps,momentum}").
std::string option_text(const json& option) {
  if (option.is_string()) return option.get<std::string>();
  if (option.is_object() && option.size() == 1 && option.begin().key().rfind('$', 0) == 0) {
    const std::string args = option.begin().value().dump();
    return option.begin().key().substr(1) + "(" + args.substr(1, args.size() - 2) + ")";
  }
  const std::string text = option.dump();
  constexpr std::size_t kShortText = 24;
  if (text.size() <= kShortText || option.is_primitive()) return text;
  if (option.is_array()) {
    bool layers = true;
    for (const auto& item : option) layers = layers && !layer_kind(item).empty();
    return std::to_string(option.size()) + (layers ? " layers" : " items");
  }
  std::string keys;
  for (auto it = option.begin(); it != option.end(); ++it) keys += (keys.empty() ? "" : ",") + it.key();
  constexpr std::size_t kShortKeys = 30;
  return keys.size() <= kShortKeys ? "{" + keys + "}" : "{" + std::to_string(option.size()) + " keys}";
}

struct Parser {
  const std::string& file;
  std::vector<Parameter>& parameters;
  // Per parameter: whether it is a distribution written directly as an option of its parent choice
  // (it then shares the choice's label; see Parameter::label).
  std::vector<bool> stands_for_parent;

  [[noreturn]] void fail(const std::string& path, const std::string& what) const {
    throw FileError(file, "params" + (path.empty() ? std::string() : (path[0] == '[' ? path : "." + path)), what);
  }

  double number(const json& args, std::size_t i, const std::string& path, const char* key) const {
    if (!args[i].is_number())
      fail(path, std::string(key) + " argument " + std::to_string(i + 1) + " must be a number, got " + json_text(args[i]));
    const double v = args[i].get<double>();
    if (!std::isfinite(v)) fail(path, std::string(key) + " arguments must be finite");
    return v;
  }

  // An integer bound: doubles hold every integer up to 2^53 exactly, and no further, so a bound
  // beyond it would be sampled as some other integer (or overflow int64 once resolved).
  double exact_integer(const json& args, std::size_t i, const std::string& path, const char* key) const {
    const json& v = args[i];
    const bool exact = v.is_number_unsigned() ? v.get<uint64_t>() <= kMaxExactInteger
                                              : v.get<int64_t>() <= static_cast<int64_t>(kMaxExactInteger) &&
                                                    v.get<int64_t>() >= -static_cast<int64_t>(kMaxExactInteger);
    if (!exact) {
      fail(path,
           std::string(key) + " bounds must be integers within +-2^53 (9007199254740992), where doubles are exact; got " + json_text(v));
    }
    return v.get<double>();
  }

  // Bounds the sampler can draw from: the width of the range (and, for the normal family, the
  // spread of the draws) must be a finite double, a grid must hold no more points than doubles
  // count exactly, integer grids must stay within 2^53 (see exact_integer).
  void check_range(const Parameter& p, bool integer, const json& args, const std::string& path, const std::string& key) const {
    const double big = static_cast<double>(kMaxExactInteger);
    switch (p.kind) {
      case DistributionKind::Uniform:
      case DistributionKind::QUniform:
      case DistributionKind::QLogUniform:
      case DistributionKind::RandInt:
        if (!std::isfinite(p.high - p.low)) fail(path, key + " range is too wide: high - low overflows a double, got " + json_text(args));
        if (p.is_discrete() && !((p.high - p.low) / p.step <= big))
          fail(path, key + " has more than 2^53 grid points ((high - low) / q), which doubles cannot count; got " + json_text(args));
        if (integer && !(std::fabs(p.low) <= big && std::fabs(p.high) <= big))
          fail(path, key + " integer bounds must be within +-2^53 (9007199254740992), where doubles are exact; got " + json_text(args));
        break;
      case DistributionKind::LogUniform: break;  // sampled in log space: any positive finite bounds
      case DistributionKind::Normal:
        if (!std::isfinite(std::fabs(p.mu) + kSpreadSigmas * p.sigma))
          fail(path, key + " draws would overflow a double (|mu| + " + std::to_string(static_cast<int>(kSpreadSigmas)) +
                         " sigma is infinite), got " + json_text(args));
        break;
      case DistributionKind::LogNormal:
        // exp(mu + sigma * N(0, 1)) is infinite beyond log(DBL_MAX) ~ 709.78 and 0 below about -745.
        if (!(std::fabs(p.mu) + kSpreadSigmas * p.sigma <= std::log(std::numeric_limits<double>::max())))
          fail(path, key + " draws would overflow or underflow a double: |mu| + " + std::to_string(static_cast<int>(kSpreadSigmas)) +
                         " sigma must be <= 709 (mu and sigma are in log space), got " + json_text(args));
        break;
      case DistributionKind::Choice: break;
    }
  }

  // `label` is the parameter label of `value` (Parameter::label); `in_layer`: value is an item of
  // a layer ["kind", {settings}], whose settings the kind already names.
  SearchSpace::Node parse(const json& value, const std::string& path, const std::string& label, int parent, int parent_option, int depth,
                          bool in_layer = false) {
    using Node = SearchSpace::Node;
    // The parser, resolution and the tree's destructor recurse once per level: bound it here too,
    // for callers that did not read the document through parse_user_json.
    if (depth > kMaxJsonDepth) fail(path, "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels of arrays and objects");
    Node node;
    if (value.is_object()) {
      bool has_dollar = false;
      for (auto it = value.begin(); it != value.end(); ++it) {
        if (!it.key().empty() && it.key()[0] == '$') has_dollar = true;
      }
      if (has_dollar) {
        if (value.size() != 1) fail(path, "a distribution is an object with exactly one '$' key, got " + json_text(value));
        return parse_distribution(value.begin().key(), value.begin().value(), path, label, parent, parent_option, depth);
      }
      node.type = Node::Type::Object;
      bool all_constant = true;
      for (auto it = value.begin(); it != value.end(); ++it) {
        const std::string child = path.empty() ? it.key() : path + "." + it.key();
        node.members.emplace_back(it.key(), parse(it.value(), child, join_label(label, it.key()), parent, parent_option, depth + 1));
        all_constant = all_constant && node.members.back().second.is_constant();
      }
      if (all_constant) return constant(value);
      return node;
    }
    if (value.is_array()) {
      node.type = Node::Type::Array;
      bool all_constant = true;
      std::map<std::string, int> kind_count, kind_seen;
      for (const auto& item : value) ++kind_count[layer_kind(item)];
      for (std::size_t i = 0; i < value.size(); ++i) {
        const std::string kind = in_layer ? std::string() : layer_kind(value[i]);
        std::string segment = "[" + std::to_string(i) + "]";
        if (in_layer && i == 1) segment.clear();
        if (!kind.empty()) segment = kind_count[kind] > 1 ? kind + "#" + std::to_string(++kind_seen[kind]) : kind;
        node.items.push_back(parse(value[i], path + "[" + std::to_string(i) + "]", join_label(label, segment), parent, parent_option,
                                   depth + 1, !kind.empty()));
        all_constant = all_constant && node.items.back().is_constant();
      }
      if (all_constant) return constant(value);
      return node;
    }
    return constant(value);
  }

  static SearchSpace::Node constant(const json& value) {
    SearchSpace::Node node;
    node.constant = value;
    return node;
  }

  SearchSpace::Node parse_distribution(const std::string& key, const json& args, const std::string& path, const std::string& label,
                                       int parent, int parent_option, int depth) {
    static const std::pair<const char*, DistributionKind> kinds[] = {
        {"$uniform", DistributionKind::Uniform},     {"$loguniform", DistributionKind::LogUniform},
        {"$quniform", DistributionKind::QUniform},   {"$qloguniform", DistributionKind::QLogUniform},
        {"$randint", DistributionKind::RandInt},     {"$normal", DistributionKind::Normal},
        {"$lognormal", DistributionKind::LogNormal}, {"$choice", DistributionKind::Choice}};
    if (path.empty()) fail(path, "params must be an object of parameters, not a single distribution");
    Parameter p;
    bool known = false;
    for (const auto& [name, kind] : kinds) {
      if (key == name) {
        p.kind = kind;
        known = true;
      }
    }
    if (!known) {
      fail(path, "unknown distribution '" + quoted_text(key, 60) +
                     "'; use one of $uniform, $loguniform, $quniform, $qloguniform, $randint, $normal, $lognormal, $choice");
    }
    const bool named_options = p.kind == DistributionKind::Choice && args.is_object();
    if (!args.is_array() && !named_options) {
      fail(path, key +
                     (p.kind == DistributionKind::Choice ? " takes an array of options or an object naming them, got "
                                                         : " takes an array of arguments, got ") +
                     json_text(args));
    }
    p.name = path;
    p.label = label;
    p.parent = parent;
    p.parent_option = parent_option;

    auto arity = [&](std::size_t n, const char* form) {
      if (args.size() != n) fail(path, key + " takes " + std::to_string(n) + " arguments " + form + ", got " + std::to_string(args.size()));
    };
    bool integer = false;
    switch (p.kind) {
      case DistributionKind::Uniform:
      case DistributionKind::LogUniform:
        arity(2, "[low, high]");
        p.low = number(args, 0, path, key.c_str());
        p.high = number(args, 1, path, key.c_str());
        break;
      case DistributionKind::QUniform:
      case DistributionKind::QLogUniform:
        arity(3, "[low, high, q]");
        p.low = number(args, 0, path, key.c_str());
        p.high = number(args, 1, path, key.c_str());
        p.step = number(args, 2, path, key.c_str());
        if (p.step <= 0) fail(path, key + " needs q > 0, got " + json_text(args[2]));
        integer = args[0].is_number_integer() && args[2].is_number_integer();
        break;
      case DistributionKind::RandInt:
        arity(2, "[low, high) (high excluded)");
        if (!args[0].is_number_integer() || !args[1].is_number_integer())
          fail(path, "$randint bounds must be integers, got " + json_text(args));
        p.low = exact_integer(args, 0, path, key.c_str());
        p.high = exact_integer(args, 1, path, key.c_str()) - 1;  // stored inclusive, as a grid of step 1
        p.step = 1;
        integer = true;
        if (p.high < p.low) fail(path, "$randint needs low < high, got " + json_text(args));
        break;
      case DistributionKind::Normal:
      case DistributionKind::LogNormal:
        arity(2, "[mu, sigma]");
        p.mu = number(args, 0, path, key.c_str());
        p.sigma = number(args, 1, path, key.c_str());
        if (p.sigma <= 0) fail(path, key + " needs sigma > 0, got " + json_text(args[1]));
        break;
      case DistributionKind::Choice:
        if (args.empty()) fail(path, "$choice needs at least one option");
        p.num_choices = args.size();
        break;
    }
    if (p.kind != DistributionKind::RandInt && p.kind != DistributionKind::Choice && p.is_bounded() && p.low >= p.high) {
      fail(path, key + " needs low < high, got " + json_text(args));
    }
    if ((p.kind == DistributionKind::LogUniform || p.kind == DistributionKind::QLogUniform) && p.low <= 0) {
      fail(path, key + " bounds are in real space and must be > 0, got low = " + json_text(args[0]));
    }
    check_range(p, integer, args, path, key);

    SearchSpace::Node node;
    node.type = SearchSpace::Node::Type::Param;
    node.param = static_cast<int>(parameters.size());
    node.integer = integer;
    node.named_options = named_options;
    parameters.push_back(p);
    stands_for_parent.push_back(false);
    if (p.kind == DistributionKind::Choice) {
      std::vector<std::string> option_labels;
      int i = 0;
      for (auto it = args.begin(); it != args.end(); ++it, ++i) {
        const std::string option_path = named_options ? path + "." + it.key() : path + "[" + std::to_string(i) + "]";
        const std::size_t first_inside = parameters.size();
        node.options.push_back(parse(it.value(), option_path, label, node.param, i, depth + 2));
        if (node.options.back().type == SearchSpace::Node::Type::Param) stands_for_parent[first_inside] = true;
        option_labels.push_back(named_options ? it.key() : option_text(it.value()));
      }
      // Short forms may coincide ("7 layers" twice): then each says which option it is.
      std::map<std::string, int> uses;
      for (const auto& l : option_labels) ++uses[l];
      for (std::size_t k = 0; k < option_labels.size(); ++k) {
        if (uses[option_labels[k]] > 1) option_labels[k] = "#" + std::to_string(k + 1) + " " + option_labels[k];
      }
      parameters[static_cast<std::size_t>(node.param)].option_labels = std::move(option_labels);
    }
    return node;
  }
};

json resolve_node(const SearchSpace::Node& node, const std::vector<double>& values) {
  using Type = SearchSpace::Node::Type;
  switch (node.type) {
    case Type::Constant: return node.constant;
    case Type::Object: {
      json out = json::object();
      for (const auto& [key, child] : node.members) out[key] = resolve_node(child, values);
      return out;
    }
    case Type::Array: {
      json out = json::array();
      for (const auto& child : node.items) out.push_back(resolve_node(child, values));
      return out;
    }
    case Type::Param: {
      const double v = values.at(static_cast<std::size_t>(node.param));
      if (!node.options.empty()) return resolve_node(node.options.at(static_cast<std::size_t>(v)), values);
      if (node.integer) return json(static_cast<long long>(std::llround(v)));
      return json(v);
    }
  }
  return json();
}

void describe_node(const SearchSpace::Node& node, const std::vector<Parameter>& params, const std::vector<double>& values,
                   std::vector<std::pair<std::string, json>>& out) {
  using Type = SearchSpace::Node::Type;
  switch (node.type) {
    case Type::Constant: return;
    case Type::Object:
      for (const auto& member : node.members) describe_node(member.second, params, values, out);
      return;
    case Type::Array:
      for (const auto& item : node.items) describe_node(item, params, values, out);
      return;
    case Type::Param: {
      const auto index = static_cast<std::size_t>(node.param);
      const double v = values.at(index);
      if (std::isnan(v)) return;
      const Parameter& p = params[index];
      if (node.options.empty()) {
        out.emplace_back(p.label, node.integer ? json(static_cast<long long>(std::llround(v))) : json(v));
        return;
      }
      const auto k = static_cast<std::size_t>(v);
      const auto& option = node.options.at(k);
      if (option.type != Type::Param) {  // else the option's own value stands for the choice
        const bool as_written = !node.named_options && option.is_constant() && option.constant.is_primitive();
        out.emplace_back(p.label, as_written ? option.constant : json(p.option_labels.at(k)));
      }
      describe_node(option, params, values, out);
      return;
    }
  }
}

// Fills `values` from `config`; returns false where the configuration does not fit the tree.
bool match_node(const SearchSpace::Node& node, const json& config, const std::vector<Parameter>& params, std::vector<double>& values) {
  using Type = SearchSpace::Node::Type;
  switch (node.type) {
    case Type::Constant: return true;  // constants are not checked: a trainer may have been told otherwise
    case Type::Object:
      if (!config.is_object()) return false;
      for (const auto& [key, child] : node.members) {
        if (!config.contains(key)) return false;
        if (!match_node(child, config[key], params, values)) return false;
      }
      return true;
    case Type::Array:
      if (!config.is_array() || config.size() != node.items.size()) return false;
      for (std::size_t i = 0; i < node.items.size(); ++i) {
        if (!match_node(node.items[i], config[i], params, values)) return false;
      }
      return true;
    case Type::Param: {
      const std::size_t index = static_cast<std::size_t>(node.param);
      if (!node.options.empty()) {
        for (std::size_t i = 0; i < node.options.size(); ++i) {
          const auto& option = node.options[i];
          std::vector<double> trial = values;
          if (option.is_constant() ? option.constant == config : match_node(option, config, params, trial)) {
            values = std::move(trial);
            values[index] = static_cast<double>(i);
            return true;
          }
        }
        return false;
      }
      if (!config.is_number()) return false;
      values[index] = config.get<double>();
      return true;
    }
  }
  return false;
}

}  // namespace

SearchSpace::SearchSpace() : root_(std::make_unique<Node>()) { root_->constant = json::object(); }
SearchSpace::~SearchSpace() = default;
SearchSpace::SearchSpace(SearchSpace&&) noexcept = default;
SearchSpace& SearchSpace::operator=(SearchSpace&&) noexcept = default;

SearchSpace SearchSpace::parse(const json& params, const std::string& file) {
  if (!params.is_object()) throw FileError(file, "params", "must be an object mapping names to values or distributions");
  SearchSpace space;
  Parser parser{file, space.parameters_, {}};
  *space.root_ = parser.parse(params, "", "", -1, -1, 1);
  space.keep_labels_apart(parser.stands_for_parent);
  return space;
}

void SearchSpace::keep_labels_apart(const std::vector<bool>& stands_for_parent) {
  auto parent_of = [&](std::size_t i) { return parameters_[i].parent; };
  // Whether a and b lie in different options of a choice above both: never active together.
  auto exclusive = [&](std::size_t a, std::size_t b) {
    std::map<int, int> options_of_a;
    for (const Parameter* p = &parameters_[a]; p->parent >= 0; p = &parameters_[static_cast<std::size_t>(p->parent)])
      options_of_a[p->parent] = p->parent_option;
    for (const Parameter* p = &parameters_[b]; p->parent >= 0; p = &parameters_[static_cast<std::size_t>(p->parent)]) {
      const auto found = options_of_a.find(p->parent);
      if (found != options_of_a.end() && found->second != p->parent_option) return true;
    }
    return false;
  };
  // Whether `child` (after `ancestor` in parameters()) is a distribution standing for it.
  auto stands_for = [&](std::size_t child, std::size_t ancestor) {
    while (stands_for_parent[child]) {
      child = static_cast<std::size_t>(parent_of(child));
      if (child == ancestor) return true;
    }
    return false;
  };
  std::map<std::string, std::vector<std::size_t>> by_label;
  for (std::size_t i = 0; i < parameters_.size(); ++i) by_label[parameters_[i].label].push_back(i);
  std::vector<std::size_t> clashing;
  for (const auto& [label, indices] : by_label) {
    for (std::size_t x = 0; x < indices.size(); ++x) {
      for (std::size_t y = x + 1; y < indices.size(); ++y) {
        const std::size_t a = indices[x], b = indices[y];
        if (!exclusive(a, b) && !stands_for(b, a)) clashing.insert(clashing.end(), {a, b});
      }
    }
  }
  for (const std::size_t i : clashing) parameters_[i].label = parameters_[i].name;
}

std::vector<std::string> SearchSpace::labels() const {
  std::vector<std::string> out;
  for (const auto& p : parameters_) {
    if (std::find(out.begin(), out.end(), p.label) == out.end()) out.push_back(p.label);
  }
  return out;
}

int SearchSpace::index_of(const std::string& name) const {
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    if (parameters_[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

bool SearchSpace::is_active(std::size_t index, const std::vector<double>& values) const {
  const Parameter* p = &parameters_[index];
  while (p->parent >= 0) {
    const double chosen = values[static_cast<std::size_t>(p->parent)];
    if (!(chosen == p->parent_option)) return false;  // NaN compares false too
    p = &parameters_[static_cast<std::size_t>(p->parent)];
  }
  return true;
}

void SearchSpace::clear_inactive(std::vector<double>& values) const {
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    const Parameter& p = parameters_[i];
    if (p.parent >= 0 && !(values[static_cast<std::size_t>(p.parent)] == p.parent_option)) {
      values[i] = std::numeric_limits<double>::quiet_NaN();
    }
  }
}

json SearchSpace::resolve(const std::vector<double>& values) const {
  if (values.size() != parameters_.size()) throw Error("resolve: expected " + std::to_string(parameters_.size()) + " values");
  return resolve_node(*root_, values);
}

std::vector<std::pair<std::string, json>> SearchSpace::describe(const std::vector<double>& values) const {
  std::vector<std::pair<std::string, json>> out;
  describe_node(*root_, parameters_, values, out);
  return out;
}

std::vector<double> SearchSpace::values_of(const json& config, const std::string& where) const {
  std::vector<double> values(parameters_.size(), std::numeric_limits<double>::quiet_NaN());
  if (!match_node(*root_, config, parameters_, values)) {
    throw UserError(where + ": this configuration does not fit the space's params (a key is missing, or a choice matches no option)");
  }
  return values;
}

}  // namespace hpsearch
