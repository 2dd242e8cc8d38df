#pragma once
// A worker rank's side of protocol.hpp: announce READY, run each TRIAL it is sent, report steps
// and wait for each DECISION, send HEARTBEATs while a trial runs, send the RESULT, until SHUTDOWN.
#include "protocol/protocol.hpp"
#include "worker/worker_groups.hpp"

namespace hpsearch {

// Returns true when the worker ended cleanly; false when it was told to leave while a trainer
// that would not return was still running: the caller must then end the process with
// std::_Exit after MPI_Finalize (destructors would wait for that trainer).
// `group`: this rank's trial group (worker_groups.hpp), or null: a leader runs the loop above and
// relays each trial to its group; the group's other ranks only train what they are relayed.
bool run_mpi_worker(const protocol::StudyForWorkers& study, WorkerGroup* group = nullptr);

}  // namespace hpsearch
