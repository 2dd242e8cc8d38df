#pragma once
// Communicator over NCCL for CUDA tensors: one NCCL communicator per trial group, created from a
// unique id that the group's first rank makes and broadcasts over the group's MPI communicator.
// Blocking-style calls (all_reduce_sum, broadcast) queue their work on Torch's current CUDA stream,
// so they order with the kernels around them without a device-wide synchronisation.
// start_all_reduce_sum queues on the communicator's own stream instead, after an event that marks
// the tensor ready on the current stream: the all-reduce of one bucket of gradients then runs
// beside the backward kernels that compute the next bucket; wait() makes the current stream wait
// for it (the host never blocks). Built only when CMake finds NCCL and CUDA (HPSEARCH_WITH_NCCL).
#include <mpi.h>

#include <memory>

#include "comm/communicator.hpp"

namespace hpsearch {

// Null when this build has no NCCL; throws CommunicatorError when NCCL fails to start.
std::unique_ptr<Communicator> make_nccl_communicator(MPI_Comm group, int cuda_device);

}  // namespace hpsearch
