#include "trainers/torch/nn/data_parallel.hpp"

#include <mutex>

#include "core/errors.hpp"
#include "trainers/torch/nn/compute_device.hpp"

namespace hpsearch::nn {

// The gradient buckets of one model and the state of the current step. Gradient hooks run on the
// thread that runs backward() (CPU) or on autograd's device thread (CUDA), hence the mutex.
//
// Order: a bucket's all-reduce is started only after every bucket before it, on every rank, so
// that all ranks start the same collectives in the same order (MPI and NCCL both require it)
// even if backward produces gradients in a different order or a rank leaves a parameter unused.
class GradientBuckets {
 public:
  GradientBuckets(Communicator* group, std::vector<torch::Tensor> parameters, int64_t bucket_bytes) : group_(group) {
    // Reverse order: backward reaches the last layers first, so their bucket fills first.
    int64_t bytes = 0;
    for (auto it = parameters.rbegin(); it != parameters.rend(); ++it) {
      const torch::Tensor& p = *it;
      const bool other_kind = !buckets_.empty() && (p.scalar_type() != buckets_.back().dtype || p.device() != buckets_.back().device);
      if (buckets_.empty() || other_kind || bytes >= bucket_bytes) {
        buckets_.emplace_back(p.scalar_type(), p.device());
        bytes = 0;
      }
      Bucket& bucket = buckets_.back();
      slots_.push_back(Slot{p, buckets_.size() - 1, bucket.numel});
      ++bucket.parameters;
      bucket.numel += p.numel();
      bytes += p.numel() * static_cast<int64_t>(p.element_size());
    }
    for (auto& bucket : buckets_) {
      bucket.flat = torch::zeros({bucket.numel}, torch::TensorOptions().dtype(bucket.dtype).device(bucket.device));
      bucket.missing = bucket.parameters;
    }
  }

  std::size_t slot_count() const { return slots_.size(); }
  const torch::Tensor& parameter(std::size_t slot) const { return slots_[slot].parameter; }

  // The gradient hook of slot `slot`: its gradient for this step, before it is accumulated.
  void on_gradient(std::size_t slot, const torch::Tensor& gradient) {
    std::lock_guard<std::mutex> lock(mutex_);
    Slot& s = slots_[slot];
    if (s.ready) throw Error("data parallel: backward() ran twice before average_gradients()");
    Bucket& bucket = buckets_[s.bucket];
    if (bucket.flat.device() != gradient.device()) bucket.flat = bucket.flat.to(gradient.device());
    view_of(s).copy_(gradient.reshape(s.parameter.sizes()));
    s.ready = true;
    if (started_ > 0) ++stats_.gradients_after_first_start;
    if (--bucket.missing == 0) start_complete_buckets(/*in_backward=*/true);
    for (std::size_t b = 0; b < started_; ++b) buckets_[b].pending->progress();
  }

  void finish() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& s : slots_) {
      if (s.ready) continue;
      view_of(s).zero_();  // unused in this step's forward pass: a zero gradient
      --buckets_[s.bucket].missing;
    }
    start_complete_buckets(/*in_backward=*/false);
    const double scale = 1.0 / group_->size();
    for (auto& bucket : buckets_) {
      bucket.pending->wait();
      bucket.pending.reset();
      bucket.flat.mul_(scale);
      bucket.missing = bucket.parameters;
    }
    for (auto& s : slots_) {
      // Not a view of the bucket: the next step's accumulation must not write into a buffer that
      // an all-reduce may be reading.
      torch::Tensor mean = view_of(s);
      if (s.parameter.grad().defined()) {
        s.parameter.mutable_grad().copy_(mean);
      } else {
        s.parameter.mutable_grad() = mean.clone();
      }
      s.ready = false;
    }
    stats_.buckets = static_cast<int>(buckets_.size());
    last_ = stats_;
    stats_ = {};
    started_ = 0;
  }

  GradientAveragingStats last() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return last_;
  }

 private:
  struct Bucket {
    Bucket(torch::ScalarType dtype, torch::Device device) : dtype(dtype), device(device) {}
    torch::ScalarType dtype;
    torch::Device device;
    int parameters = 0;  // its slots
    int64_t numel = 0;
    torch::Tensor flat;  // the bucket's gradients, one after the other; all-reduced in place
    int missing = 0;     // gradients not yet in `flat` this step
    std::unique_ptr<PendingCollective> pending;
  };
  struct Slot {
    torch::Tensor parameter;
    std::size_t bucket;
    int64_t offset;  // in the bucket's flat buffer
    bool ready = false;
  };

  torch::Tensor view_of(const Slot& s) {
    return buckets_[s.bucket].flat.narrow(0, s.offset, s.parameter.numel()).view(s.parameter.sizes());
  }

  // Starts, in bucket order, every complete bucket after the last one started.
  void start_complete_buckets(bool in_backward) {
    while (started_ < buckets_.size() && buckets_[started_].missing == 0) {
      buckets_[started_].pending = group_->start_all_reduce_sum(buckets_[started_].flat);
      if (in_backward) ++stats_.started_in_backward;
      ++started_;
    }
  }

  Communicator* group_;
  std::vector<Bucket> buckets_;
  std::vector<Slot> slots_;
  std::size_t started_ = 0;  // buckets started this step
  GradientAveragingStats stats_, last_;
  mutable std::mutex mutex_;
};

namespace {

// Runs `collective` on the tensors in buckets of one dtype and device, each flattened into one
// contiguous buffer, then copies the results back into the tensors.
template <typename Collective>
void bucketed(std::vector<torch::Tensor> tensors, int64_t bucket_bytes, Collective collective) {
  std::vector<torch::Tensor> bucket;
  int64_t bytes = 0;
  auto flush = [&] {
    if (bucket.empty()) return;
    std::vector<torch::Tensor> flat_parts;
    flat_parts.reserve(bucket.size());
    for (const auto& t : bucket) flat_parts.push_back(t.reshape({-1}));
    torch::Tensor flat = torch::cat(flat_parts);
    collective(flat);
    int64_t offset = 0;
    for (auto& t : bucket) {
      t.copy_(flat.slice(0, offset, offset + t.numel()).view_as(t));
      offset += t.numel();
    }
    bucket.clear();
    bytes = 0;
  };
  for (auto& t : tensors) {
    if (!bucket.empty() && (t.scalar_type() != bucket.front().scalar_type() || t.device() != bucket.front().device())) flush();
    bucket.push_back(t);
    bytes += t.numel() * static_cast<int64_t>(t.element_size());
    if (bytes >= bucket_bytes) flush();
  }
  flush();
}

}  // namespace

torch::Tensor DataParallel::shard(const torch::Tensor& global_batch) const {
  if (alone()) return global_batch;
  const int64_t n = global_batch.size(0);
  return global_batch.slice(0, n * rank() / size(), n * (rank() + 1) / size());
}

void DataParallel::attach(torch::nn::Module& module, int64_t bucket_bytes) {
  if (alone()) return;
  std::vector<torch::Tensor> trainable;
  for (auto& p : module.parameters()) {
    if (p.requires_grad()) trainable.push_back(p);
  }
  buckets_ = std::make_shared<GradientBuckets>(group_, trainable, bucket_bytes);
  // The hooks hold the buckets weakly: a model that outlives its trial's group calls nothing.
  std::weak_ptr<GradientBuckets> weak = buckets_;
  for (std::size_t slot = 0; slot < buckets_->slot_count(); ++slot) {
    torch::Tensor p = buckets_->parameter(slot);
    p.register_hook([weak, slot](torch::Tensor gradient) {
      if (auto buckets = weak.lock()) buckets->on_gradient(slot, gradient);
    });
  }
}

void DataParallel::average_gradients() {
  if (alone()) return;
  if (!buckets_) throw Error("data parallel: average_gradients() before attach(model)");
  buckets_->finish();
}

GradientAveragingStats DataParallel::last_averaging() const { return buckets_ ? buckets_->last() : GradientAveragingStats{}; }

void DataParallel::broadcast_module(torch::nn::Module& module, int64_t bucket_bytes) {
  if (alone()) return;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> tensors;
  for (auto& p : module.parameters()) tensors.push_back(p);
  for (auto& b : module.buffers()) tensors.push_back(b);
  bucketed(tensors, bucket_bytes, [&](torch::Tensor& flat) { group_->broadcast(flat, 0); });
}

torch::Tensor DataParallel::sum(torch::Tensor values) {
  if (alone()) return values;
  values = values.contiguous();
  group_->all_reduce_sum(values);
  return values;
}

bool DataParallel::agree(bool leader_value) {
  if (alone()) return leader_value;
  // On the device the communicator serves: NCCL only moves CUDA tensors.
  const auto device = group_->name() == "nccl" ? compute_device() : torch::Device(torch::kCPU);
  auto flag = torch::full({1}, leader_value ? 1 : 0, torch::TensorOptions().dtype(torch::kInt).device(device));
  group_->broadcast(flag, 0);
  return flag.cpu().item<int>() != 0;
}

}  // namespace hpsearch::nn
