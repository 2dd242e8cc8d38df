#include "comm/mpi_communicator.hpp"

namespace hpsearch {
namespace {

MPI_Datatype mpi_type_of(const torch::Tensor& tensor, const char* call) {
  switch (tensor.scalar_type()) {
    case torch::kFloat: return MPI_FLOAT;
    case torch::kDouble: return MPI_DOUBLE;
    case torch::kInt: return MPI_INT;
    case torch::kLong: return MPI_LONG_LONG;
    case torch::kByte: return MPI_UNSIGNED_CHAR;
    default: throw CommunicatorError(std::string(call) + ": unsupported tensor type " + std::string(c10::toString(tensor.scalar_type())));
  }
}

void check(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw CommunicatorError(std::string(call) + " failed: " + std::string(text, static_cast<std::size_t>(length)));
}

// MPI works on host memory: a CUDA or non-contiguous tensor goes through a contiguous CPU copy.
template <typename Operation>
void on_host(torch::Tensor& tensor, Operation operation) {
  if (tensor.device().is_cpu() && tensor.is_contiguous()) {
    operation(tensor);
    return;
  }
  torch::Tensor host = tensor.to(torch::kCPU).contiguous();
  operation(host);
  tensor.copy_(host);
}

class MpiPendingCollective : public PendingCollective {
 public:
  MpiPendingCollective(MPI_Request request, const char* call) : request_(request), call_(call) {}
  // A collective still in flight cannot be cancelled or freed (MPI forbids both); if its owner is
  // destroyed without wait() (a trial that failed in its backward pass), the request is left to
  // MPI_Finalize rather than waited for here, where the other ranks may never join it.
  void wait() override {
    if (request_ == MPI_REQUEST_NULL) return;
    check(MPI_Wait(&request_, MPI_STATUS_IGNORE), call_);
  }
  void progress() override {
    if (request_ == MPI_REQUEST_NULL) return;
    int done = 0;  // once done, MPI_Test sets the request to MPI_REQUEST_NULL: wait() returns at once
    check(MPI_Test(&request_, &done, MPI_STATUS_IGNORE), call_);
  }

 private:
  MPI_Request request_;
  const char* call_;
};

}  // namespace

MpiCommunicator::MpiCommunicator(MPI_Comm group) : group_(group) {
  check(MPI_Comm_rank(group_, &rank_), "MPI_Comm_rank");
  check(MPI_Comm_size(group_, &size_), "MPI_Comm_size");
}

void MpiCommunicator::all_reduce_sum(torch::Tensor& tensor) {
  if (size_ == 1) return;
  on_host(tensor, [&](torch::Tensor& t) {
    check(MPI_Allreduce(MPI_IN_PLACE, t.data_ptr(), static_cast<int>(t.numel()), mpi_type_of(t, "MPI_Allreduce"), MPI_SUM, group_),
          "MPI_Allreduce");
  });
}

std::unique_ptr<PendingCollective> MpiCommunicator::start_all_reduce_sum(torch::Tensor& tensor) {
  if (size_ == 1) return std::make_unique<FinishedCollective>();
  if (!tensor.device().is_cpu() || !tensor.is_contiguous()) return Communicator::start_all_reduce_sum(tensor);
  MPI_Request request = MPI_REQUEST_NULL;
  check(MPI_Iallreduce(MPI_IN_PLACE, tensor.data_ptr(), static_cast<int>(tensor.numel()), mpi_type_of(tensor, "MPI_Iallreduce"), MPI_SUM,
                       group_, &request),
        "MPI_Iallreduce");
  return std::make_unique<MpiPendingCollective>(request, "MPI_Iallreduce");
}

void MpiCommunicator::broadcast(torch::Tensor& tensor, int root) {
  if (size_ == 1) return;
  on_host(tensor, [&](torch::Tensor& t) {
    check(MPI_Bcast(t.data_ptr(), static_cast<int>(t.numel()), mpi_type_of(t, "MPI_Bcast"), root, group_), "MPI_Bcast");
  });
}

void MpiCommunicator::barrier() {
  if (size_ > 1) check(MPI_Barrier(group_), "MPI_Barrier");
}

}  // namespace hpsearch
