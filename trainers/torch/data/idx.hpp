#pragma once
// The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/): a big-endian
// header {0, 0, type, rank, size_1 .. size_rank (uint32)} followed by the values, row-major.
// Only unsigned bytes (type 0x08) are read: every image and label file of those data sets uses it.
// The file may be gzipped (as distributed, and as Debian's dataset-fashion-mnist installs it) or
// not; zlib reads both through the same calls.
#include <torch/torch.h>

#include <filesystem>

namespace hpsearch::data {

// The file's values as a uint8 tensor of the header's sizes, on the CPU. Throws UserError
// naming the file when it is missing, is not an IDX file of bytes, or is shorter or longer than
// its header says.
torch::Tensor read_idx(const std::filesystem::path& file);

}  // namespace hpsearch::data
