#pragma once
// One trial thread behind the WorkerPool interface: a pool of one worker (worker 0) whose trials
// run on a thread of their own and talk through the protocol's messages (protocol.hpp), passed in
// memory instead of over MPI. Two users:
//   - the master with one rank (mpirun -np 1, or no mpirun): the master's loop drives it as it
//     drives MpiWorkerPool, and the trials run in the master's process;
//   - every worker rank (worker/mpi_worker.cpp): the trial thread runs the trials while the rank's
//     main thread relays the messages over MPI and sends heartbeats.
#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "protocol/worker_pool.hpp"
#include "trainers/core/trainer.hpp"

namespace hpsearch {

class TrialThread : public WorkerPool {
 public:
  // `group`: the trial group this rank leads (worker_groups.hpp), or null; not owned.
  TrialThread(std::unique_ptr<Trainer> trainer, std::string objective_metric, ObjectiveMode mode = ObjectiveMode::Minimize,
              Communicator* group = nullptr, ObjectiveUse use = ObjectiveUse::Best);
  ~TrialThread() override;

  int worker_count() const override { return 1; }
  void send_trial(int worker, const protocol::TrialAssignment& trial) override;
  void answer_step(int worker, bool continue_trial) override;
  std::optional<protocol::WorkerMessage> receive(std::chrono::milliseconds wait) override;
  // Ends the pool: a trial still running is asked to stop (its next report answers "stop" and
  // StepReporter::stop_requested() turns true).
  void shutdown() override;
  // Waits up to `wait` for the trial thread to be out of any trial; false if a trainer is still
  // in one (then the pool must not be destroyed: its destructor would wait for that trainer).
  bool wait_until_idle(std::chrono::milliseconds wait);

 private:
  void worker_loop();
  void post(protocol::WorkerMessage message);

  std::unique_ptr<Trainer> trainer_;
  std::string objective_metric_;
  ObjectiveMode mode_;
  ObjectiveUse use_;
  Communicator* group_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<protocol::WorkerMessage> to_master_;
  std::optional<protocol::TrialAssignment> next_trial_;
  std::optional<bool> decision_;
  bool shutting_down_ = false;
  bool busy_ = false;  // the thread is inside a trial
  std::atomic<bool> cancel_{false};
  std::thread thread_;
};

}  // namespace hpsearch
