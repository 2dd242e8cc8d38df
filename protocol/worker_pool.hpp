#pragma once
// How the master reaches its workers. MpiWorkerPool (orchestrator/) talks to worker ranks
// (protocol.hpp); TrialThread (worker/trial_thread.hpp) runs trials on one thread of the same
// process, for the master with -np 1 and inside every worker rank. Both deliver the same
// messages, so the master's loop has one path.
#include <chrono>
#include <optional>

#include "protocol/protocol.hpp"

namespace hpsearch {

class WorkerPool {
 public:
  virtual ~WorkerPool() = default;
  virtual int worker_count() const = 0;
  // Whether busy workers send HEARTBEATs (MPI ranks); the master only declares those lost.
  virtual bool sends_heartbeats() const { return false; }
  virtual void send_trial(int worker, const protocol::TrialAssignment& trial) = 0;
  virtual void answer_step(int worker, bool continue_trial) = 0;
  // The next message from any worker, or nothing once `wait` has passed without one.
  virtual std::optional<protocol::WorkerMessage> receive(std::chrono::milliseconds wait) = 0;
  // Tells every worker to leave; called once, at the end: no trial is running then, except when
  // the search stops at once (a second signal, the stop's time bound) or a worker was lost, and
  // those trials are abandoned (their state is already on disk).
  virtual void shutdown() = 0;
};

}  // namespace hpsearch
