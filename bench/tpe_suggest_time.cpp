// Time per TPE suggestion against the number of complete trials and of parameters.
//
// The space repeats a block of 7 parameters (4 uniform floats, 1 log-uniform float, 1 integer,
// 1 categorical); the history holds N random COMPLETE trials valued by a smooth function, and
// each iteration suggests trial N with the default TPE settings (make_sampler, as a user would);
// BM_TpeSuggestExhaustive turns the far-kernel pruning off ("prune_kernels": false).
//   tpe_suggest_time [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "search/history.hpp"
#include "search/random.hpp"
#include "search/sampler.hpp"
#include "search/samplers/random_sampler.hpp"
#include "search/space.hpp"

namespace {

using nlohmann::json;
using namespace hpsearch;

json space_of(int blocks) {
  json params = json::object();
  for (int b = 0; b < blocks; ++b) {
    const std::string s = std::to_string(b);
    for (int i = 0; i < 4; ++i) params["x" + std::to_string(i) + "_" + s] = {{"$uniform", {-5.0, 5.0}}};
    params["lr_" + s] = {{"$loguniform", {1e-5, 1.0}}};
    params["units_" + s] = {{"$randint", {1, 65}}};
    params["optimizer_" + s] = {{"$choice", {"sgd", "adam", "rmsprop"}}};
  }
  return params;
}

StudyHistory random_history(const SearchSpace& space, int trials) {
  StudyHistory history;
  Rng rng(12345);
  for (int n = 0; n < trials; ++n) {
    TrialRecord t;
    t.number = n;
    t.state = TrialState::Complete;
    double value = 0;
    for (const Parameter& p : space.parameters()) {
      const double v = sample_prior(p, rng);
      t.point.push_back(v);
      value += p.is_log() ? std::pow(std::log10(v) + 3, 2) : std::pow((v - p.low) / (p.high - p.low + 1) - 0.3, 2);
    }
    t.value = value;
    history.trials.push_back(std::move(t));
  }
  return history;
}

void run_suggestions(benchmark::State& state, const json& sampler_settings) {
  const int trials = static_cast<int>(state.range(0));
  const int params = static_cast<int>(state.range(1));
  const SearchSpace space = SearchSpace::parse(space_of(params / 7), "bench");
  StudyHistory history = random_history(space, trials);
  TrialRecord pending;  // the row of the trial being suggested, as the master has it
  pending.number = trials;
  pending.state = TrialState::Running;
  history.trials.push_back(pending);
  auto sampler = make_sampler(sampler_settings, space, "bench");
  for (auto _ : state) {
    std::vector<double> values = sampler->suggest(history, trials);
    benchmark::DoNotOptimize(values.data());
  }
  state.counters["trials"] = trials;
  state.counters["params"] = params;
}

void BM_TpeSuggest(benchmark::State& state) { run_suggestions(state, json{{"type", "tpe"}, {"seed", 1}}); }

// The same with every candidate scored against every bad-set kernel (no far-kernel pruning).
void BM_TpeSuggestExhaustive(benchmark::State& state) {
  run_suggestions(state, json{{"type", "tpe"}, {"seed", 1}, {"prune_kernels", false}});
}

BENCHMARK(BM_TpeSuggest)
    ->ArgNames({"trials", "params"})
    ->Args({100, 7})
    ->Args({1000, 7})
    ->Args({3000, 7})
    ->Args({10000, 7})
    ->Args({30000, 7})
    ->Args({1000, 14})
    ->Args({1000, 28})
    ->Args({10000, 14})
    ->Args({10000, 28})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TpeSuggestExhaustive)->ArgNames({"trials", "params"})->Args({1000, 7})->Args({10000, 7})->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
