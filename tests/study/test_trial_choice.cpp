// Choosing a trial of a study (best, describe --from, train --from) and what summarize says of
// it: the best COMPLETE trial or a named one, refusals that say what to do, the step a value came
// from (never step 0, the untrained model) and the trial's folder.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "core/errors.hpp"
#include "study/sqlite_storage.hpp"
#include "study/summary.hpp"
#include "study/trial_choice.hpp"
#include "temp_dir.hpp"

using namespace hpsearch;
using nlohmann::json;

namespace {

const json kDocument = json::parse(R"({"trainer": {"type": "synthetic", "function": "branin"}, "params": {"x": {"$uniform": [0, 1]}},
                                        "objective": {"metric": "loss", "mode": "min"}})");

// Study "s": trial 0 COMPLETE 0.5 (step 0 reported 0.1, untrained), 1 FAIL, 2 COMPLETE 0.3.
std::string make_database(const TempDir& dir) {
  const std::string db = dir.file("runs.db");
  SqliteStorage storage(db, SqliteStorage::Access::ReadWrite);
  auto study = storage.create_study("s", "s.json", kDocument.dump(), kDocument);
  storage.open_study(study, ObjectiveMode::Minimize, "loss", 1);
  storage.start_trial(0, {0.5}, json{{"x", 0.5}}, 1);
  storage.record_step(0, 0, json{{"loss", 0.1}});
  storage.record_step(0, 1, json{{"loss", 0.5}});
  storage.finish_trial(0, TrialState::Complete, 0.5, "");
  storage.start_trial(1, {0.1}, json{{"x", 0.1}}, 1);
  storage.finish_trial(1, TrialState::Fail, std::nullopt, "boom");
  storage.start_trial(2, {0.2}, json{{"x", 0.2}}, 1);
  storage.record_step(2, 1, json{{"loss", 0.4}});
  storage.record_step(2, 2, json{{"loss", 0.3}});
  storage.finish_trial(2, TrialState::Complete, 0.3, "");
  return db;
}

std::string refusal(const std::string& db, const std::string& study, std::optional<int> number) {
  try {
    choose_trial(db, study, "", number);
  } catch (const UserError& e) {
    return e.what();
  }
  return "(accepted)";
}

}  // namespace

TEST(TrialChoice, TheBestCompleteTrialOrANamedOneWithItsConfigurationAndFolder) {
  TempDir dir;
  const std::string db = make_database(dir);
  const ChosenTrial best = choose_trial(db, "", "", std::nullopt);
  EXPECT_EQ(best.trial.number, 2);
  EXPECT_EQ(best.trial.config, (json{{"x", 0.2}}));
  EXPECT_EQ(best.folder, std::filesystem::path(dir.file("runs_trials")) / "s" / "2");
  EXPECT_EQ(choose_trial(db, "s", "", 0).trial.number, 0);
  EXPECT_EQ(choose_trial(db, "", "other", std::nullopt).study.name, "s") << "the only study when the default name is absent";
}

TEST(TrialChoice, RefusalsSayWhatIsWrongAndWhatExists) {
  TempDir dir;
  const std::string db = make_database(dir);
  EXPECT_EQ(refusal(db, "nope", std::nullopt), db + ": --study nope: no such study (it holds s)");
  EXPECT_EQ(refusal(db, "", 7), db + ": study 's' has no trial 7 (its trials are 0 to 2)");
  EXPECT_NE(refusal(db, "", 1).find(db + ": trial 1 of study 's' is FAIL, not COMPLETE"), std::string::npos) << refusal(db, "", 1);
}

TEST(TrialChoice, SummaryShowsTheStepOfTheValueAndTheFolder) {
  TempDir dir;
  const std::string db = make_database(dir);
  std::filesystem::create_directories(trial_folder(db, "s", 0));
  SummaryOptions options;
  options.db_path = db;
  options.format = "json";
  std::ostringstream out;
  summarize(options, out);
  const json s = json::parse(out.str());
  EXPECT_EQ(s["trials"][0]["step"], 1) << "step 0 reported a better loss, but it is not the value's";
  EXPECT_EQ(s["trials"][2]["step"], 2);
  EXPECT_TRUE(s["trials"][1]["step"].is_null());
  EXPECT_EQ(s["trials"][0]["folder"], trial_folder(db, "s", 0).string());
  EXPECT_TRUE(s["trials"][2]["folder"].is_null()) << "no folder was made for it";
  EXPECT_EQ(s["best"]["number"], 2);
  options.format = "table";
  std::ostringstream table;
  summarize(options, table);
  EXPECT_NE(table.str().find("best: trial 2, loss = 0.3 at step 2\n"), std::string::npos) << table.str();
}
