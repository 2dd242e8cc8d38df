// The summary table of a tree-structured space: named choices, path-key names, only the
// parameters that differ between the listed trials, lines within the width, failure reasons.
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "study/study_setup.hpp"
#include "study/summary.hpp"
#include "temp_dir.hpp"

using namespace hpsearch;
using nlohmann::json;

namespace {

const json kTreeSpace = json::parse(R"({"trainer": {"type": "synthetic", "function": "branin"}, "trials": 3,
  "params": {"x1": {"$uniform": [-5, 10]}, "loss": {"$choice": ["mse"]},
             "layers": {"$choice": {"small": [["conv2d", {"out": {"$quniform": [8, 32, 8]}}], ["flatten", {}]],
                                    "large": [["conv2d", {"out": {"$quniform": [8, 32, 8]}}], ["conv2d", {"out": 64}]]}}}})");

// Three trials: large (0) and small (1) layers, the last FAILed with a long reason.
std::string table_of(int width) {
  TempDir dir;
  const StudyRequest request{dir.space("tree.json", kTreeSpace), dir.file("runs.db"), "tree", false, {}, 0};
  {
    PreparedStudy p = prepare_study(request, [](const StudySpec&) -> const settings::Table* { return nullptr; });
    const std::vector<std::vector<double>> points = {{0, 16, NAN, 1.5}, {1, NAN, 24, 2.5}, {1, NAN, 8, 3.5}};
    for (int n = 0; n < 3; ++n) {
      // Parameters in the space's order: layers (large, small), large's out, small's out, x1 ("loss" is after "layers").
      std::vector<double> point = {points[n][0], points[n][1], points[n][2], 0, points[n][3]};
      p.storage->start_trial(n, point, p.spec.space.resolve(point), 1);
      if (n < 2)
        p.storage->finish_trial(n, TrialState::Complete, n + 1.0, "");
      else
        p.storage->finish_trial(n, TrialState::Fail, std::nullopt,
                                "command exited with code 2: python3: can't open file '/a/rather/long/folder/name/trian.py': "
                                "[Errno 2] No such file or directory\nlast lines of stderr:\n  python3: can't open file");
    }
  }
  SummaryOptions options;
  options.db_path = request.db;
  options.study = "tree";
  options.width = width;
  std::ostringstream out;
  summarize(options, out);
  return out.str();
}

}  // namespace

TEST(SummaryTable, ShowsOnlyDifferingParametersByNameWithinTheWidth) {
  for (const int width : {60, 100}) {
    const std::string table = table_of(width);
    SCOPED_TRACE(table);
    std::istringstream lines(table);
    for (std::string line; std::getline(lines, line);) EXPECT_LE(line.size(), static_cast<std::size_t>(width)) << line;
    EXPECT_NE(table.find("same in every trial listed: loss=mse\n"), std::string::npos);
    EXPECT_NE(table.find("layers=large"), std::string::npos);
    EXPECT_NE(table.find("layers.conv2d#1.out=16"), std::string::npos);
    EXPECT_NE(table.find("layers=small layers.conv2d.out=24"), std::string::npos);
    EXPECT_EQ(table.find("[0]"), std::string::npos);
    EXPECT_NE(table.find("failed: command exited with code 2: python3: can't"), std::string::npos);
    EXPECT_NE(table.find("trian.py"), std::string::npos);
    EXPECT_EQ(table.find("last lines of stderr"), std::string::npos) << "only the reason's first line";
  }
}
