#include "trainers/core/synthetic_trainer.hpp"

#include <chrono>
#include <thread>
#include <vector>

#include "search/random.hpp"
#include "trainers/core/settings.hpp"
#include "trainers/core/synthetic_functions.hpp"

namespace hpsearch {

namespace {

std::vector<double> read_inputs(const nlohmann::json& config, int count, const std::string& function) {
  std::vector<double> x;
  for (int i = 1;; ++i) {
    const std::string key = "x" + std::to_string(i);
    const bool wanted = count > 0 ? i <= count : true;
    if (!wanted) break;
    if (!config.contains(key)) {
      if (count == 0 && i > 2) break;  // rosenbrock: as many as given, at least two
      throw Error("the " + function + " function needs the configuration key '" + key + "' (a number)");
    }
    if (!config[key].is_number()) throw Error("configuration key '" + key + "' must be a number, got " + config[key].dump());
    x.push_back(config[key].get<double>());
  }
  return x;
}

void sleep_for_ms(double ms) {
  if (ms > 0) std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(ms));
}

}  // namespace

SyntheticTrainer::SyntheticTrainer(const nlohmann::json& settings, const std::string& file) {
  TrainerSettings s(settings, file);
  s.allow_only({"function", "steps", "noise", "sleep_ms"});
  if (!s.has("function")) s.fail("function", "is required: one of branin, hartmann6, rosenbrock, learning_curve");
  function_ = s.string("function", "");
  if (synthetic::input_count(function_) < 0) {
    s.fail("function", "unknown function '" + function_ + "'; use branin, hartmann6, rosenbrock or learning_curve");
  }
  const double steps = s.number("steps", function_ == "learning_curve" ? 81 : 0, 0);
  if (steps != static_cast<int>(steps)) s.fail("steps", "must be an integer");
  if (steps > 0 && function_ != "learning_curve") s.fail("steps", "only the learning_curve function reports steps");
  steps_ = static_cast<int>(steps);
  noise_ = s.number("noise", 0, 0);
  sleep_ms_ = s.number("sleep_ms", 0, 0);
}

double SyntheticTrainer::run(const TrialContext& trial, StepReporter& reporter) {
  const std::vector<double> x = read_inputs(trial.config, synthetic::input_count(function_), function_);
  Rng rng(static_cast<std::uint64_t>(trial.number), 0, /*purpose=*/7);
  auto noisy = [&](double v) { return noise_ > 0 ? v + noise_ * rng.normal() : v; };

  if (function_ == "learning_curve") {
    double last = 0;
    for (int step = 1; step <= steps_; ++step) {
      sleep_for_ms(sleep_ms_);
      last = noisy(synthetic::learning_curve(x[0], x[1], step));
      if (!reporter.report(step, {{trial.objective_metric, last}})) break;
    }
    return last;
  }
  sleep_for_ms(sleep_ms_);
  if (function_ == "branin") return noisy(synthetic::branin(x[0], x[1]));
  if (function_ == "hartmann6") return noisy(synthetic::hartmann6(x));
  return noisy(synthetic::rosenbrock(x));
}

}  // namespace hpsearch
