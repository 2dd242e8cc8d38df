// hpsearch train SPACE.json (--params P.json | --from runs.db [--study S]) [--epochs E] [--out DIR]
//                [--set KEY=VALUE ...] [--progress auto|live|plain|none]
//
// The seed's train.py: trains one configuration, typically the best one a search found, for
// longer. The space file gives the trainer and its settings (data folder...) and the objective;
// the configuration is a resolved one, from --params (a JSON object such as a trial's "params" in
// `hpsearch summarize --format json`) or from --from, the best COMPLETE trial of a study in a
// database. --epochs replaces its "epochs". The trainer runs in this process, on the device the
// trainers choose (CUDA when available), with DIR (default SPACE-NAME_train) as its trial folder:
// checkpoint.pt and best.pt go there (the LibTorch trainers'), so running the same command again
// goes on from the last epoch, and says there is nothing to do once every epoch ran; history.jsonl
// gets every epoch's metrics, once. Nothing is written when the configuration is refused. The configuration's early_stopping, as in a
// search, stops the run after that many epochs without a strict improvement of the objective.
//
// Progress on stderr, one bar per epoch as the seed's tqdm bars showed it: epochs done, elapsed,
// remaining, speed and the losses (live on a terminal, one line per epoch otherwise).
#include <unistd.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "app/command_line.hpp"
#include "app/commands.hpp"
#include "core/errors.hpp"
#include "core/format.hpp"
#include "core/json_input.hpp"
#include "study/study_setup.hpp"
#include "study/study_spec.hpp"
#include "study/trial_choice.hpp"
#include "trainers/torch/registry.hpp"

namespace hpsearch {

namespace po = boost::program_options;
using nlohmann::json;

namespace {

std::string clock_text(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto s = static_cast<long long>(std::llround(seconds));
  char buffer[32];
  if (s >= 3600)
    std::snprintf(buffer, sizeof buffer, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
  else
    std::snprintf(buffer, sizeof buffer, "%02lld:%02lld", s / 60, s % 60);
  return buffer;
}

std::string number_text(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, std::fabs(v) >= 1e-3 && std::fabs(v) < 1e5 ? "%.7f" : "%.4e", v);
  return buffer;
}

// The configuration of the best COMPLETE trial of `study_name` in `db`.
json best_configuration(const std::string& db, const std::string& study_name, const std::string& space_stem, int& number) {
  const ChosenTrial chosen = choose_trial(db, study_name, space_stem, std::nullopt);
  number = chosen.trial.number;
  std::cerr << "hpsearch train: trial " << chosen.trial.number << " of study '" << chosen.study.name << "' in " << db << ", "
            << chosen.spec.objective_metric << " = " << *chosen.trial.value << "\n";
  return chosen.trial.config;
}

// Draws the bar, keeps history.jsonl and applies the configuration's early_stopping. Nothing is
// written before the trainer's first report: a configuration it refuses leaves the folder as it was.
class ProgressBar : public StepReporter {
 public:
  ProgressBar(int epochs, std::string objective, bool maximize, int patience, bool live, bool quiet, std::filesystem::path folder)
      : epochs_(epochs),
        objective_(std::move(objective)),
        maximize_(maximize),
        patience_(patience),
        live_(live),
        quiet_(quiet),
        folder_(std::move(folder)),
        start_(std::chrono::steady_clock::now()) {}

  // Reads the history.jsonl of an earlier run into the folder: its epochs count toward the best
  // and the patience, and are not written again when the trainer replays them from its checkpoint.
  void replay_history() {
    std::ifstream in(folder_ / "history.jsonl");
    std::string line;
    while (std::getline(in, line)) {
      const json entry = json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (!entry.is_object() || !entry.contains("step") || !entry["step"].is_number_integer() || !entry.contains("metrics")) continue;
      const int step = entry["step"].get<int>();
      if (step <= recorded_step_) continue;
      track(step, entry["metrics"]);
      recorded_step_ = step;
    }
  }
  int recorded_step() const { return recorded_step_; }

  bool report(int step, const json& metrics) override {
    if (step > recorded_step_) {
      write(step, metrics);
      track(step, metrics);
    }
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    // Epochs replayed from a checkpoint arrive at once: the speed counts the epochs run here.
    if (first_step_ < 0) first_step_ = step - 1;
    const int done = step, run_here = step - first_step_;
    const double per_epoch = run_here > 0 ? elapsed / run_here : NAN;
    if (!quiet_) draw(done, elapsed, per_epoch, metrics);
    return !stopped_early_;
  }

  void finish() const {
    if (live_ && !quiet_) std::cerr << "\n";
  }
  double best() const { return best_; }
  int best_step() const { return best_step_; }
  bool stopped_early() const { return stopped_early_; }

 private:
  // One line of history.jsonl, the file opened on the first report (config.json is the trainer's
  // to write, write_trial_config).
  void write(int step, const json& metrics) {
    if (!history_.is_open()) {
      std::filesystem::create_directories(folder_);
      history_.open(folder_ / "history.jsonl", std::ios::app);
    }
    history_ << json{{"step", step}, {"metrics", metrics}}.dump() << "\n";
    history_.flush();
    recorded_step_ = step;
  }

  // The best objective so far, and the early stop once `patience` epochs brought no improvement.
  void track(int step, const json& metrics) {
    // Step 0, the untrained model, is a reference: not the best (best.pt never holds it).
    if (step >= 1 && metrics.contains(objective_) && metrics[objective_].is_number()) {
      const double v = metrics[objective_].get<double>();
      if (std::isnan(best_) || (maximize_ ? v > best_ : v < best_)) {
        best_ = v;
        best_step_ = step;
      }
    }
    if (patience_ > 0 && step - best_step_ >= patience_) stopped_early_ = true;
  }

  void draw(int done, double elapsed, double per_epoch, const json& metrics) const {
    constexpr int kWidth = 30;
    const double fraction = epochs_ > 0 ? std::min(1.0, static_cast<double>(done) / epochs_) : 1.0;
    const int filled = static_cast<int>(fraction * kWidth);
    std::ostringstream line;
    line << "> Training " << std::string(static_cast<std::size_t>(filled), '#')
         << std::string(static_cast<std::size_t>(kWidth - filled), '.') << " " << done << "/" << epochs_
         << " epochs [Elapsed=" << clock_text(elapsed) << ", Remaining=" << clock_text(per_epoch * (epochs_ - done)) << ", Speed=";
    if (std::isfinite(per_epoch))
      line << std::fixed << std::setprecision(2) << per_epoch << std::defaultfloat << "s/epoch";
    else
      line << "?";
    for (const char* key : {"lr", "train_loss", "valid_loss"}) {
      if (metrics.contains(key) && metrics[key].is_number()) line << ", " << key << "=" << number_text(metrics[key].get<double>());
    }
    if (objective_ != "train_loss" && objective_ != "valid_loss" && metrics.contains(objective_) && metrics[objective_].is_number()) {
      line << ", " << objective_ << "=" << number_text(metrics[objective_].get<double>());
    }
    line << "]";
    if (live_)
      std::cerr << "\r\033[K" << line.str() << std::flush;
    else
      std::cerr << line.str() << "\n";
  }

  int epochs_;
  std::string objective_;
  bool maximize_;
  int patience_;
  bool live_, quiet_;
  std::filesystem::path folder_;
  std::ofstream history_;
  int recorded_step_ = -1;  // the last step in history.jsonl
  std::chrono::steady_clock::time_point start_;
  int first_step_ = -1;
  double best_ = NAN;
  int best_step_ = 0;
  bool stopped_early_ = false;
};

}  // namespace

const CommandUsage kTrainUsage{"train",
                               "usage: hpsearch train SPACE.json (--params P.json | --from runs.db [--study S]) [--epochs E] [--out DIR]\n"
                               "                      [--set KEY=VALUE ...] [--progress auto|live|plain|none]\n",
                               "train one configuration (a resolved one, or the best COMPLETE trial of a study) with a progress bar",
                               "P.json: a resolved configuration (e.g. a trial's \"params\" from hpsearch summarize --format json);\n"
                               "--from: the best COMPLETE trial of the study (default: the space file's name) in that database\n"};

int run_train_command(int argc, char** argv) {
  std::string space_file, params_file, db, study, out_dir, progress = "auto";
  std::vector<std::string> sets;
  int epochs = 0;
  po::options_description options("train options");
  options.add_options()("params", po::value(&params_file)->value_name("P.json"), "a resolved configuration (JSON)")(
      "from", po::value(&db)->value_name("runs.db"), "take the best COMPLETE trial's configuration from this database")(
      "study", po::value(&study)->value_name("S"), "the study in --from (default: the space file's name)")(
      "epochs", po::value(&epochs)->value_name("E"), "number of epochs (replaces the configuration's \"epochs\")")(
      "out", po::value(&out_dir)->value_name("DIR"), "folder for checkpoint.pt, best.pt and history.jsonl (default: SPACE-NAME_train)")(
      "set", po::value(&sets)->composing()->value_name("KEY=VALUE"), "override any part of the space by its dotted path (repeatable)")(
      "progress", po::value(&progress)->value_name("STYLE"), "auto (live on a terminal), live, plain or none");
  const po::variables_map vm = parse_command_line(argc, argv, options, space_file, kTrainUsage);
  if (vm.count("epochs") && epochs < 1) throw UserError("--epochs must be at least 1\n" + usage_hint(kTrainUsage));
  if (space_file.empty()) throw UserError("train needs a space file\n" + usage_hint(kTrainUsage));
  if (params_file.empty() == db.empty())
    throw UserError("train needs exactly one of --params P.json and --from runs.db\n" + usage_hint(kTrainUsage));
  if (!study.empty() && db.empty()) throw UserError("--study names a study of --from runs.db; there is no --from");
  if (progress != "auto" && progress != "live" && progress != "plain" && progress != "none") {
    throw UserError("--progress " + progress + ": use auto, live, plain or none");
  }

  // Every check before anything is written: the space with its --set, the trainer's settings, the
  // configuration's constants against the keys the trainer reads.
  Overrides overrides;
  for (const auto& s : sets) overrides.push_back(split_assignment(s));
  const StudySpec spec = StudySpec::load(space_file, overrides);
  const settings::Table* configuration = nullptr;
  name_overrides_in_errors(overrides, [&] { configuration = check_trainer(spec.trainer, spec.source); });
  const std::string stem = std::filesystem::path(space_file).stem().string();
  int number = 0;
  const std::string source = params_file.empty() ? db : params_file;
  json config = params_file.empty() ? best_configuration(db, study, stem, number) : read_params_file(params_file);
  if (epochs > 0) config["epochs"] = epochs;
  if (configuration) check_constant_params(config, *configuration, source, "");
  int total_epochs = epochs;
  if (config.contains("epochs") && config["epochs"].is_number())
    total_epochs = static_cast<int>(config["epochs"].get<double>());
  else if (configuration && configuration->find("epochs"))
    total_epochs = static_cast<int>(configuration->find("epochs")->fallback.get<double>());  // the trainer's default
  int patience = 0;
  if (config.contains("early_stopping") && !config["early_stopping"].is_null()) {
    const json& p = config["early_stopping"];
    if (!p.is_number() || p.get<double>() < 0 || p.get<double>() != std::floor(p.get<double>())) {
      throw FileError(source, "early_stopping", "must be a number of epochs >= 0 (0: off), got " + json_text(p));
    }
    patience = static_cast<int>(p.get<double>());
  }

  std::unique_ptr<Trainer> trainer = make_trainer(spec.trainer, spec.source);
  TrialContext trial;
  trial.number = number;
  trial.config = config;
  trial.trial_dir = out_dir.empty() ? std::filesystem::path(stem + "_train") : std::filesystem::path(out_dir);
  trial.objective_metric = spec.objective_metric;
  trial.mode = spec.mode;
  const bool folder_existed = std::filesystem::exists(trial.trial_dir);

  const bool live = progress == "live" || (progress == "auto" && isatty(fileno(stderr)));
  ProgressBar bar(total_epochs, spec.objective_metric, spec.mode == ObjectiveMode::Maximize, patience, live, progress == "none",
                  trial.trial_dir);
  bar.replay_history();
  const std::string folder = trial.trial_dir.string();
  auto print_result = [&](double value) {
    std::cout << json{{"best", std::isnan(bar.best()) ? value : bar.best()},
                      {"best_epoch", bar.best_step()},
                      {"objective", spec.objective_metric},
                      {"out", folder}}
                     .dump()
              << "\n";
  };
  // A finished run again: nothing to train, and nothing appended to its history.
  if (bar.stopped_early() || (total_epochs > 0 && bar.recorded_step() >= total_epochs)) {
    std::cerr << "hpsearch train: " << folder << " already "
              << (bar.stopped_early()
                      ? "stopped early at epoch " + std::to_string(bar.recorded_step()) + " of " + std::to_string(total_epochs) +
                            " (no improvement for " + std::to_string(patience) + " epochs): nothing to do; use --out DIR for a fresh run"
                      : "trained " + std::to_string(bar.recorded_step()) + " epochs of " + std::to_string(total_epochs) +
                            ": nothing to do; use --epochs N to train further or --out DIR for a fresh run")
              << "\n";
    print_result(NAN);
    return 0;
  }
  std::cerr << "hpsearch train: " << spec.trainer.value("type", "?") << " trainer, "
            << (total_epochs > 0 ? count_text(total_epochs, "epoch") : "the default epochs") << ", into " << folder << "\n";
  double value = NAN;
  try {
    value = trainer->run(trial, bar);
  } catch (const ConfigError& e) {
    bar.finish();
    // The trainers throw ConfigError for a configuration they cannot read, before their first
    // epoch: the user's file; a folder this run made holds nothing of use.
    if (!folder_existed) std::filesystem::remove_all(trial.trial_dir);
    throw FileError(source, "", e.what());
  }
  bar.finish();
  // best.pt is the LibTorch trainers' (a command's script keeps what it likes in the folder).
  const std::filesystem::path best_model = trial.trial_dir / "best.pt";
  std::cerr << "hpsearch train: "
            << (bar.stopped_early() ? "stopped early (no improvement for " + std::to_string(patience) + " epochs); " : "") << "best "
            << spec.objective_metric << " = " << number_text(std::isnan(bar.best()) ? value : bar.best()) << " at epoch " << bar.best_step()
            << (std::filesystem::exists(best_model) ? "; model in " + best_model.string() : "; files in " + folder) << "\n";
  print_result(value);
  return 0;
}

}  // namespace hpsearch
