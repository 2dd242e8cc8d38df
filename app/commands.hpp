#pragma once
// The subcommands that run without MPI, one file each; main.cpp dispatches to them by name.
// Each takes the arguments after the subcommand's name (argv[0] is the subcommand) and returns
// the exit code; a user's mistake is thrown as UserError (exit 2).

namespace hpsearch {

// hpsearch make-data balls|balls-seq --out DIR --count N --seed S: writes a ball data set.
int run_make_data_command(int argc, char** argv);

// hpsearch describe SPACE.json [--params P.json]: every layer of a network with its tensor sizes,
// weights, parameter count and operation counts (app/describe_command.cpp).
int run_describe_command(int argc, char** argv);

// hpsearch train SPACE.json (--params P.json | --from runs.db [--study S]) [--epochs E] [--out DIR]: trains one
// configuration with a progress bar (app/train_command.cpp).
int run_train_command(int argc, char** argv);

}  // namespace hpsearch
