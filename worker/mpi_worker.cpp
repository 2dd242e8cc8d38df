#include "worker/mpi_worker.hpp"

#include <mpi.h>

#include <algorithm>
#include <memory>
#include <optional>

#include "core/errors.hpp"
#include "protocol/mpi_transport.hpp"
#include "protocol/stop_signals.hpp"
#include "trainers/torch/registry.hpp"
#include "worker/trial_runner.hpp"
#include "worker/trial_thread.hpp"

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
  const auto trainer = make_trainer(study.trainer, study.source);
  const StepChannel nowhere = [](const protocol::StepReport&) { return true; };
  for (std::string text = receive_from_leader(group); !text.empty(); text = receive_from_leader(group)) {
    run_trial(*trainer, protocol::decode_trial(text), study.objective_metric, nowhere, study.mode, nullptr, group.communicator.get(),
              study.use);
  }
  return true;
}

}  // namespace

bool run_mpi_worker(const protocol::StudyForWorkers& study, WorkerGroup* group) {
  // The master decides when the search stops (stop_signals.hpp); a worker dying on mpirun's
  // SIGTERM or a forwarded SIGUSR2 would lose its trial's report.
  stop_signals::ignore();
  // The trials run on the trial thread; this thread does every MPI call (protocol.hpp), so it
  // can send heartbeats and hear a SHUTDOWN while the trainer computes.
  if (group != nullptr && group->rank != 0) return run_group_member(study, *group);
  auto local = std::make_unique<TrialThread>(make_trainer(study.trainer, study.source), study.objective_metric, study.mode,
                                             group != nullptr ? group->communicator.get() : nullptr, study.use);
  auto leave_group = [&] {
    if (group != nullptr) relay_to_group(*group, "");
  };
  while (!local->receive(1h)) {
  }  // its READY: the thread is up
  const auto beat = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(study.heartbeat_s));

  // Ends the rank's part while a trial runs; false when the trainer did not return in time, in
  // which case the trial thread is left alive on purpose (destroying it would wait for that trainer) and
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
  // The next message from the master, waiting as long as it takes.
  auto next_from_master = [] {
    std::string text;
    int from = -1, tag = 0;
    while ((tag = mpi_receive_text(protocol::kMasterRank, MPI_ANY_TAG, 1h, text, from)) == 0) {
    }
    return protocol::decode_master_message(tag, text);
  };

  // 2. READY, once.
  protocol::send(protocol::kMasterRank, protocol::Ready{});
  std::optional<int> trial;  // the trial that runs now
  auto next_beat = Clock::now();
  std::string text;
  int from = -1;
  while (true) {
    if (!trial) {
      // Idle: 3. a TRIAL (relayed to the group, then run on the trial thread), or 7. SHUTDOWN.
      const protocol::MasterMessage message = next_from_master();
      if (message.kind == protocol::MasterMessage::Kind::Shutdown) {
        leave_group();
        return true;
      }
      if (message.kind != protocol::MasterMessage::Kind::Trial) throw Error("worker: a DECISION came from the master while no trial runs");
      if (group != nullptr) relay_to_group(*group, protocol::encode(message.trial));
      trial = message.trial.trial;
      local->send_trial(0, message.trial);
      next_beat = Clock::now() + beat;
      continue;
    }
    const auto until_beat = std::chrono::duration_cast<std::chrono::milliseconds>(next_beat - Clock::now());
    auto message = local->receive(std::clamp(until_beat, 0ms, 100ms));
    if (message && message->kind == protocol::WorkerMessage::Kind::Step) {
      // 4. The trial thread's STEP goes to the master, whose DECISION goes back to the thread. The
      // master answers a STEP before anything else; a SHUTDOWN may come first when it is stopping
      // at once.
      protocol::send(protocol::kMasterRank, message->step);
      const protocol::MasterMessage answer = next_from_master();
      if (answer.kind == protocol::MasterMessage::Kind::Shutdown) return abandon();
      if (answer.kind != protocol::MasterMessage::Kind::Decision) {
        throw Error("worker: a TRIAL came from the master while waiting for a decision");
      }
      local->answer_step(0, answer.decision.continue_trial);
    } else if (message && message->kind == protocol::WorkerMessage::Kind::Result) {
      // 6. RESULT: the worker is idle again.
      protocol::send(protocol::kMasterRank, message->result);
      trial.reset();
      continue;
    }
    // 5. HEARTBEAT, every heartbeat_s while the trial runs.
    if (Clock::now() >= next_beat) {
      protocol::send(protocol::kMasterRank, protocol::Heartbeat{*trial});
      next_beat = Clock::now() + beat;
    }
    // While a trial runs, the only message the master sends unasked is 7. SHUTDOWN.
    if (mpi_receive_text(protocol::kMasterRank, protocol::kShutdown, 0ms, text, from) != 0) return abandon();
  }
}

}  // namespace hpsearch
