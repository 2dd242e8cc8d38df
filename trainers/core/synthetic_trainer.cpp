#include "trainers/core/synthetic_trainer.hpp"

#include <chrono>
#include <thread>
#include <vector>

#include "core/errors.hpp"
#include "search/random.hpp"
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

const settings::Table& synthetic_settings_table() {
  namespace t = settings;
  static const settings::Table table{
      "synthetic trainer",
      {t::required(
           t::string("function", nullptr,
                     "`branin`, `hartmann6`, `rosenbrock` or `learning_curve`: the test function of the configuration's keys `x1`..`xN`",
                     {"branin", "hartmann6", "rosenbrock", "learning_curve"})),
       t::integer("steps", nullptr, "steps `learning_curve` reports, as the metric `value` (none: 81; the other functions report none)", 0),
       t::number("noise", 0, "standard deviation of Gaussian noise added to every value, seeded by (trial, step)", 0),
       t::number("sleep_ms", 0, "milliseconds waited per step (per trial for functions without steps), to imitate training time", 0)},
      {"type"}};
  return table;
}

SyntheticTrainer::SyntheticTrainer(const nlohmann::json& settings, const std::string& file) {
  const settings::Reader s(settings, synthetic_settings_table(), file, "trainer");
  function_ = s.string("function");
  const bool curve = function_ == "learning_curve";
  if (s.has("steps") && s.integer("steps") > 0 && !curve) s.fail("steps", "only the learning_curve function reports steps");
  steps_ = static_cast<int>(s.has("steps") ? s.integer("steps") : curve ? 81 : 0);
  noise_ = s.number("noise");
  sleep_ms_ = s.number("sleep_ms");
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
