#pragma once
// The settings of the detect and forecast trainers: {"data": FOLDER, "deterministic": false,
// "valid_fraction": 0.1, "split_seed": 0}. No LibTorch: the trainers' headers keep them as a member.
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "trainers/core/settings.hpp"

namespace hpsearch::balls {

struct BallTrainerSettings {
  std::filesystem::path data;
  bool deterministic = false;
  double valid_fraction = 0.1;
  uint64_t split_seed = 0;
};

// `make_data_kind` is "balls" or "balls-seq", for the message that tells how to make the folder.
// The folder is checked here, when the master makes the trainer before the search, so that a
// wrong path stops everything at once (exit 2) instead of failing every trial on the workers.
inline BallTrainerSettings read_ball_trainer_settings(const nlohmann::json& settings, const std::string& file, const std::string& make_data_kind) {
  TrainerSettings s(settings, file);
  s.allow_only({"data", "deterministic", "valid_fraction", "split_seed"});
  BallTrainerSettings out;
  if (!s.has("data")) s.fail("data", "is required: the data folder (make one with: hpsearch make-data " + make_data_kind + " --out DIR)");
  out.data = s.string("data", "");
  if (!std::filesystem::is_directory(out.data)) {
    s.fail("data", "'" + out.data.string() + "' does not exist; make it with: hpsearch make-data " + make_data_kind + " --out " + out.data.string());
  }
  if (s.has("deterministic")) {
    if (!s.raw("deterministic").is_boolean()) s.fail("deterministic", "must be true or false, got " + s.raw("deterministic").dump());
    out.deterministic = s.raw("deterministic").get<bool>();
  }
  out.valid_fraction = s.number("valid_fraction", 0.1, 0);
  if (out.valid_fraction <= 0 || out.valid_fraction >= 1) s.fail("valid_fraction", "must be in (0, 1), got " + s.raw("valid_fraction").dump());
  const double seed = s.number("split_seed", 0, 0);
  if (seed != std::floor(seed)) s.fail("split_seed", "must be an integer >= 0, got " + s.raw("split_seed").dump());
  out.split_seed = static_cast<uint64_t>(seed);
  return out;
}

}  // namespace hpsearch::balls
