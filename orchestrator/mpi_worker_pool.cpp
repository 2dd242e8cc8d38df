#include "orchestrator/mpi_worker_pool.hpp"

#include <mpi.h>

#include "protocol/mpi_transport.hpp"

namespace hpsearch {

// 3. TRIAL, to the worker's rank (the master has written the trial RUNNING already).
void MpiWorkerPool::send_trial(int worker, const protocol::TrialAssignment& trial) { protocol::send(worker, trial); }

// 4. The DECISION that answers the worker's STEP.
void MpiWorkerPool::answer_step(int worker, bool continue_trial) { protocol::send(worker, protocol::Decision{continue_trial}); }

// READY, STEP, HEARTBEAT or RESULT from whichever worker speaks first (asynchronous dispatch); the
// worker is known by its rank.
std::optional<protocol::WorkerMessage> MpiWorkerPool::receive(std::chrono::milliseconds wait) {
  std::string text;
  int from = -1;
  const int tag = mpi_receive_text(MPI_ANY_SOURCE, MPI_ANY_TAG, wait, text, from);
  if (tag == 0) return std::nullopt;
  return protocol::decode_worker_message(tag, from, text);
}

// 7. SHUTDOWN to every worker: the leader of each trial group passes it on to its group.
void MpiWorkerPool::shutdown() {
  for (int rank = 1; rank < world_size_; rank += group_size_) protocol::send(rank, protocol::Shutdown{});
}

}  // namespace hpsearch
