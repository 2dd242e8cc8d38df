#pragma once
// Samplers propose the next configuration from a study's history.
//
// Contract: suggest() is a pure function of (the sampler's settings, the history, the trial
// number). It keeps no state between calls, so the same seed and the same history give the same
// suggestion whatever the number of workers, and a resumed search proposes what an uninterrupted
// one would have. The history includes RUNNING trials (no value yet): a sampler must not propose
// a configuration equal to one of them, and may use them (constant liar).
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/settings.hpp"
#include "search/history.hpp"
#include "search/space.hpp"

namespace hpsearch {

class Sampler {
 public:
  virtual ~Sampler() = default;
  // Internal values for trial `number`, one per parameter of the space (NaN where inactive).
  virtual std::vector<double> suggest(const StudyHistory& history, int number) = 0;
};

// Builds the sampler that the space file's `sampler` object asks for ({"type": "random", "seed": 0}).
// `file` names the space file in error messages; unknown types and keys are FileErrors.
std::unique_ptr<Sampler> make_sampler(const nlohmann::json& settings, const SearchSpace& space, const std::string& file);

// The `seed` setting, declared once for every sampler type: the study stores the seed it drew
// when the space file gives none (app/main.cpp), so a resumed search draws what it would have.
settings::Setting sampler_seed();

// The random sampler's settings table (its seed): what make_sampler reads and README.md documents.
const settings::Table& random_sampler_settings();

}  // namespace hpsearch
