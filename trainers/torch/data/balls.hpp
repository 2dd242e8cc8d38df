#pragma once
// The two ball data sets of the seed project (COPHY's mini_balls and mini_balls_seq), loaded into
// tensors. The on-disk format is the original one:
//   mini_balls:     img_%05d.jpg (RGB 100x100) + p_bb_%05d.npy (9, 5): presence, x1, y1, x2, y2
//   mini_balls_seq: p_%05d.npy (9,) presence + seq_bb_%05d.npy (20, 9, 4): x1, y1, x2, y2 per frame
// Rows follow kBallColours. Boxes are in pixels here; the trainers divide by kBoxScale.
#include <torch/torch.h>

#include <array>
#include <filesystem>

namespace hpsearch::data {

inline constexpr std::array<const char*, 9> kBallColours = {"red",    "green",  "blue", "yellow", "lime",
                                                            "purple", "orange", "cyan", "magenta"};
inline constexpr std::array<float, 4> kBoxScale = {89.f, 88.f, 99.f, 99.f};  // dataset-wide max of x1, y1, x2, y2

struct BallImages {
  torch::Tensor images;    // uint8 {N, 3, 100, 100} (CHW, RGB), on the CPU
  torch::Tensor presence;  // float32 {N, 9}, 0 or 1
  torch::Tensor boxes;     // float32 {N, 9, 4} in pixels (zero rows for absent colours)
};

struct BallSequences {
  torch::Tensor presence;  // float32 {N, 9}
  torch::Tensor boxes;     // float32 {N, 20, 9, 4} in pixels
};

// Throw UserError naming the folder or file and, for a missing or empty folder, the
// command that makes one (hpsearch make-data balls|balls-seq --out DIR).
BallImages load_ball_images(const std::filesystem::path& folder);
BallSequences load_ball_sequences(const std::filesystem::path& folder);

}  // namespace hpsearch::data
