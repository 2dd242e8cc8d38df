#pragma once
// Preparing a search: a new study from a space file, the same study again (it goes on), or a
// resume from the space stored in the database. Every rule of which run may continue which study
// lives here, not in the command line:
//   - a study is found by name (resume: the database's only study, or --study);
//   - the same space again continues the study, with the sampler seed it was given; a space that
//     differs in anything but trials, retries and resources is refused (it would mix two searches
//     in one study), naming the first paths that differ with both values;
//   - a new study without sampler.seed gets a drawn one, stored with it, so that a resume samples
//     what the first run would have;
//   - the study's lock is taken before the study is created or changed (a second search of the
//     same study is refused while the first lives).
// Nothing is written before every check passed: the spec, the trainer's settings (check_trainer)
// and the constants of params against the keys the trainer reads, the sampler's and the group size
// are checked first, and a refused request leaves the database as it was (or absent). An error
// about a value that --set gave names that flag.
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "study/sqlite_storage.hpp"
#include "study/study_spec.hpp"

namespace hpsearch {

struct StudyRequest {
  std::string space_file;  // a new search: the space file; empty for a resume
  std::string db;          // the database file
  std::string study;       // the study's name; empty for a resume: the database's only study
  bool resume = false;     // the space is the one stored in the database
  Overrides overrides;     // --set ("dotted.path", "VALUE"), applied in order
  // Worker ranks of this run (mpirun -np minus the master): with groups (resources.gpus_per_trial
  // G > 0) they must form whole groups of G.
  int worker_ranks = 0;
  // --more N: the study's trials become its finished ones plus N (instead of "trials").
  std::optional<int> more_trials = std::nullopt;
};

struct PreparedStudy {
  StudySpec spec;                          // the study as it runs now (its stored document, with this run's settings)
  std::unique_ptr<SqliteStorage> storage;  // open, the study locked (released when destroyed) and opened
  StoredStudy study;                       // its row; study.name is the study's name, also for a resume
  int finished_before = 0;                 // its trials finished (COMPLETE, PRUNED, FAIL) before this run
  // The study already has spec.trials finished trials and none to run again: nothing is run, and
  // its stored document is left as it was (a smaller "trials" is not stored).
  bool nothing_to_do = false;
};

// Checks what the study library cannot: the trainer's settings (trainers/torch's check_trainer),
// given the spec; throws UserError. Returns the table of the configuration keys the trainer reads,
// against which the constants of params are checked, or null when it takes any configuration (a
// command's script). Called before anything is written.
using TrainerCheck = std::function<const settings::Table*(const StudySpec& spec)>;

// Throws UserError (exit 2) for any refusal, having written nothing.
PreparedStudy prepare_study(const StudyRequest& request, const TrainerCheck& check_trainer);

// The parts of a study's document that may change from one run to the next (trials, retries,
// resources) taken out, and the default sampler filled in: what must match for a run to continue a study.
nlohmann::json without_run_settings(nlohmann::json document);

// The study named `name` among the `studies` of the database `db`, or its only study when `name`
// is empty. UserError listing the studies it holds when there is no such study (a typo) or
// several to choose from: what resume, summarize and train --from say alike.
StoredStudy choose_study(const std::vector<StoredStudy>& studies, const std::string& db, const std::string& name);

}  // namespace hpsearch
