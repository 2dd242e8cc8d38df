#include "orchestrator/master.hpp"

#include <cstdio>

#include "core/errors.hpp"
#include "protocol/stop_signals.hpp"

namespace hpsearch {

namespace {

using Clock = std::chrono::steady_clock;

Clock::duration seconds(double s) { return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s)); }

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

SearchOutcome Master::run() {
  start();
  while (true) {
    handle_stop_signals();
    dispatch_idle();
    if (loop_ends()) break;
    if (auto message = workers_.receive(std::chrono::milliseconds(100))) handle_message(*message);
    const auto now = Clock::now();
    give_up_on_unresponsive(now);
    refresh_lock(now);
    loop_.progress->tick();
  }
  return finish();
}

void Master::start() {
  loop_ = Loop{};
  const auto& trials = storage_.history().trials;
  // Trials a previous run left unfinished go first, in number order: RUNNING (that run died),
  // INTERRUPTED (it was stopped), WAITING (a retry it had not started).
  for (const auto& t : trials) {
    if (is_finished(t.state)) continue;
    loop_.reruns.push_back(t.number);
    for (const auto& [step, value] : t.intermediate) {
      auto [it, inserted] = loop_.last_step_before.emplace(t.number, step);
      if (!inserted) it->second = std::max(it->second, step);
    }
  }
  loop_.next_new = static_cast<int>(trials.size());
  loop_.progress.emplace(std::max(options_.trials, static_cast<int>(trials.size())), storage_.history(), options_.progress,
                         options_.step_unit);
  outcome_ = SearchOutcome{};
  loop_.started_at = Clock::now();
  loop_.next_lock_refresh = Clock::now();
}

bool Master::has_work() const { return !loop_.stopping && (!loop_.reruns.empty() || loop_.next_new < options_.trials); }

void Master::handle_stop_signals() {
  if (!options_.watch_signals || options_.signal_count() <= loop_.signals_seen) return;
  loop_.signals_seen = options_.signal_count();
  if (loop_.stopping) {
    if (!outcome_.stopped_at_once) {
      outcome_.stopped_at_once = true;
      std::fprintf(stderr, "hpsearch: %s again: stopping at once\n", stop_signals::name(options_.last_signal()));
    }
    return;
  }
  stop_gracefully();
}

void Master::stop_gracefully() {
  // No new trial; the running ones are INTERRUPTED on disk now, so that a kill that may follow
  // (mpirun's own SIGKILL after its SIGTERM) loses nothing, and each is told to stop at its next
  // step.
  loop_.stopping = true;
  outcome_.stop_signal = options_.last_signal();
  loop_.stop_reason = std::string("interrupted by ") + stop_signals::name(outcome_.stop_signal) + "; it runs again on resume";
  std::vector<int> numbers;
  auto wait = seconds(options_.stop_timeout_s);
  for (const auto& [worker, busy] : loop_.running) {
    numbers.push_back(busy.trial);
    loop_.interrupting.insert(busy.trial);
    wait = std::max(wait, busy.longest_step);
  }
  {
    Stopwatch timing(outcome_.storage_s);
    storage_.interrupt_trials(numbers, loop_.stop_reason);
  }
  if (options_.stop_within_s > 0) {
    // A hard bound (batch jobs: the walltime comes soon after the signal): a step still running
    // then is abandoned, its work since its last checkpoint lost, so that the job ends, and
    // requeues, before it is killed.
    wait = std::min(wait, seconds(options_.stop_within_s));
  }
  loop_.stop_deadline = Clock::now() + wait;
  std::fprintf(stderr,
               "\nhpsearch: %s: stopping; no new trials, %zu running trial(s) stop at their next step (at most %.0f s; a second signal "
               "stops at once)\n",
               stop_signals::name(outcome_.stop_signal), loop_.running.size(), std::chrono::duration<double>(wait).count());
}

void Master::dispatch_idle() {
  while (!loop_.idle.empty() && has_work()) {
    const int worker = loop_.idle.front();
    loop_.idle.pop_front();
    int number;
    if (!loop_.reruns.empty()) {
      number = loop_.reruns.front();
      loop_.reruns.pop_front();
    } else {
      number = loop_.next_new++;
    }
    start_trial(worker, number);
    const auto now = Clock::now();
    loop_.running[worker] = Busy{number, now, now};
    ++outcome_.started;
  }
}

void Master::start_trial(int worker, int number) {
  const auto& trials = storage_.history().trials;
  const bool rerun = static_cast<std::size_t>(number) < trials.size();
  std::vector<double> point;
  nlohmann::json config;
  {
    Stopwatch timing(outcome_.sampler_s);
    point = rerun ? trials[static_cast<std::size_t>(number)].point : sampler_.suggest(storage_.history(), number);
    config = space_.resolve(point);
  }
  loop_.progress->trial_started(number, options_.last_step ? options_.last_step(config) : std::nullopt);
  {
    Stopwatch timing(outcome_.storage_s);
    storage_.start_trial(number, point, config, worker);  // RUNNING is on disk before the trial leaves
  }
  Stopwatch timing(outcome_.messaging_s);
  workers_.send_trial(worker, {number, std::move(config), (options_.trial_root / std::to_string(number)).string()});
}

bool Master::loop_ends() {
  if (loop_.running.empty() && !has_work()) return true;
  if (loop_.stopping && !loop_.running.empty() && (outcome_.stopped_at_once || Clock::now() >= loop_.stop_deadline)) {
    outcome_.stopped_at_once = true;
    return true;  // the trials still running stay INTERRUPTED
  }
  if (!loop_.stopping && loop_.running.empty() && loop_.idle.empty() &&
      loop_.lost.size() == static_cast<std::size_t>(workers_.worker_count())) {
    outcome_.out_of_workers = true;  // every worker lost: nobody is left to run the rest
    return true;
  }
  return false;
}

void Master::handle_message(const protocol::WorkerMessage& message) {
  const auto received = Clock::now();
  const double storage_before = outcome_.storage_s, pruner_before = outcome_.pruner_s;
  loop_.silent.erase(message.worker);
  if (auto busy = loop_.running.find(message.worker); busy != loop_.running.end()) busy->second.last_heard = received;
  switch (message.kind) {
    case protocol::WorkerMessage::Kind::Ready: handle_ready(message.worker); break;
    case protocol::WorkerMessage::Kind::Heartbeat: break;
    case protocol::WorkerMessage::Kind::Step: handle_step(message.worker, message.step, received); break;
    case protocol::WorkerMessage::Kind::Result: handle_result(message.worker, message.result); break;
  }
  // Decoding and answering; the database and pruner parts of the handling are counted apart.
  outcome_.messaging_s += std::chrono::duration<double>(Clock::now() - received).count() - (outcome_.storage_s - storage_before) -
                          (outcome_.pruner_s - pruner_before);
}

void Master::handle_ready(int worker) {
  if (!loop_.lost.count(worker)) loop_.idle.push_back(worker);
  loop_.stuck.erase(worker);  // its trial ended after all: it can leave with the others
}

void Master::handle_step(int worker, const protocol::StepReport& step, Clock::time_point received) {
  const auto busy = loop_.running.find(worker);
  if (busy == loop_.running.end() || busy->second.trial != step.trial) {
    workers_.answer_step(worker, false);  // a lost worker's trial, already given to another
    return;
  }
  Busy& b = busy->second;
  b.longest_step = std::max(b.longest_step, received - b.last_step);
  b.last_step = received;
  loop_.progress->trial_step(step.trial, step.step);
  const bool go_on = record_and_decide(step);
  workers_.answer_step(worker, go_on && !loop_.interrupting.count(b.trial));
}

bool Master::record_and_decide(const protocol::StepReport& step) {
  if (!loop_.advanced.count(step.trial)) {
    const auto before = loop_.last_step_before.find(step.trial);
    if (before == loop_.last_step_before.end() || step.step > before->second) loop_.advanced.insert(step.trial);
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
  if (decision.stop) loop_.stop_reasons[step.trial] = std::move(decision.reason);
  return !decision.stop;
}

void Master::handle_result(int worker, const protocol::TrialResult& r) {
  const auto busy = loop_.running.find(worker);
  if (busy == loop_.running.end() || busy->second.trial != r.trial) {
    if (loop_.lost.count(worker)) return;  // its trial was given to another worker
    throw Error("worker " + std::to_string(worker) + " reported trial " + std::to_string(r.trial) + " it was not running");
  }
  loop_.running.erase(busy);
  loop_.idle.push_back(worker);
  std::string error = r.error;
  bool pruned_by_rule = false;
  if (auto reason = loop_.stop_reasons.find(r.trial); reason != loop_.stop_reasons.end()) {
    // The worker only knows that the master stopped it; the master knows why.
    if (r.state == TrialState::Pruned) error = reason->second;
    pruned_by_rule = true;
    loop_.stop_reasons.erase(reason);
  }
  if (loop_.interrupting.erase(r.trial) && r.state == TrialState::Pruned && !pruned_by_rule) {
    // Stopped by the signal, not by the pruner: it stays INTERRUPTED, to run again.
    loop_.progress->trial_stopped(r.trial);
    ++outcome_.interrupted;
    return;
  }
  if (r.state == TrialState::Fail) {
    fail_or_retry(r.trial, error);
    return;
  }
  {
    Stopwatch timing(outcome_.storage_s);
    storage_.finish_trial(r.trial, r.state, r.value, error);
  }
  loop_.progress->trial_finished(r.state, r.value, r.trial);
  if (r.state == TrialState::Complete) ++outcome_.complete;
  if (r.state == TrialState::Pruned) ++outcome_.pruned;
}

void Master::fail_or_retry(int trial, std::string error) {
  int failures = 0;
  {
    Stopwatch timing(outcome_.storage_s);
    failures = storage_.attempts_ended_as(trial, "FAIL") + 1;
  }
  if (failures <= options_.retries_failed) {
    const std::string waiting = "attempt " + std::to_string(failures) + " failed, retry " + std::to_string(failures) + " of " +
                                std::to_string(options_.retries_failed) + " to come: " + error;
    {
      Stopwatch timing(outcome_.storage_s);
      storage_.retry_trial(trial, "FAIL", error, waiting);
    }
    loop_.reruns.push_front(trial);  // next (when not stopping), so that a sequential search stays deterministic
    loop_.progress->trial_stopped(trial);
    ++outcome_.retried;
    return;
  }
  if (failures > 1) error += " (failed " + std::to_string(failures) + " times; earlier attempts in summarize --format json)";
  {
    Stopwatch timing(outcome_.storage_s);
    storage_.finish_trial(trial, TrialState::Fail, std::nullopt, error);
  }
  loop_.progress->trial_finished(TrialState::Fail, std::nullopt, trial);
  ++outcome_.failed;
}

void Master::give_up_on_unresponsive(Clock::time_point now) {
  // Workers whose trial is given up: silent past the heartbeat limit (lost: the trial runs again
  // on another worker), or still answering (their heartbeats come from another thread than their
  // trial's) with no step report past --step-timeout (stuck: the trial hangs, or one rank of its
  // group failed while the others wait in a collective; it FAILs). Either way the worker is left
  // out and the search goes on.
  const bool watch_heartbeats = workers_.sends_heartbeats() && options_.heartbeat_timeout_s > 0;
  const auto heartbeat_limit = seconds(options_.heartbeat_timeout_s), step_limit = seconds(options_.step_timeout_s);
  for (auto it = loop_.running.begin(); it != loop_.running.end();) {
    const bool silent_too_long = watch_heartbeats && now - it->second.last_heard > heartbeat_limit;
    const bool no_step_too_long = options_.step_timeout_s > 0 && now - it->second.last_step > step_limit;
    if (!silent_too_long && !no_step_too_long) {
      ++it;
      continue;
    }
    const int worker = it->first, trial = it->second.trial;
    it = loop_.running.erase(it);
    give_up(worker, trial, silent_too_long);
  }
}

void Master::give_up(int worker, int trial, bool silent) {
  loop_.lost.insert(worker);
  (silent ? loop_.silent : loop_.stuck).insert(worker);
  outcome_.lost_workers.push_back(worker);
  std::string why;
  if (silent) {
    why = "worker " + std::to_string(worker) + " sent nothing for " + std::to_string(static_cast<long long>(options_.heartbeat_timeout_s)) +
          " s (heartbeat limit) and is lost";
    std::fprintf(stderr, "\nhpsearch: %s; trial %d runs again on another worker\n", why.c_str(), trial);
  } else {
    why = "no step report for " + std::to_string(static_cast<long long>(options_.step_timeout_s)) + " s (--step-timeout) from worker " +
          std::to_string(worker) +
          ": the trial hangs, or a rank of its group failed while the others wait in a collective; the worker is left out";
    std::fprintf(stderr, "\nhpsearch: trial %d: %s\n", trial, why.c_str());
  }
  if (loop_.interrupting.erase(trial)) {
    ++outcome_.interrupted;  // stopping: it stays INTERRUPTED on disk
    loop_.progress->trial_stopped(trial);
  } else if (silent) {
    {
      Stopwatch timing(outcome_.storage_s);
      storage_.retry_trial(trial, "LOST", why, "waiting to run again: " + why);
    }
    loop_.reruns.push_front(trial);
    loop_.progress->trial_stopped(trial);
  } else {
    fail_or_retry(trial, why);
  }
}

void Master::refresh_lock(Clock::time_point now) {
  if (now < loop_.next_lock_refresh) return;
  Stopwatch timing(outcome_.storage_s);
  storage_.refresh_lock();
  loop_.next_lock_refresh = now + seconds(kLockRefreshSeconds);
}

SearchOutcome Master::finish() {
  outcome_.interrupted += static_cast<int>(loop_.interrupting.size());  // abandoned: INTERRUPTED on disk since the signal
  loop_.progress->finish();
  workers_.shutdown();
  outcome_.silent_workers.assign(loop_.silent.begin(), loop_.silent.end());
  for (int worker : loop_.stuck) {
    if (!loop_.silent.count(worker)) outcome_.silent_workers.push_back(worker);
  }
  outcome_.advanced = static_cast<int>(loop_.advanced.size());
  outcome_.wall_s = std::chrono::duration<double>(Clock::now() - loop_.started_at).count();
  return outcome_;
}

}  // namespace hpsearch
