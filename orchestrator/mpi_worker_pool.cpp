#include "orchestrator/mpi_worker_pool.hpp"

#include <mpi.h>

#include "core/errors.hpp"
#include "protocol/mpi_transport.hpp"

namespace hpsearch {

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
