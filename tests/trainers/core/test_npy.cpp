// The .npy reader and writer against bytes written by hand, as NumPy lays them out.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "core/errors.hpp"
#include "trainers/core/data/npy.hpp"

using namespace hpsearch;
using namespace hpsearch::data;
namespace fs = std::filesystem;

namespace {

// A .npy file as numpy.save writes it: magic, version, little-endian header length, the header
// dict padded with spaces to a multiple of 64 bytes and ended by '\n', then the raw data.
std::string npy_bytes(int major, const std::string& dict, const std::string& data) {
  const std::size_t prefix = major == 1 ? 10 : 12;
  std::string header = dict;
  while ((prefix + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  const std::size_t n = header.size();
  out += static_cast<char>(n & 0xff);
  out += static_cast<char>((n >> 8) & 0xff);
  if (major != 1) {
    out += static_cast<char>((n >> 16) & 0xff);
    out += static_cast<char>((n >> 24) & 0xff);
  }
  return out + header + data;
}

template <typename T>
std::string raw(std::initializer_list<T> values) {
  std::string out;
  for (const T v : values) out.append(reinterpret_cast<const char*>(&v), sizeof v);  // x86/ARM: little-endian
  return out;
}

std::string error_of(const std::string& content, const std::string& name = "x.npy") {
  try {
    parse_npy(content, name);
  } catch (const UserError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST(Npy, ReadsVersion1Float32InCOrder) {
  const auto a =
      parse_npy(npy_bytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", raw<float>({1, 2, 3, 4, 5, 6.5f})), "a.npy");
  EXPECT_EQ(a.type, NpyType::Float32);
  EXPECT_EQ(a.shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(a.to_floats(), (std::vector<float>{1, 2, 3, 4, 5, 6.5f}));
}

TEST(Npy, ReadsVersion2Float64Int64Uint8AndBool) {
  const auto f64 =
      parse_npy(npy_bytes(2, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", raw<double>({0.25, -1, 1e3})), "b.npy");
  EXPECT_EQ(f64.shape, (std::vector<std::int64_t>{3}));
  EXPECT_EQ(f64.to_floats(), (std::vector<float>{0.25f, -1, 1000}));
  const auto i64 =
      parse_npy(npy_bytes(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (2, 1), }", raw<std::int64_t>({-7, 42})), "c.npy");
  EXPECT_EQ(i64.to_floats(), (std::vector<float>{-7, 42}));
  const auto u8 =
      parse_npy(npy_bytes(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (4,), }", std::string("\x00\x01\x7f\xff", 4)), "d.npy");
  EXPECT_EQ(u8.to_floats(), (std::vector<float>{0, 1, 127, 255}));
  const auto b1 =
      parse_npy(npy_bytes(1, "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", std::string("\x01\x00\x01", 3)), "e.npy");
  EXPECT_EQ(b1.to_floats(), (std::vector<float>{1, 0, 1}));
  // Keys in another order, a 0-d array, and a 1-d array marked Fortran order (same layout).
  const auto scalar = parse_npy(npy_bytes(1, "{'shape': (), 'fortran_order': False, 'descr': '<f4'}", raw<float>({3})), "f.npy");
  EXPECT_TRUE(scalar.shape.empty());
  EXPECT_EQ(scalar.to_floats(), (std::vector<float>{3}));
  EXPECT_EQ(parse_npy(npy_bytes(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", raw<float>({1, 2})), "g.npy").size(), 2);
}

TEST(Npy, RefusesWhatItCannotReadNamingTheFile) {
  EXPECT_EQ(error_of("PK\x03\x04 not numpy", "labels/p_bb_00003.npy"), "labels/p_bb_00003.npy: not a .npy file (no \\x93NUMPY magic)");
  EXPECT_EQ(
      error_of(npy_bytes(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", raw<float>({1})), "big.npy"),
      "big.npy: unsupported .npy element type '>f4' (supported: little-endian float32 <f4, float64 <f8, int64 <i8, uint8 |u1, bool |b1)");
  EXPECT_NE(error_of(npy_bytes(1, "{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }", raw<std::int32_t>({1}))).find("'<i4'"),
            std::string::npos);
  EXPECT_NE(error_of(npy_bytes(1, "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", "xxxxxxxx")).find("unsupported"),
            std::string::npos);
  EXPECT_EQ(error_of(npy_bytes(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", raw<float>({1, 2, 3, 4})), "f.npy"),
            "f.npy: Fortran-order .npy arrays are not supported (save with C order)");
  EXPECT_EQ(error_of(npy_bytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (9, 5), }", raw<float>({1, 2})), "short.npy"),
            "short.npy: .npy data is 8 bytes, expected 180 for shape (9, 5) of <f4");
  std::string future = npy_bytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", raw<float>({1}));
  future[6] = 4;
  EXPECT_EQ(error_of(future, "v4.npy"), "v4.npy: unsupported .npy format version 4.0");
  EXPECT_NE(error_of(npy_bytes(1, "{'descr': '<f4', 'fortran_order': False}", "")).find("lacks"), std::string::npos);
}

TEST(Npy, WritesWhatNumpyWritesAndReadsItBack) {
  const NpyArray array = npy_from_floats({1, 2, 3, 4, 5, 6, 7, 8, 9}, {9});
  const std::string bytes = format_npy(array);
  // Byte for byte numpy.save(np.arange(1, 10, dtype=np.float32)): version 1.0, 118-byte header.
  EXPECT_EQ(bytes, npy_bytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (9,), }", raw<float>({1, 2, 3, 4, 5, 6, 7, 8, 9})));
  EXPECT_EQ(bytes.size(), 128u + 36u);  // magic, version and header padded to 128 bytes, then 9 x 4 data bytes
  const fs::path file = fs::temp_directory_path() / ("hpsearch_npy_" + std::to_string(std::random_device{}()) + ".npy");
  const NpyArray boxes = npy_from_floats(std::vector<float>(20 * 9 * 4, 0.5f), {20, 9, 4});
  write_npy(file, boxes);
  const NpyArray back = read_npy(file);
  fs::remove(file);
  EXPECT_EQ(back.shape, (std::vector<std::int64_t>{20, 9, 4}));
  EXPECT_EQ(back.to_floats(), boxes.to_floats());
  try {
    read_npy(file);
    FAIL() << "read a missing file";
  } catch (const UserError& e) {
    EXPECT_EQ(std::string(e.what()), file.string() + ": cannot open the .npy file");
  }
}
