#include "orchestrator/master.hpp"

#include <deque>
#include <map>

#include "search/errors.hpp"

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

Master::Master(SqliteStorage& storage, Sampler& sampler, const SearchSpace& space, WorkerPool& workers, MasterOptions options)
    : storage_(storage), sampler_(sampler), space_(space), workers_(workers), options_(std::move(options)) {}

bool Master::on_step(const protocol::StepReport& step) {
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
  std::deque<int> reruns;
  int finished_before = 0;
  for (const auto& t : trials) {
    if (is_finished(t.state)) ++finished_before;
    else reruns.push_back(t.number);
  }
  int next_new = static_cast<int>(trials.size());
  auto has_work = [&] { return !reruns.empty() || next_new < options_.trials; };

  Progress progress(std::max(options_.trials, static_cast<int>(trials.size())), finished_before, storage_.history().mode, options_.progress);
  outcome_ = SearchOutcome{};
  SearchOutcome& outcome = outcome_;
  const auto started_at = Clock::now();
  std::deque<int> idle;
  std::map<int, int> running;  // worker -> trial number

  while (true) {
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
      running[worker] = number;
      progress.trial_started();
      ++outcome.started;
    }
    if (running.empty() && !has_work()) break;

    auto message = workers_.receive(std::chrono::milliseconds(100));
    if (message) {
      const auto handling_started = Clock::now();
      const double storage_before = outcome.storage_s, pruner_before = outcome.pruner_s;
      switch (message->kind) {
        case protocol::WorkerMessage::Kind::Ready: idle.push_back(message->worker); break;
        case protocol::WorkerMessage::Kind::Step: workers_.answer_step(message->worker, on_step(message->step)); break;
        case protocol::WorkerMessage::Kind::Result: {
          const auto& r = message->result;
          auto it = running.find(message->worker);
          if (it == running.end() || it->second != r.trial) {
            throw Error("worker " + std::to_string(message->worker) + " reported trial " + std::to_string(r.trial) + " it was not running");
          }
          std::string error = r.error;
          if (auto reason = stop_reasons_.find(r.trial); reason != stop_reasons_.end()) {
            // The worker only knows that the master stopped it; the master knows why.
            if (r.state == TrialState::Pruned) error = reason->second;
            stop_reasons_.erase(reason);
          }
          {
            Stopwatch timing(outcome.storage_s);
            storage_.finish_trial(r.trial, r.state, r.value, error);
          }
          running.erase(it);
          idle.push_back(message->worker);
          progress.trial_finished(r.state, r.value, r.trial);
          if (r.state == TrialState::Complete) ++outcome.complete;
          if (r.state == TrialState::Pruned) ++outcome.pruned;
          if (r.state == TrialState::Fail) ++outcome.failed;
          break;
        }
      }
      // Decoding and answering; the database and pruner parts of the handling are counted apart.
      outcome.messaging_s += std::chrono::duration<double>(Clock::now() - handling_started).count() - (outcome.storage_s - storage_before) -
                             (outcome.pruner_s - pruner_before);
    }
    progress.tick();
  }
  progress.finish();
  workers_.shutdown();
  outcome.wall_s = std::chrono::duration<double>(Clock::now() - started_at).count();
  return outcome;
}

}  // namespace hpsearch
