#include "orchestrator/master.hpp"

#include <cstdio>
#include <deque>
#include <map>
#include <set>

#include "protocol/stop_signals.hpp"
#include "core/errors.hpp"

namespace hpsearch {

namespace {

using Clock = std::chrono::steady_clock;

// Adds the time from construction to destruction to `total` seconds.
class Stopwatch {
 public:
  explicit Stopwatch(double& total) : total_(total) {}
  ~Stopwatch() { total_ += std::chrono::duration<double>(Clock::now() - start_).count(); }

 private:
  double& total_;
  Clock::time_point start_ = Clock::now();
};

}  // namespace

Master::Master(Storage& storage, Sampler& sampler, const SearchSpace& space, WorkerPool& workers, MasterOptions options)
    : storage_(storage), sampler_(sampler), space_(space), workers_(workers), options_(std::move(options)) {}

bool Master::on_step(const protocol::StepReport& step) {
  if (!advanced_.count(step.trial)) {
    const auto before = last_step_before_.find(step.trial);
    if (before == last_step_before_.end() || step.step > before->second) advanced_.insert(step.trial);
  }
  {
    Stopwatch timing(outcome_.storage_s);
    storage_.record_step(step.trial, step.step, step.metrics);
  }
  if (!options_.pruner) return true;
  // The decision reads the history as the database holds it, this step included, so that a
  // resumed search decides as an uninterrupted one would.
  Stopwatch timing(outcome_.pruner_s);
  ++outcome_.decisions;
  PruneDecision decision = options_.pruner->decide(storage_.history(), step.trial, step.step);
  if (decision.stop) stop_reasons_[step.trial] = std::move(decision.reason);
  return !decision.stop;
}

void Master::start_trial(int worker, int number) {
  const auto& trials = storage_.history().trials;
  const bool rerun = static_cast<std::size_t>(number) < trials.size();
  std::vector<double> params;
  nlohmann::json config;
  {
    Stopwatch timing(outcome_.sampler_s);
    params = rerun ? trials[static_cast<std::size_t>(number)].params : sampler_.suggest(storage_.history(), number);
    config = space_.resolve(params);
  }
  {
    Stopwatch timing(outcome_.storage_s);
    storage_.start_trial(number, params, config, worker);  // RUNNING is on disk before the trial leaves
  }
  Stopwatch timing(outcome_.messaging_s);
  workers_.send_trial(worker, {number, std::move(config), (options_.trial_root / std::to_string(number)).string()});
}

SearchOutcome Master::run() {
  const auto& trials = storage_.history().trials;
  // Trials a previous run left unfinished go first, in number order: RUNNING (that run died),
  // INTERRUPTED (it was stopped), WAITING (a retry it had not started).
  std::deque<int> reruns;
  last_step_before_.clear();
  advanced_.clear();
  for (const auto& t : trials) {
    if (is_finished(t.state)) continue;
    reruns.push_back(t.number);
    for (const auto& [step, value] : t.intermediate) {
      auto [it, inserted] = last_step_before_.emplace(t.number, step);
      if (!inserted) it->second = std::max(it->second, step);
    }
  }
  int next_new = static_cast<int>(trials.size());
  bool stopping = false;
  auto has_work = [&] { return !stopping && (!reruns.empty() || next_new < options_.trials); };

  Progress progress(std::max(options_.trials, static_cast<int>(trials.size())), storage_.history(), options_.progress);
  outcome_ = SearchOutcome{};
  SearchOutcome& outcome = outcome_;
  const auto started_at = Clock::now();
  std::deque<int> idle;
  struct Busy {
    int trial;
    Clock::time_point last_heard;  // any message from the worker
    Clock::time_point last_step;   // the trial's start, then its last STEP
    Clock::duration longest_step{0};
    bool stepped = false;
  };
  std::map<int, Busy> running;  // worker -> its trial
  std::set<int> lost, silent;   // lost workers; those not heard from since
  std::set<int> stuck;          // lost by --step-timeout; still stuck unless they sent READY since
  std::set<int> interrupting;   // trials stopped by the signal, until their RESULT
  std::string stop_reason;
  Clock::time_point stop_deadline{};
  const auto heartbeat_limit = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options_.heartbeat_timeout_s));
  const bool watch_heartbeats = workers_.sends_heartbeats() && options_.heartbeat_timeout_s > 0;
  const auto step_limit = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options_.step_timeout_s));

  // A trial's attempt FAILed: run it again while it has retries left, else record it FAIL.
  auto fail_or_retry = [&](int trial, std::string error) {
    int failures = 0;
    {
      Stopwatch timing(outcome.storage_s);
      failures = storage_.attempts_ended_as(trial, "FAIL") + 1;
    }
    if (failures <= options_.retries_failed) {
      const std::string waiting = "attempt " + std::to_string(failures) + " failed, retry " + std::to_string(failures) + " of " +
                                  std::to_string(options_.retries_failed) + " to come: " + error;
      {
        Stopwatch timing(outcome.storage_s);
        storage_.retry_trial(trial, "FAIL", error, waiting);
      }
      reruns.push_front(trial);  // next (when not stopping), so that a sequential search stays deterministic
      progress.trial_stopped();
      ++outcome.retried;
      return;
    }
    if (failures > 1) error += " (failed " + std::to_string(failures) + " times; earlier attempts in summarize --format json)";
    {
      Stopwatch timing(outcome.storage_s);
      storage_.finish_trial(trial, TrialState::Fail, std::nullopt, error);
    }
    progress.trial_finished(TrialState::Fail, std::nullopt, trial);
    ++outcome.failed;
  };
  auto next_lock_refresh = Clock::now();
  int signals_seen = 0;

  while (true) {
    if (options_.watch_signals && options_.signal_count() > signals_seen) {
      signals_seen = options_.signal_count();
      if (!stopping) {
        // Graceful stop: no new trial; the running ones are INTERRUPTED on disk now, so that a
        // kill that may follow (mpirun's own SIGKILL after its SIGTERM) loses nothing, and each
        // is told to stop at its next step.
        stopping = true;
        outcome.stop_signal = options_.last_signal();
        stop_reason = std::string("interrupted by ") + stop_signals::name(outcome.stop_signal) + "; it runs again on resume";
        std::vector<int> numbers;
        auto wait = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options_.stop_timeout_s));
        for (const auto& [worker, busy] : running) {
          numbers.push_back(busy.trial);
          interrupting.insert(busy.trial);
          wait = std::max(wait, busy.longest_step);
        }
        {
          Stopwatch timing(outcome.storage_s);
          storage_.interrupt_trials(numbers, stop_reason);
        }
        if (options_.stop_within_s > 0) {
          // A hard bound (batch jobs: the walltime comes soon after the signal): a step still
          // running then is abandoned, its work since its last checkpoint lost, so that the job
          // ends, and requeues, before it is killed.
          wait = std::min(wait, std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options_.stop_within_s)));
        }
        stop_deadline = Clock::now() + wait;
        std::fprintf(stderr, "\nhpsearch: %s: stopping; no new trials, %zu running trial(s) stop at their next step (at most %.0f s; a second signal stops at once)\n",
                     stop_signals::name(outcome.stop_signal), running.size(), std::chrono::duration<double>(wait).count());
      } else if (!outcome.stopped_at_once) {
        outcome.stopped_at_once = true;
        std::fprintf(stderr, "hpsearch: %s again: stopping at once\n", stop_signals::name(options_.last_signal()));
      }
    }

    while (!idle.empty() && has_work()) {
      const int worker = idle.front();
      idle.pop_front();
      int number;
      if (!reruns.empty()) {
        number = reruns.front();
        reruns.pop_front();
      } else {
        number = next_new++;
      }
      start_trial(worker, number);
      const auto now = Clock::now();
      running[worker] = Busy{number, now, now};
      progress.trial_started();
      ++outcome.started;
    }
    if (running.empty() && !has_work()) break;
    if (stopping && !running.empty() && (outcome.stopped_at_once || Clock::now() >= stop_deadline)) {
      outcome.stopped_at_once = true;
      break;  // the trials still running stay INTERRUPTED
    }
    if (!stopping && running.empty() && idle.empty() && lost.size() == static_cast<std::size_t>(workers_.worker_count())) {
      outcome.out_of_workers = true;  // every worker lost: nobody is left to run the rest
      break;
    }

    auto message = workers_.receive(std::chrono::milliseconds(100));
    if (message) {
      const auto handling_started = Clock::now();
      const double storage_before = outcome.storage_s, pruner_before = outcome.pruner_s;
      const int worker = message->worker;
      silent.erase(worker);
      auto busy = running.find(worker);
      if (busy != running.end()) busy->second.last_heard = handling_started;
      switch (message->kind) {
        case protocol::WorkerMessage::Kind::Ready:
          if (!lost.count(worker)) idle.push_back(worker);
          stuck.erase(worker);  // its trial ended after all: it can leave with the others
          break;
        case protocol::WorkerMessage::Kind::Heartbeat: break;
        case protocol::WorkerMessage::Kind::Step: {
          if (busy == running.end() || busy->second.trial != message->step.trial) {
            workers_.answer_step(worker, false);  // a lost worker's trial, already given to another
            break;
          }
          Busy& b = busy->second;
          b.longest_step = std::max(b.longest_step, handling_started - b.last_step);
          b.last_step = handling_started;
          b.stepped = true;
          const bool go_on = on_step(message->step);
          workers_.answer_step(worker, go_on && !interrupting.count(b.trial));
          break;
        }
        case protocol::WorkerMessage::Kind::Result: {
          const auto& r = message->result;
          if (busy == running.end() || busy->second.trial != r.trial) {
            if (lost.count(worker)) break;  // its trial was given to another worker
            throw Error("worker " + std::to_string(worker) + " reported trial " + std::to_string(r.trial) + " it was not running");
          }
          running.erase(busy);
          idle.push_back(worker);
          std::string error = r.error;
          bool pruned_by_rule = false;
          if (auto reason = stop_reasons_.find(r.trial); reason != stop_reasons_.end()) {
            // The worker only knows that the master stopped it; the master knows why.
            if (r.state == TrialState::Pruned) error = reason->second;
            pruned_by_rule = true;
            stop_reasons_.erase(reason);
          }
          if (interrupting.erase(r.trial) && r.state == TrialState::Pruned && !pruned_by_rule) {
            // Stopped by the signal, not by the pruner: it stays INTERRUPTED, to run again.
            progress.trial_stopped();
            ++outcome.interrupted;
            break;
          }
          if (r.state == TrialState::Fail) {
            fail_or_retry(r.trial, error);
            break;
          }
          {
            Stopwatch timing(outcome.storage_s);
            storage_.finish_trial(r.trial, r.state, r.value, error);
          }
          progress.trial_finished(r.state, r.value, r.trial);
          if (r.state == TrialState::Complete) ++outcome.complete;
          if (r.state == TrialState::Pruned) ++outcome.pruned;
          break;
        }
      }
      // Decoding and answering; the database and pruner parts of the handling are counted apart.
      outcome.messaging_s += std::chrono::duration<double>(Clock::now() - handling_started).count() - (outcome.storage_s - storage_before) -
                             (outcome.pruner_s - pruner_before);
    }

    const auto now = Clock::now();
    // Workers whose trial is given up: silent past the heartbeat limit (lost: the trial runs again
    // on another worker), or still answering (their heartbeats come from another thread than their
    // trial's) with no step report past --step-timeout (stuck: the trial hangs, or one rank of its
    // group failed while the others wait in a collective; it FAILs). Either way the worker is left
    // out and the search goes on.
    for (auto it = running.begin(); it != running.end();) {
      const bool silent_too_long = watch_heartbeats && now - it->second.last_heard > heartbeat_limit;
      const bool no_step_too_long = options_.step_timeout_s > 0 && now - it->second.last_step > step_limit;
      if (!silent_too_long && !no_step_too_long) {
        ++it;
        continue;
      }
      const int worker = it->first, number = it->second.trial;
      it = running.erase(it);
      lost.insert(worker);
      (silent_too_long ? silent : stuck).insert(worker);
      outcome.lost_workers.push_back(worker);
      std::string why;
      if (silent_too_long) {
        why = "worker " + std::to_string(worker) + " sent nothing for " + std::to_string(static_cast<long long>(options_.heartbeat_timeout_s)) +
              " s (heartbeat limit) and is lost";
        std::fprintf(stderr, "\nhpsearch: %s; trial %d runs again on another worker\n", why.c_str(), number);
      } else {
        why = "no step report for " + std::to_string(static_cast<long long>(options_.step_timeout_s)) + " s (--step-timeout) from worker " +
              std::to_string(worker) + ": the trial hangs, or a rank of its group failed while the others wait in a collective; the worker is left out";
        std::fprintf(stderr, "\nhpsearch: trial %d: %s\n", number, why.c_str());
      }
      if (interrupting.erase(number)) {
        ++outcome.interrupted;  // stopping: it stays INTERRUPTED on disk
        progress.trial_stopped();
      } else if (silent_too_long) {
        {
          Stopwatch timing(outcome.storage_s);
          storage_.retry_trial(number, "LOST", why, "waiting to run again: " + why);
        }
        reruns.push_front(number);
        progress.trial_stopped();
      } else {
        fail_or_retry(number, why);
      }
    }
    if (now >= next_lock_refresh) {
      Stopwatch timing(outcome.storage_s);
      storage_.refresh_lock();
      next_lock_refresh = now + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(kLockRefreshSeconds));
    }
    progress.tick();
  }
  outcome.interrupted += static_cast<int>(interrupting.size());  // abandoned: INTERRUPTED on disk since the signal
  progress.finish();
  workers_.shutdown();
  outcome.silent_workers.assign(silent.begin(), silent.end());
  for (int worker : stuck) {
    if (!silent.count(worker)) outcome.silent_workers.push_back(worker);
  }
  outcome.advanced = static_cast<int>(advanced_.size());
  outcome.wall_s = std::chrono::duration<double>(Clock::now() - started_at).count();
  return outcome;
}

}  // namespace hpsearch
