#pragma once
// The study database: SQLite, one writer per study (its master), WAL mode, every state change in
// its own transaction, so that a kill at any moment leaves a consistent file. It keeps the
// contract of Storage (storage.hpp).
//
// Tables (schema version kSchemaVersion, kept in PRAGMA user_version; PRAGMA application_id marks
// the file as hpsearch's):
//   studies(id, name UNIQUE, space_file, space_text, document, created_at)
//       document: the space file after --set overrides, with the sampler seed filled in.
//   trials(study_id, number, state, params, config, value, started_at, finished_at, worker, error, attempt)
//       params: the sampler's internal values (JSON array, null where inactive);
//       config: the resolved configuration the trainer received;
//       attempt: 1 for the first run of the trial, +1 each time it is run again (v2).
//   steps(study_id, number, step, metrics, reported_at)
//   attempts(study_id, number, attempt, state, error, started_at, finished_at, worker)      (v2)
//       one row per earlier attempt of a trial that was run again, with how it ended: FAIL (then
//       retried), LOST (its worker stopped answering), INTERRUPTED (a signal stopped the search),
//       KILLED (the run died while the trial was RUNNING: kill -9, a crash, a lost node).
//   locks(study, host, pid, process, started_at, heartbeat_at)                             (v2)
//       process: "BOOT_ID:START_TIME#TOKEN", who the pid is (pids are reused) and which acquisition;
//       the search that works on a study now: a second search of the same study is refused
//       while the holder lives (same host: its pid with the same start time; another host: a
//       heartbeat younger than kLockStaleSeconds).
//
// Versions: 1 (the first release) lacks trials.attempt, attempts and locks. An older file is
// upgraded in place, in one transaction, when a search takes its lock (so a refused search
// leaves it as it was); summaries read either version without changing it.
//
// The history of the open study is mirrored in memory (history()): samplers read it at memory
// speed, and it is rebuilt from the tables alone when a search is resumed.
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/errors.hpp"
#include "search/history.hpp"
#include "study/storage.hpp"

struct sqlite3;

namespace hpsearch {

// "3.40.1": the SQLite this program was built with (hpsearch --version).
const char* sqlite_version();

// A failed SQLite call, with its (extended) result code, so that callers can tell a full disk or a
// read-only file (the user's to fix) from a fault of the run.
class SqliteError : public Error {
 public:
  SqliteError(const std::string& message, int code, bool disk_full_or_read_only)
      : Error(message), code_(code), users_(disk_full_or_read_only) {}
  int code() const { return code_; }            // extended result code
  int primary() const { return code_ & 0xff; }  // SQLITE_FULL, SQLITE_READONLY, SQLITE_BUSY...
  // The user's to fix (free space, make the file writable): a full disk also shows as an I/O
  // error when SQLite cannot grow its -shm file.
  bool disk_full_or_read_only() const { return users_; }

 private:
  int code_;
  bool users_;
};

constexpr int kSchemaVersion = 2;
// kLockStaleSeconds and kLockRefreshSeconds: storage.hpp.

struct StoredStudy {
  long long id = 0;
  std::string name;
  std::string space_file;
  std::string space_text;
  nlohmann::json document;
  double created_at = 0;
};

struct TrialDetail {
  int number = 0;
  TrialState state = TrialState::Waiting;
  std::vector<double> point;  // the sampler's internal values (column `params`)
  nlohmann::json config;
  std::optional<double> value;
  std::optional<double> started_at, finished_at;
  int worker = 0;
  std::string error;
  std::vector<nlohmann::json> steps;     // {"step": k, METRIC: v, ...}
  int attempt = 1;                       // this is the trial's attempt-th run
  std::vector<nlohmann::json> attempts;  // earlier attempts: {"attempt", "state", "error", "started_at", "finished_at", "worker"}
};

class SqliteStorage : public Storage {
 public:
  enum class Access { ReadWrite, ReadOnly };
  // ReadWrite creates the file when absent. Throws UserError naming the file when it is not an
  // hpsearch database, was written by a newer hpsearch, (ReadOnly) does not exist, (ReadWrite)
  // cannot be written (read-only mount, no permission, immutable), or cannot be read (a full disk,
  // a lock: the real cause is named, never "not a database"). Two processes creating one new file
  // at once are safe: one creates the schema, the other waits and finds it.
  // ReadOnly writes nothing and leaves no -wal/-shm file behind: a writable file is opened as
  // usual (its last connection removes them on close); a file that cannot be written is read as
  // immutable when it has no -wal (then the file holds every commit), else through its -wal.
  SqliteStorage(const std::string& path, Access access);
  ~SqliteStorage() override;
  SqliteStorage(const SqliteStorage&) = delete;
  SqliteStorage& operator=(const SqliteStorage&) = delete;

  const std::string& path() const { return path_; }
  std::vector<StoredStudy> studies() const;
  std::optional<StoredStudy> find_study(const std::string& name) const;
  StoredStudy create_study(const std::string& name, const std::string& space_file, const std::string& space_text,
                           const nlohmann::json& document);
  // Stores a changed document (a resumed study asked for more trials or retries).
  void update_study_document(const StoredStudy& study);
  int schema_version() const { return schema_version_; }

  // The study lock (table locks). acquire_lock upgrades an older schema first, in the same
  // transaction; it throws UserError naming the file, the study and the holder (host, pid, age of
  // its heartbeat) when a live search holds the study. A lock left by a dead search is taken over.
  void acquire_lock(const std::string& study);
  void refresh_lock() override;  // heartbeat; throws Error when another search took the lock over
  void release_lock();           // also done by the destructor

  // Makes `study` the open study and loads its history: `mode` and `objective_metric` say how to
  // read values, `param_count` checks the stored points against the space.
  void open_study(const StoredStudy& study, ObjectiveMode mode, const std::string& objective_metric, std::size_t param_count);
  const StudyHistory& history() const override { return history_; }

  // State changes of the open study (storage.hpp says what each does), each one transaction;
  // earlier attempts go to table `attempts`.
  void start_trial(int number, const std::vector<double>& point, const nlohmann::json& config, int worker) override;
  void record_step(int number, int step, const nlohmann::json& metrics) override;
  void finish_trial(int number, TrialState state, std::optional<double> value, const std::string& error) override;
  void retry_trial(int number, const std::string& ended_as, const std::string& error, const std::string& waiting_reason) override;
  void interrupt_trials(const std::vector<int>& numbers, const std::string& reason) override;
  int attempts_ended_as(int number, const std::string& ended_as) const override;

  // Everything about every trial of `study`, for summaries.
  std::vector<TrialDetail> trial_details(const StoredStudy& study) const;

 private:
  class Statement;
  class Transaction;
  enum class Query : int;  // the statements run often, prepared once: sqlite_storage.cpp
  void exec(const char* sql) const;
  [[noreturn]] void fail(const std::string& what) const;
  Statement& prepared(Query query);

  struct Identity {
    int application_id = 0, version = 0;
    bool has_tables = false;
  };
  Identity identify();
  void check_identity(const Identity& id);
  void close_and_throw(const std::string& message);
  void open_connection(const std::string& uri, int flags);
  void switch_to_wal();
  void upgrade_schema();

  std::string path_;
  sqlite3* db_ = nullptr;
  int schema_version_ = 0;
  std::string lock_study_;  // the study whose lock this process holds; empty when none
  std::string lock_token_;  // its row's `process` value, unique to this acquisition
  long long study_id_ = 0;
  std::string objective_metric_;
  StudyHistory history_;
  std::vector<std::unique_ptr<Statement>> statements_;  // by Query, prepared on first use
};

}  // namespace hpsearch
