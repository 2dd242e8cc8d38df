#include "search/samplers/tpe/parzen_estimator.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
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
constexpr double kLog2 = 0.69314718055994530942;

double safe_log(double p) { return p > 0 ? std::max(std::log(p), kLogFloor) : kLogFloor; }

// The inner loops of log_density, over n kernels (a multiple of kBlock). They take restrict
// parameters, the form in which GCC trusts them, so that they vectorise at -O2.
void subtract_half_squared_z(double* __restrict acc, const double* __restrict mu, const double* __restrict inv_sigma, double x,
                             std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const double z = (x - mu[i]) * inv_sigma[i];
    acc[i] -= 0.5 * z * z;
  }
}

void add_column(double* __restrict acc, const double* __restrict column, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) acc[i] += column[i];
}

void add_where_equal(double* __restrict acc, const double* __restrict observed, const double* __restrict bonus, double x, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) acc[i] += observed[i] == x ? bonus[i] : 0.0;
}

// log(sum(exp(acc))), leaving acc as it is (acc non-empty).
double log_sum_exp_keep(const double* __restrict acc, std::size_t n) {
  double peak = kNoKernel;
  for (std::size_t i = 0; i < n; ++i) peak = acc[i] > peak ? acc[i] : peak;
  double lanes[kBlock] = {};
  for (std::size_t b = 0; b < n; b += kBlock) {
    for (std::size_t k = 0; k < kBlock; ++k) lanes[k] += exp_nonpositive(acc[b + k] - peak);
  }
  double sum = 0;
  for (double lane : lanes) sum += lane;
  return peak + std::log(sum);
}

// Kernels below this count are always scored exhaustively.
constexpr std::size_t kPruneMinKernels = 128;
// Pruning leaves out kernels whose share of the density is below exp(-margin) each, with
// margin = log(kernels) + kPruneMargin: exp(-30) ~ 9.4e-14 of the density in all.
constexpr double kPruneMargin = 30.0;
// Narrow kernels are grouped in slabs of this many (a multiple of kBlock), see build_pruning.
constexpr std::size_t kSlab = 128;

// log(sum(exp(acc))), overwriting acc.
double log_sum_exp(double* __restrict acc, std::size_t n) {
  double peak = kNoKernel;
  for (std::size_t i = 0; i < n; ++i) peak = acc[i] > peak ? acc[i] : peak;
  for (std::size_t i = 0; i < n; ++i) acc[i] = exp_nonpositive(acc[i] - peak);
  // Partial sums in kBlock lanes: the compiler may not reorder one floating-point sum.
  double lanes[kBlock] = {};
  for (std::size_t b = 0; b < n; b += kBlock) {
    for (std::size_t k = 0; k < kBlock; ++k) lanes[k] += acc[b + k];
  }
  double sum = 0;
  for (double lane : lanes) sum += lane;
  return peak + std::log(sum);
}

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
                                 const std::vector<double>& weights, const EstimatorOptions& options) {
  fit(dims, observations, weights, options);
}

namespace {

// Resizes a vector of per-dim arrays to D arrays of n values, reusing their memory.
template <typename T>
void reset(std::vector<std::vector<T>>& arrays, std::size_t D, std::size_t n, T value) {
  arrays.resize(D);
  for (auto& a : arrays) a.assign(n, value);
}

}  // namespace

void ParzenEstimator::fit(const std::vector<const ModelDim*>& dims, const std::vector<double>& observations,
                          const std::vector<double>& weights, const EstimatorOptions& options) {
  dims_ = dims;
  const std::size_t m = weights.size();
  const std::size_t D = dims_.size();
  // Without observations the prior is the whole model, whatever its weight.
  const double prior_weight = m == 0 ? 1.0 : options.prior_weight;
  has_prior_ = prior_weight > 0;
  num_kernels_ = m + (has_prior_ ? 1 : 0);
  observations_ = m;
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

  reset(mu_, D, padded_, 0.0);
  reset(sigma_, D, padded_, 1.0);
  reset(inv_sigma_, D, padded_, 0.0);
  reset(log_z_, D, padded_, 0.0);
  reset(match_bonus_, D, 0, 0.0);
  reset(log_other_, D, 0, 0.0);
  reset(distinct_, D, 0, 0.0);
  reset(distinct_of_, D, 0, std::size_t{0});
  order_.resize(D);
  sorted_.assign(D, false);

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
    double last_sigma = 0, last_log_sigma = 0;  // sigmas repeat (clipped, or one per dim)
    for (std::size_t i = 0; i < num_kernels_; ++i) {
      const double s = sigma_[d][i];
      if (s != last_sigma) {
        last_sigma = s;
        last_log_sigma = std::log(s);
      }
      inv_sigma_[d][i] = 1.0 / s;
      log_z_[d][i] = dim.bounded ? log_normal_mass((dim.low - mu[i]) / s, (dim.high - mu[i]) / s) : 0.0;
      // Discrete dims integrate the kernel over a cell at evaluation time; continuous ones use
      // the density, whose constant part is folded in here.
      if (dim.kind == ModelDim::Kind::Continuous) constant_[i] += -last_log_sigma - kLogSqrt2Pi - log_z_[d][i];
    }
    if (dim.kind == ModelDim::Kind::Discrete) {
      // The distinct (mu, sigma) pairs, walking the kernels in (mu, index) order: each new pair
      // is looked for among the pairs of the same centre seen so far. There are at most 4 per
      // centre (within a run of equal centres the neighbour gaps are 0, so all share the
      // clipped sigma but the run's ends; Scott's rule gives one sigma; plus the prior).
      const auto& order = sorted_by_mu(d);
      const auto& sigma = sigma_[d];
      auto& list = distinct_[d];
      auto& of = distinct_of_[d];
      of.assign(num_kernels_, 0);
      std::size_t run_start = 0;  // first entry of the current centre in list (in triples)
      for (std::size_t r = 0; r < order.size(); ++r) {
        const std::size_t i = order[r];
        if (r == 0 || mu[i] != mu[order[r - 1]]) run_start = list.size() / 3;
        std::size_t u = run_start;
        while (u < list.size() / 3 && list[3 * u + 1] != sigma[i]) ++u;
        if (u == list.size() / 3) list.insert(list.end(), {mu[i], sigma[i], log_z_[d][i]});
        of[i] = u;
      }
    }
  }
  build_pruning(options);
}

// Far-kernel pruning. For a point x, kernel i adds exp(acc_i(x)) to the density, where acc_i is
// its constant term (log weight, normalisers, categorical log-probabilities of other options)
// plus, per dimension, -z^2/2 (continuous), the log cell mass over the truncation mass (discrete,
// <= 0) and the categorical bonus when x matches (>= 0). So acc_i(x) <= peak - z_p^2 / 2 and
// acc_i(x) <= peak - z_q^2 / 2, where z_p = (x_p - mu_i) / sigma_i in a chosen continuous
// dimension p (likewise q) and peak = the largest constant term plus categorical bonuses among
// the kernels considered. For the "narrow" kernels (sigma_i <= s_p in p and <= s_q in q),
// |x_p - mu_i| > s_p * t implies acc_i(x) < peak - t^2 / 2, and the same in q. log_density first
// sums the wide kernels exactly, which gives a lower bound L of the log density, then chooses t
// with peak - t^2 / 2 = L - margin and visits only the narrow kernels whose centre lies within
// s_p * t of x_p and s_q * t of x_q: narrow kernels come in slabs of kSlab by centre in p, each
// slab sorted by centre in q, so that is a range of slabs and a binary search in each. Each
// kernel left out weighs less than exp(-margin) of the density, all of them less than
// narrow * exp(-margin) = exp(-kPruneMargin), so the log density is exact to 1e-13 (absolute);
// it depends only on the point and the fit (deterministic).
void ParzenEstimator::build_pruning(const EstimatorOptions& options) {
  pruned_ = false;
  const std::size_t D = dims_.size(), m = observations_;
  if (!options.prune_far_kernels || num_kernels_ < kPruneMinKernels || m < kPruneMinKernels) return;
  // The dimensions: the two continuous ones whose typical (90th percentile) sigma is smallest
  // against the spread of the centres, as the window then holds the fewest kernels (q = p when
  // there is only one).
  double best = 0.05, second = 1.0;  // no use pruning if the window would hold a large share anyway
  bool found = false, found_second = false;
  auto& sigmas = scratch_mass_;
  for (std::size_t d = 0; d < D; ++d) {
    if (dims_[d]->kind != ModelDim::Kind::Continuous) continue;
    // On a sample of at most ~512 kernels: the choice only affects the speed, not the result.
    const std::size_t stride = std::max<std::size_t>(1, m / 512);
    sigmas.clear();
    for (std::size_t i = 0; i < m; i += stride) sigmas.push_back(sigma_[d][i]);
    const std::size_t q = sigmas.size() * 9 / 10;
    std::nth_element(sigmas.begin(), sigmas.begin() + static_cast<std::ptrdiff_t>(q), sigmas.end());
    const double s = sigmas[q];
    const auto [lo, hi] = std::minmax_element(mu_[d].begin(), mu_[d].begin() + static_cast<std::ptrdiff_t>(m));
    const double spread = *hi - *lo;
    if (spread > 0 && s / spread < best) {
      if (found) {
        second = best, prune_dim2_ = prune_dim_, prune_sigma2_ = prune_sigma_, found_second = true;
      }
      best = s / spread;
      prune_dim_ = d;
      prune_sigma_ = s;
      found = true;
    } else if (spread > 0 && s / spread < second) {
      second = s / spread;
      prune_dim2_ = d;
      prune_sigma2_ = s;
      found_second = true;
    }
  }
  if (!found) return;
  if (!found_second) prune_dim2_ = prune_dim_, prune_sigma2_ = prune_sigma_;
  const std::size_t p = prune_dim_, q = prune_dim2_;
  auto is_wide = [&](std::size_t i) { return sigma_[p][i] > prune_sigma_ || sigma_[q][i] > prune_sigma2_; };
  std::size_t wide = 0, narrow = 0;
  for (std::size_t i = 0; i < num_kernels_; ++i) (is_wide(i) ? wide : narrow) += 1;
  if (wide == 0 || narrow == 0) return;  // the wide kernels' sum is the lower bound L
  wide_padded_ = (wide + kBlock - 1) / kBlock * kBlock;
  // Narrow kernels: slabs of kSlab consecutive kernels in the order of their centres in p, each
  // slab ordered by the centres in q and padded to kBlock kernels.
  const std::size_t slabs = (narrow + kSlab - 1) / kSlab;
  const std::size_t total = wide_padded_ + (slabs - 1) * kSlab + ((narrow - (slabs - 1) * kSlab) + kBlock - 1) / kBlock * kBlock;
  slab_low_.assign(slabs, 0.0);
  slab_high_.assign(slabs, 0.0);
  slab_count_.assign(slabs, 0);
  const auto& by_p = sorted_by_mu(p);
  const auto& by_q = sorted_by_mu(q);
  auto& at = scratch_at_;  // layout position of each kernel
  at.resize(num_kernels_);
  auto& slab_of = scratch_slab_;
  slab_of.resize(num_kernels_);
  std::size_t next_wide = 0, rank = 0;
  for (std::size_t i : by_p) {
    if (is_wide(i)) {
      at[i] = next_wide++;
      continue;
    }
    const std::size_t k = rank++ / kSlab;
    slab_of[i] = k;
    if (slab_count_[k]++ == 0) slab_low_[k] = mu_[p][i];
    slab_high_[k] = mu_[p][i];
  }
  narrow_key_.assign(total - wide_padded_, std::numeric_limits<double>::infinity());
  std::fill(slab_count_.begin(), slab_count_.end(), 0);
  for (std::size_t i : by_q) {
    if (is_wide(i)) continue;
    const std::size_t k = slab_of[i];
    const std::size_t r = k * kSlab + slab_count_[k]++;
    narrow_key_[r] = mu_[q][i];
    at[i] = wide_padded_ + r;
  }
  // Largest constant term plus categorical bonuses among the narrow kernels.
  auto& peak = scratch_peak_;
  peak.assign(constant_.begin(), constant_.begin() + static_cast<std::ptrdiff_t>(num_kernels_));
  lay_constant_.assign(total, kNoKernel);
  lay_mu_.resize(D);
  lay_inv_.resize(D);
  lay_bonus_.resize(D);
  lay_distinct_.resize(D);
  reset(wide_distinct_, D, 0, std::size_t{0});
  for (std::size_t i = 0; i < num_kernels_; ++i) lay_constant_[at[i]] = constant_[i];
  for (std::size_t d = 0; d < D; ++d) {
    const bool continuous = dims_[d]->kind == ModelDim::Kind::Continuous;
    const bool discrete = dims_[d]->kind == ModelDim::Kind::Discrete;
    lay_mu_[d].assign(discrete ? 0 : total, 0.0);
    lay_inv_[d].assign(continuous ? total : 0, 0.0);
    lay_bonus_[d].assign(continuous || discrete ? 0 : total, 0.0);
    lay_distinct_[d].assign(discrete ? total : 0, 0);
    if (continuous) {
      for (std::size_t i = 0; i < num_kernels_; ++i) lay_mu_[d][at[i]] = mu_[d][i];
      for (std::size_t i = 0; i < num_kernels_; ++i) lay_inv_[d][at[i]] = inv_sigma_[d][i];
    } else if (discrete) {
      for (std::size_t i = 0; i < num_kernels_; ++i) lay_distinct_[d][at[i]] = distinct_of_[d][i];
      for (std::size_t i = 0; i < num_kernels_; ++i) {
        if (at[i] < wide_padded_) wide_distinct_[d].push_back(distinct_of_[d][i]);
      }
    } else {
      for (std::size_t i = 0; i < num_kernels_; ++i) lay_mu_[d][at[i]] = mu_[d][i];
      for (std::size_t i = 0; i < num_kernels_; ++i) lay_bonus_[d][at[i]] = match_bonus_[d][i];
      for (std::size_t i = 0; i < num_kernels_; ++i) peak[i] += std::max(match_bonus_[d][i], 0.0);
    }
  }
  prune_peak_ = kNoKernel;
  for (std::size_t i = 0; i < num_kernels_; ++i) {
    if (at[i] >= wide_padded_) prune_peak_ = std::max(prune_peak_, peak[i]);
  }
  // Padding of the wide part: the first wide kernel's discrete cells (only wide kernels' cell
  // masses are known when the wide part is summed; the padding's weight is 0 anyway).
  for (std::size_t d = 0; d < D; ++d) {
    if (dims_[d]->kind != ModelDim::Kind::Discrete) continue;
    for (std::size_t at = wide; at < wide_padded_; ++at) lay_distinct_[d][at] = lay_distinct_[d][0];
  }
  for (auto& list : wide_distinct_) {
    std::sort(list.begin(), list.end());
    list.erase(std::unique(list.begin(), list.end()), list.end());
  }
  prune_margin_ = std::log(static_cast<double>(narrow)) + kPruneMargin;
  pruned_ = true;
}

// acc[0..n) = the log-terms of the kernels at layout positions [from, from + n) for `point`
// (n a multiple of kBlock); cell_rows holds, per discrete dim, the log cell mass of every
// distinct kernel for the point's cell, starting at cell_of_dim[d].
void ParzenEstimator::accumulate(const double* point, std::size_t from, std::size_t n, const std::vector<double>& cell_rows,
                                 const std::vector<std::size_t>& cell_of_dim, double* acc) const {
  std::copy(lay_constant_.begin() + static_cast<std::ptrdiff_t>(from), lay_constant_.begin() + static_cast<std::ptrdiff_t>(from + n), acc);
  for (std::size_t d = 0; d < dims_.size(); ++d) {
    const double x = point[d];
    switch (dims_[d]->kind) {
      case ModelDim::Kind::Continuous: subtract_half_squared_z(acc, lay_mu_[d].data() + from, lay_inv_[d].data() + from, x, n); break;
      case ModelDim::Kind::Discrete: {
        const double* row = cell_rows.data() + cell_of_dim[d];
        const std::size_t* which = lay_distinct_[d].data() + from;
        for (std::size_t i = 0; i < n; ++i) acc[i] += row[which[i]];
        break;
      }
      case ModelDim::Kind::Categorical: add_where_equal(acc, lay_mu_[d].data() + from, lay_bonus_[d].data() + from, x, n); break;
    }
  }
}

const std::vector<std::size_t>& ParzenEstimator::sorted_by_mu(std::size_t d) {
  if (!sorted_[d]) sort_by_mu(d);
  sorted_[d] = true;
  return order_[d];
}

void ParzenEstimator::sort_by_mu(std::size_t d) {
  // Sorting (centre, index) pairs directly is several times faster than sorting indices through
  // an indirect comparison, and gives the same order as a stable sort by centre.
  // A bucket sort: kernels are spread over n buckets of equal width between the smallest and the
  // largest centre (a monotone map, so buckets are in order), placed stably (index order within
  // a bucket), then each bucket is sorted by (centre, index): an insertion sort for the usual one
  // or two members, std::sort for crowded buckets. Linear time on spread-out centres, and the
  // same order as a stable sort by centre on any input.
  const auto& mu = mu_[d];
  const std::size_t n = num_kernels_;
  auto& keyed = scratch_keyed_;
  auto& order = order_[d];
  keyed.resize(n);
  order.resize(n);
  auto less = [](const Keyed& a, const Keyed& b) { return a.key != b.key ? a.key < b.key : a.index < b.index; };
  double lo = n > 0 ? mu[0] : 0.0, hi = lo;
  for (std::size_t i = 0; i < n; ++i) {
    lo = std::min(lo, mu[i]);
    hi = std::max(hi, mu[i]);
  }
  const double scale = static_cast<double>(n) / (hi - lo) * (1 - 1e-9);
  if (n < 64 || !(hi > lo) || !std::isfinite(scale)) {
    for (std::size_t i = 0; i < n; ++i) keyed[i] = {mu[i], i};
    std::sort(keyed.begin(), keyed.end(), less);
  } else {
    auto& bucket = scratch_bucket_;
    auto& start = scratch_start_;
    bucket.resize(n);
    start.assign(n + 1, 0);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t b = std::min(static_cast<std::size_t>((mu[i] - lo) * scale), n - 1);
      bucket[i] = b;
      ++start[b + 1];
    }
    for (std::size_t b = 0; b < n; ++b) start[b + 1] += start[b];
    // start[b] now counts the kernels of buckets < b; fill with a moving cursor per bucket.
    auto& cursor = scratch_cursor_;
    cursor.assign(start.begin(), start.end() - 1);
    for (std::size_t i = 0; i < n; ++i) keyed[cursor[bucket[i]]++] = {mu[i], i};
    for (std::size_t b = 0; b < n; ++b) {
      Keyed* first = keyed.data() + start[b];
      Keyed* last = keyed.data() + start[b + 1];
      if (last - first > 32) {
        std::sort(first, last, less);
        continue;
      }
      for (Keyed* k = first + 1; k < last; ++k) {  // insertion sort; members arrive in index order
        const Keyed item = *k;
        Keyed* j = k;
        for (; j > first && item.key < (j - 1)->key; --j) *j = *(j - 1);
        *j = item;
      }
    }
  }
  for (std::size_t r = 0; r < n; ++r) order[r] = keyed[r].index;
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
    const auto& order = sorted_by_mu(d);
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
  const double min_sigma =
      options.magic_clip
          ? dim.width / std::min(100.0, 1.0 + static_cast<double>(options.clip_count > 0 ? options.clip_count : num_kernels_))
          : dim.width * 1e-12;
  for (std::size_t i = 0; i < m; ++i) sigma[i] = std::min(std::max(sigma[i], min_sigma), dim.max_sigma);
  if (has_prior_) sigma[m] = dim.prior_sigma;
}

double ParzenEstimator::kernel_weight(std::size_t i) const { return std::exp(log_weight_[i]); }

void ParzenEstimator::sample(Rng& rng, std::size_t n, std::vector<double>& out) const {
  for (std::size_t c = 0; c < n; ++c) {
    const double u = rng.uniform() * cumulative_weight_.back();
    const std::size_t i =
        static_cast<std::size_t>(std::upper_bound(cumulative_weight_.begin(), cumulative_weight_.end(), u) - cumulative_weight_.begin());
    draw_from_kernel(rng, std::min(i, num_kernels_ - 1), nullptr, out);
  }
}

void ParzenEstimator::sample_around(Rng& rng, std::size_t i, const std::vector<double>& sigmas, std::size_t n,
                                    std::vector<double>& out) const {
  for (std::size_t c = 0; c < n; ++c) draw_from_kernel(rng, i, sigmas.data(), out);
}

double ParzenEstimator::observation_spread(std::size_t d) const {
  const std::size_t m = observations_;
  if (m < 2) return 0.0;
  double mean = 0, sq = 0;
  for (std::size_t i = 0; i < m; ++i) mean += mu_[d][i];
  mean /= static_cast<double>(m);
  for (std::size_t i = 0; i < m; ++i) sq += (mu_[d][i] - mean) * (mu_[d][i] - mean);
  return std::sqrt(sq / static_cast<double>(m - 1));
}

void ParzenEstimator::draw_from_kernel(Rng& rng, std::size_t i, const double* sigmas, std::vector<double>& out) const {
  for (std::size_t d = 0; d < dims_.size(); ++d) {
    const ModelDim& dim = *dims_[d];
    const double mu = mu_[d][i];
    switch (dim.kind) {
      case ModelDim::Kind::Continuous: {
        const double s = sigmas ? sigmas[d] : sigma_[d][i];
        out.push_back(dim.bounded ? sample_truncated_normal(rng, mu, s, dim.low, dim.high) : mu + s * rng.normal());
        break;
      }
      case ModelDim::Kind::Discrete:
        out.push_back(
            static_cast<double>(dim.cell_of(sample_truncated_normal(rng, mu, sigmas ? sigmas[d] : sigma_[d][i], dim.low, dim.high))));
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
  if (pruned_) {
    // Discrete dims: per distinct cell among the points, the log-mass of each distinct kernel.
    auto& cells = scratch_cells_;
    auto& rows = scratch_mass_;
    auto& cell_of_point = scratch_cell_start_;
    cells.resize(D);
    rows.clear();
    cell_of_point.assign(n * D, 0);
    cell_base_.assign(D, 0);
    for (std::size_t d = 0; d < D; ++d) {
      const ModelDim& dim = *dims_[d];
      if (dim.kind != ModelDim::Kind::Discrete) continue;
      auto& list = cells[d];
      list.clear();
      for (std::size_t c = 0; c < n; ++c) list.push_back(static_cast<std::size_t>(points[c * D + d]));
      std::sort(list.begin(), list.end());
      list.erase(std::unique(list.begin(), list.end()), list.end());
      const std::vector<double>& kinds = distinct_[d];
      const std::size_t U = kinds.size() / 3;
      const std::size_t base = rows.size();
      cell_base_[d] = base;
      // NaN until computed: first the masses of the distinct kernels that wide kernels use.
      rows.resize(base + list.size() * U, std::numeric_limits<double>::quiet_NaN());
      for (std::size_t j = 0; j < list.size(); ++j) {
        const double lower = dim.cell_lower(list[j]), upper = dim.cell_upper(list[j]);
        for (std::size_t u : wide_distinct_[d]) {
          const double mu = kinds[3 * u], sigma = kinds[3 * u + 1];
          rows[base + j * U + u] = log_normal_mass((lower - mu) / sigma, (upper - mu) / sigma) - kinds[3 * u + 2];
        }
      }
      for (std::size_t c = 0; c < n; ++c) {
        const std::size_t j = static_cast<std::size_t>(
            std::lower_bound(list.begin(), list.end(), static_cast<std::size_t>(points[c * D + d])) - list.begin());
        cell_of_point[c * D + d] = base + j * U;
      }
    }
    auto& acc = scratch_acc_;
    acc.resize(lay_constant_.size());
    auto& offsets = scratch_offsets_;
    offsets.resize(D);
    // The wide kernels' log density at each point: a lower bound L(point) of the log density.
    auto& lower_bounds = scratch_lower_;
    lower_bounds.resize(n);
    for (std::size_t c = 0; c < n; ++c) {
      std::copy(cell_of_point.begin() + static_cast<std::ptrdiff_t>(c * D), cell_of_point.begin() + static_cast<std::ptrdiff_t>(c * D + D),
                offsets.begin());
      accumulate(points + c * D, 0, wide_padded_, rows, offsets, acc.data());
      lower_bounds[c] = log_sum_exp_keep(acc.data(), wide_padded_);
    }
    // The other cell masses, of distinct kernels that only narrow kernels use. A narrow kernel's
    // log-term is at most prune_peak_ + (log cell mass - log_z) <= prune_peak_ + log Q(a) - log_z
    // <= prune_peak_ - a^2/2 - log 2 - log_z, with a the cell's distance from the kernel's centre
    // in sigmas. Where that is below min L - margin, the kernel weighs less than exp(-margin) of
    // the density at every point in that cell, like a kernel left out of the window: its mass is
    // not computed and the kernel is dropped (log-term kLogFloor), within the same error bound.
    const double floor_level = *std::min_element(lower_bounds.begin(), lower_bounds.end()) - prune_margin_ - prune_peak_;
    for (std::size_t d = 0; d < D; ++d) {
      const ModelDim& dim = *dims_[d];
      if (dim.kind != ModelDim::Kind::Discrete) continue;
      const auto& list = cells[d];
      const std::vector<double>& kinds = distinct_[d];
      const std::size_t U = kinds.size() / 3;
      double* table = rows.data() + cell_base_[d];
      for (std::size_t j = 0; j < list.size(); ++j) {
        const double lower = dim.cell_lower(list[j]), upper = dim.cell_upper(list[j]);
        double* row = table + j * U;
        for (std::size_t u = 0; u < U; ++u) {
          if (!std::isnan(row[u])) continue;
          const double mu = kinds[3 * u], sigma = kinds[3 * u + 1], log_z = kinds[3 * u + 2];
          const double a = std::max({lower - mu, mu - upper, 0.0}) / sigma;
          if (-0.5 * a * a - kLog2 - log_z < floor_level) {
            row[u] = kLogFloor;
          } else {
            row[u] = log_normal_mass((lower - mu) / sigma, (upper - mu) / sigma) - log_z;
          }
        }
      }
    }
    for (std::size_t c = 0; c < n; ++c) {
      const double* point = points + c * D;
      std::copy(cell_of_point.begin() + static_cast<std::ptrdiff_t>(c * D), cell_of_point.begin() + static_cast<std::ptrdiff_t>(c * D + D),
                offsets.begin());
      accumulate(point, 0, wide_padded_, rows, offsets, acc.data());
      const double lower_bound = lower_bounds[c];
      const double slack = std::sqrt(2 * std::max(0.0, prune_peak_ - lower_bound + prune_margin_));
      const double reach = prune_sigma_ * slack, reach2 = prune_sigma2_ * slack;
      const double x = point[prune_dim_], y = point[prune_dim2_];
      const bool everything = !(slack < std::numeric_limits<double>::infinity());
      // Slabs whose centres in p meet [x - reach, x + reach]; in each, the kernels whose centres
      // in q lie in [y - reach2, y + reach2] (a range of the slab's order), widened to blocks.
      const std::size_t k0 =
          everything ? 0 : static_cast<std::size_t>(std::lower_bound(slab_high_.begin(), slab_high_.end(), x - reach) - slab_high_.begin());
      const std::size_t k1 =
          everything ? slab_low_.size()
                     : static_cast<std::size_t>(std::upper_bound(slab_low_.begin(), slab_low_.end(), x + reach) - slab_low_.begin());
      std::size_t filled = wide_padded_;
      for (std::size_t k = k0; k < k1; ++k) {
        const double* keys = narrow_key_.data() + k * kSlab;
        const std::size_t count = slab_count_[k];
        std::size_t r0 = everything ? 0 : static_cast<std::size_t>(std::lower_bound(keys, keys + count, y - reach2) - keys);
        std::size_t r1 = everything ? count : static_cast<std::size_t>(std::upper_bound(keys, keys + count, y + reach2) - keys);
        if (r1 <= r0) continue;
        r0 = r0 / kBlock * kBlock;
        r1 = (r1 + kBlock - 1) / kBlock * kBlock;  // within the slab's padding
        accumulate(point, wide_padded_ + k * kSlab + r0, r1 - r0, rows, offsets, acc.data() + filled);
        filled += r1 - r0;
      }
      out[c] = log_sum_exp(acc.data(), filled);
    }
    return;
  }
  // A multiple of kBlock, visibly so to the compiler: vector loops need no scalar remainder.
  const std::size_t N = padded_ / kBlock * kBlock;

  // Discrete dims: the log-mass of every kernel over each distinct cell among the points, computed
  // once per cell rather than once per point.
  auto& cells = scratch_cells_;
  auto& cell_mass = scratch_tables_;
  cells.resize(D);
  cell_mass.resize(D);
  for (std::size_t d = 0; d < D; ++d) {
    const ModelDim& dim = *dims_[d];
    if (dim.kind != ModelDim::Kind::Discrete) continue;
    auto& list = cells[d];
    list.clear();
    for (std::size_t c = 0; c < n; ++c) list.push_back(static_cast<std::size_t>(points[c * D + d]));
    std::sort(list.begin(), list.end());
    list.erase(std::unique(list.begin(), list.end()), list.end());
    auto& table = cell_mass[d];
    table.assign(list.size() * N, 0.0);
    const std::vector<double>& kinds = distinct_[d];
    auto& mass = scratch_mass_;
    mass.resize(kinds.size() / 3);
    for (std::size_t j = 0; j < list.size(); ++j) {
      const double lower = dim.cell_lower(list[j]), upper = dim.cell_upper(list[j]);
      for (std::size_t u = 0; u < mass.size(); ++u) {
        const double mu = kinds[3 * u], sigma = kinds[3 * u + 1];
        mass[u] = log_normal_mass((lower - mu) / sigma, (upper - mu) / sigma) - kinds[3 * u + 2];
      }
      double* column = table.data() + j * N;
      for (std::size_t i = 0; i < num_kernels_; ++i) column[i] = mass[distinct_of_[d][i]];
    }
  }

  auto& acc = scratch_acc_;
  acc.resize(N);
  for (std::size_t c = 0; c < n; ++c) {
    const double* point = points + c * D;
    double* a = acc.data();
    std::copy(constant_.begin(), constant_.end(), a);
    for (std::size_t d = 0; d < D; ++d) {
      const ModelDim& dim = *dims_[d];
      const double x = point[d];
      switch (dim.kind) {
        case ModelDim::Kind::Continuous: {
          subtract_half_squared_z(a, mu_[d].data(), inv_sigma_[d].data(), x, N);
          break;
        }
        case ModelDim::Kind::Discrete: {
          const auto& list = cells[d];
          const std::size_t j =
              static_cast<std::size_t>(std::lower_bound(list.begin(), list.end(), static_cast<std::size_t>(x)) - list.begin());
          add_column(a, cell_mass[d].data() + j * N, N);
          break;
        }
        case ModelDim::Kind::Categorical: {
          add_where_equal(a, mu_[d].data(), match_bonus_[d].data(), x, N);
          break;
        }
      }
    }
    out[c] = log_sum_exp(a, N);
  }
}

}  // namespace hpsearch::tpe
