#include "worker/mpi_worker.hpp"

#include <mpi.h>

#include <algorithm>
#include <memory>
#include <optional>

#include "protocol/mpi_transport.hpp"
#include "protocol/stop_signals.hpp"
#include "core/errors.hpp"
#include "trainers/torch/registry.hpp"
#include "worker/inline_worker_pool.hpp"
#include "worker/trial_runner.hpp"

namespace hpsearch {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// How long a worker told to leave mid-trial waits for its trainer to return before leaving it.
constexpr auto kAbandonWait = 2s;

// A group's rank other than its leader: trains every trial the leader relays, with the group's
// communicator, until the leader relays an empty text. Its reports go nowhere: the trainers' epoch
// loop gives every rank the leader's continue/stop decision.
bool run_group_member(const protocol::StudyForWorkers& study, WorkerGroup& group) {
  const auto trainer = make_trainer(study.trainer, study.space_file);
  const StepChannel nowhere = [](const protocol::StepReport&) { return true; };
  for (std::string text = receive_from_leader(group); !text.empty(); text = receive_from_leader(group)) {
    run_trial(*trainer, protocol::decode_trial(text), study.objective_metric, nowhere, study.mode, nullptr, group.communicator.get());
  }
  return true;
}

}  // namespace

bool run_mpi_worker(const protocol::StudyForWorkers& study, WorkerGroup* group) {
  // The master decides when the search stops (stop_signals.hpp); a worker dying on mpirun's
  // SIGTERM or a forwarded SIGUSR2 would lose its trial's report.
  stop_signals::ignore();
  // The trials run on the pool's thread; this thread does every MPI call (protocol.hpp), so it
  // can send heartbeats and hear a SHUTDOWN while the trainer computes.
  if (group != nullptr && group->rank != 0) return run_group_member(study, *group);
  auto local = std::make_unique<InlineWorkerPool>(make_trainer(study.trainer, study.space_file), study.objective_metric, study.mode,
                                                  group != nullptr ? group->communicator.get() : nullptr);
  auto leave_group = [&] {
    if (group != nullptr) relay_to_group(*group, "");
  };
  while (!local->receive(1h)) {
  }  // its READY: the thread is up
  const auto beat = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(study.heartbeat_s));

  // Ends the rank's part while a trial runs; false when the trainer did not return in time, in
  // which case the pool is left alive on purpose (destroying it would wait for that trainer) and
  // the caller ends the process without running destructors.
  auto abandon = [&] {
    local->shutdown();
    if (local->wait_until_idle(kAbandonWait)) {
      leave_group();
      return true;
    }
    local.release();
    return false;
  };

  mpi_send_text(protocol::kMasterRank, protocol::kReady, "{}");
  std::optional<int> trial;  // the trial that runs now
  auto next_beat = Clock::now();
  std::string text;
  int from = -1;
  while (true) {
    if (!trial) {
      const int tag = mpi_receive_text(protocol::kMasterRank, MPI_ANY_TAG, 1h, text, from);
      if (tag == 0) continue;
      if (tag == protocol::kShutdown) {
        leave_group();
        return true;
      }
      if (tag != protocol::kTrial) throw Error("worker: unexpected message tag " + std::to_string(tag) + " from the master");
      if (group != nullptr) relay_to_group(*group, text);
      auto assignment = protocol::decode_trial(text);
      trial = assignment.trial;
      local->send_trial(0, assignment);
      next_beat = Clock::now() + beat;
      continue;
    }
    const auto until_beat = std::chrono::duration_cast<std::chrono::milliseconds>(next_beat - Clock::now());
    auto message = local->receive(std::clamp(until_beat, 0ms, 100ms));
    if (message && message->kind == protocol::WorkerMessage::Kind::Step) {
      mpi_send_text(protocol::kMasterRank, protocol::kStep, protocol::encode(message->step));
      // The master answers a STEP before anything else; a SHUTDOWN may come first when it is
      // stopping at once.
      int tag = 0;
      while ((tag = mpi_receive_text(protocol::kMasterRank, MPI_ANY_TAG, 1h, text, from)) == 0) {
      }
      if (tag == protocol::kShutdown) return abandon();
      if (tag != protocol::kDecision) throw Error("worker: unexpected message tag " + std::to_string(tag) + " while waiting for a decision");
      local->answer_step(0, nlohmann::json::parse(text).at("continue").get<bool>());
    } else if (message && message->kind == protocol::WorkerMessage::Kind::Result) {
      mpi_send_text(protocol::kMasterRank, protocol::kResult, protocol::encode(message->result));
      trial.reset();
      continue;
    }
    if (Clock::now() >= next_beat) {
      mpi_send_text(protocol::kMasterRank, protocol::kHeartbeat, nlohmann::json{{"trial", *trial}}.dump());
      next_beat = Clock::now() + beat;
    }
    // While a trial runs, the only message the master sends unasked is SHUTDOWN.
    if (mpi_receive_text(protocol::kMasterRank, protocol::kShutdown, 0ms, text, from) != 0) return abandon();
  }
}

}  // namespace hpsearch
