#pragma once
// A search space: the `params` object of a space file, with its distributions.
//
// Grammar (only inside `params`): an object whose single key starts with '$' is a distribution;
// every other JSON value is a constant kept as is at any depth. Choice options may themselves be
// constants, distributions or any JSON holding distributions, which makes the space a tree:
// a parameter nested in option k of a choice is active only when that choice takes option k.
//
// A choice's options are an array (`{"$choice": [32, 64]}`) or an object naming each option
// (`{"$choice": {"small": [...], "large": [...]}}`, options in the order of their names); the
// trainer receives the chosen option either way, never its name.
//
// Parameters are named by their JSON path ("optimizer.lr", "layers[2].out",
// "architecture.dropout_prob[1]" for the distribution that is option 1 of that choice), for error
// messages and samplers. Summaries use `label` instead, the name a person reads (see Parameter).
//
// A point of the space is a vector of doubles, one per parameter in `parameters()` order
// ("internal values"): the real value for numeric distributions (integers held exactly), the
// option index for a choice, NaN for an inactive parameter. Samplers work on these;
// `resolve()` turns them into the configuration a trainer receives.
#include <cstddef>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace hpsearch {

enum class DistributionKind {
  Uniform,      // [low, high]
  LogUniform,   // [low, high], uniform in log space, low > 0
  QUniform,     // low + k*q for k = 0 .. floor((high-low)/q), picked by a uniform density
  QLogUniform,  // low + k*q likewise, picked by a log-uniform density, low > 0
  RandInt,      // integers low .. high-1
  Normal,       // mu + sigma*N(0,1), unbounded
  LogNormal,    // exp(mu + sigma*N(0,1)), mu and sigma in log space (hyperopt's convention)
  Choice,       // option index 0 .. num_choices-1
};

const char* to_string(DistributionKind kind);  // "$uniform", ...

struct Parameter {
  std::string name;  // JSON path under params
  // The keys on its path, without the positions a reader would have to count: a choice's options
  // add nothing (the choice's value says which option), a layer written ["conv2d", {...}] in an
  // array is named by its kind ("layers.conv2d#2.out_channels" for the second conv2d of the
  // array), other array items by their index ("[3]"). Parameters active together never share a
  // label (those that would keep `name`); a distribution that is itself an option of a choice
  // shares the choice's label and stands for it when chosen.
  std::string label;
  std::vector<std::string> option_labels;  // choice: each option as a person reads it (its name, or a short form)
  DistributionKind kind = DistributionKind::Uniform;
  double low = 0, high = 0, step = 0;  // uniform family and randint (step: q; 1 for randint)
  double mu = 0, sigma = 0;            // normal family
  std::size_t num_choices = 0;         // choice
  int parent = -1;                     // index of the enclosing choice, -1 at top level
  int parent_option = -1;              // option of `parent` that activates this parameter

  bool is_log() const {
    return kind == DistributionKind::LogUniform || kind == DistributionKind::QLogUniform || kind == DistributionKind::LogNormal;
  }
  bool is_discrete() const {
    return kind == DistributionKind::QUniform || kind == DistributionKind::QLogUniform || kind == DistributionKind::RandInt;
  }
  bool is_bounded() const { return kind != DistributionKind::Normal && kind != DistributionKind::LogNormal; }
  // Largest grid value of a discrete parameter (low + k*step <= high).
  double grid_high() const;
  // Snaps a real value onto the parameter's domain: grid rounding and bounds for discrete kinds,
  // clipping for bounded continuous ones; unchanged for the normal family.
  double snap(double value) const;
};

// Whether two points are the same configuration (NaN, an inactive parameter, equals NaN).
bool same_point(const std::vector<double>& a, const std::vector<double>& b);

class SearchSpace {
 public:
  // Parses a `params` object. `file` names the space file in error messages (FileError).
  static SearchSpace parse(const nlohmann::json& params, const std::string& file);

  SearchSpace();
  ~SearchSpace();
  SearchSpace(SearchSpace&&) noexcept;
  SearchSpace& operator=(SearchSpace&&) noexcept;

  // Parents always come before their children.
  const std::vector<Parameter>& parameters() const { return parameters_; }
  std::size_t size() const { return parameters_.size(); }
  int index_of(const std::string& name) const;  // -1 if absent

  // Whether parameter `index` is active given the values of its ancestors.
  bool is_active(std::size_t index, const std::vector<double>& values) const;
  // Sets NaN on every parameter that `values` leaves inactive.
  void clear_inactive(std::vector<double>& values) const;
  // The resolved configuration: params with each distribution replaced by its value.
  // Integers (randint, and q-distributions whose low and q are integers) come out as JSON integers.
  nlohmann::json resolve(const std::vector<double>& values) const;
  // Each active parameter by its label with the value a person wants to read: the number, or for a
  // choice the chosen constant when it is a number, boolean or null, else its option label. A choice
  // whose chosen option is a distribution is left out: that distribution's value stands for it.
  // For summaries.
  std::vector<std::pair<std::string, nlohmann::json>> describe(const std::vector<double>& values) const;
  // Every label that describe() can return, each once, in the order of parameters().
  std::vector<std::string> labels() const;
  // The inverse of resolve for a configuration that came from this space; throws UserError
  // naming `where` when the configuration does not fit.
  std::vector<double> values_of(const nlohmann::json& config, const std::string& where) const;

  // The tree behind resolve(); defined in space.cpp.
  struct Node;

 private:
  // Gives the parameters that would share a label while active together their `name` instead.
  void keep_labels_apart(const std::vector<bool>& stands_for_parent);

  std::vector<Parameter> parameters_;
  std::unique_ptr<Node> root_;
};

}  // namespace hpsearch
