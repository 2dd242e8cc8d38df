#include "trainers/data/classification.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <stdexcept>

#include "trainers/data/idx.hpp"

namespace hpsearch::data {

namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kCifar10Classes = {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
const std::vector<std::string> kFashionClasses = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                  "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

std::optional<ClassificationFiles> find_cifar(const fs::path& folder) {
  for (const fs::path& dir : {folder, folder / "cifar-10-batches-bin"}) {
    if (!fs::is_regular_file(dir / "test_batch.bin")) continue;
    ClassificationFiles f{"cifar10", {}, {dir / "test_batch.bin"}, {}};
    // data_batch_1.bin, data_batch_2.bin, ... in order, up to the first missing one.
    for (int i = 1; fs::is_regular_file(dir / ("data_batch_" + std::to_string(i) + ".bin")); ++i) {
      f.train.push_back(dir / ("data_batch_" + std::to_string(i) + ".bin"));
    }
    if (f.train.empty()) continue;
    if (fs::is_regular_file(dir / "batches.meta.txt")) f.meta = dir / "batches.meta.txt";
    return f;
  }
  return std::nullopt;
}

std::optional<fs::path> find_idx_file(const fs::path& folder, const std::string& stem, const std::string& idx) {
  for (const std::string sep : {"-", "."}) {
    for (const std::string ext : {"", ".gz"}) {
      const fs::path p = folder / (stem + sep + idx + "-ubyte" + ext);
      if (fs::is_regular_file(p)) return p;
    }
  }
  return std::nullopt;
}

std::optional<ClassificationFiles> find_idx(const fs::path& folder) {
  const auto train_images = find_idx_file(folder, "train-images", "idx3");
  const auto train_labels = find_idx_file(folder, "train-labels", "idx1");
  const auto test_images = find_idx_file(folder, "t10k-images", "idx3");
  const auto test_labels = find_idx_file(folder, "t10k-labels", "idx1");
  if (!train_images || !train_labels || !test_images || !test_labels) return std::nullopt;
  return ClassificationFiles{"idx", {*train_images, *train_labels}, {*test_images, *test_labels}, {}};
}

LabelledImages read_idx_pair(const fs::path& images_file, const fs::path& labels_file) {
  torch::Tensor images = read_idx(images_file);
  torch::Tensor labels = read_idx(labels_file);
  if (images.dim() != 3) throw std::runtime_error(images_file.string() + ": expected images {N, H, W}, got " + std::to_string(images.dim()) + " dimensions");
  if (labels.dim() != 1) throw std::runtime_error(labels_file.string() + ": expected labels {N}, got " + std::to_string(labels.dim()) + " dimensions");
  if (images.size(0) != labels.size(0)) {
    throw std::runtime_error(labels_file.string() + ": " + std::to_string(labels.size(0)) + " labels for " + std::to_string(images.size(0)) +
                             " images in " + images_file.string());
  }
  return {images.unsqueeze(1).contiguous(), labels.to(torch::kInt64)};
}

}  // namespace

ClassificationFiles find_classification_files(const fs::path& folder) {
  if (!fs::is_directory(folder)) throw std::runtime_error(folder.string() + ": no such folder");
  if (auto f = find_cifar(folder)) return *f;
  if (auto f = find_idx(folder)) return *f;
  throw std::runtime_error(folder.string() +
                           ": no image-classification data recognised: expected CIFAR-10 binary batches (data_batch_1.bin .. "
                           "data_batch_5.bin and test_batch.bin, here or in cifar-10-batches-bin/) or IDX files (train-images-idx3-ubyte, "
                           "train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, gzipped or not)");
}

ClassificationData load_classification_data(const fs::path& folder) {
  const ClassificationFiles files = find_classification_files(folder);
  ClassificationData d;
  d.format = files.format;
  if (files.format == "cifar10") {
    d.train = read_cifar10(files.train);
    d.test = read_cifar10(files.test);
    d.class_names = kCifar10Classes;
    if (!files.meta.empty()) {
      // batches.meta.txt: one class name per line, in label order (then blank lines).
      std::ifstream in(files.meta);
      std::vector<std::string> names;
      for (std::string line; std::getline(in, line);) {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
        if (!line.empty()) names.push_back(line);
      }
      if (names.size() == kCifar10Classes.size()) d.class_names = names;
    }
  } else {
    d.train = read_idx_pair(files.train[0], files.train[1]);
    d.test = read_idx_pair(files.test[0], files.test[1]);
    if (d.train.images.sizes().slice(1) != d.test.images.sizes().slice(1)) {
      throw std::runtime_error(files.test[0].string() + ": images of another size than the training images in " + files.train[0].string());
    }
    // MNIST and Fashion-MNIST share the file names; only the folder tells them apart, and the
    // names only label the per-class results.
    const int64_t classes = std::max(d.train.labels.max().item<int64_t>(), d.test.labels.max().item<int64_t>()) + 1;
    std::string lower = folder.string();
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower.find("fashion") != std::string::npos && classes <= 10) {
      d.class_names = kFashionClasses;
    } else {
      for (int64_t c = 0; c < std::max<int64_t>(classes, 2); ++c) d.class_names.push_back(std::to_string(c));
    }
  }
  return d;
}

}  // namespace hpsearch::data
