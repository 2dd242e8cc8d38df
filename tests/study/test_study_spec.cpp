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

namespace {

std::string set_error(json d, const std::string& key, const std::string& value) {
  try {
    apply_override(d, key, value);
  } catch (const UserError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST(StudySpec, SetReadsJsonValuesAndOtherTextAsAString) {
  EXPECT_EQ(parse_override_value("\"quoted\""), json("quoted"));
  EXPECT_EQ(parse_override_value(" [1, 2]"), json::parse("[1, 2]"));
  EXPECT_EQ(parse_override_value("null"), json(nullptr));
  EXPECT_EQ(parse_override_value("data/my balls"), json("data/my balls"));
}

TEST(StudySpec, SetNamesTheFlagWhenAJsonLookingValueIsBroken) {
  for (const std::string value : {"{\"$uniform\": [0, 1]", "[1, 2", "\"open", "{relu}"}) {
    const std::string error = set_error(kMinimal, "params.x1", value);
    EXPECT_EQ(error.rfind("--set params.x1=" + value + ": not valid JSON", 0), 0u) << error;
    EXPECT_NE(error.find("is read as JSON"), std::string::npos) << error;
  }
}

TEST(StudySpec, SetOnlyAddsKeysThatATableOrTheTrainerChecks) {
  json d = kMinimal;
  d["params"]["optimizer_params"] = {{"lr", 0.001}};
  // Allowed: existing values at any depth, a whole new parameter, new keys where a settings
  // table reads them, and a top-level table created on the way with its default.
  EXPECT_EQ(set_error(d, "params.x1.$uniform[1]", "4"), "no error");
  EXPECT_EQ(set_error(d, "params.optimizer_params.lr", "0.01"), "no error");
  EXPECT_EQ(set_error(d, "params.x3", "{\"$uniform\": [0, 1]}"), "no error");
  EXPECT_EQ(set_error(d, "trainer.noise", "0.5"), "no error");
  apply_override(d, "sampler.seed", "3");
  EXPECT_EQ(d["sampler"], json::parse(R"({"type": "random", "seed": 3})"));
  apply_override(d, "retries.failed", "2");
  EXPECT_EQ(d["retries"], json::parse(R"({"failed": 2})"));
  // Refused: a path through a parameter that does not exist (the issue's params.x3.lr=1)...
  EXPECT_EQ(set_error(d, "params.x3.lr", "1"),
            "--set params.x3.lr=1: params has no parameter 'x3'; a new parameter is set whole, e.g. --set "
            "'params.x3={\"$uniform\": [0, 1]}' or --set params.x3=1");
  // ...a new key inside a distribution...
  EXPECT_EQ(set_error(d, "params.x1.low", "0"),
            "--set params.x1.low=0: params.x1 is a distribution ({\"$uniform\":[-5,10]}) with no key 'low'; set it whole, e.g. "
            "--set 'params.x1={\"$uniform\": [0, 1]}'");
  // ...or inside a constant object, where the whole parameter is offered instead.
  EXPECT_EQ(set_error(d, "params.optimizer_params.weight_decay", "0.1"),
            "--set params.optimizer_params.weight_decay=0.1: params.optimizer_params has no key 'weight_decay', and --set adds no key "
            "inside a parameter (a mistyped one would be ignored); set the parameter whole: --set "
            "'params.optimizer_params={\"lr\":0.001,\"weight_decay\":0.1}'");
  EXPECT_EQ(set_error(d, "trails.x", "1").rfind("--set trails.x=1: the space file has no 'trails' (its keys: trainer, params,", 0), 0u);
  EXPECT_EQ(set_error(d, "sampler.gamma.fraction", "0.2"),
            "--set sampler.gamma.fraction=0.2: sampler has no key 'gamma'; set the object whole: --set 'sampler.gamma={...}'");
  EXPECT_EQ(set_error(d, "params.x1.$uniform[2]", "1"), "--set params.x1.$uniform[2]=1: params.x1.$uniform has no element 2 (it has 2)");
  EXPECT_EQ(set_error(d, "trainer.function.x", "1"), "--set trainer.function.x=1: trainer.function is not an object (it is \"branin\")");
}

TEST(StudySpec, ErrorsAboutAValueSetOnTheCommandLineNameTheFlag) {
  const Overrides overrides = {{"trainer.function", "branni"}, {"params.x1", "{\"$uniform\": [1, 0]}"}};
  auto message = [&](const std::string& path) {
    try {
      name_overrides_in_errors(overrides, [&] { throw FileError("s.json", path, "wrong"); });
    } catch (const UserError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message("trainer.function"), "--set trainer.function=branni: wrong");
  EXPECT_EQ(message("params.x1.$uniform[0]"), "--set params.x1={\"$uniform\": [1, 0]}: params.x1.$uniform[0]: wrong");
  EXPECT_EQ(message("params.x10"), "s.json: params.x10: wrong") << "params.x10 is not inside params.x1";
  EXPECT_EQ(message("trainer"), "s.json: trainer: wrong");
}

TEST(StudySpec, ConstantParamsAreCheckedAgainstTheTrainersTable) {
  static const settings::Table configuration{"test configuration",
                                             {settings::integer("epochs", 1, "epochs", 1), settings::integer("batch_size", 1, "batch", 1)}};
  auto message = [&](const char* params) {
    try {
      check_constant_params(json::parse(params), configuration, "s.json");
    } catch (const UserError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message(R"({"epochs": 3, "batch_size": {"$choice": [16, 32]}})"), "no error");
  EXPECT_EQ(message(R"({"epochs": {"$randint": [1, 0]}})"), "no error") << "a distribution is SearchSpace's to check";
  EXPECT_EQ(message(R"({"epochs": "two"})"), "s.json: params.epochs: must be an integer >= 1, got \"two\"");
  EXPECT_EQ(message(R"({"batch_size": {"$choice": [16, 0]}})"), "s.json: params.batch_size.$choice[1]: must be an integer >= 1, got 0");
  EXPECT_EQ(message(R"({"epoch": 3})"), "s.json: params.epoch: unknown setting of the test configuration (it takes epochs and batch_size)");
}

TEST(StudySpec, DifferencesNameTheFirstPathsWithBothValues) {
  const json stored = json::parse(R"({"sampler": {"type": "random", "seed": 3}, "params": {"x1": {"$uniform": [0, 1]}, "depth": 2}})");
  json asked = stored;
  asked["sampler"]["seed"] = 5;
  EXPECT_EQ(json_differences(stored, asked, "the database", "the file"), "sampler.seed: 3 in the database, 5 in the file");
  asked["params"]["x1"] = {{"$loguniform", {0.1, 1}}};
  asked["params"].erase("depth");
  asked["params"]["layers"] = json::array({1, 2});
  asked["objective"] = {{"metric", "loss"}};
  EXPECT_EQ(json_differences(stored, asked, "A", "B"),
            "params.depth: 2 in A, absent in B; params.x1: {\"$uniform\":[0,1]} in A, {\"$loguniform\":[0.1,1]} in B; params.layers: "
            "absent in A, [1,2] in B; ...");
  EXPECT_EQ(json_differences(json::parse("[1, 2]"), json::parse("[1, 3]"), "A", "B"), "[1]: 2 in A, 3 in B");
  const json long_value = std::string(100, 'a');
  EXPECT_EQ(json_differences(json{{"d", long_value}}, json{{"d", 1}}, "A", "B"), "d: \"" + std::string(39, 'a') + "... in A, 1 in B");
}

TEST(StudySpec, TheReadmeTableOfTheSpaceFileIsTheDeclaredOne) {
  std::ifstream in(std::string(HPSEARCH_SOURCE_DIR) + "/README.md");
  std::ostringstream text;
  text << in.rdbuf();
  ASSERT_FALSE(text.str().empty()) << "README.md not found under " << HPSEARCH_SOURCE_DIR;
  EXPECT_EQ(settings::table_after_marker(text.str(), "space file"), settings::markdown(space_file_settings()));
}
