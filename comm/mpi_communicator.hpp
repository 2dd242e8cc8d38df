#pragma once
// Communicator over an MPI communicator, for CPU tensors. CUDA tensors are staged through host
// memory (correct but slow: the NCCL communicator is the GPU path).
#include <mpi.h>

#include "comm/communicator.hpp"

namespace hpsearch {

class MpiCommunicator : public Communicator {
 public:
  explicit MpiCommunicator(MPI_Comm group);  // does not take ownership of `group`
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string name() const override { return "mpi"; }
  void all_reduce_sum(torch::Tensor& tensor) override;
  // MPI_Iallreduce for contiguous CPU tensors (a CUDA tensor takes the blocking, staged path).
  std::unique_ptr<PendingCollective> start_all_reduce_sum(torch::Tensor& tensor) override;
  void broadcast(torch::Tensor& tensor, int root) override;
  void barrier() override;

 private:
  MPI_Comm group_;
  int rank_ = 0, size_ = 1;
};

}  // namespace hpsearch
