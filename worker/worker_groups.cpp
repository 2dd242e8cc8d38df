#include "worker/worker_groups.hpp"

#include <chrono>
#include <thread>

#include "comm/mpi_communicator.hpp"
#include "comm/nccl_communicator.hpp"
#include "core/errors.hpp"
#include "protocol/protocol.hpp"
#include "trainers/torch/nn/compute_device.hpp"

namespace hpsearch {

WorkerGroup::WorkerGroup() = default;

WorkerGroup::~WorkerGroup() {
  communicator.reset();  // before the MPI communicator it may use
  if (data != MPI_COMM_NULL) MPI_Comm_free(&data);
  if (control != MPI_COMM_NULL) MPI_Comm_free(&control);
}

std::unique_ptr<WorkerGroup> join_worker_groups(int group_size) {
  int world_rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
  const bool master = world_rank == protocol::kMasterRank;

  // The node-local index among workers. Ordered by world rank (the split's key), so the master,
  // where it shares the node, is local rank 0 and is taken out of the count.
  MPI_Comm node = MPI_COMM_NULL;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, world_rank, MPI_INFO_NULL, &node);
  int local_rank = 0, master_here = master ? 1 : 0, masters_on_node = 0;
  MPI_Comm_rank(node, &local_rank);
  MPI_Allreduce(&master_here, &masters_on_node, 1, MPI_INT, MPI_SUM, node);
  MPI_Comm_free(&node);
  if (!master) nn::use_gpu_of_local_worker(local_rank - masters_on_node);

  const int color = master || group_size <= 0 ? MPI_UNDEFINED : (world_rank - 1) / group_size;
  MPI_Comm control = MPI_COMM_NULL;
  MPI_Comm_split(MPI_COMM_WORLD, color, world_rank, &control);
  if (control == MPI_COMM_NULL) return nullptr;
  auto group = std::make_unique<WorkerGroup>();
  group->control = control;
  MPI_Comm_dup(control, &group->data);
  // Errors of the trainers' collectives come back as codes (a failed trial), not an abort.
  MPI_Comm_set_errhandler(group->data, MPI_ERRORS_RETURN);
  MPI_Comm_rank(control, &group->rank);
  MPI_Comm_size(control, &group->size);
  const torch::Device device = nn::compute_device();
  if (device.is_cuda()) group->communicator = make_nccl_communicator(group->data, device.index());
  if (!group->communicator) {
    // The MPI communicator's collectives run on the trial thread while the main thread listens to
    // the master: that needs MPI_THREAD_MULTIPLE from the MPI library.
    int level = 0;
    MPI_Query_thread(&level);
    if (level < MPI_THREAD_MULTIPLE) throw Error("trial groups on CPU need an MPI library with MPI_THREAD_MULTIPLE support");
    group->communicator = std::make_unique<MpiCommunicator>(group->data);
  }
  return group;
}

void relay_to_group(WorkerGroup& group, const std::string& text) {
  // Non-blocking like the receivers' (a blocking and a non-blocking broadcast do not match).
  int length = static_cast<int>(text.size());
  MPI_Request request;
  MPI_Ibcast(&length, 1, MPI_INT, 0, group.control, &request);
  MPI_Wait(&request, MPI_STATUS_IGNORE);
  if (length > 0) MPI_Bcast(const_cast<char*>(text.data()), length, MPI_CHAR, 0, group.control);
}

std::string receive_from_leader(WorkerGroup& group) {
  // A blocking MPI_Bcast polls a core at full speed in Open MPI for as long as the group's leader
  // waits for a trial; a non-blocking one tested with growing pauses leaves the core to others.
  int length = 0;
  MPI_Request request;
  MPI_Ibcast(&length, 1, MPI_INT, 0, group.control, &request);
  std::chrono::microseconds pause(0);
  for (int done = 0;;) {
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (done) break;
    pause = std::min(std::chrono::microseconds(2000), pause + std::chrono::microseconds(50));
    std::this_thread::sleep_for(pause);
  }
  std::string text(static_cast<std::size_t>(length), '\0');
  if (length > 0) MPI_Bcast(text.data(), length, MPI_CHAR, 0, group.control);
  return text;
}

}  // namespace hpsearch
