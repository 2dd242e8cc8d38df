#include "trainers/core/trainer.hpp"

#include <fstream>

#include "core/errors.hpp"

namespace hpsearch {

std::filesystem::path write_trial_config(const TrialContext& trial) {
  std::filesystem::create_directories(trial.trial_dir);
  const std::filesystem::path path = trial.trial_dir / "config.json";
  std::ofstream file(path);
  file << trial.config.dump(2) << "\n";
  if (!file) throw Error("cannot write " + path.string());
  return path;
}

}  // namespace hpsearch
