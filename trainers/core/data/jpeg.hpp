#pragma once
// RGB JPEG decoding and encoding with libjpeg(-turbo), for the ball images. Torch-free so that
// make-data (orchestrator/) encodes without LibTorch.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace hpsearch::data {

struct RgbImage {
  int width = 0, height = 0;
  std::vector<std::uint8_t> pixels;  // height x width x 3, row-major, RGB interleaved (HWC)
};

// Decodes JPEG bytes into RGB (grayscale JPEGs are expanded to RGB; CMYK is refused).
// `name` (the file) prefixes every error message; errors are hpsearch::UserError.
RgbImage decode_jpeg(const std::uint8_t* data, std::size_t size, const std::string& name);
RgbImage read_jpeg(const std::filesystem::path& file);

// Encodes an RGB image (quality 1..100; 4:2:0 chroma subsampling, libjpeg's default).
std::string encode_jpeg(const RgbImage& image, int quality = 92);
void write_jpeg(const std::filesystem::path& file, const RgbImage& image, int quality = 92);

}  // namespace hpsearch::data
