#include "search/samplers/tpe/tpe_sampler.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/errors.hpp"
#include "search/random.hpp"
#include "search/samplers/random_sampler.hpp"

namespace hpsearch {

using nlohmann::json;
using tpe::ModelDim;
using tpe::ParzenEstimator;

// ------------------------------------------------------------------------------------ settings

TpeSettings parse_tpe_settings(const json& settings, const std::string& file) {
  TpeSettings s;
  auto where = [](const std::string& key) { return "sampler." + key; };
  auto integer = [&](const std::string& key, const json& v, long long min) {
    if (!v.is_number_integer() || v.get<long long>() < min) {
      throw FileError(file, where(key), "must be an integer >= " + std::to_string(min) + ", got " + v.dump());
    }
    return v.get<long long>();
  };
  auto number = [&](const std::string& key, const json& v, double min, bool min_allowed) {
    if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < min || (!min_allowed && v.get<double>() == min)) {
      throw FileError(file, where(key), std::string("must be a number ") + (min_allowed ? ">= " : "> ") + json(min).dump() + ", got " + v.dump());
    }
    return v.get<double>();
  };
  auto boolean = [&](const std::string& key, const json& v) {
    if (!v.is_boolean()) throw FileError(file, where(key), "must be true or false, got " + v.dump());
    return v.get<bool>();
  };
  for (auto it = settings.begin(); it != settings.end(); ++it) {
    const std::string& key = it.key();
    const json& v = it.value();
    if (key == "type") {
      continue;
    } else if (key == "seed") {
      s.seed = static_cast<std::uint64_t>(integer(key, v, 0));
    } else if (key == "n_startup_trials") {
      if (v.is_string() && v.get<std::string>() == "auto") {
        s.n_startup_trials = -1;
      } else {
        if (!v.is_number_integer() || v.get<long long>() < 0) throw FileError(file, where(key), "must be \"auto\" or an integer >= 0, got " + v.dump());
        s.n_startup_trials = static_cast<int>(std::min<long long>(v.get<long long>(), 1000000000));
      }
    } else if (key == "n_candidates") {
      s.n_candidates = static_cast<int>(std::min<long long>(integer(key, v, 1), 1000000));
    } else if (key == "gamma") {
      if (!v.is_object()) throw FileError(file, where(key), "must be an object such as {\"fraction\": 0.1, \"exponent\": 1, \"max\": 25}, got " + v.dump());
      for (auto g = v.begin(); g != v.end(); ++g) {
        const std::string sub = "gamma." + g.key();
        if (g.key() == "fraction") {
          s.gamma_fraction = number(sub, g.value(), 0, false);
          if (s.gamma_fraction > 1) throw FileError(file, where(sub), "must be <= 1, got " + g.value().dump());
        } else if (g.key() == "exponent") {
          s.gamma_exponent = number(sub, g.value(), 0, false);
          if (s.gamma_exponent > 1) throw FileError(file, where(sub), "must be <= 1, got " + g.value().dump());
        } else if (g.key() == "max") {
          s.gamma_max = static_cast<int>(std::min<long long>(integer(sub, g.value(), 1), 1000000000));
        } else {
          throw FileError(file, where(sub), "unknown setting of gamma (it takes fraction, exponent and max)");
        }
      }
    } else if (key == "linear_forgetting") {
      s.linear_forgetting = static_cast<int>(std::min<long long>(integer(key, v, 0), 1000000000));
    } else if (key == "prior_weight") {
      s.prior_weight = number(key, v, 0, true);
    } else if (key == "bandwidth") {
      if (!v.is_string() || (v != "scott" && v != "neighbors" && v != "adaptive")) throw FileError(file, where(key), "must be \"scott\", \"adaptive\" or \"neighbors\", got " + v.dump());
      s.bandwidth = v.get<std::string>();
    } else if (key == "bandwidth_factor") {
      s.bandwidth_factor = number(key, v, 0, false);
    } else if (key == "magic_clip") {
      s.magic_clip = boolean(key, v);
    } else if (key == "clip_by_trials") {
      s.clip_by_trials = boolean(key, v);
    } else if (key == "consider_endpoints") {
      s.consider_endpoints = boolean(key, v);
    } else if (key == "prune_kernels") {
      s.prune_kernels = boolean(key, v);
    } else if (key == "multivariate") {
      s.multivariate = boolean(key, v);
    } else if (key == "group") {
      s.group = boolean(key, v);
    } else if (key == "constant_liar") {
      s.constant_liar = boolean(key, v);
    } else if (key == "local_fraction") {
      s.local_fraction = number(key, v, 0, true);
      if (s.local_fraction > 1) throw FileError(file, where(key), "must be <= 1, got " + v.dump());
    } else if (key == "local_period") {
      s.local_period = static_cast<int>(std::min<long long>(integer(key, v, 0), 1000000));
    } else if (key == "local_scale") {
      s.local_scale = number(key, v, 0, false);
    } else {
      throw FileError(file, where(key),
                      "unknown setting of the tpe sampler (it takes type, seed, n_startup_trials, n_candidates, gamma, "
                      "linear_forgetting, prior_weight, bandwidth, bandwidth_factor, magic_clip, clip_by_trials, consider_endpoints, "
                      "prune_kernels, multivariate, group, constant_liar, local_period, local_fraction, local_scale)");
    }
  }
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
    if (r.number == number || r.params.size() != P) continue;  // `number` itself, or no params yet
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
      case TrialState::Fail:
        failed.push_back(t);
        break;
    }
  }
  auto duplicates_pending = [&](const std::vector<double>& values) {
    for (std::size_t t : pending) {
      if (same_point(trials[t].params, values)) return true;
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
        const auto& params = trials[t].params;
        bool active = true;
        for (std::size_t i : group.params) active = active && !std::isnan(params[i]);
        if (!active) continue;
        for (std::size_t i : group.params) rows.push_back(dims_[i].to_point(params[i]));
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
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return log_l[a] - log_g[a] > log_l[b] - log_g[b]; });

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
