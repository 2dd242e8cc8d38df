#pragma once
// Optimizer and learning-rate schedule of a trial, read from the resolved configuration with the
// seed's key names.
//
//   "optimizer": "adam" (default) | "adamw" | "sgd"
//   "optimizer_params": {"lr": 1e-3, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0,
//                        "amsgrad": false, "momentum": 0, "nesterov": false}   (keys of the chosen optimizer)
//   "scheduler": "step" (default) | "exponential" | "plateaus" | "phases" | "none"
//   "scheduler_params": step: {"step_size": 40, "gamma": 0.3}; exponential: {"gamma": 0.95};
//                       plateaus: {"rates": [0.01, 0.001, 0.0001], "fractions": [0.5, 0.25, 0.25]};
//                       phases: {"phases": [[0.1, 5], [0.01, 3]]} (learning rate, epochs)
//
// A schedule is a pure function of the epoch, so that a checkpoint only needs the epoch to
// restore it, and a resumed trial gets the rates the uninterrupted one would have had.
#include <torch/torch.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

namespace hpsearch::nn {

// Throws ConfigError naming the configuration key ("optimizer_params.lr: ...").
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const nlohmann::json& config, std::vector<torch::Tensor> parameters);

class LearningRateSchedule {
 public:
  // `total_epochs` sizes the plateaus. Throws ConfigError naming the key.
  LearningRateSchedule(const nlohmann::json& config, int total_epochs);
  double rate(int epoch) const;                                     // the learning rate of epoch `epoch` (0-based)
  void apply(torch::optim::Optimizer& optimizer, int epoch) const;  // sets every param group's lr

 private:
  std::string kind_;
  double base_lr_ = 1e-3, gamma_ = 1.0;
  int step_size_ = 0;
  std::vector<std::pair<double, int>> phases_;  // (rate, last epoch + 1) for plateaus and phases
};

}  // namespace hpsearch::nn
