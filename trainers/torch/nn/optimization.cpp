#include "trainers/torch/nn/optimization.hpp"

#include <cmath>
#include <set>
#include <string>

#include "core/errors.hpp"

namespace hpsearch::nn {

using nlohmann::json;

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) { throw ConfigError(path + ": " + what); }

// Keys of `object` (named `name` in errors) must be among `known`. The known keys are those of
// every kind (every optimizer, every schedule), not only the chosen one's: a space may search the
// kind with `$choice` while its parameters sit beside it in one object, so a `momentum` that only
// SGD reads is not a mistake when Adam is drawn, but `momentun` is one in every case.
void allow_only(const json& object, const std::string& name, const std::set<std::string>& known) {
  if (object.is_null()) return;
  if (!object.is_object()) fail(name, "must be an object, got " + object.dump());
  for (auto it = object.begin(); it != object.end(); ++it) {
    if (!known.count(it.key())) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      fail(name + "." + it.key(), "unknown key; known: " + list);
    }
  }
}

double number(const json& object, const std::string& name, const char* key, double fallback, double low, bool low_open) {
  if (!object.is_object() || !object.contains(key)) return fallback;
  const json& v = object[key];
  const std::string path = name + "." + key;
  if (!v.is_number()) fail(path, "must be a number, got " + v.dump());
  const double x = v.get<double>();
  if (!std::isfinite(x) || (low_open ? x <= low : x < low)) {
    fail(path, std::string("must be ") + (low_open ? "> " : ">= ") + json(low).dump() + ", got " + v.dump());
  }
  return x;
}

bool boolean(const json& object, const std::string& name, const char* key, bool fallback) {
  if (!object.is_object() || !object.contains(key)) return fallback;
  if (!object[key].is_boolean()) fail(name + "." + key, "must be true or false, got " + object[key].dump());
  return object[key].get<bool>();
}

std::string kind(const json& config, const char* key, const std::string& fallback, const std::set<std::string>& kinds) {
  if (!config.contains(key)) return fallback;
  if (!config[key].is_string() || !kinds.count(config[key].get<std::string>())) {
    std::string list;
    for (const auto& k : kinds) list += (list.empty() ? "" : ", ") + k;
    fail(key, "must be one of " + list + ", got " + config[key].dump());
  }
  return config[key].get<std::string>();
}

const json& params_of(const json& config, const char* key) {
  static const json empty = json::object();
  return config.contains(key) && !config[key].is_null() ? config[key] : empty;
}

double base_learning_rate(const json& config) {
  return number(params_of(config, "optimizer_params"), "optimizer_params", "lr", 1e-3, 0, true);
}

// Sets the learning rate of one parameter group through the concrete options type: the three
// optimizers made here are the only ones a group can hold, and their `lr(double)` setters are the
// same in LibTorch 1.13 and 2.x (the base class's set_lr is not something to lean on across them).
void set_group_lr(torch::optim::OptimizerOptions& options, double lr) {
  if (auto* o = dynamic_cast<torch::optim::AdamOptions*>(&options)) {
    o->lr(lr);
  } else if (auto* o = dynamic_cast<torch::optim::AdamWOptions*>(&options)) {
    o->lr(lr);
  } else if (auto* o = dynamic_cast<torch::optim::SGDOptions*>(&options)) {
    o->lr(lr);
  } else {
    throw Error("LearningRateSchedule::apply: an optimizer not made by make_optimizer");
  }
}

}  // namespace

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const json& config, std::vector<torch::Tensor> parameters) {
  const std::string name = kind(config, "optimizer", "adam", {"adam", "adamw", "sgd"});
  const json& p = params_of(config, "optimizer_params");
  const std::string path = "optimizer_params";
  allow_only(p, path, {"lr", "betas", "eps", "weight_decay", "amsgrad", "momentum", "nesterov", "dampening"});
  const double lr = base_learning_rate(config);

  if (name == "sgd") {
    const double momentum = number(p, path, "momentum", 0, 0, false);
    const double dampening = number(p, path, "dampening", 0, 0, false);
    const bool nesterov = boolean(p, path, "nesterov", false);
    // LibTorch would refuse this combination with an assertion deep in the constructor; say
    // which key to change instead.
    if (nesterov && (momentum <= 0 || dampening != 0)) fail(path + ".nesterov", "Nesterov momentum needs momentum > 0 and dampening 0");
    torch::optim::SGDOptions o(lr);
    o.momentum(momentum).dampening(dampening).nesterov(nesterov).weight_decay(number(p, path, "weight_decay", 0, 0, false));
    return std::make_unique<torch::optim::SGD>(std::move(parameters), o);
  }

  double beta1 = 0.9, beta2 = 0.999;
  if (p.contains("betas")) {
    const json& b = p["betas"];
    if (!b.is_array() || b.size() != 2 || !b[0].is_number() || !b[1].is_number())
      fail(path + ".betas", "must be two numbers, got " + b.dump());
    beta1 = b[0].get<double>();
    beta2 = b[1].get<double>();
    if (beta1 < 0 || beta1 >= 1 || beta2 < 0 || beta2 >= 1) fail(path + ".betas", "must both be in [0, 1), got " + b.dump());
  }
  const double eps = number(p, path, "eps", 1e-8, 0, true);
  const bool amsgrad = boolean(p, path, "amsgrad", false);
  if (name == "adamw") {
    // AdamW's decoupled weight decay defaults to 0.01, as in PyTorch.
    torch::optim::AdamWOptions o(lr);
    o.betas({beta1, beta2}).eps(eps).amsgrad(amsgrad).weight_decay(number(p, path, "weight_decay", 1e-2, 0, false));
    return std::make_unique<torch::optim::AdamW>(std::move(parameters), o);
  }
  torch::optim::AdamOptions o(lr);
  o.betas({beta1, beta2}).eps(eps).amsgrad(amsgrad).weight_decay(number(p, path, "weight_decay", 0, 0, false));
  return std::make_unique<torch::optim::Adam>(std::move(parameters), o);
}

LearningRateSchedule::LearningRateSchedule(const json& config, int total_epochs) {
  kind_ = kind(config, "scheduler", "step", {"step", "exponential", "plateaus", "phases", "none"});
  const json& p = params_of(config, "scheduler_params");
  const std::string path = "scheduler_params";
  allow_only(p, path, {"step_size", "gamma", "rates", "fractions", "phases"});
  base_lr_ = base_learning_rate(config);

  if (kind_ == "step") {
    const double step = number(p, path, "step_size", 40, 1, false);
    if (step != std::floor(step)) fail(path + ".step_size", "must be an integer number of epochs, got " + p["step_size"].dump());
    step_size_ = static_cast<int>(step);
    gamma_ = number(p, path, "gamma", 0.3, 0, true);
  } else if (kind_ == "exponential") {
    gamma_ = number(p, path, "gamma", 0.95, 0, true);
  } else if (kind_ == "plateaus") {
    // Seed 001: 0.01, 0.001 and 0.0001 for 50 %, 25 % and 25 % of the epochs. The fractions are
    // relative (divided by their sum), so a space can search them without keeping a sum of 1.
    json rates = p.contains("rates") ? p["rates"] : json{0.01, 0.001, 0.0001};
    json fractions = p.contains("fractions") ? p["fractions"] : json{0.5, 0.25, 0.25};
    if (!rates.is_array() || rates.empty()) fail(path + ".rates", "must be a non-empty list of learning rates, got " + rates.dump());
    if (!fractions.is_array() || fractions.size() != rates.size()) {
      fail(path + ".fractions", "must be a list as long as rates (" + std::to_string(rates.size()) + "), got " + fractions.dump());
    }
    double sum = 0;
    for (std::size_t i = 0; i < rates.size(); ++i) {
      if (!rates[i].is_number() || rates[i].get<double>() <= 0)
        fail(path + ".rates[" + std::to_string(i) + "]", "must be a number > 0, got " + rates[i].dump());
      if (!fractions[i].is_number() || fractions[i].get<double>() <= 0) {
        fail(path + ".fractions[" + std::to_string(i) + "]", "must be a number > 0, got " + fractions[i].dump());
      }
      sum += fractions[i].get<double>();
    }
    // Plateau i ends at round(total × cumulative fraction): 10 epochs at 50/25/25 % give epochs
    // 0-4, 5-7 and 8-9. The last plateau always runs to the end.
    double cumulative = 0;
    for (std::size_t i = 0; i < rates.size(); ++i) {
      cumulative += fractions[i].get<double>() / sum;
      const int end = i + 1 == rates.size() ? total_epochs : static_cast<int>(std::lround(cumulative * total_epochs));
      phases_.emplace_back(rates[i].get<double>(), end);
    }
  } else if (kind_ == "phases") {
    // Seed 004: a list of (learning rate, epochs); after the last phase its rate stays.
    if (!p.contains("phases") || !p["phases"].is_array() || p["phases"].empty()) {
      fail(path + ".phases", "is required by the phases scheduler: a list of [learning rate, epochs], e.g. [[0.1, 5], [0.01, 3]]");
    }
    int end = 0;
    for (std::size_t i = 0; i < p["phases"].size(); ++i) {
      const json& ph = p["phases"][i];
      const std::string at = path + ".phases[" + std::to_string(i) + "]";
      if (!ph.is_array() || ph.size() != 2 || !ph[0].is_number() || !ph[1].is_number_integer() || ph[0].get<double>() <= 0 ||
          ph[1].get<int>() < 1) {
        fail(at, "must be [learning rate > 0, epochs >= 1 (an integer)], got " + ph.dump());
      }
      end += ph[1].get<int>();
      phases_.emplace_back(ph[0].get<double>(), end);
    }
  }
}

double LearningRateSchedule::rate(int epoch) const {
  if (kind_ == "step") return base_lr_ * std::pow(gamma_, epoch / step_size_);
  if (kind_ == "exponential") return base_lr_ * std::pow(gamma_, epoch);
  if (kind_ == "plateaus" || kind_ == "phases") {
    for (const auto& [lr, end] : phases_) {
      if (epoch < end) return lr;
    }
    return phases_.back().first;
  }
  return base_lr_;  // none
}

void LearningRateSchedule::apply(torch::optim::Optimizer& optimizer, int epoch) const {
  const double lr = rate(epoch);
  for (auto& group : optimizer.param_groups()) set_group_lr(group.options(), lr);
}

}  // namespace hpsearch::nn
