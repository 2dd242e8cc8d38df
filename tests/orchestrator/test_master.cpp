// The Master against an in-memory study (MemoryStorage) and a scripted, in-process worker pool:
// every trial of the study ends in one final state whatever its workers do (fail, go silent,
// hang), a stop signal leaves the running trials INTERRUPTED, the pruner's decisions reach the
// workers and the records, and a resumed study runs its unfinished trials again first.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <map>
#include <optional>
#include <thread>

#include "orchestrator/master.hpp"
#include "study/memory_storage.hpp"

namespace hpsearch {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// What a worker does with one run of a trial.
struct Script {
  std::vector<double> values{1.0};        // the objective ("value") at steps 1, 2, ...
  TrialState end = TrialState::Complete;  // how it ends after its last step; value: the last one (FAIL: none)
  std::string error;                      // its result's error
  double step_s = 0;                      // time from one message to the next
  int silent_after = -1;                  // after this many steps it sends nothing at all (-1: never)...
  double silent_for_s = 1e9;              // ...for this long, then goes on (a stalled node)
  bool hangs = false;                     // never steps; only its heartbeats come (a hung trial)
};

Script steps(std::vector<double> values) {
  Script s;
  s.values = std::move(values);
  return s;
}
Script fails(const std::string& error) {
  Script s;
  s.values.clear();
  s.end = TrialState::Fail;
  s.error = error;
  return s;
}

// Workers 1..N, each running the scripts of the trials it is sent: trial k's r-th run (from 0)
// follows scripts[k][r], or the last one given, or the default Script. Every message is delivered
// through receive(), as MpiWorkerPool delivers its ranks'.
class ScriptedPool : public WorkerPool {
 public:
  struct Sent {
    int worker, trial;
    json config;
    std::string trial_dir;
  };
  struct Answer {
    int worker, trial, step;
    bool go_on;
  };

  ScriptedPool(int workers, std::map<int, std::vector<Script>> scripts)
      : workers_(static_cast<std::size_t>(workers)), scripts_(std::move(scripts)) {}

  int worker_count() const override { return static_cast<int>(workers_.size()); }
  bool sends_heartbeats() const override { return true; }
  void send_trial(int worker, const protocol::TrialAssignment& trial) override {
    Worker& w = at(worker);
    EXPECT_FALSE(w.trial) << "worker " << worker << " was given trial " << trial.trial << " while running one";
    const auto& scripts = scripts_[trial.trial];
    const std::size_t run = runs_[trial.trial]++;
    w = Worker{};
    w.ready_sent = true;
    w.trial = trial.trial;
    w.script = scripts.empty() ? Script{} : scripts[std::min(run, scripts.size() - 1)];
    w.next_at = Clock::now();
    sent.push_back({worker, trial.trial, trial.config, trial.trial_dir});
  }
  void answer_step(int worker, bool go_on) override {
    Worker& w = at(worker);
    EXPECT_TRUE(w.awaiting) << "worker " << worker << " was answered without asking";
    answers.push_back({worker, w.trial.value_or(-1), w.stepped, go_on});
    w.awaiting = false;
    if (!go_on) w.stopped = true;
  }
  std::optional<protocol::WorkerMessage> receive(std::chrono::milliseconds wait) override {
    EXPECT_FALSE(shut_down) << "receive after shutdown";
    const auto now = Clock::now();
    for (std::size_t k = 0; k < workers_.size(); ++k) {
      const std::size_t i = (next_ + k) % workers_.size();
      if (auto message = next_message(static_cast<int>(i) + 1, now)) {
        next_ = i + 1;  // round robin: no worker holds the others
        return message;
      }
    }
    std::this_thread::sleep_for(std::min(wait, std::chrono::milliseconds(5)));
    return std::nullopt;
  }
  void shutdown() override {
    EXPECT_FALSE(shut_down) << "shutdown twice";
    shut_down = true;
  }

  int runs_of(int trial) const {
    return static_cast<int>(std::count_if(sent.begin(), sent.end(), [&](const Sent& s) { return s.trial == trial; }));
  }

  std::vector<Sent> sent;
  std::vector<Answer> answers;
  bool shut_down = false;

 private:
  struct Worker {
    bool ready_sent = false;
    std::optional<int> trial;
    Script script;
    int stepped = 0;
    bool awaiting = false, stopped = false, silenced = false;
    Clock::time_point next_at{}, silent_until{};
  };
  Worker& at(int worker) { return workers_.at(static_cast<std::size_t>(worker - 1)); }

  std::optional<protocol::WorkerMessage> next_message(int worker, Clock::time_point now) {
    Worker& w = at(worker);
    protocol::WorkerMessage m;
    m.worker = worker;
    if (!w.ready_sent) {
      w.ready_sent = true;
      m.kind = protocol::WorkerMessage::Kind::Ready;
      return m;
    }
    if (!w.trial || w.awaiting || now < w.next_at) return std::nullopt;
    const Script& s = w.script;
    if (!w.silenced && s.silent_after == w.stepped) {
      w.silenced = true;
      w.silent_until = now + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s.silent_for_s));
    }
    if (w.silenced && now < w.silent_until) return std::nullopt;
    w.next_at = now + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s.step_s));
    if (s.hangs && !w.stopped) {
      w.next_at = now + std::chrono::milliseconds(20);
      m.kind = protocol::WorkerMessage::Kind::Heartbeat;
      return m;
    }
    if (w.stopped || w.stepped == static_cast<int>(s.values.size())) {
      m.kind = protocol::WorkerMessage::Kind::Result;
      m.result.trial = *w.trial;
      m.result.state = w.stopped ? TrialState::Pruned : s.end;
      if (m.result.state != TrialState::Fail && w.stepped > 0) m.result.value = s.values[static_cast<std::size_t>(w.stepped - 1)];
      m.result.error = w.stopped ? "stopped by the master after step " + std::to_string(w.stepped) : s.error;
      w.trial.reset();
      return m;
    }
    ++w.stepped;
    w.awaiting = true;
    m.kind = protocol::WorkerMessage::Kind::Step;
    m.step = {*w.trial, w.stepped, json{{"value", s.values[static_cast<std::size_t>(w.stepped - 1)]}}};
    return m;
  }

  std::vector<Worker> workers_;
  std::size_t next_ = 0;
  std::map<int, std::vector<Script>> scripts_;
  std::map<int, std::size_t> runs_;
};

// Trial k's point is x = k / 100: which configuration a rerun got is plain to see.
class CountingSampler : public Sampler {
 public:
  std::vector<double> suggest(const StudyHistory&, int number) override { return {number / 100.0}; }
};

// Stops the trials in `stops` at the step given, and checks that the step is in the history it judges.
class ScriptedPruner : public Pruner {
 public:
  explicit ScriptedPruner(std::map<int, int> stops) : stops_(std::move(stops)) {}
  PruneDecision decide(const StudyHistory& history, int trial, int step) const override {
    const auto& t = history.trials.at(static_cast<std::size_t>(trial));
    EXPECT_TRUE(!t.intermediate.empty() && t.intermediate.back().first == step)
        << "trial " << trial << " step " << step << " not recorded first";
    const auto stop = stops_.find(trial);
    if (stop == stops_.end() || stop->second != step) return {};
    return {true, "scripted rule: trial " + std::to_string(trial) + " at step " + std::to_string(step)};
  }
  std::string name() const override { return "scripted"; }

 private:
  std::map<int, int> stops_;
};

class MasterTest : public ::testing::Test {
 protected:
  MasterTest() : space_(SearchSpace::parse(json::parse(R"({"x": {"$uniform": [0, 1]}})"), "test.json")) {
    options_.trial_root = "/nonexistent/trials";
    options_.progress = Progress::Style::None;
    options_.heartbeat_timeout_s = 0;
  }
  SearchOutcome run(ScriptedPool& pool) { return Master(storage_, sampler_, space_, pool, options_).run(); }
  const TrialRecord& trial(int number) const { return storage_.history().trials.at(static_cast<std::size_t>(number)); }

  MemoryStorage storage_{ObjectiveMode::Minimize, "value"};
  CountingSampler sampler_;
  SearchSpace space_;
  MasterOptions options_;
};

TEST_F(MasterTest, EveryTrialCompletesOnceWithItsConfiguration) {
  ScriptedPool pool(2, {{1, {steps({3.0, 2.0})}}});
  options_.trials = 4;
  const SearchOutcome outcome = run(pool);
  EXPECT_EQ(outcome.started, 4);
  EXPECT_EQ(outcome.complete, 4);
  EXPECT_EQ(outcome.advanced, 4);
  EXPECT_TRUE(pool.shut_down);
  ASSERT_EQ(storage_.history().trials.size(), 4u);
  for (int k = 0; k < 4; ++k) {
    EXPECT_EQ(trial(k).state, TrialState::Complete);
    EXPECT_EQ(pool.runs_of(k), 1);
  }
  EXPECT_EQ(trial(1).value, 2.0);
  EXPECT_EQ(trial(1).intermediate, (std::vector<std::pair<int, double>>{{1, 3.0}, {2, 2.0}}));
  EXPECT_EQ(pool.sent.at(0).config, json({{"x", 0.0}}));
  EXPECT_EQ(storage_.config(3), json({{"x", 0.03}}));
  EXPECT_EQ(pool.sent.at(0).trial_dir, "/nonexistent/trials/" + std::to_string(pool.sent.at(0).trial));
}

TEST_F(MasterTest, FailedTrialIsRetriedThenRecordedFailWithItsAttempts) {
  // One worker: each retry runs next, before any new trial.
  ScriptedPool pool(1, {{0, {fails("boom 1"), fails("boom 2"), fails("boom 3")}}, {1, {fails("flaky"), steps({0.5})}}});
  options_.trials = 2;
  options_.retries_failed = 2;
  const SearchOutcome outcome = run(pool);
  std::vector<int> order;
  for (const auto& s : pool.sent) order.push_back(s.trial);
  EXPECT_EQ(order, (std::vector<int>{0, 0, 0, 1, 1}));
  EXPECT_EQ(outcome.retried, 3);
  EXPECT_EQ(outcome.failed, 1);
  EXPECT_EQ(outcome.complete, 1);
  EXPECT_EQ(trial(0).state, TrialState::Fail);
  EXPECT_EQ(trial(0).error, "boom 3 (failed 3 times; earlier attempts in summarize --format json)");
  EXPECT_EQ(storage_.attempt(0), 3);
  ASSERT_EQ(storage_.attempts(0).size(), 2u);
  EXPECT_EQ(storage_.attempts(0)[0].state, "FAIL");
  EXPECT_EQ(storage_.attempts(0)[0].error, "boom 1");
  EXPECT_EQ(storage_.attempts(0)[1].error, "boom 2");
  EXPECT_EQ(trial(1).state, TrialState::Complete);
  EXPECT_EQ(storage_.attempts_ended_as(1, "FAIL"), 1);
  EXPECT_EQ(pool.sent[1].config, pool.sent[0].config);  // the same configuration each time
}

TEST_F(MasterTest, NoRetriesMeansOneFail) {
  ScriptedPool pool(1, {{0, {fails("boom")}}});
  options_.trials = 1;
  const SearchOutcome outcome = run(pool);
  EXPECT_EQ(outcome.failed, 1);
  EXPECT_EQ(outcome.retried, 0);
  EXPECT_EQ(trial(0).error, "boom");
  EXPECT_TRUE(storage_.attempts(0).empty());
}

TEST_F(MasterTest, TrialOfALostWorkerRunsAgainElsewhereWithTheSameNumberAndConfiguration) {
  Script stalls = steps({4.0, 3.0, 2.0});
  stalls.silent_after = 1;  // worker 1 goes silent for good after trial 0's first step
  ScriptedPool pool(2, {{0, {stalls, steps({5.0, 1.5})}}});
  options_.trials = 3;
  options_.heartbeat_timeout_s = 0.3;
  const SearchOutcome outcome = run(pool);
  EXPECT_EQ(outcome.lost_workers, std::vector<int>{1});
  EXPECT_EQ(outcome.silent_workers, std::vector<int>{1});  // never heard from again
  EXPECT_FALSE(outcome.out_of_workers);
  EXPECT_EQ(outcome.complete, 3);
  ASSERT_EQ(pool.runs_of(0), 2);
  const auto rerun = std::find_if(pool.sent.rbegin(), pool.sent.rend(), [](const auto& s) { return s.trial == 0; });
  EXPECT_EQ(rerun->worker, 2);
  EXPECT_EQ(rerun->config, pool.sent.at(0).config);
  for (const auto& s : pool.sent) EXPECT_TRUE(s.worker == 2 || s.trial == 0) << "the lost worker got trial " << s.trial;
  EXPECT_EQ(trial(0).state, TrialState::Complete);
  EXPECT_EQ(trial(0).value, 1.5);
  EXPECT_EQ(trial(0).intermediate, (std::vector<std::pair<int, double>>{{1, 5.0}, {2, 1.5}}));  // the lost attempt's steps went with it
  ASSERT_EQ(storage_.attempts(0).size(), 1u);
  EXPECT_EQ(storage_.attempts(0)[0].state, "LOST");
  EXPECT_EQ(storage_.attempts(0)[0].worker, 1);
  EXPECT_NE(storage_.attempts(0)[0].error.find("worker 1 sent nothing for"), std::string::npos) << storage_.attempts(0)[0].error;
  EXPECT_EQ(storage_.attempts_ended_as(0, "FAIL"), 0);  // a lost worker costs no retry
}

TEST_F(MasterTest, LostWorkerThatSpeaksAgainIsToldToStopAndItsResultDropped) {
  Script stalls = steps({4.0, 3.0});
  stalls.silent_after = 1;
  stalls.silent_for_s = 0.5;  // back after the master gave its trial to worker 2
  Script slow = steps({5.0, 4.0, 3.0, 2.0, 1.0, 0.5});
  slow.step_s = 0.1;
  ScriptedPool pool(2, {{0, {stalls, slow}}});
  options_.trials = 2;
  options_.heartbeat_timeout_s = 0.3;
  const SearchOutcome outcome = run(pool);
  EXPECT_EQ(outcome.lost_workers, std::vector<int>{1});
  EXPECT_TRUE(outcome.silent_workers.empty());  // it spoke again: it can leave with the others
  const auto late = std::find_if(pool.answers.begin(), pool.answers.end(), [](const auto& a) { return a.worker == 1 && a.step == 2; });
  ASSERT_NE(late, pool.answers.end());
  EXPECT_FALSE(late->go_on);
  EXPECT_EQ(trial(0).state, TrialState::Complete);
  EXPECT_EQ(trial(0).value, 0.5);  // worker 2's result, not the late PRUNED one
  EXPECT_EQ(outcome.pruned, 0);
}

TEST_F(MasterTest, StuckWorkerFailsItsTrialAndIsLeftOut) {
  Script hung;
  hung.hangs = true;  // heartbeats, never a step
  ScriptedPool pool(2, {{0, {hung}}});
  options_.trials = 3;
  options_.heartbeat_timeout_s = 0.3;  // heartbeats keep it from being lost: it is stuck
  options_.step_timeout_s = 0.3;
  const SearchOutcome outcome = run(pool);
  EXPECT_EQ(outcome.lost_workers, std::vector<int>{1});
  EXPECT_EQ(outcome.silent_workers, std::vector<int>{1});  // still in its trial: cannot finalize
  EXPECT_EQ(outcome.failed, 1);
  EXPECT_EQ(outcome.complete, 2);
  EXPECT_EQ(pool.runs_of(0), 1);
  EXPECT_EQ(trial(0).state, TrialState::Fail);
  EXPECT_NE(trial(0).error.find("(--step-timeout) from worker 1"), std::string::npos) << trial(0).error;
}

TEST_F(MasterTest, RunOutOfWorkersWhenTheLastOneIsStuck) {
  Script hung;
  hung.hangs = true;
  ScriptedPool pool(1, {{0, {hung}}});
  options_.trials = 2;
  options_.step_timeout_s = 0.2;
  const SearchOutcome outcome = run(pool);
  EXPECT_TRUE(outcome.out_of_workers);
  EXPECT_EQ(outcome.started, 1);
  EXPECT_EQ(storage_.history().trials.size(), 1u);  // trial 1 never started
  EXPECT_EQ(trial(0).state, TrialState::Fail);
}

TEST_F(MasterTest, StopSignalLeavesTheRunningTrialsInterrupted) {
  Script long_trial = steps(std::vector<double>(20, 1.0));
  long_trial.step_s = 0.02;
  ScriptedPool pool(2, {{0, {long_trial}}, {1, {long_trial}}});
  options_.trials = 10;
  options_.watch_signals = true;
  // The signal comes once trial 0 has reported its third step.
  options_.signal_count = [&pool] {
    return std::any_of(pool.answers.begin(), pool.answers.end(), [](const auto& a) { return a.trial == 0 && a.step == 3; }) ? 1 : 0;
  };
  options_.last_signal = [] { return SIGUSR2; };
  const SearchOutcome outcome = run(pool);
  EXPECT_EQ(outcome.stop_signal, SIGUSR2);
  EXPECT_FALSE(outcome.stopped_at_once);
  EXPECT_EQ(outcome.started, 2);  // no new trial after the signal
  EXPECT_EQ(outcome.interrupted, 2);
  EXPECT_EQ(outcome.pruned, 0);
  ASSERT_EQ(storage_.history().trials.size(), 2u);
  for (int k = 0; k < 2; ++k) {
    EXPECT_EQ(trial(k).state, TrialState::Interrupted);
    EXPECT_EQ(trial(k).error, "interrupted by SIGUSR2; it runs again on resume");
    EXPECT_FALSE(trial(k).intermediate.empty());  // kept for the rerun's pruner
  }
  // Each worker was told to stop at its next step, and none was answered "go on" after that.
  for (int worker : {1, 2}) {
    std::vector<bool> go_on;
    for (const auto& a : pool.answers) {
      if (a.worker == worker) go_on.push_back(a.go_on);
    }
    ASSERT_FALSE(go_on.empty());
    EXPECT_FALSE(go_on.back());
    EXPECT_EQ(std::count(go_on.begin(), go_on.end(), false), 1);
  }
}

TEST_F(MasterTest, SecondSignalStopsAtOnce) {
  Script hung;
  hung.hangs = true;  // would never reach a step to be told to stop
  ScriptedPool pool(1, {{0, {hung}}});
  options_.trials = 3;
  options_.watch_signals = true;
  options_.stop_timeout_s = 60;
  int polls = 0;
  options_.signal_count = [&polls] { return ++polls > 20 ? 2 : (polls > 10 ? 1 : 0); };
  options_.last_signal = [] { return SIGTERM; };
  const auto started = Clock::now();
  const SearchOutcome outcome = run(pool);
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - started).count(), 10);
  EXPECT_EQ(outcome.stop_signal, SIGTERM);
  EXPECT_TRUE(outcome.stopped_at_once);
  EXPECT_EQ(outcome.interrupted, 1);  // abandoned, INTERRUPTED since the first signal
  EXPECT_EQ(trial(0).state, TrialState::Interrupted);
  EXPECT_TRUE(pool.shut_down);
}

TEST_F(MasterTest, PrunerStopsATrialWhichEndsPrunedWithTheRulesReason) {
  const Script four_steps = steps({4.0, 3.0, 2.0, 1.0});
  ScriptedPool pool(1, {{0, {four_steps}}, {1, {four_steps}}, {2, {four_steps}}});
  const ScriptedPruner pruner(std::map<int, int>{{1, 2}});
  options_.trials = 3;
  options_.pruner = &pruner;
  const SearchOutcome outcome = run(pool);
  EXPECT_EQ(outcome.pruned, 1);
  EXPECT_EQ(outcome.complete, 2);
  EXPECT_EQ(outcome.decisions, 4 + 2 + 4);
  EXPECT_EQ(trial(1).state, TrialState::Pruned);
  EXPECT_EQ(trial(1).error, "scripted rule: trial 1 at step 2");  // not the worker's "stopped by the master"
  EXPECT_EQ(trial(1).value, 3.0);
  std::vector<bool> trial1;
  for (const auto& a : pool.answers) {
    if (a.trial == 1) trial1.push_back(a.go_on);
  }
  EXPECT_EQ(trial1, (std::vector<bool>{true, false}));
  EXPECT_EQ(trial(2).state, TrialState::Complete);
}

TEST_F(MasterTest, ResumeRunsTheDeadRunsTrialsFirstWithTheirNumbersAndParameters) {
  // What a dead run left: 0 COMPLETE, 1 RUNNING (killed) with a step, 2 WAITING (a retry to
  // come), 3 INTERRUPTED (stopped by a signal).
  storage_.start_trial(0, {0.9}, json{{"x", 0.9}}, 1);
  storage_.finish_trial(0, TrialState::Complete, 0.25, "");
  storage_.start_trial(1, {0.8}, json{{"x", 0.8}}, 2);
  storage_.record_step(1, 1, json{{"value", 7.0}});
  storage_.start_trial(2, {0.7}, json{{"x", 0.7}}, 1);
  storage_.retry_trial(2, "FAIL", "boom", "attempt 1 failed");
  storage_.start_trial(3, {0.6}, json{{"x", 0.6}}, 3);
  storage_.interrupt_trials({3}, "interrupted by SIGTERM; it runs again on resume");
  ScriptedPool pool(1, {});
  options_.trials = 5;
  const SearchOutcome outcome = run(pool);
  std::vector<int> order;
  for (const auto& s : pool.sent) order.push_back(s.trial);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4}));
  EXPECT_EQ(pool.sent[0].config, json({{"x", 0.8}}));
  EXPECT_EQ(pool.sent[1].config, json({{"x", 0.7}}));
  EXPECT_EQ(pool.sent[2].config, json({{"x", 0.6}}));
  EXPECT_EQ(pool.sent[3].config, json({{"x", 0.04}}));  // the sampler's, for the one new trial
  EXPECT_EQ(outcome.started, 4);
  EXPECT_EQ(outcome.complete, 4);
  EXPECT_EQ(outcome.advanced, 3);  // trial 1 reported step 1 again only: no step beyond its last
  for (int k = 0; k < 5; ++k) EXPECT_EQ(trial(k).state, TrialState::Complete) << "trial " << k;
  EXPECT_EQ(trial(0).value, 0.25);  // untouched
  EXPECT_EQ(storage_.attempts(1).at(0).state, "KILLED");
  EXPECT_EQ(storage_.attempts(3).at(0).state, "INTERRUPTED");
  EXPECT_EQ(storage_.attempt(2), 2);
  EXPECT_EQ(storage_.attempts(2).size(), 1u);
}

TEST_F(MasterTest, RefreshesTheLock) {
  ScriptedPool pool(1, {});
  options_.trials = 1;
  run(pool);
  EXPECT_GE(storage_.lock_refreshes(), 1);
}

}  // namespace
}  // namespace hpsearch
