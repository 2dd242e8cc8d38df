#pragma once
// Random search: every active parameter drawn from its prior, independently.
#include <cstdint>

#include "search/sampler.hpp"

namespace hpsearch {

class RandomSampler : public Sampler {
 public:
  RandomSampler(const SearchSpace& space, std::uint64_t seed) : space_(space), seed_(seed) {}
  std::vector<double> suggest(const StudyHistory& history, int number) override;

 private:
  const SearchSpace& space_;
  std::uint64_t seed_;
};

// One draw from a parameter's prior, in internal form (see space.hpp).
class Rng;
double sample_prior(const Parameter& p, Rng& rng);

}  // namespace hpsearch
