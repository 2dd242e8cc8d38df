#include "search/sampler.hpp"

#include "core/errors.hpp"
#include "core/json_input.hpp"
#include "search/samplers/random_sampler.hpp"
#include "search/samplers/tpe/tpe_sampler.hpp"

namespace hpsearch {

using nlohmann::json;

settings::Setting sampler_seed() {
  return settings::documented_default(settings::integer("seed", 0, "seed of the generator, combined with the trial number", 0),
                                      "drawn when the study is created, then stored");
}

const settings::Table& random_sampler_settings() {
  static const settings::Table table{"random sampler", {sampler_seed()}, {"type"}};
  return table;
}

std::unique_ptr<Sampler> make_sampler(const json& settings, const SearchSpace& space, const std::string& file) {
  if (!settings.is_object()) throw FileError(file, "sampler", "must be an object such as {\"type\": \"random\", \"seed\": 0}");
  if (settings.contains("type") && !settings["type"].is_string()) {
    throw FileError(file, "sampler.type", "must be a string, got " + json_text(settings["type"]));
  }
  const std::string type = settings.value("type", "random");
  if (type == "random") {
    const settings::Reader r(settings, random_sampler_settings(), file, "sampler");
    return std::make_unique<RandomSampler>(space, static_cast<std::uint64_t>(r.integer("seed")));
  }
  if (type == "tpe") return std::make_unique<TpeSampler>(space, parse_tpe_settings(settings, file));
  throw FileError(file, "sampler.type", "unknown sampler '" + quoted_text(type, 60) + "'; use \"random\" or \"tpe\"");
}

}  // namespace hpsearch
