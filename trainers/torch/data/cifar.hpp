#pragma once
// The binary version of CIFAR-10 (https://www.cs.toronto.edu/~kriz/cifar.html,
// cifar-10-binary.tar.gz): data_batch_1.bin .. data_batch_5.bin and test_batch.bin, each a
// sequence of 3,073-byte records: 1 label byte (0-9), then 3,072 pixel bytes, the 1,024 red, the
// 1,024 green and the 1,024 blue values of the 32x32 image, rows top to bottom (CHW).
#include <torch/torch.h>

#include <filesystem>
#include <vector>

namespace hpsearch::data {

inline constexpr int64_t kCifarRecordBytes = 1 + 3 * 32 * 32;

struct LabelledImages {
  torch::Tensor images;  // uint8 {N, C, H, W}
  torch::Tensor labels;  // int64 {N}
};

// The records of `files`, in order, on the CPU. Throws UserError naming the file when it
// is missing, empty, not a whole number of records, or holds a label above 9.
LabelledImages read_cifar10(const std::vector<std::filesystem::path>& files);

}  // namespace hpsearch::data
