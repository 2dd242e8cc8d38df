// Regret benchmark of the TPE sampler against random search.
//
// For each test space, each seed and each sampler: 100 trials one at a time (suggest, evaluate the
// synthetic function on the resolved configuration, append a COMPLETE trial), then the median
// over seeds of the regret (best value found - known optimum) after 25, 50 and 100 trials.
// The spaces are JSON `params` objects exactly as a user writes them, and the samplers come from
// make_sampler with a JSON `sampler` object: the real path.
//
//   tpe_regret [--seeds 20] [--trials 100] [--space NAME] [--pending K]
//              [--tpe '{"n_candidates": 128}'] [--no-random]
//
// --pending K keeps K trials RUNNING while the next is suggested (asynchronous workers with the
// constant liar): each trial is evaluated only after K more have been suggested.
// --tpe merges settings into the TPE sampler object (for tuning).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "search/history.hpp"
#include "search/sampler.hpp"
#include "search/space.hpp"
#include "trainers/core/synthetic_functions.hpp"

using nlohmann::json;
using namespace hpsearch;

namespace {

struct TestSpace {
  std::string name;
  json params;
  std::function<double(const json&)> objective;  // of the resolved configuration
  double optimum;
};

std::vector<double> inputs(const json& config, int n) {
  std::vector<double> x;
  for (int i = 1; i <= n; ++i) x.push_back(config.at("x" + std::to_string(i)).get<double>());
  return x;
}

json uniform_box(int n, double low, double high) {
  json params = json::object();
  for (int i = 1; i <= n; ++i) params["x" + std::to_string(i)] = {{"$uniform", {low, high}}};
  return params;
}

std::vector<TestSpace> test_spaces() {
  std::vector<TestSpace> spaces;
  spaces.push_back({"branin", json::parse(R"({"x1": {"$uniform": [-5, 10]}, "x2": {"$uniform": [0, 15]}})"),
                    [](const json& c) { return synthetic::branin(c["x1"].get<double>(), c["x2"].get<double>()); },
                    synthetic::kBraninMinimum});
  spaces.push_back(
      {"hartmann6", uniform_box(6, 0, 1), [](const json& c) { return synthetic::hartmann6(inputs(c, 6)); }, synthetic::kHartmann6Minimum});
  spaces.push_back({"rosenbrock4", uniform_box(4, -5, 10), [](const json& c) { return synthetic::rosenbrock(inputs(c, 4)); }, 0.0});

  // Mixed: a float, a log-float, a stepped float, an int, a normal and a categorical, with
  // interactions (the best x depends on the learning rate, the best units on the optimizer).
  // Optimum 0 at lr = 1e-3, x = 1.5, q = 0.35, units = 24 (adam), w = 0.5.
  spaces.push_back({"mixed", json::parse(R"({
        "lr": {"$loguniform": [1e-5, 1]},
        "x": {"$uniform": [-5, 5]},
        "q": {"$quniform": [0, 1, 0.05]},
        "units": {"$randint": [1, 65]},
        "w": {"$normal": [0, 1]},
        "optimizer": {"$choice": ["sgd", "adam", "rmsprop"]},
        "epochs": 10})"),
                    [](const json& c) {
                      const double llr = std::log10(c["lr"].get<double>());
                      const double x = c["x"].get<double>(), q = c["q"].get<double>(), w = c["w"].get<double>();
                      const double units = c["units"].get<double>();
                      const std::string opt = c["optimizer"].get<std::string>();
                      const double best_units = opt == "adam" ? 24 : 40;
                      const double penalty = opt == "adam" ? 0.0 : (opt == "rmsprop" ? 0.3 : 0.8);
                      const double dx = x - 1.5 - 0.5 * (llr + 3);
                      return 0.25 * (llr + 3) * (llr + 3) + 0.2 * dx * dx + 4 * (q - 0.35) * (q - 0.35) +
                             std::pow((units - best_units) / 16, 2) + (w - 0.5) * (w - 0.5) + penalty;
                    },
                    0.0});

  // Conditional: a nested $choice of three model families with their own parameters, one of
  // them with a choice inside. Optimum 0: the mlp family with lr = 1e-3, width = 256, x = 0.5.
  spaces.push_back({"conditional", json::parse(R"({
        "x": {"$uniform": [-2, 2]},
        "model": {"$choice": [
          {"type": "linear", "alpha": {"$loguniform": [1e-4, 10]}},
          {"type": "tree", "depth": {"$randint": [1, 16]},
           "leaf": {"$choice": [{"kind": "a", "s": {"$uniform": [0, 1]}}, {"kind": "b"}]}},
          {"type": "mlp", "lr": {"$loguniform": [1e-5, 1e-1]}, "width": {"$qloguniform": [16, 1024, 16]}}
        ]}})"),
                    [](const json& c) {
                      const double x = c["x"].get<double>();
                      const json& m = c["model"];
                      const std::string type = m["type"].get<std::string>();
                      if (type == "linear") {
                        const double la = std::log10(m["alpha"].get<double>());
                        return 1.0 + 0.25 * (la + 1) * (la + 1) + x * x;
                      }
                      if (type == "tree") {
                        const double depth = m["depth"].get<double>();
                        const json& leaf = m["leaf"];
                        const double leaf_loss = leaf["kind"] == "a" ? 4 * std::pow(leaf["s"].get<double>() - 0.3, 2) : 0.3;
                        return 0.4 + std::pow((depth - 7) / 5, 2) + leaf_loss + x * x;
                      }
                      const double llr = std::log10(m["lr"].get<double>());
                      const double lw = std::log2(m["width"].get<double>());
                      return 0.25 * (llr + 3) * (llr + 3) + (lw - 8) * (lw - 8) / 9 + (x - 0.5) * (x - 0.5);
                    },
                    0.0});
  return spaces;
}

// Best-so-far regret after each trial of one run.
std::vector<double> run(const TestSpace& ts, const SearchSpace& space, const json& sampler_settings, int trials, int pending) {
  auto sampler = make_sampler(sampler_settings, space, "bench");
  StudyHistory history;
  std::vector<double> regret;
  double best = INFINITY;
  std::deque<int> running;
  auto finish = [&](int number) {
    TrialRecord& t = history.trials[static_cast<std::size_t>(number)];
    t.state = TrialState::Complete;
    t.value = ts.objective(space.resolve(t.point));
    best = std::min(best, *t.value - ts.optimum);
    regret.push_back(best);
  };
  for (int number = 0; number < trials; ++number) {
    TrialRecord record;
    record.number = number;
    record.state = TrialState::Running;
    history.trials.push_back(record);  // as the master does: the row exists before its params
    history.trials.back().point = sampler->suggest(history, number);
    running.push_back(number);
    if (static_cast<int>(running.size()) > pending) {
      finish(running.front());
      running.pop_front();
    }
  }
  while (!running.empty()) {
    finish(running.front());
    running.pop_front();
  }
  return regret;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

int main(int argc, char** argv) {
  int seeds = 20, trials = 100, pending = 0;
  bool with_random = true;
  std::string only;
  json tpe_overrides = json::object();
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--seeds")
      seeds = std::atoi(next().c_str());
    else if (arg == "--trials")
      trials = std::atoi(next().c_str());
    else if (arg == "--space")
      only = next();
    else if (arg == "--pending")
      pending = std::atoi(next().c_str());
    else if (arg == "--tpe")
      tpe_overrides = json::parse(next());
    else if (arg == "--no-random")
      with_random = false;
    else {
      std::fprintf(stderr, "usage: tpe_regret [--seeds N] [--trials N] [--space NAME] [--pending K] [--tpe JSON] [--no-random]\n");
      return 2;
    }
  }
  const std::vector<int> checkpoints = {25, 50, 100};
  const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  std::printf("median regret over %d seeds (best found - optimum), %d trial(s) pending while suggesting\n", seeds, pending);
  std::printf("%-12s %-7s %12s %12s %12s\n", "space", "sampler", "@25", "@50", "@100");
  for (const TestSpace& ts : test_spaces()) {
    if (!only.empty() && ts.name != only) continue;
    const SearchSpace space = SearchSpace::parse(ts.params, "bench");
    for (const std::string type : {"tpe", "random"}) {
      if (type == "random" && !with_random) continue;
      std::vector<std::vector<double>> curves(static_cast<std::size_t>(seeds));
      std::vector<std::thread> pool;
      for (unsigned w = 0; w < threads; ++w) {
        pool.emplace_back([&, w] {
          for (int seed = static_cast<int>(w); seed < seeds; seed += static_cast<int>(threads)) {
            json settings = {{"type", type}, {"seed", seed}};
            if (type == "tpe") settings.update(tpe_overrides);
            curves[static_cast<std::size_t>(seed)] = run(ts, space, settings, trials, pending);
          }
        });
      }
      for (auto& t : pool) t.join();
      std::printf("%-12s %-7s", ts.name.c_str(), type.c_str());
      for (int at : checkpoints) {
        if (at > trials) continue;
        std::vector<double> values;
        for (const auto& c : curves) values.push_back(c[static_cast<std::size_t>(at - 1)]);
        std::printf(" %12.4g", median(values));
      }
      std::printf("\n");
      if (std::getenv("TPE_REGRET_ALL")) {  // every seed's final regret, sorted (for tuning)
        std::vector<double> finals;
        for (const auto& c : curves) finals.push_back(c.back());
        std::sort(finals.begin(), finals.end());
        for (double f : finals) std::printf(" %.3g", f);
        std::printf("\n");
      }
      std::fflush(stdout);
    }
  }
  return 0;
}
