#include "trainers/torch/balls/detect_trainer.hpp"

#include <torch/torch.h>

#include <iostream>

#include "trainers/core/architecture.hpp"
#include "trainers/torch/balls/ball_common.hpp"
#include "trainers/torch/balls/detect_loss.hpp"
#include "trainers/torch/data/balls.hpp"
#include "trainers/torch/nn/data_parallel.hpp"
#include "trainers/torch/nn/epoch_loop.hpp"
#include "trainers/torch/nn/trial_setup.hpp"

namespace hpsearch {

using nlohmann::json;

struct DetectDataOnDevice {
  // On the compute device. images: uint8 {N, 3, 100, 100}; presence: float {N, 9};
  // boxes: float {N, 36} divided by kBoxScale (the network's targets).
  torch::Tensor train_images, train_presence, train_boxes;
  torch::Tensor valid_images, valid_presence, valid_boxes;
  torch::Tensor box_scale;           // float {1, 1, 4} on the device: kBoxScale, to turn outputs back into pixels
  std::vector<int64_t> input_shape;  // {3, H, W}
};

json default_detect_architecture() {
  auto conv = [](int out, int kernel, int padding) {
    return json::array({"conv2d", {{"out_channels", out}, {"kernel_size", {kernel, kernel}}, {"padding", padding}}});
  };
  const json pool = json::array({"avg_pooling", {{"kernel_size", {2, 2}}, {"stride", {2, 2}}}});
  return {{"act_fn", "relu"},
          {"batch_norm", {{"eps", 1e-5}, {"momentum", 0.07359778246238029}, {"affine", true}}},
          {"dropout_prob", 0.0},
          {"layers_param", json::array({conv(4, 3, 0), conv(4, 3, 0), conv(4, 3, 0), pool, conv(16, 5, 0), conv(16, 5, 0), pool,
                                        conv(32, 5, 2), conv(32, 7, 3), pool, conv(64, 5, 2), json::array({"flatten", json::object()}),
                                        json::array({"fully_connected", json::object()})})}};
}

namespace {

class DetectTask : public nn::ModelTask {
 public:
  DetectTask(const DetectDataOnDevice& data, torch::nn::Sequential model, std::unique_ptr<torch::optim::Optimizer> optimizer,
             int64_t batch_size, int64_t eval_batch_size, double bce_loss_scale, json constant_metrics, nn::DataParallel parallel)
      : ModelTask(std::move(model), std::move(optimizer), parallel, batch_size, eval_batch_size, std::move(constant_metrics)),
        data_(data),
        bce_loss_scale_(bce_loss_scale) {}

  json train_epoch(int) override {
    return train_shuffled_epoch(data_.train_images.size(0), data_.train_images.device(), [this](const torch::Tensor& index) {
      const torch::Tensor x = detect::network_input(data_.train_images.index_select(0, index));
      return detect::detect_loss(model_->forward(x), data_.train_presence.index_select(0, index), data_.train_boxes.index_select(0, index),
                                 bce_loss_scale_);
    });
  }

  json evaluate() override {
    const torch::Device device = data_.valid_images.device();
    const int64_t n = data_.valid_images.size(0);
    // Sums of: loss * batch size, exactly right colour sets, IoU of present balls, centre error
    // of present balls, present balls. One copy to the host at the end.
    torch::Tensor sums = torch::zeros({5}, torch::TensorOptions().dtype(torch::kFloat64).device(device));
    // Each rank of the group evaluates its contiguous part; the sums are added over the group.
    const int64_t first = n * parallel_.rank() / parallel_.size(), last = n * (parallel_.rank() + 1) / parallel_.size();
    for (int64_t start = first; start < last; start += eval_batch_size_) {
      const int64_t size = std::min(eval_batch_size_, last - start);
      const torch::Tensor presence = data_.valid_presence.narrow(0, start, size);
      const torch::Tensor boxes = data_.valid_boxes.narrow(0, start, size);
      const torch::Tensor output = model_->forward(detect::network_input(data_.valid_images.narrow(0, start, size)));
      const torch::Tensor loss = detect::detect_loss(output, presence, boxes, bce_loss_scale_);

      // Colours: the 3 largest logits must be the 3 present colours.
      const torch::Tensor top3 = std::get<1>(output.narrow(1, 0, detect::kColours).topk(3, 1));
      const torch::Tensor chosen = torch::zeros_like(presence).scatter_(1, top3, 1.0);
      const torch::Tensor right = chosen.eq(presence).all(1);

      // Boxes in pixels, {B, 9, 4}; only the present balls count.
      const torch::Tensor p = (output.narrow(1, detect::kColours, detect::kColours * 4).view({size, 9, 4}) * data_.box_scale);
      const torch::Tensor t = boxes.view({size, 9, 4}) * data_.box_scale;
      const torch::Tensor iw = (torch::min(p.select(2, 2), t.select(2, 2)) - torch::max(p.select(2, 0), t.select(2, 0))).clamp_min(0);
      const torch::Tensor ih = (torch::min(p.select(2, 3), t.select(2, 3)) - torch::max(p.select(2, 1), t.select(2, 1))).clamp_min(0);
      const torch::Tensor inter = iw * ih;
      auto area = [](const torch::Tensor& b) {
        return ((b.select(2, 2) - b.select(2, 0)).clamp_min(0) * (b.select(2, 3) - b.select(2, 1)).clamp_min(0));
      };
      const torch::Tensor uni = area(p) + area(t) - inter;
      const torch::Tensor iou = torch::where(uni > 0, inter / uni.clamp_min(1e-9), torch::zeros_like(uni));
      const torch::Tensor dx = (p.select(2, 0) + p.select(2, 2) - t.select(2, 0) - t.select(2, 2)) * 0.5;
      const torch::Tensor dy = (p.select(2, 1) + p.select(2, 3) - t.select(2, 1) - t.select(2, 3)) * 0.5;
      const torch::Tensor centre = (dx * dx + dy * dy).sqrt();

      sums += torch::stack({loss.to(torch::kFloat64) * static_cast<double>(size), right.sum().to(torch::kFloat64),
                            (iou * presence).sum().to(torch::kFloat64), (centre * presence).sum().to(torch::kFloat64),
                            presence.sum().to(torch::kFloat64)});
    }
    const torch::Tensor host = parallel_.sum(sums).cpu();
    const double* s = host.data_ptr<double>();
    json metrics = constant_metrics_;
    metrics["valid_loss"] = s[0] / static_cast<double>(n);
    metrics["colour_accuracy"] = s[1] / static_cast<double>(n);
    metrics["mean_iou"] = s[4] > 0 ? s[2] / s[4] : 0.0;
    metrics["centre_error_px"] = s[4] > 0 ? s[3] / s[4] : 0.0;
    return metrics;
  }

 private:
  const DetectDataOnDevice& data_;
  double bce_loss_scale_;
};

}  // namespace

const settings::Table& detect_settings_table() {
  static const settings::Table table = balls::ball_trainer_table("detect");
  return table;
}

const settings::Table& detect_config_table() {
  static const settings::Table table = nn::config_table(
      "detect", {90, 16, 1024, "the seed's best detector"},
      {settings::number("bce_loss_scale", 0.1, "weight of the colours' BCE-with-logits against the boxes' MSE in the loss", 0)});
  return table;
}

DetectTrainer::DetectTrainer(const json& settings, const std::string& file)
    : settings_(balls::read_ball_trainer_settings(settings, file, detect_settings_table(), "balls")) {}

DetectTrainer::~DetectTrainer() = default;

const DetectDataOnDevice& DetectTrainer::data() {
  if (data_) return *data_;
  const data::BallImages d = data::load_ball_images(settings_.data);
  const int64_t n = d.images.size(0);
  const torch::Tensor boxes = (d.boxes / balls::box_scale().view({1, 1, 4})).reshape({n, 36});
  const balls::DeviceSplit split = balls::split_to_device(settings_, {d.images, d.presence, boxes});
  auto out = std::make_unique<DetectDataOnDevice>();
  out->input_shape = d.images.sizes().slice(1).vec();
  out->train_images = split.train[0], out->train_presence = split.train[1], out->train_boxes = split.train[2];
  out->valid_images = split.valid[0], out->valid_presence = split.valid[1], out->valid_boxes = split.valid[2];
  out->box_scale = split.box_scale;
  std::cerr << "detect: " << settings_.data.string() << ": " << out->train_images.size(0) << " training and " << out->valid_images.size(0)
            << " validation images of " << out->input_shape[0] << "x" << out->input_shape[1] << "x" << out->input_shape[2] << " on "
            << split.device << "\n";
  data_ = std::move(out);
  return *data_;
}

double DetectTrainer::run(const TrialContext& trial, StepReporter& reporter) {
  // The configuration and the architecture are checked before the data is touched.
  const nn::TrialSetup setup(trial, detect_config_table(), default_detect_architecture());
  const double bce_loss_scale = setup.config().number("bce_loss_scale");
  const DetectDataOnDevice& d = data();
  nn::TrialModel m = setup.build(d.input_shape, detect::kOutputs, d.train_images.device());
  DetectTask task(d, m.model, std::move(m.optimizer), setup.batch_size(), setup.eval_batch_size(), bce_loss_scale,
                  {{"parameters", m.cost.parameters}}, nn::DataParallel(trial.group));
  return nn::run_epoch_loop(trial, reporter, task, m.schedule, setup.loop());
}

}  // namespace hpsearch
