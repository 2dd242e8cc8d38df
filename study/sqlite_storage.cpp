#include "study/sqlite_storage.hpp"

#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <thread>

#include "core/errors.hpp"
#include "core/json_input.hpp"

namespace hpsearch {

using nlohmann::json;

namespace {

constexpr int kApplicationId = 0x48505352;  // "HPSR"
constexpr int kBusyTimeoutMs = 10000;       // how long a statement waits for another process's lock

double now_seconds() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

json point_to_json(const std::vector<double>& point) {
  json out = json::array();
  for (double v : point) out.push_back(std::isnan(v) ? json(nullptr) : json(v));
  return out;
}

std::vector<double> point_from_json(const json& j) {
  std::vector<double> out;
  for (const auto& v : j) out.push_back(v.is_null() ? std::numeric_limits<double>::quiet_NaN() : v.get<double>());
  return out;
}

// Version 1, as the first release created it; a new file gets it and then the v2 additions, which
// is exactly what an upgraded v1 file holds, so that both paths end with the same tables.
const char* const kSchemaV1 = R"sql(
CREATE TABLE IF NOT EXISTS studies (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  space_file TEXT NOT NULL,
  space_text TEXT NOT NULL,
  document TEXT NOT NULL,
  created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS trials (
  study_id INTEGER NOT NULL REFERENCES studies(id),
  number INTEGER NOT NULL,
  state TEXT NOT NULL,
  params TEXT NOT NULL,
  config TEXT NOT NULL,
  value REAL,
  started_at REAL,
  finished_at REAL,
  worker INTEGER,
  error TEXT,
  PRIMARY KEY (study_id, number)
);
CREATE TABLE IF NOT EXISTS steps (
  study_id INTEGER NOT NULL,
  number INTEGER NOT NULL,
  step INTEGER NOT NULL,
  metrics TEXT NOT NULL,
  reported_at REAL NOT NULL,
  PRIMARY KEY (study_id, number, step)
);
)sql";

// Version 2: attempts (retries, interrupted and lost trials) and the study lock.
const char* const kSchemaV2Additions = R"sql(
ALTER TABLE trials ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;
CREATE TABLE attempts (
  study_id INTEGER NOT NULL,
  number INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  state TEXT NOT NULL,
  error TEXT,
  started_at REAL,
  finished_at REAL,
  worker INTEGER,
  PRIMARY KEY (study_id, number, attempt)
);
CREATE TABLE locks (
  study TEXT PRIMARY KEY,
  host TEXT NOT NULL,
  pid INTEGER NOT NULL,
  process TEXT NOT NULL,
  started_at REAL NOT NULL,
  heartbeat_at REAL NOT NULL
);
)sql";

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "?";
  return name;
}

std::string read_first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// Who a process is, beyond its pid (which the kernel reuses): the boot and the process's start
// time in clock ticks since boot (field 22 of /proc/PID/stat). Empty when /proc cannot tell, and
// for a process that has ended but is not yet reaped (state Z or X, field 3): right after a
// kill -9 the killed master may linger so for a moment, and it will never search again.
std::string process_identity(long long pid) {
  const std::string stat = read_first_line("/proc/" + std::to_string(pid) + "/stat");
  const auto close_paren = stat.rfind(')');  // the command name may hold spaces and parentheses
  if (close_paren == std::string::npos) return "";
  std::istringstream fields(stat.substr(close_paren + 2));
  std::string field;
  for (int i = 3; i <= 22 && (fields >> field); ++i) {
    if (i == 3 && (field == "Z" || field == "X")) return "";
  }
  return read_first_line("/proc/sys/kernel/random/boot_id") + ":" + field;
}

std::string format_age(double seconds) {
  char text[64];
  std::snprintf(text, sizeof text, "%.0f s", seconds);
  return text;
}

}  // namespace

// A prepared statement with positional binding; reset after each use so it can be cached.
class SqliteStorage::Statement {
 public:
  Statement(const SqliteStorage& owner, const char* sql) : owner_(owner) {
    if (sqlite3_prepare_v2(owner.db_, sql, -1, &stmt_, nullptr) != SQLITE_OK) owner.fail("prepare");
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement& bind(int i, long long v) { return check(sqlite3_bind_int64(stmt_, i, v)); }
  Statement& bind(int i, int v) { return check(sqlite3_bind_int64(stmt_, i, v)); }
  Statement& bind(int i, double v) { return check(sqlite3_bind_double(stmt_, i, v)); }
  Statement& bind(int i, const std::string& v) {
    return check(sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
  }
  Statement& bind(int i, std::optional<double> v) { return v ? bind(i, *v) : bind_null(i); }
  Statement& bind_null(int i) { return check(sqlite3_bind_null(stmt_, i)); }
  // true while there is a row to read.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE) owner_.fail("step");
    return false;
  }
  // Runs a statement that returns no row; reset afterwards even when it fails, so that a cached
  // statement is never left mid-step.
  void run() {
    struct ResetAfter {
      Statement& statement;
      ~ResetAfter() { statement.reset(); }
    } reset_after{*this};
    step();
  }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  long long integer(int col) const { return sqlite3_column_int64(stmt_, col); }
  double real(int col) const { return sqlite3_column_double(stmt_, col); }
  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::optional<double> optional_real(int col) const { return is_null(col) ? std::nullopt : std::optional<double>(real(col)); }
  std::string text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col))) : std::string();
  }

 private:
  Statement& check(int rc) {
    if (rc != SQLITE_OK) owner_.fail("bind");
    return *this;
  }
  const SqliteStorage& owner_;
  sqlite3_stmt* stmt_ = nullptr;
};

namespace {

// Whether the file system holding `path` has (nearly) no room left: SQLite reports a full disk as
// SQLITE_FULL when a write fails, but as a plain I/O error when it cannot grow its -shm file.
bool disk_nearly_full(const std::string& path) {
  std::string folder = std::filesystem::path(path).parent_path().string();
  struct statvfs fs {};
  if (::statvfs(folder.empty() ? "." : folder.c_str(), &fs) != 0) return false;
  return static_cast<unsigned long long>(fs.f_bavail) * fs.f_frsize < 64 * 1024;
}

bool is_disk_full(const std::string& path, int code) {
  return (code & 0xff) == SQLITE_FULL || ((code & 0xff) == SQLITE_IOERR && disk_nearly_full(path));
}

// What to do about a failure the user can fix; empty for the others.
std::string advice(const std::string& path, int code) {
  if (is_disk_full(path, code))
    return " (the disk holding " + path +
           " is full: free space there and run the command again; what was committed is intact, the failed write was "
           "rolled back)";
  if ((code & 0xff) == SQLITE_READONLY)
    return " (" + path + " cannot be written: make it and its folder writable, or copy it and name the copy with --db)";
  return "";
}

}  // namespace

void SqliteStorage::fail(const std::string& what) const {
  const int code = db_ ? sqlite3_extended_errcode(db_) : SQLITE_CANTOPEN;
  throw SqliteError(path_ + ": SQLite " + what + ": " + (db_ ? sqlite3_errmsg(db_) : "cannot open") + advice(path_, code), code,
                    is_disk_full(path_, code) || (code & 0xff) == SQLITE_READONLY);
}

void SqliteStorage::exec(const char* sql) const {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    const std::string text = message ? message : "?";
    sqlite3_free(message);
    const int code = sqlite3_extended_errcode(db_);
    throw SqliteError(path_ + ": SQLite: " + text + advice(path_, code), code,
                      is_disk_full(path_, code) || (code & 0xff) == SQLITE_READONLY);
  }
}

// The statements of the master's loop (one or more per trial or step), by purpose; prepared once.
enum class SqliteStorage::Query : int {
  Begin,
  Commit,
  InsertOrRestartTrial,  // ?7: 1 when the trial starts a new attempt
  KeepEndedAttempt,      // an attempt a dead or stopped run left: KILLED or INTERRUPTED
  DeleteSteps,
  InsertStep,
  FinishTrial,
  RefreshLock,
  Count
};

SqliteStorage::Statement& SqliteStorage::prepared(Query query) {
  static const char* const kSql[] = {
      // by Query
      "BEGIN IMMEDIATE",
      "COMMIT",
      "INSERT INTO trials (study_id, number, state, params, config, started_at, worker) VALUES (?, ?, 'RUNNING', ?, ?, ?, ?) "
      "ON CONFLICT (study_id, number) DO UPDATE SET state = 'RUNNING', started_at = excluded.started_at, "
      "worker = excluded.worker, value = NULL, finished_at = NULL, error = NULL, attempt = attempt + ?7",
      "INSERT OR REPLACE INTO attempts (study_id, number, attempt, state, error, started_at, finished_at, worker) "
      "SELECT study_id, number, attempt, ?, COALESCE(NULLIF(error, ''), ?), started_at, finished_at, worker "
      "FROM trials WHERE study_id = ? AND number = ?",
      "DELETE FROM steps WHERE study_id = ? AND number = ?",
      "INSERT OR REPLACE INTO steps (study_id, number, step, metrics, reported_at) VALUES (?, ?, ?, ?, ?)",
      "UPDATE trials SET state = ?, value = ?, error = ?, finished_at = ? WHERE study_id = ? AND number = ?",
      "UPDATE locks SET heartbeat_at = ? WHERE study = ? AND process = ?",
  };
  static_assert(sizeof kSql / sizeof kSql[0] == static_cast<std::size_t>(Query::Count), "one SQL text per Query");
  const auto index = static_cast<std::size_t>(query);
  if (statements_.empty()) statements_.resize(static_cast<std::size_t>(Query::Count));
  auto& s = statements_[index];
  if (!s) s = std::make_unique<Statement>(*this, kSql[index]);
  return *s;
}

// BEGIN IMMEDIATE (the write lock at once: two writers cannot both read then write) on
// construction, COMMIT by commit(), ROLLBACK when it is left without one (an exception): every
// state change is all or nothing.
class SqliteStorage::Transaction {
 public:
  explicit Transaction(SqliteStorage& owner) : owner_(owner) { owner_.prepared(Query::Begin).run(); }
  ~Transaction() {
    // Nothing to throw from here: a failed ROLLBACK leaves SQLite to roll back when it can. After
    // some errors (a full disk) SQLite has already rolled back: a ROLLBACK then would only fail and
    // replace the real error's message with "cannot rollback - no transaction is active".
    if (!committed_ && owner_.db_ && !sqlite3_get_autocommit(owner_.db_)) sqlite3_exec(owner_.db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit() {
    owner_.prepared(Query::Commit).run();
    committed_ = true;
  }

 private:
  SqliteStorage& owner_;
  bool committed_ = false;
};

namespace {

bool file_exists(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0;
}

// No -wal, or an empty one: every commit is in the database file itself.
bool no_wal_content(const std::string& path) {
  struct stat info {};
  return ::stat((path + "-wal").c_str(), &info) != 0 || info.st_size == 0;
}

// Why this process cannot write `path` and create its -wal and -shm beside it; empty when it can.
// access() asks the kernel, which knows read-only mounts and immutable files (that stop root too)
// as well as permissions.
std::string why_not_writable(const std::string& path, bool exists) {
  std::string folder = std::filesystem::path(path).parent_path().string();
  if (folder.empty()) folder = ".";
  if (exists && ::access(path.c_str(), W_OK) != 0) return std::strerror(errno);
  if (::access(folder.c_str(), W_OK | X_OK) != 0) return "its folder " + folder + ": " + std::strerror(errno);
  return "";
}

// A file: URI of `path` (absolute, so that no part of it reads as an authority), every byte
// outside the unreserved set percent-encoded.
std::string file_uri(const std::string& path) {
  static const char* const kHex = "0123456789ABCDEF";
  std::string uri = "file:";
  for (unsigned char c : std::filesystem::absolute(path).string()) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
      uri += static_cast<char>(c);
    } else {
      uri += '%';
      uri += kHex[c >> 4];
      uri += kHex[c & 15];
    }
  }
  return uri;
}

}  // namespace

void SqliteStorage::open_connection(const std::string& uri, int flags) {
  if (sqlite3_open_v2(uri.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    const std::string message = db_ ? sqlite3_errmsg(db_) : "cannot open";
    sqlite3_close(db_);
    db_ = nullptr;
    throw UserError(path_ + ": cannot open the database: " + message);
  }
  sqlite3_busy_timeout(db_, kBusyTimeoutMs);
}

void SqliteStorage::close_and_throw(const std::string& message) {
  statements_.clear();
  sqlite3_close(db_);
  db_ = nullptr;
  throw UserError(message);
}

// What the file says it is. A failure to read it is named for what it is: only SQLite's "not a
// database" makes a file foreign; a full disk, a lock or an I/O error says so, for a database that
// may well be good.
SqliteStorage::Identity SqliteStorage::identify() {
  Identity id;
  try {
    Statement q(*this, "PRAGMA application_id");
    if (q.step()) id.application_id = static_cast<int>(q.integer(0));
    Statement v(*this, "PRAGMA user_version");
    if (v.step()) id.version = static_cast<int>(v.integer(0));
    Statement t(*this, "SELECT count(*) FROM sqlite_master");
    if (t.step()) id.has_tables = t.integer(0) > 0;
  } catch (const SqliteError& e) {
    if (e.primary() == SQLITE_NOTADB)
      close_and_throw(path_ + ": not an hpsearch database (not even SQLite); give the file that a search wrote with --db");
    if (e.disk_full_or_read_only() || e.primary() == SQLITE_CANTOPEN || e.primary() == SQLITE_BUSY)
      close_and_throw(std::string(e.what()) +
                      (e.primary() == SQLITE_BUSY ? " (another process holds it locked: run the command again once it is done)" : ""));
    throw;
  }
  return id;
}

void SqliteStorage::check_identity(const Identity& id) {
  if (id.has_tables && id.application_id != kApplicationId)
    close_and_throw(path_ + ": a SQLite database, but not hpsearch's; give the file that a search wrote with --db");
  if (id.version > kSchemaVersion) {
    close_and_throw(path_ + ": written by a newer hpsearch (schema " + std::to_string(id.version) + ", this one reads up to " +
                    std::to_string(kSchemaVersion) + "); use that version");
  }
}

// The switch to WAL takes the file's exclusive lock, and SQLite returns SQLITE_BUSY at once rather
// than call the busy handler: two searches opening one new file would fail "database is locked".
// Retried here for as long as the busy timeout; once another process switched, the file is WAL.
void SqliteStorage::switch_to_wal() {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kBusyTimeoutMs);
  std::minstd_rand jitter(static_cast<unsigned>(::getpid()));
  for (;;) {
    try {
      exec("PRAGMA journal_mode=WAL");
      return;
    } catch (const SqliteError& e) {
      if (e.primary() != SQLITE_BUSY || std::chrono::steady_clock::now() > deadline) throw;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5 + jitter() % 20));
  }
}

SqliteStorage::SqliteStorage(const std::string& path, Access access) : path_(path) {
  struct stat info {};
  const bool exists = ::stat(path.c_str(), &info) == 0;
  if (!exists && access == Access::ReadOnly) throw UserError(path + ": no such database (run a search with --db " + path + " first)");
  if (exists && !S_ISREG(info.st_mode)) throw UserError(path + ": not a regular file; --db takes a database file");
  // A search writes: refused before SQLite touches the file (which it would open read-only
  // without a word, and whose -wal and -shm it would create beside it).
  const std::string not_writable = why_not_writable(path, exists);
  if (access == Access::ReadWrite && !not_writable.empty()) {
    if (!exists) throw UserError(path + ": cannot create the database (" + not_writable + "); name a file in a writable folder with --db");
    throw UserError(path + ": cannot be written (" + not_writable +
                    "), and a search records its trials there; make the file and its folder writable, or copy it to a writable "
                    "place and name the copy with --db (hpsearch summarize reads it as it is)");
  }
  int flags = SQLITE_OPEN_URI;
  std::string uri = file_uri(path);
  if (access == Access::ReadWrite) {
    flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  } else if (not_writable.empty()) {
    // Read-write (writing nothing: query_only below), so that closing the last connection removes
    // the -wal and -shm that reading a WAL file creates; a read-only connection leaves them.
    flags |= SQLITE_OPEN_READWRITE;
  } else if (no_wal_content(path)) {
    // Cannot be written: the last connection closed cleanly (it checkpointed and removed the
    // -wal), so the file holds every commit; immutable reads it without creating -wal or -shm.
    flags |= SQLITE_OPEN_READONLY;
    uri += "?immutable=1";
  } else {
    // Commits may be in the -wal (a search killed before it closed): read through it, which
    // needs the -shm (SQLite creates it where it can, or fails naming the cause).
    flags |= SQLITE_OPEN_READONLY;
  }
  const bool had_wal = file_exists(path + "-wal"), had_shm = file_exists(path + "-shm");
  open_connection(uri, flags);
  if (access == Access::ReadWrite && sqlite3_db_readonly(db_, "main") == 1)
    close_and_throw(path + ": cannot be written (SQLite opened it read-only); make the file and its folder writable, or copy it and " +
                    "name the copy with --db");
  if (access == Access::ReadOnly && not_writable.empty()) exec("PRAGMA query_only=1");

  // Identify the file before writing anything to it.
  Identity id;
  try {
    id = identify();
  } catch (const UserError&) {
    // On a full disk a WAL file cannot be read as usual (SQLite cannot grow the -shm it creates
    // then), yet it is intact: without -wal content the file holds every commit, and a reader
    // reads it as immutable. What the failed attempt created is removed.
    if (!disk_nearly_full(path) || !no_wal_content(path)) throw;
    if (!had_wal) std::remove((path + "-wal").c_str());
    if (!had_shm) std::remove((path + "-shm").c_str());
    if (access == Access::ReadWrite) throw;
    open_connection(file_uri(path) + "?immutable=1", SQLITE_OPEN_URI | SQLITE_OPEN_READONLY);
    id = identify();
  }
  check_identity(id);
  if (access == Access::ReadWrite) {
    switch_to_wal();
    // In WAL mode, NORMAL commits survive a crash of the process (kill -9); only a power loss may
    // lose the last transactions, never consistency.
    exec("PRAGMA synchronous=NORMAL");
    if (!id.has_tables) {
      // Under the write lock, asked again: another search may have created the schema since the
      // file was found empty (then this one uses it, and never creates it twice).
      Transaction transaction(*this);
      id = identify();
      check_identity(id);
      if (!id.has_tables) {
        exec(kSchemaV1);
        exec(kSchemaV2Additions);
        exec(("PRAGMA application_id=" + std::to_string(kApplicationId)).c_str());
        exec(("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str());
        id.version = kSchemaVersion;
      }
      transaction.commit();
    }
  } else if (!id.has_tables) {
    close_and_throw(path + ": an empty database with no study in it");
  }
  schema_version_ = id.version;
}

void SqliteStorage::upgrade_schema() {
  // Called inside the lock's transaction: a failure rolls the whole upgrade back, and
  // schema_version_ changes once it is committed.
  if (schema_version_ < 2) exec(kSchemaV2Additions);
  exec(("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str());
}

void SqliteStorage::acquire_lock(const std::string& study) {
  const std::string host = host_name();
  const long long pid = ::getpid();
  const std::string me = process_identity(pid);
  Transaction transaction(*this);  // one writer from here: two searches cannot both find the study free
  const bool upgrade = schema_version_ < kSchemaVersion;
  if (upgrade) upgrade_schema();
  Statement q(*this, "SELECT host, pid, process, heartbeat_at FROM locks WHERE study = ?");
  q.bind(1, study);
  if (q.step()) {
    const std::string holder_host = q.text(0), holder_process = q.text(2);
    const long long holder_pid = q.integer(1);
    const double age = now_seconds() - q.real(3);
    // Same host: alive when that pid still runs with the same start time (a kill -9 leaves a
    // row whose process is gone, and the resume takes the study at once). Another host: only
    // the heartbeat can tell.
    const std::string holder_identity = holder_process.substr(0, holder_process.find('#'));
    const bool alive = holder_host == host
                           ? (holder_pid != pid && !holder_identity.empty() && process_identity(holder_pid) == holder_identity)
                           : age < kLockStaleSeconds;
    if (alive) {
      q.reset();
      throw UserError(
          path_ + ": study '" + study + "' is being searched by another hpsearch (host " + holder_host + ", pid " +
          std::to_string(holder_pid) + ", heartbeat " + format_age(age) + " ago); wait for it to end, or use another --study or --db" +
          (holder_host == host
               ? std::string()
               : " (a search on another host that died is taken over once its heartbeat is " + format_age(kLockStaleSeconds) + " old)"));
    }
  }
  Statement take(*this, "INSERT OR REPLACE INTO locks (study, host, pid, process, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?)");
  const double now = now_seconds();
  // The process identity plus a token of this acquisition: the holder's heartbeat finds out
  // whether the row is still its own, even against a takeover by the same process.
  const std::string token = me + "#" + std::to_string(std::random_device{}());
  take.bind(1, study).bind(2, host).bind(3, pid).bind(4, token).bind(5, now).bind(6, now);
  take.run();
  transaction.commit();
  lock_token_ = token;
  if (upgrade) schema_version_ = kSchemaVersion;
  lock_study_ = study;
}

void SqliteStorage::refresh_lock() {
  if (lock_study_.empty()) return;
  auto& up = prepared(Query::RefreshLock);
  up.bind(1, now_seconds()).bind(2, lock_study_).bind(3, lock_token_);
  up.run();
  if (sqlite3_changes(db_) == 0) {
    const std::string study = lock_study_;
    lock_study_.clear();
    throw Error(path_ + ": the lock of study '" + study + "' was taken over by another search (this one was silent for over " +
                format_age(kLockStaleSeconds) + "); stopping so that the two do not mix");
  }
}

void SqliteStorage::release_lock() {
  if (lock_study_.empty()) return;
  Statement del(*this, "DELETE FROM locks WHERE study = ? AND process = ?");
  del.bind(1, lock_study_).bind(2, lock_token_);
  del.run();
  lock_study_.clear();
}

SqliteStorage::~SqliteStorage() {
  try {
    release_lock();
  } catch (const std::exception&) {
    // A destructor must not throw; a lock left behind is taken over by the next search.
  }
  statements_.clear();
  if (db_) sqlite3_close(db_);
}

std::vector<StoredStudy> SqliteStorage::studies() const {
  Statement q(*this, "SELECT id, name, space_file, space_text, document, created_at FROM studies ORDER BY id");
  std::vector<StoredStudy> out;
  while (q.step()) {
    out.push_back({q.integer(0), q.text(1), q.text(2), q.text(3),
                   parse_user_json(q.text(4), path_ + ": the document of study '" + q.text(1) + "'"), q.real(5)});
  }
  return out;
}

std::optional<StoredStudy> SqliteStorage::find_study(const std::string& name) const {
  for (auto& s : studies()) {
    if (s.name == name) return s;
  }
  return std::nullopt;
}

StoredStudy SqliteStorage::create_study(const std::string& name, const std::string& space_file, const std::string& space_text,
                                        const json& document) {
  const double created = now_seconds();
  Statement insert(*this, "INSERT INTO studies (name, space_file, space_text, document, created_at) VALUES (?, ?, ?, ?, ?)");
  insert.bind(1, name).bind(2, space_file).bind(3, space_text).bind(4, document.dump()).bind(5, created);
  insert.run();
  return {sqlite3_last_insert_rowid(db_), name, space_file, space_text, document, created};
}

void SqliteStorage::update_study_document(const StoredStudy& study) {
  Statement up(*this, "UPDATE studies SET document = ? WHERE id = ?");
  up.bind(1, study.document.dump()).bind(2, study.id);
  up.run();
}

void SqliteStorage::open_study(const StoredStudy& study, ObjectiveMode mode, const std::string& objective_metric, std::size_t param_count) {
  study_id_ = study.id;
  objective_metric_ = objective_metric;
  history_ = StudyHistory{};
  history_.mode = mode;
  Statement q(*this, "SELECT number, state, params, value, error FROM trials WHERE study_id = ? ORDER BY number");
  q.bind(1, study.id);
  while (q.step()) {
    TrialRecord t;
    t.number = static_cast<int>(q.integer(0));
    t.state = trial_state_from_string(q.text(1));
    t.point = point_from_json(json::parse(q.text(2)));
    t.value = q.optional_real(3);
    t.error = q.text(4);
    if (t.point.size() != param_count) throw UserError(path_ + ": study '" + study.name + "' holds points of another space");
    if (static_cast<std::size_t>(t.number) != history_.trials.size())
      throw Error(path_ + ": trial numbers of study '" + study.name + "' are not contiguous");
    history_.trials.push_back(std::move(t));
  }
  Statement s(*this, "SELECT number, step, metrics FROM steps WHERE study_id = ? ORDER BY number, step");
  s.bind(1, study.id);
  while (s.step()) {
    const auto number = static_cast<std::size_t>(s.integer(0));
    const json metrics = json::parse(s.text(2));
    if (number < history_.trials.size() && metrics.contains(objective_metric) && metrics[objective_metric].is_number()) {
      history_.trials[number].intermediate.emplace_back(static_cast<int>(s.integer(1)), metrics[objective_metric].get<double>());
    }
  }
}

void SqliteStorage::start_trial(int number, const std::vector<double>& point, const json& config, int worker) {
  if (schema_version_ < kSchemaVersion)
    throw Error(path_ + ": schema " + std::to_string(schema_version_) + " is not writable before acquire_lock upgrades it");
  const auto index = static_cast<std::size_t>(number);
  const bool rerun = index < history_.trials.size();
  // Before anything is written: a refused call leaves the study as it was (storage.hpp).
  if (!rerun && index != history_.trials.size()) throw Error("start_trial: trial " + std::to_string(number) + " skips a number");
  // A trial whose run ended without a result (RUNNING: the search died; INTERRUPTED: a signal)
  // starts a new attempt, and the ended one is kept. A WAITING trial (a retry) was given its new
  // attempt number when its previous attempt ended.
  const TrialState before = rerun ? history_.trials[index].state : TrialState::Waiting;
  const bool new_attempt = rerun && (before == TrialState::Running || before == TrialState::Interrupted);
  auto& upsert = prepared(Query::InsertOrRestartTrial);
  upsert.bind(1, study_id_)
      .bind(2, number)
      .bind(3, point_to_json(point).dump())
      .bind(4, config.dump())
      .bind(5, now_seconds())
      .bind(6, worker);
  upsert.bind(7, new_attempt ? 1 : 0);
  if (!rerun) {
    upsert.run();  // one statement: its own transaction
  } else {
    // A trial run again starts with no steps: all changes in one transaction.
    Transaction transaction(*this);
    if (new_attempt) {
      auto& keep = prepared(Query::KeepEndedAttempt);
      keep.bind(1, std::string(before == TrialState::Interrupted ? "INTERRUPTED" : "KILLED"))
          .bind(2, std::string("the search ended while the trial ran (killed, crashed, or its node was lost)"))
          .bind(3, study_id_)
          .bind(4, number);
      keep.run();
    }
    auto& del = prepared(Query::DeleteSteps);
    del.bind(1, study_id_).bind(2, number);
    del.run();
    upsert.run();
    transaction.commit();
  }
  if (!rerun) history_.trials.emplace_back();
  history_.trials[index] = TrialRecord{number, TrialState::Running, point, std::nullopt, {}, {}};  // no value, steps or error yet
}

void SqliteStorage::retry_trial(int number, const std::string& ended_as, const std::string& error, const std::string& waiting_reason) {
  Transaction transaction(*this);
  Statement keep(*this,
                 "INSERT OR REPLACE INTO attempts (study_id, number, attempt, state, error, started_at, finished_at, worker) "
                 "SELECT study_id, number, attempt, ?, ?, started_at, ?, worker FROM trials WHERE study_id = ? AND number = ?");
  keep.bind(1, ended_as).bind(2, error).bind(3, now_seconds()).bind(4, study_id_).bind(5, number);
  keep.run();
  // The failed attempt's steps go with it: pruners must not compare with a run that is no more.
  auto& del = prepared(Query::DeleteSteps);
  del.bind(1, study_id_).bind(2, number);
  del.run();
  Statement up(*this,
               "UPDATE trials SET state = 'WAITING', attempt = attempt + 1, value = NULL, finished_at = NULL, error = ? "
               "WHERE study_id = ? AND number = ?");
  up.bind(1, waiting_reason).bind(2, study_id_).bind(3, number);
  up.run();
  transaction.commit();
  TrialRecord& t = history_.trials.at(static_cast<std::size_t>(number));
  t.state = TrialState::Waiting;
  t.value.reset();
  t.intermediate.clear();
  t.error = waiting_reason;
}

void SqliteStorage::interrupt_trials(const std::vector<int>& numbers, const std::string& reason) {
  if (numbers.empty()) return;
  Transaction transaction(*this);
  Statement up(*this, "UPDATE trials SET state = 'INTERRUPTED', error = ?, finished_at = ? WHERE study_id = ? AND number = ?");
  for (int number : numbers) {
    up.bind(1, reason).bind(2, now_seconds()).bind(3, study_id_).bind(4, number);
    up.run();
  }
  transaction.commit();
  for (int number : numbers) {
    TrialRecord& t = history_.trials.at(static_cast<std::size_t>(number));
    t.state = TrialState::Interrupted;
    t.error = reason;
  }
}

int SqliteStorage::attempts_ended_as(int number, const std::string& ended_as) const {
  if (schema_version_ < 2) return 0;
  Statement q(*this, "SELECT count(*) FROM attempts WHERE study_id = ? AND number = ? AND state = ?");
  q.bind(1, study_id_).bind(2, number).bind(3, ended_as);
  return q.step() ? static_cast<int>(q.integer(0)) : 0;
}

void SqliteStorage::record_step(int number, int step, const json& metrics) {
  // A single statement is its own transaction in SQLite.
  auto& ins = prepared(Query::InsertStep);
  ins.bind(1, study_id_).bind(2, number).bind(3, step).bind(4, metrics.dump()).bind(5, now_seconds());
  ins.run();
  if (metrics.contains(objective_metric_) && metrics[objective_metric_].is_number()) {
    history_.trials.at(static_cast<std::size_t>(number)).intermediate.emplace_back(step, metrics[objective_metric_].get<double>());
  }
}

void SqliteStorage::finish_trial(int number, TrialState state, std::optional<double> value, const std::string& error) {
  auto& up = prepared(Query::FinishTrial);
  up.bind(1, std::string(to_string(state))).bind(2, value).bind(3, error).bind(4, now_seconds()).bind(5, study_id_).bind(6, number);
  up.run();
  TrialRecord& t = history_.trials.at(static_cast<std::size_t>(number));
  t.state = state;
  t.value = value;
  t.error = error;
}

std::vector<TrialDetail> SqliteStorage::trial_details(const StoredStudy& study) const {
  std::vector<TrialDetail> out;
  // Version 1 files (read by summaries without an upgrade) have no attempts.
  const bool v2 = schema_version_ >= 2;
  Statement q(*this, v2 ? "SELECT number, state, config, value, started_at, finished_at, worker, error, params, attempt FROM trials WHERE "
                          "study_id = ? ORDER BY number"
                        : "SELECT number, state, config, value, started_at, finished_at, worker, error, params, 1 FROM trials WHERE "
                          "study_id = ? ORDER BY number");
  q.bind(1, study.id);
  while (q.step()) {
    TrialDetail d;
    d.number = static_cast<int>(q.integer(0));
    d.state = trial_state_from_string(q.text(1));
    d.config = json::parse(q.text(2));
    d.value = q.optional_real(3);
    d.started_at = q.optional_real(4);
    d.finished_at = q.optional_real(5);
    d.worker = static_cast<int>(q.integer(6));
    d.error = q.text(7);
    d.point = point_from_json(json::parse(q.text(8)));
    d.attempt = static_cast<int>(q.integer(9));
    out.push_back(std::move(d));
  }
  if (v2) {
    Statement a(
        *this,
        "SELECT number, attempt, state, error, started_at, finished_at, worker FROM attempts WHERE study_id = ? ORDER BY number, attempt");
    a.bind(1, study.id);
    std::size_t at = 0;
    while (a.step()) {
      const int number = static_cast<int>(a.integer(0));
      while (at < out.size() && out[at].number < number) ++at;
      if (at == out.size() || out[at].number != number) continue;
      json attempt = {{"attempt", a.integer(1)}, {"state", a.text(2)}, {"error", a.text(3)}, {"worker", a.integer(6)}};
      attempt["started_at"] = a.is_null(4) ? json(nullptr) : json(a.real(4));
      attempt["finished_at"] = a.is_null(5) ? json(nullptr) : json(a.real(5));
      out[at].attempts.push_back(std::move(attempt));
    }
  }
  Statement s(*this, "SELECT number, step, metrics FROM steps WHERE study_id = ? ORDER BY number, step");
  s.bind(1, study.id);
  std::size_t cursor = 0;
  while (s.step()) {
    const int number = static_cast<int>(s.integer(0));
    while (cursor < out.size() && out[cursor].number < number) ++cursor;
    if (cursor == out.size() || out[cursor].number != number) continue;
    json step = {{"step", s.integer(1)}};
    step.update(json::parse(s.text(2)));
    out[cursor].steps.push_back(std::move(step));
  }
  return out;
}

const char* sqlite_version() { return SQLITE_VERSION; }

}  // namespace hpsearch
