#pragma once
// Collective operations among the ranks of one trial's group (issue #8: a trial trained on
// several GPUs). Two implementations: NCCL for CUDA tensors (nccl_communicator.cpp, built when
// NCCL and CUDA are found) and MPI for CPU tensors (mpi_communicator.cpp). Trainers see only
// this interface, through TrialContext::group and nn::DataParallel.
//
// Every call is collective: all ranks of the group make the same calls in the same order with
// tensors of the same size and type. A failure throws CommunicatorError naming the call, which
// fails the trial (the worker records the reason) rather than the process.
#include <torch/torch.h>

#include <memory>
#include <string>

#include "core/errors.hpp"

namespace hpsearch {

class CommunicatorError : public Error {
 public:
  using Error::Error;
};

// A collective operation started and not yet finished (start_all_reduce_sum). wait() returns when
// the result may be used by work the caller queues next: on the CPU, when the data is there; on a
// CUDA stream, once the caller's current stream waits for it (the host does not block).
class PendingCollective {
 public:
  virtual ~PendingCollective() = default;
  virtual void wait() = 0;
  // Lets the collective advance without waiting for it. MPI implementations move a nonblocking
  // collective's data mostly inside MPI calls, so the caller calls this while it has other work
  // (DataParallel: from every gradient hook); NCCL runs on its own and needs nothing.
  virtual void progress() {}
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;  // 0 is the group's first rank: it talks to the master
  virtual int size() const = 0;
  virtual std::string name() const = 0;  // "nccl" or "mpi", for reports
  // In place: every rank's `tensor` becomes the element-wise sum over the group. Contiguous
  // float, double, int or long tensors on the device the implementation serves.
  virtual void all_reduce_sum(torch::Tensor& tensor) = 0;
  // all_reduce_sum started without waiting for it, so that the caller can go on (the backward
  // pass computing the next gradients) while it runs. `tensor` must stay alive and untouched
  // until wait() returns. Started collectives must also be started in the same order on every
  // rank. The default runs the blocking call (an implementation that cannot overlap).
  virtual std::unique_ptr<PendingCollective> start_all_reduce_sum(torch::Tensor& tensor);
  // In place: every rank's `tensor` becomes root's.
  virtual void broadcast(torch::Tensor& tensor, int root) = 0;
  virtual void barrier() = 0;
};

// A collective that finished when it was started.
class FinishedCollective : public PendingCollective {
 public:
  void wait() override {}
};

inline std::unique_ptr<PendingCollective> Communicator::start_all_reduce_sum(torch::Tensor& tensor) {
  all_reduce_sum(tensor);
  return std::make_unique<FinishedCollective>();
}

}  // namespace hpsearch
