#include "worker/trial_thread.hpp"

#include "worker/trial_runner.hpp"

namespace hpsearch {

namespace {
// The pool's only worker, as the messages to its user name it (not a rank: the user knows which rank it serves).
constexpr int kOnlyWorker = 0;
}  // namespace

TrialThread::TrialThread(std::unique_ptr<Trainer> trainer, std::string objective_metric, ObjectiveMode mode, Communicator* group,
                         ObjectiveUse use)
    : trainer_(std::move(trainer)), objective_metric_(std::move(objective_metric)), mode_(mode), use_(use), group_(group), thread_([this] {
        worker_loop();
      }) {}

TrialThread::~TrialThread() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    shutting_down_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void TrialThread::post(protocol::WorkerMessage message) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    to_master_.push_back(std::move(message));
  }
  changed_.notify_all();
}

void TrialThread::worker_loop() {
  const StepChannel channel = [this](const protocol::StepReport& step) {
    protocol::WorkerMessage message;
    message.kind = protocol::WorkerMessage::Kind::Step;
    message.worker = kOnlyWorker;
    message.step = step;
    post(std::move(message));
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [this] { return decision_.has_value() || shutting_down_; });
    const bool go_on = decision_.value_or(false);
    decision_.reset();
    return go_on;
  };

  post({protocol::WorkerMessage::Kind::Ready, kOnlyWorker, {}, {}});
  while (true) {
    protocol::TrialAssignment trial;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [this] { return next_trial_.has_value() || shutting_down_; });
      if (shutting_down_) return;
      trial = std::move(*next_trial_);
      next_trial_.reset();
      busy_ = true;
    }
    protocol::WorkerMessage message;
    message.kind = protocol::WorkerMessage::Kind::Result;
    message.worker = kOnlyWorker;
    message.result = run_trial(*trainer_, trial, objective_metric_, channel, mode_, &cancel_, group_, use_);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      busy_ = false;
      to_master_.push_back(std::move(message));
    }
    changed_.notify_all();
  }
}

void TrialThread::send_trial(int, const protocol::TrialAssignment& trial) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    next_trial_ = trial;
  }
  changed_.notify_all();
}

void TrialThread::answer_step(int, bool continue_trial) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    decision_ = continue_trial;
  }
  changed_.notify_all();
}

std::optional<protocol::WorkerMessage> TrialThread::receive(std::chrono::milliseconds wait) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!changed_.wait_for(lock, wait, [this] { return !to_master_.empty(); })) return std::nullopt;
  auto message = std::move(to_master_.front());
  to_master_.pop_front();
  return message;
}

void TrialThread::shutdown() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    shutting_down_ = true;
    cancel_ = true;
  }
  changed_.notify_all();
}

bool TrialThread::wait_until_idle(std::chrono::milliseconds wait) {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, wait, [this] { return !busy_; });
}

}  // namespace hpsearch
