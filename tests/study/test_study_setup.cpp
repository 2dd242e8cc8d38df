// prepare_study: which run may create, continue or resume which study, and that a refused request
// leaves the database as it was (or absent).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "core/errors.hpp"
#include "study/study_setup.hpp"
#include "temp_dir.hpp"

using namespace hpsearch;
using nlohmann::json;

namespace {

const json kSpace = json::parse(R"({"trainer": {"type": "synthetic", "function": "branin"}, "trials": 5,
                                    "params": {"x1": {"$uniform": [-5, 10]}, "x2": {"$uniform": [0, 15]}}})");

const TrainerCheck kAnyTrainer = [](const StudySpec&) -> const settings::Table* { return nullptr; };

std::string bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string refusal(const StudyRequest& request, const TrainerCheck& check = kAnyTrainer) {
  try {
    prepare_study(request, check);
  } catch (const UserError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST(StudySetup, ANewStudyIsCreatedWithADrawnSeedStored) {
  TempDir dir;
  const StudyRequest request{dir.space("s.json", kSpace), dir.file("runs.db"), "s", false, {}, 0};
  const PreparedStudy p = prepare_study(request, kAnyTrainer);
  EXPECT_EQ(p.study.name, "s");
  EXPECT_EQ(p.spec.trials, 5);
  ASSERT_TRUE(p.spec.sampler.contains("seed"));
  const auto stored = p.storage->find_study("s");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->document["sampler"]["seed"], p.spec.sampler["seed"]) << "the drawn seed is the stored one";
  EXPECT_EQ(stored->document["sampler"]["type"], "random");
  EXPECT_EQ(stored->space_file, request.space_file);
}

TEST(StudySetup, TheSameCommandAgainContinuesTheStudyWithItsSeed) {
  TempDir dir;
  const StudyRequest request{dir.space("s.json", kSpace), dir.file("runs.db"), "s", false, {}, 0};
  json first_seed;
  long long first_id = 0;
  {
    const PreparedStudy first = prepare_study(request, kAnyTrainer);
    first_seed = first.spec.sampler["seed"];
    first_id = first.study.id;
  }  // its lock is released here
  StudyRequest more = request;
  more.overrides = {{"trials", "9"}};  // trials may change from one run to the next
  const PreparedStudy again = prepare_study(more, kAnyTrainer);
  EXPECT_EQ(again.study.id, first_id);
  EXPECT_EQ(again.spec.sampler["seed"], first_seed);
  EXPECT_EQ(again.spec.trials, 9);
  EXPECT_EQ(again.storage->find_study("s")->document["trials"], 9) << "more trials are stored";
  EXPECT_EQ(again.storage->studies().size(), 1u);
}

TEST(StudySetup, ADifferentSpaceIsRefusedNamingThePathsAndValuesAndChangesNothing) {
  TempDir dir;
  const std::string db = dir.file("runs.db");
  { prepare_study({dir.space("s.json", kSpace), db, "s", false, {}, 0}, kAnyTrainer); }
  const std::string before = bytes_of(db);
  json other = kSpace;
  other["params"]["x2"] = {{"$uniform", {0, 1}}};
  other["objective"] = {{"metric", "value"}, {"mode", "max"}};
  const std::string other_file = dir.space("other.json", other);
  EXPECT_EQ(refusal({other_file, db, "s", false, {}, 0}),
            db + ": study 's' was made from another space (params.x2: {\"$uniform\":[0,15]} in the database, {\"$uniform\":[0,1]} in " +
                other_file + "; objective: absent in the database, {\"metric\":\"value\",\"mode\":\"max\"} in " + other_file +
                "); use --study NEW_NAME or another --db to start a new study");
  EXPECT_EQ(bytes_of(db), before) << "a refused search leaves the database as it was";
  // A resume that changes the space by --set is refused the same way.
  EXPECT_NE(refusal({"", db, "", true, {{"params.x1", R"({"$uniform": [0, 2]})"}}, 0})
                .find("(params.x1: {\"$uniform\":[-5,10]} in the database, {\"$uniform\":[0,2]} in this resume)"),
            std::string::npos);
  EXPECT_EQ(bytes_of(db), before);
}

TEST(StudySetup, AResumeContinuesTheStoredSpaceAndNeedsStudyWhenThereAreSeveral) {
  TempDir dir;
  const std::string db = dir.file("runs.db"), space = dir.space("s.json", kSpace);
  json a_seed;
  {
    const PreparedStudy a = prepare_study({space, db, "a", false, {}, 0}, kAnyTrainer);
    a_seed = a.spec.sampler["seed"];
  }
  {
    // One study: a resume needs no name.
    const PreparedStudy resumed = prepare_study({"", db, "", true, {}, 0}, kAnyTrainer);
    EXPECT_EQ(resumed.study.name, "a");
    EXPECT_EQ(resumed.spec.sampler["seed"], a_seed);
    EXPECT_EQ(resumed.spec.source, db + " (study 'a')");
  }
  { prepare_study({space, db, "b", false, {}, 0}, kAnyTrainer); }
  const std::string before = bytes_of(db);
  EXPECT_EQ(refusal({"", db, "", true, {}, 0}), db + ": holds several studies (a, b); name one with --study");
  EXPECT_EQ(refusal({"", db, "c", true, {}, 0}), db + ": --study c: no such study (it holds a, b)");
  EXPECT_EQ(bytes_of(db), before);
  const PreparedStudy b = prepare_study({"", db, "b", true, {{"trials", "7"}}, 0}, kAnyTrainer);
  EXPECT_EQ(b.study.name, "b");
  EXPECT_EQ(b.spec.trials, 7);
}

TEST(StudySetup, ARefusedRequestWritesNothing) {
  TempDir dir;
  const std::string db = dir.file("runs.db"), space = dir.space("s.json", kSpace);
  // The trainer's check refuses: no database is created.
  const TrainerCheck refuse = [](const StudySpec& spec) -> const settings::Table* {
    throw FileError(spec.source, "trainer.function", "unknown");
  };
  EXPECT_EQ(refusal({space, db, "s", false, {}, 0}, refuse), space + ": trainer.function: unknown");
  EXPECT_FALSE(std::filesystem::exists(db));
  // The sampler's settings are checked before the database is opened too.
  EXPECT_NE(refusal({space, db, "s", false, {{"sampler.type", "grid"}}, 0}), "no error");
  EXPECT_FALSE(std::filesystem::exists(db));
  // Groups of 2 ranks cannot be formed from 3 worker ranks.
  EXPECT_EQ(refusal({space, db, "s", false, {{"resources.gpus_per_trial", "2"}}, 3}),
            "--gpus-per-trial 2 (resources.gpus_per_trial of " + space +
                "): the 3 worker ranks do not form whole groups; start 1 + a multiple of 2 ranks (mpirun -np 3, 5, ...)");
  EXPECT_FALSE(std::filesystem::exists(db));
  // A resume of a database that does not exist does not create it.
  EXPECT_NE(refusal({"", db, "", true, {}, 0}), "no error");
  EXPECT_FALSE(std::filesystem::exists(db));
  // With groups that fit, the study is created.
  const PreparedStudy p = prepare_study({space, db, "s", false, {{"resources.gpus_per_trial", "2"}}, 4}, kAnyTrainer);
  EXPECT_EQ(p.spec.gpus_per_trial, 2);
  EXPECT_TRUE(std::filesystem::exists(db));
}

TEST(StudySetup, WithoutRunSettingsKeepsWhatMustMatch) {
  const json document = json::parse(R"({"trials": 3, "retries": {"failed": 1}, "resources": {"gpus_per_trial": 2}, "params": {}})");
  EXPECT_EQ(without_run_settings(document), json::parse(R"({"params": {}, "sampler": {"type": "random"}})"));
}

// --more N counts from the finished trials; a study that already has the trials asked for has
// nothing to do, and its stored "trials" is left as it was.
TEST(StudySetup, MoreCountsFromTheFinishedTrialsAndFewerTrialsLeaveTheStudyAlone) {
  TempDir dir;
  const StudyRequest request{dir.space("s.json", kSpace), dir.file("runs.db"), "s", false, {}, 0};
  {
    const PreparedStudy first = prepare_study(request, kAnyTrainer);
    for (int n = 0; n < 3; ++n) {
      first.storage->start_trial(n, {0.5, 0.5}, json::object(), 1);
      first.storage->finish_trial(n, TrialState::Complete, 1.0 + n, "");
    }
    EXPECT_EQ(first.finished_before, 0);
    EXPECT_FALSE(first.nothing_to_do);
  }
  StudyRequest fewer = request;
  fewer.overrides = {{"trials", "2"}};
  {
    const PreparedStudy p = prepare_study(fewer, kAnyTrainer);
    EXPECT_EQ(p.finished_before, 3);
    EXPECT_TRUE(p.nothing_to_do);
    EXPECT_EQ(p.storage->find_study("s")->document["trials"], 5) << "a smaller trials is not stored";
  }
  StudyRequest more = request;
  more.more_trials = 4;
  const PreparedStudy p = prepare_study(more, kAnyTrainer);
  EXPECT_FALSE(p.nothing_to_do);
  EXPECT_EQ(p.spec.trials, 7);
  EXPECT_EQ(p.storage->find_study("s")->document["trials"], 7);
}

TEST(StudySetup, TheTrainersConstantsAreCheckedBeforeAnythingIsWritten) {
  TempDir dir;
  const std::string db = dir.file("runs.db");
  static const settings::Table configuration{
      "test configuration",
      {settings::integer("epochs", 1, "epochs", 1), settings::number("x1", 0, "x1"), settings::number("x2", 0, "x2")}};
  const TrainerCheck reads_epochs = [](const StudySpec&) -> const settings::Table* { return &configuration; };
  json space = kSpace;
  space["params"]["epochs"] = 3;
  const std::string file = dir.space("s.json", space);
  EXPECT_EQ(refusal({file, db, "s", false, {{"params.epochs", "two"}}, 0}, reads_epochs),
            "--set params.epochs=two: must be an integer >= 1, got \"two\"");
  EXPECT_EQ(refusal({file, db, "s", false, {{"params.epoch", "2"}}, 0}, reads_epochs),
            "--set params.epoch=2: unknown setting of the test configuration (it takes epochs, x1 and x2)");
  space["params"]["epochs"] = 0;
  const std::string zero = dir.space("zero.json", space);
  EXPECT_EQ(refusal({zero, db, "s", false, {}, 0}, reads_epochs), zero + ": params.epochs: must be an integer >= 1, got 0");
  EXPECT_FALSE(std::filesystem::exists(db));
  EXPECT_EQ(refusal({file, db, "s", false, {}, 0}, reads_epochs), "no error");
}
