#include "worker/mpi_communicator.hpp"

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
