#include "search/samplers/random_sampler.hpp"

#include <cmath>
#include <limits>

#include "search/random.hpp"

namespace hpsearch {

double sample_prior(const Parameter& p, Rng& rng) {
  switch (p.kind) {
    case DistributionKind::Uniform: return rng.uniform(p.low, p.high);
    case DistributionKind::LogUniform: return p.snap(std::exp(rng.uniform(std::log(p.low), std::log(p.high))));
    case DistributionKind::QUniform:
      // Each grid point gets the mass of its own cell [x - q/2, x + q/2].
      return p.snap(rng.uniform(p.low - p.step / 2, p.grid_high() + p.step / 2));
    case DistributionKind::QLogUniform: {
      const double lo = std::max(p.low - p.step / 2, p.low / 2);
      return p.snap(std::exp(rng.uniform(std::log(lo), std::log(p.grid_high() + p.step / 2))));
    }
    case DistributionKind::RandInt: return p.low + static_cast<double>(rng.below(static_cast<std::uint64_t>(p.high - p.low + 1)));
    case DistributionKind::Normal: return p.mu + p.sigma * rng.normal();
    case DistributionKind::LogNormal: return std::exp(p.mu + p.sigma * rng.normal());
    case DistributionKind::Choice: return static_cast<double>(rng.below(p.num_choices));
  }
  return std::numeric_limits<double>::quiet_NaN();
}

std::vector<double> RandomSampler::suggest(const StudyHistory& history, int number) {
  Rng rng(seed_, static_cast<std::uint64_t>(number), /*purpose=*/1);
  const auto& params = space_.parameters();
  std::vector<double> values(params.size());
  // A discrete space may hand out a point that a running trial already has; draw again a few
  // times. Continuous draws never collide in practice, so they skip the scan of the history.
  for (int attempt = 0; attempt < 32; ++attempt) {
    for (std::size_t i = 0; i < params.size(); ++i) values[i] = sample_prior(params[i], rng);
    space_.clear_inactive(values);
    bool continuous = false;
    for (std::size_t i = 0; i < params.size(); ++i) {
      continuous = continuous || (!std::isnan(values[i]) && params[i].kind != DistributionKind::Choice && !params[i].is_discrete());
    }
    if (continuous) break;
    bool duplicate = false;
    for (const auto& t : history.trials) {
      if (t.state == TrialState::Running && t.number != number && same_point(t.point, values)) duplicate = true;
    }
    if (!duplicate) break;
  }
  return values;
}

}  // namespace hpsearch
