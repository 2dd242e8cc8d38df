#pragma once
// Where the files of an image-classification data set are, and the shape of its images, found
// without reading the images: torch-free, so that a trainer checks its `data` setting before any
// trial and `hpsearch describe` (orchestrator/) sizes a network from the folder alone.
//
// Recognised folders:
//   CIFAR-10 (binary):  data_batch_1.bin .. data_batch_5.bin + test_batch.bin, in the folder or in
//                       its cifar-10-batches-bin/ (where cifar-10-binary.tar.gz extracts);
//                       class names from batches.meta.txt when present
//   IDX (MNIST, Fashion-MNIST): train-images-idx3-ubyte, train-labels-idx1-ubyte,
//                       t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each gzipped (.gz) or not
//                       (also with a dot before idx, as some mirrors name them)
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace hpsearch::data {

struct ClassificationFiles {
  std::string format;                              // "cifar10" or "idx"
  std::vector<std::filesystem::path> train, test;  // cifar10: the batch files; idx: {images, labels}
  std::filesystem::path meta;                      // cifar10: batches.meta.txt, when present
};

// Cheap (it only lists the folder). Throws UserError saying what was looked for when the
// folder is missing or holds neither format.
ClassificationFiles find_classification_files(const std::filesystem::path& folder);

struct ClassificationShape {
  std::vector<int64_t> input;  // one image: {C, H, W}
  int64_t classes = 0;         // the network's outputs
};

// CIFAR-10: {3, 32, 32} and 10 classes. IDX: the images file's header gives {1, H, W}; the
// classes are the largest label + 1 over both label files (what the trainer's loader counts).
// Throws UserError naming a file that is not IDX.
ClassificationShape classification_shape(const ClassificationFiles& files);

}  // namespace hpsearch::data
