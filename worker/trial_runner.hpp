#pragma once
// Runs one trial on a worker and turns whatever happens into a TrialResult: the trainer's
// value (COMPLETE), its exception or a non-finite objective (FAIL, with the reason), or a stop
// asked by the master (PRUNED). Nothing a trainer does ends the worker.
//
// The patience rule, for every trainer: when the resolved configuration has a top-level key
// `early_stopping` = P (a positive integer; absent, null or 0: off), the trial stops once the
// objective has not strictly improved (lower for "min", higher for "max") for P consecutive
// reported steps. Such a trial ends COMPLETE with the best objective value it reported (the one a
// checkpoint of the best epoch holds), and its `error` field says why it stopped early.
#include <functional>

#include "orchestrator/protocol.hpp"
#include "trainers/trainer.hpp"

namespace hpsearch {

// Sends a step report and returns the master's decision (true: go on).
using StepChannel = std::function<bool(const protocol::StepReport&)>;

protocol::TrialResult run_trial(Trainer& trainer, const protocol::TrialAssignment& trial, const std::string& objective_metric,
                                const StepChannel& channel, ObjectiveMode mode = ObjectiveMode::Minimize);

}  // namespace hpsearch
