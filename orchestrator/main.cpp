// The hpsearch command line. Thin: each subcommand parses its options and calls a library.
//
//   hpsearch SPACE.json [--db runs.db] [--trials T] [--study NAME] [--seed S] [--set KEY=VALUE ...]
//   hpsearch summarize runs.db [--study NAME] [--top K] [--format table|json|csv]
//
// Exit codes: 0 done, 2 a user's mistake (message names the file and the field), 1 anything else.
#include <mpi.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <map>
#include <random>

#include "orchestrator/commands.hpp"
#include "orchestrator/master.hpp"
#include "orchestrator/mpi_worker_pool.hpp"
#include "orchestrator/sqlite_storage.hpp"
#include "orchestrator/study_spec.hpp"
#include "orchestrator/summary.hpp"
#include "search/errors.hpp"
#include "trainers/device.hpp"
#include "worker/inline_worker_pool.hpp"
#include "worker/mpi_worker.hpp"

namespace po = boost::program_options;
using nlohmann::json;

namespace hpsearch {
namespace {

constexpr const char* kUsage =
    "usage:\n"
    "  hpsearch SPACE.json [--db runs.db] [--trials T] [--study NAME] [--seed S] [--set KEY=VALUE ...]\n"
    "                      [--progress auto|live|plain|none]\n"
    "      run a search (under mpirun: rank 0 is the master, the other ranks are workers)\n"
    "  hpsearch summarize runs.db [--study NAME] [--top K] [--format table|json|csv]\n"
    "      show the best trials and the counts by state of a study\n"
    "  hpsearch make-data balls|balls-seq --out DIR [--count N] [--seed S] [--threads T]\n"
    "      write a ball data set in the seed's format (images for detect, sequences for forecast)\n"
    "  hpsearch describe SPACE.json [--params P.json] [--input CxHxW] [--outputs N] [--format table|json]\n"
    "      every layer of the network: tensor sizes, weights, parameters, multiplications, additions, maximums\n"
    "  hpsearch train SPACE.json (--params P.json | --from runs.db [--study S]) [--epochs E] [--out DIR] [--set KEY=VALUE ...]\n"
    "      train one configuration (a resolved one, or the best COMPLETE trial of a study) with a progress bar\n";

// Parses `options` plus one positional argument (the space file, or the database) into
// `positional_value`; a malformed command line is a user's mistake (exit 2) with the usage.
po::variables_map parse_command_line(int argc, char** argv, const po::options_description& options, std::string& positional_value) {
  po::options_description hidden;
  hidden.add_options()("positional", po::value(&positional_value));
  po::options_description all;
  all.add(options).add(hidden);
  po::positional_options_description positional;
  positional.add("positional", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw UserError(std::string(e.what()) + "\n" + kUsage);
  }
  return vm;
}

struct SearchArgs {
  std::string space_file, db = "runs.db", study, progress = "auto";
  std::vector<std::string> sets;
};

SearchArgs parse_search_args(int argc, char** argv) {
  SearchArgs a;
  po::options_description options("search options");
  options.add_options()("db", po::value(&a.db), "SQLite database file (default runs.db)")(
      "trials", po::value<std::string>(), "number of trials of the study (overrides the space's \"trials\")")(
      "study", po::value(&a.study), "study name (default: the space file's name without .json)")(
      "seed", po::value<std::string>(), "sampler seed (overrides sampler.seed)")(
      "set", po::value(&a.sets)->composing(), "KEY=VALUE: override any part of the space by its dotted path")(
      "progress", po::value(&a.progress), "auto (live on a terminal), live, plain or none");
  const po::variables_map vm = parse_command_line(argc, argv, options, a.space_file);
  if (a.space_file.empty()) throw UserError(std::string("no space file given\n") + kUsage);
  // --trials and --seed are shorthands for --set, applied in the same way.
  if (vm.count("trials")) a.sets.push_back("trials=" + vm["trials"].as<std::string>());
  if (vm.count("seed")) a.sets.push_back("sampler.seed=" + vm["seed"].as<std::string>());
  if (a.study.empty()) a.study = std::filesystem::path(a.space_file).stem().string();
  if (a.progress != "auto" && a.progress != "live" && a.progress != "plain" && a.progress != "none") {
    throw UserError("--progress " + a.progress + ": use auto, live, plain or none");
  }
  return a;
}

// Everything the master checks and prepares before any worker starts.
struct PreparedSearch {
  StudySpec spec;
  std::unique_ptr<SqliteStorage> storage;
  StoredStudy study;
};

PreparedSearch prepare_search(const SearchArgs& args) {
  std::vector<std::pair<std::string, std::string>> overrides;
  for (const auto& s : args.sets) overrides.push_back(split_assignment(s));
  PreparedSearch p{StudySpec::load(args.space_file, overrides), nullptr, {}};
  make_trainer(p.spec.trainer, p.spec.file);  // checks the trainer's settings; data loads later, on the workers
  make_sampler(p.spec.sampler, p.spec.space, p.spec.file);

  p.storage = std::make_unique<SqliteStorage>(args.db, SqliteStorage::Access::ReadWrite);
  json document = p.spec.document;
  if (auto existing = p.storage->find_study(args.study)) {
    // Same study again: it goes on, with the seed it was given. Anything else that differs from
    // the stored space (the number of trials aside) would mix two searches in one study.
    if (!document["sampler"].contains("seed") && existing->document.contains("sampler")) {
      document["sampler"]["seed"] = existing->document["sampler"].value("seed", 0);
    }
    json stored = existing->document, asked = document;
    stored.erase("trials");
    asked.erase("trials");
    if (!asked.contains("sampler")) asked["sampler"] = json{{"type", "random"}};
    if (!stored.contains("sampler")) stored["sampler"] = json{{"type", "random"}};
    if (stored != asked) {
      std::string differing;
      for (auto it = asked.begin(); it != asked.end(); ++it) {
        if (!stored.contains(it.key()) || stored[it.key()] != it.value()) differing += (differing.empty() ? "" : ", ") + it.key();
      }
      for (auto it = stored.begin(); it != stored.end(); ++it) {
        if (!asked.contains(it.key())) differing += (differing.empty() ? "" : ", ") + it.key();
      }
      throw UserError(args.db + ": study '" + args.study + "' was made from a different space (" + differing + " differ from " +
                      args.space_file + "); use --study NEW_NAME or another --db to start a new study");
    }
    document["trials"] = p.spec.trials;
    p.study = *existing;
    p.study.document = document;
  } else {
    if (!document["sampler"].is_object()) document["sampler"] = json{{"type", "random"}};
    if (!document["sampler"].contains("seed")) document["sampler"]["seed"] = std::random_device{}() & 0x7fffffff;
    p.study = p.storage->create_study(args.study, args.space_file, p.spec.file_text, document);
  }
  p.spec = StudySpec::from_document(document, args.space_file, p.spec.file_text);
  p.storage->open_study(p.study, p.spec.mode, p.spec.objective_metric, p.spec.space.size());
  return p;
}

int run_search(int argc, char** argv) {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);

  if (rank != protocol::kMasterRank) {
    // Workers learn the study from the master; an empty text means the master refused it.
    int length = 0;
    MPI_Bcast(&length, 1, MPI_INT, protocol::kMasterRank, MPI_COMM_WORLD);
    if (length == 0) return 2;
    std::string text(static_cast<std::size_t>(length), '\0');
    MPI_Bcast(text.data(), length, MPI_CHAR, protocol::kMasterRank, MPI_COMM_WORLD);
    run_mpi_worker(protocol::decode_study(text));
    return 0;
  }

  PreparedSearch prepared;
  SearchArgs args;
  try {
    args = parse_search_args(argc, argv);
    prepared = prepare_search(args);
  } catch (...) {
    int length = 0;
    MPI_Bcast(&length, 1, MPI_INT, protocol::kMasterRank, MPI_COMM_WORLD);
    throw;
  }
  const StudySpec& spec = prepared.spec;
  const std::string text = protocol::encode(protocol::StudyForWorkers{spec.trainer, spec.objective_metric, spec.file, spec.mode});
  int length = static_cast<int>(text.size());
  MPI_Bcast(&length, 1, MPI_INT, protocol::kMasterRank, MPI_COMM_WORLD);
  MPI_Bcast(const_cast<char*>(text.data()), length, MPI_CHAR, protocol::kMasterRank, MPI_COMM_WORLD);

  auto sampler = make_sampler(spec.sampler, spec.space, spec.file);
  std::unique_ptr<WorkerPool> pool;
  if (size > 1) pool = std::make_unique<MpiWorkerPool>(size);
  else pool = std::make_unique<InlineWorkerPool>(make_trainer(spec.trainer, spec.file), spec.objective_metric, spec.mode);
  const auto pruner = make_pruner(spec.pruner, spec.file);

  const std::filesystem::path db_path(args.db);
  MasterOptions options;
  options.trials = spec.trials;
  options.trial_root = db_path.parent_path() / (db_path.stem().string() + "_trials") / args.study;
  options.progress = args.progress == "live" ? Progress::Style::Live
                     : args.progress == "plain" ? Progress::Style::Plain
                     : args.progress == "none" ? Progress::Style::None
                                               : Progress::style_for(stderr);
  options.pruner = pruner.get();
  const auto& history = prepared.storage->history();
  int finished = 0;
  for (const auto& t : history.trials) finished += is_finished(t.state) ? 1 : 0;
  std::cerr << "hpsearch: study '" << args.study << "' in " << args.db << ": " << spec.trials << " trials (" << finished
            << " finished before), " << spec.sampler.value("type", "random") << " sampler, " << pruner->name() << " pruner, " << pool->worker_count()
            << (size > 1 ? " MPI worker(s)" : " worker in the master process") << ", " << spec.trainer.value("type", "?")
            << " trainer on " << describe_device() << "\n";

  Master master(*prepared.storage, *sampler, spec.space, *pool, options);
  const SearchOutcome outcome = master.run();
  std::cerr << "hpsearch: this run finished " << outcome.complete + outcome.pruned + outcome.failed << " trials (" << outcome.complete
            << " COMPLETE, " << outcome.pruned << " PRUNED, " << outcome.failed << " FAIL); see: hpsearch summarize " << args.db
            << (args.study == std::filesystem::path(args.space_file).stem().string() ? "" : " --study " + args.study) << "\n";
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
  return 0;
}

int run_summarize(int argc, char** argv) {
  SummaryOptions o;
  po::options_description options("summarize options");
  options.add_options()("study", po::value(&o.study), "study name (needed when the database holds several)")(
      "top", po::value(&o.top), "number of best trials in the table (default 10)")("format", po::value(&o.format),
                                                                                    "table, json or csv");
  parse_command_line(argc, argv, options, o.db_path);
  if (o.db_path.empty()) throw UserError(std::string("summarize needs a database file\n") + kUsage);
  summarize(o, std::cout);
  return 0;
}

}  // namespace
}  // namespace hpsearch

int main(int argc, char** argv) {
  using namespace hpsearch;
  const std::string command = argc > 1 ? argv[1] : "";
  if (command.empty() || command == "-h" || command == "--help" || command == "help") {
    std::cout << kUsage;
    return command.empty() ? 2 : 0;
  }
  // Subcommands that never talk to other ranks run without MPI.
  const std::map<std::string, int (*)(int, char**)> offline_commands = {
      {"summarize", run_summarize},
      {"make-data", run_make_data_command},
      {"describe", run_describe_command},
      {"train", run_train_command},
  };
  if (const auto found = offline_commands.find(command); found != offline_commands.end()) {
    try {
      return found->second(argc - 1, argv + 1);
    } catch (const UserError& e) {
      std::cerr << "hpsearch: " << e.what() << "\n";
      return 2;
    } catch (const std::exception& e) {
      std::cerr << "hpsearch: error: " << e.what() << "\n";
      return 1;
    }
  }

  MPI_Init(&argc, &argv);
  int code = 0;
  try {
    code = run_search(argc, argv);
  } catch (const UserError& e) {
    std::cerr << "hpsearch: " << e.what() << "\n";
    code = 2;
  } catch (const std::exception& e) {
    // A fault of the run itself (not of one trial): stop every rank now rather than hang.
    std::cerr << "hpsearch: error: " << e.what() << "\n";
    MPI_Abort(MPI_COMM_WORLD, 1);
    return 1;
  }
  MPI_Finalize();
  return code;
}
