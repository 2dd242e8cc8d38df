// hpsearch SPACE.json ... and hpsearch resume runs.db ...: a search, under mpirun or alone.
//
// Rank 0 parses the command line, prepares the study (study/study_setup.hpp: nothing is written
// before every check passed), broadcasts it to the workers (protocol.hpp, step 1) and runs the
// master (orchestrator/master.hpp) over the MPI worker pool, or, with one rank, over one trial
// thread in its own process. Every other rank receives the study and runs the worker loop
// (worker/mpi_worker.hpp). This file prints what the run did; exit codes as in main.cpp.
#include <mpi.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>

#include "app/command_line.hpp"
#include "app/commands.hpp"
#include "core/errors.hpp"
#include "core/format.hpp"
#include "orchestrator/master.hpp"
#include "orchestrator/mpi_worker_pool.hpp"
#include "protocol/protocol.hpp"
#include "protocol/stop_signals.hpp"
#include "study/study_setup.hpp"
#include "study/trial_choice.hpp"
#include "trainers/torch/registry.hpp"
#include "worker/mpi_worker.hpp"
#include "worker/trial_thread.hpp"
#include "worker/worker_groups.hpp"

namespace po = boost::program_options;
using nlohmann::json;

namespace hpsearch {

const CommandUsage kSearchUsage{
    "search",
    "usage: hpsearch [search] SPACE.json [--db runs.db] [--trials T | --more N] [--study NAME] [--seed S] [--set KEY=VALUE ...]\n"
    "                [--retries N] [--progress auto|live|plain|none] [--run-report FILE] [time limits...]\n",
    "run a search (under mpirun -np N: rank 0 is the master, the N-1 others are workers)",
    "SPACE.json: the search space, the trainer and the sampler (README: Search-space files); the study is named after it.\n"
    "Run again with the same space, it continues the study; a space that differs otherwise is refused.\n"};

const CommandUsage kResumeUsage{
    "resume",
    "usage: hpsearch resume runs.db [--study NAME] [--trials T | --more N] [--retries N] [--progress auto|live|plain|none]\n"
    "                [--run-report FILE] [time limits...]\n",
    "continue a study from the space stored in its database (under mpirun, as a search)",
    "Trials a stopped or killed run left unfinished run first, with their number and configuration.\n"
    "A study that already has the trials asked for has nothing to do: it says so and exits 0.\n"};

namespace {

struct SearchArgs {
  std::string space_file, db = "runs.db", study, progress = "auto", run_report;
  std::vector<std::string> sets;
  std::optional<int> more_trials;  // --more N
  bool trials_given = false;       // --trials T
  bool resume = false;             // hpsearch resume DB: the space is the one stored in the database
  double heartbeat_timeout_s = 60, stop_timeout_s = 30, stop_within_s = 0, step_timeout_s = 0;
};

// Options of both the search and `resume`.
void add_run_options(po::options_description& options, SearchArgs& a) {
  options.add_options()("study", po::value(&a.study)->value_name("NAME"), "study name (search: default the space file's name)")(
      "trials", po::value<std::string>()->value_name("T"), "the study's number of trials in all (overrides the space's \"trials\")")(
      "more", po::value<std::string>()->value_name("N"), "run N trials more than the study has finished (instead of --trials)")(
      "retries", po::value<std::string>()->value_name("N"), "times a FAIL trial runs again (overrides the space's retries.failed)")(
      "gpus-per-trial", po::value<std::string>()->value_name("G"),
      "ranks (one GPU each) that train one trial together (overrides resources.gpus_per_trial)")(
      "progress", po::value(&a.progress)->value_name("STYLE"), "auto (live on a terminal, also under mpirun), live, plain or none")(
      "heartbeat-timeout", po::value(&a.heartbeat_timeout_s)->value_name("S"),
      "seconds of silence after which a busy worker is lost (default 60; 0: never)")(
      "stop-timeout", po::value(&a.stop_timeout_s)->value_name("S"),
      "after a stop signal, the longest wait in seconds for running trials (default 30)")(
      "stop-within", po::value(&a.stop_within_s)->value_name("S"),
      "after a stop signal, exit within S seconds even if a step still runs (default 0: no bound)")(
      "step-timeout", po::value(&a.step_timeout_s)->value_name("S"),
      "seconds without a step report after which a trial FAILs and its worker is left out (default 0: never)")(
      "run-report", po::value(&a.run_report)->value_name("FILE"),
      "at the end, how this run ended and what it did, in JSON (batch scripts)");
}

// Checks of both: shorthands turned into --set, the progress style, the time limits.
void finish_run_args(const po::variables_map& vm, SearchArgs& a) {
  if (vm.count("trials") && vm.count("more"))
    throw UserError("--trials and --more together: use one (--trials T: the study's trials in all; --more N: N more than it has finished)");
  a.trials_given = vm.count("trials") > 0;
  if (a.trials_given) a.sets.push_back("trials=" + vm["trials"].as<std::string>());
  if (vm.count("more")) {
    const std::string text = vm["more"].as<std::string>();
    const std::optional<long long> n = whole_integer(text);
    if (!n || *n < 1 || *n > 100000000) throw UserError("--more " + text + ": expected a number of trials, an integer in [1, 100000000]");
    a.more_trials = static_cast<int>(*n);
  }
  if (vm.count("retries")) a.sets.push_back("retries.failed=" + vm["retries"].as<std::string>());
  if (vm.count("gpus-per-trial")) a.sets.push_back("resources.gpus_per_trial=" + vm["gpus-per-trial"].as<std::string>());
  if (a.progress != "auto" && a.progress != "live" && a.progress != "plain" && a.progress != "none") {
    throw UserError("--progress " + a.progress + ": use auto, live, plain or none");
  }
  if (!(a.heartbeat_timeout_s >= 0)) throw UserError("--heartbeat-timeout must be >= 0 seconds (0: never)");
  if (!(a.stop_timeout_s >= 0)) throw UserError("--stop-timeout must be >= 0 seconds");
  if (!(a.stop_within_s >= 0)) throw UserError("--stop-within must be >= 0 seconds (0: no bound)");
  if (!(a.step_timeout_s >= 0)) throw UserError("--step-timeout must be >= 0 seconds (0: never)");
  if (!a.run_report.empty()) {
    const auto folder = std::filesystem::absolute(a.run_report).parent_path();
    if (!std::filesystem::is_directory(folder)) {
      throw UserError("--run-report " + a.run_report + ": the folder " + folder.string() +
                      " does not exist; create it or name a file in an existing one");
    }
  }
}

SearchArgs parse_search_args(int argc, char** argv) {
  SearchArgs a;
  po::options_description options("search options");
  options.add_options()("db", po::value(&a.db)->value_name("FILE"), "SQLite database file (default runs.db)")(
      "seed", po::value<std::string>()->value_name("S"), "sampler seed (overrides sampler.seed)")(
      "set", po::value(&a.sets)->composing()->value_name("KEY=VALUE"), "override any part of the space by its dotted path (repeatable)");
  add_run_options(options, a);
  const po::variables_map vm = parse_command_line(argc, argv, options, a.space_file, kSearchUsage);
  if (a.space_file.empty()) throw UserError("no space file given\n" + usage_hint(kSearchUsage));
  // --trials, --retries and --seed are shorthands for --set, applied in the same way.
  if (vm.count("seed")) a.sets.push_back("sampler.seed=" + vm["seed"].as<std::string>());
  finish_run_args(vm, a);
  if (a.study.empty()) a.study = std::filesystem::path(a.space_file).stem().string();
  return a;
}

// hpsearch resume DB [--study S] [--trials T] [--retries N] ...: argv[0] is "resume".
SearchArgs parse_resume_args(int argc, char** argv) {
  SearchArgs a;
  a.resume = true;
  a.db.clear();
  po::options_description options("resume options");
  add_run_options(options, a);
  const po::variables_map vm = parse_command_line(argc, argv, options, a.db, kResumeUsage);
  if (a.db.empty()) throw UserError("resume needs a database file\n" + usage_hint(kResumeUsage));
  finish_run_args(vm, a);
  return a;
}

// --run-report: one JSON object, written whole (a temporary file renamed) so that a reader never
// sees half of it. Batch scripts decide from it whether running the job again would get anywhere:
//   {"study", "db", "ended": "finished" | "stopped" | "out_of_workers", "signal": "SIGUSR2" | null,
//    "trials_finished", "trials_advanced", "trials_interrupted"}
// trials_finished: trials that ended in this run (COMPLETE, PRUNED, FAIL); trials_advanced: see
// SearchOutcome::advanced.
void write_run_report(const std::string& path, const SearchArgs& args, const SearchOutcome& outcome) {
  const json report{{"study", args.study},
                    {"db", args.db},
                    {"ended", outcome.out_of_workers     ? "out_of_workers"
                              : outcome.stop_signal != 0 ? "stopped"
                                                         : "finished"},
                    {"signal", outcome.stop_signal != 0 ? json(stop_signals::name(outcome.stop_signal)) : json(nullptr)},
                    {"trials_finished", outcome.complete + outcome.pruned + outcome.failed},
                    {"trials_advanced", outcome.advanced},
                    {"trials_interrupted", outcome.interrupted}};
  const std::string partial = path + ".partial";
  std::FILE* out = std::fopen(partial.c_str(), "w");
  const std::string text = report.dump() + "\n";
  const bool written = out && std::fwrite(text.data(), 1, text.size(), out) == text.size();
  if (out) std::fclose(out);
  if (!written || std::rename(partial.c_str(), path.c_str()) != 0) {
    std::cerr << "hpsearch: warning: could not write the run report " << path << " (the database is complete)\n";
  }
}

}  // namespace

int run_search_command(int argc, char** argv, const SearchWorld& world) {
  const int size = world.size;
  // With no other rank there is nobody to tell the study to, nor any group to form.
  const bool alone = size == 1;
  if (world.rank != protocol::kMasterRank) {
    // 1. Workers learn the study from the master; nothing means the master refused it.
    const std::optional<protocol::StudyForWorkers> study = protocol::receive_study();
    if (!study) return 2;
    const std::unique_ptr<WorkerGroup> group = join_worker_groups(study->group_size);  // collective, with the master
    if (!run_mpi_worker(*study, group.get())) {
      // Told to leave while its trainer would not return: the trial's state is on disk already,
      // and destructors would wait for that trainer.
      MPI_Finalize();
      std::_Exit(0);
    }
    return 0;
  }

  PreparedStudy prepared;
  SearchArgs args;
  try {
    const bool resume = argc > 1 && std::string(argv[1]) == "resume";
    args = resume ? parse_resume_args(argc - 1, argv + 1) : parse_search_args(argc, argv);
    StudyRequest request{args.space_file, args.db, args.study, args.resume, {}, size - 1, args.more_trials};
    for (const auto& s : args.sets) request.overrides.push_back(split_assignment(s));
    // The trainer's settings are checked here, where the trainers are known; its data loads later, on the workers.
    prepared = prepare_study(request, [](const StudySpec& spec) { return check_trainer(spec.trainer, spec.source); });
    args.study = prepared.study.name;  // a resume names the database's only study
  } catch (...) {
    if (!alone) protocol::broadcast_study(std::nullopt);  // 1. refused: every worker ends with exit code 2
    throw;
  }
  const StudySpec& spec = prepared.spec;
  // Workers beat several times within the limit, so that one late beat does not lose them.
  const double heartbeat_s = args.heartbeat_timeout_s > 0 ? std::min(5.0, args.heartbeat_timeout_s / 4) : 5.0;
  // Ranks per trial group: resources.gpus_per_trial, though groups run on CPU too (0: no groups).
  const int group_size = spec.gpus_per_trial;
  if (!alone) {
    protocol::broadcast_study(protocol::StudyForWorkers{spec.trainer, spec.objective_metric, spec.source, spec.mode, heartbeat_s,
                                                        group_size, spec.objective_use});
    join_worker_groups(group_size);  // collective: the workers pick their GPUs and form trial groups
  }
  auto sampler = make_sampler(spec.sampler, spec.space, spec.source);
  std::unique_ptr<WorkerPool> pool;
  TrialThread* trial_thread = nullptr;
  if (size > 1) {
    pool = std::make_unique<MpiWorkerPool>(size, group_size);
  } else {
    auto own = std::make_unique<TrialThread>(make_trainer(spec.trainer, spec.source), spec.objective_metric, spec.mode, nullptr,
                                             spec.objective_use);
    trial_thread = own.get();
    pool = std::move(own);
  }
  if (prepared.nothing_to_do) {
    // Not a mistake: the study holds what was asked (a batch job that resumes until the study is
    // done ends cleanly), so exit 0, on every rank: the workers, told the study, are sent home at
    // once. The database holds what it held (the study's lock was taken and given back).
    pool->shutdown();
    const int finished = prepared.finished_before;
    std::cerr << "hpsearch: study '" << args.study << "' in " << args.db << ": already " << finished << " trials finished >= "
              << (args.trials_given ? "--trials " + std::to_string(spec.trials) : "its " + count_text(spec.trials, "trial"))
              << ": nothing to do; for more, use "
              << (args.trials_given ? "--trials " + std::to_string(finished + spec.trials) + " or --more " + std::to_string(spec.trials)
                                    : "--more N (or --trials T above " + std::to_string(finished) + ")")
              << "\n";
    return 0;
  }
  const auto pruner = make_pruner(spec.pruner, spec.source);

  MasterOptions options;
  options.trials = spec.trials;
  options.trial_root = trial_root(args.db, args.study);
  options.progress = args.progress == "live"    ? Progress::Style::Live
                     : args.progress == "plain" ? Progress::Style::Plain
                     : args.progress == "none"  ? Progress::Style::None
                                                : Progress::style_for(stderr, world.mpi);
  StepPlan step_plan_of_trainer = step_plan(spec.trainer);
  options.step_unit = step_plan_of_trainer.unit;
  options.last_step = std::move(step_plan_of_trainer.last_step);
  options.pruner = pruner.get();
  options.retries_failed = spec.retries_failed;
  options.heartbeat_timeout_s = args.heartbeat_timeout_s;
  options.stop_timeout_s = args.stop_timeout_s;
  options.step_timeout_s = args.step_timeout_s;
  options.stop_within_s = args.stop_within_s;
  options.watch_signals = true;
  const std::string pruner_name = pruner->name();
  std::cerr << "hpsearch: study '" << args.study << "' in " << args.db << ": " << count_text(spec.trials, "trial") << " ("
            << prepared.finished_before << " finished before), " << spec.sampler.value("type", "random") << " sampler, "
            << (pruner_name == "none" ? "no" : pruner_name) << " pruner, "
            << (size > 1 ? count_text(pool->worker_count(), "MPI worker") : "1 worker in the master process") << ", "
            << describe_trainer(spec.trainer) << "\n";

  Master master(*prepared.storage, *sampler, spec.space, *pool, options);
  const SearchOutcome outcome = master.run();
  const std::string study_option =
      args.resume || args.study != std::filesystem::path(args.space_file).stem().string() ? " --study " + args.study : "";
  std::cerr << "hpsearch: this run finished " << count_text(outcome.complete + outcome.pruned + outcome.failed, "trial") << " ("
            << outcome.complete << " COMPLETE, " << outcome.pruned << " PRUNED, " << outcome.failed << " FAIL"
            << (outcome.retried ? ", " + std::to_string(outcome.retried) + " failed attempts run again" : "")
            << "); see: hpsearch summarize " << args.db << study_option << "\n";
  if (outcome.stop_signal != 0) {
    std::cerr << "hpsearch: stopped by " << stop_signals::name(outcome.stop_signal) << (outcome.stopped_at_once ? " (at once)" : "") << ": "
              << outcome.interrupted << " trial(s) INTERRUPTED, to run again with their number and configuration; continue with: "
              << (size > 1 ? "mpirun -np " + std::to_string(size) + " " : "") << "hpsearch resume " << args.db << " --study " << args.study
              << "\n";
  }
  if (outcome.started > 0) {
    const double per_trial_us = 1e6 / outcome.started;
    std::fprintf(stderr,
                 "hpsearch: %d trials in %.3f s (%.1f trials/s); master time per trial %.1f us: sampler %.1f, database %.1f, "
                 "messages %.1f, pruner %.1f (%lld decisions, %.2f us each)\n",
                 outcome.started, outcome.wall_s, outcome.started / outcome.wall_s,
                 (outcome.sampler_s + outcome.storage_s + outcome.messaging_s + outcome.pruner_s) * per_trial_us,
                 outcome.sampler_s * per_trial_us, outcome.storage_s * per_trial_us, outcome.messaging_s * per_trial_us,
                 outcome.pruner_s * per_trial_us, outcome.decisions,
                 outcome.decisions > 0 ? outcome.pruner_s * 1e6 / static_cast<double>(outcome.decisions) : 0.0);
  }
  // Every trial this run finished FAILed: nothing was learnt, and a script must not take it for a
  // result. A stopped run keeps exit code 0, which batch scripts read as "run the job again".
  const bool all_failed = outcome.failed > 0 && outcome.complete + outcome.pruned == 0;
  if (all_failed) {
    std::string reason;
    for (const auto& t : prepared.storage->history().trials)
      if (t.state == TrialState::Fail && !t.error.empty()) reason = t.error.substr(0, t.error.find('\n'));
    std::cerr << "hpsearch: error: every trial of this run FAILed (" << outcome.failed << " of " << outcome.failed << ")"
              << (reason.empty() ? "" : "; the last one: " + reason) << "; see why: hpsearch summarize " << args.db << study_option << "\n";
  }
  const int code = outcome.out_of_workers ? 1 : (all_failed && outcome.stop_signal == 0) ? kExitAllTrialsFailed : 0;
  if (!args.run_report.empty()) write_run_report(args.run_report, args, outcome);
  if (outcome.out_of_workers) std::cerr << "hpsearch: error: every worker was lost; the remaining trials wait for a resume\n";
  prepared.storage.reset();  // the lock is released and the database closed before any abort below
  if (!outcome.silent_workers.empty()) {
    // A lost worker that never spoke again cannot join MPI_Finalize, which would then never end.
    std::cerr << "hpsearch: " << outcome.silent_workers.size()
              << " lost worker(s) never answered again or are stuck in a trial; the database is complete, ending the job with MPI_Abort\n";
    MPI_Abort(MPI_COMM_WORLD, code);
  }
  if (trial_thread && !trial_thread->wait_until_idle(std::chrono::seconds(2))) {
    if (world.mpi) MPI_Finalize();
    std::_Exit(code);  // the trainer would not return; its trial is INTERRUPTED on disk
  }
  return code;
}

}  // namespace hpsearch
