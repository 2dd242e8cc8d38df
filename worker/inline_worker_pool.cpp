#include "worker/inline_worker_pool.hpp"

#include "worker/trial_runner.hpp"

namespace hpsearch {

namespace {
constexpr int kInlineWorker = 0;  // the master's own rank
}

InlineWorkerPool::InlineWorkerPool(std::unique_ptr<Trainer> trainer, std::string objective_metric, ObjectiveMode mode, Communicator* group)
    : trainer_(std::move(trainer)), objective_metric_(std::move(objective_metric)), mode_(mode), group_(group), thread_([this] { worker_loop(); }) {}

InlineWorkerPool::~InlineWorkerPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    shutting_down_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void InlineWorkerPool::post(protocol::WorkerMessage message) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    to_master_.push_back(std::move(message));
  }
  changed_.notify_all();
}

void InlineWorkerPool::worker_loop() {
  const StepChannel channel = [this](const protocol::StepReport& step) {
    protocol::WorkerMessage message;
    message.kind = protocol::WorkerMessage::Kind::Step;
    message.worker = kInlineWorker;
    message.step = step;
    post(std::move(message));
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [this] { return decision_.has_value() || shutting_down_; });
    const bool go_on = decision_.value_or(false);
    decision_.reset();
    return go_on;
  };

  post({protocol::WorkerMessage::Kind::Ready, kInlineWorker, {}, {}});
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
    message.worker = kInlineWorker;
    message.result = run_trial(*trainer_, trial, objective_metric_, channel, mode_, &cancel_, group_);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      busy_ = false;
      to_master_.push_back(std::move(message));
    }
    changed_.notify_all();
  }
}

void InlineWorkerPool::send_trial(int, const protocol::TrialAssignment& trial) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    next_trial_ = trial;
  }
  changed_.notify_all();
}

void InlineWorkerPool::answer_step(int, bool continue_trial) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    decision_ = continue_trial;
  }
  changed_.notify_all();
}

std::optional<protocol::WorkerMessage> InlineWorkerPool::receive(std::chrono::milliseconds wait) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!changed_.wait_for(lock, wait, [this] { return !to_master_.empty(); })) return std::nullopt;
  auto message = std::move(to_master_.front());
  to_master_.pop_front();
  return message;
}

void InlineWorkerPool::shutdown() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    shutting_down_ = true;
    cancel_ = true;
  }
  changed_.notify_all();
}

bool InlineWorkerPool::wait_until_idle(std::chrono::milliseconds wait) {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, wait, [this] { return !busy_; });
}

}  // namespace hpsearch
