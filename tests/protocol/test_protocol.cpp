// Every message of protocol.hpp survives its encoder and decoder unchanged, is decoded from the
// tag it is sent with, and a text that does not fit its message fails with an hpsearch::Error that
// names the message (a fault of the run, never taken for a user's mistake).
#include <gtest/gtest.h>

#include <string>

#include "core/errors.hpp"
#include "protocol/protocol.hpp"

using namespace hpsearch;
using namespace hpsearch::protocol;
using nlohmann::json;

namespace {

// The message of the hpsearch::Error that `decode` throws, or "" when it throws none.
template <typename Decode>
std::string error_of(Decode decode) {
  try {
    decode();
  } catch (const UserError& e) {
    return std::string("a UserError: ") + e.what();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Protocol, StudyRoundTrips) {
  const StudyForWorkers study{json{{"type", "synthetic"}, {"noise", 0.5}},
                              "valid_loss",
                              "runs.db (study 'x')",
                              ObjectiveMode::Maximize,
                              2.5,
                              4,
                              ObjectiveUse::Last};
  const StudyForWorkers back = decode_study(encode(study));
  EXPECT_EQ(back.trainer, study.trainer);
  EXPECT_EQ(back.objective_metric, "valid_loss");
  EXPECT_EQ(back.source, "runs.db (study 'x')");
  EXPECT_EQ(back.mode, ObjectiveMode::Maximize);
  EXPECT_EQ(back.heartbeat_s, 2.5);
  EXPECT_EQ(back.group_size, 4);
  EXPECT_EQ(back.use, ObjectiveUse::Last);
  EXPECT_EQ(decode_study(encode(StudyForWorkers{json::object(), "value", "s.json", ObjectiveMode::Minimize, 5, 0})).mode,
            ObjectiveMode::Minimize);
}

TEST(Protocol, TrialRoundTrips) {
  const TrialAssignment trial{7, json{{"lr", 0.01}, {"layers", json::array({16, 32})}}, "/tmp/runs_trials/s/trial7"};
  const TrialAssignment back = decode_trial(encode(trial));
  EXPECT_EQ(back.trial, 7);
  EXPECT_EQ(back.config, trial.config);
  EXPECT_EQ(back.trial_dir, trial.trial_dir);
}

TEST(Protocol, StepAndDecisionRoundTrip) {
  const StepReport step{3, 12, json{{"valid_loss", 0.125}, {"accuracy", 0.9}}};
  const StepReport back = decode_step(encode(step));
  EXPECT_EQ(back.trial, 3);
  EXPECT_EQ(back.step, 12);
  EXPECT_EQ(back.metrics, step.metrics);
  EXPECT_TRUE(decode_decision(encode(Decision{true})).continue_trial);
  EXPECT_FALSE(decode_decision(encode(Decision{false})).continue_trial);
  EXPECT_EQ(encode(Decision{false}), R"({"continue":false})");
}

TEST(Protocol, HeartbeatReadyAndShutdownRoundTrip) {
  EXPECT_EQ(decode_heartbeat(encode(Heartbeat{42})).trial, 42);
  EXPECT_EQ(encode(Ready{}), "{}");
  EXPECT_EQ(encode(Shutdown{}), "{}");
  EXPECT_NO_THROW(decode_ready(encode(Ready{})));
  EXPECT_NO_THROW(decode_shutdown(encode(Shutdown{})));
}

TEST(Protocol, ResultRoundTripsWithAndWithoutValue) {
  const TrialResult complete{5, TrialState::Complete, 0.75, ""};
  const TrialResult back = decode_result(encode(complete));
  EXPECT_EQ(back.trial, 5);
  EXPECT_EQ(back.state, TrialState::Complete);
  ASSERT_TRUE(back.value.has_value());
  EXPECT_EQ(*back.value, 0.75);
  EXPECT_EQ(back.error, "");
  const TrialResult failed = decode_result(encode(TrialResult{6, TrialState::Fail, std::nullopt, "the objective 'value' is NaN"}));
  EXPECT_EQ(failed.state, TrialState::Fail);
  EXPECT_FALSE(failed.value.has_value());
  EXPECT_EQ(failed.error, "the objective 'value' is NaN");
  EXPECT_EQ(decode_result(encode(TrialResult{8, TrialState::Pruned, 1.5, "stopped"})).state, TrialState::Pruned);
}

TEST(Protocol, WorkerMessagesAreDecodedByTheirTag) {
  const WorkerMessage ready = decode_worker_message(kReady, 3, encode(Ready{}));
  EXPECT_EQ(ready.kind, WorkerMessage::Kind::Ready);
  EXPECT_EQ(ready.worker, 3);
  EXPECT_EQ(decode_worker_message(kHeartbeat, 2, encode(Heartbeat{1})).kind, WorkerMessage::Kind::Heartbeat);
  const WorkerMessage step = decode_worker_message(kStep, 1, encode(StepReport{4, 2, json{{"value", 1.0}}}));
  EXPECT_EQ(step.kind, WorkerMessage::Kind::Step);
  EXPECT_EQ(step.step.trial, 4);
  EXPECT_EQ(step.step.step, 2);
  const WorkerMessage result = decode_worker_message(kResult, 1, encode(TrialResult{4, TrialState::Complete, 2.0, ""}));
  EXPECT_EQ(result.kind, WorkerMessage::Kind::Result);
  EXPECT_EQ(result.result.value, 2.0);
  EXPECT_EQ(error_of([] {
              decode_worker_message(kTrial, 5, encode(TrialAssignment{1, json::object(), "d"}));
            }),
            "unexpected MPI message tag 10 from rank 5");
}

TEST(Protocol, MasterMessagesAreDecodedByTheirTag) {
  const MasterMessage trial = decode_master_message(kTrial, encode(TrialAssignment{9, json{{"x", 1}}, "dir"}));
  EXPECT_EQ(trial.kind, MasterMessage::Kind::Trial);
  EXPECT_EQ(trial.trial.trial, 9);
  const MasterMessage decision = decode_master_message(kDecision, encode(Decision{false}));
  EXPECT_EQ(decision.kind, MasterMessage::Kind::Decision);
  EXPECT_FALSE(decision.decision.continue_trial);
  EXPECT_EQ(decode_master_message(kShutdown, encode(Shutdown{})).kind, MasterMessage::Kind::Shutdown);
  EXPECT_EQ(error_of([] { decode_master_message(kStep, "{}"); }), "worker: unexpected message tag 2 from the master");
}

TEST(Protocol, AMalformedTextFailsWithAnErrorNamingTheMessage) {
  // Not JSON, not an object, a missing field, a field of the wrong type: each names its message.
  auto starts_with = [](const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; };
  EXPECT_TRUE(starts_with(error_of([] { decode_trial("{\"trial\": 1"); }), "protocol: malformed TRIAL message"));
  EXPECT_TRUE(starts_with(error_of([] { decode_step("[1, 2]"); }), "protocol: malformed STEP message"));
  EXPECT_TRUE(starts_with(error_of([] { decode_decision("{}"); }), "protocol: malformed DECISION message"));
  EXPECT_TRUE(starts_with(error_of([] { decode_heartbeat(R"({"trial": "seven"})"); }), "protocol: malformed HEARTBEAT message"));
  EXPECT_TRUE(starts_with(error_of([] { decode_result(R"({"trial": 1, "state": "BOGUS", "value": null, "error": ""})"); }),
                          "protocol: malformed RESULT message"));
  EXPECT_TRUE(starts_with(error_of([] { decode_study(R"({"trainer": {}})"); }), "protocol: malformed study message"));
  EXPECT_TRUE(starts_with(error_of([] { decode_ready("x"); }), "protocol: malformed READY message"));
  EXPECT_TRUE(starts_with(error_of([] { decode_shutdown(""); }), "protocol: malformed SHUTDOWN message"));
  // Through the tag too, and the text is shown.
  EXPECT_EQ(error_of([] { decode_worker_message(kStep, 1, R"({"trial": 1})"); }).find("protocol: malformed STEP message"), 0u);
  EXPECT_NE(error_of([] { decode_master_message(kDecision, R"({"continue": 1})"); }).find(R"({"continue": 1})"), std::string::npos);
}
