#pragma once
// An image-classification data set read from a folder whose format is recognised from its files
// (classification_files.hpp: CIFAR-10 binary batches, or MNIST/Fashion-MNIST IDX files).
#include <filesystem>
#include <string>
#include <vector>

#include "trainers/core/data/classification_files.hpp"
#include "trainers/torch/data/cifar.hpp"

namespace hpsearch::data {

struct ClassificationData {
  std::string format;                    // "cifar10" or "idx"
  std::vector<std::string> class_names;  // one per class; the label is the index
  LabelledImages train, test;            // uint8 {N, C, H, W} images, int64 {N} labels, on the CPU
};

// Reads the files found by find_classification_files. Throws UserError naming the file
// at fault (a reader's error, or image and label counts that differ).
ClassificationData load_classification_data(const std::filesystem::path& folder);

}  // namespace hpsearch::data
