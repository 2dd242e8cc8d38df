// The study database: what is written is what a reopened storage reads back, and files that are
// not hpsearch databases are refused without being changed.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "orchestrator/sqlite_storage.hpp"
#include "search/errors.hpp"

using namespace hpsearch;
using nlohmann::json;

namespace {

class TempDir {
 public:
  TempDir() : path_(std::filesystem::temp_directory_path() / ("hpsearch_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++))) {
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

const json kDocument = json::parse(R"({"trainer": {"type": "synthetic", "function": "branin"}, "params": {"x": {"$uniform": [0, 1]}}})");

}  // namespace

TEST(SqliteStorage, ReopenedStudyHasTheSameHistory) {
  TempDir dir;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  {
    SqliteStorage storage(dir.file("runs.db"), SqliteStorage::Access::ReadWrite);
    auto study = storage.create_study("s", "s.json", "{}", kDocument);
    storage.open_study(study, ObjectiveMode::Maximize, "acc", 2);
    storage.start_trial(0, {0.5, nan}, json{{"x", 0.5}}, 1);
    storage.record_step(0, 1, json{{"acc", 0.25}, {"loss", 2.0}});
    storage.record_step(0, 2, json{{"acc", 0.5}});
    storage.finish_trial(0, TrialState::Complete, 0.5, "");
    storage.start_trial(1, {0.1, 3}, json{{"x", 0.1}}, 2);
    storage.finish_trial(1, TrialState::Fail, std::nullopt, "boom");
    storage.start_trial(2, {0.2, 4}, json{{"x", 0.2}}, 1);  // left RUNNING, as by a crash
    EXPECT_EQ(storage.history().trials.size(), 3u);
  }
  SqliteStorage storage(dir.file("runs.db"), SqliteStorage::Access::ReadWrite);
  auto study = storage.find_study("s");
  ASSERT_TRUE(study.has_value());
  EXPECT_EQ(study->document, kDocument);
  storage.open_study(*study, ObjectiveMode::Maximize, "acc", 2);
  const auto& trials = storage.history().trials;
  ASSERT_EQ(trials.size(), 3u);
  EXPECT_EQ(storage.history().mode, ObjectiveMode::Maximize);
  EXPECT_EQ(trials[0].state, TrialState::Complete);
  EXPECT_EQ(trials[0].value, 0.5);
  EXPECT_DOUBLE_EQ(trials[0].params[0], 0.5);
  EXPECT_TRUE(std::isnan(trials[0].params[1]));
  EXPECT_EQ(trials[0].intermediate, (std::vector<std::pair<int, double>>{{1, 0.25}, {2, 0.5}}));
  EXPECT_EQ(trials[1].state, TrialState::Fail);
  EXPECT_EQ(trials[1].error, "boom");
  EXPECT_FALSE(trials[1].value.has_value());
  EXPECT_EQ(trials[2].state, TrialState::Running);

  const auto details = storage.trial_details(*study);
  ASSERT_EQ(details.size(), 3u);
  EXPECT_EQ(details[0].config, json({{"x", 0.5}}));
  EXPECT_EQ(details[0].steps.at(0), json({{"step", 1}, {"acc", 0.25}, {"loss", 2.0}}));
  EXPECT_EQ(details[1].worker, 2);
  ASSERT_TRUE(details[0].finished_at && details[0].started_at);
  EXPECT_GE(*details[0].finished_at, *details[0].started_at);
}

TEST(SqliteStorage, RerunningATrialClearsItsOldStepsAndKeepsItsNumber) {
  TempDir dir;
  SqliteStorage storage(dir.file("runs.db"), SqliteStorage::Access::ReadWrite);
  auto study = storage.create_study("s", "s.json", "{}", kDocument);
  storage.open_study(study, ObjectiveMode::Minimize, "value", 1);
  storage.start_trial(0, {0.5}, json{{"x", 0.5}}, 1);
  storage.record_step(0, 1, json{{"value", 3.0}});
  storage.start_trial(0, {0.5}, json{{"x", 0.5}}, 2);
  EXPECT_TRUE(storage.history().trials[0].intermediate.empty());
  EXPECT_TRUE(storage.trial_details(study)[0].steps.empty());
  EXPECT_EQ(storage.trial_details(study)[0].worker, 2);
}

TEST(SqliteStorage, RefusesAFileThatIsNotADatabaseAndLeavesItAsItWas) {
  TempDir dir;
  const std::string path = dir.file("notes.txt");
  std::ofstream(path) << "my thesis, chapter 1\n";
  EXPECT_THROW(SqliteStorage(path, SqliteStorage::Access::ReadWrite), UserError);
  std::ifstream in(path);
  std::string text;
  std::getline(in, text);
  EXPECT_EQ(text, "my thesis, chapter 1");
}

TEST(SqliteStorage, RefusesAnotherApplicationsSqliteDatabase) {
  TempDir dir;
  const std::string path = dir.file("other.db");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE t(x)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  try {
    SqliteStorage storage(path, SqliteStorage::Access::ReadWrite);
    FAIL() << "accepted a foreign database";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("not hpsearch's"), std::string::npos) << e.what();
  }
}

TEST(SqliteStorage, RefusesADatabaseFromANewerSchema) {
  TempDir dir;
  const std::string path = dir.file("runs.db");
  { SqliteStorage storage(path, SqliteStorage::Access::ReadWrite); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  const std::string bump = "PRAGMA user_version=" + std::to_string(kSchemaVersion + 1);
  ASSERT_EQ(sqlite3_exec(db, bump.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  try {
    SqliteStorage storage(path, SqliteStorage::Access::ReadWrite);
    FAIL() << "accepted a newer schema";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("newer hpsearch"), std::string::npos) << e.what();
  }
}

TEST(SqliteStorage, ReadOnlyAccessNeedsAnExistingDatabase) {
  TempDir dir;
  EXPECT_THROW(SqliteStorage(dir.file("none.db"), SqliteStorage::Access::ReadOnly), UserError);
  EXPECT_FALSE(std::filesystem::exists(dir.file("none.db")));
}
