#pragma once
// The transport under protocol.hpp: one JSON text per MPI message over MPI_COMM_WORLD, the MPI
// tag saying which kind of message it is. protocol::send() sends every message through
// mpi_send_text; the master's pool (orchestrator/mpi_worker_pool.cpp) and the worker loop
// (worker/mpi_worker.cpp) receive with mpi_receive_text and decode with protocol.hpp.
#include <chrono>
#include <string>

namespace hpsearch {

// Both sides wait for messages the same way: MPI_Iprobe in a loop that spins briefly, then sleeps
// with a growing pause (up to 1 ms), so that idle ranks leave the cores to the ones that work
// (a blocking MPI_Recv busy-polls a core in Open MPI). Returns the MPI tag and fills `text`,
// or returns 0 when `wait` passed without a matching message.
int mpi_receive_text(int source, int tag, std::chrono::milliseconds wait, std::string& text, int& from);
void mpi_send_text(int destination, int tag, const std::string& text);

}  // namespace hpsearch
