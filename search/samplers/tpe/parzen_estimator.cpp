#include "search/samplers/tpe/parzen_estimator.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "search/samplers/tpe/truncated_normal.hpp"

namespace hpsearch::tpe {

namespace {

// Kernel arrays are padded to a multiple of this so that the inner loops have a trip count the
// compiler can vectorise without a scalar epilogue (GCC's -O2 cost model asks for that).
constexpr std::size_t kBlock = 8;
// log-weight of padding kernels: exp() of it is 0 for all purposes, and unlike -inf it never
// turns into NaN when subtracted.
constexpr double kNoKernel = -1e300;
constexpr double kLogFloor = -690.0;  // log of probabilities that are exactly 0

double safe_log(double p) { return p > 0 ? std::max(std::log(p), kLogFloor) : kLogFloor; }

}  // namespace

// ---------------------------------------------------------------------------------- ModelDim

ModelDim ModelDim::of(const Parameter& p) {
  ModelDim d;
  switch (p.kind) {
    case DistributionKind::Uniform:
    case DistributionKind::LogUniform:
      d.kind = Kind::Continuous;
      d.log_scale = p.is_log();
      d.low = d.log_scale ? std::log(p.low) : p.low;
      d.high = d.log_scale ? std::log(p.high) : p.high;
      break;
    case DistributionKind::QUniform:
    case DistributionKind::QLogUniform:
    case DistributionKind::RandInt: {
      d.kind = Kind::Discrete;
      d.log_scale = p.is_log();
      d.grid_low = p.low;
      d.step = p.step;
      d.num_cells = static_cast<std::size_t>(std::floor((p.high - p.low) / p.step + 1e-9)) + 1;
      const double top = p.grid_high() + p.step / 2;
      // The same support as the prior draw in random_sampler.cpp: the cells of the grid points,
      // the first one cut at low/2 on the log scale so that it stays positive.
      d.low = d.log_scale ? std::log(std::max(p.low - p.step / 2, p.low / 2)) : p.low - p.step / 2;
      d.high = d.log_scale ? std::log(top) : top;
      break;
    }
    case DistributionKind::Normal:
    case DistributionKind::LogNormal:
      d.kind = Kind::Continuous;
      d.bounded = false;
      d.log_scale = p.is_log();
      d.prior_mu = p.mu;
      d.prior_sigma = p.sigma;
      // A uniform prior of width W has kernels up to sigma = W; a normal prior's kernels go up
      // to its own sigma, and its bandwidths scale with the ~95% interval, 4 sigma.
      d.width = 4 * p.sigma;
      d.max_sigma = p.sigma;
      return d;
    case DistributionKind::Choice:
      d.kind = Kind::Categorical;
      d.num_choices = p.num_choices;
      return d;
  }
  d.prior_mu = 0.5 * (d.low + d.high);
  d.prior_sigma = d.high - d.low;
  d.width = d.high - d.low;
  d.max_sigma = d.width;
  return d;
}

double ModelDim::to_point(double v) const {
  switch (kind) {
    case Kind::Continuous: return log_scale ? std::log(v) : v;
    case Kind::Discrete: {
      const double k = std::round((v - grid_low) / step);
      return std::min(std::max(k, 0.0), static_cast<double>(num_cells - 1));
    }
    case Kind::Categorical: return v;
  }
  return v;
}

double ModelDim::from_point(double y) const {
  switch (kind) {
    case Kind::Continuous: return log_scale ? std::exp(y) : y;
    case Kind::Discrete: return grid_low + y * step;
    case Kind::Categorical: return y;
  }
  return y;
}

double ModelDim::cell_centre(std::size_t k) const {
  const double x = grid_low + static_cast<double>(k) * step;
  return log_scale ? std::log(x) : x;
}

double ModelDim::cell_lower(std::size_t k) const {
  if (k == 0) return low;
  const double x = grid_low + (static_cast<double>(k) - 0.5) * step;
  return log_scale ? std::log(x) : x;
}

double ModelDim::cell_upper(std::size_t k) const {
  if (k + 1 >= num_cells) return high;
  const double x = grid_low + (static_cast<double>(k) + 0.5) * step;
  return log_scale ? std::log(x) : x;
}

std::size_t ModelDim::cell_of(double y) const {
  const double x = log_scale ? std::exp(y) : y;
  const double k = std::round((x - grid_low) / step);
  return static_cast<std::size_t>(std::min(std::max(k, 0.0), static_cast<double>(num_cells - 1)));
}

// --------------------------------------------------------------------------- ParzenEstimator

ParzenEstimator::ParzenEstimator(const std::vector<const ModelDim*>& dims, const std::vector<double>& observations,
                                 const std::vector<double>& weights, const EstimatorOptions& options)
    : dims_(dims) {
  const std::size_t m = weights.size();
  const std::size_t D = dims_.size();
  // Without observations the prior is the whole model, whatever its weight.
  const double prior_weight = m == 0 ? 1.0 : options.prior_weight;
  has_prior_ = prior_weight > 0;
  num_kernels_ = m + (has_prior_ ? 1 : 0);
  padded_ = (num_kernels_ + kBlock - 1) / kBlock * kBlock;

  // Weights, normalised.
  log_weight_.assign(padded_, kNoKernel);
  cumulative_weight_.assign(num_kernels_, 0.0);
  double total = prior_weight * (has_prior_ ? 1 : 0);
  for (double w : weights) total += w;
  double running = 0;
  for (std::size_t i = 0; i < num_kernels_; ++i) {
    const double w = i < m ? weights[i] : prior_weight;
    log_weight_[i] = safe_log(w / total);
    running += w / total;
    cumulative_weight_[i] = running;
  }
  constant_ = log_weight_;

  mu_.assign(D, std::vector<double>(padded_, 0.0));
  sigma_.assign(D, std::vector<double>(padded_, 1.0));
  inv_sigma_.assign(D, std::vector<double>(padded_, 0.0));
  log_z_.assign(D, std::vector<double>(padded_, 0.0));
  match_bonus_.assign(D, std::vector<double>());
  log_other_.assign(D, std::vector<double>());

  for (std::size_t d = 0; d < D; ++d) {
    const ModelDim& dim = *dims_[d];
    auto& mu = mu_[d];
    if (dim.kind == ModelDim::Kind::Categorical) {
      // Each observed kernel: weight 1 on its option plus eps on every option, normalised.
      const double K = static_cast<double>(dim.num_choices);
      const double eps = options.prior_weight / static_cast<double>(m + 1);
      const double log_other = safe_log(eps / (1 + K * eps));
      const double log_match = safe_log((1 + eps) / (1 + K * eps));
      match_bonus_[d].assign(padded_, 0.0);
      log_other_[d].assign(padded_, 0.0);
      for (std::size_t i = 0; i < num_kernels_; ++i) {
        const bool prior = i >= m;
        mu[i] = prior ? -1.0 : observations[i * D + d];
        log_other_[d][i] = prior ? -std::log(K) : log_other;
        match_bonus_[d][i] = prior ? 0.0 : log_match - log_other;
        constant_[i] += log_other_[d][i];
      }
      continue;
    }
    for (std::size_t i = 0; i < m; ++i) {
      const double y = observations[i * D + d];
      mu[i] = dim.kind == ModelDim::Kind::Discrete ? dim.cell_centre(static_cast<std::size_t>(y)) : y;
    }
    if (has_prior_) mu[m] = dim.prior_mu;
    compute_sigmas(d, m, options);
    for (std::size_t i = 0; i < num_kernels_; ++i) {
      const double s = sigma_[d][i];
      inv_sigma_[d][i] = 1.0 / s;
      log_z_[d][i] = dim.bounded ? log_normal_mass((dim.low - mu[i]) / s, (dim.high - mu[i]) / s) : 0.0;
      // Discrete dims integrate the kernel over a cell at evaluation time; continuous ones use
      // the density, whose constant part is folded in here.
      if (dim.kind == ModelDim::Kind::Continuous) constant_[i] += -std::log(s) - kLogSqrt2Pi - log_z_[d][i];
    }
  }
}

void ParzenEstimator::compute_sigmas(std::size_t d, std::size_t m, const EstimatorOptions& options) {
  const ModelDim& dim = *dims_[d];
  auto& sigma = sigma_[d];
  const auto& mu = mu_[d];
  if (options.multivariate_bandwidth) {
    // Scott's rule: one bandwidth for every kernel, shrinking as observations accumulate.
    const double n = static_cast<double>(std::max<std::size_t>(m, 1));
    double scale = dim.width;
    if (options.adaptive_scale && m >= 2) {
      // Scott's rule proper: the observations' own spread, so kernels narrow as the set clusters.
      double mean = 0, sq = 0;
      for (std::size_t i = 0; i < m; ++i) mean += mu[i];
      mean /= static_cast<double>(m);
      for (std::size_t i = 0; i < m; ++i) sq += (mu[i] - mean) * (mu[i] - mean);
      scale = std::sqrt(sq / static_cast<double>(m - 1));
    }
    const double s = options.bandwidth_factor * std::pow(n, -1.0 / (static_cast<double>(dims_.size()) + 4)) * scale;
    std::fill(sigma.begin(), sigma.begin() + static_cast<std::ptrdiff_t>(m), s);
  } else {
    // Each kernel as wide as the larger gap to its neighbours (the prior's centre included, as
    // in hyperopt and Optuna), the domain's ends counting as neighbours.
    const std::size_t count = num_kernels_;
    std::vector<std::size_t> order(count);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return mu[a] < mu[b]; });
    for (std::size_t r = 0; r < count; ++r) {
      const std::size_t i = order[r];
      if (i >= m) continue;  // the prior keeps its own sigma
      const bool first = r == 0, last = r + 1 == count;
      double left = first ? (dim.bounded ? mu[i] - dim.low : 0.0) : mu[i] - mu[order[r - 1]];
      double right = last ? (dim.bounded ? dim.high - mu[i] : 0.0) : mu[order[r + 1]] - mu[i];
      if (!options.consider_endpoints && count >= 2) {
        if (first) left = 0;
        if (last) right = 0;
      }
      double s = std::max(left, right);
      if (count == 1) s = dim.max_sigma;
      sigma[i] = s;
    }
  }
  const double min_sigma = options.magic_clip
                               ? dim.width / std::min(100.0, 1.0 + static_cast<double>(options.clip_count > 0 ? options.clip_count : num_kernels_))
                               : dim.width * 1e-12;
  for (std::size_t i = 0; i < m; ++i) sigma[i] = std::min(std::max(sigma[i], min_sigma), dim.max_sigma);
  if (has_prior_) sigma[m] = dim.prior_sigma;
}

double ParzenEstimator::kernel_weight(std::size_t i) const { return std::exp(log_weight_[i]); }

void ParzenEstimator::sample(Rng& rng, std::size_t n, std::vector<double>& out) const {
  for (std::size_t c = 0; c < n; ++c) {
    const double u = rng.uniform() * cumulative_weight_.back();
    const std::size_t i = static_cast<std::size_t>(
        std::upper_bound(cumulative_weight_.begin(), cumulative_weight_.end(), u) - cumulative_weight_.begin());
    draw_from_kernel(rng, std::min(i, num_kernels_ - 1), 1.0, out);
  }
}

void ParzenEstimator::sample_kernel(Rng& rng, std::size_t i, double sigma_scale, std::size_t n, std::vector<double>& out) const {
  for (std::size_t c = 0; c < n; ++c) draw_from_kernel(rng, i, sigma_scale, out);
}

void ParzenEstimator::draw_from_kernel(Rng& rng, std::size_t i, double sigma_scale, std::vector<double>& out) const {
  for (std::size_t d = 0; d < dims_.size(); ++d) {
    const ModelDim& dim = *dims_[d];
    const double mu = mu_[d][i];
    switch (dim.kind) {
      case ModelDim::Kind::Continuous: {
        const double s = sigma_[d][i] * sigma_scale;
        out.push_back(dim.bounded ? sample_truncated_normal(rng, mu, s, dim.low, dim.high) : mu + s * rng.normal());
        break;
      }
      case ModelDim::Kind::Discrete:
        out.push_back(static_cast<double>(
            dim.cell_of(sample_truncated_normal(rng, mu, sigma_[d][i] * sigma_scale, dim.low, dim.high))));
        break;
      case ModelDim::Kind::Categorical: {
        const std::size_t K = dim.num_choices;
        if (mu < 0 || K == 1) {
          out.push_back(static_cast<double>(rng.below(K)));
          break;
        }
        const double p_match = std::exp(log_other_[d][i] + match_bonus_[d][i]);
        const std::size_t observed = static_cast<std::size_t>(mu);
        if (rng.uniform() < p_match) {
          out.push_back(mu);
        } else {
          std::size_t j = rng.below(K - 1);
          if (j >= observed) ++j;
          out.push_back(static_cast<double>(j));
        }
        break;
      }
    }
  }
}

void ParzenEstimator::log_density(const double* points, std::size_t n, double* out) const {
  const std::size_t D = dims_.size();
  const std::size_t N = padded_;

  // Discrete dims: the log-mass of every kernel over each distinct cell among the points, computed
  // once per cell rather than once per point.
  std::vector<std::vector<std::size_t>> cells(D);
  std::vector<std::vector<double>> cell_mass(D);
  for (std::size_t d = 0; d < D; ++d) {
    const ModelDim& dim = *dims_[d];
    if (dim.kind != ModelDim::Kind::Discrete) continue;
    auto& list = cells[d];
    for (std::size_t c = 0; c < n; ++c) list.push_back(static_cast<std::size_t>(points[c * D + d]));
    std::sort(list.begin(), list.end());
    list.erase(std::unique(list.begin(), list.end()), list.end());
    auto& table = cell_mass[d];
    table.assign(list.size() * N, 0.0);
    for (std::size_t j = 0; j < list.size(); ++j) {
      const double lower = dim.cell_lower(list[j]), upper = dim.cell_upper(list[j]);
      double* column = table.data() + j * N;
      for (std::size_t i = 0; i < num_kernels_; ++i) {
        const double inv = inv_sigma_[d][i], mu = mu_[d][i];
        column[i] = log_normal_mass((lower - mu) * inv, (upper - mu) * inv) - log_z_[d][i];
      }
    }
  }

  std::vector<double> acc(N);
  for (std::size_t c = 0; c < n; ++c) {
    const double* point = points + c * D;
    double* a = acc.data();
    std::copy(constant_.begin(), constant_.end(), a);
    for (std::size_t d = 0; d < D; ++d) {
      const ModelDim& dim = *dims_[d];
      const double x = point[d];
      switch (dim.kind) {
        case ModelDim::Kind::Continuous: {
          const double* mu = mu_[d].data();
          const double* inv = inv_sigma_[d].data();
          for (std::size_t b = 0; b < N; b += kBlock) {
            for (std::size_t i = b; i < b + kBlock; ++i) {
              const double z = (x - mu[i]) * inv[i];
              a[i] -= 0.5 * z * z;
            }
          }
          break;
        }
        case ModelDim::Kind::Discrete: {
          const auto& list = cells[d];
          const std::size_t j = static_cast<std::size_t>(
              std::lower_bound(list.begin(), list.end(), static_cast<std::size_t>(x)) - list.begin());
          const double* column = cell_mass[d].data() + j * N;
          for (std::size_t b = 0; b < N; b += kBlock) {
            for (std::size_t i = b; i < b + kBlock; ++i) a[i] += column[i];
          }
          break;
        }
        case ModelDim::Kind::Categorical: {
          const double* observed = mu_[d].data();
          const double* bonus = match_bonus_[d].data();
          for (std::size_t b = 0; b < N; b += kBlock) {
            for (std::size_t i = b; i < b + kBlock; ++i) a[i] += observed[i] == x ? bonus[i] : 0.0;
          }
          break;
        }
      }
    }
    // log-sum-exp over the kernels.
    double peak = kNoKernel;
    for (std::size_t i = 0; i < N; ++i) peak = std::max(peak, a[i]);
    double sum = 0;
    for (std::size_t b = 0; b < N; b += kBlock) {
      double part = 0;
      for (std::size_t i = b; i < b + kBlock; ++i) part += exp_nonpositive(a[i] - peak);
      sum += part;
    }
    out[c] = peak + std::log(sum);
  }
}

}  // namespace hpsearch::tpe
