#include "comm/nccl_communicator.hpp"

#ifdef HPSEARCH_WITH_NCCL

#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAEvent.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <nccl.h>

namespace hpsearch {
namespace {

void check(ncclResult_t result, const char* call) {
  if (result != ncclSuccess) throw CommunicatorError(std::string(call) + " failed: " + ncclGetErrorString(result));
}

ncclDataType_t nccl_type_of(const torch::Tensor& tensor, const char* call) {
  switch (tensor.scalar_type()) {
    case torch::kFloat: return ncclFloat32;
    case torch::kDouble: return ncclFloat64;
    case torch::kHalf: return ncclFloat16;
    case torch::kInt: return ncclInt32;
    case torch::kLong: return ncclInt64;
    case torch::kByte: return ncclUint8;
    default: throw CommunicatorError(std::string(call) + ": unsupported tensor type " + std::string(c10::toString(tensor.scalar_type())));
  }
}

// Done when the stream that waits on it reaches the all-reduce's end.
class NcclPendingCollective : public PendingCollective {
 public:
  NcclPendingCollective(at::cuda::CUDAEvent done, int device) : done_(std::move(done)), device_(device) {}
  void wait() override { done_.block(at::cuda::getCurrentCUDAStream(static_cast<c10::DeviceIndex>(device_))); }

 private:
  at::cuda::CUDAEvent done_;
  int device_;
};

class NcclCommunicator : public Communicator {
 public:
  NcclCommunicator(MPI_Comm group, int cuda_device)
      : device_(cuda_device), side_stream_(at::cuda::getStreamFromPool(false, static_cast<c10::DeviceIndex>(cuda_device))) {
    MPI_Comm_rank(group, &rank_);
    MPI_Comm_size(group, &size_);
    ncclUniqueId id;
    if (rank_ == 0) check(ncclGetUniqueId(&id), "ncclGetUniqueId");
    if (MPI_Bcast(&id, sizeof(id), MPI_BYTE, 0, group) != MPI_SUCCESS) throw CommunicatorError("MPI_Bcast of the NCCL unique id failed");
    c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device_));
    check(ncclCommInitRank(&comm_, size_, id, rank_), "ncclCommInitRank");
  }
  ~NcclCommunicator() override {
    if (comm_ != nullptr) ncclCommDestroy(comm_);
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string name() const override { return "nccl"; }

  void all_reduce_sum(torch::Tensor& tensor) override {
    require_cuda(tensor, "ncclAllReduce");
    check(ncclAllReduce(tensor.data_ptr(), tensor.data_ptr(), static_cast<size_t>(tensor.numel()), nccl_type_of(tensor, "ncclAllReduce"),
                        ncclSum, comm_, stream(tensor)),
          "ncclAllReduce");
  }
  std::unique_ptr<PendingCollective> start_all_reduce_sum(torch::Tensor& tensor) override {
    require_cuda(tensor, "ncclAllReduce");
    const auto current = at::cuda::getCurrentCUDAStream(tensor.device().index());
    at::cuda::CUDAEvent ready;
    ready.record(current);
    ready.block(side_stream_);
    check(ncclAllReduce(tensor.data_ptr(), tensor.data_ptr(), static_cast<size_t>(tensor.numel()), nccl_type_of(tensor, "ncclAllReduce"),
                        ncclSum, comm_, side_stream_.stream()),
          "ncclAllReduce");
    // The caching allocator must not hand the memory to another tensor before the side stream is
    // done with it, even if the caller drops `tensor` early.
    c10::cuda::CUDACachingAllocator::recordStream(tensor.storage().data_ptr(), side_stream_);
    at::cuda::CUDAEvent done;
    done.record(side_stream_);
    return std::make_unique<NcclPendingCollective>(std::move(done), device_);
  }
  void broadcast(torch::Tensor& tensor, int root) override {
    require_cuda(tensor, "ncclBroadcast");
    check(ncclBroadcast(tensor.data_ptr(), tensor.data_ptr(), static_cast<size_t>(tensor.numel()), nccl_type_of(tensor, "ncclBroadcast"),
                        root, comm_, stream(tensor)),
          "ncclBroadcast");
  }
  void barrier() override {
    // An all-reduce of one value, then a wait on it: NCCL has no barrier of its own.
    auto token = torch::zeros({1}, torch::TensorOptions().device(torch::kCUDA, device_));
    all_reduce_sum(token);
    token.cpu();
  }

 private:
  static cudaStream_t stream(const torch::Tensor& tensor) { return at::cuda::getCurrentCUDAStream(tensor.device().index()).stream(); }
  static void require_cuda(const torch::Tensor& tensor, const char* call) {
    if (!tensor.is_cuda() || !tensor.is_contiguous()) throw CommunicatorError(std::string(call) + ": needs a contiguous CUDA tensor");
  }
  int device_ = 0, rank_ = 0, size_ = 1;
  c10::cuda::CUDAStream side_stream_;  // start_all_reduce_sum's work
  ncclComm_t comm_ = nullptr;
};

}  // namespace

std::unique_ptr<Communicator> make_nccl_communicator(MPI_Comm group, int cuda_device) {
  return std::make_unique<NcclCommunicator>(group, cuda_device);
}

}  // namespace hpsearch

#else

namespace hpsearch {
std::unique_ptr<Communicator> make_nccl_communicator(MPI_Comm, int) { return nullptr; }
}  // namespace hpsearch

#endif
