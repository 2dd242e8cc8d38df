#include "search/sampler.hpp"

#include "core/errors.hpp"
#include "search/samplers/random_sampler.hpp"
#include "search/samplers/tpe/tpe_sampler.hpp"

namespace hpsearch {

using nlohmann::json;

std::unique_ptr<Sampler> make_sampler(const json& settings, const SearchSpace& space, const std::string& file) {
  if (!settings.is_object()) throw FileError(file, "sampler", "must be an object such as {\"type\": \"random\", \"seed\": 0}");
  const std::string type = settings.value("type", "random");
  std::uint64_t seed = 0;
  if (settings.contains("seed")) {
    if (!settings["seed"].is_number_integer() || settings["seed"].get<long long>() < 0) {
      throw FileError(file, "sampler.seed", "must be a non-negative integer, got " + settings["seed"].dump());
    }
    seed = settings["seed"].get<std::uint64_t>();
  }
  if (type == "random") {
    for (auto it = settings.begin(); it != settings.end(); ++it) {
      if (it.key() != "type" && it.key() != "seed") {
        throw FileError(file, "sampler." + it.key(), "unknown setting of the random sampler (it takes type and seed)");
      }
    }
    return std::make_unique<RandomSampler>(space, seed);
  }
  if (type == "tpe") return std::make_unique<TpeSampler>(space, parse_tpe_settings(settings, file));
  throw FileError(file, "sampler.type", "unknown sampler '" + type + "'; use \"random\" or \"tpe\"");
}

}  // namespace hpsearch
