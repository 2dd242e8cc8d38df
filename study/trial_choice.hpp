#pragma once
// Finding one trial of a study in a database, as `best`, `describe --from` and `train --from`
// do: a study by name (or the only one), then a trial by number (or the best COMPLETE one), with
// its configuration exactly as its trainer received it. And where a trial's folder is.
#include <filesystem>
#include <optional>
#include <string>

#include "study/sqlite_storage.hpp"
#include "study/study_spec.hpp"

namespace hpsearch {

struct ChosenTrial {
  StoredStudy study;
  StudySpec spec;  // the study's stored space, checked
  TrialDetail trial;
  std::filesystem::path folder;  // the trial's folder (trial_folder below)
  // "runs.db (trial 4 of study 'x')": what names the configuration in messages.
  std::string source;
};

// Opens `db` read-only and picks the study `study_name`; when it is empty, the study named
// `default_name` if there is one, else the database's only study. Then trial `number`, which must
// be COMPLETE, or the best COMPLETE trial by the study's objective. Throws UserError, naming the
// database and what to do: no such study (the existing ones are listed), no such trial, a trial
// that is not COMPLETE, no COMPLETE trial yet.
ChosenTrial choose_trial(const std::string& db, const std::string& study_name, const std::string& default_name, std::optional<int> number);

// Where a search keeps the folders of the trials of `study` in the database `db`: next to it,
// DB-STEM_trials/STUDY/; trial k's folder is that / "k".
std::filesystem::path trial_root(const std::string& db, const std::string& study);
std::filesystem::path trial_folder(const std::string& db, const std::string& study, int number);

}  // namespace hpsearch
