// Space files as a whole: top-level keys, objective, --set overrides.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/errors.hpp"
#include "core/settings.hpp"
#include "study/study_spec.hpp"

using namespace hpsearch;
using nlohmann::json;

namespace {

std::string error_of(const json& document) {
  try {
    StudySpec::from_document(document, "s.json", "");
  } catch (const UserError& e) {
    return e.what();
  }
  return "no error";
}

const json kMinimal = json::parse(R"({"trainer": {"type": "synthetic", "function": "branin"}, "params": {"x1": {"$uniform": [-5, 10]}}})");

}  // namespace

TEST(StudySpec, DefaultsWhenOptionalKeysAreAbsent) {
  const auto spec = StudySpec::from_document(kMinimal, "s.json", "");
  EXPECT_EQ(spec.objective_metric, "value");
  EXPECT_EQ(spec.mode, ObjectiveMode::Minimize);
  EXPECT_EQ(spec.trials, 100);
  EXPECT_EQ(spec.sampler, json({{"type", "random"}}));
  EXPECT_EQ(spec.space.size(), 1u);
}

TEST(StudySpec, RejectsUnknownAndInvalidTopLevelKeys) {
  json d = kMinimal;
  d["sampelr"] = json::object();
  EXPECT_EQ(error_of(d),
            "s.json: sampelr: unknown key of the space file (it takes trainer, params, objective, trials, sampler, pruner, retries, "
            "resources and description)");
  d = kMinimal;
  d["objective"] = {{"metric", "acc"}, {"mode", "maximize"}};
  EXPECT_EQ(error_of(d), "s.json: objective.mode: must be \"min\" or \"max\", got \"maximize\"");
  d = kMinimal;
  d["trials"] = 2.5;
  EXPECT_EQ(error_of(d), "s.json: trials: must be an integer in [1, 100000000], got 2.5");
  d = kMinimal;
  d.erase("trainer");
  EXPECT_EQ(error_of(d).rfind("s.json: trainer: is required", 0), 0u);
  d = kMinimal;
  d["params"] = json::array();
  EXPECT_EQ(error_of(d), "s.json: params: must be an object mapping names to values or distributions");
}

TEST(StudySpec, ObjectiveAndDescription) {
  json d = kMinimal;
  d["objective"] = {{"metric", "accuracy"}, {"mode", "max"}};
  const auto spec = StudySpec::from_document(d, "s.json", "");
  EXPECT_EQ(spec.objective_metric, "accuracy");
  EXPECT_EQ(spec.mode, ObjectiveMode::Maximize);
  d["objective"] = {{"mode", "max"}};
  EXPECT_EQ(StudySpec::from_document(d, "s.json", "").objective_metric, "value") << "the metric keeps its default";
  d["objective"] = {{"metrc", "accuracy"}};
  EXPECT_EQ(error_of(d), "s.json: objective.metrc: unknown setting of the space file's objective (it takes metric, mode and use)");
  d["objective"] = {{"metric", ""}};
  EXPECT_EQ(error_of(d), "s.json: objective.metric: must be the name of a reported metric, e.g. \"valid_loss\"");
  d["objective"] = {{"metric", 3}};
  EXPECT_EQ(error_of(d), "s.json: objective.metric: must be a string, got 3");
  d["objective"] = "min";
  EXPECT_EQ(error_of(d), "s.json: objective: must be an object such as {\"metric\": \"valid_loss\", \"mode\": \"min\"}, got \"min\"");
  d = kMinimal;
  d["description"] = 3;
  EXPECT_EQ(error_of(d), "s.json: description: must be a string, got 3");
  d["description"] = "branin, random";
  EXPECT_EQ(error_of(d), "no error");
  d = kMinimal;
  d.erase("params");
  EXPECT_EQ(error_of(d),
            "s.json: params: is required: the parameters to search: the configuration, with distributions where it is searched");
  d = kMinimal;
  d["pruner"] = {{"type", "median"}, {"warmup", 1}};
  EXPECT_EQ(error_of(d).rfind("s.json: pruner.warmup: unknown setting of the median pruner", 0), 0u)
      << "the pruner is checked with the spec";
}

TEST(StudySpec, GpusPerTrial) {
  json d = kMinimal;
  EXPECT_EQ(StudySpec::from_document(d, "s.json", "").gpus_per_trial, 0) << "no groups unless asked";
  d["resources"] = {{"gpus_per_trial", 4}};
  EXPECT_EQ(StudySpec::from_document(d, "s.json", "").gpus_per_trial, 4);
  d["resources"] = {{"gpus_per_trial", 1.5}};
  EXPECT_EQ(error_of(d), "s.json: resources.gpus_per_trial: must be an integer in [0, 4096], got 1.5");
  d["resources"] = {{"gpus", 2}};
  EXPECT_EQ(error_of(d), "s.json: resources.gpus: unknown setting of the space file's resources (it takes gpus_per_trial)");
  d["resources"] = 2;
  EXPECT_EQ(error_of(d), "s.json: resources: must be an object such as {\"gpus_per_trial\": 2}, got 2");
}

TEST(StudySpec, RetriesOfFailedTrials) {
  json d = kMinimal;
  d["retries"] = {{"failed", 2}};
  EXPECT_EQ(error_of(d), "no error");
  d["retries"] = {{"failed", -1}};
  EXPECT_EQ(error_of(d), "s.json: retries.failed: must be an integer in [0, 1000], got -1");
  d["retries"] = {{"failed", 1}, {"lost", 3}};
  EXPECT_EQ(error_of(d), "s.json: retries.lost: unknown setting of the space file's retries (it takes failed)");
  d["retries"] = 2;
  EXPECT_EQ(error_of(d), "s.json: retries: must be an object such as {\"failed\": 2}, got 2");
}

TEST(StudySpec, SetOverridesAnyPartByItsDottedPath) {
  json d = kMinimal;
  set_by_path(d, "trials", parse_override_value("10"), "--set");
  set_by_path(d, "params.epochs", parse_override_value("2"), "--set");
  set_by_path(d, "trainer.data", parse_override_value("/scratch/balls"), "--set");
  set_by_path(d, "params.x1", parse_override_value(R"({"$uniform": [0, 1]})"), "--set");
  set_by_path(d, "params.layers", parse_override_value("[{\"out\": 4}, {\"out\": 8}]"), "--set");
  set_by_path(d, "params.layers[1].out", parse_override_value("16"), "--set");
  EXPECT_EQ(d["trials"], 10);
  EXPECT_EQ(d["params"]["epochs"], 2);
  EXPECT_EQ(d["trainer"]["data"], "/scratch/balls");
  EXPECT_EQ(d["params"]["x1"], json::parse(R"({"$uniform": [0, 1]})"));
  EXPECT_EQ(d["params"]["layers"][1]["out"], 16);
  EXPECT_EQ(parse_override_value("true"), json(true));
  EXPECT_EQ(parse_override_value("relu"), json("relu"));
  EXPECT_THROW(set_by_path(d, "trials.x", json(1), "--set trials.x"), UserError);
  EXPECT_THROW(set_by_path(d, "params.layers[5].out", json(1), "--set"), UserError);
  EXPECT_THROW(split_assignment("trials"), UserError);
  EXPECT_EQ(split_assignment("a.b=c=d"), (std::pair<std::string, std::string>{"a.b", "c=d"}));
}

TEST(StudySpec, TheReadmeTableOfTheSpaceFileIsTheDeclaredOne) {
  std::ifstream in(std::string(HPSEARCH_SOURCE_DIR) + "/README.md");
  std::ostringstream text;
  text << in.rdbuf();
  ASSERT_FALSE(text.str().empty()) << "README.md not found under " << HPSEARCH_SOURCE_DIR;
  EXPECT_EQ(settings::table_after_marker(text.str(), "space file"), settings::markdown(space_file_settings()));
}
