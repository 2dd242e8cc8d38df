#include "trainers/core/data/npy.hpp"

#include <cstring>
#include <fstream>
#include <sstream>

#include "core/errors.hpp"

namespace hpsearch::data {
namespace {

// The header is a Python dict literal, e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (9, 5), }.
// NumPy writes exactly three keys; this reads them in any order and refuses anything else.
class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& name) : s_(text), name_(name) {}

  void parse(std::string& descr, bool& fortran_order, std::vector<std::int64_t>& shape) {
    bool has_descr = false, has_order = false, has_shape = false;
    expect('{');
    while (true) {
      skip_spaces();
      if (peek() == '}') break;
      const std::string key = quoted();
      expect(':');
      skip_spaces();
      if (key == "descr") {
        descr = quoted();
        has_descr = true;
      } else if (key == "fortran_order") {
        fortran_order = boolean();
        has_order = true;
      } else if (key == "shape") {
        shape = tuple();
        has_shape = true;
      } else {
        fail("unexpected key '" + key + "' in the header");
      }
      skip_spaces();
      if (peek() == ',') ++i_;
    }
    if (!has_descr || !has_order || !has_shape) fail("the header lacks descr, fortran_order or shape");
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw UserError(name_ + ": not a valid .npy file: " + what); }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void skip_spaces() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t')) ++i_;
  }
  void expect(char c) {
    skip_spaces();
    if (peek() != c) fail(std::string("expected '") + c + "' in the header at byte " + std::to_string(i_));
    ++i_;
  }
  std::string quoted() {
    skip_spaces();
    const char q = peek();
    if (q != '\'' && q != '"') fail("expected a quoted string in the header at byte " + std::to_string(i_));
    const auto end = s_.find(q, i_ + 1);
    if (end == std::string::npos) fail("unterminated string in the header");
    std::string out = s_.substr(i_ + 1, end - i_ - 1);
    i_ = end + 1;
    return out;
  }
  bool boolean() {
    if (s_.compare(i_, 4, "True") == 0) return i_ += 4, true;
    if (s_.compare(i_, 5, "False") == 0) return i_ += 5, false;
    fail("fortran_order is neither True nor False");
  }
  std::vector<std::int64_t> tuple() {
    std::vector<std::int64_t> out;
    expect('(');
    while (true) {
      skip_spaces();
      if (peek() == ')') {
        ++i_;
        return out;
      }
      std::int64_t value = 0;
      bool digits = false;
      while (peek() >= '0' && peek() <= '9') {
        value = value * 10 + (s_[i_++] - '0');
        digits = true;
        if (value > (std::int64_t{1} << 40)) fail("a dimension of the shape is too large");
      }
      if (!digits) fail("the shape is not a tuple of integers");
      out.push_back(value);
      skip_spaces();
      if (peek() == ',') ++i_;
    }
  }

  const std::string& s_;
  const std::string& name_;
  std::size_t i_ = 0;
};

NpyType type_of(const std::string& descr, const std::string& name) {
  if (descr == "<f4") return NpyType::Float32;
  if (descr == "<f8") return NpyType::Float64;
  if (descr == "<i8") return NpyType::Int64;
  if (descr == "|u1" || descr == "<u1" || descr == ">u1") return NpyType::UInt8;  // one byte: no order
  if (descr == "|b1") return NpyType::Bool;
  throw UserError(name + ": unsupported .npy element type '" + descr +
                  "' (supported: little-endian float32 <f4, float64 <f8, int64 <i8, uint8 |u1, bool |b1)");
}

template <typename T>
void append_floats(const std::vector<std::uint8_t>& bytes, std::vector<float>& out) {
  const std::size_t n = bytes.size() / sizeof(T);
  out.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, bytes.data() + i * sizeof(T), sizeof(T));  // unaligned in the file buffer
    out[i] = static_cast<float>(v);
  }
}

}  // namespace

std::size_t npy_item_size(NpyType type) {
  switch (type) {
    case NpyType::Float32: return 4;
    case NpyType::Float64: return 8;
    case NpyType::Int64: return 8;
    case NpyType::UInt8: return 1;
    case NpyType::Bool: return 1;
  }
  return 1;
}

const char* npy_descr(NpyType type) {
  switch (type) {
    case NpyType::Float32: return "<f4";
    case NpyType::Float64: return "<f8";
    case NpyType::Int64: return "<i8";
    case NpyType::UInt8: return "|u1";
    case NpyType::Bool: return "|b1";
  }
  return "?";
}

std::string shape_string(const std::vector<std::int64_t>& shape) {
  std::string out = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + (shape.size() == 1 ? ",)" : ")");
}

std::int64_t NpyArray::size() const {
  std::int64_t n = 1;
  for (const auto d : shape) n *= d;
  return n;
}

std::vector<float> NpyArray::to_floats() const {
  std::vector<float> out;
  switch (type) {
    case NpyType::Float32: append_floats<float>(bytes, out); break;
    case NpyType::Float64: append_floats<double>(bytes, out); break;
    case NpyType::Int64: append_floats<std::int64_t>(bytes, out); break;
    case NpyType::UInt8: append_floats<std::uint8_t>(bytes, out); break;
    case NpyType::Bool:
      out.resize(bytes.size());
      for (std::size_t i = 0; i < bytes.size(); ++i) out[i] = bytes[i] ? 1.f : 0.f;
      break;
  }
  return out;
}

NpyArray parse_npy(const std::string& content, const std::string& name) {
  static const char kMagic[] = "\x93NUMPY";
  if (content.size() < 10 || content.compare(0, 6, kMagic, 6) != 0) throw UserError(name + ": not a .npy file (no \\x93NUMPY magic)");
  const int major = static_cast<unsigned char>(content[6]);
  const auto byte = [&](std::size_t i) { return static_cast<std::size_t>(static_cast<unsigned char>(content[i])); };
  std::size_t header_len = 0, header_start = 0;
  if (major == 1) {
    header_len = byte(8) | byte(9) << 8;
    header_start = 10;
  } else if (major == 2 || major == 3) {  // 3.0 only allows UTF-8 in the header; same layout as 2.0
    if (content.size() < 12) throw UserError(name + ": truncated .npy header");
    header_len = byte(8) | byte(9) << 8 | byte(10) << 16 | byte(11) << 24;
    header_start = 12;
  } else {
    throw UserError(name + ": unsupported .npy format version " + std::to_string(major) + "." + std::to_string(byte(7)));
  }
  if (content.size() < header_start + header_len) throw UserError(name + ": truncated .npy header");
  const std::string header = content.substr(header_start, header_len);
  std::string descr;
  bool fortran_order = false;
  NpyArray array;
  HeaderParser(header, name).parse(descr, fortran_order, array.shape);
  array.type = type_of(descr, name);
  // A 0-d or 1-d array reads the same in both orders; beyond that Fortran order would transpose.
  if (fortran_order && array.shape.size() > 1) throw UserError(name + ": Fortran-order .npy arrays are not supported (save with C order)");
  const std::size_t data_bytes = static_cast<std::size_t>(array.size()) * npy_item_size(array.type);
  const std::size_t have = content.size() - header_start - header_len;
  if (have != data_bytes) {
    throw UserError(name + ": .npy data is " + std::to_string(have) + " bytes, expected " + std::to_string(data_bytes) + " for shape " +
                    shape_string(array.shape) + " of " + descr);
  }
  array.bytes.assign(content.begin() + static_cast<std::ptrdiff_t>(header_start + header_len), content.end());
  return array;
}

NpyArray read_npy(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw UserError(file.string() + ": cannot open the .npy file");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return parse_npy(buffer.str(), file.string());
}

std::string format_npy(const NpyArray& array) {
  std::string header =
      std::string("{'descr': '") + npy_descr(array.type) + "', 'fortran_order': False, 'shape': " + shape_string(array.shape) + ", }";
  // NumPy pads with spaces and ends with a newline so that the data starts 64-byte aligned.
  const std::size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  out.append(reinterpret_cast<const char*>(array.bytes.data()), array.bytes.size());
  return out;
}

void write_npy(const std::filesystem::path& file, const NpyArray& array) {
  const std::string bytes = format_npy(array);
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw Error(file.string() + ": cannot write the .npy file");
}

NpyArray npy_from_floats(const std::vector<float>& values, std::vector<std::int64_t> shape) {
  NpyArray array;
  array.type = NpyType::Float32;
  array.shape = std::move(shape);
  if (array.size() != static_cast<std::int64_t>(values.size())) {
    throw Error("npy_from_floats: " + std::to_string(values.size()) + " values for shape " + shape_string(array.shape));
  }
  array.bytes.resize(values.size() * sizeof(float));
  std::memcpy(array.bytes.data(), values.data(), array.bytes.size());
  return array;
}

}  // namespace hpsearch::data
