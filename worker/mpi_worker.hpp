#pragma once
// A worker rank's side of protocol.hpp: announce READY, run each TRIAL it is sent, report steps
// and wait for each DECISION, send the RESULT, until SHUTDOWN.
#include "orchestrator/protocol.hpp"

namespace hpsearch {

void run_mpi_worker(const protocol::StudyForWorkers& study);

}  // namespace hpsearch
