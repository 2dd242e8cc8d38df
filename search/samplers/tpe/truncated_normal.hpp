#pragma once
// Normal-distribution helpers for the TPE kernels: the CDF, the log of the mass between two
// standardised bounds (accurate in both tails), truncated sampling, and a branch-free exp that
// the compiler can vectorise for the log-sum-exp over thousands of kernels.
//
// Everything here is plain IEEE arithmetic or libm's erfc/log/exp, so results do not depend on
// the standard library's random distributions (which are implementation-defined).
#include <cmath>
#include <cstdint>
#include <cstring>

#include "search/random.hpp"

namespace hpsearch::tpe {

constexpr double kLogSqrt2Pi = 0.91893853320467274178;  // log(sqrt(2*pi))
constexpr double kInvSqrt2 = 0.70710678118654752440;

// Standard normal CDF.
inline double normal_cdf(double z) { return 0.5 * std::erfc(-z * kInvSqrt2); }

// log(Phi(b) - Phi(a)) for a <= b (standardised bounds; +-infinity allowed). Subtracts upper
// tails when both bounds are above 0 so that the difference keeps its precision; falls back to
// a tail approximation where even that underflows, so the result is always finite.
double log_normal_mass(double a, double b);

// A draw from N(mu, sigma^2) truncated to [low, high] (low < high; mu need not lie inside).
// Rejection from the untruncated normal when it lands inside often enough, inverse-free
// uniform proposals otherwise: exact in both cases.
double sample_truncated_normal(Rng& rng, double mu, double sigma, double low, double high);

// exp(x) for x <= 0 to about 1e-13 relative error; exp(-708) ~ 3e-308 below -708. No branches and no libm call,
// so GCC vectorises loops of it at -O2 with SSE2 already. (For the log-sum-exp only.)
inline double exp_nonpositive(double x) {
  // max(x, -708) without a comparison (GCC will not if-convert one at -O2 under the default
  // -ftrapping-math, which would keep the loop scalar): exact below -708 and for any magnitude,
  // within 1e-13 absolute above.
  const double above = x + 708.0;
  x = 0.5 * (above + std::fabs(above)) - 708.0;
  constexpr double kLog2e = 1.4426950408889634074;
  constexpr double kLn2Hi = 6.93145751953125e-1;
  constexpr double kLn2Lo = 1.42860682030941723212e-6;
  constexpr double kRoundMagic = 6755399441055744.0;  // 1.5 * 2^52: adding it rounds to an integer
  const double shifted = x * kLog2e + kRoundMagic;
  const double n = shifted - kRoundMagic;
  const double r = (x - n * kLn2Hi) - n * kLn2Lo;  // |r| <= ln2 / 2
  // Taylor series to degree 11: error below 1e-16 on |r| <= 0.347.
  double p = 1.0 / 39916800;
  p = p * r + 1.0 / 3628800;
  p = p * r + 1.0 / 362880;
  p = p * r + 1.0 / 40320;
  p = p * r + 1.0 / 5040;
  p = p * r + 1.0 / 720;
  p = p * r + 1.0 / 120;
  p = p * r + 1.0 / 24;
  p = p * r + 1.0 / 6;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  // 2^n from the low bits of `shifted`, placed in the exponent field.
  std::int64_t bits;
  std::memcpy(&bits, &shifted, sizeof bits);
  // Shifted unsigned: the high bits fall off as intended, without signed overflow (UB).
  const std::uint64_t scale_bits = (static_cast<std::uint64_t>(bits) + 1023) << 52;
  double scale;
  std::memcpy(&scale, &scale_bits, sizeof scale);
  return p * scale;
}

}  // namespace hpsearch::tpe
