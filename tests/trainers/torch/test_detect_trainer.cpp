// The detect and forecast trainers on real generated data (the make-data generator writes the
// seed's file format, the loaders read it back): a short training lowers the validation loss
// below the untrained network's, metrics are in their ranges, and settings errors name the key.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "core/errors.hpp"
#include "trainers/core/data/balls_generator.hpp"
#include "trainers/torch/registry.hpp"

using namespace hpsearch;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

class Recorder : public StepReporter {
 public:
  bool report(int step, const json& metrics) override {
    steps.push_back(step);
    reports.push_back(metrics);
    return true;
  }
  std::vector<int> steps;
  std::vector<json> reports;
};

// Removes the generated folders when the test program ends (they are shared by its tests).
struct GeneratedFolders {
  std::vector<fs::path> folders;
  ~GeneratedFolders() {
    std::error_code ignored;
    for (const auto& f : folders) fs::remove_all(f, ignored);
  }
};
GeneratedFolders generated_folders;

// A fresh folder holding `count` generated samples of `kind`, made once per test binary run.
fs::path generated(data::BallDataKind kind, int count) {
  const fs::path folder =
      fs::temp_directory_path() / ("hpsearch_test_" + std::string(kind == data::BallDataKind::Images ? "balls_" : "seq_") +
                                   std::to_string(count) + "_" + std::to_string(::getpid()));
  if (!fs::exists(folder)) {
    fs::create_directories(folder);
    generated_folders.folders.push_back(folder);
    data::generate_ball_data(kind, folder, count, /*seed=*/3);
  }
  return folder;
}

TrialContext trial_in(const fs::path& dir, json config) {
  TrialContext t;
  t.number = 0;
  t.config = std::move(config);
  t.trial_dir = dir;
  fs::remove_all(dir);
  t.objective_metric = "valid_loss";
  return t;
}

}  // namespace

TEST(DetectTrainer, ShortTrainingLowersTheValidationLoss) {
  const fs::path folder = generated(data::BallDataKind::Images, 400);
  auto trainer = make_trainer({{"type", "detect"}, {"data", folder.string()}, {"valid_fraction", 0.2}}, "t.json");
  // A small CNN (the seed's needs minutes per epoch on a CPU): stride-2 convs, max pooling.
  const json config = json::parse(R"({
    "optimizer_params": {"lr": 0.003}, "batch_size": 16, "epochs": 4, "bce_loss_scale": 0.1,
    "architecture": {"act_fn": "relu",
      "layers_param": [["conv2d", {"out_channels": 8, "kernel_size": 3, "stride": 2}], ["max_pooling", {"kernel_size": 2}],
                       ["conv2d", {"out_channels": 16, "kernel_size": 3}], ["max_pooling", {"kernel_size": 2}],
                       ["flatten", {}], ["fully_connected", {"out_features": 64}], ["fully_connected", {}]]}})");
  Recorder r;
  const fs::path dir = fs::temp_directory_path() / ("hpsearch_detect_trial_" + std::to_string(::getpid()));
  const double best = trainer->run(trial_in(dir, config), r);

  ASSERT_EQ(r.steps, (std::vector<int>{0, 1, 2, 3, 4}));
  const double untrained = r.reports[0]["valid_loss"].get<double>();
  EXPECT_LT(best, 0.8 * untrained) << "untrained " << untrained << ", best " << best;
  EXPECT_LT(r.reports[4]["train_loss"].get<double>(), r.reports[1]["train_loss"].get<double>());
  for (std::size_t i = 1; i < r.reports.size(); ++i) {
    const json& m = r.reports[i];
    EXPECT_GE(m["colour_accuracy"].get<double>(), 0.0);
    EXPECT_LE(m["colour_accuracy"].get<double>(), 1.0);
    EXPECT_GE(m["mean_iou"].get<double>(), 0.0);
    EXPECT_LE(m["mean_iou"].get<double>(), 1.0);
    EXPECT_GT(m["centre_error_px"].get<double>(), 0.0);
    EXPECT_LT(m["centre_error_px"].get<double>(), 142.0);  // the image's diagonal
  }
  // The centre error falls as the boxes are learned (the untrained net's outputs are noise).
  EXPECT_LT(r.reports[4]["centre_error_px"].get<double>(), r.reports[0]["centre_error_px"].get<double>());
  EXPECT_TRUE(fs::exists(dir / "checkpoint.pt"));
  EXPECT_TRUE(fs::exists(dir / "best.pt"));
  fs::remove_all(dir);
}

TEST(ForecastTrainer, ShortTrainingLowersTheValidationLoss) {
  const fs::path folder = generated(data::BallDataKind::Sequences, 600);
  auto trainer = make_trainer({{"type", "forecast"}, {"data", folder.string()}}, "t.json");
  const json config = json::parse(R"({"optimizer_params": {"lr": 0.001}, "batch_size": 32, "epochs": 5,
    "architecture": {"act_fn": "tanh", "dropout_prob": 0.0,
                     "layers_param": [["fully_connected", {"out_features": 128}], ["fully_connected", {"out_features": 64}], ["fully_connected", {}]]}})");
  Recorder r;
  const fs::path dir = fs::temp_directory_path() / ("hpsearch_forecast_trial_" + std::to_string(::getpid()));
  const double best = trainer->run(trial_in(dir, config), r);
  ASSERT_EQ(r.steps.size(), 6u);
  const double untrained = r.reports[0]["valid_loss"].get<double>();
  EXPECT_LT(best, 0.5 * untrained) << "untrained " << untrained << ", best " << best;
  EXPECT_LT(r.reports[5]["centre_error_px"].get<double>(), r.reports[0]["centre_error_px"].get<double>());
  EXPECT_EQ(r.reports[5]["parameters"].get<int64_t>(), (237 * 128 + 128) + (128 * 64 + 64) + (64 * 12 + 12));
  fs::remove_all(dir);
}

TEST(DetectTrainer, SettingsErrorsNameTheKey) {
  auto message = [](const json& settings) {
    try {
      make_trainer(settings, "spaces/detect.json");
    } catch (const UserError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message({{"type", "detect"}, {"data", "/no/such/folder"}}),
            "spaces/detect.json: trainer.data: '/no/such/folder': no such folder; correct the path, or, to generate a synthetic data set "
            "there, run: hpsearch make-data balls --out /no/such/folder");
  EXPECT_EQ(message({{"type", "forecast"}, {"data", "/no/such/folder"}}),
            "spaces/detect.json: trainer.data: '/no/such/folder': no such folder; correct the path, or, to generate a synthetic data "
            "set there, run: hpsearch make-data balls-seq --out /no/such/folder");
  EXPECT_EQ(message({{"type", "detect"}}).rfind("spaces/detect.json: trainer.data: is required", 0), 0u);
  const std::string tmp = fs::temp_directory_path().string();
  EXPECT_EQ(
      message({{"type", "detect"}, {"data", tmp}, {"valid_fracton", 0.2}}),
      "spaces/detect.json: trainer.valid_fracton: unknown setting of the detect trainer (it takes data, valid_fraction, split_seed and "
      "deterministic)");
  EXPECT_EQ(message({{"type", "detect"}, {"data", tmp}, {"valid_fraction", 1.5}})
                .rfind("spaces/detect.json: trainer.valid_fraction: must be a number in (0, 1)", 0),
            0u);
}

TEST(DetectTrainer, UnknownConfigurationKeyFailsTheTrial) {
  const fs::path folder = generated(data::BallDataKind::Images, 400);
  auto trainer = make_trainer({{"type", "detect"}, {"data", folder.string()}}, "t.json");
  Recorder r;
  try {
    trainer->run(trial_in(fs::temp_directory_path() / "hpsearch_detect_bad", {{"bach_size", 16}}), r);
    FAIL() << "a misspelt key was accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("bach_size: unknown setting of the detect configuration (it takes epochs, batch_size, ", 0), 0u)
        << e.what();
  }
}

// Issue #7: a trial interrupted after an epoch and run again (a new trainer, as in a new process)
// goes on from its checkpoint and ends with exactly the value of the uninterrupted trial: batch
// order, dropout masks, batch-norm statistics, Adam's moments and the schedule all carry over.
TEST(DetectTrainer, TrialResumedFromItsCheckpointEqualsTheUninterruptedOne) {
  const fs::path folder = generated(data::BallDataKind::Images, 400);
  const json settings = {{"type", "detect"}, {"data", folder.string()}, {"deterministic", true}};
  const json config = json::parse(R"({"optimizer_params": {"lr": 0.002}, "scheduler_params": {"step_size": 2, "gamma": 0.5},
    "batch_size": 32, "epochs": 4, "seed": 11,
    "architecture": {"act_fn": "relu", "dropout_prob": 0.2, "batch_norm": {"momentum": 0.1},
                     "layers_param": [["conv2d", {"out_channels": 4, "kernel_size": 3, "stride": 2}], ["max_pooling", {"kernel_size": 2}],
                                      ["conv2d", {"out_channels": 8, "kernel_size": 3, "stride": 2}], ["max_pooling", {"kernel_size": 2}],
                                      ["flatten", {}], ["fully_connected", {"out_features": 32}], ["fully_connected", {}]]}})");
  const fs::path whole_dir = fs::temp_directory_path() / ("hpsearch_resume_whole_" + std::to_string(::getpid()));
  const fs::path split_dir = fs::temp_directory_path() / ("hpsearch_resume_split_" + std::to_string(::getpid()));

  Recorder whole;
  const double uninterrupted = make_trainer(settings, "t.json")->run(trial_in(whole_dir, config), whole);

  struct StopAfter : Recorder {
    bool report(int step, const json& metrics) override {
      Recorder::report(step, metrics);
      return step < 2;  // the master stops the trial after epoch 2 (a graceful shutdown, say)
    }
  } first;
  make_trainer(settings, "t.json")->run(trial_in(split_dir, config), first);
  ASSERT_EQ(first.steps, (std::vector<int>{0, 1, 2}));

  Recorder second;
  TrialContext again;  // the same trial, its folder kept
  again.config = config;
  again.trial_dir = split_dir;
  again.objective_metric = "valid_loss";
  const double resumed = make_trainer(settings, "t.json")->run(again, second);
  ASSERT_EQ(second.steps, (std::vector<int>{0, 1, 2, 3, 4})) << "steps 0-2 replayed from the checkpoint, then 3 and 4 trained";
  EXPECT_EQ(resumed, uninterrupted);
  for (std::size_t i = 0; i < whole.reports.size(); ++i) {
    EXPECT_EQ(second.reports[i]["valid_loss"], whole.reports[i]["valid_loss"]) << "step " << i;
    EXPECT_EQ(second.reports[i].value("train_loss", json()), whole.reports[i].value("train_loss", json())) << "step " << i;
  }
  fs::remove_all(whole_dir);
  fs::remove_all(split_dir);
}
