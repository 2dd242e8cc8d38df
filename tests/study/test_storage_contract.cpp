// The contract of Storage (study/storage.hpp), run against both implementations: SqliteStorage,
// where history() must also be what a reopened database reads back (durable on return), and
// MemoryStorage, which the master's tests stand on and so must behave as SQLite does.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <memory>

#include "core/errors.hpp"
#include "study/memory_storage.hpp"
#include "study/sqlite_storage.hpp"

using namespace hpsearch;
using nlohmann::json;

namespace {

// An earlier attempt as both implementations can tell it.
struct SeenAttempt {
  int attempt;
  std::string state, error;
  int worker;
  bool operator==(const SeenAttempt& o) const { return attempt == o.attempt && state == o.state && error == o.error && worker == o.worker; }
};
std::ostream& operator<<(std::ostream& out, const SeenAttempt& a) {
  return out << "{" << a.attempt << ", " << a.state << ", '" << a.error << "', worker " << a.worker << "}";
}

// One objective metric, "loss", and one parameter, for both.
class SqliteFixture {
 public:
  SqliteFixture()
      : path_(std::filesystem::temp_directory_path() /
              ("hpsearch_contract_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++) + ".db")),
        storage_(path_.string(), SqliteStorage::Access::ReadWrite) {
    study_ = storage_.create_study("s", "s.json", "{}", json::object());
    storage_.acquire_lock("s");
    storage_.open_study(study_, ObjectiveMode::Minimize, "loss", 1);
  }
  ~SqliteFixture() {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_.string() + suffix);
  }
  Storage& storage() { return storage_; }
  // What another process opening the file now reads: only what was committed.
  StudyHistory reread() const {
    SqliteStorage again(path_.string(), SqliteStorage::Access::ReadOnly);
    again.open_study(study_, ObjectiveMode::Minimize, "loss", 1);
    return again.history();
  }
  std::vector<SeenAttempt> attempts(int number) const {
    std::vector<SeenAttempt> out;
    const auto details = storage_.trial_details(study_);
    for (const auto& a : details.at(static_cast<std::size_t>(number)).attempts) {
      out.push_back({a["attempt"].get<int>(), a["state"].get<std::string>(), a["error"].get<std::string>(), a["worker"].get<int>()});
    }
    return out;
  }
  int attempt(int number) const { return storage_.trial_details(study_).at(static_cast<std::size_t>(number)).attempt; }
  std::size_t step_count(int number) const { return storage_.trial_details(study_).at(static_cast<std::size_t>(number)).steps.size(); }

 private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
  SqliteStorage storage_;
  StoredStudy study_;
};

class MemoryFixture {
 public:
  Storage& storage() { return storage_; }
  StudyHistory reread() const { return storage_.history(); }
  std::vector<SeenAttempt> attempts(int number) const {
    std::vector<SeenAttempt> out;
    for (const auto& a : storage_.attempts(number)) out.push_back({a.attempt, a.state, a.error, a.worker});
    return out;
  }
  int attempt(int number) const { return storage_.attempt(number); }
  std::size_t step_count(int number) const { return storage_.steps(number).size(); }

 private:
  MemoryStorage storage_{ObjectiveMode::Minimize, "loss"};
};

template <typename Fixture>
class StorageContract : public ::testing::Test {
 protected:
  Storage& storage() { return fixture_.storage(); }
  const StudyHistory& history() { return fixture_.storage().history(); }
  const TrialRecord& trial(int number) { return history().trials.at(static_cast<std::size_t>(number)); }
  // history() is what the storage holds: the same as a reread, trial by trial.
  void expect_history_is_stored() {
    const StudyHistory stored = fixture_.reread();
    const auto& mine = history().trials;
    ASSERT_EQ(stored.trials.size(), mine.size());
    for (std::size_t i = 0; i < mine.size(); ++i) {
      SCOPED_TRACE("trial " + std::to_string(i));
      EXPECT_EQ(stored.trials[i].number, mine[i].number);
      EXPECT_EQ(stored.trials[i].state, mine[i].state);
      ASSERT_EQ(stored.trials[i].point.size(), mine[i].point.size());
      for (std::size_t p = 0; p < mine[i].point.size(); ++p) {
        if (std::isnan(mine[i].point[p])) {
          EXPECT_TRUE(std::isnan(stored.trials[i].point[p]));
        } else {
          EXPECT_EQ(stored.trials[i].point[p], mine[i].point[p]);
        }
      }
      EXPECT_EQ(stored.trials[i].value, mine[i].value);
      EXPECT_EQ(stored.trials[i].intermediate, mine[i].intermediate);
      EXPECT_EQ(stored.trials[i].error, mine[i].error);
    }
  }
  Fixture fixture_;
};

using Implementations = ::testing::Types<SqliteFixture, MemoryFixture>;
class ImplementationNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return std::is_same_v<T, SqliteFixture> ? "Sqlite" : "Memory";
  }
};
TYPED_TEST_SUITE(StorageContract, Implementations, ImplementationNames);

using Steps = std::vector<std::pair<int, double>>;

TYPED_TEST(StorageContract, StartStepFinishShowInHistoryAfterEachCall) {
  Storage& s = this->storage();
  s.start_trial(0, {0.5}, json{{"x", 0.5}}, 1);
  EXPECT_EQ(this->trial(0).state, TrialState::Running);
  EXPECT_EQ(this->trial(0).point, std::vector<double>{0.5});
  this->expect_history_is_stored();
  s.record_step(0, 1, json{{"loss", 3.0}, {"acc", 0.1}});
  s.record_step(0, 2, json{{"acc", 0.2}});  // no objective: kept, but no intermediate value
  s.record_step(0, 3, json{{"loss", 1.0}});
  EXPECT_EQ(this->trial(0).intermediate, (Steps{{1, 3.0}, {3, 1.0}}));
  EXPECT_EQ(this->fixture_.step_count(0), 3u);
  this->expect_history_is_stored();
  s.finish_trial(0, TrialState::Complete, 1.0, "");
  EXPECT_EQ(this->trial(0).state, TrialState::Complete);
  EXPECT_EQ(this->trial(0).value, 1.0);
  EXPECT_EQ(this->trial(0).intermediate, (Steps{{1, 3.0}, {3, 1.0}}));  // its steps stay
  this->expect_history_is_stored();

  s.start_trial(1, {std::nan("")}, json::object(), 2);
  s.finish_trial(1, TrialState::Pruned, 7.0, "stopped by the median rule");
  EXPECT_EQ(this->trial(1).error, "stopped by the median rule");
  EXPECT_EQ(this->fixture_.attempt(0), 1);
  EXPECT_TRUE(this->fixture_.attempts(0).empty());
  this->expect_history_is_stored();
}

TYPED_TEST(StorageContract, RetryKeepsTheAttemptDropsItsStepsAndCountsIt) {
  Storage& s = this->storage();
  s.start_trial(0, {0.5}, json::object(), 3);
  s.record_step(0, 1, json{{"loss", 2.0}});
  s.retry_trial(0, "FAIL", "boom", "waiting: boom");
  EXPECT_EQ(this->trial(0).state, TrialState::Waiting);
  EXPECT_EQ(this->trial(0).error, "waiting: boom");
  EXPECT_TRUE(this->trial(0).intermediate.empty());
  EXPECT_EQ(this->fixture_.step_count(0), 0u);
  EXPECT_EQ(this->fixture_.attempt(0), 2);
  EXPECT_EQ(s.attempts_ended_as(0, "FAIL"), 1);
  this->expect_history_is_stored();

  // A WAITING trial starts its new attempt without another attempt row.
  s.start_trial(0, {0.5}, json::object(), 4);
  EXPECT_EQ(this->fixture_.attempt(0), 2);
  EXPECT_EQ(this->trial(0).error, "");
  s.retry_trial(0, "LOST", "worker 4 is lost", "waiting: lost");
  s.start_trial(0, {0.5}, json::object(), 5);
  s.retry_trial(0, "FAIL", "boom again", "waiting: boom again");
  EXPECT_EQ(s.attempts_ended_as(0, "FAIL"), 2);
  EXPECT_EQ(s.attempts_ended_as(0, "LOST"), 1);
  EXPECT_EQ(s.attempts_ended_as(0, "KILLED"), 0);
  EXPECT_EQ(s.attempts_ended_as(1, "FAIL"), 0);  // no such trial: none
  EXPECT_EQ(this->fixture_.attempts(0),
            (std::vector<SeenAttempt>{{1, "FAIL", "boom", 3}, {2, "LOST", "worker 4 is lost", 4}, {3, "FAIL", "boom again", 5}}));
  s.start_trial(0, {0.5}, json::object(), 6);
  s.finish_trial(0, TrialState::Fail, std::nullopt, "boom for good");
  EXPECT_EQ(this->fixture_.attempt(0), 4);
  EXPECT_EQ(this->trial(0).state, TrialState::Fail);
  this->expect_history_is_stored();
}

TYPED_TEST(StorageContract, InterruptTrialsThenRunThemAgain) {
  Storage& s = this->storage();
  s.start_trial(0, {0.1}, json::object(), 1);
  s.start_trial(1, {0.2}, json::object(), 2);
  s.start_trial(2, {0.3}, json::object(), 3);
  s.record_step(1, 1, json{{"loss", 5.0}});
  s.interrupt_trials({}, "nothing");  // no trial: no change
  EXPECT_EQ(this->trial(0).state, TrialState::Running);
  s.interrupt_trials({0, 1}, "interrupted by SIGUSR2");
  EXPECT_EQ(this->trial(0).state, TrialState::Interrupted);
  EXPECT_EQ(this->trial(1).state, TrialState::Interrupted);
  EXPECT_EQ(this->trial(1).error, "interrupted by SIGUSR2");
  EXPECT_EQ(this->trial(1).intermediate, (Steps{{1, 5.0}}));  // kept until it runs again
  EXPECT_EQ(this->trial(2).state, TrialState::Running);
  this->expect_history_is_stored();

  // The next run: the INTERRUPTED attempt and the one a dead run left RUNNING are kept.
  s.start_trial(1, {0.2}, json::object(), 7);
  s.start_trial(2, {0.3}, json::object(), 8);
  EXPECT_TRUE(this->trial(1).intermediate.empty());
  EXPECT_EQ(this->fixture_.step_count(1), 0u);
  EXPECT_EQ(this->fixture_.attempt(1), 2);
  EXPECT_EQ(this->fixture_.attempts(1), (std::vector<SeenAttempt>{{1, "INTERRUPTED", "interrupted by SIGUSR2", 2}}));
  EXPECT_EQ(this->fixture_.attempts(2),
            (std::vector<SeenAttempt>{{1, "KILLED", "the search ended while the trial ran (killed, crashed, or its node was lost)", 3}}));
  EXPECT_EQ(s.attempts_ended_as(1, "INTERRUPTED"), 1);
  EXPECT_EQ(s.attempts_ended_as(2, "KILLED"), 1);
  this->expect_history_is_stored();
}

TYPED_TEST(StorageContract, NewTrialsTakeTheNextNumber) {
  Storage& s = this->storage();
  s.start_trial(0, {0.1}, json::object(), 1);
  EXPECT_THROW(s.start_trial(2, {0.3}, json::object(), 1), Error);
  ASSERT_EQ(this->history().trials.size(), 1u);
  this->expect_history_is_stored();  // the refused call left nothing behind
  s.start_trial(1, {0.2}, json::object(), 1);
  EXPECT_EQ(this->history().trials.size(), 2u);
}

TYPED_TEST(StorageContract, RefreshLockWhileHoldingIt) { EXPECT_NO_THROW(this->storage().refresh_lock()); }

}  // namespace
