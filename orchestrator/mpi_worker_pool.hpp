#pragma once
// The master's side of protocol.hpp over MPI_COMM_WORLD.
#include "protocol/worker_pool.hpp"

namespace hpsearch {

class MpiWorkerPool : public WorkerPool {
 public:
  // `ranks_per_trial` > 0: only the first rank of each trial group (ranks 1, 1+G, 1+2G, ...) is a
  // worker to the master (worker/worker_groups.hpp).
  MpiWorkerPool(int world_size, int ranks_per_trial) : world_size_(world_size), stride_(ranks_per_trial > 0 ? ranks_per_trial : 1) {}
  int worker_count() const override { return (world_size_ - 1) / stride_; }
  bool sends_heartbeats() const override { return true; }
  void send_trial(int worker, const protocol::TrialAssignment& trial) override;
  void answer_step(int worker, bool continue_trial) override;
  std::optional<protocol::WorkerMessage> receive(std::chrono::milliseconds wait) override;
  void shutdown() override;

 private:
  int world_size_;
  int stride_;  // ranks per trial group
};

}  // namespace hpsearch
