#pragma once
// What the subcommands' command lines share: options plus one positional argument (the space
// file, or the database), their help, and the reading of a resolved configuration file
// (--params P.json).
//
// Each subcommand owns its usage (a CommandUsage in its own *_command.cpp) and its options; the
// help (hpsearch CMD --help, hpsearch help CMD) is printed from the two by print_help, so adding
// a subcommand or an option adds its help in the same place.
#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace hpsearch {

struct CommandUsage {
  const char* name;      // "summarize", as typed after hpsearch
  const char* synopsis;  // "usage: hpsearch summarize runs.db [--study NAME] ...", one or a few lines
  const char* summary;   // what the subcommand does, one line
  const char* notes;     // after the options in the help: what the positional argument is, defaults ("" when none)
};

// Thrown once a subcommand's help was printed (--help or -h anywhere on its command line): main
// ends with exit code 0, having done nothing else.
struct HelpShown {};

// The synopsis, then where every option is explained: the end of each malformed command line's
// message, short enough to read under the error (the whole help is one command away).
std::string usage_hint(const CommandUsage& usage);

// The full help to stdout: the synopsis, the summary, every option on one line, the notes.
void print_help(const CommandUsage& usage, const boost::program_options::options_description& options);

// Whether --help or -h is among the arguments (argv[0] is not looked at).
bool asks_for_help(int argc, char** argv);

// Parses `options` plus one positional argument into `positional_value`. With --help or -h, prints
// the help and throws HelpShown; a malformed command line is a user's mistake (UserError, exit 2)
// whose message ends with usage_hint(usage).
boost::program_options::variables_map parse_command_line(int argc, char** argv, const boost::program_options::options_description& options,
                                                         std::string& positional_value, const CommandUsage& usage);

// A resolved configuration (e.g. a trial's "params" from hpsearch summarize --format json): a
// JSON object. A whole trial as summarize prints it ({"number": .., "params": {...}, ...}) is
// accepted too. An unreadable file is a UserError, a malformed one a FileError naming `path`.
nlohmann::json read_params_file(const std::string& path);

// A command-line value read as a whole integer ("12"; not "12x", "", or beyond long long), or
// none: the caller says which option and range in its own message.
std::optional<long long> whole_integer(const std::string& text);

// The value of an option "trial" declared as po::value<int>() (--trial N of best and describe
// --from), or none when absent; a negative number is a UserError ending with `usage`.
std::optional<int> trial_option(const boost::program_options::variables_map& vm, const CommandUsage& usage);

}  // namespace hpsearch
