// SqliteStorage's state changes are all or nothing: a statement that fails half-way through one
// (here a trigger planted in the file makes it fail) rolls back the ones before it, leaves
// history() as it was, and leaves no transaction open for the next call.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

#include "core/errors.hpp"
#include "study/sqlite_storage.hpp"

using namespace hpsearch;
using nlohmann::json;

namespace {

class PlantedFailure : public ::testing::Test {
 protected:
  PlantedFailure() : path_(std::filesystem::temp_directory_path() / ("hpsearch_tx_" + std::to_string(::getpid()) + ".db")) {
    std::filesystem::remove(path_);
    storage_ = std::make_unique<SqliteStorage>(path_.string(), SqliteStorage::Access::ReadWrite);
    study_ = storage_->create_study("s", "s.json", "{}", json::object());
    storage_->acquire_lock("s");
    storage_->open_study(study_, ObjectiveMode::Minimize, "loss", 1);
    storage_->start_trial(0, {0.1}, json::object(), 1);
    storage_->start_trial(1, {0.2}, json::object(), 2);
    storage_->record_step(1, 1, json{{"loss", 4.0}});
  }
  ~PlantedFailure() override {
    storage_.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_.string() + suffix);
  }
  // Every later UPDATE of trial 1's row fails, from another connection (as another tool could).
  void plant(const char* sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.string().c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  StudyHistory reread() const {
    SqliteStorage again(path_.string(), SqliteStorage::Access::ReadOnly);
    again.open_study(study_, ObjectiveMode::Minimize, "loss", 1);
    return again.history();
  }
  int steps_on_disk(int number) const {
    return static_cast<int>(storage_->trial_details(study_).at(static_cast<std::size_t>(number)).steps.size());
  }

  std::filesystem::path path_;
  std::unique_ptr<SqliteStorage> storage_;
  StoredStudy study_;
};

constexpr const char* kFailUpdatesOfTrial1 =
    "CREATE TRIGGER planted BEFORE UPDATE ON trials WHEN NEW.number = 1 BEGIN SELECT RAISE(ABORT, 'planted'); END";

TEST_F(PlantedFailure, InterruptTrialsChangesNoneWhenOneFails) {
  plant(kFailUpdatesOfTrial1);
  EXPECT_THROW(storage_->interrupt_trials({0, 1}, "interrupted by SIGTERM"), Error);
  EXPECT_EQ(storage_->history().trials[0].state, TrialState::Running);
  EXPECT_EQ(reread().trials[0].state, TrialState::Running);  // trial 0's update was rolled back
  plant("DROP TRIGGER planted");
  storage_->interrupt_trials({0, 1}, "interrupted by SIGTERM");  // no transaction was left open
  EXPECT_EQ(reread().trials[1].state, TrialState::Interrupted);
}

TEST_F(PlantedFailure, RetryTrialKeepsNoAttemptAndLosesNoStepWhenItFails) {
  plant(kFailUpdatesOfTrial1);
  EXPECT_THROW(storage_->retry_trial(1, "FAIL", "boom", "waiting"), Error);
  EXPECT_EQ(storage_->attempts_ended_as(1, "FAIL"), 0);
  EXPECT_EQ(steps_on_disk(1), 1);
  EXPECT_EQ(storage_->history().trials[1].state, TrialState::Running);
  EXPECT_EQ(storage_->history().trials[1].intermediate.size(), 1u);
  plant("DROP TRIGGER planted");
  storage_->retry_trial(1, "FAIL", "boom", "waiting");
  EXPECT_EQ(storage_->attempts_ended_as(1, "FAIL"), 1);
  EXPECT_EQ(steps_on_disk(1), 0);
}

TEST_F(PlantedFailure, RerunKeepsTheEndedAttemptOnlyWhenItStarts) {
  // Trial 1 is RUNNING, as a dead run leaves it; its rerun keeps that attempt as KILLED and
  // deletes its steps before the trial's row is updated, which fails here.
  plant(kFailUpdatesOfTrial1);
  EXPECT_THROW(storage_->start_trial(1, {0.2}, json::object(), 3), Error);
  EXPECT_EQ(storage_->attempts_ended_as(1, "KILLED"), 0);
  EXPECT_EQ(steps_on_disk(1), 1);
  plant("DROP TRIGGER planted");
  storage_->start_trial(1, {0.2}, json::object(), 3);  // the cached statements were left usable
  EXPECT_EQ(storage_->attempts_ended_as(1, "KILLED"), 1);
  EXPECT_EQ(steps_on_disk(1), 0);
  EXPECT_EQ(storage_->trial_details(study_)[1].worker, 3);
}

}  // namespace
