#include "trainers/torch/nn/epoch_loop.hpp"

#include <chrono>
#include <cmath>
#include <filesystem>

#include "core/errors.hpp"
#include "trainers/torch/nn/compute_device.hpp"
#include "trainers/torch/nn/data_parallel.hpp"

namespace hpsearch::nn {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// What a checkpoint holds besides the tensors, as one JSON text inside the archive.
struct LoopState {
  int next_epoch = 0;  // the first epoch still to run
  double best = NAN;   // best objective so far (NaN: none yet)
  int best_step = 0;
  double elapsed_s = 0;  // training time spent before this run (for time_budget_s)
  double longest_epoch_s = 0;
  json reports = json::array();  // every step report sent, replayed after a resume
};

// Writes to a temporary file and renames it: a kill during the write leaves the previous
// checkpoint whole rather than a truncated one.
void save_archive(torch::serialize::OutputArchive& archive, const fs::path& file) {
  const fs::path partial = file.string() + ".partial";
  archive.save_to(partial.string());
  fs::rename(partial, file);
}

void save_checkpoint(const fs::path& file, EpochTask& task, const json& config, const LoopState& state) {
  torch::serialize::OutputArchive archive, model_archive, optimizer_archive;
  task.model().save(model_archive);
  task.optimizer().save(optimizer_archive);
  archive.write("model", model_archive);
  archive.write("optimizer", optimizer_archive);
  const json meta = {{"config", config},
                     {"next_epoch", state.next_epoch},
                     {"best", state.best},
                     {"best_step", state.best_step},
                     {"elapsed_s", state.elapsed_s},
                     {"longest_epoch_s", state.longest_epoch_s},
                     {"reports", state.reports}};
  archive.write("state", c10::IValue(meta.dump()));
  save_archive(archive, file);
}

// Loads `file` into the task and returns its state; false when there is no checkpoint.
bool load_checkpoint(const fs::path& file, EpochTask& task, const json& config, LoopState& state) {
  if (!fs::exists(file)) return false;
  torch::serialize::InputArchive archive, model_archive, optimizer_archive;
  archive.load_from(file.string(), compute_device());
  c10::IValue meta_text;
  archive.read("state", meta_text);
  const json meta = json::parse(meta_text.toStringRef());
  if (meta.at("config") != config) {
    throw UserError(file.string() + " is the checkpoint of another configuration; remove it or use another trial folder");
  }
  archive.read("model", model_archive);
  archive.read("optimizer", optimizer_archive);
  task.model().load(model_archive);
  task.optimizer().load(optimizer_archive);
  state.next_epoch = meta.at("next_epoch").get<int>();
  state.best = meta.at("best").is_number() ? meta.at("best").get<double>() : NAN;
  state.best_step = meta.value("best_step", 0);
  state.elapsed_s = meta.value("elapsed_s", 0.0);
  state.longest_epoch_s = meta.value("longest_epoch_s", 0.0);
  state.reports = meta.at("reports");
  // A checkpoint written when step 0 could be the best: that untrained value no longer counts.
  if (state.best_step < 1) state.best = NAN;
  return true;
}

double objective_of(const json& metrics, const std::string& name, int step) {
  if (!metrics.contains(name) || !metrics[name].is_number()) {
    throw UserError("the trainer reported no metric '" + name + "' at step " + std::to_string(step) +
                    " (set the space's objective.metric to one it reports: " + metrics.dump() + ")");
  }
  return metrics[name].get<double>();
}

}  // namespace

void seed_torch(uint64_t seed, int trial, int epoch) {
  const uint64_t mixed = splitmix64(seed ^ splitmix64(static_cast<uint64_t>(trial) ^ splitmix64(static_cast<uint64_t>(epoch + 1) << 20)));
  torch::manual_seed(mixed >> 1);  // seeds the CPU and every CUDA generator
}

double run_epoch_loop(const TrialContext& trial, StepReporter& reporter, EpochTask& task, const LearningRateSchedule& schedule,
                      const EpochLoopSettings& settings) {
  using Clock = std::chrono::steady_clock;
  fs::create_directories(trial.trial_dir);
  const fs::path checkpoint = trial.trial_dir / "checkpoint.pt";
  const fs::path best_model = trial.trial_dir / "best.pt";
  const bool maximize = trial.mode == ObjectiveMode::Maximize;
  auto improves = [&](double value, double best) { return std::isnan(best) || (maximize ? value > best : value < best); };

  // In a group (several GPUs on one trial) only rank 0 talks to the master and writes files;
  // every rank follows rank 0's continue/stop decision, so that all make the same collective calls.
  DataParallel parallel(trial.group);
  const bool leader = parallel.rank() == 0;
  if (leader) write_trial_config(trial);
  auto tell_master = [&](int step, const json& metrics) { return parallel.agree(leader ? reporter.report(step, metrics) : true); };

  LoopState state;
  // Every rank reads the checkpoint (trial folders are on a file system the group shares).
  if (load_checkpoint(checkpoint, task, trial.config, state)) {
    // The master forgot the steps of a trial it runs again: send them again, so that its pruner
    // and the worker's patience rule see the whole history and decide as they did the first time.
    for (const auto& report : state.reports) {
      if (!tell_master(report.at("step").get<int>(), report.at("metrics"))) return state.best;
    }
  } else {
    parallel.broadcast_module(task.model());  // identical initial parameters on every rank
  }

  // One report: remember it (for a later resume), track the best, tell the master.
  auto send = [&](int step, json metrics) {
    const double value = objective_of(metrics, trial.objective_metric, step);
    if (!std::isfinite(value)) {
      if (leader) reporter.report(step, metrics);  // recorded, so that the failed step shows in the database
      throw Error("the objective '" + trial.objective_metric + "' is " + (std::isnan(value) ? "NaN" : "infinite") + " at step " +
                  std::to_string(step));
    }
    // Step 0 is the untrained model: reported as a reference, never the trial's best, never best.pt.
    if (step >= 1 && improves(value, state.best)) {
      state.best = value;
      state.best_step = step;
      if (leader) {
        torch::serialize::OutputArchive archive;
        task.model().save(archive);
        save_archive(archive, best_model);
      }
    }
    state.reports.push_back({{"step", step}, {"metrics", metrics}});
    return tell_master(step, metrics);
  };

  if (settings.evaluate_before_training && state.next_epoch == 0 && state.reports.empty()) {
    seed_torch(settings.seed, trial.number, -1);
    task.model().eval();
    torch::NoGradGuard no_grad;
    json metrics = task.evaluate();
    metrics["epoch"] = 0;
    if (!send(0, metrics)) return state.best;
  }

  for (int epoch = state.next_epoch; epoch < settings.epochs; ++epoch) {
    // Rank 0 decides for the group: the ranks' clocks differ.
    if (settings.time_budget_s > 0 && parallel.agree(state.elapsed_s + state.longest_epoch_s > settings.time_budget_s)) break;
    seed_torch(settings.seed, trial.number, epoch);
    schedule.apply(task.optimizer(), epoch);
    const auto start = Clock::now();
    task.model().train();
    json metrics = task.train_epoch(epoch);
    const double train_s = std::chrono::duration<double>(Clock::now() - start).count();
    task.model().eval();
    {
      torch::NoGradGuard no_grad;
      metrics.update(task.evaluate());
    }
    const double epoch_s = std::chrono::duration<double>(Clock::now() - start).count();
    state.elapsed_s += epoch_s;
    state.longest_epoch_s = std::max(state.longest_epoch_s, epoch_s);
    metrics["epoch"] = epoch + 1;
    metrics["lr"] = schedule.rate(epoch);
    metrics["epoch_time_s"] = epoch_s;
    metrics["train_time_s"] = train_s;
    if (settings.time_budget_s > 0) metrics["elapsed_s"] = state.elapsed_s;
    state.next_epoch = epoch + 1;
    const bool go_on = send(epoch + 1, metrics);
    // Saved after the report is recorded in `state`, so that a resume replays it; a stop asked
    // by the master (pruning, or a graceful shutdown) still leaves this epoch's checkpoint.
    if (leader) save_checkpoint(checkpoint, task, trial.config, state);
    if (!go_on) break;
  }
  if (std::isnan(state.best)) throw Error("no epoch ran (epochs = " + std::to_string(settings.epochs) + ")");
  return state.best;
}

}  // namespace hpsearch::nn
