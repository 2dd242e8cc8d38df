#pragma once
// Data-parallel training of one trial on a group of ranks (one GPU each), as PyTorch's
// DistributedDataParallel does it, over comm/communicator.hpp.
//
// How a trainer uses it (the epoch loop already makes the initial parameters identical, reports
// and checkpoints from rank 0 only, and shares rank 0's continue/stop decision):
//   - `batch_size` is GLOBAL: every rank draws the same permutation (the loop seeds all ranks
//     alike) and trains on its shard(batch) of each global batch;
//   - attach(model) once; then each step weighted_loss(loss, ...).backward(), then
//     average_gradients() before step(): the averaged gradient is then the gradient of the global
//     batch's mean loss, exactly. The all-reduce of a bucket of gradients starts during backward(),
//     as soon as the bucket is complete, while the earlier layers' gradients are still computed
//     (DistributedDataParallel's reducer does the same); average_gradients() waits for them;
//   - metrics: sum {loss sum, correct, count} over the group with sum() before dividing.
// Alone (no group) every call is a no-op and shard() returns the batch.
#include <torch/torch.h>

#include <memory>

#include "comm/communicator.hpp"

namespace hpsearch::nn {

class GradientBuckets;  // data_parallel.cpp: the buckets, the hooks and the collectives in flight

// What the last average_gradients() did, for tests and benchmarks.
struct GradientAveragingStats {
  int buckets = 0;
  int started_in_backward = 0;  // buckets whose all-reduce started from a gradient hook
  // Parameters whose gradient was computed after the first bucket's all-reduce had started: more
  // than zero means communication overlapped the backward pass.
  int gradients_after_first_start = 0;
};

// 1 MiB, not DistributedDataParallel's 25 MiB: our trainers' models hold 1 to 5 MiB of gradients,
// which 25 MiB buckets would put in one bucket that can only start once backward is over (DDP
// caps its first bucket at 1 MiB for the same reason). A NCCL all-reduce of 1 MiB on one node
// costs tens of microseconds, so more buckets cost little.
constexpr int64_t kGradientBucketBytes = 1 << 20;

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
  // Hooks every trainable parameter of `module` so that backward() hands each gradient to its
  // bucket (about `bucket_bytes` of gradients, filled from the last layer to the first, the order
  // in which backward computes them) and starts the bucket's all-reduce once it is complete. One
  // all-reduce per bucket, not one per parameter. Once per model; a no-op when alone.
  void attach(torch::nn::Module& module, int64_t bucket_bytes = kGradientBucketBytes);
  // After backward(): starts the buckets still waiting (parameters unused in this step count as
  // zero gradients, so that every rank makes the same calls), waits for every all-reduce and
  // writes the group's mean gradient into each parameter's grad. A no-op when alone.
  void average_gradients();
  GradientAveragingStats last_averaging() const;
  // Makes every rank's parameters and buffers rank 0's (one broadcast per bucket).
  void broadcast_module(torch::nn::Module& module, int64_t bucket_bytes = 25 << 20);
  // Element-wise sum over the group (in place, returned for chaining).
  torch::Tensor sum(torch::Tensor values);
  // Rank 0's value of `leader_value` on every rank.
  bool agree(bool leader_value);
  Communicator* group() const { return group_; }

 private:
  Communicator* group_;
  // Shared by copies of this object and by the hooks, which may outlive it.
  std::shared_ptr<GradientBuckets> buckets_;
};

}  // namespace hpsearch::nn
