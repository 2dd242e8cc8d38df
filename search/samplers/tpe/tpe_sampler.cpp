#include "search/samplers/tpe/tpe_sampler.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/errors.hpp"
#include "core/settings.hpp"
#include "search/random.hpp"
#include "search/samplers/random_sampler.hpp"

namespace hpsearch {

using nlohmann::json;
using tpe::ModelDim;
using tpe::ParzenEstimator;

// ------------------------------------------------------------------------------------ settings

namespace {

const settings::Table& gamma_table() {
  const TpeSettings d;
  static const settings::Table table{
      "tpe sampler's gamma",
      {settings::open_min(settings::number("fraction", d.gamma_fraction, "share of the finished trials in the good set", 0, 1)),
       settings::open_min(settings::number("exponent", d.gamma_exponent, "exponent of n: the good set grows as n^exponent", 0, 1)),
       settings::integer("max", d.gamma_max, "largest good set", 1)},
      {},
      "{\"fraction\": 0.1, \"exponent\": 1, \"max\": 25}"};
  return table;
}

}  // namespace

// Every knob, declared once: its default is TpeSettings' (the best measured), its doc the README's.
const settings::Table& tpe_settings() {
  const TpeSettings d;
  static const settings::Table table{
      "tpe sampler",
      {sampler_seed(),
       settings::or_word(settings::integer("n_startup_trials", d.n_startup_trials,
                                           "finished trials drawn from the prior before the model is used; "
                                           "`\"auto\"`: max(5, 2 × parameters)",
                                           0),
                         "auto"),
       settings::integer("n_candidates", d.n_candidates, "candidates drawn from l(x) per suggestion", 1),
       settings::table("gamma", gamma_table(),
                       "good-set size min(ceil(fraction × n^exponent), max) over the n finished trials (hyperopt: 0.25, 0.5, 25)"),
       settings::integer("linear_forgetting", d.linear_forgetting,
                         "the newest `linear_forgetting` trials of each set weigh 1, older ones ramp linearly from 1/n; "
                         "`0` = equal weights",
                         0),
       settings::number("prior_weight", d.prior_weight, "weight of the prior kernel (and of the uniform share of categorical kernels)", 0),
       settings::string("bandwidth", d.bandwidth,
                        "kernel sigma: `\"neighbors\"` = the larger gap to its neighbours per dimension; `\"scott\"` = bandwidth_factor × "
                        "m^(-1/(d+4)) × range (Optuna's multivariate rule); `\"adaptive\"` = the same with the observations' standard "
                        "deviation instead of the range",
                        {"neighbors", "scott", "adaptive"}),
       settings::open_min(settings::number("bandwidth_factor", d.bandwidth_factor, "factor of the `\"scott\"`/`\"adaptive\"` rules", 0)),
       settings::boolean("magic_clip", d.magic_clip, "clip sigmas to [range / min(100, kernels + 1), range] (else only to the range)"),
       settings::boolean("clip_by_trials", d.clip_by_trials,
                         "in that clip, count all finished trials instead of the set's kernels (narrower kernels late)"),
       settings::boolean("consider_endpoints", d.consider_endpoints,
                         "neighbour gaps also count the distance to the domain's ends for the outermost kernels"),
       settings::boolean("prune_kernels", d.prune_kernels,
                         "score candidates only against the bad-set kernels that can change g(x) by more than a relative 1e-13 "
                         "(bounded, see below); `false` = against every kernel"),
       settings::boolean("multivariate", d.multivariate,
                         "joint (product) kernels over a group; `false` = one estimator per parameter (hyperopt, Optuna's default)"),
       settings::boolean("group", d.group,
                         "conditional parameters grouped by their activating choice option; `false` = only top-level parameters joint, "
                         "conditional ones alone"),
       settings::boolean("constant_liar", d.constant_liar, "running trials count as bad"),
       settings::integer("local_period", d.local_period,
                         "local refinement: every `local_period`-th trial (by number) draws all its candidates around the best trial; "
                         "`0` = never",
                         0),
       settings::number("local_fraction", d.local_fraction, "share of the other trials' candidates drawn around the best trial", 0, 1),
       settings::open_min(settings::number("local_scale", d.local_scale,
                                           "local candidates' sigma per dimension = local_scale × spread (std. dev.) of the good trials "
                                           "there, so the steps shrink as the good trials cluster",
                                           0))},
      {"type"}};
  return table;
}

TpeSettings parse_tpe_settings(const json& settings, const std::string& file) {
  const settings::Reader r(settings, tpe_settings(), file, "sampler");
  // Counts are capped where a larger value changes nothing but the time a suggestion takes.
  auto capped = [&](const settings::Reader& from, const std::string& key, int64_t cap) {
    return static_cast<int>(std::min<int64_t>(from.integer(key), cap));
  };
  TpeSettings s;
  s.seed = static_cast<std::uint64_t>(r.integer("seed"));
  s.n_startup_trials = r.word("n_startup_trials") == "auto" ? -1 : capped(r, "n_startup_trials", 1000000000);
  s.n_candidates = capped(r, "n_candidates", 1000000);
  const settings::Reader gamma = r.table("gamma");
  s.gamma_fraction = gamma.number("fraction");
  s.gamma_exponent = gamma.number("exponent");
  s.gamma_max = capped(gamma, "max", 1000000000);
  s.linear_forgetting = capped(r, "linear_forgetting", 1000000000);
  s.prior_weight = r.number("prior_weight");
  s.bandwidth = r.string("bandwidth");
  s.bandwidth_factor = r.number("bandwidth_factor");
  s.magic_clip = r.boolean("magic_clip");
  s.clip_by_trials = r.boolean("clip_by_trials");
  s.consider_endpoints = r.boolean("consider_endpoints");
  s.prune_kernels = r.boolean("prune_kernels");
  s.multivariate = r.boolean("multivariate");
  s.group = r.boolean("group");
  s.constant_liar = r.boolean("constant_liar");
  s.local_period = capped(r, "local_period", 1000000);
  s.local_fraction = r.number("local_fraction");
  s.local_scale = r.number("local_scale");
  return s;
}

// ------------------------------------------------------------------------------------- sampler

TpeSampler::TpeSampler(const SearchSpace& space, TpeSettings settings) : space_(space), settings_(std::move(settings)) {
  const auto& params = space_.parameters();
  for (const auto& p : params) dims_.push_back(ModelDim::of(p));
  // Groups: with `multivariate`, the parameters activated by the same choice option share one
  // joint model (all top-level ones together); with `group` off, only the top-level parameters
  // are joint and each conditional one is modelled alone; without `multivariate`, every
  // parameter is alone. Parameters come parents first, so groups do too.
  for (std::size_t i = 0; i < params.size(); ++i) {
    const bool joint = settings_.multivariate && (settings_.group || params[i].parent < 0);
    Group* home = nullptr;
    for (auto& g : groups_) {
      if (joint && g.joint && g.parent == params[i].parent && g.parent_option == params[i].parent_option) home = &g;
    }
    if (home == nullptr) {
      groups_.push_back(Group{{}, params[i].parent, params[i].parent_option, joint});
      home = &groups_.back();
    }
    home->params.push_back(i);
  }
}

int TpeSampler::startup_trials() const {
  if (settings_.n_startup_trials >= 0) return settings_.n_startup_trials;
  return std::max(5, 2 * static_cast<int>(space_.size()));
}

namespace {

// How a finished trial ranks: complete trials by loss; pruned ones after them, the further they
// got the better, then by their last value (Optuna's order). Smaller is better.
struct RankKey {
  int tier;     // 0 complete, 1 pruned
  double step;  // minus the last step reached (pruned)
  double loss;
  std::size_t trial;  // index in history.trials: breaks ties deterministically
  bool operator<(const RankKey& o) const {
    if (tier != o.tier) return tier < o.tier;
    if (step != o.step) return step < o.step;
    if (loss != o.loss) return loss < o.loss;
    return trial < o.trial;
  }
};

double finite_or_inf(double v) { return std::isfinite(v) ? v : std::numeric_limits<double>::infinity(); }

// Optuna's weights: the newest `recent` trials weigh 1, older ones ramp from 1/n up to 1.
void forgetting_weights(std::size_t n, int recent, std::vector<double>& out) {
  out.assign(n, 1.0);
  if (recent <= 0 || n <= static_cast<std::size_t>(recent)) return;
  const std::size_t ramp = n - static_cast<std::size_t>(recent);
  const double start = 1.0 / static_cast<double>(n);
  for (std::size_t j = 0; j < ramp; ++j) {
    out[j] = ramp == 1 ? start : start + (1.0 - start) * static_cast<double>(j) / static_cast<double>(ramp - 1);
  }
}

}  // namespace

std::vector<double> TpeSampler::suggest(const StudyHistory& history, int number) {
  const std::size_t P = space_.size();
  const auto& trials = history.trials;

  // 1. Sort the history out: finished trials that rank, failed ones, and pending ones.
  std::vector<RankKey> ranked;
  std::vector<std::size_t> failed, pending;
  for (std::size_t t = 0; t < trials.size(); ++t) {
    const TrialRecord& r = trials[t];
    if (r.number == number || r.point.size() != P) continue;  // `number` itself, or no point yet
    switch (r.state) {
      case TrialState::Waiting:
      case TrialState::Running:
      case TrialState::Interrupted:  // to be run again: pending, like a running trial
        pending.push_back(t);
        break;
      case TrialState::Complete:
        if (r.value && std::isfinite(*r.value)) {
          ranked.push_back({0, 0.0, history.loss(*r.value), t});
        } else {
          failed.push_back(t);  // a complete trial without a usable value is as good as failed
        }
        break;
      case TrialState::Pruned: {
        double step = -std::numeric_limits<double>::infinity();
        for (const auto& [s, v] : r.intermediate) step = std::max(step, static_cast<double>(s));
        ranked.push_back({1, -step, r.value ? finite_or_inf(history.loss(*r.value)) : std::numeric_limits<double>::infinity(), t});
        break;
      }
      case TrialState::Fail: failed.push_back(t); break;
    }
  }
  auto duplicates_pending = [&](const std::vector<double>& values) {
    for (std::size_t t : pending) {
      if (same_point(trials[t].point, values)) return true;
    }
    return false;
  };

  RandomSampler prior(space_, settings_.seed);
  if (ranked.size() + failed.size() < static_cast<std::size_t>(startup_trials())) return prior.suggest(history, number);

  // 2. The good/bad split, over all trials.
  const double n = static_cast<double>(ranked.size());
  std::size_t n_good = static_cast<std::size_t>(
      std::min<double>(std::ceil(settings_.gamma_fraction * std::pow(n, settings_.gamma_exponent)), settings_.gamma_max));
  n_good = std::min(n_good, ranked.size());
  std::nth_element(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(n_good), ranked.end());
  std::vector<std::size_t> good, bad;
  std::vector<RankKey> key_of(trials.size(), RankKey{3, 0, 0, 0});
  // Each set in trial order (oldest first) for the forgetting weights; the history is indexed by
  // number. Marks in history order rather than a sort of 10,000 indices.
  std::vector<unsigned char> set_of(trials.size(), 0);  // 1 good, 2 bad
  for (std::size_t j = 0; j < ranked.size(); ++j) {
    set_of[ranked[j].trial] = j < n_good ? 1 : 2;
    key_of[ranked[j].trial] = ranked[j];
  }
  for (std::size_t t : failed) set_of[t] = 2;
  if (settings_.constant_liar) {
    for (std::size_t t : pending) set_of[t] = 2;
  }
  for (std::size_t t = 0; t < trials.size(); ++t) {
    if (set_of[t] == 1) good.push_back(t);
    if (set_of[t] == 2) bad.push_back(t);
  }

  tpe::EstimatorOptions options;
  options.prior_weight = settings_.prior_weight;
  options.multivariate_bandwidth = settings_.bandwidth != "neighbors";
  options.adaptive_scale = settings_.bandwidth == "adaptive";
  options.bandwidth_factor = settings_.bandwidth_factor;
  options.magic_clip = settings_.magic_clip;
  options.consider_endpoints = settings_.consider_endpoints;
  options.prune_far_kernels = settings_.prune_kernels;
  if (settings_.clip_by_trials) options.clip_count = ranked.size() + failed.size();

  Rng rng(settings_.seed, static_cast<std::uint64_t>(number), /*purpose=*/2);
  std::vector<double> values(P, std::numeric_limits<double>::quiet_NaN());
  // Candidates of the last group sampled, best first, to step down if the result duplicates a
  // running trial.
  std::vector<std::vector<double>> last_ranked;
  const Group* last_group = nullptr;

  std::vector<const ModelDim*> dims;
  std::vector<double> rows, weights, candidates, log_l, log_g;
  for (const Group& group : groups_) {
    if (!space_.is_active(group.params.front(), values)) continue;
    const std::size_t D = group.params.size();
    dims.clear();
    for (std::size_t i : group.params) dims.push_back(&dims_[i]);

    // A group's model uses only the trials where it was active.
    // `incumbent`: the kernel of the best trial among those fitted (good set), if any.
    std::size_t incumbent = 0;
    bool has_incumbent = false;
    auto gather = [&](const std::vector<std::size_t>& set, bool find_incumbent) {
      rows.clear();
      std::size_t m = 0;
      RankKey best{2, 0, 0, 0};
      for (std::size_t t : set) {
        const auto& trial_point = trials[t].point;
        bool active = true;
        for (std::size_t i : group.params) active = active && !std::isnan(trial_point[i]);
        if (!active) continue;
        for (std::size_t i : group.params) rows.push_back(dims_[i].to_point(trial_point[i]));
        if (find_incumbent && key_of[t] < best) {
          best = key_of[t];
          incumbent = m;
          has_incumbent = true;
        }
        ++m;
      }
      forgetting_weights(m, settings_.linear_forgetting, weights);
    };
    ParzenEstimator& below = below_;
    ParzenEstimator& above = above_;
    gather(good, true);
    below.fit(dims, rows, weights, options);
    const bool local = has_incumbent;
    gather(bad, false);
    above.fit(dims, rows, weights, options);

    const std::size_t C = static_cast<std::size_t>(settings_.n_candidates);
    const bool all_local = settings_.local_period > 0 && number % settings_.local_period == 0;
    const double fraction = all_local ? 1.0 : settings_.local_fraction;
    const std::size_t n_local = local ? static_cast<std::size_t>(std::floor(fraction * static_cast<double>(C))) : 0;
    candidates.clear();
    below.sample(rng, C - n_local, candidates);
    if (n_local > 0) {
      // Around the best trial, as far as the good trials spread (so the steps shrink as they
      // cluster), never narrower than a thousandth of the range.
      std::vector<double> sigmas(D);
      for (std::size_t k = 0; k < D; ++k) {
        sigmas[k] = std::max(settings_.local_scale * below.observation_spread(k), 1e-3 * dims[k]->width);
      }
      below.sample_around(rng, incumbent, sigmas, n_local, candidates);
    }
    log_l.resize(C);
    log_g.resize(C);
    below.log_density(candidates.data(), C, log_l.data());
    above.log_density(candidates.data(), C, log_g.data());
    std::vector<std::size_t> order(C);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return log_l[a] - log_g[a] > log_l[b] - log_g[b]; });

    last_group = &group;
    last_ranked.clear();
    for (std::size_t c : order) {
      std::vector<double> point(D);
      for (std::size_t k = 0; k < D; ++k) {
        const std::size_t i = group.params[k];
        point[k] = space_.parameters()[i].snap(dims_[i].from_point(candidates[c * D + k]));
      }
      last_ranked.push_back(std::move(point));
    }
    for (std::size_t k = 0; k < D; ++k) values[group.params[k]] = last_ranked.front()[k];
  }
  space_.clear_inactive(values);

  // 3. Never hand out what a running trial already has: step down the last group's candidates,
  // then fall back on the prior.
  if (duplicates_pending(values) && last_group != nullptr) {
    bool found = false;
    for (const auto& point : last_ranked) {
      std::vector<double> alternative = values;
      for (std::size_t k = 0; k < point.size(); ++k) alternative[last_group->params[k]] = point[k];
      space_.clear_inactive(alternative);
      bool complete = true;  // a new choice value could activate parameters nobody sampled
      for (std::size_t i = 0; i < P; ++i) complete = complete && (std::isnan(alternative[i]) != space_.is_active(i, alternative));
      if (complete && !duplicates_pending(alternative)) {
        values = std::move(alternative);
        found = true;
        break;
      }
    }
    if (!found) {
      std::vector<double> fallback = prior.suggest(history, number);
      if (!duplicates_pending(fallback)) values = std::move(fallback);
    }
  }
  return values;
}

}  // namespace hpsearch
