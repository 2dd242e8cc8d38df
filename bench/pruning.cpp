// Pruning benchmark: the same search with no pruner, the median rule and ASHA.
//
// Each search is the real thing minus MPI: the Master, a SqliteStorage in a temporary file, the
// in-process worker pool (one worker, so trials run one after another) and the synthetic trainer's
// learning_curve with noise. 100 trials of up to 81 steps, the TPE sampler (default) or random
// (--sampler random), 10 seeds per pruner. For each pruner it prints the median over seeds of the
// steps trained and of the best value found (the noise-free final value, branin(x1, x2), of the
// best COMPLETE trial), with its spread (min..max) over seeds.
//
// Then the time of one pruning decision against a history of 1,000 trials x 81 steps, beside
// the time the master takes to record one step in SQLite (its per-step database work).
//
//   pruning [--seeds 10] [--trials 100] [--sampler tpe|random]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "orchestrator/master.hpp"
#include "search/random.hpp"
#include "study/sqlite_storage.hpp"
#include "trainers/core/synthetic_functions.hpp"
#include "trainers/torch/registry.hpp"
#include "worker/trial_thread.hpp"

using nlohmann::json;
using namespace hpsearch;
using Clock = std::chrono::steady_clock;

namespace {

const json kParams = json::parse(R"({"x1": {"$uniform": [-5, 10]}, "x2": {"$uniform": [0, 15]}})");
const json kTrainer = json::parse(R"({"type": "synthetic", "function": "learning_curve", "steps": 81, "noise": 0.5})");

struct Run {
  long long steps = 0;
  double best = 0;
  int pruned = 0;
};

Run search(const json& pruner_settings, const std::string& sampler_type, int seed, int trials) {
  const auto path = std::filesystem::temp_directory_path() / ("hpsearch_pruning_bench_" + std::to_string(::getpid()) + ".db");
  std::filesystem::remove(path);
  Run run;
  {
    const SearchSpace space = SearchSpace::parse(kParams, "bench");
    const json sampler_settings{{"type", sampler_type}, {"seed", seed}};
    const json document{{"trainer", kTrainer}, {"params", kParams}, {"sampler", sampler_settings}, {"pruner", pruner_settings}};
    SqliteStorage storage(path.string(), SqliteStorage::Access::ReadWrite);
    storage.open_study(storage.create_study("bench", "bench.json", document.dump(), document), ObjectiveMode::Minimize, "value",
                       space.size());
    auto sampler = make_sampler(sampler_settings, space, "bench");
    auto pruner = make_pruner(pruner_settings, "bench");
    TrialThread pool(make_trainer(kTrainer, "bench"), "value", ObjectiveMode::Minimize);
    MasterOptions options;
    options.trials = trials;
    options.trial_root = std::filesystem::temp_directory_path();
    options.progress = Progress::Style::None;
    options.pruner = pruner.get();
    Master(storage, *sampler, space, pool, options).run();
    // The search's answer is its best COMPLETE trial (by reported, noisy, value); its worth is the
    // noise-free final value of that configuration, branin(x1, x2): the minimum of 100 noisy
    // values would favour the searches that complete the most trials.
    double best_reported = 1e300;
    for (const auto& t : storage.history().trials) {
      run.steps += static_cast<long long>(t.intermediate.size());
      if (t.state == TrialState::Pruned) ++run.pruned;
      if (t.state == TrialState::Complete && t.value && *t.value < best_reported) {
        best_reported = *t.value;
        const json config = space.resolve(t.point);
        run.best = synthetic::branin(config["x1"].get<double>(), config["x2"].get<double>());
      }
    }
  }
  std::filesystem::remove(path);
  std::filesystem::remove(path.string() + "-wal");
  std::filesystem::remove(path.string() + "-shm");
  return run;
}

template <class T>
T median(std::vector<T> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// A history of `n` finished trials of 81 steps, noisy exponential curves, plus one RUNNING trial.
StudyHistory big_history(int n) {
  StudyHistory h;
  Rng rng(1, 0, 99);
  for (int i = 0; i <= n; ++i) {
    TrialRecord t;
    t.number = i;
    t.state = i == n ? TrialState::Running : (i % 3 == 0 ? TrialState::Complete : TrialState::Pruned);
    const double final_loss = 1 + 10 * rng.uniform(), tau = 3 + 12 * rng.uniform();
    const int steps = i == n ? 27 : (t.state == TrialState::Complete ? 81 : 1 + static_cast<int>(rng.uniform() * 80));
    for (int s = 1; s <= steps; ++s) t.intermediate.emplace_back(s, final_loss + 60 * std::exp(-s / tau) + 0.5 * rng.normal());
    h.trials.push_back(t);
  }
  return h;
}

double time_decisions_us(const Pruner& pruner, const StudyHistory& h, int repeats) {
  const int trial = static_cast<int>(h.trials.size()) - 1;
  int stops = 0;
  const auto start = Clock::now();
  for (int i = 0; i < repeats; ++i) stops += pruner.decide(h, trial, 27).stop ? 1 : 0;
  const double us = std::chrono::duration<double, std::micro>(Clock::now() - start).count() / repeats;
  if (stops < 0) std::printf("%d", stops);  // keeps the calls
  return us;
}

double time_record_step_us(int repeats) {
  const auto path = std::filesystem::temp_directory_path() / ("hpsearch_pruning_steps_" + std::to_string(::getpid()) + ".db");
  std::filesystem::remove(path);
  double us = 0;
  {
    const json document{{"trainer", kTrainer}, {"params", kParams}};
    SqliteStorage storage(path.string(), SqliteStorage::Access::ReadWrite);
    storage.open_study(storage.create_study("steps", "b.json", "{}", document), ObjectiveMode::Minimize, "value", 2);
    storage.start_trial(0, {0.0, 0.0}, json::object(), 1);
    const auto start = Clock::now();
    for (int i = 1; i <= repeats; ++i) storage.record_step(0, i, json{{"value", 1.0 / i}});
    us = std::chrono::duration<double, std::micro>(Clock::now() - start).count() / repeats;
  }
  std::filesystem::remove(path);
  std::filesystem::remove(path.string() + "-wal");
  std::filesystem::remove(path.string() + "-shm");
  return us;
}

}  // namespace

int main(int argc, char** argv) {
  int seeds = 10, trials = 100;
  std::string sampler = "tpe";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--seeds"))
      seeds = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--trials"))
      trials = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--sampler"))
      sampler = argv[i + 1];
  }
  const std::vector<std::pair<std::string, json>> pruners{
      {"none", json{{"type", "none"}}},
      {"median", json{{"type", "median"}, {"startup_trials", 5}}},
      {"asha", json{{"type", "asha"}, {"min_resource", 1}, {"reduction_factor", 3}, {"max_resource", 81}}},
      {"asha min_resource=3", json{{"type", "asha"}, {"min_resource", 3}, {"reduction_factor", 3}, {"max_resource", 81}}},
      {"hyperband", json{{"type", "hyperband"}, {"min_resource", 1}, {"reduction_factor", 3}, {"max_resource", 81}}},
  };
  std::printf("learning_curve (81 steps, noise 0.5), %d trials, %s sampler, %d seeds, one worker\n", trials, sampler.c_str(), seeds);
  std::printf("| pruner | steps trained (median) | vs none | best value (median) | best value (min..max) | PRUNED trials (median) |\n");
  std::printf("| --- | --- | --- | --- | --- | --- |\n");
  double none_steps = 0;
  for (const auto& [name, settings] : pruners) {
    std::vector<long long> steps;
    std::vector<double> best;
    std::vector<int> pruned;
    for (int seed = 0; seed < seeds; ++seed) {
      const Run r = search(settings, sampler, seed, trials);
      steps.push_back(r.steps);
      best.push_back(r.best);
      pruned.push_back(r.pruned);
    }
    const double s = static_cast<double>(median(steps));
    if (name == "none") none_steps = s;
    std::printf("| %s | %.0f | %.2fx fewer | %.3f | %.3f..%.3f | %d |\n", name.c_str(), s, none_steps / s, median(best),
                *std::min_element(best.begin(), best.end()), *std::max_element(best.begin(), best.end()), median(pruned));
  }

  const StudyHistory h = big_history(1000);
  const int repeats = 2000;
  std::printf("\none decision, history of 1,000 trials x up to 81 steps (%d repeats):\n", repeats);
  for (const auto& [name, settings] : pruners) {
    if (name == "none" || name.find('=') != std::string::npos || name == "hyperband") continue;
    std::printf("  %-10s %.2f us\n", name.c_str(), time_decisions_us(*make_pruner(settings, "bench"), h, repeats));
  }
  const json hb{{"type", "hyperband"}, {"min_resource", 1}, {"reduction_factor", 3}, {"max_resource", 81}};
  std::printf("  %-10s %.2f us\n", "hyperband", time_decisions_us(*make_pruner(hb, "bench"), h, repeats));
  std::printf("  recording one step in SQLite (the master's database work per step): %.2f us\n", time_record_step_us(repeats));
  return 0;
}
