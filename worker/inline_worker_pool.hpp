#pragma once
// A pool of one worker living in the master's process (mpirun -np 1, or no mpirun): trials run on
// a thread of their own and talk to the master through the same messages as MPI workers.
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "orchestrator/worker_pool.hpp"
#include "trainers/trainer.hpp"

namespace hpsearch {

class InlineWorkerPool : public WorkerPool {
 public:
  InlineWorkerPool(std::unique_ptr<Trainer> trainer, std::string objective_metric, ObjectiveMode mode = ObjectiveMode::Minimize);
  ~InlineWorkerPool() override;

  int worker_count() const override { return 1; }
  void send_trial(int worker, const protocol::TrialAssignment& trial) override;
  void answer_step(int worker, bool continue_trial) override;
  std::optional<protocol::WorkerMessage> receive(std::chrono::milliseconds wait) override;
  void shutdown() override;

 private:
  void worker_loop();
  void post(protocol::WorkerMessage message);

  std::unique_ptr<Trainer> trainer_;
  std::string objective_metric_;
  ObjectiveMode mode_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<protocol::WorkerMessage> to_master_;
  std::optional<protocol::TrialAssignment> next_trial_;
  std::optional<bool> decision_;
  bool shutting_down_ = false;
  std::thread thread_;
};

}  // namespace hpsearch
