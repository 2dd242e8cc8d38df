#pragma once
// The epoch loop shared by the LibTorch trainers (detect, forecast, classify): checkpoints,
// resumption, seeding, the learning-rate schedule and step reports, so that each trainer only
// says how to train one epoch and how to evaluate.
//
// Per epoch e (0-based): reseed Torch from (seed, trial, e); set the schedule's rate; train;
// evaluate; save `checkpoint.pt` in the trial's folder (model, optimizer, next epoch, best value
// and the metrics history), and `best.pt` (the model) when the objective improved; report step
// e + 1 with the metrics plus "lr" and "epoch_time_s". Step 0 (evaluate_before_training) is a
// reference: it never counts as the best and never writes best.pt. Reseeding at every epoch boundary is what
// makes a trial resumed from its checkpoint the same trial that would have run uninterrupted:
// nothing random carries over from one epoch to the next but what the checkpoint holds.
//
// The folder also gets config.json, the trial's configuration (write_trial_config), as the command
// trainer's does. A trial folder holding a checkpoint.pt whose configuration equals this trial's goes on from it;
// a checkpoint of another configuration is an error (the folder belongs to someone else).
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>

#include "trainers/core/trainer.hpp"
#include "trainers/torch/nn/data_parallel.hpp"
#include "trainers/torch/nn/optimization.hpp"

namespace hpsearch::nn {

class EpochTask {
 public:
  virtual ~EpochTask() = default;
  virtual torch::nn::Module& model() = 0;
  virtual torch::optim::Optimizer& optimizer() = 0;
  // Trains one pass over the training data (model in train mode); returns metrics such as
  // {"train_loss": ...}.
  virtual nlohmann::json train_epoch(int epoch) = 0;
  // Evaluates (model in eval mode, no grad); returns metrics that include the objective.
  virtual nlohmann::json evaluate() = 0;
};

// What every LibTorch trainer's task holds besides its data: the model and optimizer the loop
// checkpoints, the trial's group, the batch sizes and the metrics reported with every evaluation
// (such as the parameter count).
class ModelTask : public EpochTask {
 public:
  torch::nn::Module& model() override { return *model_; }
  torch::optim::Optimizer& optimizer() override { return *optimizer_; }

 protected:
  ModelTask(torch::nn::Sequential model, std::unique_ptr<torch::optim::Optimizer> optimizer, DataParallel parallel, int64_t batch_size,
            int64_t eval_batch_size, nlohmann::json constant_metrics)
      : parallel_(parallel),
        model_(std::move(model)),
        optimizer_(std::move(optimizer)),
        batch_size_(batch_size),
        eval_batch_size_(eval_batch_size),
        constant_metrics_(std::move(constant_metrics)) {
    parallel_.attach(*model_);  // gradients averaged over the group from the first backward()
  }

  // One epoch of mini-batch training over `n` samples in an order drawn on `device` from Torch's
  // generator (which the epoch loop reseeds per epoch: an epoch of a resumed trial sees the
  // batches the uninterrupted one saw). `batch_loss(index)` returns the loss of this rank's rows
  // `index` of the global batch. Returns {"train_loss": the epoch's mean over the group}. The loss
  // is summed on the device: reading it per batch would wait for the GPU at every step. A
  // template, so that the call per batch is inlined (the detect and forecast training steps).
  template <typename BatchLoss>
  nlohmann::json train_shuffled_epoch(int64_t n, torch::Device device, BatchLoss&& batch_loss) {
    const torch::Tensor order = torch::randperm(n, torch::TensorOptions().dtype(torch::kInt64).device(device));
    torch::Tensor loss_sum = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat32).device(device));
    int64_t seen = 0;
    for (int64_t start = 0; start < n; start += batch_size_) {
      const int64_t size = std::min(batch_size_, n - start);
      // A last batch of one sample has no batch statistics for batch norm; it is left out.
      if (size < 2 * parallel_.size() && start > 0) break;
      // This rank's rows of the global batch (all of it when the trial has one rank).
      const torch::Tensor index = parallel_.shard(order.narrow(0, start, size));
      optimizer_->zero_grad();
      const torch::Tensor loss = batch_loss(index);
      parallel_.weighted_loss(loss, index.size(0), size).backward();
      parallel_.average_gradients();
      optimizer_->step();
      loss_sum += loss.detach() * static_cast<double>(index.size(0));
      seen += index.size(0);
    }
    // Summed over the group: every rank reports the loss of the whole epoch.
    const torch::Tensor totals =
        parallel_
            .sum(torch::stack(
                {loss_sum.to(torch::kFloat64), torch::full({}, static_cast<double>(seen), loss_sum.options().dtype(torch::kFloat64))}))
            .cpu();
    return {{"train_loss", totals[0].item<double>() / totals[1].item<double>()}};
  }

  DataParallel parallel_;  // the trial's group (--gpus-per-trial); alone: every call a no-op
  torch::nn::Sequential model_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  int64_t batch_size_, eval_batch_size_;  // global training batch; evaluation batch per rank
  nlohmann::json constant_metrics_;
};

struct EpochLoopSettings {
  int epochs = 1;
  uint64_t seed = 0;                      // the configuration's "seed" (default 0)
  bool evaluate_before_training = false;  // report step 0: metrics of the untrained model
  // Stops before an epoch that would not fit in this many seconds (0: no limit), judged from the
  // longest epoch so far; the metrics say how many epochs ran.
  double time_budget_s = 0;
};

// Seeds Torch (CPU and CUDA) for trial `trial` at epoch `epoch` (-1: before training, for the
// initial weights). Deterministic in its arguments.
void seed_torch(uint64_t seed, int trial, int epoch);

// Runs the epochs, resuming from the trial folder's checkpoint if there is one. Returns the best
// objective value over the trained epochs (the one best.pt holds; NaN when stopped before any). Throws UserError when the
// objective is missing from the metrics (the space names a metric the trainer does not report), Error
// when it is not finite.
double run_epoch_loop(const TrialContext& trial, StepReporter& reporter, EpochTask& task, const LearningRateSchedule& schedule,
                      const EpochLoopSettings& settings);

}  // namespace hpsearch::nn
