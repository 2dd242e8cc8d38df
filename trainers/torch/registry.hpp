#pragma once
// Every trainer by its name: the one place that knows them all, so it links LibTorch (the
// classify, detect and forecast trainers) besides the LibTorch-free ones of trainers/core/.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "trainers/core/trainer.hpp"

namespace hpsearch {

// Builds the trainer named by the space file's `trainer` object and checks its settings; `file`
// names the space file in errors (FileError at "trainer.KEY"). Cheap: data is loaded on first run.
std::unique_ptr<Trainer> make_trainer(const nlohmann::json& settings, const std::string& file);

}  // namespace hpsearch
