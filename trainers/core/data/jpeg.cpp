#include "trainers/core/data/jpeg.hpp"

// jpeglib.h needs size_t and FILE declared before it.
#include <jpeglib.h>

#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/errors.hpp"

namespace hpsearch::data {
namespace {

// libjpeg reports fatal errors through error_exit, which must not return. Throwing a C++
// exception through its C frames is undefined, so error_exit longjmps back to our frame, which
// then throws. Nothing with a destructor lives between setjmp and the libjpeg calls.
struct ErrorManager {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void on_error(j_common_ptr info) {
  auto* manager = reinterpret_cast<ErrorManager*>(info->err);
  (*info->err->format_message)(info, manager->message);
  std::longjmp(manager->jump, 1);
}

void ignore_message(j_common_ptr, int) {}  // corrupt-data warnings: libjpeg recovers, so do we

// Decodes into `image`; returns false and fills `message` on failure. No C++ objects with
// destructors are created in this function after setjmp, so the longjmp skips nothing.
bool decode(const std::uint8_t* data, std::size_t size, RgbImage& image, char* message, std::size_t message_size) {
  jpeg_decompress_struct info;
  ErrorManager errors;
  info.err = jpeg_std_error(&errors.pub);
  errors.pub.error_exit = on_error;
  errors.pub.emit_message = ignore_message;
  if (setjmp(errors.jump)) {
    std::snprintf(message, message_size, "%s", errors.message);
    jpeg_destroy_decompress(&info);
    return false;
  }
  jpeg_create_decompress(&info);
  jpeg_mem_src(&info, const_cast<unsigned char*>(data), static_cast<unsigned long>(size));
  jpeg_read_header(&info, TRUE);
  if (info.jpeg_color_space == JCS_CMYK || info.jpeg_color_space == JCS_YCCK) {
    std::snprintf(message, message_size, "CMYK JPEG images are not supported (use RGB)");
    jpeg_destroy_decompress(&info);
    return false;
  }
  info.out_color_space = JCS_RGB;  // libjpeg-turbo expands grayscale to RGB
  jpeg_start_decompress(&info);
  image.width = static_cast<int>(info.output_width);
  image.height = static_cast<int>(info.output_height);
  image.pixels.resize(static_cast<std::size_t>(image.width) * image.height * 3);
  while (info.output_scanline < info.output_height) {
    JSAMPROW row = image.pixels.data() + static_cast<std::size_t>(info.output_scanline) * image.width * 3;
    jpeg_read_scanlines(&info, &row, 1);
  }
  jpeg_finish_decompress(&info);
  jpeg_destroy_decompress(&info);
  return true;
}

bool encode(const RgbImage& image, int quality, unsigned char** buffer, unsigned long* size, char* message, std::size_t message_size) {
  jpeg_compress_struct info;
  ErrorManager errors;
  info.err = jpeg_std_error(&errors.pub);
  errors.pub.error_exit = on_error;
  if (setjmp(errors.jump)) {
    std::snprintf(message, message_size, "%s", errors.message);
    jpeg_destroy_compress(&info);
    return false;
  }
  jpeg_create_compress(&info);
  jpeg_mem_dest(&info, buffer, size);
  info.image_width = static_cast<JDIMENSION>(image.width);
  info.image_height = static_cast<JDIMENSION>(image.height);
  info.input_components = 3;
  info.in_color_space = JCS_RGB;
  jpeg_set_defaults(&info);
  jpeg_set_quality(&info, quality, TRUE);
  jpeg_start_compress(&info, TRUE);
  while (info.next_scanline < info.image_height) {
    JSAMPROW row = const_cast<unsigned char*>(image.pixels.data()) + static_cast<std::size_t>(info.next_scanline) * image.width * 3;
    jpeg_write_scanlines(&info, &row, 1);
  }
  jpeg_finish_compress(&info);
  jpeg_destroy_compress(&info);
  return true;
}

}  // namespace

RgbImage decode_jpeg(const std::uint8_t* data, std::size_t size, const std::string& name) {
  RgbImage image;
  char message[JMSG_LENGTH_MAX + 64] = {0};
  if (size == 0) throw UserError(name + ": empty file, not a JPEG image");
  if (!decode(data, size, image, message, sizeof message)) throw UserError(name + ": cannot decode the JPEG image: " + message);
  return image;
}

RgbImage read_jpeg(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw UserError(file.string() + ": cannot open the JPEG file");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  const std::string bytes = buffer.str();
  return decode_jpeg(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), file.string());
}

std::string encode_jpeg(const RgbImage& image, int quality) {
  if (image.width <= 0 || image.height <= 0 || image.pixels.size() != static_cast<std::size_t>(image.width) * image.height * 3) {
    throw Error("encode_jpeg: the pixel buffer does not match " + std::to_string(image.width) + "x" + std::to_string(image.height) + "x3");
  }
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  char message[JMSG_LENGTH_MAX + 64] = {0};
  const bool ok = encode(image, quality, &buffer, &size, message, sizeof message);
  std::string out;
  if (ok) out.assign(reinterpret_cast<const char*>(buffer), size);
  std::free(buffer);  // jpeg_mem_dest allocates with malloc, also on failure
  if (!ok) throw Error(std::string("cannot encode a JPEG image: ") + message);
  return out;
}

void write_jpeg(const std::filesystem::path& file, const RgbImage& image, int quality) {
  const std::string bytes = encode_jpeg(image, quality);
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw Error(file.string() + ": cannot write the JPEG file");
}

}  // namespace hpsearch::data
