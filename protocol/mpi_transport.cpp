#include "protocol/mpi_transport.hpp"

#include <mpi.h>

#include <thread>

#include "core/errors.hpp"

namespace hpsearch {

using Clock = std::chrono::steady_clock;

void mpi_send_text(int destination, int tag, const std::string& text) {
  if (MPI_Send(text.data(), static_cast<int>(text.size()), MPI_CHAR, destination, tag, MPI_COMM_WORLD) != MPI_SUCCESS) {
    throw Error("MPI_Send to rank " + std::to_string(destination) + " failed");
  }
}

int mpi_receive_text(int source, int tag, std::chrono::milliseconds wait, std::string& text, int& from) {
  const auto deadline = Clock::now() + wait;
  std::chrono::microseconds pause(0);
  for (int spins = 0;; ++spins) {
    int flag = 0;
    MPI_Status status;
    MPI_Iprobe(source, tag, MPI_COMM_WORLD, &flag, &status);
    if (flag) {
      int count = 0;
      MPI_Get_count(&status, MPI_CHAR, &count);
      text.resize(static_cast<std::size_t>(count));
      MPI_Recv(text.data(), count, MPI_CHAR, status.MPI_SOURCE, status.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      from = status.MPI_SOURCE;
      return status.MPI_TAG;
    }
    if (Clock::now() >= deadline) return 0;
    if (spins < 200) continue;  // a reply usually comes within microseconds
    pause = std::min(std::chrono::microseconds(1000), pause + std::chrono::microseconds(20));
    std::this_thread::sleep_for(pause);
  }
}

}  // namespace hpsearch
