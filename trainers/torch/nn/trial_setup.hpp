#pragma once
// What every epoch-loop trainer (classify, detect, forecast) does before its first epoch, written
// once: the trial's configuration read against the trainer's table of keys (those of the epoch
// loop, the optimizer, the schedule and the worker, declared here once with the trainer's
// defaults, then the trainer's own), the architecture parsed before any data is touched (a bad
// one fails in microseconds), and, once the data gives the shapes, the model built from the
// trial's seed on the data's device with its optimizer and learning-rate schedule.
//
// A bad value throws ConfigError("KEY: what"): the worker records the trial's FAIL, `hpsearch
// train` names the user's file.
#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/settings.hpp"
#include "trainers/core/architecture.hpp"
#include "trainers/core/trainer.hpp"
#include "trainers/torch/nn/epoch_loop.hpp"
#include "trainers/torch/nn/optimization.hpp"

namespace hpsearch::nn {

// A trainer's defaults for the keys every epoch-loop trainer reads.
struct ConfigDefaults {
  int64_t epochs = 1, batch_size = 1, eval_batch_size = 1;
  std::string architecture;  // what the default network is, for the docs: "the seed's best detector"
};

// The table of a trainer's configuration keys (named "TRAINER configuration" in messages): the
// shared keys with `defaults`, then `own`.
settings::Table config_table(const std::string& trainer, const ConfigDefaults& defaults, std::vector<settings::Setting> own = {});

// The model of one trial, ready for the epoch loop.
struct TrialModel {
  ModelCost cost;
  torch::nn::Sequential model;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  LearningRateSchedule schedule;
};

class TrialSetup {
 public:
  // Reads the configuration (unknown keys refused) and parses its architecture, or
  // `default_architecture` when it has none.
  TrialSetup(const TrialContext& trial, const settings::Table& table, const nlohmann::json& default_architecture);

  const settings::Reader& config() const { return config_; }  // for the trainer's own keys
  int64_t batch_size() const { return batch_size_; }
  int64_t eval_batch_size() const { return eval_batch_size_; }
  // epochs, seed, time_budget_s; step 0 (the untrained network) is evaluated, the baseline every
  // epoch is judged against.
  const EpochLoopSettings& loop() const { return loop_; }

  ModelCost cost(const std::vector<int64_t>& input_shape, int64_t outputs) const;
  // Seeds Torch for the initial weights, builds the model on `device`, makes its optimizer and
  // schedule. `cost` is cost(input_shape, outputs), when the trainer judged it first.
  TrialModel build(const std::vector<int64_t>& input_shape, int64_t outputs, const torch::Device& device, ModelCost cost) const;
  TrialModel build(const std::vector<int64_t>& input_shape, int64_t outputs, const torch::Device& device) const {
    return build(input_shape, outputs, device, cost(input_shape, outputs));
  }

 private:
  const TrialContext& trial_;
  settings::Reader config_;
  int64_t batch_size_ = 0, eval_batch_size_ = 0;
  EpochLoopSettings loop_;
  Architecture architecture_;
};

}  // namespace hpsearch::nn
