#pragma once
// Communicator over NCCL for CUDA tensors: one NCCL communicator per trial group, created from a
// unique id that the group's first rank makes and broadcasts over the group's MPI communicator.
// Work is queued on Torch's current CUDA stream, so it orders with the kernels around it without
// a device-wide synchronisation. Built only when CMake finds NCCL and CUDA (HPSEARCH_WITH_NCCL).
#include <memory>

#include <mpi.h>

#include "worker/communicator.hpp"

namespace hpsearch {

// Null when this build has no NCCL; throws CommunicatorError when NCCL fails to start.
std::unique_ptr<Communicator> make_nccl_communicator(MPI_Comm group, int cuda_device);

}  // namespace hpsearch
