#pragma once
// What the master writes to a study, and the promises every storage keeps (the consistency
// contract). SqliteStorage (sqlite_storage.hpp) is the one searches use; MemoryStorage
// (memory_storage.hpp) keeps the same state in memory, for tests of the master.
//
// The contract:
// - One writer per study. Only the search that holds the study's lock (SqliteStorage::acquire_lock)
//   calls the state changes below, from one thread; refresh_lock() is its heartbeat, to call at
//   least every kLockRefreshSeconds, and it throws Error when another search took the lock over
//   (the caller must then stop writing).
// - Each state change is one atomic step: after a failure (it throws Error) the study is as it was
//   before the call, on disk and in history(); after a kill at any moment it is either as before
//   or as after, never in between.
// - Durable on return: once a call returns, a kill of the process loses nothing of it (SQLite: a
//   committed transaction in WAL mode). A trial is thus written RUNNING before its worker gets it,
//   and whatever a kill leaves RUNNING is a trial of a dead run.
// - history() reflects every call made before it, and is what a reopened study would read back
//   from the storage alone (the resumed search decides as an uninterrupted one would). The
//   reference stays valid, and is updated in place, for the storage's lifetime.
// - Trial numbers are contiguous: a new trial takes the next number; history().trials[k] is trial k.
// - A trial is run again only while unfinished (WAITING, RUNNING, INTERRUPTED; see is_finished):
//   its earlier attempt is kept (attempts), never rewritten, and its steps go with that attempt.
//
// Attempts. A trial's attempt is 1 for its first run, +1 each time it is run again. An attempt
// that ended without ending the trial is kept with how it ended: FAIL or LOST (retry_trial),
// INTERRUPTED (start_trial of an INTERRUPTED trial), KILLED (start_trial of a trial a dead run left
// RUNNING). attempts_ended_as counts them, so that the number of retries left survives a resume.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "search/history.hpp"

namespace hpsearch {

// A lock whose holder runs on another host is stale when its heartbeat is older than this.
constexpr double kLockStaleSeconds = 60;
// How often the holder refreshes its heartbeat.
constexpr double kLockRefreshSeconds = 10;

class Storage : public HistorySource {
 public:
  // Trial `number` becomes RUNNING on `worker`, with `point` (the sampler's internal values) and
  // `config` (what the trainer receives), no value, no error and no steps. `number` is either the
  // next one (a new trial, attempt 1) or an unfinished trial's (run again: from RUNNING or
  // INTERRUPTED its ended attempt is kept as KILLED or INTERRUPTED and the attempt goes +1; a
  // WAITING trial got its new attempt from retry_trial).
  virtual void start_trial(int number, const std::vector<double>& point, const nlohmann::json& config, int worker) = 0;
  // A step report of a RUNNING trial; its objective metric, when a number, joins the trial's
  // intermediate values in history(). Each step once, in increasing order. Step 0 (an untrained
  // model's evaluation) joins them too: every trial of a study reports it alike, so it is a fair
  // comparison point for pruners and shows how far training went. It is never a trial's value:
  // the storage takes the value finish_trial is given, which the worker computes over steps >= 1
  // (objective_from_steps), and nothing here recomputes it from the steps.
  virtual void record_step(int number, int step, const nlohmann::json& metrics) = 0;
  // The trial ends: COMPLETE, PRUNED or FAIL, with its value (COMPLETE: the objective; PRUNED: the
  // last reported) and why (FAIL, PRUNED). Its steps stay.
  virtual void finish_trial(int number, TrialState state, std::optional<double> value, const std::string& error) = 0;
  // The trial's current attempt ended without ending the trial (a failure to retry, a lost
  // worker): the attempt is kept with `ended_as` and `error`, its steps are dropped (pruners must
  // not compare with a run that is no more), and the trial goes back to WAITING, with
  // `waiting_reason` as its error, as attempt + 1.
  virtual void retry_trial(int number, const std::string& ended_as, const std::string& error, const std::string& waiting_reason) = 0;
  // A stop by signal: every trial in `numbers` becomes INTERRUPTED with `reason`, all in one step
  // (none when `numbers` is empty). They keep their steps, and run again on resume.
  virtual void interrupt_trials(const std::vector<int>& numbers, const std::string& reason) = 0;
  // How many earlier attempts of trial `number` ended as `ended_as` ("FAIL", "LOST", ...).
  virtual int attempts_ended_as(int number, const std::string& ended_as) const = 0;
  // The lock's heartbeat (see above); nothing when no lock is held.
  virtual void refresh_lock() = 0;
};

}  // namespace hpsearch
