#include "study/study_setup.hpp"

#include <optional>
#include <random>

#include "core/errors.hpp"
#include "core/json_input.hpp"
#include "search/sampler.hpp"

namespace hpsearch {

using nlohmann::json;

json without_run_settings(json document) {
  document.erase("trials");
  document.erase("retries");
  document.erase("resources");  // how many GPUs train a trial does not change what the study searches
  if (!document.contains("sampler")) document["sampler"] = json{{"type", "random"}};
  return document;
}

namespace {

std::string study_names(const std::vector<StoredStudy>& studies) {
  std::string names;
  for (std::size_t i = 0; i < studies.size() && i < 10; ++i) names += (i == 0 ? "" : ", ") + quoted_text(studies[i].name, 60);
  if (studies.size() > 10) names += ", ... (" + std::to_string(studies.size()) + " in all)";
  return names;
}

}  // namespace

StoredStudy choose_study(const std::vector<StoredStudy>& studies, const std::string& db, const std::string& name) {
  if (studies.empty()) throw UserError(db + ": holds no study yet (a search with --db " + db + " makes one)");
  if (name.empty()) {
    if (studies.size() > 1) throw UserError(db + ": holds several studies (" + study_names(studies) + "); name one with --study");
    return studies.front();
  }
  for (const auto& s : studies) {
    if (s.name == name) return s;
  }
  throw UserError(db + ": --study " + quoted_text(name, 60) + ": no such study (it holds " + study_names(studies) + ")");
}

namespace {

// The study a resume continues: the one named, or the database's only one. Reads the file without
// writing to it (a refused resume leaves it as it was).
StoredStudy study_to_resume(const StudyRequest& request) {
  return choose_study(SqliteStorage(request.db, SqliteStorage::Access::ReadOnly).studies(), request.db, request.study);
}

// Same study again: it goes on, with the seed it was given (filled into `document` when the run
// names none). Anything else that differs from the stored space (the number of trials and retries
// aside) would mix two searches in one study.
void check_same_space(const StoredStudy& stored_study, json& document, const StudyRequest& request) {
  // A space without a sampler has the default one, as a new study stores it (else the seed below
  // would make {"seed": S} of it, and the same command again would be refused as another space).
  if (!document.contains("sampler")) document["sampler"] = json{{"type", "random"}};
  if (!document["sampler"].contains("seed") && stored_study.document.contains("sampler")) {
    document["sampler"]["seed"] = stored_study.document["sampler"].value("seed", 0);
  }
  const json stored = without_run_settings(stored_study.document), asked = without_run_settings(document);
  if (stored == asked) return;
  // The space file, or "this run" where --set (or --seed) changed it: a value may be either's.
  const std::string asked_name = request.resume ? "this resume" : request.overrides.empty() ? request.space_file : "this run";
  throw UserError(request.db + ": study '" + stored_study.name + "' was made from another space (" +
                  json_differences(stored, asked, "the database", asked_name) +
                  "); use --study NEW_NAME or another --db to start a new study");
}

}  // namespace

namespace {
PreparedStudy prepare_study_unguarded(const StudyRequest& request, const TrainerCheck& check_trainer);
}  // namespace

PreparedStudy prepare_study(const StudyRequest& request, const TrainerCheck& check_trainer) {
  try {
    return prepare_study_unguarded(request, check_trainer);
  } catch (const SqliteError& e) {
    // Nothing of this search is written yet (each write failed or was rolled back): a full disk or
    // a file turned read-only is the user's to fix, and the message says how (exit 2).
    if (e.disk_full_or_read_only()) throw UserError(e.what());
    throw;
  }
}

namespace {

PreparedStudy prepare_study_unguarded(const StudyRequest& request, const TrainerCheck& check_trainer) {
  // 1. The study as asked: the space file, or the stored document, with the --set overrides.
  PreparedStudy p;
  json document;
  std::string name = request.study, source, space_file, space_text;
  std::optional<StoredStudy> existing;
  if (request.resume) {
    existing = study_to_resume(request);
    name = existing->name;
    document = existing->document;
    source = request.db + " (study '" + name + "')";
    space_file = existing->space_file;
    space_text = existing->space_text;
    for (const auto& [key, value] : request.overrides) apply_override(document, key, value);
  } else {
    const StudySpec loaded = StudySpec::load(request.space_file, request.overrides);
    document = loaded.document;
    source = space_file = request.space_file;
    space_text = loaded.file_text;
  }

  // 2. Every check that needs no database: the spec, the trainer and the constants it reads, the
  // sampler, the groups; an error about a value --set gave names the flag.
  name_overrides_in_errors(request.overrides, [&] {
    p.spec = StudySpec::from_document(document, source, space_text);
    // Data loads later, on the workers; the constants are checked here, not by each failing trial.
    if (const settings::Table* configuration = check_trainer(p.spec)) check_constant_params(document["params"], *configuration, source);
    make_sampler(p.spec.sampler, p.spec.space, p.spec.source);
  });
  if (const int g = p.spec.gpus_per_trial; g > 0 && request.worker_ranks % g != 0) {
    throw UserError("--gpus-per-trial " + std::to_string(g) + " (resources.gpus_per_trial of " + p.spec.source + "): the " +
                    std::to_string(request.worker_ranks) + " worker ranks do not form whole groups; start 1 + a multiple of " +
                    std::to_string(g) + " ranks (mpirun -np " + std::to_string(1 + g) + ", " + std::to_string(1 + 2 * g) + ", ...)");
  }

  // 3. The database: the same space as the stored study, if any, before the lock is taken.
  p.storage = std::make_unique<SqliteStorage>(request.db, SqliteStorage::Access::ReadWrite);
  if (!request.resume) existing = p.storage->find_study(name);
  if (existing) check_same_space(*existing, document, request);
  // 4. From here on this search owns the study (a second search of it is refused, exit 2); taking
  // the lock upgrades an older schema, in the same transaction.
  p.storage->acquire_lock(name);
  if (!existing && (existing = p.storage->find_study(name))) check_same_space(*existing, document, request);  // created meanwhile

  // 5. The study continued (more trials, other retries stored) or created, with a drawn seed. Its
  // trials so far are read first: --more counts from them, and a study that already has the
  // trials asked for is left as it was (nothing to do).
  if (existing) {
    p.study = *existing;
    p.storage->open_study(p.study, p.spec.mode, p.spec.objective_metric, p.spec.space.size());
    bool unfinished = false;
    for (const auto& t : p.storage->history().trials) {
      p.finished_before += is_finished(t.state) ? 1 : 0;
      unfinished = unfinished || !is_finished(t.state);
    }
    document["trials"] = request.more_trials ? p.finished_before + *request.more_trials : p.spec.trials;
    p.nothing_to_do = !unfinished && p.finished_before >= document["trials"].get<int>();
    p.study.document = document;
    if (document != existing->document && !p.nothing_to_do) p.storage->update_study_document(p.study);
    p.spec = StudySpec::from_document(document, source, space_text);
    return p;
  }
  if (request.more_trials) document["trials"] = *request.more_trials;
  if (!document["sampler"].is_object()) document["sampler"] = json{{"type", "random"}};
  if (!document["sampler"].contains("seed")) document["sampler"]["seed"] = std::random_device{}() & 0x7fffffff;
  p.study = p.storage->create_study(name, space_file, space_text, document);
  p.spec = StudySpec::from_document(document, source, space_text);
  p.storage->open_study(p.study, p.spec.mode, p.spec.objective_metric, p.spec.space.size());
  return p;
}

}  // namespace

}  // namespace hpsearch
