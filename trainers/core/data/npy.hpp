#pragma once
// NumPy .npy files (format versions 1.0, 2.0 and 3.0), the labels of the ball data sets.
// Torch-free on purpose: the make-data command (orchestrator/) writes them without LibTorch.
//
// Supported: little-endian float32, float64, int64, uint8 and bool, C order. Anything else
// (big-endian, Fortran order, object arrays, other types) is refused with a message naming the
// file, rather than misread.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace hpsearch::data {

enum class NpyType { Float32, Float64, Int64, UInt8, Bool };

struct NpyArray {
  NpyType type = NpyType::Float32;
  std::vector<std::int64_t> shape;  // empty for a 0-d array
  std::vector<std::uint8_t> bytes;  // the elements as stored: little-endian, C order

  std::int64_t size() const;  // number of elements (1 for a 0-d array)
  // The elements converted to float (bool as 0/1), whatever the stored type.
  std::vector<float> to_floats() const;
};

std::size_t npy_item_size(NpyType type);
const char* npy_descr(NpyType type);                               // "<f4", "<f8", "<i8", "|u1", "|b1"
std::string shape_string(const std::vector<std::int64_t>& shape);  // "(9, 5)", "(9,)", "()"

// Parses the bytes of a .npy file; `name` (the file) prefixes every error message.
NpyArray parse_npy(const std::string& content, const std::string& name);
// Reads and parses a .npy file; throws hpsearch::UserError naming the file.
NpyArray read_npy(const std::filesystem::path& file);

// The bytes of a version 1.0 .npy file holding `array` (header padded to 64 bytes, as NumPy does).
std::string format_npy(const NpyArray& array);
void write_npy(const std::filesystem::path& file, const NpyArray& array);
// A float32 array of `shape` from `values` (values.size() must be the product of shape).
NpyArray npy_from_floats(const std::vector<float>& values, std::vector<std::int64_t> shape);

}  // namespace hpsearch::data
