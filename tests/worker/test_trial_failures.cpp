// What the worker makes of each way a trial can fail (issue 7): an exception, a NaN or infinite
// objective, CUDA out of memory in both LibTorch wordings (after which the same worker runs the
// next trial), and a stop requested while the trainer computes.
#include <c10/util/Exception.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <functional>
#include <limits>

#include "core/errors.hpp"
#include "worker/trial_runner.hpp"
#include "worker/trial_thread.hpp"

using namespace hpsearch;
using nlohmann::json;

namespace {

// A trainer whose n-th run does what the n-th behaviour says (the last one repeats).
class FakeTrainer : public Trainer {
 public:
  explicit FakeTrainer(std::vector<std::function<double(StepReporter&)>> runs) : runs_(std::move(runs)) {}
  double run(const TrialContext&, StepReporter& reporter) override {
    const auto& behaviour = runs_[std::min(calls_++, runs_.size() - 1)];
    return behaviour(reporter);
  }

 private:
  std::vector<std::function<double(StepReporter&)>> runs_;
  std::size_t calls_ = 0;
};

const StepChannel kAlwaysGoOn = [](const protocol::StepReport&) { return true; };

protocol::TrialResult run_once(Trainer& trainer, const std::atomic<bool>* cancel = nullptr) {
  return run_trial(trainer, {7, json::object(), "/tmp/unused"}, "value", kAlwaysGoOn, ObjectiveMode::Minimize, cancel);
}

}  // namespace

TEST(TrialFailures, AnExceptionIsAFailWithItsMessage) {
  FakeTrainer trainer({[](StepReporter&) -> double { throw Error("data folder /x is empty"); }});
  const auto r = run_once(trainer);
  EXPECT_EQ(r.trial, 7);
  EXPECT_EQ(r.state, TrialState::Fail);
  EXPECT_EQ(r.error, "data folder /x is empty");
  EXPECT_FALSE(r.value.has_value());
}

TEST(TrialFailures, ANonFiniteObjectiveIsAFail) {
  FakeTrainer nan({[](StepReporter&) { return std::numeric_limits<double>::quiet_NaN(); }});
  EXPECT_EQ(run_once(nan).state, TrialState::Fail);
  EXPECT_EQ(run_once(nan).error, "the objective 'value' is NaN");
  FakeTrainer inf({[](StepReporter&) { return std::numeric_limits<double>::infinity(); }});
  EXPECT_EQ(run_once(inf).error, "the objective 'value' is infinite");
}

TEST(TrialFailures, ALibTorchErrorLosesItsBacktrace) {
  FakeTrainer trainer({[](StepReporter&) -> double {
    TORCH_CHECK(false, "mat1 and mat2 shapes cannot be multiplied (4x3 and 5x6)");
    return 0;
  }});
  const auto r = run_once(trainer);
  EXPECT_EQ(r.state, TrialState::Fail);
  EXPECT_EQ(r.error, "mat1 and mat2 shapes cannot be multiplied (4x3 and 5x6)");
}

TEST(TrialFailures, CudaOutOfMemoryIsAFailAndTheSameWorkerRunsTheNextTrial) {
  // LibTorch 1.13 throws a c10::Error with this text; 2.x a c10::OutOfMemoryError (a c10::Error).
  FakeTrainer trainer({[](StepReporter&) -> double {
                         TORCH_CHECK(false, "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 15.78 GiB total capacity)");
                         return 0;
                       },
                       [](StepReporter&) -> double { throw std::runtime_error("cuDNN error: out of memory"); },
                       [](StepReporter& reporter) {
                         reporter.report(1, {{"value", 0.25}});  // the value: the reported one (objective.use)
                         return 0.25;
                       }});
  TrialThread pool(std::make_unique<FakeTrainer>(std::move(trainer)), "value");
  ASSERT_EQ(pool.receive(std::chrono::seconds(5))->kind, protocol::WorkerMessage::Kind::Ready);
  auto result_of = [&](int number) {
    pool.send_trial(0, {number, json::object(), "/tmp/unused"});
    while (true) {
      auto m = pool.receive(std::chrono::seconds(5));
      if (!m) throw std::runtime_error("no message from the worker");
      if (m->kind == protocol::WorkerMessage::Kind::Step) pool.answer_step(0, true);
      if (m->kind == protocol::WorkerMessage::Kind::Result) return m->result;
    }
  };
  const auto first = result_of(0);
  EXPECT_EQ(first.state, TrialState::Fail);
  EXPECT_EQ(first.error, "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 15.78 GiB total capacity)");
  const auto second = result_of(1);
  EXPECT_EQ(second.state, TrialState::Fail);
  EXPECT_EQ(second.error, "CUDA out of memory: cuDNN error: out of memory");
  const auto third = result_of(2);
  EXPECT_EQ(third.state, TrialState::Complete);
  EXPECT_EQ(third.value, 0.25);
}

TEST(TrialFailures, AStopRequestedWhileTheTrainerComputesEndsTheTrialWithoutAskingTheMaster) {
  std::atomic<bool> cancel{false};
  int asked = 0;
  const StepChannel counting = [&](const protocol::StepReport&) {
    ++asked;
    return true;
  };
  FakeTrainer trainer({[&](StepReporter& reporter) {
    EXPECT_FALSE(reporter.stop_requested());
    EXPECT_TRUE(reporter.report(1, {{"value", 3.0}}));
    cancel = true;  // the search ends at once while the trainer is inside step 2
    EXPECT_TRUE(reporter.stop_requested());
    EXPECT_FALSE(reporter.report(2, {{"value", 2.0}}));
    return 2.0;
  }});
  const auto r = run_trial(trainer, {1, json::object(), "/tmp/unused"}, "value", counting, ObjectiveMode::Minimize, &cancel);
  EXPECT_EQ(asked, 1);
  EXPECT_EQ(r.state, TrialState::Pruned);
}
