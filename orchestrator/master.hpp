#pragma once
// The master's loop: samples configurations, writes each trial RUNNING before handing it to an
// idle worker, records step reports and results, and answers each step with continue/stop.
// The protocol it follows is written in protocol.hpp: heartbeats, lost workers and the stop by
// signal are described there.
//
// Retries. A trial that FAILs while it has retries left ("retries": {"failed": N} in the space,
// or --retries N) is run again with the same number and configuration, before any new trial:
// the failed attempt is kept in the database's attempts table with its reason, and the trial
// waits as WAITING (so a kill in between loses nothing). A study thus always ends with exactly
// `trials` trials, each number once, each in one final state; only FAIL attempts count against N.
// Trials whose worker was lost are always run again (the worker failed, not the trial; each run
// costs a worker, so this is bounded by their number).
#include <chrono>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "orchestrator/progress.hpp"
#include "protocol/stop_signals.hpp"
#include "protocol/worker_pool.hpp"
#include "search/pruners/pruner.hpp"
#include "search/sampler.hpp"
#include "search/space.hpp"
#include "study/storage.hpp"

namespace hpsearch {

struct MasterOptions {
  int trials = 100;                  // the study's total number of trials
  std::filesystem::path trial_root;  // trial k's folder is trial_root / "k"
  Progress::Style progress = Progress::Style::Plain;
  // For the progress line: what the trainer's steps are called, and the step of a trial's last
  // report given its configuration, when the trainer knows it in advance (null: never known).
  std::string step_unit = "step";
  std::function<std::optional<int>(const nlohmann::json& config)> last_step;
  const Pruner* pruner = nullptr;   // asked after each step whether the trial goes on; null: always
  int retries_failed = 0;           // how many times a FAIL trial is run again
  double heartbeat_timeout_s = 60;  // a busy worker silent for longer is lost (0: never)
  double step_timeout_s = 0;        // a trial with no STEP for longer FAILs and its worker is lost (0: never)
  double stop_timeout_s = 30;       // after a stop signal, the longest wait for running trials
                                    // (or their longest step, when longer)
  double stop_within_s = 0;         // after a stop signal, the wait's hard bound, whatever the steps (0: none)
  bool watch_signals = false;       // stop on SIGINT/SIGTERM/SIGUSR2 (stop_signals.hpp)
  // Where watch_signals reads them: how many came so far, and the number of the last one. The
  // process's counting handler unless a test counts its own (the handler's count is per process
  // and never goes back, so a test that raised real signals would stop every later Master).
  std::function<int()> signal_count = stop_signals::count;
  std::function<int()> last_signal = stop_signals::last;
};

struct SearchOutcome {
  int started = 0;  // trials started by this run
  int complete = 0, pruned = 0, failed = 0;
  // Where the master's time went, in seconds: the loop from start to end, and the parts of it
  // spent sampling, writing the database and handling messages (the rest is waiting for workers).
  double wall_s = 0, sampler_s = 0, storage_s = 0, messaging_s = 0;
  // Pruning decisions: how many were asked and the time they took (not part of messaging_s).
  long long decisions = 0;
  double pruner_s = 0;
  // How this run ended, when not by finishing the study.
  int stop_signal = 0;           // the first stop signal's number; 0 when none came
  bool stopped_at_once = false;  // a second signal, or the stop's time bound, ended the wait
  int interrupted = 0;           // trials left INTERRUPTED, to be run again on resume
  int retried = 0;               // attempts that FAILed and were run again
  // Trials that reported a step beyond the last one the database held for them before this run
  // (any step, for a trial new in this run): work that a rerun keeps when the trainer resumes from
  // checkpoints. With none, and no trial finished, running the same search again would only
  // repeat this run (a trial longer than a batch job's walltime that restarts from scratch).
  int advanced = 0;
  std::vector<int> lost_workers;    // workers declared lost (no heartbeat)
  std::vector<int> silent_workers;  // of those, the ones never heard from again or still stuck in a trial:
                                    // they cannot take part in MPI_Finalize
  bool out_of_workers = false;      // every worker was lost while trials remained
};

class Master {
 public:
  Master(Storage& storage, Sampler& sampler, const SearchSpace& space, WorkerPool& workers, MasterOptions options);
  // Runs until the study holds `trials` finished trials; trials a dead run left RUNNING or WAITING
  // are run again first, with their number and configuration.
  SearchOutcome run();

 private:
  using Clock = std::chrono::steady_clock;
  // A worker's trial, from its TRIAL to its RESULT.
  struct Busy {
    int trial;
    Clock::time_point last_heard;  // any message from the worker
    Clock::time_point last_step;   // the trial's start, then its last STEP
    Clock::duration longest_step{0};
  };
  // What one run() knows as it goes; made anew when it starts.
  struct Loop {
    std::deque<int> reruns;                   // unfinished trials to run first, in this order
    int next_new = 0;                         // the number of the next new trial
    std::deque<int> idle;                     // workers waiting for a trial
    std::map<int, Busy> running;              // worker -> its trial
    std::set<int> lost, silent;               // lost workers; those not heard from since
    std::set<int> stuck;                      // lost by --step-timeout; still stuck unless they sent READY since
    std::set<int> interrupting;               // trials stopped by the signal, until their RESULT
    std::map<int, std::string> stop_reasons;  // trial -> why the pruner stopped it, until its RESULT
    std::map<int, int> last_step_before;      // unfinished trial -> its last step recorded before this run
    std::set<int> advanced;                   // see SearchOutcome::advanced
    bool stopping = false;                    // a stop signal came: no new trial
    int signals_seen = 0;
    std::string stop_reason;  // the running trials' error while they are INTERRUPTED
    Clock::time_point stop_deadline{}, started_at{}, next_lock_refresh{};
    std::optional<Progress> progress;
  };

  // The steps of run(), in the order it takes them.
  void start();                // the loop's state, from the study as the storage holds it
  void handle_stop_signals();  // a first signal stops gracefully, a second at once
  void dispatch_idle();        // a trial (a rerun first, else a new one) to each idle worker
  bool loop_ends();            // all done, the stop's wait is over, or no worker is left
  void handle_message(const protocol::WorkerMessage& message);
  void give_up_on_unresponsive(Clock::time_point now);  // workers silent or stuck too long
  void refresh_lock(Clock::time_point now);
  SearchOutcome finish();  // shuts the workers down; what this run did

  void stop_gracefully();  // the first signal: running trials INTERRUPTED, told to stop
  bool has_work() const;
  void start_trial(int worker, int number);
  void handle_ready(int worker);
  void handle_step(int worker, const protocol::StepReport& step, Clock::time_point received);
  void handle_result(int worker, const protocol::TrialResult& result);
  // Records a step report; the answer is whether the trial goes on.
  bool record_and_decide(const protocol::StepReport& step);
  // A trial's attempt FAILed: run it again while it has retries left, else record it FAIL.
  void fail_or_retry(int trial, std::string error);
  // The worker's trial is given up: silent (lost: the trial runs again) or stuck (it FAILs).
  void give_up(int worker, int trial, bool silent);

  Loop loop_;
  SearchOutcome outcome_;
  Storage& storage_;
  Sampler& sampler_;
  const SearchSpace& space_;
  WorkerPool& workers_;
  MasterOptions options_;
};

}  // namespace hpsearch
