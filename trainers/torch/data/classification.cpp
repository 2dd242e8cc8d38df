#include "trainers/torch/data/classification.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>

#include "core/errors.hpp"
#include "trainers/torch/data/idx.hpp"

namespace hpsearch::data {

namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kCifar10Classes = {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
const std::vector<std::string> kFashionClasses = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                  "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

LabelledImages read_idx_pair(const fs::path& images_file, const fs::path& labels_file) {
  torch::Tensor images = read_idx(images_file);
  torch::Tensor labels = read_idx(labels_file);
  if (images.dim() != 3)
    throw UserError(images_file.string() + ": expected images {N, H, W}, got " + std::to_string(images.dim()) + " dimensions");
  if (labels.dim() != 1)
    throw UserError(labels_file.string() + ": expected labels {N}, got " + std::to_string(labels.dim()) + " dimensions");
  if (images.size(0) != labels.size(0)) {
    throw UserError(labels_file.string() + ": " + std::to_string(labels.size(0)) + " labels for " + std::to_string(images.size(0)) +
                    " images in " + images_file.string());
  }
  return {images.unsqueeze(1).contiguous(), labels.to(torch::kInt64)};
}

}  // namespace

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
      throw UserError(files.test[0].string() + ": images of another size than the training images in " + files.train[0].string());
    }
    // MNIST and Fashion-MNIST share the file names; only the folder tells them apart, and the
    // names only label the per-class results.
    // As classification_shape counts them: the largest label + 1 over both files.
    const int64_t classes = std::max(d.train.labels.max().item<int64_t>(), d.test.labels.max().item<int64_t>()) + 1;
    std::string lower = folder.string();
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower.find("fashion") != std::string::npos && classes <= 10) {
      d.class_names = kFashionClasses;
    } else {
      for (int64_t c = 0; c < classes; ++c) d.class_names.push_back(std::to_string(c));
    }
  }
  return d;
}

}  // namespace hpsearch::data
