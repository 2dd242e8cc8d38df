#pragma once
// The master's side of protocol.hpp over MPI_COMM_WORLD: a worker is a rank (or the leader rank of
// a trial group), and each call sends or receives one message of the protocol.
#include "protocol/worker_pool.hpp"

namespace hpsearch {

class MpiWorkerPool : public WorkerPool {
 public:
  // `group_size` (StudyForWorkers::group_size, from resources.gpus_per_trial) > 0: ranks 1..N-1 form
  // trial groups of that many ranks, and only the first rank of each group (ranks 1, 1+G, 1+2G, ...)
  // is a worker to the master (worker/worker_groups.hpp); 0: every worker rank is a worker.
  MpiWorkerPool(int world_size, int group_size) : world_size_(world_size), group_size_(group_size > 0 ? group_size : 1) {}
  int worker_count() const override { return (world_size_ - 1) / group_size_; }
  bool sends_heartbeats() const override { return true; }
  void send_trial(int worker, const protocol::TrialAssignment& trial) override;
  void answer_step(int worker, bool continue_trial) override;
  std::optional<protocol::WorkerMessage> receive(std::chrono::milliseconds wait) override;
  void shutdown() override;

 private:
  int world_size_;
  int group_size_;  // ranks per trial group; 1 without groups
};

}  // namespace hpsearch
