#include "search/samplers/tpe/truncated_normal.hpp"

#include <algorithm>
#include <limits>

namespace hpsearch::tpe {

namespace {

// Upper tail Q(z) = 1 - Phi(z).
double upper_tail(double z) { return 0.5 * std::erfc(z * kInvSqrt2); }

}  // namespace

double log_normal_mass(double a, double b) {
  // The whole line but tails below 1e-17: exactly 0 in doubles (and the common case for narrow
  // kernels well inside their bounds, which skips two erfc calls).
  if (a <= -8.5 && b >= 8.5) return 0.0;
  double mass;
  if (a >= 0) {
    mass = upper_tail(a) - upper_tail(b);
  } else if (b <= 0) {
    mass = normal_cdf(b) - normal_cdf(a);
  } else {
    mass = 1.0 - normal_cdf(a) - upper_tail(b);
  }
  if (mass > 1e-300) return std::log(mass);
  // Both bounds deep in the same tail: the density at the nearer bound times the width, capped
  // by the Mills-ratio bound of the whole tail (mass <= phi(z) / |z|).
  const double near = a >= 0 ? a : b;
  const double width = std::min(b - a, 1.0 / std::max(std::fabs(near), 1e-300));
  return -0.5 * near * near - kLogSqrt2Pi + std::log(width);
}

double sample_truncated_normal(Rng& rng, double mu, double sigma, double low, double high) {
  const double a = (low - mu) / sigma, b = (high - mu) / sigma;
  const double inside = std::exp(log_normal_mass(a, b));
  if (inside > 0.05) {
    for (int attempt = 0; attempt < 1000; ++attempt) {
      const double z = rng.normal();
      if (z >= a && z <= b) return mu + sigma * z;
    }
  }
  // The interval is narrow or far in a tail: propose uniformly on [a, b] and accept with the
  // density relative to its maximum on the interval.
  const double peak = (a > 0) ? a : (b < 0 ? b : 0.0);
  for (int attempt = 0; attempt < 100000; ++attempt) {
    const double z = rng.uniform(a, b);
    if (rng.uniform() <= std::exp(0.5 * (peak * peak - z * z))) return mu + sigma * z;
  }
  return mu + sigma * peak;  // unreachable in practice; keeps the result inside the bounds
}

}  // namespace hpsearch::tpe
