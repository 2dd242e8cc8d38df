#include "trainers/core/data/classification_files.hpp"

#include <zlib.h>

#include <algorithm>
#include <memory>
#include <optional>

#include "core/errors.hpp"

namespace hpsearch::data {

namespace fs = std::filesystem;

namespace {

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

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};

// The sizes in an IDX header, and (when `max_value` is given) the largest byte after it.
std::vector<int64_t> idx_header(const fs::path& file, int* max_value) {
  std::unique_ptr<gzFile_s, GzCloser> f(gzopen(file.c_str(), "rb"));
  if (!f) throw UserError(file.string() + ": cannot open");
  unsigned char head[4] = {0, 0, 0, 0};
  if (gzread(f.get(), head, 4) != 4 || head[0] != 0 || head[1] != 0 || head[2] != 0x08 || head[3] < 1 || head[3] > 4) {
    throw UserError(file.string() + ": not an IDX file of unsigned bytes");
  }
  std::vector<int64_t> sizes;
  for (int i = 0; i < head[3]; ++i) {
    unsigned char b[4];
    if (gzread(f.get(), b, 4) != 4) throw UserError(file.string() + ": IDX header cut short");
    sizes.push_back((int64_t{b[0]} << 24) | (int64_t{b[1]} << 16) | (int64_t{b[2]} << 8) | int64_t{b[3]});
  }
  if (max_value) {
    std::vector<unsigned char> buffer(1 << 16);
    for (int n; (n = gzread(f.get(), buffer.data(), static_cast<unsigned>(buffer.size()))) > 0;) {
      *max_value = std::max<int>(*max_value, *std::max_element(buffer.begin(), buffer.begin() + n));
    }
  }
  return sizes;
}

}  // namespace

ClassificationFiles find_classification_files(const fs::path& folder) {
  if (!fs::is_directory(folder)) throw UserError(folder.string() + ": no such folder");
  if (auto f = find_cifar(folder)) return *f;
  if (auto f = find_idx(folder)) return *f;
  throw UserError(folder.string() +
                  ": no image-classification data recognised: expected CIFAR-10 binary batches (data_batch_1.bin .. "
                  "data_batch_5.bin and test_batch.bin, here or in cifar-10-batches-bin/) or IDX files (train-images-idx3-ubyte, "
                  "train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, gzipped or not)");
}

ClassificationShape classification_shape(const ClassificationFiles& files) {
  if (files.format == "cifar10") return {{3, 32, 32}, 10};
  const std::vector<int64_t> images = idx_header(files.train[0], nullptr);
  if (images.size() != 3) throw UserError(files.train[0].string() + ": expected images {N, H, W}");
  int max_label = 0;
  idx_header(files.train[1], &max_label);
  idx_header(files.test[1], &max_label);
  return {{1, images[1], images[2]}, max_label + 1};
}

}  // namespace hpsearch::data
