#pragma once
// Generates the two ball data sets in the seed's on-disk format (see trainers/torch/data/balls.hpp):
//   balls:     img_%05d.jpg (RGB 100x100) + p_bb_%05d.npy float32 (9, 5): presence, x1, y1, x2, y2
//   balls-seq: p_%05d.npy float32 (9,) + seq_bb_%05d.npy float32 (20, 9, 4): x1, y1, x2, y2 per frame
// Three balls of distinct colours among the nine, on a procedural floor seen from above with a
// slight tilt (balls near the bottom edge look a little larger), moving under a 2-D simulation
// whose hidden per-ball mass, friction and restitution decide where they go, as in COPHY.
// Torch-free: make-data (orchestrator/) links it without LibTorch. Deterministic in (seed, index).
#include <array>
#include <cstdint>
#include <filesystem>
#include <vector>

#include "trainers/core/data/jpeg.hpp"

namespace hpsearch::data {

struct BallColourRgb {
  const char* name;
  std::uint8_t r, g, b;
};
// Same order as kBallColours in balls.hpp (the row of each colour in the label files).
inline constexpr std::array<BallColourRgb, 9> kBallColourRgb = {{{"red", 230, 25, 25},
                                                                 {"green", 0, 128, 0},
                                                                 {"blue", 30, 30, 235},
                                                                 {"yellow", 245, 230, 20},
                                                                 {"lime", 130, 255, 30},
                                                                 {"purple", 128, 0, 128},
                                                                 {"orange", 255, 140, 0},
                                                                 {"cyan", 20, 230, 240},
                                                                 {"magenta", 255, 30, 210}}};

inline constexpr int kImageSize = 100;      // images are kImageSize x kImageSize
inline constexpr double kBallRadius = 5.5;  // physical radius in pixels: balls about 11 px across
inline constexpr int kFrames = 20;          // frames per sequence
inline constexpr int kBallsPerScene = 3;

// The hidden properties, each drawn from the COPHY sets {1, 2, 5}, {0.1, 0.5, 1}, {0.1, 0.5, 1}.
struct Ball {
  int colour = 0;         // row in kBallColourRgb
  double x = 0, y = 0;    // centre, pixels (x right, y down)
  double vx = 0, vy = 0;  // pixels per frame
  double mass = 1, friction = 0.5, restitution = 0.5;
};

struct Physics {
  double radius = kBallRadius;  // collision radius
  double size = kImageSize;     // walls at 0 and size on both axes
  double gravity = 0.1;         // friction deceleration = friction x gravity, pixels / frame^2
  int substeps = 10;            // integration steps per frame (a ball moves < 1 px per step)
};

// Advances the balls by one frame: Coulomb friction, wall bounces with the ball's restitution,
// ball-ball impulses along the line of centres with the product of the two restitutions (the
// rule of Bullet, COPHY's engine) and positional correction by inverse mass.
void step_balls(std::vector<Ball>& balls, const Physics& physics = {});
double kinetic_energy(const std::vector<Ball>& balls);

// The radius a ball is drawn with at height y: 5.05 px at the top wall to 6.1 px at the bottom
// (the camera looks down with a slight tilt), about 11 px across on average.
double drawn_radius(double y);

struct PixelBox {
  int x1, y1, x2, y2;  // inclusive pixel bounds of the pixels whose centre the drawn disc covers
};
PixelBox ball_box(double x, double y);

// One image sample: the picture and its (9, 5) label rows, row-major.
struct ImageSample {
  RgbImage image;
  std::array<float, 45> labels{};
  std::vector<Ball> balls;
};
ImageSample make_image_sample(std::uint64_t seed, std::int64_t index);

// One sequence sample: the presence vector and the (20, 9, 4) boxes, row-major.
struct SequenceSample {
  std::array<float, 9> presence{};
  std::vector<float> boxes;   // kFrames * 9 * 4
  std::vector<Ball> initial;  // the balls at frame 0, with their hidden properties
};
SequenceSample make_sequence_sample(std::uint64_t seed, std::int64_t index);

// The balls of a new scene: distinct colours, positions inside the walls and not overlapping,
// hidden properties drawn from their sets, velocities of 1 to 4.5 px per frame (half the time
// one ball is aimed at another so that collisions are common).
std::vector<Ball> random_balls(std::uint64_t seed);

enum class BallDataKind { Images, Sequences };

struct GenerationReport {
  std::int64_t samples = 0;
  double seconds = 0;
  std::array<float, 4> box_min{}, box_max{};  // over every box written (x1, y1, x2, y2)
};
// Writes samples 0..count-1 into `folder` (which must exist) on `threads` threads (0: all cores).
GenerationReport generate_ball_data(BallDataKind kind, const std::filesystem::path& folder, std::int64_t count, std::uint64_t seed,
                                    int threads = 0);

}  // namespace hpsearch::data
