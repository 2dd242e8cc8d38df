// Training throughput of the detect trainer's step (images/s), to compare with the seed's PyTorch
// loop (bench/detect_throughput.py) on the same GPU, model, batch size and data size.
//
//   detect_throughput [--batch-size 16,128] [--images 20000] [--device cuda|cpu] [--epochs 2] [--warmup 50]
//
// The model is the seed's best detector (default_detect_architecture), the step the one a trial
// runs (trainers/torch/balls/detect_loss.hpp: uint8 images on the device, float per batch, Adam, the
// seed's loss), batches taken by indexing device tensors with a device permutation, the loss
// summed on the device and read once per epoch. The images are random uint8 pixels with random
// labels made on the device: throughput does not depend on what the pixels show. After --warmup
// steps, --epochs passes over the images are timed; one JSON line per batch size on stdout.
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "trainers/core/architecture.hpp"
#include "trainers/torch/balls/detect_loss.hpp"
#include "trainers/torch/balls/detect_trainer.hpp"
#include "trainers/torch/nn/compute_device.hpp"
#include "trainers/torch/nn/model_builder.hpp"

using namespace hpsearch;

namespace {

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "detect_throughput: " << why
            << "\nusage: detect_throughput [--batch-size 16,128] [--images 20000] [--device cuda|cpu] [--epochs 2] [--warmup 50]\n";
  std::exit(2);
}

std::vector<int64_t> parse_list(const std::string& text) {
  std::vector<int64_t> out;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, ',');) {
    try {
      out.push_back(std::stoll(part));
    } catch (...) {
      usage("--batch-size " + text + ": a comma-separated list of integers");
    }
    if (out.back() < 2) usage("--batch-size values must be at least 2 (batch norm)");
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int64_t> batch_sizes = {16, 128};
  int64_t images = 20000;
  int epochs = 2, warmup = 50;
  std::string device_name;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--batch-size")
      batch_sizes = parse_list(value());
    else if (arg == "--images")
      images = std::atoll(value().c_str());
    else if (arg == "--device")
      device_name = value();
    else if (arg == "--epochs")
      epochs = std::atoi(value().c_str());
    else if (arg == "--warmup")
      warmup = std::atoi(value().c_str());
    else
      usage("unknown argument " + arg);
  }
  if (images < 2 || epochs < 1 || warmup < 0) usage("--images >= 2, --epochs >= 1, --warmup >= 0");
  const torch::Device device = device_name.empty() ? nn::compute_device() : torch::Device(device_name);
  nn::configure_backends(false);  // cuDNN autotuner on, as in a search

  torch::manual_seed(0);
  const auto options = torch::TensorOptions().device(device);
  const torch::Tensor all_images = torch::randint(0, 256, {images, 3, 100, 100}, options.dtype(torch::kUInt8));
  const torch::Tensor all_presence = torch::rand({images, 9}, options).lt(1.0 / 3).to(torch::kFloat32);
  const torch::Tensor all_boxes = torch::rand({images, 36}, options) * all_presence.repeat_interleave(4, 1);

  const nn::Architecture architecture = nn::parse_architecture(default_detect_architecture());
  for (const int64_t batch_size : batch_sizes) {
    torch::nn::Sequential model = nn::build_model(architecture, {3, 100, 100}, detect::kOutputs);
    model->to(device);
    model->train();
    torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(6.537e-4).weight_decay(6.84e-6));
    torch::Tensor loss_sum = torch::zeros({}, options.dtype(torch::kFloat32));

    auto step = [&](const torch::Tensor& index) {
      const torch::Tensor x = detect::network_input(all_images.index_select(0, index));
      optimizer.zero_grad();
      const torch::Tensor loss =
          detect::detect_loss(model->forward(x), all_presence.index_select(0, index), all_boxes.index_select(0, index), 0.1);
      loss.backward();
      optimizer.step();
      loss_sum += loss.detach();
    };
    // Warm-up: cuDNN's autotuner tries its algorithms on the first batches of each shape.
    const torch::Tensor warm_order = torch::randperm(images, options.dtype(torch::kInt64));
    for (int s = 0; s < warmup; ++s) step(warm_order.narrow(0, (s * batch_size) % std::max<int64_t>(1, images - batch_size), batch_size));
    loss_sum.item<float>();  // waits for the device

    int64_t trained = 0;
    const auto start = std::chrono::steady_clock::now();
    for (int e = 0; e < epochs; ++e) {
      const torch::Tensor order = torch::randperm(images, options.dtype(torch::kInt64));
      for (int64_t first = 0; first + batch_size <= images; first += batch_size) {
        step(order.narrow(0, first, batch_size));
        trained += batch_size;
      }
      loss_sum.item<float>();  // once per epoch, as the trainer does
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf(
        "{\"bench\": \"detect_throughput\", \"impl\": \"hpsearch C++ (LibTorch %s)\", \"device\": \"%s\", \"batch_size\": %lld, "
        "\"images\": %lld, \"epochs\": %d, \"images_per_s\": %.1f, \"seconds\": %.3f, \"loss\": %.5f}\n",
        TORCH_VERSION, device.str().c_str(), static_cast<long long>(batch_size), static_cast<long long>(images), epochs,
        static_cast<double>(trained) / seconds, seconds, loss_sum.item<float>());
    std::fflush(stdout);
  }
  return 0;
}
