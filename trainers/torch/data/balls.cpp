#include "trainers/torch/data/balls.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "core/errors.hpp"
#include "trainers/core/data/jpeg.hpp"
#include "trainers/core/data/npy.hpp"

namespace hpsearch::data {
namespace {

namespace fs = std::filesystem;

// The files of a folder whose names are PREFIX + digits + SUFFIX, by their number. The original
// data sets number from 0 without gaps, but nothing here relies on it: pairs are matched by number.
std::map<long, fs::path> numbered_files(const fs::path& folder, const std::string& prefix, const std::string& suffix) {
  std::map<long, fs::path> out;
  for (const auto& entry : fs::directory_iterator(folder)) {
    const std::string name = entry.path().filename().string();
    if (name.size() <= prefix.size() + suffix.size() || name.compare(0, prefix.size(), prefix) != 0 ||
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
      continue;
    }
    const std::string digits = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
    if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }) || digits.size() > 9) continue;
    out.emplace(std::stol(digits), entry.path());
  }
  return out;
}

void check_folder(const fs::path& folder, const char* kind) {
  const std::string make = std::string("correct the path, or, to generate a synthetic data set there, run: hpsearch make-data ") + kind +
                           " --out " + folder.string();
  std::error_code ec;
  if (!fs::exists(folder, ec)) throw UserError(folder.string() + ": no such data folder; " + make);
  if (!fs::is_directory(folder, ec)) throw UserError(folder.string() + ": not a folder; the data set is a folder of files (" + make + ")");
}

// Pairs the files of two numbered families; a number present in only one of them is an error
// naming the file that is missing.
std::vector<std::pair<fs::path, fs::path>> pair_files(const fs::path& folder, const char* kind, const std::string& first_prefix,
                                                      const std::string& first_suffix, const std::string& second_prefix,
                                                      const std::string& second_suffix) {
  const auto first = numbered_files(folder, first_prefix, first_suffix);
  const auto second = numbered_files(folder, second_prefix, second_suffix);
  if (first.empty() && second.empty()) {
    throw UserError(folder.string() + ": no " + first_prefix + "NNNNN" + first_suffix + " / " + second_prefix + "NNNNN" + second_suffix +
                    " files in the data folder; make them with: hpsearch make-data " + kind + " --out " + folder.string());
  }
  const auto name = [](const std::string& prefix, long number, const std::string& suffix) {
    char digits[32];
    std::snprintf(digits, sizeof digits, "%05ld", number);
    return prefix + digits + suffix;
  };
  std::vector<std::pair<fs::path, fs::path>> pairs;
  for (const auto& [number, path] : first) {
    const auto match = second.find(number);
    if (match == second.end()) {
      throw UserError((folder / name(second_prefix, number, second_suffix)).string() + ": missing (" + path.filename().string() +
                      " has no labels)");
    }
    pairs.emplace_back(path, match->second);
  }
  for (const auto& [number, path] : second) {
    if (!first.count(number)) {
      throw UserError((folder / name(first_prefix, number, first_suffix)).string() + ": missing (" + path.filename().string() +
                      " has no counterpart)");
    }
  }
  return pairs;
}

std::vector<float> read_floats(const fs::path& file, const std::vector<std::int64_t>& expected_shape) {
  const NpyArray array = read_npy(file);
  if (array.shape != expected_shape) {
    throw UserError(file.string() + ": shape " + shape_string(array.shape) + ", expected " + shape_string(expected_shape));
  }
  return array.to_floats();
}

// Runs body(i) for i in [0, n) on up to `threads` threads; the first exception (by time) is
// rethrown once all threads have stopped.
template <typename Body>
void parallel_for(std::size_t n, Body body) {
  const std::size_t threads =
      std::max<std::size_t>(1, std::min<std::size_t>(std::thread::hardware_concurrency(), std::min<std::size_t>(16, n / 64 + 1)));
  std::atomic<std::size_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  const auto work = [&] {
    try {
      for (std::size_t i; (i = next.fetch_add(1)) < n;) body(i);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
      next = n;  // the others stop at their next index
    }
  };
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& thread : pool) thread.join();
  if (error) std::rethrow_exception(error);
}

std::string file_bytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw UserError(file.string() + ": cannot open the file");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace

BallImages load_ball_images(const std::filesystem::path& folder) {
  check_folder(folder, "balls");
  const auto pairs = pair_files(folder, "balls", "img_", ".jpg", "p_bb_", ".npy");
  const auto n = static_cast<std::int64_t>(pairs.size());
  // The first image fixes the size that every other one must have (100x100 in the original).
  const RgbImage first = read_jpeg(pairs[0].first);
  const int height = first.height, width = first.width;
  BallImages out;
  out.images = torch::empty({n, 3, height, width}, torch::kUInt8);
  out.presence = torch::empty({n, 9}, torch::kFloat32);
  out.boxes = torch::empty({n, 9, 4}, torch::kFloat32);
  std::uint8_t* images = out.images.data_ptr<std::uint8_t>();
  float* presence = out.presence.data_ptr<float>();
  float* boxes = out.boxes.data_ptr<float>();
  const std::size_t plane = static_cast<std::size_t>(height) * width;
  // Each JPEG is decoded once, here, straight into its slot of the tensor (HWC -> CHW).
  parallel_for(pairs.size(), [&](std::size_t i) {
    const auto& [image_file, label_file] = pairs[i];
    const std::string bytes = file_bytes(image_file);
    const RgbImage image = decode_jpeg(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), image_file.string());
    if (image.height != height || image.width != width) {
      throw UserError(image_file.string() + ": image is " + std::to_string(image.width) + "x" + std::to_string(image.height) +
                      ", expected " + std::to_string(width) + "x" + std::to_string(height) + " like " + pairs[0].first.filename().string());
    }
    std::uint8_t* slot = images + i * 3 * plane;
    for (std::size_t p = 0; p < plane; ++p) {
      slot[p] = image.pixels[3 * p];
      slot[plane + p] = image.pixels[3 * p + 1];
      slot[2 * plane + p] = image.pixels[3 * p + 2];
    }
    const std::vector<float> labels = read_floats(label_file, {9, 5});
    for (int row = 0; row < 9; ++row) {
      presence[i * 9 + row] = labels[row * 5];
      std::memcpy(boxes + (i * 9 + row) * 4, labels.data() + row * 5 + 1, 4 * sizeof(float));
    }
  });
  return out;
}

BallSequences load_ball_sequences(const std::filesystem::path& folder) {
  check_folder(folder, "balls-seq");
  const auto pairs = pair_files(folder, "balls-seq", "seq_bb_", ".npy", "p_", ".npy");
  const auto n = static_cast<std::int64_t>(pairs.size());
  BallSequences out;
  out.presence = torch::empty({n, 9}, torch::kFloat32);
  out.boxes = torch::empty({n, 20, 9, 4}, torch::kFloat32);
  float* presence = out.presence.data_ptr<float>();
  float* boxes = out.boxes.data_ptr<float>();
  parallel_for(pairs.size(), [&](std::size_t i) {
    const auto& [sequence_file, presence_file] = pairs[i];
    const std::vector<float> sequence = read_floats(sequence_file, {20, 9, 4});
    const std::vector<float> colours = read_floats(presence_file, {9});
    std::memcpy(boxes + i * 20 * 9 * 4, sequence.data(), sequence.size() * sizeof(float));
    std::memcpy(presence + i * 9, colours.data(), colours.size() * sizeof(float));
  });
  return out;
}

}  // namespace hpsearch::data
