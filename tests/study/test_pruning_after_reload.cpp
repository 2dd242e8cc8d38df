// A pruner decides the same from a study's history reloaded from SQLite as from the history
// of the uninterrupted search, so that a resumed search prunes as the first run would have.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "search/pruners/pruner.hpp"
#include "study/sqlite_storage.hpp"

using namespace hpsearch;
using nlohmann::json;

namespace {
std::unique_ptr<Pruner> pruner(const char* text) { return make_pruner(json::parse(text), "s.json"); }
}  // namespace

TEST(Pruners, DecideTheSameFromTheReloadedDatabase) {
  const auto path = std::filesystem::temp_directory_path() / ("hpsearch_pruners_" + std::to_string(::getpid()) + ".db");
  std::filesystem::remove(path);
  const json doc = json::parse(R"({"trainer": {"type": "synthetic", "function": "branin"}, "params": {"x": {"$uniform": [0, 1]}}})");
  const auto asha = pruner(R"({"type": "asha"})");
  std::vector<bool> before;
  {
    SqliteStorage storage(path.string(), SqliteStorage::Access::ReadWrite);
    storage.open_study(storage.create_study("s", "s.json", "{}", doc), ObjectiveMode::Minimize, "value", 1);
    for (int n = 0; n < 6; ++n) {
      storage.start_trial(n, {0.1 * n}, json{{"x", 0.1 * n}}, 1);
      for (int step = 1; step <= 3; ++step) storage.record_step(n, step, json{{"value", std::abs(n - 2.5) + 1.0 / step}});
      before.push_back(asha->decide(storage.history(), n, 3).stop);
      if (n < 5) storage.finish_trial(n, before.back() ? TrialState::Pruned : TrialState::Complete, std::abs(n - 2.5), "");
    }
  }
  SqliteStorage storage(path.string(), SqliteStorage::Access::ReadWrite);
  storage.open_study(*storage.find_study("s"), ObjectiveMode::Minimize, "value", 1);
  EXPECT_EQ(asha->decide(storage.history(), 5, 3).stop, before.back());  // trial 5 was left RUNNING
  EXPECT_EQ(before, (std::vector<bool>{false, false, false, false, true, true}));
  std::filesystem::remove(path);
}
