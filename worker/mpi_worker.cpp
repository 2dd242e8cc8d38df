#include "worker/mpi_worker.hpp"

#include <mpi.h>

#include "orchestrator/mpi_worker_pool.hpp"
#include "search/errors.hpp"
#include "worker/trial_runner.hpp"

namespace hpsearch {

using namespace std::chrono_literals;

void run_mpi_worker(const protocol::StudyForWorkers& study) {
  const auto trainer = make_trainer(study.trainer, study.space_file);
  const StepChannel channel = [](const protocol::StepReport& step) {
    mpi_send_text(protocol::kMasterRank, protocol::kStep, protocol::encode(step));
    std::string text;
    int from = -1;
    while (mpi_receive_text(protocol::kMasterRank, protocol::kDecision, 1h, text, from) == 0) {
    }
    return nlohmann::json::parse(text).at("continue").get<bool>();
  };

  mpi_send_text(protocol::kMasterRank, protocol::kReady, "{}");
  while (true) {
    std::string text;
    int from = -1;
    const int tag = mpi_receive_text(protocol::kMasterRank, MPI_ANY_TAG, 1h, text, from);
    if (tag == 0) continue;
    if (tag == protocol::kShutdown) return;
    if (tag != protocol::kTrial) throw Error("worker: unexpected message tag " + std::to_string(tag) + " from the master");
    const auto trial = protocol::decode_trial(text);
    const auto result = run_trial(*trainer, trial, study.objective_metric, channel, study.mode);
    mpi_send_text(protocol::kMasterRank, protocol::kResult, protocol::encode(result));
  }
}

}  // namespace hpsearch
