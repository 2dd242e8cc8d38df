// The hpsearch command line: main only reads the subcommand's name and dispatches; each
// subcommand (app/*_command.cpp) owns its usage and options (commands.hpp) and parses them.
//
//   hpsearch [search] SPACE.json [options]   a search (search_command.cpp); "search" may be left out
//   hpsearch resume runs.db [options]        continue one (search_command.cpp)
//   hpsearch summarize | best | describe | make-data | train ...   (summarize_command.cpp, ...)
//   hpsearch --help, hpsearch help CMD, hpsearch CMD --help, hpsearch --version
//
// Only the search and resume run under MPI, and only when a launcher started them (mpirun, srun);
// the other subcommands, a search started alone, and every help, run without it.
// Exit codes: 0 done (and every help), 2 a user's mistake (message names the file and the field),
// 4 a search or resume whose every finished trial FAILed (kExitAllTrialsFailed; not when stopped
// by a signal),
// 1 anything else.
#include <mpi.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "app/command_line.hpp"
#include "app/commands.hpp"
#include "core/errors.hpp"
#include "protocol/protocol.hpp"
#include "protocol/stop_signals.hpp"
#include "study/sqlite_storage.hpp"
#include "trainers/torch/device.hpp"

namespace hpsearch {
namespace {

// Whether a launcher started this process as one rank of several: Open MPI's mpirun sets
// OMPI_COMM_WORLD_SIZE, PMIx launchers (mpirun, srun --mpi=pmix) PMIX_RANK, MPICH's hydra and
// srun --mpi=pmi2 PMI_RANK. A process started alone (a shell, a batch script) is a singleton.
bool started_by_mpi_launcher() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (std::getenv(name) != nullptr) return true;
  return false;
}

// This rank's number as the launcher set it, before MPI is initialised; 0 when started alone.
int launcher_rank() {
  for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"})
    if (const char* value = std::getenv(name)) return std::atoi(value);
  return 0;
}

// Subcommands that never talk to other ranks, run without MPI. The search and resume are
// dispatched apart (they may run under MPI) but are listed in the help with these.
struct Subcommand {
  const CommandUsage& usage;
  int (*run)(int argc, char** argv);
};
const std::vector<Subcommand>& offline_subcommands() {
  static const std::vector<Subcommand> list = {
      {kSummarizeUsage, run_summarize_command},
      {kBestUsage, run_best_command},
      {kDescribeUsage, run_describe_command},
      {kMakeDataUsage, run_make_data_command},
      {kTrainUsage, run_train_command},
  };
  return list;
}

std::vector<const CommandUsage*> every_usage() {
  std::vector<const CommandUsage*> all = {&kSearchUsage, &kResumeUsage};
  for (const auto& s : offline_subcommands()) all.push_back(&s.usage);
  return all;
}

void print_overview(std::ostream& out) {
  out << "usage: hpsearch SUBCOMMAND ...   (under mpirun -np N for a search on N-1 workers)\n\nsubcommands:\n";
  for (const CommandUsage* usage : every_usage()) {
    const std::string name = usage->name;
    out << "  " << name << std::string(12 - std::min<std::size_t>(name.size(), 11), ' ') << usage->summary << "\n";
  }
  out << "\na search may leave out its name: hpsearch SPACE.json [options]\n"
         "every option of one: hpsearch help SUBCOMMAND (or hpsearch SUBCOMMAND --help); the version: hpsearch --version\n"
         "exit codes: 0 done, 1 a fault of the run, 2 a mistake in the command or a file (the message names it),\n"
         "            4 a search or resume whose every finished trial FAILed\n";
}

std::string mpi_library() {
#if defined(OMPI_MAJOR_VERSION)
  const std::string name = "Open MPI " + std::to_string(OMPI_MAJOR_VERSION) + "." + std::to_string(OMPI_MINOR_VERSION) + "." +
                           std::to_string(OMPI_RELEASE_VERSION);
#elif defined(MPICH_VERSION)
  const std::string name = std::string("MPICH ") + MPICH_VERSION;
#else
  const std::string name = "an MPI library";
#endif
  return name + " (MPI " + std::to_string(MPI_VERSION) + "." + std::to_string(MPI_SUBVERSION) + ")";
}

void print_version() {
  std::cout << "hpsearch " << HPSEARCH_VERSION << "\nbuilt with LibTorch " << libtorch_version() << ", " << mpi_library() << ", SQLite "
            << sqlite_version() << "\n";
}

// Levenshtein distance, for "did you mean".
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// A search's first argument is its space file, so a word that is no subcommand may be one. It is
// taken for a mistyped subcommand when it cannot be a file meant as a space: it does not exist and
// has neither a '.' nor a '/' (space files are named NAME.json, and paths have a slash). Throws
// the "unknown subcommand" UserError then, naming the closest subcommand when one is at most two
// edits away.
void refuse_unknown_subcommand(const std::string& word) {
  if (word.empty() || word[0] == '-' || word.find_first_of("./") != std::string::npos) return;
  std::error_code ec;
  if (std::filesystem::exists(word, ec)) return;
  const CommandUsage* closest = nullptr;
  std::size_t best = 3;
  std::string names;
  for (const CommandUsage* usage : every_usage()) {
    names += (names.empty() ? "" : ", ") + std::string(usage->name);
    const std::size_t d = edit_distance(word, usage->name);
    if (d < best) {
      best = d;
      closest = usage;
    }
  }
  if (closest) throw UserError("unknown subcommand '" + word + "', did you mean " + closest->name + "?");
  throw UserError("unknown subcommand '" + word + "' (subcommands: " + names +
                  "), and no space file of that name exists; see: hpsearch --help");
}

// hpsearch help [SUBCOMMAND]: the subcommand's help, printed by the subcommand itself (as for its
// --help, HelpShown: exit 0), so that it lists exactly the options the subcommand parses.
int run_help(const std::string& name, char* program) {
  if (name.empty()) {
    print_overview(std::cout);
    return 0;
  }
  std::string subcommand = name, help_flag = "--help";
  for (const auto& s : offline_subcommands()) {
    char* args[] = {subcommand.data(), help_flag.data()};
    if (name == s.usage.name) return s.run(2, args);
  }
  if (name == kSearchUsage.name) {
    char* args[] = {program, help_flag.data()};
    return run_search_command(2, args, SearchWorld{});
  }
  if (name == kResumeUsage.name) {
    char* args[] = {program, subcommand.data(), help_flag.data()};
    return run_search_command(3, args, SearchWorld{});
  }
  refuse_unknown_subcommand(name);
  throw UserError("help " + name + ": no such subcommand; see: hpsearch --help");
}

// Runs one subcommand with main's exit codes: 0 (and every help), 2 for a user's mistake, 1 else.
template <typename Run>
int with_exit_codes(Run run) {
  try {
    return run();
  } catch (const HelpShown&) {
    return 0;
  } catch (const UserError& e) {
    std::cerr << "hpsearch: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "hpsearch: error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace
}  // namespace hpsearch

int main(int argc, char** argv) {
  using namespace hpsearch;
  const std::string command = argc > 1 ? argv[1] : "";
  if (command.empty() || command == "-h" || command == "--help") {
    print_overview(command.empty() ? std::cerr : std::cout);
    return command.empty() ? 2 : 0;
  }
  if (command == "--version") {
    print_version();
    return 0;
  }
  if (command == "help") return with_exit_codes([&] { return run_help(argc > 2 ? argv[2] : "", argv[0]); });
  for (const auto& s : offline_subcommands()) {
    if (command == s.usage.name) return with_exit_codes([&] { return s.run(argc - 1, argv + 1); });
  }
  // hpsearch search SPACE.json ... is hpsearch SPACE.json ...: the search takes "search" for the program's name.
  if (command == kSearchUsage.name) {
    --argc;
    ++argv;
  } else if (command != kResumeUsage.name) {
    if (const int code = with_exit_codes([&] {
          refuse_unknown_subcommand(command);
          return 0;
        });
        code != 0)
      return code;
  }
  // A help needs no other rank: printed at once, without MPI (under mpirun, by rank 0 alone).
  if (asks_for_help(argc, argv)) {
    if (launcher_rank() != 0) return 0;
    return with_exit_codes([&] { return run_search_command(argc, argv, SearchWorld{}); });
  }

  // Trials run on a thread of their own in a worker while its main thread makes the protocol's MPI
  // calls (protocol.hpp). In a trial group on CPU tensors the trial thread also makes MPI
  // collectives (comm/mpi_communicator.cpp) while the main thread listens: MULTIPLE.
  SearchWorld world;
  if (started_by_mpi_launcher()) {
    int provided = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    world.mpi = true;
    MPI_Comm_rank(MPI_COMM_WORLD, &world.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world.size);
  }
  // Stop signals are the master's to handle, from the start (a signal while it prepares stops the
  // search before its first trial); workers ignore them (stop_signals.hpp).
  if (world.rank == protocol::kMasterRank)
    stop_signals::install();
  else
    stop_signals::ignore();
  int code = 0;
  try {
    code = run_search_command(argc, argv, world);
  } catch (const UserError& e) {
    std::cerr << "hpsearch: " << e.what() << "\n";
    code = 2;
  } catch (const std::exception& e) {
    // A fault of the run itself (not of one trial): stop every rank now rather than hang.
    std::cerr << "hpsearch: error: " << e.what() << "\n";
    if (world.mpi) MPI_Abort(MPI_COMM_WORLD, 1);
    return 1;
  }
  if (world.mpi) MPI_Finalize();
  return code;
}
