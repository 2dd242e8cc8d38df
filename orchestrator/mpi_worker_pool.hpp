#pragma once
// The master's side of protocol.hpp over MPI_COMM_WORLD.
#include "orchestrator/worker_pool.hpp"

namespace hpsearch {

class MpiWorkerPool : public WorkerPool {
 public:
  explicit MpiWorkerPool(int world_size) : world_size_(world_size) {}
  int worker_count() const override { return world_size_ - 1; }
  bool sends_heartbeats() const override { return true; }
  void send_trial(int worker, const protocol::TrialAssignment& trial) override;
  void answer_step(int worker, bool continue_trial) override;
  std::optional<protocol::WorkerMessage> receive(std::chrono::milliseconds wait) override;
  void shutdown() override;

 private:
  int world_size_;
};

// Both sides wait for messages the same way: MPI_Iprobe in a loop that spins briefly, then sleeps
// with a growing pause (up to 1 ms), so that idle ranks leave the cores to the ones that work
// (a blocking MPI_Recv busy-polls a core in Open MPI). Returns the MPI tag and fills `text`,
// or returns 0 when `wait` passed without a matching message.
int mpi_receive_text(int source, int tag, std::chrono::milliseconds wait, std::string& text, int& from);
void mpi_send_text(int destination, int tag, const std::string& text);

}  // namespace hpsearch
