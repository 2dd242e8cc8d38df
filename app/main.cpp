// The hpsearch command line: main only parses the subcommand's name and dispatches; each
// subcommand (app/*_command.cpp) parses its options and calls the libraries.
//
//   hpsearch SPACE.json [--db runs.db] [--trials T] [--study NAME] [--seed S] [--set KEY=VALUE ...]   a search (search_command.cpp)
//   hpsearch resume runs.db [--study NAME] [--trials T] [--retries N]                                 continue one (search_command.cpp)
//   hpsearch summarize runs.db [--study NAME] [--top K] [--format table|json|csv]                     (summarize_command.cpp)
//   hpsearch best runs.db [--study S] [--trial N]                                                     (best_command.cpp)
//   hpsearch describe SPACE.json [--params P.json] [--input CxHxW] [--outputs N]                      (describe_command.cpp)
//   hpsearch describe [SPACE.json] --from runs.db [--study S] [--trial N]                              (describe_command.cpp)
//   hpsearch make-data balls|balls-seq --out DIR [--count N] [--seed S]                                (make_data_command.cpp)
//   hpsearch train SPACE.json (--params P.json | --from runs.db [--study S]) [--epochs E] [--out DIR]  (train_command.cpp)
//
// Only the search and resume run under MPI, and only when a launcher started them (mpirun, srun);
// the other subcommands, and a search started alone, run without it.
// Exit codes: 0 done, 2 a user's mistake (message names the file and the field), 1 anything else.
#include <mpi.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <string>

#include "app/commands.hpp"
#include "core/errors.hpp"
#include "protocol/protocol.hpp"
#include "protocol/stop_signals.hpp"

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

}  // namespace

extern const char* const kUsage =
    "usage:\n"
    "  hpsearch SPACE.json [--db runs.db] [--trials T] [--study NAME] [--seed S] [--set KEY=VALUE ...]\n"
    "                      [--retries N] [--progress auto|live|plain|none] [--heartbeat-timeout S] [--stop-timeout S]\n"
    "                      [--stop-within S] [--step-timeout S] [--gpus-per-trial G] [--run-report FILE]\n"
    "      run a search (under mpirun: rank 0 is the master, the other ranks are workers)\n"
    "  hpsearch resume runs.db [--study NAME] [--trials T] [--retries N] [--gpus-per-trial G] [--progress ...]\n"
    "      continue a study from the space stored in its database (under mpirun, as a search)\n"
    "  hpsearch summarize runs.db [--study NAME] [--top K] [--format table|json|csv]\n"
    "      show the best trials and the counts by state of a study\n"
    "  hpsearch best runs.db [--study S] [--trial N]\n"
    "      print the best COMPLETE trial's (or trial N's) resolved configuration as JSON, for train/describe --params\n"
    "  hpsearch describe SPACE.json [--params P.json] [--input CxHxW] [--outputs N] [--format table|json]\n"
    "  hpsearch describe [SPACE.json] --from runs.db [--study S] [--trial N] [--input CxHxW] [--outputs N] [--format ...]\n"
    "      every layer of the network: tensor sizes, weights, parameters, multiplications, additions, maximums\n"
    "  hpsearch make-data balls|balls-seq --out DIR [--count N] [--seed S] [--threads T]\n"
    "      write a ball data set in the seed's format (images for detect, sequences for forecast)\n"
    "  hpsearch train SPACE.json (--params P.json | --from runs.db [--study S]) [--epochs E] [--out DIR] [--set KEY=VALUE ...]\n"
    "      train one configuration (a resolved one, or the best COMPLETE trial of a study) with a progress bar\n";

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
      {"summarize", run_summarize_command}, {"best", run_best_command},   {"describe", run_describe_command},
      {"make-data", run_make_data_command}, {"train", run_train_command},
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
