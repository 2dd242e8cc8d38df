#include "trainers/core/data/balls_generator.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <mutex>
#include <thread>

#include "core/errors.hpp"
#include "trainers/core/data/npy.hpp"

namespace hpsearch::data {
namespace {

// splitmix64: a tiny generator with a fixed definition, so that a seed gives the same data with
// any standard library (std:: distributions are implementation-defined).
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  double uniform(double low, double high) { return low + (high - low) * uniform(); }
  int below(int n) { return static_cast<int>(uniform() * n); }

 private:
  std::uint64_t state_;
};

// Every sample has its own stream, so samples do not depend on the thread that made them or on
// the count; the two kinds use different streams for the same seed.
std::uint64_t sample_seed(std::uint64_t seed, std::int64_t index, std::uint64_t stream) {
  Rng mix(seed ^ (stream * 0xD1B54A32D192ED03ull));
  mix.next();
  Rng again(mix.next() + static_cast<std::uint64_t>(index) * 0x9E3779B97F4A7C15ull);
  return again.next();
}

constexpr std::uint64_t kImageStream = 1, kSequenceStream = 2;

struct Rgb {
  float r, g, b;
};
Rgb mix(const Rgb& a, const Rgb& b, float t) { return {a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t}; }
Rgb scale(const Rgb& a, float s) { return {a.r * s, a.g * s, a.b * s}; }

Rgb hsv(double h, double s, double v) {
  const double c = v * s, hp = std::fmod(h, 1.0) * 6, x = c * (1 - std::fabs(std::fmod(hp, 2.0) - 1)), m = v - c;
  double r = 0, g = 0, b = 0;
  if (hp < 1)
    r = c, g = x;
  else if (hp < 2)
    r = x, g = c;
  else if (hp < 3)
    g = c, b = x;
  else if (hp < 4)
    g = x, b = c;
  else if (hp < 5)
    r = x, b = c;
  else
    r = c, b = x;
  return {static_cast<float>((r + m) * 255), static_cast<float>((g + m) * 255), static_cast<float>((b + m) * 255)};
}

// Floor colours are muted (low saturation) so that no floor looks like a ball.
Rgb floor_colour(Rng& rng) { return hsv(rng.uniform(), rng.uniform(0.05, 0.45), rng.uniform(0.3, 0.9)); }

// Hash of a lattice point to [0, 1), for value noise and per-tile variation.
float lattice(std::uint64_t salt, int i, int j) {
  Rng h(salt ^ (static_cast<std::uint64_t>(static_cast<std::uint32_t>(i)) << 32 | static_cast<std::uint32_t>(j)));
  return static_cast<float>(h.uniform());
}

float smooth(float t) { return t * t * (3 - 2 * t); }

float value_noise(std::uint64_t salt, float u, float v) {
  const int i = static_cast<int>(std::floor(u)), j = static_cast<int>(std::floor(v));
  const float fu = smooth(u - i), fv = smooth(v - j);
  const float a = lattice(salt, i, j), b = lattice(salt, i + 1, j), c = lattice(salt, i, j + 1), d = lattice(salt, i + 1, j + 1);
  return (a + (b - a) * fu) + ((c + (d - c) * fu) - (a + (b - a) * fu)) * fv;
}

// A 100x100 floor: checkerboard, tiles with grout, cloudy noise or wood-like stripes, rotated,
// with random colours and sizes and a light grain, different for every sample.
std::vector<Rgb> make_floor(Rng& rng) {
  const int n = kImageSize;
  std::vector<Rgb> floor(static_cast<std::size_t>(n) * n);
  const Rgb c1 = floor_colour(rng), c2 = floor_colour(rng), grout = scale(floor_colour(rng), 0.5f);
  const int pattern = rng.below(4);
  const double angle = rng.uniform(0, 3.14159265358979);
  const float ca = static_cast<float>(std::cos(angle)), sa = static_cast<float>(std::sin(angle));
  const float cell = static_cast<float>(rng.uniform(6, 22)), cell_h = static_cast<float>(rng.uniform(6, 22));
  const float grout_width = static_cast<float>(rng.uniform(0.8, 2.0)), brick_shift = rng.below(2) ? 0.5f : 0.f;
  const float noise_scale = static_cast<float>(rng.uniform(5, 25)), stripe_freq = static_cast<float>(rng.uniform(0.25, 1.2));
  const float warp = static_cast<float>(rng.uniform(1, 6));
  const std::uint64_t salt = rng.next(), grain_salt = rng.next();
  const float grain = static_cast<float>(rng.uniform(0.02, 0.08));
  for (int y = 0; y < n; ++y) {
    for (int x = 0; x < n; ++x) {
      const float u = ca * x + sa * y, v = -sa * x + ca * y;
      Rgb colour;
      switch (pattern) {
        case 0: {  // checkerboard
          const int parity = (static_cast<int>(std::floor(u / cell)) + static_cast<int>(std::floor(v / cell))) & 1;
          colour = parity ? c1 : c2;
          break;
        }
        case 1: {  // tiles or bricks, each tile a little different, with grout lines
          const int row = static_cast<int>(std::floor(v / cell_h));
          const float us = u / cell + (row & 1) * brick_shift;
          const int column = static_cast<int>(std::floor(us));
          const float fu = (us - column) * cell, fv = v - row * cell_h;
          const bool in_grout = fu < grout_width || fv < grout_width;
          colour = in_grout ? grout : mix(c1, c2, lattice(salt, column, row));
          break;
        }
        case 2: {  // two octaves of value noise between the two colours
          const float t = 0.65f * value_noise(salt, u / noise_scale, v / noise_scale) +
                          0.35f * value_noise(salt + 1, u * 2.7f / noise_scale, v * 2.7f / noise_scale);
          colour = mix(c1, c2, t);
          break;
        }
        default: {  // wood-like stripes: a sine across the grain, warped by noise
          const float w = warp * value_noise(salt, u / 12, v / 40);
          const float t = 0.5f + 0.5f * std::sin((u + w) * stripe_freq);
          colour = mix(c1, c2, t * t);
          break;
        }
      }
      const float g = 1 + grain * (2 * lattice(grain_salt, x, y) - 1);
      floor[static_cast<std::size_t>(y) * n + x] = scale(colour, g);
    }
  }
  return floor;
}

// A soft shadow below and right of the ball (light from the top left), then the ball shaded as a
// sphere (ambient + Lambert + a specular highlight), antialiased by 4x4 supersampling.
void draw_ball(std::vector<Rgb>& canvas, const Ball& ball) {
  const int n = kImageSize;
  const double r = drawn_radius(ball.y);
  const BallColourRgb& c = kBallColourRgb[static_cast<std::size_t>(ball.colour)];
  const Rgb base{static_cast<float>(c.r), static_cast<float>(c.g), static_cast<float>(c.b)};
  const double sx = ball.x + 0.18 * r, sy = ball.y + 0.22 * r, sr = 1.05 * r;
  const int x0 = std::max(0, static_cast<int>(std::floor(ball.x - r - 2))), x1 = std::min(n - 1, static_cast<int>(std::ceil(sx + sr + 2)));
  const int y0 = std::max(0, static_cast<int>(std::floor(ball.y - r - 2))), y1 = std::min(n - 1, static_cast<int>(std::ceil(sy + sr + 2)));
  for (int py = y0; py <= y1; ++py) {
    for (int px = x0; px <= x1; ++px) {
      Rgb& pixel = canvas[static_cast<std::size_t>(py) * n + px];
      const double ds = std::sqrt((px + 0.5 - sx) * (px + 0.5 - sx) + (py + 0.5 - sy) * (py + 0.5 - sy));  // hypot is slow
      const double shadow = std::clamp((sr + 1.5 - ds) / 3.0, 0.0, 1.0);
      pixel = scale(pixel, static_cast<float>(1 - 0.45 * shadow));
      int covered = 0;
      for (int sub = 0; sub < 16; ++sub) {
        const double dx = px + (sub % 4 + 0.5) / 4 - ball.x, dy = py + (sub / 4 + 0.5) / 4 - ball.y;
        covered += dx * dx + dy * dy <= r * r;
      }
      if (covered == 0) continue;
      // Shading at the pixel centre, pulled inside the disc for edge pixels.
      double nx = (px + 0.5 - ball.x) / r, ny = (py + 0.5 - ball.y) / r;
      const double d2 = nx * nx + ny * ny;
      if (d2 > 0.98) nx *= std::sqrt(0.98 / d2), ny *= std::sqrt(0.98 / d2);
      const double nz = std::sqrt(std::max(0.0, 1 - nx * nx - ny * ny));
      const double lx = -0.45, ly = -0.55, lz = 0.70;  // unit light direction (towards the light)
      const double lambert = std::max(0.0, nx * lx + ny * ly + nz * lz);
      const double reflect_z = 2 * lambert * nz - lz;  // viewer straight above: R . (0, 0, 1)
      const double specular = std::pow(std::max(0.0, reflect_z), 24) * 0.55;
      const float shade = static_cast<float>(0.35 + 0.75 * lambert);
      Rgb lit = scale(base, shade);
      lit = mix(lit, Rgb{255, 255, 255}, static_cast<float>(specular));
      pixel = mix(pixel, lit, covered / 16.f);
    }
  }
}

RgbImage to_image(const std::vector<Rgb>& canvas) {
  RgbImage image;
  image.width = image.height = kImageSize;
  image.pixels.resize(canvas.size() * 3);
  const auto byte = [](float v) { return static_cast<std::uint8_t>(std::clamp(v + 0.5f, 0.f, 255.f)); };
  for (std::size_t i = 0; i < canvas.size(); ++i) {
    image.pixels[3 * i] = byte(canvas[i].r);
    image.pixels[3 * i + 1] = byte(canvas[i].g);
    image.pixels[3 * i + 2] = byte(canvas[i].b);
  }
  return image;
}

void write_box(const Ball& ball, float* row4) {
  const PixelBox box = ball_box(ball.x, ball.y);
  row4[0] = static_cast<float>(box.x1);
  row4[1] = static_cast<float>(box.y1);
  row4[2] = static_cast<float>(box.x2);
  row4[3] = static_cast<float>(box.y2);
}

}  // namespace

double drawn_radius(double y) {
  // 5.05 px on the top wall to 6.1 px on the bottom wall: balls are about 11 px across, and the
  // dataset-wide box maxima come out as the original BBOX_SCALE (x1 89, y1 88, x2 99, y2 99).
  return 5.05 + 1.05 * std::clamp((y - kBallRadius) / (kImageSize - 2 * kBallRadius), 0.0, 1.0);
}

PixelBox ball_box(double x, double y) {
  const double r = drawn_radius(y);
  PixelBox box{kImageSize, kImageSize, -1, -1};
  for (int py = static_cast<int>(std::floor(y - r)) - 1; py <= static_cast<int>(std::ceil(y + r)) + 1; ++py) {
    for (int px = static_cast<int>(std::floor(x - r)) - 1; px <= static_cast<int>(std::ceil(x + r)) + 1; ++px) {
      const double dx = px + 0.5 - x, dy = py + 0.5 - y;
      if (dx * dx + dy * dy > r * r) continue;
      box.x1 = std::min(box.x1, px), box.y1 = std::min(box.y1, py);
      box.x2 = std::max(box.x2, px), box.y2 = std::max(box.y2, py);
    }
  }
  // Near the bottom edge the drawn disc (up to 6 px) overhangs the walls (at 5.5 px) by half a
  // pixel; the box keeps to the pixels that exist.
  box.x1 = std::clamp(box.x1, 0, kImageSize - 1), box.x2 = std::clamp(box.x2, 0, kImageSize - 1);
  box.y1 = std::clamp(box.y1, 0, kImageSize - 1), box.y2 = std::clamp(box.y2, 0, kImageSize - 1);
  return box;
}

void step_balls(std::vector<Ball>& balls, const Physics& physics) {
  const double dt = 1.0 / physics.substeps, r = physics.radius, low = r, high = physics.size - r;
  for (int step = 0; step < physics.substeps; ++step) {
    for (Ball& b : balls) {
      const double speed = std::hypot(b.vx, b.vy), loss = b.friction * physics.gravity * dt;
      const double keep = speed <= loss ? 0.0 : 1 - loss / speed;
      b.vx *= keep, b.vy *= keep;
      b.x += b.vx * dt, b.y += b.vy * dt;
    }
    for (std::size_t i = 0; i < balls.size(); ++i) {
      for (std::size_t j = i + 1; j < balls.size(); ++j) {
        Ball &a = balls[i], &b = balls[j];
        const double dx = b.x - a.x, dy = b.y - a.y, distance = std::hypot(dx, dy);
        if (distance >= 2 * r || distance == 0) continue;
        const double nx = dx / distance, ny = dy / distance, inv_a = 1 / a.mass, inv_b = 1 / b.mass;
        const double approach = (b.vx - a.vx) * nx + (b.vy - a.vy) * ny;
        if (approach < 0) {
          const double impulse = -(1 + a.restitution * b.restitution) * approach / (inv_a + inv_b);
          a.vx -= impulse * inv_a * nx, a.vy -= impulse * inv_a * ny;
          b.vx += impulse * inv_b * nx, b.vy += impulse * inv_b * ny;
        }
        // Separate the overlap, the lighter ball moving more; positions only, so no energy change.
        const double push = (2 * r - distance) / (inv_a + inv_b);
        a.x -= push * inv_a * nx, a.y -= push * inv_a * ny;
        b.x += push * inv_b * nx, b.y += push * inv_b * ny;
      }
    }
    for (Ball& b : balls) {
      if (b.x < low) b.x = low, b.vx = b.vx < 0 ? -b.vx * b.restitution : b.vx;
      if (b.x > high) b.x = high, b.vx = b.vx > 0 ? -b.vx * b.restitution : b.vx;
      if (b.y < low) b.y = low, b.vy = b.vy < 0 ? -b.vy * b.restitution : b.vy;
      if (b.y > high) b.y = high, b.vy = b.vy > 0 ? -b.vy * b.restitution : b.vy;
    }
  }
}

double kinetic_energy(const std::vector<Ball>& balls) {
  double e = 0;
  for (const Ball& b : balls) e += 0.5 * b.mass * (b.vx * b.vx + b.vy * b.vy);
  return e;
}

std::vector<Ball> random_balls(std::uint64_t seed) {
  Rng rng(seed);
  static constexpr double kMasses[] = {1, 2, 5}, kFrictions[] = {0.1, 0.5, 1}, kRestitutions[] = {0.1, 0.5, 1};
  std::array<int, 9> colours{0, 1, 2, 3, 4, 5, 6, 7, 8};
  for (int i = 0; i < kBallsPerScene; ++i) std::swap(colours[i], colours[i + rng.below(9 - i)]);  // partial shuffle
  std::vector<Ball> balls;
  while (static_cast<int>(balls.size()) < kBallsPerScene) {
    Ball b;
    b.colour = colours[balls.size()];
    b.x = rng.uniform(kBallRadius, kImageSize - kBallRadius);
    b.y = rng.uniform(kBallRadius, kImageSize - kBallRadius);
    const bool clear =
        std::all_of(balls.begin(), balls.end(), [&](const Ball& o) { return std::hypot(o.x - b.x, o.y - b.y) >= 2 * kBallRadius + 1; });
    if (!clear) continue;  // three small balls in a 100 px square: a few tries at most
    const double speed = rng.uniform(1.0, 4.5), direction = rng.uniform(0, 2 * 3.14159265358979);
    b.vx = speed * std::cos(direction), b.vy = speed * std::sin(direction);
    b.mass = kMasses[rng.below(3)], b.friction = kFrictions[rng.below(3)], b.restitution = kRestitutions[rng.below(3)];
    balls.push_back(b);
  }
  if (rng.uniform() < 0.5) {  // aim the first ball at the second, give or take 0.2 rad
    Ball &a = balls[0], &b = balls[1];
    const double speed = std::hypot(a.vx, a.vy), direction = std::atan2(b.y - a.y, b.x - a.x) + rng.uniform(-0.2, 0.2);
    a.vx = speed * std::cos(direction), a.vy = speed * std::sin(direction);
  }
  return balls;
}

ImageSample make_image_sample(std::uint64_t seed, std::int64_t index) {
  const std::uint64_t s = sample_seed(seed, index, kImageStream);
  Rng rng(s);
  ImageSample sample;
  sample.balls = random_balls(rng.next());
  std::vector<Rgb> canvas = make_floor(rng);
  std::vector<Ball> by_depth = sample.balls;  // farther (higher) balls first, nearer ones over them
  std::sort(by_depth.begin(), by_depth.end(), [](const Ball& a, const Ball& b) { return a.y < b.y; });
  for (const Ball& b : by_depth) draw_ball(canvas, b);
  sample.image = to_image(canvas);
  for (const Ball& b : sample.balls) {
    float* row = sample.labels.data() + b.colour * 5;
    row[0] = 1;
    write_box(b, row + 1);
  }
  return sample;
}

SequenceSample make_sequence_sample(std::uint64_t seed, std::int64_t index) {
  const std::uint64_t s = sample_seed(seed, index, kSequenceStream);
  SequenceSample sample;
  std::vector<Ball> balls = random_balls(s);
  sample.initial = balls;
  sample.boxes.assign(static_cast<std::size_t>(kFrames) * 9 * 4, 0.f);
  for (const Ball& b : balls) sample.presence[static_cast<std::size_t>(b.colour)] = 1;
  for (int frame = 0; frame < kFrames; ++frame) {
    if (frame > 0) step_balls(balls);
    for (const Ball& b : balls) write_box(b, sample.boxes.data() + (static_cast<std::size_t>(frame) * 9 + b.colour) * 4);
  }
  return sample;
}

GenerationReport generate_ball_data(BallDataKind kind, const std::filesystem::path& folder, std::int64_t count, std::uint64_t seed,
                                    int threads) {
  const auto start = std::chrono::steady_clock::now();
  const int workers = static_cast<int>(std::max<std::int64_t>(
      1, std::min<std::int64_t>(threads > 0 ? threads : static_cast<int>(std::thread::hardware_concurrency()), count / 32 + 1)));
  std::atomic<std::int64_t> next{0};
  std::mutex mutex;
  std::exception_ptr error;
  GenerationReport report;
  report.box_min = {1e9f, 1e9f, 1e9f, 1e9f};
  report.box_max = {-1e9f, -1e9f, -1e9f, -1e9f};
  const auto work = [&] {
    std::array<float, 4> low = report.box_min, high = report.box_max;
    const auto account = [&](const float* box) {
      for (int k = 0; k < 4; ++k) low[k] = std::min(low[k], box[k]), high[k] = std::max(high[k], box[k]);
    };
    try {
      char name[64];
      for (std::int64_t i; (i = next.fetch_add(1)) < count;) {
        if (kind == BallDataKind::Images) {
          const ImageSample sample = make_image_sample(seed, i);
          std::snprintf(name, sizeof name, "img_%05lld.jpg", static_cast<long long>(i));
          write_jpeg(folder / name, sample.image);
          std::snprintf(name, sizeof name, "p_bb_%05lld.npy", static_cast<long long>(i));
          write_npy(folder / name, npy_from_floats(std::vector<float>(sample.labels.begin(), sample.labels.end()), {9, 5}));
          for (int row = 0; row < 9; ++row) {
            if (sample.labels[row * 5] != 0) account(sample.labels.data() + row * 5 + 1);
          }
        } else {
          const SequenceSample sample = make_sequence_sample(seed, i);
          std::snprintf(name, sizeof name, "p_%05lld.npy", static_cast<long long>(i));
          write_npy(folder / name, npy_from_floats(std::vector<float>(sample.presence.begin(), sample.presence.end()), {9}));
          std::snprintf(name, sizeof name, "seq_bb_%05lld.npy", static_cast<long long>(i));
          write_npy(folder / name, npy_from_floats(sample.boxes, {kFrames, 9, 4}));
          for (int frame = 0; frame < kFrames; ++frame) {
            for (int row = 0; row < 9; ++row) {
              if (sample.presence[static_cast<std::size_t>(row)] != 0) account(sample.boxes.data() + (frame * 9 + row) * 4);
            }
          }
        }
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex);
      if (!error) error = std::current_exception();
      next = count;
    }
    std::lock_guard<std::mutex> lock(mutex);
    for (int k = 0; k < 4; ++k)
      report.box_min[k] = std::min(report.box_min[k], low[k]), report.box_max[k] = std::max(report.box_max[k], high[k]);
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < workers; ++t) pool.emplace_back(work);
  work();
  for (auto& thread : pool) thread.join();
  if (error) std::rethrow_exception(error);
  report.samples = count;
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace hpsearch::data
