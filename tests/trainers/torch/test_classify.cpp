// The classify trainer and its parts: the CIFAR-10 and IDX readers on files written here with
// known labels and pixels, the data-folder recognition, the device-side augmentation, the
// seed-003 network's sizes and operation counts against hand arithmetic, the optimizer and
// learning-rate schedules, the infeasible-trial path, and a short training run on the real
// Fashion-MNIST (Debian's dataset-fashion-mnist) that must beat chance by far.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "core/errors.hpp"
#include "trainers/core/architecture.hpp"
#include "trainers/torch/classify/augmentation.hpp"
#include "trainers/torch/classify/classify_trainer.hpp"
#include "trainers/torch/data/cifar.hpp"
#include "trainers/torch/data/classification.hpp"
#include "trainers/torch/data/idx.hpp"
#include "trainers/torch/nn/model_builder.hpp"
#include "trainers/torch/nn/optimization.hpp"

namespace hpsearch {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kFashionMnist = "/usr/share/datasets/fashion-mnist";

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() / ("hpsearch_classify_" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::vector<unsigned char> idx_bytes(const std::vector<uint32_t>& sizes, const std::vector<unsigned char>& values) {
  std::vector<unsigned char> out = {0, 0, 0x08, static_cast<unsigned char>(sizes.size())};
  for (uint32_t s : sizes) {
    for (int shift : {24, 16, 8, 0}) out.push_back(static_cast<unsigned char>(s >> shift));
  }
  out.insert(out.end(), values.begin(), values.end());
  return out;
}

void write_plain(const fs::path& file, const std::vector<unsigned char>& bytes) {
  std::ofstream(file, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

void write_gzip(const fs::path& file, const std::vector<unsigned char>& bytes) {
  gzFile f = gzopen(file.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
  gzclose(f);
}

// A set of `n` images h x w whose pixel (i, y, x) is (7i + 3y + x) mod 256, labels i mod 10.
std::vector<unsigned char> pattern_pixels(int n, int h, int w) {
  std::vector<unsigned char> v;
  for (int i = 0; i < n; ++i)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) v.push_back(static_cast<unsigned char>((7 * i + 3 * y + x) % 256));
  return v;
}
std::vector<unsigned char> pattern_labels(int n) {
  std::vector<unsigned char> v;
  for (int i = 0; i < n; ++i) v.push_back(static_cast<unsigned char>(i % 10));
  return v;
}

// Writes the four MNIST-named IDX files of n_train + n_test pattern images (gzipped or not).
void write_idx_folder(const fs::path& folder, int n_train, int n_test, int h, int w, bool gz) {
  const std::string ext = gz ? ".gz" : "";
  auto write = gz ? write_gzip : write_plain;
  const auto hu = static_cast<uint32_t>(h), wu = static_cast<uint32_t>(w);
  write(folder / ("train-images-idx3-ubyte" + ext), idx_bytes({static_cast<uint32_t>(n_train), hu, wu}, pattern_pixels(n_train, h, w)));
  write(folder / ("train-labels-idx1-ubyte" + ext), idx_bytes({static_cast<uint32_t>(n_train)}, pattern_labels(n_train)));
  write(folder / ("t10k-images-idx3-ubyte" + ext), idx_bytes({static_cast<uint32_t>(n_test), hu, wu}, pattern_pixels(n_test, h, w)));
  write(folder / ("t10k-labels-idx1-ubyte" + ext), idx_bytes({static_cast<uint32_t>(n_test)}, pattern_labels(n_test)));
}

TEST(IdxReader, ReadsPlainAndGzippedFilesWithTheirValues) {
  TempDir dir;
  const auto pixels = pattern_pixels(3, 4, 5);
  write_plain(dir.path() / "plain", idx_bytes({3, 4, 5}, pixels));
  write_gzip(dir.path() / "packed.gz", idx_bytes({3, 4, 5}, pixels));
  for (const char* name : {"plain", "packed.gz"}) {
    const torch::Tensor t = data::read_idx(dir.path() / name);
    ASSERT_EQ(t.sizes().vec(), (std::vector<int64_t>{3, 4, 5})) << name;
    EXPECT_EQ(t.scalar_type(), torch::kUInt8);
    // (7i + 3y + x) mod 256 at a few places.
    EXPECT_EQ(t[0][0][0].item<int>(), 0);
    EXPECT_EQ(t[2][3][4].item<int>(), 14 + 9 + 4);
    EXPECT_EQ(t[1][2][1].item<int>(), 7 + 6 + 1);
  }
  write_gzip(dir.path() / "labels.gz", idx_bytes({4}, {9, 0, 3, 7}));
  const torch::Tensor labels = data::read_idx(dir.path() / "labels.gz");
  EXPECT_EQ(labels.sizes().vec(), (std::vector<int64_t>{4}));
  EXPECT_EQ(labels[3].item<int>(), 7);
}

TEST(IdxReader, RefusesCutFilesLongFilesAndOtherTypes) {
  TempDir dir;
  auto bytes = idx_bytes({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  write_plain(dir.path() / "short", std::vector<unsigned char>(bytes.begin(), bytes.end() - 1));
  write_plain(dir.path() / "long", [&] {
    auto b = bytes;
    b.push_back(9);
    return b;
  }());
  auto floats = bytes;
  floats[2] = 0x0D;  // IDX float
  write_plain(dir.path() / "floats", floats);
  write_plain(dir.path() / "text", {'h', 'e', 'l', 'l', 'o', '\n'});
  auto message = [&](const char* name) {
    try {
      data::read_idx(dir.path() / name);
    } catch (const UserError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("short").find("shorter than its IDX header"), std::string::npos) << message("short");
  EXPECT_NE(message("long").find("longer than its IDX header"), std::string::npos) << message("long");
  EXPECT_NE(message("floats").find("0x0d is not unsigned bytes"), std::string::npos) << message("floats");
  EXPECT_NE(message("text").find("not an IDX file"), std::string::npos) << message("text");
  EXPECT_NE(message("missing").find("missing: no such file"), std::string::npos) << message("missing");
}

// One CIFAR-10 record: label, then the red, green and blue planes; pixel (c, y, x) = c*100 + y + x.
std::vector<unsigned char> cifar_record(unsigned char label, int shift) {
  std::vector<unsigned char> r = {label};
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 32; ++x) r.push_back(static_cast<unsigned char>((c * 100 + y + x + shift) % 256));
  return r;
}

TEST(CifarReader, ReadsLabelsAndChannelPlanesInOrder) {
  TempDir dir;
  auto a = cifar_record(3, 0), b = cifar_record(9, 1), c = cifar_record(0, 2);
  std::vector<unsigned char> first = a;
  first.insert(first.end(), b.begin(), b.end());
  write_plain(dir.path() / "data_batch_1.bin", first);
  write_plain(dir.path() / "data_batch_2.bin", c);
  const auto set = data::read_cifar10({dir.path() / "data_batch_1.bin", dir.path() / "data_batch_2.bin"});
  ASSERT_EQ(set.images.sizes().vec(), (std::vector<int64_t>{3, 3, 32, 32}));
  EXPECT_EQ(set.labels.scalar_type(), torch::kInt64);
  EXPECT_EQ(set.labels[0].item<int64_t>(), 3);
  EXPECT_EQ(set.labels[1].item<int64_t>(), 9);
  EXPECT_EQ(set.labels[2].item<int64_t>(), 0);
  EXPECT_EQ(set.images[0][0][0][0].item<int>(), 0);
  EXPECT_EQ(set.images[0][1][0][0].item<int>(), 100);                 // green plane starts after 1,024 red bytes
  EXPECT_EQ(set.images[0][2][31][30].item<int>(), (200 + 61) % 256);  // blue, row 31, column 30
  EXPECT_EQ(set.images[1][0][5][7].item<int>(), 13);                  // shift 1
  EXPECT_EQ(set.images[2][1][1][0].item<int>(), 103);                 // shift 2, second file

  write_plain(dir.path() / "bad_size.bin", std::vector<unsigned char>(a.begin(), a.end() - 5));
  EXPECT_THROW(data::read_cifar10({dir.path() / "bad_size.bin"}), UserError);
  write_plain(dir.path() / "bad_label.bin", cifar_record(10, 0));
  try {
    data::read_cifar10({dir.path() / "bad_label.bin"});
    FAIL() << "label 10 accepted";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("has label 10"), std::string::npos) << e.what();
  }
}

TEST(ClassificationData, RecognisesCifarAndIdxFoldersAndSaysWhatIsMissing) {
  TempDir dir;
  const fs::path cifar = dir.path() / "cifar" / "cifar-10-batches-bin";
  fs::create_directories(cifar);
  for (int i = 1; i <= 5; ++i)
    write_plain(cifar / ("data_batch_" + std::to_string(i) + ".bin"), cifar_record(static_cast<unsigned char>(i), i));
  write_plain(cifar / "test_batch.bin", cifar_record(7, 0));
  std::ofstream(cifar / "batches.meta.txt") << "a0\na1\na2\na3\na4\na5\na6\na7\na8\na9\n\n";
  const auto files = data::find_classification_files(dir.path() / "cifar");  // the tarball's subfolder is found
  EXPECT_EQ(files.format, "cifar10");
  EXPECT_EQ(files.train.size(), 5u);
  const auto d = data::load_classification_data(dir.path() / "cifar");
  EXPECT_EQ(d.train.images.size(0), 5);
  EXPECT_EQ(d.train.labels[4].item<int64_t>(), 5);
  EXPECT_EQ(d.test.labels[0].item<int64_t>(), 7);
  EXPECT_EQ(d.class_names[3], "a3");

  for (bool gz : {false, true}) {
    const fs::path idx = dir.path() / (gz ? "idx_gz" : "idx_plain");
    fs::create_directories(idx);
    write_idx_folder(idx, 12, 5, 6, 4, gz);
    const auto m = data::load_classification_data(idx);
    EXPECT_EQ(m.format, "idx");
    ASSERT_EQ(m.train.images.sizes().vec(), (std::vector<int64_t>{12, 1, 6, 4}));
    EXPECT_EQ(m.test.images.size(0), 5);
    EXPECT_EQ(m.train.images[11][0][5][3].item<int>(), (77 + 15 + 3) % 256);
    EXPECT_EQ(m.train.labels[11].item<int64_t>(), 1);
    EXPECT_EQ(m.class_names.size(), 10u);
    // The torch-free look at the headers (hpsearch describe) agrees with the loaded tensors.
    const auto shape = data::classification_shape(data::find_classification_files(idx));
    EXPECT_EQ(shape.input, (std::vector<int64_t>{1, 6, 4}));
    EXPECT_EQ(shape.classes, 10);
  }
  EXPECT_EQ(data::classification_shape(files).input, (std::vector<int64_t>{3, 32, 32}));

  fs::create_directories(dir.path() / "empty");
  try {
    data::find_classification_files(dir.path() / "empty");
    FAIL() << "an empty folder was accepted";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("data_batch_1.bin"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("train-images-idx3-ubyte"), std::string::npos) << e.what();
  }
  EXPECT_THROW(data::find_classification_files(dir.path() / "nowhere"), UserError);
}

TEST(Augmentation, CropsAreShiftedWindowsOfThePaddedImageAndFlipsAreMirrors) {
  torch::manual_seed(5);
  const torch::Tensor images = torch::randint(1, 256, {64, 3, 8, 8}, torch::kInt64).to(torch::kUInt8);
  const int64_t p = 2;
  const torch::Tensor padded = torch::constant_pad_nd(images, {p, p, p, p}, 0);
  const torch::Tensor cropped = classify::augment_batch(images, p, false);
  ASSERT_EQ(cropped.sizes(), images.sizes());
  std::set<std::pair<int64_t, int64_t>> offsets;
  for (int64_t i = 0; i < 64; ++i) {
    bool found = false;
    for (int64_t dy = 0; dy <= 2 * p && !found; ++dy) {
      for (int64_t dx = 0; dx <= 2 * p && !found; ++dx) {
        if (torch::equal(cropped[i], padded[i].narrow(1, dy, 8).narrow(2, dx, 8))) {
          found = true;
          offsets.insert({dy, dx});
        }
      }
    }
    EXPECT_TRUE(found) << "image " << i << " is not a window of its padded original";
  }
  EXPECT_GT(offsets.size(), 10u);  // 25 possible offsets, 64 draws: random, not one fixed shift

  const torch::Tensor flipped = classify::augment_batch(images, 0, true);
  int mirrored = 0;
  for (int64_t i = 0; i < 64; ++i) {
    const bool same = torch::equal(flipped[i], images[i]), mirror = torch::equal(flipped[i], images[i].flip({2}));
    EXPECT_TRUE(same || mirror) << "image " << i;
    mirrored += mirror ? 1 : 0;
  }
  EXPECT_GT(mirrored, 15);
  EXPECT_LT(mirrored, 49);
}

TEST(ClassifyArchitecture, Seed003NetworkCountsMatchHandArithmetic) {
  const nn::Architecture a = nn::parse_architecture(default_classify_architecture());
  const nn::ModelCost cost = nn::describe_architecture(a, {3, 32, 32}, 10);
  // Seed 003, CIFAR-10 (3x32x32), rows: conv1, relu, pool1, conv2, relu, pool2, conv3, relu,
  // pool3, flatten, fc4, relu, fc5.
  ASSERT_EQ(cost.layers.size(), 13u);
  // conv1: 32 filters 3x5x5 + 32 biases = 2,400 + 32; output 32x32x32 (padding 2 keeps 32x32);
  // each of 32*32*32 = 32,768 outputs takes 3*25 = 75 products and 75 additions (74 + bias).
  EXPECT_EQ(cost.layers[0].output_shape, (std::vector<int64_t>{32, 32, 32}));
  EXPECT_EQ(cost.layers[0].parameters, 32 * 3 * 5 * 5 + 32);  // 2,432
  EXPECT_EQ(cost.layers[0].multiplications, 32768 * 75);      // 2,457,600
  EXPECT_EQ(cost.layers[0].additions, 32768 * 75);
  EXPECT_EQ(cost.layers[1].maximums, 32768);  // ReLU: one max(x, 0) per element
  // pool1: 32x16x16 = 8,192 outputs, each the max of 4 values: 3 comparisons.
  EXPECT_EQ(cost.layers[2].output_shape, (std::vector<int64_t>{32, 16, 16}));
  EXPECT_EQ(cost.layers[2].maximums, 8192 * 3);
  // conv2: 64 x 32x5x5 + 64 = 51,200 + 64; 64x16x16 = 16,384 outputs of 800 products each.
  EXPECT_EQ(cost.layers[3].parameters, 51264);
  EXPECT_EQ(cost.layers[3].multiplications, 16384 * 800);  // 13,107,200
  EXPECT_EQ(cost.layers[5].output_shape, (std::vector<int64_t>{64, 8, 8}));
  // conv3: 64 x 64x5x5 + 64 = 102,400 + 64; 64x8x8 = 4,096 outputs of 1,600 products.
  EXPECT_EQ(cost.layers[6].parameters, 102464);
  EXPECT_EQ(cost.layers[6].multiplications, 4096 * 1600);  // 6,553,600
  EXPECT_EQ(cost.layers[8].output_shape, (std::vector<int64_t>{64, 4, 4}));
  EXPECT_EQ(cost.layers[9].output_shape, (std::vector<int64_t>{1024}));
  // fc4: 1,024 x 1,000 weights + 1,000 biases; fc5: 1,000 x 10 + 10.
  EXPECT_EQ(cost.layers[10].parameters, 1024 * 1000 + 1000);  // 1,025,000
  EXPECT_EQ(cost.layers[10].weights[0].second, (std::vector<int64_t>{1000, 1024}));
  EXPECT_EQ(cost.layers[12].parameters, 1000 * 10 + 10);  // 10,010
  // Totals: 2,432 + 51,264 + 102,464 + 1,025,000 + 10,010 = 1,191,170 parameters (seed 003,
  // question 11); products 2,457,600 + 13,107,200 + 6,553,600 + 1,024,000 + 10,000 = 23,152,400;
  // maximums: ReLUs 32,768 + 16,384 + 4,096 + 1,000 and poolings 24,576 + 12,288 + 3,072.
  EXPECT_EQ(cost.parameters, 1191170);
  EXPECT_EQ(cost.multiplications, 23152400);
  EXPECT_EQ(cost.additions, 23152400);
  EXPECT_EQ(cost.maximums, 32768 + 16384 + 4096 + 1000 + 24576 + 12288 + 3072);

  // The built LibTorch model has exactly the described parameters.
  auto model = nn::build_model(a, {3, 32, 32}, 10);
  int64_t counted = 0;
  for (const auto& p : model->parameters()) counted += p.numel();
  EXPECT_EQ(counted, 1191170);
  EXPECT_EQ(model->forward(torch::zeros({2, 3, 32, 32})).sizes().vec(), (std::vector<int64_t>{2, 10}));

  // On Fashion-MNIST (1x28x28) the third pooling floors 7x7 to 3x3: fc4 takes 64*9 = 576 inputs.
  // 1*25*32 + 32 = 832; 51,264; 102,464; 576,000 + 1,000; 10,010: 741,570 in all.
  EXPECT_EQ(nn::describe_architecture(a, {1, 28, 28}, 10).parameters, 832 + 51264 + 102464 + 577000 + 10010);
}

TEST(Optimization, SchedulesAreTheSeedsRates) {
  // Seed 001's three plateaus: 0.01, 0.001, 0.0001 for 50 %, 25 %, 25 % of 10 epochs: epochs
  // 0-4, then 5-7 (the boundary round(7.5) = 8), then 8-9.
  const nn::LearningRateSchedule plateaus({{"scheduler", "plateaus"}}, 10);
  const std::vector<double> expected = {0.01, 0.01, 0.01, 0.01, 0.01, 0.001, 0.001, 0.001, 0.0001, 0.0001};
  for (int e = 0; e < 10; ++e) EXPECT_DOUBLE_EQ(plateaus.rate(e), expected[e]) << "epoch " << e;
  // Seed 004's phases: (2e-4, 2), (1e-4, 1), (1e-5, 2); after the last phase its rate stays.
  const nn::LearningRateSchedule phases({{"scheduler", "phases"}, {"scheduler_params", {{"phases", {{2e-4, 2}, {1e-4, 1}, {1e-5, 2}}}}}},
                                        5);
  const std::vector<double> phase_rates = {2e-4, 2e-4, 1e-4, 1e-5, 1e-5, 1e-5};
  for (int e = 0; e < 6; ++e) EXPECT_DOUBLE_EQ(phases.rate(e), phase_rates[e]) << "epoch " << e;
  // Seed 003: lr 0.1 decayed by 0.95 per epoch.
  const nn::LearningRateSchedule exponential({{"scheduler", "exponential"}, {"optimizer_params", {{"lr", 0.1}}}}, 30);
  EXPECT_DOUBLE_EQ(exponential.rate(0), 0.1);
  EXPECT_NEAR(exponential.rate(10), 0.1 * 0.5987369392383789, 1e-15);  // 0.95^10
  const nn::LearningRateSchedule step({{"scheduler", "step"}, {"scheduler_params", {{"step_size", 3}, {"gamma", 0.5}}}}, 10);
  EXPECT_DOUBLE_EQ(step.rate(2), 1e-3);
  EXPECT_DOUBLE_EQ(step.rate(3), 5e-4);
  EXPECT_DOUBLE_EQ(step.rate(7), 2.5e-4);
  EXPECT_DOUBLE_EQ(nn::LearningRateSchedule({{"scheduler", "none"}, {"optimizer_params", {{"lr", 0.02}}}}, 5).rate(4), 0.02);
}

TEST(Optimization, OptimizersTakeTheirSettingsAndTheScheduleSetsEveryGroup) {
  auto weight = torch::ones({3}, torch::requires_grad());
  for (const char* name : {"sgd", "adam", "adamw"}) {
    const json config = {{"optimizer", name},
                         {"optimizer_params", {{"lr", 0.1}, {"momentum", 0.9}, {"nesterov", true}, {"weight_decay", 1e-4}}},
                         {"scheduler", "exponential"}};
    auto optimizer = nn::make_optimizer(config, {weight});
    const nn::LearningRateSchedule schedule(config, 10);
    schedule.apply(*optimizer, 2);
    const auto& options = optimizer->param_groups().at(0).options();
    double lr = 0;
    if (auto* o = dynamic_cast<const torch::optim::SGDOptions*>(&options)) {
      lr = o->lr();
      EXPECT_EQ(std::string(name), "sgd");
      EXPECT_DOUBLE_EQ(o->momentum(), 0.9);
      EXPECT_TRUE(o->nesterov());
    } else if (auto* o = dynamic_cast<const torch::optim::AdamWOptions*>(&options)) {
      lr = o->lr();
      EXPECT_EQ(std::string(name), "adamw");
    } else if (auto* o = dynamic_cast<const torch::optim::AdamOptions*>(&options)) {
      lr = o->lr();
      EXPECT_EQ(std::string(name), "adam");
      EXPECT_DOUBLE_EQ(o->weight_decay(), 1e-4);
    }
    EXPECT_DOUBLE_EQ(lr, 0.1 * 0.95 * 0.95) << name;
  }
  auto message = [&](const json& config) {
    try {
      nn::make_optimizer(config, {weight});
      nn::LearningRateSchedule(config, 10);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message({{"optimizer", "sgd"}, {"optimizer_params", {{"nesterov", true}}}}).rfind("optimizer_params.nesterov:", 0), 0u);
  EXPECT_EQ(message({{"optimizer_params", {{"momentun", 0.9}}}}).rfind("optimizer_params.momentun: unknown key", 0), 0u);
  EXPECT_EQ(message({{"optimizer", "rmsprop"}}).rfind("optimizer: must be one of", 0), 0u);
  EXPECT_EQ(message({{"optimizer_params", {{"lr", 0}}}}).rfind("optimizer_params.lr: must be > 0", 0), 0u);
  EXPECT_EQ(message({{"scheduler", "phases"}}).rfind("scheduler_params.phases: is required", 0), 0u);
  EXPECT_EQ(message({{"scheduler", "plateaus"}, {"scheduler_params", {{"rates", {0.1, 0.01}}, {"fractions", {1}}}}})
                .rfind("scheduler_params.fractions:", 0),
            0u);
}

struct RecordingReporter : StepReporter {
  std::vector<std::pair<int, json>> reports;
  bool report(int step, const json& metrics) override {
    reports.emplace_back(step, metrics);
    return true;
  }
};

TEST(ClassifyTrainer, SettingsErrorsNameTheFileAndKey) {
  auto message = [](const json& settings) {
    try {
      ClassifyTrainer trainer(settings, "space.json");
    } catch (const FileError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message({{"type", "classify"}}).rfind("space.json: trainer.data: is required", 0), 0u);
  EXPECT_EQ(message({{"type", "classify"}, {"data", "/nonexistent/cifar"}})
                .rfind("space.json: trainer.data: /nonexistent/cifar: no such folder", 0),
            0u);
  TempDir dir;
  EXPECT_NE(message({{"type", "classify"}, {"data", dir.path().string()}}).find("no image-classification data recognised"),
            std::string::npos);
  write_idx_folder(dir.path(), 4, 2, 28, 28, true);
  EXPECT_EQ(message({{"type", "classify"}, {"data", dir.path().string()}}), "no error");
  EXPECT_EQ(message({{"type", "classify"}, {"data", dir.path().string()}, {"max_params", -3}}).rfind("space.json: trainer.max_params:", 0),
            0u);
  EXPECT_EQ(
      message({{"type", "classify"}, {"data", dir.path().string()}, {"epochs", 3}}).rfind("space.json: trainer.epochs: unknown setting", 0),
      0u);
}

TEST(ClassifyTrainer, AModelOverMaxParamsNeverTrains) {
  TempDir dir;
  write_idx_folder(dir.path(), 20, 10, 28, 28, true);
  ClassifyTrainer trainer({{"type", "classify"}, {"data", dir.path().string()}, {"max_params", 256000}}, "space.json");
  RecordingReporter reporter;
  const TrialContext trial{0, json{{"epochs", 1}}, dir.path() / "trial0", "test_accuracy", ObjectiveMode::Maximize};
  try {
    trainer.run(trial, reporter);
    FAIL() << "the seed-003 network (741,570 parameters on 1x28x28) trained under max_params 256,000";
  } catch (const std::exception& e) {
    // Seed 003's network on 28x28 images: 741,570 parameters (see Seed003NetworkCountsMatchHandArithmetic).
    EXPECT_EQ(std::string(e.what()), "infeasible: the model has 741570 parameters, more than max_params = 256000");
  }
  EXPECT_TRUE(reporter.reports.empty());
  EXPECT_FALSE(fs::exists(dir.path() / "trial0"));  // nothing trained, nothing written
  // The configuration's max_params overrides the setting: the same network is then feasible.
  const json small = {{"epochs", 1}, {"max_params", 800000}, {"batch_size", 10}};
  EXPECT_NO_THROW(trainer.run({1, small, dir.path() / "trial1", "test_accuracy", ObjectiveMode::Maximize}, reporter));
  EXPECT_EQ(reporter.reports.size(), 2u);  // step 0 and epoch 1
  // A typo in the configuration fails the trial with the key's name.
  try {
    trainer.run({2, {{"epoch", 1}}, dir.path() / "trial2", "test_accuracy", ObjectiveMode::Maximize}, reporter);
    FAIL() << "unknown key accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("epoch: unknown setting of the classify configuration (it takes epochs, ", 0), 0u) << e.what();
  }
}

TEST(ClassifyTrainer, LearnsRealFashionMnistWellAboveChance) {
  if (!fs::exists(kFashionMnist / "train-images-idx3-ubyte.gz")) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  TempDir dir;
  ClassifyTrainer trainer({{"type", "classify"}, {"data", kFashionMnist.string()}, {"train_subset", 3000}, {"test_subset", 1000}},
                          "space.json");
  // A small network (conv 16, conv 32, fc 64: 114,314 parameters, a few seconds per epoch here) so
  // that the test stays short; augmentation on, to run the device-side crop and flip.
  const json config = {{"epochs", 2},
                       {"batch_size", 32},
                       {"optimizer", "adam"},
                       {"optimizer_params", {{"lr", 2e-3}}},
                       {"scheduler", "exponential"},
                       {"augmentation", {{"random_crop_padding", 2}, {"horizontal_flip", true}}},
                       {"architecture", json::parse(R"({"layers_param": [
           ["conv2d", {"out_channels": 16, "kernel_size": 5, "padding": 2}], ["max_pooling", {"kernel_size": 2}],
           ["conv2d", {"out_channels": 32, "kernel_size": 5, "padding": 2}], ["max_pooling", {"kernel_size": 2}],
           ["flatten", {}], ["fully_connected", {"out_features": 64}], ["fully_connected", {}]]})")}};
  RecordingReporter reporter;
  const TrialContext trial{3, config, dir.path() / "trial3", "test_accuracy", ObjectiveMode::Maximize};
  const double best = trainer.run(trial, reporter);

  ASSERT_EQ(reporter.reports.size(), 3u);
  std::cerr << "classify on 3,000 Fashion-MNIST images, test accuracy per step: " << reporter.reports[0].second["test_accuracy"] << ", "
            << reporter.reports[1].second["test_accuracy"] << ", " << reporter.reports[2].second["test_accuracy"] << "; epoch time "
            << reporter.reports[2].second["epoch_time_s"] << " s\n";
  const json& before = reporter.reports[0].second;
  EXPECT_EQ(reporter.reports[0].first, 0);
  EXPECT_LT(before["test_accuracy"].get<double>(), 0.35);  // the untrained network: near chance (0.1)
  const json& last = reporter.reports[2].second;
  EXPECT_EQ(reporter.reports[2].first, 2);
  for (const char* key : {"train_loss", "train_accuracy", "test_loss", "test_accuracy", "running_loss", "epoch_time_s", "lr"}) {
    EXPECT_TRUE(last.contains(key)) << key;
  }
  // conv 1->16 5x5: 416; conv 16->32 5x5: 12,832; fc 32*7*7 = 1,568 -> 64: 100,416; fc 64 -> 10: 650.
  EXPECT_EQ(last["parameters"].get<int64_t>(), 416 + 12832 + 100416 + 650);
  EXPECT_GT(last["test_accuracy"].get<double>(), 0.65) << last.dump();
  EXPECT_GT(last["train_accuracy"].get<double>(), 0.65);
  EXPECT_LT(last["test_loss"].get<double>(), before["test_loss"].get<double>());
  EXPECT_DOUBLE_EQ(best, std::max(reporter.reports[1].second["test_accuracy"].get<double>(), last["test_accuracy"].get<double>()));

  // Per-class results: in every report (any may be a trial's last: time budget, early stopping,
  // pruning) and in the trial folder; the confusion matrix counts every test image once, and its
  // diagonal is the accuracy.
  for (const auto& [step, metrics] : reporter.reports) {
    EXPECT_TRUE(metrics.contains("confusion_matrix") && metrics.contains("per_class_accuracy")) << "step " << step;
  }
  ASSERT_TRUE(last.contains("confusion_matrix"));
  const json file = json::parse(std::ifstream(dir.path() / "trial3" / "classification.json"));
  EXPECT_EQ(file["confusion_matrix"], last["confusion_matrix"]);
  EXPECT_EQ(file["class_names"][9], "Ankle boot");
  int64_t total = 0, diagonal = 0;
  for (std::size_t t = 0; t < 10; ++t) {
    for (std::size_t p = 0; p < 10; ++p) total += file["confusion_matrix"][t][p].get<int64_t>();
    diagonal += file["confusion_matrix"][t][t].get<int64_t>();
  }
  EXPECT_EQ(total, 1000);
  EXPECT_DOUBLE_EQ(static_cast<double>(diagonal) / 1000.0, last["test_accuracy"].get<double>());
  EXPECT_EQ(file["per_class_accuracy"].size(), 10u);
}

}  // namespace
}  // namespace hpsearch
