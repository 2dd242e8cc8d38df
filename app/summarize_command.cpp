// hpsearch summarize runs.db [--study NAME] [--top K] [--format table|json|csv]: the best trials
// and the counts by state of a study (study/summary.hpp), without MPI.
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>

#include "app/command_line.hpp"
#include "app/commands.hpp"
#include "core/errors.hpp"
#include "core/format.hpp"
#include "study/summary.hpp"

namespace po = boost::program_options;

namespace hpsearch {

const CommandUsage kSummarizeUsage{"summarize", "usage: hpsearch summarize runs.db [--study NAME] [--top K] [--format table|json|csv]\n",
                                   "show the best trials and the counts by state of a study", ""};

int run_summarize_command(int argc, char** argv) {
  SummaryOptions o;
  po::options_description options("summarize options");
  options.add_options()("study", po::value(&o.study)->value_name("NAME"), "study name (needed when the database holds several)")(
      "top", po::value(&o.top)->value_name("K"), "number of best trials in the table (default 10)")(
      "format", po::value(&o.format)->value_name("FORMAT"), "table (default), json (every trial, every field) or csv");
  parse_command_line(argc, argv, options, o.db_path, kSummarizeUsage);
  if (o.db_path.empty()) throw UserError("summarize needs a database file\n" + usage_hint(kSummarizeUsage));
  o.width = output_width(stdout);
  summarize(o, std::cout);
  return 0;
}

}  // namespace hpsearch
