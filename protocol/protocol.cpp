#include "protocol/protocol.hpp"

#include <mpi.h>

#include "core/errors.hpp"
#include "protocol/mpi_transport.hpp"

namespace hpsearch::protocol {

using nlohmann::json;

namespace {

// Decodes the text of message `name` with `read`; whatever does not fit (not JSON, a missing or
// mistyped field) is an Error that names the message and shows its text.
template <typename Read>
auto decode(const char* name, const std::string& text, Read read) {
  try {
    const json j = json::parse(text);
    if (!j.is_object()) throw Error("not a JSON object");
    return read(j);
  } catch (const std::exception& e) {
    throw Error(std::string("protocol: malformed ") + name + " message (" + e.what() + "): " + text.substr(0, 200));
  }
}

}  // namespace

// ---- 1. Start ----

std::string encode(const StudyForWorkers& study) {
  return json{{"trainer", study.trainer},
              {"objective_metric", study.objective_metric},
              {"source", study.source},
              {"mode", study.mode == ObjectiveMode::Maximize ? "max" : "min"},
              {"heartbeat_s", study.heartbeat_s},
              {"group_size", study.group_size},
              {"use", study.use == ObjectiveUse::Last ? "last" : "best"}}
      .dump();
}

StudyForWorkers decode_study(const std::string& text) {
  return decode("study", text, [](const json& j) {
    const std::string mode = j.at("mode").get<std::string>();
    if (mode != "min" && mode != "max") throw Error("mode '" + mode + "' is neither min nor max");
    const std::string use = j.at("use").get<std::string>();
    if (use != "best" && use != "last") throw Error("use '" + use + "' is neither best nor last");
    return StudyForWorkers{j.at("trainer"),
                           j.at("objective_metric").get<std::string>(),
                           j.at("source").get<std::string>(),
                           mode == "max" ? ObjectiveMode::Maximize : ObjectiveMode::Minimize,
                           j.at("heartbeat_s").get<double>(),
                           j.at("group_size").get<int>(),
                           use == "last" ? ObjectiveUse::Last : ObjectiveUse::Best};
  });
}

// A length, then the text, both with MPI_Bcast from the master; length 0 says "refused". Workers
// wait here while the master checks the space and opens the database.
void broadcast_study(const std::optional<StudyForWorkers>& study) {
  const std::string text = study ? encode(*study) : std::string();
  int length = static_cast<int>(text.size());
  MPI_Bcast(&length, 1, MPI_INT, kMasterRank, MPI_COMM_WORLD);
  if (length > 0) MPI_Bcast(const_cast<char*>(text.data()), length, MPI_CHAR, kMasterRank, MPI_COMM_WORLD);
}

std::optional<StudyForWorkers> receive_study() {
  int length = 0;
  MPI_Bcast(&length, 1, MPI_INT, kMasterRank, MPI_COMM_WORLD);
  if (length == 0) return std::nullopt;
  std::string text(static_cast<std::size_t>(length), '\0');
  MPI_Bcast(text.data(), length, MPI_CHAR, kMasterRank, MPI_COMM_WORLD);
  return decode_study(text);
}

// ---- 2. READY ----

std::string encode(const Ready&) { return "{}"; }
Ready decode_ready(const std::string& text) {
  return decode("READY", text, [](const json&) { return Ready{}; });
}

// ---- 3. TRIAL ----

std::string encode(const TrialAssignment& trial) {
  return json{{"trial", trial.trial}, {"config", trial.config}, {"trial_dir", trial.trial_dir}}.dump();
}

TrialAssignment decode_trial(const std::string& text) {
  return decode("TRIAL", text, [](const json& j) {
    return TrialAssignment{j.at("trial").get<int>(), j.at("config"), j.at("trial_dir").get<std::string>()};
  });
}

// ---- 4. STEP and its DECISION ----

std::string encode(const StepReport& step) { return json{{"trial", step.trial}, {"step", step.step}, {"metrics", step.metrics}}.dump(); }

StepReport decode_step(const std::string& text) {
  return decode("STEP", text, [](const json& j) { return StepReport{j.at("trial").get<int>(), j.at("step").get<int>(), j.at("metrics")}; });
}

std::string encode(const Decision& decision) { return json{{"continue", decision.continue_trial}}.dump(); }

Decision decode_decision(const std::string& text) {
  return decode("DECISION", text, [](const json& j) { return Decision{j.at("continue").get<bool>()}; });
}

// ---- 5. HEARTBEAT ----

std::string encode(const Heartbeat& heartbeat) { return json{{"trial", heartbeat.trial}}.dump(); }

Heartbeat decode_heartbeat(const std::string& text) {
  return decode("HEARTBEAT", text, [](const json& j) { return Heartbeat{j.at("trial").get<int>()}; });
}

// ---- 6. RESULT ----

std::string encode(const TrialResult& result) {
  json j{{"trial", result.trial}, {"state", to_string(result.state)}, {"error", result.error}};
  j["value"] = result.value ? json(*result.value) : json(nullptr);
  return j.dump();
}

TrialResult decode_result(const std::string& text) {
  return decode("RESULT", text, [](const json& j) {
    TrialResult r;
    r.trial = j.at("trial").get<int>();
    r.state = trial_state_from_string(j.at("state").get<std::string>());
    if (!j.at("value").is_null()) r.value = j.at("value").get<double>();
    r.error = j.at("error").get<std::string>();
    return r;
  });
}

// ---- 7. SHUTDOWN ----

std::string encode(const Shutdown&) { return "{}"; }
Shutdown decode_shutdown(const std::string& text) {
  return decode("SHUTDOWN", text, [](const json&) { return Shutdown{}; });
}

// ---- Receiving ----

WorkerMessage decode_worker_message(int tag, int from, const std::string& text) {
  WorkerMessage message;
  message.worker = from;
  switch (tag) {
    case kReady:
      decode_ready(text);
      message.kind = WorkerMessage::Kind::Ready;
      break;
    case kHeartbeat:
      decode_heartbeat(text);  // the master needs only to know that the worker is alive
      message.kind = WorkerMessage::Kind::Heartbeat;
      break;
    case kStep:
      message.kind = WorkerMessage::Kind::Step;
      message.step = decode_step(text);
      break;
    case kResult:
      message.kind = WorkerMessage::Kind::Result;
      message.result = decode_result(text);
      break;
    default: throw Error("unexpected MPI message tag " + std::to_string(tag) + " from rank " + std::to_string(from));
  }
  return message;
}

MasterMessage decode_master_message(int tag, const std::string& text) {
  MasterMessage message;
  switch (tag) {
    case kTrial:
      message.kind = MasterMessage::Kind::Trial;
      message.trial = decode_trial(text);
      break;
    case kDecision:
      message.kind = MasterMessage::Kind::Decision;
      message.decision = decode_decision(text);
      break;
    case kShutdown:
      decode_shutdown(text);
      message.kind = MasterMessage::Kind::Shutdown;
      break;
    default: throw Error("worker: unexpected message tag " + std::to_string(tag) + " from the master");
  }
  return message;
}

// ---- Sending ----

void send(int rank, const Ready& message) { mpi_send_text(rank, kReady, encode(message)); }
void send(int rank, const TrialAssignment& message) { mpi_send_text(rank, kTrial, encode(message)); }
void send(int rank, const StepReport& message) { mpi_send_text(rank, kStep, encode(message)); }
void send(int rank, const Decision& message) { mpi_send_text(rank, kDecision, encode(message)); }
void send(int rank, const Heartbeat& message) { mpi_send_text(rank, kHeartbeat, encode(message)); }
void send(int rank, const TrialResult& message) { mpi_send_text(rank, kResult, encode(message)); }
void send(int rank, const Shutdown& message) { mpi_send_text(rank, kShutdown, encode(message)); }

}  // namespace hpsearch::protocol
