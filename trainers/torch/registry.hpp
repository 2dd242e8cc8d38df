#pragma once
// Every trainer by its name: the one place that knows them all, so it links LibTorch (the
// classify, detect and forecast trainers) besides the LibTorch-free ones of trainers/core/.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/settings.hpp"
#include "trainers/core/trainer.hpp"

namespace hpsearch {

// Builds the trainer named by the space file's `trainer` object and checks its settings; `file`
// names the space file in errors (FileError at "trainer.KEY"). Cheap: data is loaded on first run.
std::unique_ptr<Trainer> make_trainer(const nlohmann::json& settings, const std::string& file);

// make_trainer's checks, before a search or a train: returns the table of the configuration keys
// that trainer reads (classify, detect, forecast), against which the constant parameters are
// checked before any trial runs, or null for the trainers that take any configuration (a
// command's script reads what it likes; the synthetic functions read x1..xN and ignore the rest).
const settings::Table* check_trainer(const nlohmann::json& settings, const std::string& file);

}  // namespace hpsearch
