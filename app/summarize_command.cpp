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

int run_summarize_command(int argc, char** argv) {
  SummaryOptions o;
  po::options_description options("summarize options");
  options.add_options()("study", po::value(&o.study), "study name (needed when the database holds several)")(
      "top", po::value(&o.top), "number of best trials in the table (default 10)")("format", po::value(&o.format), "table, json or csv");
  parse_command_line(argc, argv, options, o.db_path, kUsage);
  if (o.db_path.empty()) throw UserError(std::string("summarize needs a database file\n") + kUsage);
  o.width = output_width(stdout);
  summarize(o, std::cout);
  return 0;
}

}  // namespace hpsearch
