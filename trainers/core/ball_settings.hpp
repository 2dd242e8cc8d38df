#pragma once
// The settings of the detect and forecast trainers: {"data": FOLDER, "deterministic": false,
// "valid_fraction": 0.1, "split_seed": 0}. No LibTorch: the trainers' headers keep them as a member.
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "core/settings.hpp"

namespace hpsearch::balls {

struct BallTrainerSettings {
  std::filesystem::path data;
  bool deterministic = false;
  double valid_fraction = 0.1;
  uint64_t split_seed = 0;
};

// The declarations of those settings, for the trainer `type` ("detect" or "forecast"): the same
// keys, named after the trainer in messages.
inline settings::Table ball_trainer_table(const std::string& type) {
  namespace s = settings;
  return {
      type + " trainer",
      {s::required(s::string("data", nullptr,
                             "the data folder (make one with `hpsearch make-data balls --out DIR`, or `balls-seq` for forecast), "
                             "checked before the search starts (exit 2)")),
       s::open_min(s::open_max(s::number(
           "valid_fraction", 0.1,
           "share of the samples held out for validation; the split, drawn from `split_seed` alone, is the same for every trial", 0, 1))),
       s::integer("split_seed", 0, "seed of that split", 0),
       s::boolean("deterministic", false, "cuDNN deterministic algorithms (otherwise its autotuner is on)")},
      {"type"}};
}

// `make_data_kind` is "balls" or "balls-seq", for the message that tells how to make the folder.
// The folder is checked here, when the master makes the trainer before the search, so that a
// wrong path stops everything at once (exit 2) instead of failing every trial on the workers.
inline BallTrainerSettings read_ball_trainer_settings(const nlohmann::json& object, const std::string& file, const settings::Table& table,
                                                      const std::string& make_data_kind) {
  const settings::Reader s(object, table, file, "trainer");
  BallTrainerSettings out;
  out.data = s.string("data");
  if (!std::filesystem::is_directory(out.data)) {
    // A mistyped path is the likelier mistake: the command that would fill it with generated
    // data is offered only as what it is.
    s.fail("data", "'" + out.data.string() + "': no such folder; correct the path, or, to generate a synthetic data set there, run: " +
                       "hpsearch make-data " + make_data_kind + " --out " + out.data.string());
  }
  out.deterministic = s.boolean("deterministic");
  out.valid_fraction = s.number("valid_fraction");
  out.split_seed = static_cast<uint64_t>(s.integer("split_seed"));
  return out;
}

}  // namespace hpsearch::balls
