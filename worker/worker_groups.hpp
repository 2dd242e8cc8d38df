#pragma once
// Where each worker rank trains: its GPU, and its trial group (issue #8, --gpus-per-trial G).
//
// GPUs: every worker takes one GPU of its node, by its node-local index among the node's workers
// (MPI_Comm_split_type(MPI_COMM_TYPE_SHARED); the master, which holds no GPU, is not counted
// where it shares the node). So `mpirun -np 9` on one 8-GPU node puts workers 1..8 on GPUs 0..7;
// on k nodes of 8 GPUs, start 1 + 8k ranks with the master's node given one slot more than the
// others (a hostfile with slots=9 for it, 8 for the rest). More workers than GPUs on a node share
// them round-robin.
//
// Groups: with G > 0, worker ranks 1..N-1 form groups of G consecutive ranks (ranks 1..G, G+1..2G,
// ...), one MPI communicator each. The group's first rank (its leader) is the only one the master
// sees: it sends READY, gets TRIALs and answers as any worker does (protocol.hpp). It relays each
// TRIAL to the rest of its group over the group's control communicator (a length, then the JSON
// text; an empty text tells the group to leave), and every rank of the group runs the trial with
// the group's Communicator: NCCL on CUDA when built with it, MPI otherwise. The trainers' epoch
// loop makes the group follow the leader's continue/stop decisions (nn::DataParallel::agree).
#include <mpi.h>

#include <memory>
#include <string>

namespace hpsearch {

class Communicator;

struct WorkerGroup {
  WorkerGroup();
  ~WorkerGroup();
  MPI_Comm control = MPI_COMM_NULL;  // the leader's relays of trial assignments
  MPI_Comm data = MPI_COMM_NULL;     // a duplicate of it for the trainers' collectives: the two never mix
  int rank = 0, size = 1;            // in the group; rank 0 leads
  std::unique_ptr<Communicator> communicator;
};

// Collective over MPI_COMM_WORLD: every rank, the master included, calls it once, after the study
// broadcast. Selects this worker's GPU; returns its group when group_size > 0 (null for the
// master and without groups). `group_size`: ranks per trial group (StudyForWorkers::group_size,
// from resources.gpus_per_trial); a group runs on CPU too, with MPI collectives.
std::unique_ptr<WorkerGroup> join_worker_groups(int group_size);

// The leader's relay of one trial assignment to its group ("" = leave); the others' receipt, which
// waits without spinning a core.
void relay_to_group(WorkerGroup& group, const std::string& text);
std::string receive_from_leader(WorkerGroup& group);

}  // namespace hpsearch
