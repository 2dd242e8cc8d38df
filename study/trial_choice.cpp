#include "study/trial_choice.hpp"

#include <cmath>

#include "core/errors.hpp"
#include "study/study_setup.hpp"

namespace hpsearch {

namespace {

// Without --study: the study named as the space file when there is one, else as choose_study.
StoredStudy pick_study(const SqliteStorage& storage, const std::string& db, const std::string& study_name,
                       const std::string& default_name) {
  if (study_name.empty() && !default_name.empty()) {
    if (auto found = storage.find_study(default_name)) return *found;
  }
  return choose_study(storage.studies(), db, study_name);
}

}  // namespace

std::filesystem::path trial_root(const std::string& db, const std::string& study) {
  const std::filesystem::path path(db);
  return path.parent_path() / (path.stem().string() + "_trials") / study;
}

std::filesystem::path trial_folder(const std::string& db, const std::string& study, int number) {
  return trial_root(db, study) / std::to_string(number);
}

ChosenTrial choose_trial(const std::string& db, const std::string& study_name, const std::string& default_name, std::optional<int> number) {
  SqliteStorage storage(db, SqliteStorage::Access::ReadOnly);
  ChosenTrial chosen;
  chosen.study = pick_study(storage, db, study_name, default_name);
  const std::string& name = chosen.study.name;
  chosen.spec = StudySpec::from_document(chosen.study.document, db + " (study " + name + ")", chosen.study.space_text);
  const bool maximize = chosen.spec.mode == ObjectiveMode::Maximize;
  std::optional<TrialDetail> found;
  const auto trials = storage.trial_details(chosen.study);
  if (number) {
    for (const TrialDetail& t : trials)
      if (t.number == *number) found = t;
    if (!found) {
      throw UserError(db + ": study '" + name + "' has no trial " + std::to_string(*number) +
                      (trials.empty() ? " (it has no trial yet)" : " (its trials are 0 to " + std::to_string(trials.size() - 1) + ")"));
    }
    if (found->state != TrialState::Complete || !found->value) {
      throw UserError(db + ": trial " + std::to_string(*number) + " of study '" + name + "' is " + to_string(found->state) +
                      ", not COMPLETE; choose a COMPLETE one (hpsearch summarize " + db +
                      " lists them), or leave out --trial for the best");
    }
  } else {
    for (const TrialDetail& t : trials) {
      if (t.state != TrialState::Complete || !t.value || !std::isfinite(*t.value)) continue;
      if (!found || (maximize ? *t.value > *found->value : *t.value < *found->value)) found = t;
    }
    if (!found) throw UserError(db + ": study '" + name + "' has no COMPLETE trial with a value yet");
  }
  chosen.trial = std::move(*found);
  chosen.folder = trial_folder(db, name, chosen.trial.number);
  chosen.source = db + " (trial " + std::to_string(chosen.trial.number) + " of study '" + name + "')";
  return chosen;
}

}  // namespace hpsearch
