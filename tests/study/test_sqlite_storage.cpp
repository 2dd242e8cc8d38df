// The study database: what is written is what a reopened storage reads back, and files that are
// not hpsearch databases are refused without being changed.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <thread>
#include <vector>

#include "core/errors.hpp"
#include "study/sqlite_storage.hpp"
#include "temp_dir.hpp"

using namespace hpsearch;
using nlohmann::json;

namespace {

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
  EXPECT_DOUBLE_EQ(trials[0].point[0], 0.5);
  EXPECT_TRUE(std::isnan(trials[0].point[1]));
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

// --- Schema versions, attempts and the study lock (issue 7) ---

namespace {

// The DDL of schema version 1 exactly as the first release wrote it (study/sqlite_storage.cpp
// at commit 02c6b8a), with a study, a finished trial with a step and a trial a killed run left RUNNING.
void write_version_1_file(const std::string& path) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  const char* sql = R"sql(
PRAGMA journal_mode=WAL;
BEGIN;
CREATE TABLE studies (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, space_file TEXT NOT NULL, space_text TEXT NOT NULL,
  document TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE trials (study_id INTEGER NOT NULL REFERENCES studies(id), number INTEGER NOT NULL, state TEXT NOT NULL,
  params TEXT NOT NULL, config TEXT NOT NULL, value REAL, started_at REAL, finished_at REAL, worker INTEGER, error TEXT,
  PRIMARY KEY (study_id, number));
CREATE TABLE steps (study_id INTEGER NOT NULL, number INTEGER NOT NULL, step INTEGER NOT NULL, metrics TEXT NOT NULL,
  reported_at REAL NOT NULL, PRIMARY KEY (study_id, number, step));
PRAGMA application_id=1213223762;
PRAGMA user_version=1;
INSERT INTO studies VALUES (1, 's', 's.json', '{}', '{"trainer": {"type": "synthetic", "function": "branin"}, "params": {"x": {"$uniform": [0, 1]}}}', 1.0);
INSERT INTO trials VALUES (1, 0, 'COMPLETE', '[0.25]', '{"x": 0.25}', 1.5, 2.0, 3.0, 1, '');
INSERT INTO steps VALUES (1, 0, 1, '{"value": 1.5}', 2.5);
INSERT INTO trials VALUES (1, 1, 'RUNNING', '[0.75]', '{"x": 0.75}', NULL, 4.0, NULL, 2, NULL);
COMMIT;
)sql";
  char* message = nullptr;
  ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &message), SQLITE_OK) << (message ? message : "");
  sqlite3_close(db);
}

int user_version(const std::string& path) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* q = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, nullptr);
  const int version = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int(q, 0) : -1;
  sqlite3_finalize(q);
  sqlite3_close(db);
  return version;
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST(SqliteStorageSchema, AVersion1FileIsReadAsIsAndUpgradedInPlaceWhenASearchTakesIt) {
  TempDir dir;
  const std::string path = dir.file("v1.db");
  write_version_1_file(path);
  {
    // Summaries read it without changing it.
    SqliteStorage reader(path, SqliteStorage::Access::ReadOnly);
    EXPECT_EQ(reader.schema_version(), 1);
    const auto details = reader.trial_details(*reader.find_study("s"));
    ASSERT_EQ(details.size(), 2u);
    EXPECT_EQ(details[0].attempt, 1);
    EXPECT_TRUE(details[1].attempts.empty());
  }
  EXPECT_EQ(user_version(path), 1);

  SqliteStorage storage(path, SqliteStorage::Access::ReadWrite);
  EXPECT_EQ(user_version(path), 1) << "opening alone must not upgrade: a refused search writes nothing";
  storage.acquire_lock("s");
  EXPECT_EQ(user_version(path), kSchemaVersion);
  auto study = storage.find_study("s");
  storage.open_study(*study, ObjectiveMode::Minimize, "value", 1);
  ASSERT_EQ(storage.history().trials.size(), 2u);
  EXPECT_EQ(storage.history().trials[0].intermediate, (std::vector<std::pair<int, double>>{{1, 1.5}}));
  // The trial the v1 run left RUNNING runs again as attempt 2, and attempt 1 is kept as KILLED.
  storage.start_trial(1, {0.75}, json{{"x", 0.75}}, 1);
  storage.finish_trial(1, TrialState::Complete, 2.5, "");
  const auto details = storage.trial_details(*study);
  EXPECT_EQ(details[0].attempt, 1);
  EXPECT_EQ(details[1].attempt, 2);
  ASSERT_EQ(details[1].attempts.size(), 1u);
  EXPECT_EQ(details[1].attempts[0]["state"], "KILLED");
  EXPECT_EQ(details[1].attempts[0]["worker"], 2);
  EXPECT_EQ(details[1].attempts[0]["started_at"], 4.0);
}

TEST(SqliteStorageSchema, AFailedUpgradeLeavesTheVersion1FileAsItWas) {
  TempDir dir;
  const std::string path = dir.file("v1.db");
  write_version_1_file(path);
  // A table in the way of the upgrade makes it fail half-way: the transaction rolls it all back.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE locks(x)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  {
    SqliteStorage storage(path, SqliteStorage::Access::ReadWrite);
    EXPECT_THROW(storage.acquire_lock("s"), Error);
  }
  EXPECT_EQ(user_version(path), 1);
  SqliteStorage reader(path, SqliteStorage::Access::ReadOnly);
  const auto details = reader.trial_details(*reader.find_study("s"));
  ASSERT_EQ(details.size(), 2u);  // the attempt column was not added: a v1 query still reads it
  EXPECT_EQ(details[1].state, TrialState::Running);
}

TEST(SqliteStorageSchema, ANewerSchemaIsRefusedAndTheFileIsUntouched) {
  TempDir dir;
  const std::string path = dir.file("runs.db");
  {
    SqliteStorage storage(path, SqliteStorage::Access::ReadWrite);
    storage.create_study("s", "s.json", "{}", kDocument);
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  const std::string bump = "PRAGMA journal_mode=DELETE; PRAGMA user_version=" + std::to_string(kSchemaVersion + 1);
  ASSERT_EQ(sqlite3_exec(db, bump.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  const std::string before = file_bytes(path);
  EXPECT_THROW(SqliteStorage(path, SqliteStorage::Access::ReadWrite), UserError);
  EXPECT_THROW(SqliteStorage(path, SqliteStorage::Access::ReadOnly), UserError);
  EXPECT_EQ(file_bytes(path), before);
  EXPECT_FALSE(std::filesystem::exists(path + "-wal"));
}

TEST(SqliteStorageLock, ASecondSearchOfTheSameStudyIsRefusedWhileTheFirstLives) {
  TempDir dir;
  const std::string path = dir.file("runs.db");
  SqliteStorage first(path, SqliteStorage::Access::ReadWrite);
  first.acquire_lock("s");
  // The holder is this very process: simulate a second process by a row with a live pid that is
  // not ours (our parent: alive, same host), as a concurrent search would leave it.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  const long long parent = ::getppid();
  std::string identity;
  {
    // The identity the storage computes for a pid: boot id and start time (field 22 of stat).
    std::ifstream boot("/proc/sys/kernel/random/boot_id");
    std::getline(boot, identity);
    std::ifstream stat("/proc/" + std::to_string(parent) + "/stat");
    std::string line;
    std::getline(stat, line);
    std::istringstream fields(line.substr(line.rfind(')') + 2));
    std::string field;
    for (int i = 3; i <= 22 && (fields >> field); ++i) {
    }
    identity += ":" + field;
  }
  const std::string take = "UPDATE locks SET pid = " + std::to_string(parent) + ", process = '" + identity + "' WHERE study = 's'";
  ASSERT_EQ(sqlite3_exec(db, take.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  SqliteStorage second(path, SqliteStorage::Access::ReadWrite);
  try {
    second.acquire_lock("s");
    FAIL() << "a second search of a live study was allowed";
  } catch (const UserError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("study 's' is being searched by another hpsearch"), std::string::npos) << what;
    EXPECT_NE(what.find("pid " + std::to_string(parent)), std::string::npos) << what;
  }
  // Another study of the same file is free.
  EXPECT_NO_THROW(second.acquire_lock("t"));
  // The same holder on another host with a fresh heartbeat is alive; with an old one, stale.
  ASSERT_EQ(sqlite3_exec(db, "UPDATE locks SET host = 'elsewhere' WHERE study = 's'", nullptr, nullptr, nullptr), SQLITE_OK);
  SqliteStorage third(path, SqliteStorage::Access::ReadWrite);
  EXPECT_THROW(third.acquire_lock("s"), UserError);
  const std::string old = "UPDATE locks SET heartbeat_at = heartbeat_at - " + std::to_string(kLockStaleSeconds + 1) + " WHERE study = 's'";
  ASSERT_EQ(sqlite3_exec(db, old.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_NO_THROW(third.acquire_lock("s"));
  // The first holder finds out at its next heartbeat that it lost the study.
  EXPECT_THROW(first.refresh_lock(), Error);
  sqlite3_close(db);
}

TEST(SqliteStorageLock, ALockLeftByADeadProcessIsTakenOverAtOnce) {
  TempDir dir;
  const std::string path = dir.file("runs.db");
  // A child process takes the lock and dies without releasing it, as under kill -9.
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    SqliteStorage storage(path, SqliteStorage::Access::ReadWrite);
    storage.acquire_lock("s");
    std::_Exit(0);  // no destructor: the lock row stays
  }
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  SqliteStorage storage(path, SqliteStorage::Access::ReadWrite);
  EXPECT_NO_THROW(storage.acquire_lock("s"));
  // Released on destruction: the next one takes it without a stale-lock check.
}

TEST(SqliteStorageAttempts, RetriesAndInterruptionsKeepEveryAttempt) {
  TempDir dir;
  SqliteStorage storage(dir.file("runs.db"), SqliteStorage::Access::ReadWrite);
  auto study = storage.create_study("s", "s.json", "{}", kDocument);
  storage.open_study(study, ObjectiveMode::Minimize, "value", 1);
  storage.start_trial(0, {0.5}, json{{"x", 0.5}}, 1);
  storage.record_step(0, 1, json{{"value", 3.0}});
  storage.retry_trial(0, "FAIL", "boom 1", "retry 1 of 2 to come");
  EXPECT_EQ(storage.history().trials[0].state, TrialState::Waiting);
  EXPECT_TRUE(storage.history().trials[0].intermediate.empty()) << "the failed attempt's steps go with it";
  EXPECT_EQ(storage.attempts_ended_as(0, "FAIL"), 1);
  storage.start_trial(0, {0.5}, json{{"x", 0.5}}, 2);
  storage.interrupt_trials({0}, "interrupted by SIGTERM");
  EXPECT_EQ(storage.history().trials[0].state, TrialState::Interrupted);
  storage.start_trial(0, {0.5}, json{{"x", 0.5}}, 1);
  storage.finish_trial(0, TrialState::Complete, 1.0, "");
  EXPECT_EQ(storage.attempts_ended_as(0, "FAIL"), 1);
  EXPECT_EQ(storage.attempts_ended_as(0, "INTERRUPTED"), 1);

  SqliteStorage reopened(dir.file("runs.db"), SqliteStorage::Access::ReadOnly);
  const auto details = reopened.trial_details(study);
  ASSERT_EQ(details.size(), 1u);
  EXPECT_EQ(details[0].state, TrialState::Complete);
  EXPECT_EQ(details[0].attempt, 3);
  ASSERT_EQ(details[0].attempts.size(), 2u);
  EXPECT_EQ(details[0].attempts[0]["state"], "FAIL");
  EXPECT_EQ(details[0].attempts[0]["error"], "boom 1");
  EXPECT_EQ(details[0].attempts[0]["worker"], 1);
  EXPECT_EQ(details[0].attempts[1]["state"], "INTERRUPTED");
  EXPECT_EQ(details[0].attempts[1]["error"], "interrupted by SIGTERM");
  EXPECT_EQ(details[0].attempts[1]["worker"], 2);
}

// Issue 15.7: searches that open one new file at the same moment must not race on the schema
// (one creates it under the write lock, the others wait and find it) nor on the switch to WAL.
TEST(SqliteStorage, SimultaneousCreatorsShareOneSchema) {
  for (int round = 0; round < 5; ++round) {
    TempDir dir;
    const std::string path = dir.file("runs.db");
    constexpr int kOpeners = 8;
    std::atomic<int> ready{0};
    std::vector<std::string> errors(kOpeners);
    std::vector<std::thread> threads;
    for (int i = 0; i < kOpeners; ++i) {
      threads.emplace_back([&, i] {
        ready.fetch_add(1);
        while (ready.load() < kOpeners) std::this_thread::yield();  // all start at once
        try {
          SqliteStorage storage(path, SqliteStorage::Access::ReadWrite);
          storage.create_study("s" + std::to_string(i), "s.json", "{}", kDocument);
        } catch (const std::exception& e) {
          errors[i] = e.what();
        }
      });
    }
    for (auto& t : threads) t.join();
    for (const auto& e : errors) EXPECT_EQ(e, "");
    SqliteStorage reader(path, SqliteStorage::Access::ReadOnly);
    EXPECT_EQ(reader.studies().size(), static_cast<std::size_t>(kOpeners));
    EXPECT_EQ(reader.schema_version(), kSchemaVersion);
  }
}

// Issue 15.5: reading a database leaves no -wal or -shm beside it (a read-only SQLite connection
// would create them and never remove them).
TEST(SqliteStorage, ReadingLeavesNoSideFiles) {
  TempDir dir;
  const std::string path = dir.file("runs.db");
  {
    SqliteStorage storage(path, SqliteStorage::Access::ReadWrite);
    storage.create_study("s", "s.json", "{}", kDocument);
  }
  {
    SqliteStorage reader(path, SqliteStorage::Access::ReadOnly);
    EXPECT_EQ(reader.studies().size(), 1u);
  }
  EXPECT_FALSE(std::filesystem::exists(path + "-wal"));
  EXPECT_FALSE(std::filesystem::exists(path + "-shm"));
}

// Issue 15.5: a search is refused before SQLite touches a folder it cannot create the file in.
TEST(SqliteStorage, UnwritableFolderIsRefusedByName) {
  try {
    SqliteStorage storage("/proc/hpsearch_none/runs.db", SqliteStorage::Access::ReadWrite);
    FAIL() << "no refusal";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot create the database"), std::string::npos) << e.what();
  }
}
