#include "trainers/torch/data/idx.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "core/errors.hpp"

namespace hpsearch::data {

namespace {

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};

// Reads exactly `size` bytes; false at the end of the file before that.
bool read_exactly(gzFile f, void* out, std::size_t size, const std::filesystem::path& file) {
  auto* p = static_cast<unsigned char*>(out);
  while (size > 0) {
    // gzread takes an unsigned int count: read in chunks well below its limit.
    const unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(size, 1u << 30));
    const int n = gzread(f, p, chunk);
    if (n < 0) {
      int code = 0;
      throw UserError(file.string() + ": cannot read: " + gzerror(f, &code));
    }
    if (n == 0) return false;
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

torch::Tensor read_idx(const std::filesystem::path& file) {
  if (!std::filesystem::is_regular_file(file)) throw UserError(file.string() + ": no such file");
  std::unique_ptr<gzFile_s, GzCloser> f(gzopen(file.c_str(), "rb"));
  if (!f) throw UserError(file.string() + ": cannot open");
  gzbuffer(f.get(), 1 << 20);

  std::array<unsigned char, 4> magic{};
  if (!read_exactly(f.get(), magic.data(), 4, file) || magic[0] != 0 || magic[1] != 0) {
    throw UserError(file.string() + ": not an IDX file (it does not start with two zero bytes)");
  }
  if (magic[2] != 0x08) {
    char type[8];
    std::snprintf(type, sizeof type, "0x%02x", magic[2]);
    throw UserError(file.string() + ": IDX value type " + type + " is not unsigned bytes (0x08), the only type image and label files use");
  }
  const int rank = magic[3];
  if (rank < 1 || rank > 4) throw UserError(file.string() + ": IDX rank " + std::to_string(rank) + " (expected 1 to 4)");

  std::vector<int64_t> sizes;
  int64_t count = 1;
  for (int i = 0; i < rank; ++i) {
    std::array<unsigned char, 4> b{};
    if (!read_exactly(f.get(), b.data(), 4, file)) throw UserError(file.string() + ": IDX header cut short");
    const int64_t n = (int64_t{b[0]} << 24) | (int64_t{b[1]} << 16) | (int64_t{b[2]} << 8) | int64_t{b[3]};
    sizes.push_back(n);
    count *= n;
    // 2^34 bytes is far beyond any image data set this reads: a larger count is a corrupt header.
    if (count > (int64_t{1} << 34)) throw UserError(file.string() + ": IDX header announces an implausible size");
  }

  torch::Tensor values = torch::empty(sizes, torch::kUInt8);
  if (!read_exactly(f.get(), values.data_ptr<uint8_t>(), static_cast<std::size_t>(count), file)) {
    throw UserError(file.string() + ": shorter than its IDX header says (" + std::to_string(count) + " values)");
  }
  unsigned char extra = 0;
  if (read_exactly(f.get(), &extra, 1, file)) {
    throw UserError(file.string() + ": longer than its IDX header says (" + std::to_string(count) + " values)");
  }
  return values;
}

}  // namespace hpsearch::data
