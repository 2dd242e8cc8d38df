#pragma once
// The master-worker protocol. Both sides live in this header so that they cannot drift apart.
//
// Ranks: rank 0 is the master, the only process that opens the database. Ranks 1..N-1 are
// workers. With one rank (or without mpirun) the master runs trials itself (InlineWorkerPool).
//
// Start. Every rank calls broadcast_study(): the master sends the validated study (trainer
// settings, objective metric, space file name) to all workers in one MPI_Bcast, or an empty
// text when the space or the database was refused, after which every rank ends with exit code 2.
//
// Messages (point to point, each one JSON text; the MPI tag says which kind):
//   worker -> master  READY   {}                                    once, when the worker starts
//   master -> worker  TRIAL   {"trial", "config", "trial_dir"}      the master has already written
//                                                                   the trial RUNNING in SQLite
//   worker -> master  STEP    {"trial", "step", "metrics"}          after each step of the trainer;
//   master -> worker  DECISION {"continue": bool}                   the worker waits for this answer
//   worker -> master  HEARTBEAT {"trial"}                           every heartbeat_s while a trial
//                                                                   runs, whatever the trainer does
//   worker -> master  RESULT  {"trial", "state", "value", "error"}  the trial ended; the worker is
//                                                                   idle again (no READY follows)
//   master -> worker  SHUTDOWN {}                                   the worker leaves its loop; if a
//                                                                   trial still runs, it is abandoned
//
// Who waits for whom: a worker waits only for its own next TRIAL, DECISION or SHUTDOWN; the master
// never waits for one worker: it takes whichever message comes first from any worker, so a slow
// trial never holds the others (asynchronous dispatch). A STEP is answered before the master reads
// anything else, so a worker waits at most one message turn for its decision.
//
// Inside a worker rank (worker/mpi_worker.cpp) the trial runs on a thread of its own and the
// rank's main thread does all the MPI calls (MPI_THREAD_FUNNELED): it relays STEP and DECISION,
// sends the HEARTBEATs, and keeps listening to the master while the trainer computes.
//
// Heartbeat. The master counts a busy worker as alive while any message comes from it at least
// every heartbeat_timeout_s (default 60 s; workers send every heartbeat_s = min(5 s, a quarter of
// it)). A silent worker is LOST: its trial is kept as an attempt ended LOST and goes back to
// WAITING, to run again first, with its number and configuration, on another worker; the lost
// worker is never given a trial again. If it speaks again later, its STEPs are answered "stop" and
// its RESULT is dropped. At the end, a lost worker that never spoke again cannot take part in
// MPI_Finalize, so the master ends the job with MPI_Abort once the database is complete.
//
// Stop by signal (protocol/stop_signals.hpp). On the first SIGINT/SIGTERM/SIGUSR2 the master
// sends no more TRIALs, writes every running trial INTERRUPTED at once (a kill that follows loses
// nothing), and answers every STEP with {"continue": false}; the worker's trainer returns (LibTorch
// trainers have saved their checkpoint at the end of the epoch that reported), and its RESULT
// keeps the trial INTERRUPTED (a PRUNED from that stop) or records it as it ended (COMPLETE, FAIL
// that came first). The master waits for those RESULTs at most max(stop_timeout_s, the longest
// step a running trial took), then, or at once on a second signal, sends SHUTDOWN to every worker:
// a worker still in a trial asks the trainer to stop (StepReporter::stop_requested), waits up to
// 2 s for it, and leaves the trial behind. Every rank then calls MPI_Finalize; exit code 0.
//
// End. When as many trials as asked have been started and every RESULT is in (or the search is
// stopping), the master sends SHUTDOWN to every worker; then all ranks call MPI_Finalize.
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "search/history.hpp"

namespace hpsearch::protocol {

enum Tag : int {
  kReady = 1,
  kStep = 2,
  kResult = 3,
  kHeartbeat = 4,
  kTrial = 10,
  kDecision = 11,
  kShutdown = 12,
};

constexpr int kMasterRank = 0;

// What every worker needs to know of the study, sent once at start.
struct StudyForWorkers {
  nlohmann::json trainer;        // the space file's trainer object
  std::string objective_metric;  // which reported metric is the objective
  std::string space_file;        // for messages
  ObjectiveMode mode = ObjectiveMode::Minimize;  // for the patience rule (early_stopping)
  double heartbeat_s = 5;        // interval of the workers' HEARTBEATs while a trial runs
  int gpus_per_trial = 0;        // ranks per trial group (worker/worker_groups.hpp); 0 = one rank per trial, no group
};

struct TrialAssignment {
  int trial = -1;
  nlohmann::json config;
  std::string trial_dir;
};

struct StepReport {
  int trial = -1;
  int step = 0;
  nlohmann::json metrics;  // {"valid_loss": 0.12, ...}
};

struct TrialResult {
  int trial = -1;
  TrialState state = TrialState::Fail;  // COMPLETE, PRUNED or FAIL
  std::optional<double> value;
  std::string error;
};

// What the master receives from a worker.
struct WorkerMessage {
  enum class Kind { Ready, Step, Result, Heartbeat } kind = Kind::Ready;
  int worker = 0;
  StepReport step;
  TrialResult result;
};

std::string encode(const StudyForWorkers& study);
StudyForWorkers decode_study(const std::string& text);
std::string encode(const TrialAssignment& trial);
TrialAssignment decode_trial(const std::string& text);
std::string encode(const StepReport& step);
StepReport decode_step(const std::string& text);
std::string encode(const TrialResult& result);
TrialResult decode_result(const std::string& text);

}  // namespace hpsearch::protocol
