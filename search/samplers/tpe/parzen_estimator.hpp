#pragma once
// A Parzen estimator: a weighted mixture of product kernels over a group of parameters, the
// building block of TPE (one for the good trials, l(x), one for the bad ones, g(x)).
//
// Each parameter of the group is a `ModelDim`, the parameter seen on its modelling scale:
//  - continuous (uniform, loguniform, normal, lognormal): a normal kernel on the value, or on
//    its log for log-scale kinds; truncated to [low, high] for bounded kinds, untruncated for
//    the normal family;
//  - discrete (quniform, qloguniform, randint): the same normal kernel, but a grid point gets
//    the kernel's mass over its cell [x - q/2, x + q/2] (on the log scale for qloguniform), so
//    the masses of all grid points sum to 1;
//  - categorical (choice): a kernel that puts weight 1 on the observed option and
//    prior_weight / (m + 1) on every option, normalised.
// One extra "prior" kernel (weight prior_weight) is the search space's own distribution seen on
// the modelling scale: a normal at the midpoint with sigma = the range for bounded kinds, the
// distribution itself for the normal family, uniform over the options of a choice.
//
// Points are rows of doubles, one per dimension of the group, in "point form": the modelling
// value for continuous dims, the grid index k (value = low + k*q) for discrete dims, the option
// index for choices. The estimator promises: exp(log_density) integrates (sums, for discrete and
// categorical dims) to 1 over the domain, and `sample` draws from exactly that density.
// Not thread-safe: log_density uses scratch space inside the object.
#include <cstddef>
#include <vector>

#include "search/random.hpp"
#include "search/space.hpp"

namespace hpsearch::tpe {

struct ModelDim {
  enum class Kind { Continuous, Discrete, Categorical };
  Kind kind = Kind::Continuous;
  bool bounded = true;
  double low = 0, high = 1;              // truncation bounds on the modelling scale (bounded)
  double prior_mu = 0, prior_sigma = 1;  // the prior kernel on the modelling scale
  double width = 1;                      // reference width for bandwidths and their clipping
  double max_sigma = 1;                  // largest kernel sigma
  // Discrete: grid value of index k = grid_low + k * step; cells on the log scale if log_scale.
  bool log_scale = false;
  double grid_low = 0, step = 1;
  std::size_t num_cells = 0;
  std::size_t num_choices = 0;  // categorical

  static ModelDim of(const Parameter& p);
  // Internal value (see space.hpp) <-> point form. Inputs must be active (not NaN).
  double to_point(double internal_value) const;
  double from_point(double point_value) const;
  // Modelling-scale centre and cell of grid index k (discrete dims).
  double cell_centre(std::size_t k) const;
  double cell_lower(std::size_t k) const;
  double cell_upper(std::size_t k) const;
  // Grid index of a modelling-scale value (discrete dims): the cell that contains it.
  std::size_t cell_of(double model_value) const;
};

struct EstimatorOptions {
  double prior_weight = 1.0;
  bool multivariate_bandwidth = true;  // true: one Scott-style sigma per dim; false: neighbour gaps
  double bandwidth_factor = 0.2;       // multivariate: sigma = factor * m^(-1/(d+4)) * scale
  bool adaptive_scale = false;         // scale = the observations' standard deviation (else the width)
  bool magic_clip = true;              // sigma >= width / min(100, clip_count + 1)
  std::size_t clip_count = 0;          // 0: the number of kernels of this estimator
  bool consider_endpoints = false;     // neighbour gaps: also the gap to the domain's ends
  // log_density skips the kernels that cannot change the density by more than a relative 1e-13
  // (see ParzenEstimator::build_pruning); false: every kernel is visited for every point.
  bool prune_far_kernels = true;
};

class ParzenEstimator {
 public:
  // `observations`: m rows of dims.size() values in point form; `weights`: m positive weights.
  // `dims` must outlive the estimator.
  ParzenEstimator(const std::vector<const ModelDim*>& dims, const std::vector<double>& observations, const std::vector<double>& weights,
                  const EstimatorOptions& options);
  ParzenEstimator() = default;
  // Refits in place, reusing the memory of the previous fit (a suggestion over 10,000 trials
  // would otherwise allocate and fault in megabytes every time).
  void fit(const std::vector<const ModelDim*>& dims, const std::vector<double>& observations, const std::vector<double>& weights,
           const EstimatorOptions& options);

  std::size_t dimensions() const { return dims_.size(); }
  std::size_t kernels() const { return num_kernels_; }

  // Appends n draws (rows in point form) to `out`.
  void sample(Rng& rng, std::size_t n, std::vector<double>& out) const;
  // Appends n draws from kernel `i` alone with the given sigma per dimension (local search
  // around one observation; categorical dims use the kernel as it is).
  void sample_around(Rng& rng, std::size_t i, const std::vector<double>& sigmas, std::size_t n, std::vector<double>& out) const;
  // Standard deviation of the observations' centres in dimension d (0 with fewer than 2).
  double observation_spread(std::size_t d) const;
  // log density of n points (rows in point form) into out[0..n).
  void log_density(const double* points, std::size_t n, double* out) const;

  // Whether log_density prunes far kernels in this fit (for tests).
  bool prunes() const { return pruned_; }
  // Kernel parameters, for tests: weight, and per dim centre and sigma on the modelling scale.
  double kernel_weight(std::size_t i) const;
  double kernel_mu(std::size_t dim, std::size_t i) const { return mu_[dim][i]; }
  double kernel_sigma(std::size_t dim, std::size_t i) const { return sigma_[dim][i]; }

 private:
  // The kernels' indices ordered by (centre in dim d, index), sorted once per fit.
  const std::vector<std::size_t>& sorted_by_mu(std::size_t d);
  void sort_by_mu(std::size_t d);
  void compute_sigmas(std::size_t d, std::size_t m, const EstimatorOptions& options);
  // Far-kernel pruning for log_density, set up at the end of fit (see the .cpp).
  void build_pruning(const EstimatorOptions& options);
  void accumulate(const double* point, std::size_t from, std::size_t n, const std::vector<double>& cell_rows,
                  const std::vector<std::size_t>& cell_of_dim, double* acc) const;
  void draw_from_kernel(Rng& rng, std::size_t i, const double* sigmas, std::vector<double>& out) const;

  std::vector<const ModelDim*> dims_;
  std::size_t num_kernels_ = 0;  // observations + prior
  std::size_t padded_ = 0;       // num_kernels_ rounded up to a multiple of kBlock
  bool has_prior_ = false;
  std::size_t observations_ = 0;
  std::vector<double> log_weight_;         // normalised, padded with a huge negative number
  std::vector<double> cumulative_weight_;  // for picking a kernel when sampling
  // Per dim, per kernel (padded). Continuous and discrete: mu, sigma, 1/sigma, log of the
  // truncation mass. Categorical: mu holds the observed option (-1 for the prior kernel),
  // match_bonus the log-probability gain of the observed option, log_other[d][i] the
  // log-probability of any other option.
  std::vector<std::vector<double>> mu_, sigma_, inv_sigma_, log_z_, match_bonus_, log_other_;
  // Discrete dims: kernels repeat (observations share grid points and clipped sigmas), so cell
  // masses are computed once per distinct (mu, sigma): distinct_[d] lists them as (mu, sigma,
  // log_z) triples and distinct_of_[d][i] is kernel i's entry.
  std::vector<std::vector<double>> distinct_;
  std::vector<std::vector<std::size_t>> distinct_of_;
  // Sum over dims of the per-kernel constant terms plus the log weight.
  std::vector<double> constant_;
  // Far-kernel pruning: kernels as wide as prune_sigma_ or less in dimension prune_dim_, and
  // prune_sigma2_ or less in prune_dim2_, are "narrow"; the others, the prior among them, are
  // "wide". Narrow kernels form slabs of kSlab by centre in prune_dim_ (slab k spans centres
  // [slab_low_[k], slab_high_[k]] there and holds slab_count_[k] kernels), each slab ordered by
  // centre in prune_dim2_ (narrow_key_, +inf in the padding). The lay_* arrays hold the scoring
  // parameters in that layout: wide kernels at [0, wide_padded_), then slab k at
  // wide_padded_ + k * kSlab, each part padded to kBlock kernels.
  bool pruned_ = false;
  std::size_t prune_dim_ = 0, prune_dim2_ = 0, wide_padded_ = 0;
  double prune_sigma_ = 0, prune_sigma2_ = 0, prune_peak_ = 0, prune_margin_ = 0;
  std::vector<double> narrow_key_, lay_constant_;
  std::vector<double> slab_low_, slab_high_;
  std::vector<std::size_t> slab_count_;
  std::vector<std::vector<double>> lay_mu_, lay_inv_, lay_bonus_;
  std::vector<std::vector<std::size_t>> lay_distinct_;
  std::vector<std::vector<std::size_t>> wide_distinct_;  // per discrete dim: distinct kernels of wide kernels
  // Scratch space of log_density, kept to spare allocations; never read before being written.
  mutable std::vector<std::vector<std::size_t>> scratch_cells_;
  mutable std::vector<std::vector<double>> scratch_tables_;
  mutable std::vector<double> scratch_acc_, scratch_mass_;
  mutable std::vector<std::size_t> scratch_cell_start_, scratch_offsets_, cell_base_;
  mutable std::vector<double> scratch_lower_;
  std::vector<std::vector<std::size_t>> order_;  // per dim, see sorted_by_mu
  std::vector<bool> sorted_;
  struct Keyed {
    double key;
    std::size_t index;
  };
  std::vector<Keyed> scratch_keyed_;
  std::vector<double> scratch_peak_;
  std::vector<std::size_t> scratch_at_, scratch_slab_;
  std::vector<std::size_t> scratch_bucket_, scratch_start_, scratch_cursor_;
};

}  // namespace hpsearch::tpe
