#pragma once
// `hpsearch summarize runs.db [--study NAME] [--top K] [--format table|json|csv]`.
//
// JSON: {"study": {...}, "best": TRIAL or null, "trials": [TRIAL, ...]} with
// TRIAL = {"number", "state", "value", "step", "params", "duration_s", "steps": [{"step": k, METRIC: v}],
// "error", "worker", "folder", "named_params"}; "params" is the resolved configuration exactly as
// the trainer received it, "step" the step the value came from, "folder" the trial's folder (null:
// none); "named_params" maps each active parameter's label (search/space.hpp, Parameter::label) to
// its value as the table shows it, a choice by its option's name or short form.
// Fields may be added later, never renamed.
//
// CSV: one column per parameter label, in the order of the space. The table shows, of the trials
// listed, only the parameters whose values differ between them (the others once, above the
// table), wrapped to `width` columns.
#include <iosfwd>
#include <string>

#include "core/format.hpp"

namespace hpsearch {

struct SummaryOptions {
  std::string db_path;
  std::string study;  // empty: the only study in the database
  int top = 10;
  std::string format = "table";
  int width = kDefaultOutputWidth;  // columns of the table's lines (core/format.hpp, output_width)
};

// Throws UserError for a missing or foreign database, an unknown study or format.
void summarize(const SummaryOptions& options, std::ostream& out);

}  // namespace hpsearch
