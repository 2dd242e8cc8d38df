#pragma once
// Runs one trial on a worker and turns whatever happens into a TrialResult: the trainer's
// value (COMPLETE), its exception or a non-finite objective (FAIL, with the reason), or a stop
// asked by the master (PRUNED). Nothing a trainer does ends the worker.
#include <functional>

#include "orchestrator/protocol.hpp"
#include "trainers/trainer.hpp"

namespace hpsearch {

// Sends a step report and returns the master's decision (true: go on).
using StepChannel = std::function<bool(const protocol::StepReport&)>;

protocol::TrialResult run_trial(Trainer& trainer, const protocol::TrialAssignment& trial, const std::string& objective_metric,
                                const StepChannel& channel);

}  // namespace hpsearch
