#pragma once
// An image-classification data set read from a folder whose format is recognised from its files:
//   CIFAR-10 (binary):  data_batch_1.bin .. data_batch_5.bin + test_batch.bin, in the folder or in
//                       its cifar-10-batches-bin/ (where cifar-10-binary.tar.gz extracts);
//                       class names from batches.meta.txt when present
//   IDX (MNIST, Fashion-MNIST): train-images-idx3-ubyte, train-labels-idx1-ubyte,
//                       t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each gzipped (.gz) or not
//                       (also with a dot before idx, as some mirrors name them)
#include <filesystem>
#include <string>
#include <vector>

#include "trainers/data/cifar.hpp"

namespace hpsearch::data {

struct ClassificationData {
  std::string format;                    // "cifar10" or "idx"
  std::vector<std::string> class_names;  // one per class; the label is the index
  LabelledImages train, test;            // uint8 {N, C, H, W} images, int64 {N} labels, on the CPU
};

// Where the files of a recognised folder are. Cheap (it only lists the folder), so that a trainer
// can check its `data` setting before any trial. Throws std::runtime_error saying what was looked
// for when the folder is missing or holds neither format.
struct ClassificationFiles {
  std::string format;
  std::vector<std::filesystem::path> train, test;  // cifar10: the batch files; idx: {images, labels}
  std::filesystem::path meta;                      // cifar10: batches.meta.txt, when present
};
ClassificationFiles find_classification_files(const std::filesystem::path& folder);

// Reads the files found by find_classification_files. Throws std::runtime_error naming the file
// at fault (a reader's error, or image and label counts that differ).
ClassificationData load_classification_data(const std::filesystem::path& folder);

}  // namespace hpsearch::data
