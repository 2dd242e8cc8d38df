#include "trainers/torch/data/cifar.hpp"

#include <fstream>
#include <string>

#include "core/errors.hpp"

namespace hpsearch::data {

LabelledImages read_cifar10(const std::vector<std::filesystem::path>& files) {
  // Sizes first, so that the tensors are allocated once and each file is read straight into them.
  int64_t total = 0;
  std::vector<int64_t> counts;
  for (const auto& file : files) {
    std::error_code ec;
    const auto bytes = std::filesystem::file_size(file, ec);
    if (ec) throw UserError(file.string() + ": cannot read: " + ec.message());
    if (bytes == 0 || bytes % kCifarRecordBytes != 0) {
      throw UserError(file.string() + ": " + std::to_string(bytes) + " bytes is not a whole number of CIFAR-10 records (" +
                      std::to_string(kCifarRecordBytes) + " bytes each: 1 label byte + 3,072 pixel bytes)");
    }
    counts.push_back(static_cast<int64_t>(bytes) / kCifarRecordBytes);
    total += counts.back();
  }

  LabelledImages out{torch::empty({total, 3, 32, 32}, torch::kUInt8), torch::empty({total}, torch::kInt64)};
  uint8_t* pixels = out.images.data_ptr<uint8_t>();
  int64_t* labels = out.labels.data_ptr<int64_t>();
  std::vector<char> buffer;
  int64_t row = 0;
  for (std::size_t i = 0; i < files.size(); ++i) {
    std::ifstream in(files[i], std::ios::binary);
    buffer.resize(static_cast<std::size_t>(counts[i] * kCifarRecordBytes));
    if (!in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()))) throw UserError(files[i].string() + ": cannot read");
    for (int64_t r = 0; r < counts[i]; ++r, ++row) {
      const auto* record = reinterpret_cast<const uint8_t*>(buffer.data()) + r * kCifarRecordBytes;
      if (record[0] > 9) {
        throw UserError(files[i].string() + ": record " + std::to_string(r) + " has label " + std::to_string(record[0]) +
                        " (CIFAR-10 labels are 0-9; CIFAR-100's two-label format is not read)");
      }
      labels[row] = record[0];
      std::copy(record + 1, record + kCifarRecordBytes, pixels + row * (kCifarRecordBytes - 1));
    }
  }
  return out;
}

}  // namespace hpsearch::data
