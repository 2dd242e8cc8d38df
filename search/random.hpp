#pragma once
// A small, fully specified random generator (xoshiro256** seeded through SplitMix64), so that a
// seed gives the same numbers on every compiler and standard library: std::normal_distribution
// is implementation-defined and would break reproducible suggestions across machines.
#include <cmath>
#include <cstdint>

namespace hpsearch {

inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

class Rng {
 public:
  // Streams for different (seed, trial number, purpose) triples are independent.
  explicit Rng(std::uint64_t seed, std::uint64_t stream = 0, std::uint64_t purpose = 0) {
    std::uint64_t s = seed ^ (stream * 0xD1B54A32D192ED03ULL) ^ (purpose * 0x8CB92BA72F3D8DD7ULL);
    for (auto& word : s_) word = splitmix64(s);
  }

  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, 1).
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double low, double high) { return low + (high - low) * uniform(); }
  // Uniform integer in [0, n).
  std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : next() % n; }
  // Standard normal (Box-Muller; the second value is discarded to keep the stream simple).
  double normal() {
    double u1 = uniform();
    while (u1 <= 0.0) u1 = uniform();
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

}  // namespace hpsearch
