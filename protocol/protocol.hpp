#pragma once
// The master-worker protocol: every message, its MPI tag, its encoder and its decoder, and the
// study broadcast, in this header and protocol.cpp, so that the two sides cannot drift apart.
// Each step is written above the declarations that carry it; the master's side of the loop is
// orchestrator/mpi_worker_pool.cpp (behind WorkerPool, worker_pool.hpp), the worker's side is
// worker/mpi_worker.cpp, and both move their texts with protocol/mpi_transport.hpp.
//
// Ranks: rank 0 is the master, the only process that opens the database. Ranks 1..N-1 are
// workers. With one rank (or without mpirun) the master runs trials itself, on one trial thread
// behind the same WorkerPool interface (worker/trial_thread.hpp), and no message crosses MPI.
//
// Who waits for whom: a worker waits only for its own next TRIAL, DECISION or SHUTDOWN; the master
// never waits for one worker: it takes whichever message comes first from any worker, so a slow
// trial never holds the others (asynchronous dispatch). A STEP is answered before the master reads
// anything else, so a worker waits at most one message turn for its decision.
//
// Threads: MPI_Init_thread asks for MPI_THREAD_MULTIPLE (app/main.cpp). Inside a worker rank the
// trial runs on a thread of its own (worker/trial_thread.hpp) and the rank's main thread makes
// every call of this protocol: it relays STEP and DECISION, sends the HEARTBEATs, and keeps
// listening to the master while the trainer computes. FUNNELED would do for that alone; but in a
// trial group on CPU tensors the trial thread also makes MPI collectives (comm/mpi_communicator.cpp)
// while the main thread listens, which needs MULTIPLE (worker/worker_groups.cpp refuses such a
// group when the MPI library provides less).
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
// Errors: a text that does not decode as the message its tag names is a fault of the run (an
// hpsearch::Error naming the message), never a user's mistake.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "search/history.hpp"

namespace hpsearch::protocol {

// The MPI tag of each point-to-point message: worker -> master below 10, master -> worker from 10.
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

// ---- 1. Start: the study broadcast ----------------------------------------------------------
// Every rank takes part in one collective over MPI_COMM_WORLD: the master calls broadcast_study()
// with the validated study (trainer settings, objective metric, where the spec came from), or with
// nothing when the space or the database was refused; every worker calls receive_study(), and a
// worker that receives nothing ends with exit code 2, as the master does. After it, every rank
// joins the trial groups (worker/worker_groups.hpp), another collective.

// What every worker needs to know of the study, sent once at start.
struct StudyForWorkers {
  nlohmann::json trainer;                        // the study's trainer object
  std::string objective_metric;                  // which reported metric is the objective
  std::string source;                            // where the study came from, for messages: the space file, or "runs.db (study 'x')"
  ObjectiveMode mode = ObjectiveMode::Minimize;  // for the patience rule (early_stopping)
  double heartbeat_s = 5;                        // interval of the workers' HEARTBEATs while a trial runs
  // Ranks per trial group (worker/worker_groups.hpp), from resources.gpus_per_trial; groups run on
  // CPU too (MPI collectives), so it counts ranks, not GPUs. 0 = one rank per trial, no group.
  int group_size = 0;
  ObjectiveUse use = ObjectiveUse::Best;  // which reported value is a trial's (objective.use)
};

std::string encode(const StudyForWorkers& study);
StudyForWorkers decode_study(const std::string& text);

// The master's half (rank 0): `study`, or nothing to say that the search was refused.
void broadcast_study(const std::optional<StudyForWorkers>& study);
// The workers' half: the study, or nothing when the master refused it.
std::optional<StudyForWorkers> receive_study();

// ---- 2. The worker announces itself ---------------------------------------------------------
//   worker -> master  READY {}   once, when its trial thread is up
struct Ready {};
std::string encode(const Ready&);
Ready decode_ready(const std::string& text);

// ---- 3. The master assigns a trial ----------------------------------------------------------
//   master -> worker  TRIAL {"trial", "config", "trial_dir"}   the master has already written
//                                                              the trial RUNNING in the database
struct TrialAssignment {
  int trial = -1;
  nlohmann::json config;
  std::string trial_dir;
};
std::string encode(const TrialAssignment& trial);
TrialAssignment decode_trial(const std::string& text);

// ---- 4. Steps, each answered ----------------------------------------------------------------
//   worker -> master  STEP {"trial", "step", "metrics"}   after each step of the trainer;
//   master -> worker  DECISION {"continue": bool}         the worker waits for this answer
struct StepReport {
  int trial = -1;
  int step = 0;
  nlohmann::json metrics;  // {"valid_loss": 0.12, ...}
};
std::string encode(const StepReport& step);
StepReport decode_step(const std::string& text);

struct Decision {
  bool continue_trial = true;  // false: the trial stops (pruned, or the search is stopping)
};
std::string encode(const Decision& decision);
Decision decode_decision(const std::string& text);

// ---- 5. Liveness while a trial runs ---------------------------------------------------------
//   worker -> master  HEARTBEAT {"trial"}   every heartbeat_s while a trial runs, whatever the
//                                           trainer does (see Heartbeat above)
struct Heartbeat {
  int trial = -1;
};
std::string encode(const Heartbeat& heartbeat);
Heartbeat decode_heartbeat(const std::string& text);

// ---- 6. The trial ends ----------------------------------------------------------------------
//   worker -> master  RESULT {"trial", "state", "value", "error"}   the worker is idle again
//                                                                   (no READY follows)
struct TrialResult {
  int trial = -1;
  TrialState state = TrialState::Fail;  // COMPLETE, PRUNED or FAIL
  std::optional<double> value;
  std::string error;
};
std::string encode(const TrialResult& result);
TrialResult decode_result(const std::string& text);

// ---- 7. End ---------------------------------------------------------------------------------
//   master -> worker  SHUTDOWN {}   when as many trials as asked have been started and every
//                                   RESULT is in (or the search is stopping); the worker leaves
//                                   its loop (a trial that still runs is abandoned), then every
//                                   rank calls MPI_Finalize.
struct Shutdown {};
std::string encode(const Shutdown&);
Shutdown decode_shutdown(const std::string& text);

// ---- Receiving: a tag and its text, decoded --------------------------------------------------

// What the master receives from a worker.
struct WorkerMessage {
  enum class Kind { Ready, Step, Result, Heartbeat } kind = Kind::Ready;
  int worker = 0;
  StepReport step;
  TrialResult result;
};
// The message a worker sent with `tag` (Error naming the tag and `from` for one a worker does not
// send).
WorkerMessage decode_worker_message(int tag, int from, const std::string& text);

// What a worker receives from the master.
struct MasterMessage {
  enum class Kind { Trial, Decision, Shutdown } kind = Kind::Shutdown;
  TrialAssignment trial;
  Decision decision;
};
// The message the master sent with `tag` (Error naming the tag for one the master does not send).
MasterMessage decode_master_message(int tag, const std::string& text);

// ---- Sending: each message with its tag, over protocol/mpi_transport.hpp ---------------------
void send(int rank, const Ready& message);
void send(int rank, const TrialAssignment& message);
void send(int rank, const StepReport& message);
void send(int rank, const Decision& message);
void send(int rank, const Heartbeat& message);
void send(int rank, const TrialResult& message);
void send(int rank, const Shutdown& message);

}  // namespace hpsearch::protocol
