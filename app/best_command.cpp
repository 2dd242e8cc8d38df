// hpsearch best runs.db [--study S] [--trial N]
//
// Prints the resolved configuration of the best COMPLETE trial of a study (or of COMPLETE trial
// N) as JSON on stdout, exactly as its trainer received it: the file that `train --params` and
// `describe --params` read. Which trial it is, its value and its folder go to stderr, so that
// `hpsearch best runs.db > best.json` holds the configuration alone.
#include <boost/program_options.hpp>
#include <iostream>
#include <optional>

#include "app/command_line.hpp"
#include "app/commands.hpp"
#include "core/errors.hpp"
#include "study/trial_choice.hpp"

namespace hpsearch {

namespace po = boost::program_options;

const CommandUsage kBestUsage{"best", "usage: hpsearch best runs.db [--study S] [--trial N]\n",
                              "print the best COMPLETE trial's (or trial N's) resolved configuration as JSON",
                              "the JSON on stdout is ready for hpsearch train --params FILE and hpsearch describe --params FILE;\n"
                              "which trial it is, its value and its folder go to stderr\n"};

int run_best_command(int argc, char** argv) {
  std::string db, study;
  po::options_description options("best options");
  options.add_options()("study", po::value(&study)->value_name("S"), "the study (needed when the database holds several)")(
      "trial", po::value<int>()->value_name("N"), "a COMPLETE trial's number (default: the best COMPLETE trial)");
  const po::variables_map vm = parse_command_line(argc, argv, options, db, kBestUsage);
  if (db.empty()) throw UserError("best needs a database file\n" + usage_hint(kBestUsage));
  const ChosenTrial chosen = choose_trial(db, study, "", trial_option(vm, kBestUsage));
  std::cerr << "hpsearch best: trial " << chosen.trial.number << " of study '" << chosen.study.name << "' in " << db << ", "
            << chosen.spec.objective_metric << " = " << *chosen.trial.value << "; folder " << chosen.folder.string() << "\n";
  std::cout << chosen.trial.config.dump(2) << "\n";
  return 0;
}

}  // namespace hpsearch
