#pragma once
// The subcommands, one file each; main.cpp dispatches to them by name. Each takes the arguments
// after the subcommand's name (argv[0] is the subcommand; for a search, argv[0] is the program and
// argv[1] the space file or "resume") and returns the exit code; a user's mistake is thrown as
// UserError (exit 2).

#include "app/command_line.hpp"

namespace hpsearch {

// Each subcommand's usage (command_line.hpp), defined in its own file; main lists them in
// hpsearch --help and dispatches by their names.
extern const CommandUsage kSearchUsage, kResumeUsage;  // search_command.cpp
extern const CommandUsage kSummarizeUsage;             // summarize_command.cpp
extern const CommandUsage kBestUsage;                  // best_command.cpp
extern const CommandUsage kDescribeUsage;              // describe_command.cpp
extern const CommandUsage kMakeDataUsage;              // make_data_command.cpp
extern const CommandUsage kTrainUsage;                 // train_command.cpp

// Exit code of a search or resume whose every finished trial FAILed (main.cpp lists them all).
// Not 3: the batch scripts (slurm/run-search.sh) end a job that made no progress with 3.
constexpr int kExitAllTrialsFailed = 4;

// Where a search runs. Under an MPI launcher (mpirun, srun) main initialises MPI and every rank
// calls run_search_command with its rank; started alone, the process is the whole search (the
// master runs the trials itself) and MPI is never initialised: a singleton MPI start-up costs some
// 0.6 s, and under load it can fail in Open MPI's run-time before main gets control.
struct SearchWorld {
  bool mpi = false;  // MPI_Init_thread was called: MPI_Finalize / MPI_Abort apply
  int rank = 0;
  int size = 1;
};

// hpsearch SPACE.json ... | hpsearch resume runs.db ...: a search (app/search_command.cpp).
int run_search_command(int argc, char** argv, const SearchWorld& world);

// hpsearch summarize runs.db [--study NAME] [--top K] [--format ...]: a study's best trials and its
// counts by state (app/summarize_command.cpp).
int run_summarize_command(int argc, char** argv);

// hpsearch best runs.db [--study S] [--trial N]: the resolved configuration of the best (or a
// chosen) COMPLETE trial as JSON, for train --params and describe --params (app/best_command.cpp).
int run_best_command(int argc, char** argv);

// hpsearch make-data balls|balls-seq --out DIR --count N --seed S: writes a ball data set.
int run_make_data_command(int argc, char** argv);

// hpsearch describe (SPACE.json [--params P.json] | --from runs.db [--study S] [--trial N]): every layer of a network with its tensor
// sizes, weights, parameter count and operation counts (app/describe_command.cpp).
int run_describe_command(int argc, char** argv);

// hpsearch train SPACE.json (--params P.json | --from runs.db [--study S]) [--epochs E] [--out DIR]: trains one
// configuration with a progress bar (app/train_command.cpp).
int run_train_command(int argc, char** argv);

}  // namespace hpsearch
