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
//   worker -> master  RESULT  {"trial", "state", "value", "error"}  the trial ended; the worker is
//                                                                   idle again (no READY follows)
//   master -> worker  SHUTDOWN {}                                   the worker leaves its loop
//
// Who waits for whom: a worker waits only for its own next TRIAL, DECISION or SHUTDOWN; the master
// never waits for one worker: it takes whichever message comes first from any worker, so a slow
// trial never holds the others (asynchronous dispatch). A STEP is answered before the master reads
// anything else, so a worker waits at most one message turn for its decision.
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
  enum class Kind { Ready, Step, Result } kind = Kind::Ready;
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
