#pragma once
// The signals that stop a search: SIGINT (Ctrl-C), SIGTERM (scancel, kill, a batch system's end
// of job) and SIGUSR2 (what Slurm's --signal and OAR send before a walltime; mpirun forwards it).
//
// Only the master acts on them (orchestrator/master.cpp): the first one stops the search
// gracefully, a second one stops it at once. The handler only counts: everything else happens in
// the master's loop, which looks at the count between messages (at least every 100 ms).
//
// Workers ignore all three: the master decides, and tells them through the protocol
// (protocol.hpp), so that a trial is never stopped without its state being recorded. What Open
// MPI 4.1's mpirun does with each signal it receives itself:
//   SIGUSR1, SIGUSR2: forwarded to every rank at once; the search goes on as the ranks decide.
//   SIGINT, SIGTERM:  mpirun ends the job: after odls_base_sigkill_timeout (1 s by default) it
//                     sends SIGTERM to every rank, and SIGKILL after as long again; its own exit
//                     code is then 1 whatever the ranks did. The master records its running
//                     trials INTERRUPTED within milliseconds of its SIGTERM, so nothing is lost,
//                     but a graceful stop with exit code 0 needs the signal sent to the master
//                     rank (or SIGUSR2 to mpirun); tools/mpirun.sh turns Ctrl-C and SIGTERM into
//                     SIGUSR2 for mpirun.
// Ranks run in process groups of their own under mpirun, so a terminal's Ctrl-C reaches mpirun only.
#include <csignal>

namespace hpsearch::stop_signals {

// Installs the counting handler for SIGINT, SIGTERM and SIGUSR2 (the master, or a single process).
void install();
// Ignores SIGINT, SIGTERM and SIGUSR2 (worker ranks). Programs started by the command trainer get
// default handlers back (it resets them when it starts them).
void ignore();
// How many of these signals have arrived since install(), and the number of the last one.
int count();
int last();
// "SIGTERM", "SIGINT", "SIGUSR2".
const char* name(int signal_number);

}  // namespace hpsearch::stop_signals
