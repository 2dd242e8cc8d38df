#pragma once
// What the subcommands' command lines share: options plus one positional argument (the space
// file, or the database), and the reading of a resolved configuration file (--params P.json).
#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace hpsearch {

// Parses `options` plus one positional argument into `positional_value`; a malformed command
// line is a user's mistake (UserError, exit 2) whose message ends with `usage`.
boost::program_options::variables_map parse_command_line(int argc, char** argv, const boost::program_options::options_description& options,
                                                         std::string& positional_value, const std::string& usage);

// A resolved configuration (e.g. a trial's "params" from hpsearch summarize --format json): a
// JSON object. A whole trial as summarize prints it ({"number": .., "params": {...}, ...}) is
// accepted too. An unreadable file is a UserError, a malformed one a FileError naming `path`.
nlohmann::json read_params_file(const std::string& path);

// The value of an option "trial" declared as po::value<int>() (--trial N of best and describe
// --from), or none when absent; a negative number is a UserError ending with `usage`.
std::optional<int> trial_option(const boost::program_options::variables_map& vm, const std::string& usage);

}  // namespace hpsearch
