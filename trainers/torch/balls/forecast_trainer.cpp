#include "trainers/torch/balls/forecast_trainer.hpp"

#include <torch/torch.h>

#include <cstdio>
#include <iostream>

#include "core/errors.hpp"
#include "trainers/core/architecture.hpp"
#include "trainers/torch/balls/ball_common.hpp"
#include "trainers/torch/data/balls.hpp"
#include "trainers/torch/nn/data_parallel.hpp"
#include "trainers/torch/nn/epoch_loop.hpp"
#include "trainers/torch/nn/trial_setup.hpp"

namespace hpsearch {

using nlohmann::json;
namespace F = torch::nn::functional;

constexpr int64_t kInputFrames = 19;
constexpr int64_t kInputs = 9 + kInputFrames * 3 * 4;  // 237
constexpr int64_t kOutputs = 3 * 4;                    // 12

struct ForecastDataOnDevice {
  // On the compute device, float: inputs {N, 237}, targets {N, 12} (scaled boxes).
  torch::Tensor train_inputs, train_targets, valid_inputs, valid_targets;
  torch::Tensor box_scale;  // {1, 1, 4}
};

json default_forecast_architecture() {
  auto fc = [](int out) { return json::array({"fully_connected", {{"out_features", out}}}); };
  return {{"act_fn", "tanh"},
          {"dropout_prob", 0.44996724122672166},
          {"layers_param", json::array({fc(512), fc(256), fc(128), fc(128), json::array({"fully_connected", json::object()})})}};
}

namespace {

class ForecastTask : public nn::ModelTask {
 public:
  ForecastTask(const ForecastDataOnDevice& data, torch::nn::Sequential model, std::unique_ptr<torch::optim::Optimizer> optimizer,
               int64_t batch_size, int64_t eval_batch_size, json constant_metrics, nn::DataParallel parallel)
      : ModelTask(std::move(model), std::move(optimizer), parallel, batch_size, eval_batch_size, std::move(constant_metrics)),
        data_(data) {}

  json train_epoch(int) override {
    return train_shuffled_epoch(data_.train_inputs.size(0), data_.train_inputs.device(), [this](const torch::Tensor& index) {
      return F::mse_loss(model_->forward(data_.train_inputs.index_select(0, index)), data_.train_targets.index_select(0, index));
    });
  }

  json evaluate() override {
    const torch::Device device = data_.valid_inputs.device();
    const int64_t n = data_.valid_inputs.size(0);
    torch::Tensor sums = torch::zeros({2}, torch::TensorOptions().dtype(torch::kFloat64).device(device));  // loss * size, centre errors
    // Each rank of the group evaluates its contiguous part; the sums are added over the group.
    const int64_t first = n * parallel_.rank() / parallel_.size(), last = n * (parallel_.rank() + 1) / parallel_.size();
    for (int64_t start = first; start < last; start += eval_batch_size_) {
      const int64_t size = std::min(eval_batch_size_, last - start);
      const torch::Tensor target = data_.valid_targets.narrow(0, start, size);
      const torch::Tensor output = model_->forward(data_.valid_inputs.narrow(0, start, size));
      const torch::Tensor loss = F::mse_loss(output, target);
      const torch::Tensor p = output.view({size, 3, 4}) * data_.box_scale, t = target.view({size, 3, 4}) * data_.box_scale;
      const torch::Tensor dx = (p.select(2, 0) + p.select(2, 2) - t.select(2, 0) - t.select(2, 2)) * 0.5;
      const torch::Tensor dy = (p.select(2, 1) + p.select(2, 3) - t.select(2, 1) - t.select(2, 3)) * 0.5;
      sums += torch::stack({loss.to(torch::kFloat64) * static_cast<double>(size), (dx * dx + dy * dy).sqrt().sum().to(torch::kFloat64)});
    }
    const torch::Tensor host = parallel_.sum(sums).cpu();
    json metrics = constant_metrics_;
    metrics["valid_loss"] = host[0].item<double>() / static_cast<double>(n);
    metrics["centre_error_px"] = host[1].item<double>() / static_cast<double>(3 * n);
    return metrics;
  }

 private:
  const ForecastDataOnDevice& data_;
};

}  // namespace

const settings::Table& forecast_settings_table() {
  static const settings::Table table = balls::ball_trainer_table("forecast");
  return table;
}

const settings::Table& forecast_config_table() {
  static const settings::Table table =
      nn::config_table("forecast", {90, 16, 1024, "the seed's best forecaster (tanh, dropout 0.45, 512-256-128-128)"});
  return table;
}

ForecastTrainer::ForecastTrainer(const json& settings, const std::string& file)
    : settings_(balls::read_ball_trainer_settings(settings, file, forecast_settings_table(), "balls-seq")) {}

ForecastTrainer::~ForecastTrainer() = default;

const ForecastDataOnDevice& ForecastTrainer::data() {
  if (data_) return *data_;
  const data::BallSequences d = data::load_ball_sequences(settings_.data);
  const int64_t n = d.presence.size(0);
  const torch::Tensor counts = d.presence.gt(0.5).sum(1);
  if (!counts.eq(3).all().item<bool>()) {
    const int64_t bad = counts.ne(3).nonzero().index({0, 0}).item<int64_t>();
    char name[32];
    std::snprintf(name, sizeof name, "p_%05lld.npy", static_cast<long long>(bad));
    throw UserError(settings_.data.string() + "/" + name + ": " + std::to_string(counts[bad].item<int64_t>()) +
                    " present balls; the forecast trainer needs exactly 3 per sequence");
  }
  // The rows of the 3 present colours, in colour order, gathered from every frame.
  const torch::Tensor rows = std::get<0>(std::get<1>(d.presence.topk(3, 1)).sort(1));  // {N, 3}
  const torch::Tensor scale = balls::box_scale().view({1, 1, 1, 4});
  const torch::Tensor present = d.boxes.gather(2, rows.view({n, 1, 3, 1}).expand({n, 20, 3, 4})) / scale;  // {N, 20, 3, 4}
  const torch::Tensor inputs = torch::cat({d.presence, present.narrow(1, 0, kInputFrames).reshape({n, kInputFrames * 12})}, 1);
  const torch::Tensor targets = present.select(1, kInputFrames).reshape({n, kOutputs});

  const balls::DeviceSplit split = balls::split_to_device(settings_, {inputs, targets});
  auto out = std::make_unique<ForecastDataOnDevice>();
  out->train_inputs = split.train[0], out->train_targets = split.train[1];
  out->valid_inputs = split.valid[0], out->valid_targets = split.valid[1];
  out->box_scale = split.box_scale;
  std::cerr << "forecast: " << settings_.data.string() << ": " << out->train_inputs.size(0) << " training and " << out->valid_inputs.size(0)
            << " validation sequences on " << split.device << "\n";
  data_ = std::move(out);
  return *data_;
}

double ForecastTrainer::run(const TrialContext& trial, StepReporter& reporter) {
  // The configuration and the architecture are checked before the data is touched.
  const nn::TrialSetup setup(trial, forecast_config_table(), default_forecast_architecture());
  const ForecastDataOnDevice& d = data();
  nn::TrialModel m = setup.build({kInputs}, kOutputs, d.train_inputs.device());
  ForecastTask task(d, m.model, std::move(m.optimizer), setup.batch_size(), setup.eval_batch_size(), {{"parameters", m.cost.parameters}},
                    nn::DataParallel(trial.group));
  return nn::run_epoch_loop(trial, reporter, task, m.schedule, setup.loop());
}

}  // namespace hpsearch
