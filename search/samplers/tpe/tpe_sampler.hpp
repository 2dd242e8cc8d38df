#pragma once
// The Tree-structured Parzen Estimator sampler (Bergstra et al. 2011; Watanabe 2023).
//
// After `n_startup_trials` finished trials drawn from the prior, every suggestion splits the
// finished trials into a good set (the gamma(n) best) and a bad set (the rest, plus every failed
// trial and, with the constant liar, every running one), fits a Parzen estimator l(x) to the good
// and g(x) to the bad, draws `n_candidates` points from l and returns the one with the largest
// l(x) / g(x).
//
// Promises:
//  - suggest() is a pure function of (settings, history, number): the Rng is seeded from
//    (seed, number), nothing is kept between calls.
//  - The returned point has a value for every active parameter and NaN for inactive ones, every
//    value on its parameter's domain (grid, bounds, option range).
//  - It differs from every RUNNING/WAITING trial of the history whenever the space allows it.
//  - Tree-structured spaces: parameters are modelled in groups that share the same activating
//    choice option (all top-level parameters form one group); a group is fitted only on the
//    trials where it was active, while the good/bad split is decided over all trials.
//  - Failed trials count as bad (worse than any finished one), so their regions are avoided.
//    Pruned trials rank after complete ones, by (last step reached, descending; value).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/settings.hpp"
#include "search/sampler.hpp"
#include "search/samplers/tpe/parzen_estimator.hpp"

namespace hpsearch {

// Every knob of the TPE sampler; the defaults are the best measured settings (README.md, "The TPE
// sampler": regret by bench/tpe_regret, time by bench/tpe_suggest_time). Each is declared once,
// with these defaults, in tpe_settings().
struct TpeSettings {
  std::uint64_t seed = 0;
  // Trials drawn from the prior before the model is used; -1 ("auto"): max(5, 2 * parameters).
  int n_startup_trials = 5;
  int n_candidates = 64;  // points drawn from l(x) per suggestion
  // Size of the good set: min(ceil(fraction * n^exponent), max) of the n finished trials.
  double gamma_fraction = 0.1;
  double gamma_exponent = 1.0;
  int gamma_max = 25;
  // The newest `linear_forgetting` trials of each set weigh 1, older ones ramp linearly from 1/n
  // (Optuna's weights); 0 = every trial weighs 1.
  int linear_forgetting = 25;
  double prior_weight = 1.0;
  // Kernel widths: "neighbors" (each kernel as wide as the larger gap to its neighbours),
  // "scott" (one sigma per dimension, bandwidth_factor * m^(-1/(d+4)) * range) or "adaptive"
  // (the same with the observations' standard deviation in place of the range).
  std::string bandwidth = "neighbors";
  double bandwidth_factor = 0.2;
  bool magic_clip = true;           // sigma >= range / min(100, kernels + 1)
  bool clip_by_trials = false;      // ... with kernels = all finished trials rather than the set's
  bool consider_endpoints = false;  // neighbour gaps include the distance to the domain's ends
  // Score candidates only against the bad-set kernels that can change g(x) by more than a
  // relative 1e-13 (bounded; see ParzenEstimator); false: against every kernel (slower).
  bool prune_kernels = true;
  bool multivariate = true;   // joint kernels over a group (false: one estimator per parameter)
  bool group = true;          // conditional parameters grouped by their activating option
  bool constant_liar = true;  // running trials count as bad
  // Local refinement: every local_period-th trial (by number; 0 = never) draws all its
  // candidates, and the other trials a local_fraction of theirs, around the best trial, with a
  // sigma per dimension of local_scale times the spread of the good trials (so steps shrink as
  // they cluster); candidates then compete on l/g as usual.
  int local_period = 3;
  double local_fraction = 0.0;
  double local_scale = 1.0;
};

// The TPE sampler's settings table: what parse_tpe_settings reads and README.md's table documents.
const settings::Table& tpe_settings();

// Reads the `sampler` object of a space file (type "tpe"); unknown keys and bad values are
// FileErrors naming sampler.KEY (sampler.gamma.KEY inside gamma).
TpeSettings parse_tpe_settings(const nlohmann::json& settings, const std::string& file);

class TpeSampler : public Sampler {
 public:
  TpeSampler(const SearchSpace& space, TpeSettings settings);
  std::vector<double> suggest(const StudyHistory& history, int number) override;

  const TpeSettings& settings() const { return settings_; }
  int startup_trials() const;

 private:
  struct Group {
    std::vector<std::size_t> params;  // indices into the space, in order
    int parent = -1, parent_option = -1;
    bool joint = false;  // may take more parameters
  };

  const SearchSpace& space_;
  TpeSettings settings_;
  std::vector<tpe::ModelDim> dims_;  // one per parameter
  std::vector<Group> groups_;        // parents' groups before their children's
  // Working memory reused from one suggestion to the next (never read before being refitted):
  // the same object must not suggest from two threads at once.
  tpe::ParzenEstimator below_, above_;
};

}  // namespace hpsearch
