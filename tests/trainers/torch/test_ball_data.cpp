// The ball data loaders against files in the original format written here by hand (the .npy
// bytes laid out by this test, the JPEG written with libjpeg directly), and the JPEG codec.
#include <gtest/gtest.h>
#include <jpeglib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "core/errors.hpp"
#include "trainers/core/data/jpeg.hpp"
#include "trainers/torch/data/balls.hpp"

using namespace hpsearch;
using namespace hpsearch::data;
namespace fs = std::filesystem;

namespace {

class TempFolder {
 public:
  TempFolder() {
    std::random_device rd;
    path_ = fs::temp_directory_path() / ("hpsearch_balls_" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~TempFolder() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void write_file(const fs::path& file, const std::string& bytes) {
  std::ofstream out(file, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// numpy.save's layout: magic, version 1.0, header length, dict padded to 64 bytes, data.
std::string npy_v1(const std::string& descr, const std::string& shape, const std::string& data) {
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  return std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(header.size() & 0xff) + static_cast<char>(header.size() >> 8) + header +
         data;
}

template <typename T>
std::string raw(const std::vector<T>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

// A 100x100 RGB JPEG in four flat quadrants, written with libjpeg itself (quality 100, no chroma
// subsampling) so that the loader is checked against a writer other than its own.
void write_quadrant_jpeg(const fs::path& file, int width = 100, int height = 100) {
  std::vector<unsigned char> pixels(static_cast<std::size_t>(width) * height * 3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      unsigned char* p = &pixels[(static_cast<std::size_t>(y) * width + x) * 3];
      const bool right = x >= width / 2, bottom = y >= height / 2;
      const unsigned char rgb[4][3] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {255, 255, 255}};  // TL red, TR green, BL blue, BR white
      const int q = (bottom ? 2 : 0) + (right ? 1 : 0);
      p[0] = rgb[q][0], p[1] = rgb[q][1], p[2] = rgb[q][2];
    }
  }
  jpeg_compress_struct info;
  jpeg_error_mgr errors;
  info.err = jpeg_std_error(&errors);
  jpeg_create_compress(&info);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&info, &buffer, &size);
  info.image_width = width, info.image_height = height, info.input_components = 3, info.in_color_space = JCS_RGB;
  jpeg_set_defaults(&info);
  jpeg_set_quality(&info, 100, TRUE);
  for (int c = 0; c < 3; ++c) info.comp_info[c].h_samp_factor = info.comp_info[c].v_samp_factor = 1;
  jpeg_start_compress(&info, TRUE);
  while (info.next_scanline < info.image_height) {
    JSAMPROW row = &pixels[static_cast<std::size_t>(info.next_scanline) * width * 3];
    jpeg_write_scanlines(&info, &row, 1);
  }
  jpeg_finish_compress(&info);
  jpeg_destroy_compress(&info);
  write_file(file, std::string(reinterpret_cast<char*>(buffer), size));
  std::free(buffer);
}

// (9, 5) labels: red (row 0), lime (row 4) and magenta (row 8) present, as float64 (NumPy's default).
std::vector<double> labels_of_sample(int sample) {
  std::vector<double> rows(45, 0.0);
  const auto set = [&](int row, double x1, double y1, double x2, double y2) {
    rows[row * 5] = 1, rows[row * 5 + 1] = x1, rows[row * 5 + 2] = y1, rows[row * 5 + 3] = x2, rows[row * 5 + 4] = y2;
  };
  set(0, 10 + sample, 20, 21 + sample, 31);
  set(4, 50, 60, 61, 71);
  set(8, 89, 88, 99, 99);
  return rows;
}

std::string error_of(const std::function<void()>& load) {
  try {
    load();
  } catch (const UserError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST(BallData, LoadsImagesAndLabelsInTheOriginalFormat) {
  TempFolder dir;
  for (int i = 0; i < 2; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "img_%05d.jpg", i);
    write_quadrant_jpeg(dir.path() / name);
    std::snprintf(name, sizeof name, "p_bb_%05d.npy", i);
    write_file(dir.path() / name, npy_v1("<f8", "(9, 5)", raw(labels_of_sample(i))));
  }
  const BallImages data = load_ball_images(dir.path());
  ASSERT_EQ(data.images.sizes(), (std::vector<std::int64_t>{2, 3, 100, 100}));
  EXPECT_EQ(data.images.scalar_type(), torch::kUInt8);
  EXPECT_EQ(data.presence.sizes(), (std::vector<std::int64_t>{2, 9}));
  EXPECT_EQ(data.boxes.sizes(), (std::vector<std::int64_t>{2, 9, 4}));
  // Channels are R, G, B in that order (CHW): each quadrant's colour lands in its channel.
  const auto at = [&](int c, int y, int x) { return data.images[1][c][y][x].item<int>(); };
  EXPECT_NEAR(at(0, 10, 10), 255, 3);  // top left red
  EXPECT_NEAR(at(1, 10, 10), 0, 3);
  EXPECT_NEAR(at(2, 10, 10), 0, 3);
  EXPECT_NEAR(at(0, 10, 90), 0, 3);  // top right green
  EXPECT_NEAR(at(1, 10, 90), 255, 3);
  EXPECT_NEAR(at(2, 90, 10), 255, 3);  // bottom left blue
  EXPECT_NEAR(at(1, 90, 10), 0, 3);
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(at(c, 90, 90), 255, 3);  // bottom right white
  // Presence is column 0 in colour order; boxes are columns 1..4 in pixels, absent rows zero.
  EXPECT_TRUE(torch::equal(data.presence[0], torch::tensor({1.f, 0.f, 0.f, 0.f, 1.f, 0.f, 0.f, 0.f, 1.f})));
  EXPECT_EQ(std::string(kBallColours[4]), "lime");
  EXPECT_TRUE(torch::equal(data.boxes[1][0], torch::tensor({11.f, 20.f, 22.f, 31.f})));  // sample 1's red box
  EXPECT_TRUE(torch::equal(data.boxes[0][4], torch::tensor({50.f, 60.f, 61.f, 71.f})));
  EXPECT_TRUE(torch::equal(data.boxes[0][1], torch::zeros({4})));
  // Divided by BBOX_SCALE, the dataset-wide maxima (magenta's box here) become 1.
  const auto scale = torch::tensor({kBoxScale[0], kBoxScale[1], kBoxScale[2], kBoxScale[3]});
  EXPECT_TRUE(torch::allclose(data.boxes[0][8] / scale, torch::ones({4})));
}

TEST(BallData, LoadsSequencesInTheOriginalFormat) {
  TempFolder dir;
  std::vector<float> boxes(20 * 9 * 4);
  for (std::size_t i = 0; i < boxes.size(); ++i) boxes[i] = static_cast<float>(i);  // value = C-order index
  write_file(dir.path() / "seq_bb_00000.npy", npy_v1("<f4", "(20, 9, 4)", raw(boxes)));
  write_file(dir.path() / "p_00000.npy", npy_v1("<f8", "(9,)", raw(std::vector<double>{0, 1, 0, 0, 0, 1, 0, 1, 0})));
  const BallSequences data = load_ball_sequences(dir.path());
  ASSERT_EQ(data.boxes.sizes(), (std::vector<std::int64_t>{1, 20, 9, 4}));
  EXPECT_TRUE(torch::equal(data.presence[0], torch::tensor({0.f, 1.f, 0.f, 0.f, 0.f, 1.f, 0.f, 1.f, 0.f})));
  EXPECT_EQ(data.boxes[0][19][7][2].item<float>(), static_cast<float>((19 * 9 + 7) * 4 + 2));  // frame 19 (the target), cyan, x2
  EXPECT_EQ(data.boxes[0][0][1][0].item<float>(), 4.f);
}

TEST(BallData, ErrorsNameTheFolderTheFileAndTheMakeDataCommand) {
  TempFolder dir;
  const fs::path missing = dir.path() / "mini_balls";
  EXPECT_EQ(
      error_of([&] { load_ball_images(missing); }),
      missing.string() +
          ": no such data folder; correct the path, or, to generate a synthetic data set there, run: hpsearch make-data balls --out " +
          missing.string());
  EXPECT_EQ(
      error_of([&] { load_ball_sequences(missing); }),
      missing.string() +
          ": no such data folder; correct the path, or, to generate a synthetic data set there, run: hpsearch make-data balls-seq --out " +
          missing.string());
  EXPECT_NE(
      error_of([&] { load_ball_images(dir.path()); }).find("files in the data folder; make them with: hpsearch make-data balls --out "),
      std::string::npos);
  write_quadrant_jpeg(dir.path() / "img_00000.jpg");
  write_quadrant_jpeg(dir.path() / "img_00001.jpg");
  write_file(dir.path() / "p_bb_00000.npy", npy_v1("<f8", "(9, 5)", raw(labels_of_sample(0))));
  EXPECT_EQ(error_of([&] { load_ball_images(dir.path()); }),
            (dir.path() / "p_bb_00001.npy").string() + ": missing (img_00001.jpg has no labels)");
  write_file(dir.path() / "p_bb_00001.npy", npy_v1("<f8", "(9, 4)", raw(std::vector<double>(36, 0.0))));
  EXPECT_EQ(error_of([&] { load_ball_images(dir.path()); }), (dir.path() / "p_bb_00001.npy").string() + ": shape (9, 4), expected (9, 5)");
  write_file(dir.path() / "p_bb_00001.npy", npy_v1("<f8", "(9, 5)", raw(labels_of_sample(1))));
  write_quadrant_jpeg(dir.path() / "img_00001.jpg", 64, 48);
  EXPECT_EQ(error_of([&] { load_ball_images(dir.path()); }),
            (dir.path() / "img_00001.jpg").string() + ": image is 64x48, expected 100x100 like img_00000.jpg");
  write_file(dir.path() / "img_00001.jpg", "not a jpeg");
  EXPECT_NE(
      error_of([&] { load_ball_images(dir.path()); }).find((dir.path() / "img_00001.jpg").string() + ": cannot decode the JPEG image"),
      std::string::npos);
  write_file(dir.path() / "p_bb_00002.npy", npy_v1("<f8", "(9, 5)", raw(labels_of_sample(2))));
  EXPECT_EQ(error_of([&] { load_ball_images(dir.path()); }),
            (dir.path() / "img_00002.jpg").string() + ": missing (p_bb_00002.npy has no counterpart)");
}

TEST(Jpeg, EncodesAndDecodesRgb) {
  RgbImage image;
  image.width = 40, image.height = 30;
  image.pixels.resize(40 * 30 * 3);
  for (int y = 0; y < 30; ++y) {
    for (int x = 0; x < 40; ++x) {
      unsigned char* p = &image.pixels[(y * 40 + x) * 3];
      p[0] = static_cast<unsigned char>(x * 6), p[1] = static_cast<unsigned char>(y * 8), p[2] = 128;  // smooth gradients
    }
  }
  const std::string bytes = encode_jpeg(image, 95);
  ASSERT_GT(bytes.size(), 4u);
  EXPECT_EQ(static_cast<unsigned char>(bytes[0]), 0xFF);  // SOI marker
  EXPECT_EQ(static_cast<unsigned char>(bytes[1]), 0xD8);
  const RgbImage back = decode_jpeg(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), "g.jpg");
  ASSERT_EQ(back.width, 40);
  ASSERT_EQ(back.height, 30);
  double error = 0;
  for (std::size_t i = 0; i < image.pixels.size(); ++i) error += std::abs(back.pixels[i] - image.pixels[i]);
  EXPECT_LT(error / image.pixels.size(), 3.0);  // lossy, but close on smooth content
  try {
    decode_jpeg(reinterpret_cast<const std::uint8_t*>(bytes.data()), 100, "cut.jpg");  // truncated: libjpeg pads, still an image
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("cut.jpg: "), std::string::npos);
  }
  EXPECT_THROW(decode_jpeg(reinterpret_cast<const std::uint8_t*>("GIF89a......"), 12, "x.gif"), UserError);
}
