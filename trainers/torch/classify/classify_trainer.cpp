#include "trainers/torch/classify/classify_trainer.hpp"

#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "core/errors.hpp"
#include "trainers/core/architecture.hpp"
#include "trainers/torch/classify/augmentation.hpp"
#include "trainers/torch/data/classification.hpp"
#include "trainers/torch/nn/compute_device.hpp"
#include "trainers/torch/nn/data_parallel.hpp"
#include "trainers/torch/nn/epoch_loop.hpp"
#include "trainers/torch/nn/trial_setup.hpp"

namespace hpsearch {

using nlohmann::json;
namespace F = torch::nn::functional;

struct ClassifyDataOnDevice {
  std::vector<std::string> class_names;
  torch::Tensor train_images, train_labels, test_images, test_labels;  // uint8 {N, C, H, W}, int64 {N}, on the device
  torch::Tensor mean, std;           // float {1, C, 1, 1}: per-channel statistics of the training pixels, in 0..255 units
  std::vector<int64_t> input_shape;  // {C, H, W}
};

json default_classify_architecture() {
  auto conv = [](int out) { return json::array({"conv2d", {{"out_channels", out}, {"kernel_size", 5}, {"padding", 2}}}); };
  const json pool = json::array({"max_pooling", {{"kernel_size", 2}, {"stride", 2}}});
  return {{"act_fn", "relu"},
          {"layers_param",
           json::array({conv(32), pool, conv(64), pool, conv(64), pool, json::array({"flatten", json::object()}),
                        json::array({"fully_connected", {{"out_features", 1000}}}), json::array({"fully_connected", json::object()})})}};
}

namespace {

struct Augmentation {
  int64_t crop_padding = 0;
  bool flip = false;
};

const settings::Table& augmentation_table() {
  static const settings::Table table{
      "classify augmentation",
      {settings::null_is_default(
           settings::integer("random_crop_padding", 0, "zero padding before a random crop back to the image's size (0: no crop)", 0)),
       settings::null_is_default(settings::boolean("horizontal_flip", false, "random horizontal flips"))},
      {}};
  return table;
}

Augmentation read_augmentation(const settings::Reader& config) {
  Augmentation a;
  if (!config.has("augmentation")) return a;
  const settings::Reader aug(config.value("augmentation"), augmentation_table(), "", "augmentation");
  a.crop_padding = aug.integer("random_crop_padding");
  a.flip = aug.boolean("horizontal_flip");
  return a;
}

// One trial: the model, its optimizer and how to run an epoch over the data on the device.
class ClassifyTask : public nn::ModelTask {
 public:
  ClassifyTask(const ClassifyDataOnDevice& data, torch::nn::Sequential model, std::unique_ptr<torch::optim::Optimizer> optimizer,
               int64_t batch_size, int64_t eval_batch_size, Augmentation augmentation, bool normalize, json constant_metrics,
               nn::DataParallel parallel)
      : ModelTask(std::move(model), std::move(optimizer), parallel, batch_size, eval_batch_size, std::move(constant_metrics)),
        data_(data),
        augmentation_(augmentation),
        normalize_(normalize) {}

  json train_epoch(int /*epoch: the loop has seeded Torch for it*/) override {
    const torch::Device device = data_.train_images.device();
    const int64_t n = data_.train_images.size(0);
    // The permutation is drawn on the device from Torch's generator, which the epoch loop
    // reseeds per epoch: the same epoch of the same trial sees the same batches.
    const torch::Tensor order = torch::randperm(n, torch::TensorOptions().dtype(torch::kInt64).device(device));
    torch::Tensor loss_sum = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat32).device(device));
    torch::Tensor correct = torch::zeros({}, torch::TensorOptions().dtype(torch::kInt64).device(device));
    int64_t seen = 0;
    for (int64_t start = 0; start < n; start += batch_size_) {
      const int64_t size = std::min(batch_size_, n - start);
      // A last batch of one image per rank would break batch norm's training statistics; it is dropped.
      if (size < 2 * parallel_.size() && start > 0) break;
      const torch::Tensor index = order.narrow(0, start, size);
      // The global batch is augmented before this rank takes its rows, so that a group of ranks
      // draws the crops and flips one rank would (every rank's generator is seeded alike).
      const torch::Tensor augmented =
          classify::augment_batch(data_.train_images.index_select(0, index), augmentation_.crop_padding, augmentation_.flip);
      const torch::Tensor images = input(parallel_.shard(augmented));
      const torch::Tensor labels = parallel_.shard(data_.train_labels.index_select(0, index));
      optimizer_->zero_grad();
      const torch::Tensor logits = model_->forward(images);
      const torch::Tensor loss = F::cross_entropy(logits, labels);
      parallel_.weighted_loss(loss, labels.size(0), size).backward();
      parallel_.average_gradients();
      optimizer_->step();
      // Accumulated on the device: reading a value per batch would wait for the GPU each time.
      loss_sum += loss.detach() * static_cast<double>(labels.size(0));
      correct += logits.detach().argmax(1).eq(labels).sum();
      seen += labels.size(0);
    }
    // Summed over the group: every rank reports the whole epoch's figures.
    const torch::Tensor totals =
        parallel_
            .sum(torch::stack({loss_sum.to(torch::kFloat64), correct.to(torch::kFloat64),
                               torch::full({}, static_cast<double>(seen), loss_sum.options().dtype(torch::kFloat64))}))
            .cpu();
    const double* t = totals.data_ptr<double>();
    return {{"running_loss", t[0] / t[2]}, {"running_accuracy", t[1] / t[2]}};
  }

  json evaluate() override {
    const Pass train = pass(data_.train_images, data_.train_labels, false);
    const Pass test = pass(data_.test_images, data_.test_labels, true);
    json metrics = constant_metrics_;
    metrics["train_loss"] = train.loss;
    metrics["train_accuracy"] = train.accuracy;
    metrics["test_loss"] = test.loss;
    metrics["test_accuracy"] = test.accuracy;
    confusion_ = test.confusion;
    evaluated_ = true;
    // In every report, because any of them may be the trial's last: the schedule's end, but also
    // the time budget, early stopping, the pruner or a graceful stop end a trial sooner. Small
    // next to the rest of a row: 10 classes, 10 + 100 numbers.
    metrics["per_class_accuracy"] = per_class_accuracy();
    metrics["confusion_matrix"] = confusion_;
    return metrics;
  }

  bool evaluated() const { return evaluated_; }
  const json& confusion() const { return confusion_; }
  json per_class_accuracy() const {
    json out = json::array();
    for (const auto& row : confusion_) {
      int64_t total = 0;
      for (const auto& v : row) total += v.get<int64_t>();
      const std::size_t c = out.size();
      out.push_back(total > 0 ? static_cast<double>(row[c].get<int64_t>()) / static_cast<double>(total) : 0.0);
    }
    return out;
  }

 private:
  struct Pass {
    double loss = 0, accuracy = 0;
    json confusion;
  };

  // uint8 images to the network's float input: /255, or the training set's per-channel
  // standardisation (both folded into one subtraction and one division).
  torch::Tensor input(const torch::Tensor& images) const {
    const torch::Tensor x = images.to(torch::kFloat32);
    return normalize_ ? (x - data_.mean) / data_.std : x / 255.0;
  }

  Pass pass(const torch::Tensor& images, const torch::Tensor& labels, bool with_confusion) {
    const torch::Device device = images.device();
    const int64_t n = images.size(0), k = static_cast<int64_t>(data_.class_names.size());
    torch::Tensor loss_sum = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat64).device(device));
    torch::Tensor counts = torch::zeros({k * k}, torch::TensorOptions().dtype(torch::kInt64).device(device));
    torch::Tensor correct = torch::zeros({}, torch::TensorOptions().dtype(torch::kInt64).device(device));
    // Each rank of a trial group evaluates its contiguous part; the sums are added over the group.
    const int64_t first = n * parallel_.rank() / parallel_.size(), last = n * (parallel_.rank() + 1) / parallel_.size();
    for (int64_t start = first; start < last; start += eval_batch_size_) {
      const int64_t size = std::min(eval_batch_size_, last - start);
      const torch::Tensor y = labels.narrow(0, start, size);
      const torch::Tensor logits = model_->forward(input(images.narrow(0, start, size)));
      loss_sum += F::cross_entropy(logits, y, F::CrossEntropyFuncOptions().reduction(torch::kSum)).to(torch::kFloat64);
      const torch::Tensor predicted = logits.argmax(1);
      if (with_confusion)
        counts += torch::bincount(y * k + predicted, {}, k * k);
      else
        correct += predicted.eq(y).sum();
    }
    // One transfer to the host: the loss sum, the correct count, and the confusion counts.
    const torch::Tensor host =
        parallel_.sum(torch::cat({loss_sum.view({1}), correct.view({1}).to(torch::kFloat64), counts.to(torch::kFloat64)})).cpu();
    Pass p;
    p.loss = host[0].item<double>() / static_cast<double>(n);
    if (with_confusion) {
      const torch::Tensor matrix = host.narrow(0, 2, k * k).to(torch::kInt64).view({k, k});
      p.confusion = json::array();
      int64_t diagonal = 0;
      for (int64_t t = 0; t < k; ++t) {
        json row = json::array();
        for (int64_t q = 0; q < k; ++q) row.push_back(matrix[t][q].item<int64_t>());
        diagonal += matrix[t][t].item<int64_t>();
        p.confusion.push_back(row);
      }
      p.accuracy = static_cast<double>(diagonal) / static_cast<double>(n);
    } else {
      p.accuracy = host[1].item<double>() / static_cast<double>(n);
    }
    return p;
  }

  const ClassifyDataOnDevice& data_;
  Augmentation augmentation_;
  bool normalize_;
  bool evaluated_ = false;
  json confusion_ = json::array();
};

}  // namespace

const settings::Table& classify_settings_table() {
  namespace t = settings;
  static const settings::Table table{
      "classify trainer",
      {t::required(
           t::string("data", nullptr,
                     "a folder of CIFAR-10 binary batches or of MNIST/Fashion-MNIST IDX files (e.g. /usr/share/datasets/fashion-mnist), "
                     "recognised from its files and checked before the search starts (exit 2 naming `trainer.data`)")),
       t::integer("max_params", nullptr,
                  "a configuration whose network has more parameters never trains: the trial FAILs with `infeasible: the model has N "
                  "parameters, more than max_params = M`, and TPE avoids that region (a configuration key `max_params` overrides it)",
                  1),
       t::integer("train_subset", nullptr, "keep the first N training images (quick runs, tests; none: all)", 1),
       t::integer("test_subset", nullptr, "keep the first N test images (none: all)", 1),
       t::boolean("deterministic", false, "cuDNN deterministic algorithms (otherwise its autotuner is on)")},
      {"type"}};
  return table;
}

const settings::Table& classify_config_table() {
  namespace t = settings;
  static const settings::Table table = nn::config_table(
      "classify",
      {10, 64, 1000, "seed 003's network (conv 32/64/64 5x5 padding 2 + ReLU with 2x2 max pooling after each, fc 1000, fc to the classes)"},
      {t::object("augmentation",
                 "`random_crop_padding` (0: zero padding, then a random crop back to size) and `horizontal_flip` (false), on the device"),
       t::boolean("normalize", true, "per-channel mean and standard deviation of the training set (false: /255)"),
       t::integer("max_params", nullptr, "overrides the trainer's `max_params`", 1)});
  return table;
}

ClassifyTrainer::ClassifyTrainer(const json& settings, const std::string& file) : file_(file) {
  const settings::Reader s(settings, classify_settings_table(), file, "trainer");
  folder_ = s.string("data");
  try {
    data::find_classification_files(folder_);
  } catch (const UserError& e) {
    s.fail("data", e.what());
  }
  deterministic_ = s.boolean("deterministic");
  auto optional = [&s](const char* key) { return s.has(key) ? std::optional<long long>(s.integer(key)) : std::nullopt; };
  max_params_ = optional("max_params");
  train_subset_ = optional("train_subset");
  test_subset_ = optional("test_subset");
}

ClassifyTrainer::~ClassifyTrainer() = default;

const ClassifyDataOnDevice& ClassifyTrainer::data() {
  if (data_) return *data_;
  data::ClassificationData d = data::load_classification_data(folder_);
  auto keep = [](data::LabelledImages& set, const std::optional<long long>& subset) {
    if (subset && *subset < set.images.size(0)) {
      set.images = set.images.narrow(0, 0, *subset);
      set.labels = set.labels.narrow(0, 0, *subset);
    }
  };
  keep(d.train, train_subset_);
  keep(d.test, test_subset_);
  const torch::Device device = nn::compute_device();
  nn::configure_backends(deterministic_);
  auto out = std::make_unique<ClassifyDataOnDevice>();
  out->class_names = d.class_names;
  out->input_shape = d.train.images.sizes().slice(1).vec();
  // Per-channel statistics on the CPU copy, in double (sums over 10^8 pixels lose digits in
  // float), a chunk of images at a time so that CIFAR-10 never needs a 1.2 GB double copy.
  const int64_t channels = out->input_shape[0];
  torch::Tensor sum = torch::zeros({channels}, torch::kFloat64), squares = torch::zeros({channels}, torch::kFloat64);
  const int64_t n = d.train.images.size(0);
  for (int64_t start = 0; start < n; start += 4096) {
    const torch::Tensor x = d.train.images.narrow(0, start, std::min<int64_t>(4096, n - start)).to(torch::kFloat64);
    sum += x.sum({0, 2, 3});
    squares += (x * x).sum({0, 2, 3});
  }
  const double count = static_cast<double>(n * out->input_shape[1] * out->input_shape[2]);
  const torch::Tensor mean = sum / count;
  const torch::Tensor std = (squares / count - mean * mean).clamp_min(1e-6).sqrt();
  out->mean = mean.to(torch::kFloat32).view({1, -1, 1, 1}).to(device);
  out->std = std.to(torch::kFloat32).view({1, -1, 1, 1}).to(device);
  out->train_images = d.train.images.to(device);
  out->train_labels = d.train.labels.to(device);
  out->test_images = d.test.images.to(device);
  out->test_labels = d.test.labels.to(device);
  std::cerr << "classify: " << folder_ << " (" << d.format << "): " << out->train_images.size(0) << " training and "
            << out->test_images.size(0) << " test images of " << out->input_shape[0] << "x" << out->input_shape[1] << "x"
            << out->input_shape[2] << ", " << out->class_names.size() << " classes, on " << device << "\n";
  data_ = std::move(out);
  return *data_;
}

double ClassifyTrainer::run(const TrialContext& trial, StepReporter& reporter) {
  const nn::TrialSetup setup(trial, classify_config_table(), default_classify_architecture());
  const Augmentation augmentation = read_augmentation(setup.config());
  const bool normalize = setup.config().boolean("normalize");
  std::optional<long long> max_params = max_params_;
  if (setup.config().has("max_params")) max_params = setup.config().integer("max_params");

  // The architecture is checked (above) and its size judged before any model is built: an
  // infeasible configuration costs no training time (the data, loaded once per worker, gives the shapes).
  const ClassifyDataOnDevice& d = data();
  const auto classes = static_cast<int64_t>(d.class_names.size());
  nn::ModelCost cost = setup.cost(d.input_shape, classes);
  if (max_params && cost.parameters > *max_params) {
    throw Error("infeasible: the model has " + std::to_string(cost.parameters) +
                " parameters, more than max_params = " + std::to_string(*max_params));
  }

  nn::TrialModel m = setup.build(d.input_shape, classes, d.train_images.device(), std::move(cost));
  torch::nn::Sequential model = m.model;
  const json constant = {{"parameters", m.cost.parameters}, {"operations", m.cost.multiplications + m.cost.additions + m.cost.maximums}};
  ClassifyTask task(d, model, std::move(m.optimizer), setup.batch_size(), setup.eval_batch_size(), augmentation, normalize, constant,
                    nn::DataParallel(trial.group));

  const double best = nn::run_epoch_loop(trial, reporter, task, m.schedule, setup.loop());

  // The per-class results of the final model. A resumed trial whose epochs were all done before
  // evaluates it once here, since the loop ran none.
  if (!task.evaluated()) {
    torch::NoGradGuard no_grad;
    model->eval();
    task.evaluate();
  }
  json out = {{"class_names", d.class_names},         {"per_class_accuracy", task.per_class_accuracy()},
              {"confusion_matrix", task.confusion()}, {"rows", "true class"},
              {"columns", "predicted class"},         {"parameters", m.cost.parameters}};
  if (nn::DataParallel(trial.group).rank() == 0) {  // one writer per trial folder
    std::filesystem::create_directories(trial.trial_dir);
    std::ofstream(trial.trial_dir / "classification.json") << out.dump(1) << "\n";
  }
  return best;
}

}  // namespace hpsearch
