#pragma once
// The study database: SQLite, one writer (the master), WAL mode, every state change in its own
// transaction, so that a kill at any moment leaves a consistent file.
//
// Tables (schema version kSchemaVersion, kept in PRAGMA user_version; PRAGMA application_id marks
// the file as hpsearch's):
//   studies(id, name UNIQUE, space_file, space_text, document, created_at)
//       document: the space file after --set overrides, with the sampler seed filled in.
//   trials(study_id, number, state, params, config, value, started_at, finished_at, worker, error)
//       params: the sampler's internal values (JSON array, null where inactive);
//       config: the resolved configuration the trainer received.
//   steps(study_id, number, step, metrics, reported_at)
//
// The history of the open study is mirrored in memory (history()): samplers read it at memory
// speed, and it is rebuilt from the tables alone when a search is resumed.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "search/history.hpp"

struct sqlite3;

namespace hpsearch {

constexpr int kSchemaVersion = 1;

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
  std::vector<double> params;  // internal values
  nlohmann::json config;
  std::optional<double> value;
  std::optional<double> started_at, finished_at;
  int worker = 0;
  std::string error;
  std::vector<nlohmann::json> steps;  // {"step": k, METRIC: v, ...}
};

class SqliteStorage : public HistorySource {
 public:
  enum class Access { ReadWrite, ReadOnly };
  // ReadWrite creates the file when absent. Throws UserError naming the file when it is not an
  // hpsearch database, was written by a newer hpsearch, or (ReadOnly) does not exist.
  SqliteStorage(const std::string& path, Access access);
  ~SqliteStorage() override;
  SqliteStorage(const SqliteStorage&) = delete;
  SqliteStorage& operator=(const SqliteStorage&) = delete;

  const std::string& path() const { return path_; }
  std::vector<StoredStudy> studies() const;
  std::optional<StoredStudy> find_study(const std::string& name) const;
  StoredStudy create_study(const std::string& name, const std::string& space_file, const std::string& space_text,
                           const nlohmann::json& document);

  // Makes `study` the open study and loads its history: `mode` and `objective_metric` say how to
  // read values, `param_count` checks the stored points against the space.
  void open_study(const StoredStudy& study, ObjectiveMode mode, const std::string& objective_metric, std::size_t param_count);
  const StudyHistory& history() const override { return history_; }

  // State changes of the open study, each one transaction.
  void start_trial(int number, const std::vector<double>& params, const nlohmann::json& config, int worker);
  void record_step(int number, int step, const nlohmann::json& metrics);
  void finish_trial(int number, TrialState state, std::optional<double> value, const std::string& error);

  // Everything about every trial of `study`, for summaries.
  std::vector<TrialDetail> trial_details(const StoredStudy& study) const;

 private:
  class Statement;
  void exec(const char* sql) const;
  [[noreturn]] void fail(const std::string& what) const;
  Statement& cached(int slot, const char* sql);

  std::string path_;
  sqlite3* db_ = nullptr;
  long long study_id_ = 0;
  std::string objective_metric_;
  StudyHistory history_;
  std::vector<std::unique_ptr<Statement>> statements_;
};

}  // namespace hpsearch
