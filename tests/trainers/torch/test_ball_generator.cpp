// The ball generator: its files load back through the real loaders, its scenes and labels agree,
// its simulation keeps what physics keeps, and a seed gives the same data.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "trainers/core/data/balls_generator.hpp"
#include "trainers/torch/data/balls.hpp"

using namespace hpsearch::data;
namespace fs = std::filesystem;

namespace {

class TempFolder {
 public:
  TempFolder() {
    std::random_device rd;
    path_ = fs::temp_directory_path() / ("hpsearch_gen_" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~TempFolder() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string file_bytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Ball ball_at(double x, double y, double vx, double vy, double mass = 1, double friction = 0, double restitution = 1) {
  Ball b;
  b.x = x, b.y = y, b.vx = vx, b.vy = vy, b.mass = mass, b.friction = friction, b.restitution = restitution;
  return b;
}

}  // namespace

TEST(BallGenerator, ColoursFollowTheLoaderRowOrder) {
  for (std::size_t i = 0; i < kBallColours.size(); ++i) EXPECT_STREQ(kBallColourRgb[i].name, kBallColours[i]);
}

TEST(BallGenerator, ImageFilesLoadBackWithConsistentLabels) {
  TempFolder dir;
  const auto report = generate_ball_data(BallDataKind::Images, dir.path(), 60, 5, 2);
  EXPECT_EQ(report.samples, 60);
  const BallImages data = load_ball_images(dir.path());
  ASSERT_EQ(data.images.sizes(), (std::vector<std::int64_t>{60, 3, 100, 100}));
  EXPECT_TRUE(torch::equal(data.presence.sum(1), torch::full({60}, 3.f)));  // exactly three balls
  const auto present = data.presence.unsqueeze(2).expand({60, 9, 4}) > 0;
  EXPECT_TRUE(torch::equal(data.boxes.masked_select(~present), torch::zeros({60 * 6 * 4})));  // absent rows are zero
  const auto boxes = data.boxes.masked_select(present).view({-1, 4});
  EXPECT_GE(boxes.min().item<float>(), 0.f);
  EXPECT_LE(boxes.max().item<float>(), 99.f);
  const auto width = boxes.select(1, 2) - boxes.select(1, 0) + 1, height = boxes.select(1, 3) - boxes.select(1, 1) + 1;
  EXPECT_GE(width.min().item<float>(), 9.f);  // about 11 px across (cut by an edge at worst)
  EXPECT_LE(width.max().item<float>(), 13.f);
  EXPECT_GE(height.min().item<float>(), 9.f);
  EXPECT_LE(height.max().item<float>(), 13.f);
  // The pixel at each box's centre has the colour of that box's row: nearest palette colour,
  // with the palette darkened as the shading at a ball's centre darkens it.
  int right = 0, total = 0;
  for (int n = 0; n < 60; ++n) {
    for (int row = 0; row < 9; ++row) {
      if (data.presence[n][row].item<float>() == 0) continue;
      const auto box = data.boxes[n][row];
      const int cx = static_cast<int>((box[0].item<float>() + box[2].item<float>()) / 2),
                cy = static_cast<int>((box[1].item<float>() + box[3].item<float>()) / 2);
      const auto pixel = data.images[n].index({torch::indexing::Slice(), cy, cx}).to(torch::kFloat32);
      int nearest = -1;
      double best = 1e18;
      for (int c = 0; c < 9; ++c) {
        const auto p = kBallColourRgb[static_cast<std::size_t>(c)];
        const double d = std::pow(pixel[0].item<float>() - 0.875 * p.r, 2) + std::pow(pixel[1].item<float>() - 0.875 * p.g, 2) +
                         std::pow(pixel[2].item<float>() - 0.875 * p.b, 2);
        if (d < best) best = d, nearest = c;
      }
      right += nearest == row;
      ++total;
    }
  }
  EXPECT_GE(right, total - 2) << right << " of " << total << " ball centres have their row's colour";  // two overlapping balls may hide one
}

TEST(BallGenerator, SequenceFilesLoadBackAndMatchTheSimulation) {
  TempFolder dir;
  generate_ball_data(BallDataKind::Sequences, dir.path(), 30, 11, 1);
  const BallSequences data = load_ball_sequences(dir.path());
  ASSERT_EQ(data.boxes.sizes(), (std::vector<std::int64_t>{30, 20, 9, 4}));
  EXPECT_TRUE(torch::equal(data.presence.sum(1), torch::full({30}, 3.f)));
  const SequenceSample sample = make_sequence_sample(11, 7);
  EXPECT_TRUE(torch::equal(data.boxes[7].flatten(), torch::tensor(sample.boxes)));
  // Frame 0's boxes are the boxes of the initial balls.
  for (const Ball& b : sample.initial) {
    const PixelBox box = ball_box(b.x, b.y);
    EXPECT_TRUE(torch::equal(data.boxes[7][0][b.colour], torch::tensor({float(box.x1), float(box.y1), float(box.x2), float(box.y2)})));
  }
  // The balls move: on average the last frame is far from the first.
  const auto moved = (data.boxes.select(1, 19) - data.boxes.select(1, 0)).abs().sum() / (30 * 3 * 4);
  EXPECT_GT(moved.item<float>(), 5.f);
}

TEST(BallGenerator, HiddenPropertiesComeFromTheCophySetsAndColoursAreDistinct) {
  std::set<double> masses, frictions, restitutions;
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    const auto balls = random_balls(seed);
    ASSERT_EQ(balls.size(), 3u);
    std::set<int> colours;
    for (const Ball& b : balls) {
      colours.insert(b.colour);
      masses.insert(b.mass), frictions.insert(b.friction), restitutions.insert(b.restitution);
      EXPECT_GE(b.x, kBallRadius);
      EXPECT_LE(b.x, kImageSize - kBallRadius);
    }
    EXPECT_EQ(colours.size(), 3u);
    for (std::size_t i = 0; i < balls.size(); ++i) {
      for (std::size_t j = i + 1; j < balls.size(); ++j)
        EXPECT_GE(std::hypot(balls[i].x - balls[j].x, balls[i].y - balls[j].y), 2 * kBallRadius);
    }
  }
  EXPECT_EQ(masses, (std::set<double>{1, 2, 5}));
  EXPECT_EQ(frictions, (std::set<double>{0.1, 0.5, 1}));
  EXPECT_EQ(restitutions, (std::set<double>{0.1, 0.5, 1}));
}

TEST(BallSimulation, BallsStayInsideTheWalls) {
  for (std::uint64_t seed = 0; seed < 100; ++seed) {
    auto balls = random_balls(seed);
    for (Ball& b : balls) b.vx *= 3, b.vy *= 3, b.friction = 0;  // fast, never stopping: many bounces
    for (int frame = 0; frame < 100; ++frame) {
      step_balls(balls);
      for (const Ball& b : balls) {
        ASSERT_GE(b.x, kBallRadius - 1e-9);
        ASSERT_LE(b.x, kImageSize - kBallRadius + 1e-9);
        ASSERT_GE(b.y, kBallRadius - 1e-9);
        ASSERT_LE(b.y, kImageSize - kBallRadius + 1e-9);
        const PixelBox box = ball_box(b.x, b.y);
        ASSERT_TRUE(box.x1 >= 0 && box.y1 >= 0 && box.x2 <= 99 && box.y2 <= 99 && box.x1 < box.x2 && box.y1 < box.y2);
      }
    }
  }
}

TEST(BallSimulation, ElasticFrictionlessMotionConservesEnergy) {
  int collisions = 0;
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    auto balls = random_balls(seed);
    for (Ball& b : balls) b.friction = 0, b.restitution = 1;
    const double before = kinetic_energy(balls);
    for (int frame = 0; frame < 200; ++frame) {
      const auto previous = balls;
      step_balls(balls);
      // A ball-ball collision changes the speed of a ball; wall bounces never do.
      for (std::size_t i = 0; i < balls.size(); ++i) {
        collisions += std::abs(std::hypot(balls[i].vx, balls[i].vy) - std::hypot(previous[i].vx, previous[i].vy)) > 1e-6;
      }
    }
    EXPECT_NEAR(kinetic_energy(balls), before, 1e-9 * before) << "seed " << seed;
  }
  EXPECT_GT(collisions, 50);  // the check above did cover ball-ball collisions
}

TEST(BallSimulation, FrictionAndInelasticCollisionsLoseEnergy) {
  std::vector<Ball> rolling = {ball_at(50, 50, 3, 0, 1, 1.0, 1)};
  double last = kinetic_energy(rolling);
  for (int frame = 0; frame < 10; ++frame) {
    step_balls(rolling);
    EXPECT_LT(kinetic_energy(rolling), last);
    last = kinetic_energy(rolling);
  }
  EXPECT_NEAR(rolling[0].vx, 3 - 10 * 1.0 * Physics{}.gravity, 1e-9);  // Coulomb: constant deceleration
  std::vector<Ball> soft = {ball_at(30, 50, 3, 0, 1, 0, 0.1), ball_at(60, 50, 0, 0, 1, 0, 0.1)};
  const double before = kinetic_energy(soft);
  for (int frame = 0; frame < 12; ++frame) step_balls(soft);
  EXPECT_LT(kinetic_energy(soft), 0.6 * before);  // e = 0.01: half the energy goes in the collision
  EXPECT_NEAR(soft[0].vx + soft[1].vx, 3, 1e-9);  // equal masses: momentum kept
}

TEST(BallSimulation, MassChangesTheOutcomeOfACollision) {
  // A head-on elastic collision: equal masses exchange velocities; a heavier target sends the
  // ball back; a lighter one is sent off faster. Same start, three futures.
  const auto run = [](double target_mass) {
    std::vector<Ball> balls = {ball_at(30, 50, 3, 0, 2, 0, 1), ball_at(60, 50, 0, 0, target_mass, 0, 1)};
    for (int frame = 0; frame < 12; ++frame) step_balls(balls);
    return balls;
  };
  const auto equal = run(2), heavy = run(5), light = run(1);
  EXPECT_NEAR(equal[0].vx, 0, 1e-9);
  EXPECT_NEAR(equal[1].vx, 3, 1e-9);
  EXPECT_LT(heavy[0].vx, -0.5);                     // (2 - 5) / 7 x 3
  EXPECT_NEAR(heavy[1].vx, 2.0 * 2 / 7 * 3, 1e-9);  // 2 m1 / (m1 + m2) x 3
  EXPECT_GT(light[1].vx, 3.5);
  EXPECT_GT(std::abs(heavy[1].x - light[1].x), 5);  // where the target ends up depends on the hidden mass
}

TEST(BallGenerator, SameSeedSameFilesWhateverTheThreads) {
  TempFolder a, b, c;
  generate_ball_data(BallDataKind::Images, a.path(), 40, 3, 1);
  generate_ball_data(BallDataKind::Images, b.path(), 40, 3, 2);
  generate_ball_data(BallDataKind::Images, c.path(), 40, 4, 2);
  int differing = 0;
  for (const auto& entry : fs::directory_iterator(a.path())) {
    const auto name = entry.path().filename();
    EXPECT_EQ(file_bytes(entry.path()), file_bytes(b.path() / name)) << name;
    differing += file_bytes(entry.path()) != file_bytes(c.path() / name);
  }
  EXPECT_EQ(differing, 80);  // another seed: every image and label file differs
  const auto s1 = make_sequence_sample(9, 2), s2 = make_sequence_sample(9, 2), s3 = make_sequence_sample(9, 3);
  EXPECT_EQ(s1.boxes, s2.boxes);
  EXPECT_NE(s1.boxes, s3.boxes);
}

TEST(BallGenerator, BoxMaximaAreTheOriginalBboxScale) {
  TempFolder dir;
  const auto report = generate_ball_data(BallDataKind::Sequences, dir.path(), 2000, 0, 2);
  EXPECT_EQ(report.box_max, (std::array<float, 4>{89, 88, 99, 99}));  // BBOX_SCALE of the seed
  EXPECT_EQ(report.box_min[0], 0.f);
}
