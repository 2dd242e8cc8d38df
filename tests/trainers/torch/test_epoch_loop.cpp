// The shared epoch loop: a trial stopped after some epochs and resumed from its checkpoint is the
// trial that would have run uninterrupted (same reports, bit for bit on the CPU), the history is
// replayed to the master, and the best value and time budget behave as documented.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/errors.hpp"
#include "trainers/torch/nn/epoch_loop.hpp"

namespace hpsearch::nn {
namespace {
using nlohmann::json;

// A small regression with dropout and shuffling, so that every source of randomness the real
// trainers have (initial weights, batch order, dropout masks) is exercised.
class RegressionTask : public EpochTask {
 public:
  explicit RegressionTask(const json& config) {
    torch::manual_seed(123);
    inputs_ = torch::randn({256, 8});
    targets_ = inputs_.matmul(torch::randn({8, 1})) + 0.1 * torch::randn({256, 1});
    seed_torch(config.value("seed", 0), 0, -1);
    model_ = torch::nn::Sequential(torch::nn::Linear(8, 16), torch::nn::ReLU(), torch::nn::Dropout(0.2), torch::nn::Linear(16, 1));
    optimizer_ = std::make_unique<torch::optim::Adam>(model_->parameters(), torch::optim::AdamOptions(1e-2));
  }
  torch::nn::Module& model() override { return *model_; }
  torch::optim::Optimizer& optimizer() override { return *optimizer_; }
  json train_epoch(int) override {
    const auto order = torch::randperm(256);
    double total = 0;
    for (int start = 0; start < 256; start += 32) {
      const auto index = order.slice(0, start, start + 32);
      optimizer_->zero_grad();
      const auto loss = torch::mse_loss(model_->forward(inputs_.index_select(0, index)), targets_.index_select(0, index));
      loss.backward();
      optimizer_->step();
      total += loss.item<double>();
    }
    return {{"train_loss", total / 8}};
  }
  json evaluate() override { return {{"valid_loss", torch::mse_loss(model_->forward(inputs_), targets_).item<double>()}}; }

 private:
  torch::Tensor inputs_, targets_;
  torch::nn::Sequential model_{nullptr};
  std::unique_ptr<torch::optim::Adam> optimizer_;
};

struct RecordingReporter : StepReporter {
  std::vector<std::pair<int, json>> reports;
  int stop_after = 1 << 30;
  bool report(int step, const json& metrics) override {
    reports.emplace_back(step, metrics);
    return step < stop_after;
  }
};

class EpochLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() / ("hpsearch_epoch_loop_" + std::to_string(::getpid()));
    std::filesystem::remove_all(root_);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  TrialContext context(const std::string& folder) const {
    return TrialContext{7, config_, root_ / folder, "valid_loss", ObjectiveMode::Minimize};
  }
  double run(const std::string& folder, RecordingReporter& reporter, EpochLoopSettings settings = {}) {
    RegressionTask task(config_);
    const LearningRateSchedule schedule(config_, settings.epochs);
    return run_epoch_loop(context(folder), reporter, task, schedule, settings);
  }
  std::filesystem::path root_;
  json config_ = {{"seed", 5}, {"optimizer_params", {{"lr", 0.01}}}, {"scheduler_params", {{"step_size", 2}, {"gamma", 0.5}}}};
};

// Metrics without the wall-clock ones, which differ between runs.
json without_times(json metrics) {
  for (const char* key : {"epoch_time_s", "train_time_s", "elapsed_s"}) metrics.erase(key);
  return metrics;
}

TEST_F(EpochLoopTest, ResumedTrialIsTheUninterruptedOne) {
  EpochLoopSettings settings;
  settings.epochs = 5;
  settings.seed = 5;
  RecordingReporter whole;
  const double best_whole = run("whole", whole, settings);
  ASSERT_EQ(whole.reports.size(), 5u);

  RecordingReporter first;
  first.stop_after = 2;  // the master stops it after epoch 2 (a graceful shutdown, say)
  run("split", first, settings);
  ASSERT_EQ(first.reports.size(), 2u);
  ASSERT_TRUE(std::filesystem::exists(root_ / "split" / "checkpoint.pt"));

  RecordingReporter second;  // a new process would build a fresh task: so does run()
  const double best_split = run("split", second, settings);
  ASSERT_EQ(second.reports.size(), 5u) << "steps 1-2 replayed, then 3-5 trained";
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(second.reports[i].first, whole.reports[i].first);
    EXPECT_EQ(without_times(second.reports[i].second), without_times(whole.reports[i].second)) << "step " << i + 1;
  }
  EXPECT_EQ(best_split, best_whole);
  EXPECT_TRUE(std::filesystem::exists(root_ / "split" / "best.pt"));
}

TEST_F(EpochLoopTest, ReturnsTheBestValueAndReportsTheSchedule) {
  EpochLoopSettings settings;
  settings.epochs = 4;
  RecordingReporter reporter;
  const double best = run("best", reporter, settings);
  double expected = 1e300;
  for (const auto& [step, metrics] : reporter.reports) expected = std::min(expected, metrics["valid_loss"].get<double>());
  EXPECT_EQ(best, expected);
  EXPECT_DOUBLE_EQ(reporter.reports[0].second["lr"].get<double>(), 0.01);
  EXPECT_DOUBLE_EQ(reporter.reports[2].second["lr"].get<double>(), 0.005);
  EXPECT_EQ(reporter.reports[3].second["epoch"].get<int>(), 4);
}

TEST_F(EpochLoopTest, EvaluatesBeforeTrainingAsStepZero) {
  EpochLoopSettings settings;
  settings.epochs = 2;
  settings.evaluate_before_training = true;
  RecordingReporter reporter;
  run("step0", reporter, settings);
  ASSERT_EQ(reporter.reports.size(), 3u);
  EXPECT_EQ(reporter.reports[0].first, 0);
  EXPECT_FALSE(reporter.reports[0].second.contains("train_loss"));
}

// An untrained model that evaluates better than any trained one, as a detect network can.
class LuckyStartTask : public RegressionTask {
 public:
  using RegressionTask::RegressionTask;
  json train_epoch(int epoch) override {
    trained_ = true;
    return RegressionTask::train_epoch(epoch);
  }
  json evaluate() override { return trained_ ? RegressionTask::evaluate() : json{{"valid_loss", 1e-12}}; }

 private:
  bool trained_ = false;
};

TEST_F(EpochLoopTest, StepZeroIsNeverTheBestNorBestPtAndTheFolderHoldsTheConfiguration) {
  EpochLoopSettings settings;
  settings.epochs = 2;
  settings.evaluate_before_training = true;
  RecordingReporter reporter;
  LuckyStartTask task(config_);
  const double best = run_epoch_loop(context("lucky"), reporter, task, LearningRateSchedule(config_, settings.epochs), settings);
  ASSERT_EQ(reporter.reports.size(), 3u);
  EXPECT_EQ(reporter.reports[0].second["valid_loss"].get<double>(), 1e-12);
  EXPECT_EQ(best, std::min(reporter.reports[1].second["valid_loss"].get<double>(), reporter.reports[2].second["valid_loss"].get<double>()));
  EXPECT_EQ(json::parse(std::ifstream(root_ / "lucky" / "config.json")), config_);

  RecordingReporter stopped;
  stopped.stop_after = 0;  // the master stops the trial at step 0: nothing trained, nothing to keep
  LuckyStartTask again(config_);
  const double none = run_epoch_loop(context("stopped"), stopped, again, LearningRateSchedule(config_, settings.epochs), settings);
  EXPECT_TRUE(std::isnan(none));
  EXPECT_FALSE(std::filesystem::exists(root_ / "stopped" / "best.pt"));
}

TEST_F(EpochLoopTest, ACheckpointOfAnotherConfigurationIsRefused) {
  EpochLoopSettings settings;
  settings.epochs = 1;
  RecordingReporter reporter;
  run("shared", reporter, settings);
  config_["optimizer_params"]["lr"] = 0.02;
  RecordingReporter other;
  EXPECT_THROW(run("shared", other, settings), UserError);
}

TEST_F(EpochLoopTest, TimeBudgetStopsBeforeAnEpochThatWouldNotFit) {
  EpochLoopSettings settings;
  settings.epochs = 1000;
  settings.time_budget_s = 1e-9;  // the first epoch runs (nothing is known yet), the second would not fit
  RecordingReporter reporter;
  run("budget", reporter, settings);
  EXPECT_EQ(reporter.reports.size(), 1u);
}

}  // namespace
}  // namespace hpsearch::nn
