#pragma once
// Data-parallel training of one trial on a group of ranks (one GPU each), as PyTorch's
// DistributedDataParallel does it, over worker/communicator.hpp.
//
// How a trainer uses it (the epoch loop already makes the initial parameters identical, reports
// and checkpoints from rank 0 only, and shares rank 0's continue/stop decision):
//   - `batch_size` is GLOBAL: every rank draws the same permutation (the loop seeds all ranks
//     alike) and trains on its shard(batch) of each global batch;
//   - weighted_loss(loss, ...).backward(), then average_gradients(model) before step():
//     the averaged gradient is then the gradient of the global batch's mean loss, exactly;
//   - metrics: sum {loss sum, correct, count} over the group with sum() before dividing.
// Alone (no group) every call is a no-op and shard() returns the batch.
#include <torch/torch.h>

#include "worker/communicator.hpp"

namespace hpsearch::nn {

class DataParallel {
 public:
  // A group of one rank still makes its collective calls (NCCL's are device-local copies then):
  // that is how `--gpus-per-trial 1` runs the NCCL path on a machine with one GPU.
  explicit DataParallel(Communicator* group) : group_(group) {}
  bool alone() const { return group_ == nullptr; }
  int rank() const { return alone() ? 0 : group_->rank(); }
  int size() const { return alone() ? 1 : group_->size(); }

  // This rank's contiguous slice of a global batch: rows [rank*n/size, (rank+1)*n/size).
  torch::Tensor shard(const torch::Tensor& global_batch) const;
  // The factor on this rank's mean loss that makes the average of the ranks' gradients the
  // gradient of the global mean when the shards differ in size (a short last batch).
  double shard_weight(int64_t shard_rows, int64_t global_rows) const {
    return global_rows == 0 ? 0.0 : static_cast<double>(shard_rows) * size() / static_cast<double>(global_rows);
  }
  // `shard_mean_loss` times shard_weight, to call backward() on; the loss itself when alone (no
  // extra kernel per batch on the single-rank path).
  torch::Tensor weighted_loss(const torch::Tensor& shard_mean_loss, int64_t shard_rows, int64_t global_rows) const {
    return alone() ? shard_mean_loss : shard_mean_loss * shard_weight(shard_rows, global_rows);
  }
  // Averages every parameter's gradient over the group: gradients flattened into buckets of about
  // `bucket_bytes`, one all-reduce per bucket (not one per parameter), then copied back.
  void average_gradients(torch::nn::Module& module, int64_t bucket_bytes = 25 << 20);
  // Makes every rank's parameters and buffers rank 0's (one broadcast per bucket).
  void broadcast_module(torch::nn::Module& module, int64_t bucket_bytes = 25 << 20);
  // Element-wise sum over the group (in place, returned for chaining).
  torch::Tensor sum(torch::Tensor values);
  // Rank 0's value of `leader_value` on every rank.
  bool agree(bool leader_value);
  Communicator* group() const { return group_; }

 private:
  Communicator* group_;
};

}  // namespace hpsearch::nn
