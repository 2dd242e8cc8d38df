// Hostile user input (issue #15): every class found by the adversarial run is a UserError naming
// the file or flag, never a crash or a library exception; then a seeded in-process fuzz of
// StudySpec::load, set_by_path and SearchSpace::parse, which the sanitizer build runs as well.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "core/errors.hpp"
#include "core/json_input.hpp"
#include "search/sampler.hpp"
#include "study/study_spec.hpp"

using namespace hpsearch;
using nlohmann::json;

namespace {

const std::string kBranin =
    R"({"trainer": {"type": "synthetic", "function": "branin"}, "trials": 100, "sampler": {"type": "random"},
        "params": {"x1": {"$uniform": [-5, 10]}, "x2": {"$uniform": [0, 15]}}})";

// The space file's path in a temporary folder of this process.
std::string write_space(const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / ("hpsearch_hostile_" + std::to_string(::getpid()) + ".json");
  std::ofstream(path, std::ios::binary) << text;
  return path.string();
}

// The message of the UserError that loading throws ("no error" when none); any other exception
// fails the test, as it would end the program with exit 1.
std::string load_error(const std::string& text, const std::vector<std::pair<std::string, std::string>>& overrides = {}) {
  const std::string path = write_space(text);
  try {
    const StudySpec spec = StudySpec::load(path, overrides);
    make_sampler(spec.sampler, spec.space, spec.source);
  } catch (const UserError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not a UserError: " << e.what();
    return e.what();
  }
  return "no error";
}

std::string nested(int depth) {
  return std::string(static_cast<std::size_t>(depth), '[') + "1" + std::string(static_cast<std::size_t>(depth), ']');
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST(HostileInput, DeepNestingIsRefusedInFilesAndOverrides) {
  std::string text = kBranin;
  text.insert(text.find("\"x1\""), "\"deep\": " + nested(30000) + ", ");
  EXPECT_TRUE(contains(load_error(text), "nested deeper than 64 levels")) << load_error(text);
  EXPECT_TRUE(contains(load_error(kBranin, {{"params.deep", nested(30000)}}), "--set params.deep=[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["));
  EXPECT_TRUE(contains(load_error(kBranin, {{"params.deep", nested(30000)}}), "...: nested deeper than 64"));
  // A deep path would build a deep document as surely as a deep value: --set creates no object
  // below a parameter, and the message stays short.
  std::string path = "params";
  for (int i = 0; i < 20000; ++i) path += ".a";
  const std::string deep_path = load_error(kBranin, {{path, "1"}});
  EXPECT_TRUE(contains(deep_path, "params has no parameter 'a'")) << deep_path.substr(0, 300);
  EXPECT_LT(deep_path.size(), 1000u);
  // At the limit a space file is accepted.
  std::string fits = kBranin;
  fits.insert(fits.find("\"x1\""), "\"deep\": " + nested(kMaxJsonDepth - 2) + ", ");
  EXPECT_EQ(load_error(fits), "no error");
  // A document read back from a database is checked too.
  json deep = 1;
  for (int i = 0; i < 30000; ++i) deep = json::array({std::move(deep)});
  json document = json::parse(kBranin);
  document["params"]["deep"] = std::move(deep);
  try {
    StudySpec::from_document(document, "runs.db (study 'x')", "");
    ADD_FAILURE() << "no error";
  } catch (const UserError& e) {
    EXPECT_TRUE(contains(e.what(), "runs.db (study 'x'): nested deeper than 64")) << e.what();
  }
}

TEST(HostileInput, NumbersBeyondDoublesAreUserErrors) {
  std::string text = kBranin;
  text.replace(text.find("100"), 3, "1e400");
  EXPECT_TRUE(contains(load_error(text), "not valid JSON: number overflow")) << load_error(text);
  EXPECT_TRUE(contains(load_error(kBranin, {{"trials", "1e309"}}), "--trials 1e309: must be an integer"))
      << load_error(kBranin, {{"trials", "1e309"}});
}

TEST(HostileInput, InvalidUtf8InOverridesIsRefusedBeforeUse) {
  EXPECT_TRUE(contains(load_error(kBranin, {{"description", "caf\xc3"}}), "--set description=caf\\xc3: the value is not valid UTF-8"));
  EXPECT_TRUE(contains(load_error(kBranin, {{"params.\xff", "1"}}), "--set params.\\xff: the key is not valid UTF-8"));
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));  // a UTF-16 surrogate
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));      // overlong
  EXPECT_TRUE(is_valid_utf8("caf\xc3\xa9 \xf0\x9f\x98\x80"));
  // Quoting never throws, however bad the bytes.
  EXPECT_EQ(json_text(json("a\xff")), "\"a\\ufffd\"");
}

TEST(HostileInput, BadArrayIndexesAreUserErrors) {
  for (const char* index : {"[abc]", "[]", "[18446744073709551616]", "[-1]", "[1e3]"}) {
    const std::string message = load_error(kBranin, {{std::string("params.x1.$uniform") + index, "1"}});
    EXPECT_TRUE(contains(message, "is not an array index")) << index << " -> " << message;
  }
  EXPECT_TRUE(contains(load_error(kBranin, {{"params.x1.$uniform[7]", "1"}}), "has no element 7"));
}

TEST(HostileInput, NonStringTypesAreUserErrors) {
  EXPECT_TRUE(contains(load_error(kBranin, {{"sampler.type", "3"}}), "sampler.type: must be a string, got 3"));
  EXPECT_TRUE(contains(load_error(kBranin, {{"pruner.type", "[1]"}}), "--set pruner.type=[1]: must be a string"));
}

// A seeded fuzz in-process: mutated space texts and overrides; only UserError may come out, and
// its message stays short. Under ASan/UBSan this is the crash test of the readers themselves.
TEST(HostileInput, FuzzedSpacesAndOverridesEndInUserErrorsOnly) {
  std::mt19937_64 rng(15);
  const auto pick = [&](const std::vector<std::string>& from) { return from[rng() % from.size()]; };
  const std::vector<std::string> tokens = {"1e400",
                                           "-1e309",
                                           "18446744073709551616",
                                           "9007199254740993",
                                           "NaN",
                                           "\"\xff\"",
                                           "[",
                                           "]",
                                           "{",
                                           "}",
                                           "null",
                                           "{\"$uniform\": [1, 0]}",
                                           "\"$choice\"",
                                           ",",
                                           "\"\\ud800\"",
                                           "1.7976931348623157e308",
                                           "-0",
                                           "[[[[[[[[]]]]]]]]"};
  const std::vector<std::string> keys = {"trials",
                                         "params.x1",
                                         "params.x1.$uniform[0]",
                                         "params.x1.$uniform[abc]",
                                         "sampler.type",
                                         "sampler.seed",
                                         "params.x2[0]",
                                         "params[99999999999]",
                                         "pruner",
                                         "pruner.type",
                                         "objective.mode",
                                         "retries.failed",
                                         "trainer.type",
                                         "params.c.$choice",
                                         "resources.gpus_per_trial",
                                         "params..x",
                                         ".",
                                         "params.\xc3"};
  const std::vector<std::string> values = {"1e400",
                                           "[1,",
                                           "{\"$randint\": [0, 18446744073709551615]}",
                                           "{\"$uniform\": [-1.7e308, 1.7e308]}",
                                           "{\"$normal\": [0, 1e308]}",
                                           "{\"$choice\": []}",
                                           "\"tpe\"",
                                           "3",
                                           "-1",
                                           "null",
                                           "caf\xc3",
                                           nested(100),
                                           "{\"$quniform\": [0, 1e300, 1e-300]}",
                                           "{\"$lognormal\": [0, 1000]}",
                                           "true",
                                           "{\"type\": 3}"};
  int refused = 0;
  for (int i = 0; i < 400; ++i) {
    std::string text = kBranin;
    std::vector<std::pair<std::string, std::string>> overrides;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = rng() % text.size();
      switch (rng() % 4) {
        case 0: text.insert(at, pick(tokens)); break;
        case 1: text.erase(at, 1 + rng() % 8); break;
        case 2: text[at] = static_cast<char>(rng() % 256); break;
        default: overrides.emplace_back(pick(keys), pick(values)); break;
      }
    }
    const std::string message = load_error(text, overrides);
    if (message != "no error") {
      ++refused;
      EXPECT_LE(message.size(), 2000u) << message.substr(0, 300);
    }
    // set_by_path and SearchSpace::parse alone, on a document the loader would have refused or not.
    json document = json::parse(kBranin);
    try {
      for (const auto& [key, value] : overrides) apply_override(document, key, value);
      SearchSpace::parse(document["params"], "s.json");
    } catch (const UserError&) {
    } catch (const std::exception& e) {
      ADD_FAILURE() << "not a UserError: " << e.what();
    }
  }
  EXPECT_GT(refused, 100);
  std::filesystem::remove(write_space(""));
}
