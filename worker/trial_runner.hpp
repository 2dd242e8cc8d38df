#pragma once
// Runs one trial on a worker and turns whatever happens into a TrialResult: the trainer's
// value (COMPLETE), its exception or a non-finite objective (FAIL, with the reason), or a stop
// asked by the master (PRUNED). Nothing a trainer does ends the worker.
//
// The patience rule, for every trainer: when the resolved configuration has a top-level key
// `early_stopping` = P (a positive integer; absent, null or 0: off), the trial stops once the
// objective has not strictly improved (lower for "min", higher for "max") for P consecutive
// reported trained steps (step 0 does not count). Such a trial ends COMPLETE with its value as
// objective.use says (by default the best it reported, the one a checkpoint of the best epoch
// holds), and its `error` field says why it stopped early.
//
// CUDA out of memory (a c10::OutOfMemoryError in LibTorch 2.x, a c10::Error saying "CUDA out of
// memory" in 1.13, or any exception whose message says "out of memory") is a FAIL with the reason
// starting "CUDA out of memory" (LibTorch's message without its C++ backtrace);
// the worker then empties the CUDA caching allocator, so that the memory the failed trial held is
// free for the next trial on the same GPU.
#include <atomic>
#include <functional>

#include "protocol/protocol.hpp"
#include "trainers/core/trainer.hpp"

namespace hpsearch {

// Sends a step report and returns the master's decision (true: go on).
using StepChannel = std::function<bool(const protocol::StepReport&)>;

// `cancel`, when given and set, makes StepReporter::stop_requested() true and every later report
// answer "stop" without asking the master (the search is ending at once); the trial ends PRUNED.
// `group`: the ranks that train the trial together (worker_groups.hpp), handed to the trainer.
// The trial's value is objective_from_steps(its reports, mode, use), or what the trainer returned
// when it reported no trained step.
protocol::TrialResult run_trial(Trainer& trainer, const protocol::TrialAssignment& trial, const std::string& objective_metric,
                                const StepChannel& channel, ObjectiveMode mode = ObjectiveMode::Minimize,
                                const std::atomic<bool>* cancel = nullptr, Communicator* group = nullptr,
                                ObjectiveUse use = ObjectiveUse::Best);

// Frees the memory cached by LibTorch's CUDA allocator; a no-op without CUDA.
void release_cuda_cache();

}  // namespace hpsearch
