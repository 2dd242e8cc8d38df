#pragma once
// `hpsearch summarize runs.db [--study NAME] [--top K] [--format table|json|csv]`.
//
// JSON: {"study": {...}, "best": TRIAL or null, "trials": [TRIAL, ...]} with
// TRIAL = {"number", "state", "value", "step", "params", "duration_s", "steps": [{"step": k, METRIC: v}],
// "error", "worker", "folder"}; "params" is the resolved configuration exactly as the trainer
// received it, "step" the step the value came from, "folder" the trial's folder (null: none).
// Fields may be added later, never renamed.
#include <iosfwd>
#include <string>

namespace hpsearch {

struct SummaryOptions {
  std::string db_path;
  std::string study;  // empty: the only study in the database
  int top = 10;
  std::string format = "table";
};

// Throws UserError for a missing or foreign database, an unknown study or format.
void summarize(const SummaryOptions& options, std::ostream& out);

}  // namespace hpsearch
