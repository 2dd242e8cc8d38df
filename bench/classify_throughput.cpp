// Training throughput of the classify trainer's loop on seed 003's network, in images per second,
// for comparison with the same network and loop in PyTorch (bench/classify_throughput.py): run both
// on the same machine and device, with the same arguments, and compare the "images_per_s" fields.
//
//   classify_throughput [--batch-size 128] [--images 10000] [--device auto|cpu|cuda] [--epochs 3]
//                       [--warmup-steps 20] [--data synthetic | FOLDER] [--augment]
//
// The loop is the trainer's (trainers/torch/classify/classify_trainer.cpp): uint8 images on the device,
// a device-side permutation per epoch, index_select of each batch, float conversion and
// per-channel normalisation, forward, cross-entropy, backward, SGD step with momentum 0.9, loss
// and accuracy accumulated on the device and read once per epoch. --data synthetic (the default)
// draws CIFAR-sized 3x32x32 images and labels from a fixed seed; a folder loads CIFAR-10 or
// Fashion-MNIST (its first --images training images). Timed: --epochs passes over the images
// after --warmup-steps batches (cuDNN autotuning, allocator warm-up). Prints one JSON line.
#include <torch/torch.h>
#include <torch/version.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "trainers/core/architecture.hpp"
#include "trainers/torch/classify/augmentation.hpp"
#include "trainers/torch/classify/classify_trainer.hpp"
#include "trainers/torch/data/classification.hpp"
#include "trainers/torch/nn/compute_device.hpp"
#include "trainers/torch/nn/model_builder.hpp"
#include "trainers/torch/nn/optimization.hpp"

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "classify_throughput: " << why
            << "\nusage: classify_throughput [--batch-size 128] [--images 10000] [--device auto|cpu|cuda] [--epochs 3] [--warmup-steps 20] "
               "[--data synthetic|FOLDER] [--augment]\n";
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  int64_t batch_size = 128, images = 10000, epochs = 3, warmup = 20;
  std::string device_name = "auto", data = "synthetic";
  bool augment = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(a + " needs a value");
      return argv[++i];
    };
    try {
      if (a == "--batch-size")
        batch_size = std::stoll(value());
      else if (a == "--images")
        images = std::stoll(value());
      else if (a == "--epochs")
        epochs = std::stoll(value());
      else if (a == "--warmup-steps")
        warmup = std::stoll(value());
      else if (a == "--device")
        device_name = value();
      else if (a == "--data")
        data = value();
      else if (a == "--augment")
        augment = true;
      else
        usage("unknown argument " + a);
    } catch (const std::logic_error&) {
      usage(a + ": not a number");
    }
  }
  if (batch_size < 2 || images < batch_size || epochs < 1 || warmup < 0) usage("need batch size >= 2, images >= batch size, epochs >= 1");
  if (device_name != "auto" && device_name != "cpu" && device_name != "cuda") usage("--device auto, cpu or cuda");
  if (device_name == "cuda" && !torch::cuda::is_available()) usage("--device cuda: no CUDA device");
  const torch::Device device = device_name == "cpu" ? torch::Device(torch::kCPU) : hpsearch::nn::compute_device();
  hpsearch::nn::configure_backends(false);  // the trainer's default: cuDNN autotuner on

  // The data set, on the device as uint8, as the trainer keeps it.
  torch::manual_seed(0);
  torch::Tensor x, y;
  if (data == "synthetic") {
    x = torch::randint(0, 256, {images, 3, 32, 32}, torch::kInt64).to(torch::kUInt8);
    y = torch::randint(0, 10, {images}, torch::kInt64);
  } else {
    const auto d = hpsearch::data::load_classification_data(data);
    images = std::min<int64_t>(images, d.train.images.size(0));
    x = d.train.images.narrow(0, 0, images).contiguous();
    y = d.train.labels.narrow(0, 0, images).contiguous();
  }
  const std::vector<int64_t> input_shape = x.sizes().slice(1).vec();
  // Per-channel statistics of (at most) the first 10,000 images: their values do not change the
  // throughput, and a double copy of a whole large set would.
  const torch::Tensor xf = x.narrow(0, 0, std::min<int64_t>(images, 10000)).to(torch::kFloat64);
  const torch::Tensor m = xf.mean({0, 2, 3});
  const torch::Tensor mean = m.to(torch::kFloat32).view({1, -1, 1, 1}).to(device);
  const torch::Tensor stdev = ((xf * xf).mean({0, 2, 3}) - m * m).sqrt().to(torch::kFloat32).view({1, -1, 1, 1}).to(device);
  x = x.to(device);
  y = y.to(device);

  const hpsearch::nn::Architecture architecture = hpsearch::nn::parse_architecture(hpsearch::default_classify_architecture());
  torch::nn::Sequential model = hpsearch::nn::build_model(architecture, input_shape, 10);
  model->to(device);
  model->train();
  const json config = {{"optimizer", "sgd"}, {"optimizer_params", {{"lr", 0.01}, {"momentum", 0.9}}}};
  auto optimizer = hpsearch::nn::make_optimizer(config, model->parameters());
  namespace F = torch::nn::functional;

  const torch::TensorOptions long_options = torch::TensorOptions().dtype(torch::kInt64).device(device);
  torch::Tensor loss_sum = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat32).device(device));
  torch::Tensor correct = torch::zeros({}, long_options);
  auto step = [&](const torch::Tensor& index) {
    torch::Tensor batch = x.index_select(0, index);
    if (augment) batch = hpsearch::classify::augment_batch(batch, 4, true);
    const torch::Tensor inputs = (batch.to(torch::kFloat32) - mean) / stdev;
    const torch::Tensor labels = y.index_select(0, index);
    optimizer->zero_grad();
    const torch::Tensor logits = model->forward(inputs);
    const torch::Tensor loss = F::cross_entropy(logits, labels);
    loss.backward();
    optimizer->step();
    loss_sum += loss.detach();
    correct += logits.detach().argmax(1).eq(labels).sum();
  };

  for (int64_t i = 0; i < warmup; ++i) step(torch::randint(0, images, {batch_size}, long_options));
  loss_sum.item<float>();  // waits for the warm-up to finish on the device

  const int64_t batches = images / batch_size;  // whole batches only, the same count in Python
  std::vector<double> epoch_s;
  double last_loss = 0;
  const auto start = Clock::now();
  for (int64_t e = 0; e < epochs; ++e) {
    const auto epoch_start = Clock::now();
    const torch::Tensor order = torch::randperm(images, long_options);
    loss_sum.zero_();
    for (int64_t b = 0; b < batches; ++b) step(order.narrow(0, b * batch_size, batch_size));
    last_loss = loss_sum.item<double>() / static_cast<double>(batches);  // one read per epoch: the only sync
    epoch_s.push_back(std::chrono::duration<double>(Clock::now() - epoch_start).count());
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  int64_t parameters = 0;
  for (const auto& p : model->parameters()) parameters += p.numel();

  std::cout << json{{"bench", "classify_throughput"},
                    {"impl", "libtorch-cpp"},
                    {"torch", TORCH_VERSION},
                    {"device", device.str()},
                    {"data", data},
                    {"input", input_shape},
                    {"parameters", parameters},
                    {"batch_size", batch_size},
                    {"images", images},
                    {"epochs", epochs},
                    {"augment", augment},
                    {"trained_images", epochs * batches * batch_size},
                    {"seconds", seconds},
                    {"images_per_s", static_cast<double>(epochs * batches * batch_size) / seconds},
                    {"epoch_s", epoch_s},
                    {"last_epoch_loss", last_loss}}
                   .dump()
            << std::endl;
  return 0;
}
