#include "orchestrator/mpi_worker_pool.hpp"

#include <mpi.h>

#include <thread>

#include "search/errors.hpp"

namespace hpsearch {

using Clock = std::chrono::steady_clock;

void mpi_send_text(int destination, int tag, const std::string& text) {
  if (MPI_Send(text.data(), static_cast<int>(text.size()), MPI_CHAR, destination, tag, MPI_COMM_WORLD) != MPI_SUCCESS) {
    throw Error("MPI_Send to rank " + std::to_string(destination) + " failed");
  }
}

int mpi_receive_text(int source, int tag, std::chrono::milliseconds wait, std::string& text, int& from) {
  const auto deadline = Clock::now() + wait;
  std::chrono::microseconds pause(0);
  for (int spins = 0;; ++spins) {
    int flag = 0;
    MPI_Status status;
    MPI_Iprobe(source, tag, MPI_COMM_WORLD, &flag, &status);
    if (flag) {
      int count = 0;
      MPI_Get_count(&status, MPI_CHAR, &count);
      text.resize(static_cast<std::size_t>(count));
      MPI_Recv(text.data(), count, MPI_CHAR, status.MPI_SOURCE, status.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      from = status.MPI_SOURCE;
      return status.MPI_TAG;
    }
    if (Clock::now() >= deadline) return 0;
    if (spins < 200) continue;  // a reply usually comes within microseconds
    pause = std::min(std::chrono::microseconds(1000), pause + std::chrono::microseconds(20));
    std::this_thread::sleep_for(pause);
  }
}

void MpiWorkerPool::send_trial(int worker, const protocol::TrialAssignment& trial) {
  mpi_send_text(worker, protocol::kTrial, protocol::encode(trial));
}

void MpiWorkerPool::answer_step(int worker, bool continue_trial) {
  mpi_send_text(worker, protocol::kDecision, nlohmann::json{{"continue", continue_trial}}.dump());
}

std::optional<protocol::WorkerMessage> MpiWorkerPool::receive(std::chrono::milliseconds wait) {
  std::string text;
  int from = -1;
  const int tag = mpi_receive_text(MPI_ANY_SOURCE, MPI_ANY_TAG, wait, text, from);
  if (tag == 0) return std::nullopt;
  protocol::WorkerMessage message;
  message.worker = from;
  switch (tag) {
    case protocol::kReady: message.kind = protocol::WorkerMessage::Kind::Ready; break;
    case protocol::kHeartbeat: message.kind = protocol::WorkerMessage::Kind::Heartbeat; break;
    case protocol::kStep:
      message.kind = protocol::WorkerMessage::Kind::Step;
      message.step = protocol::decode_step(text);
      break;
    case protocol::kResult:
      message.kind = protocol::WorkerMessage::Kind::Result;
      message.result = protocol::decode_result(text);
      break;
    default: throw Error("unexpected MPI message tag " + std::to_string(tag) + " from rank " + std::to_string(from));
  }
  return message;
}

void MpiWorkerPool::shutdown() {
  for (int rank = 1; rank < world_size_; rank += stride_) mpi_send_text(rank, protocol::kShutdown, "{}");
}

}  // namespace hpsearch
