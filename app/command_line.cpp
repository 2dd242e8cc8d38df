#include "app/command_line.hpp"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>
#include <utility>
#include <vector>

#include "core/errors.hpp"
#include "core/json_input.hpp"

namespace hpsearch {

namespace po = boost::program_options;
using nlohmann::json;

std::string usage_hint(const CommandUsage& usage) {
  return std::string(usage.synopsis) + "every option explained: hpsearch help " + usage.name + "\n";
}

bool asks_for_help(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") return true;
  }
  return false;
}

void print_help(const CommandUsage& usage, const po::options_description& options) {
  std::cout << usage.synopsis << "  " << usage.summary << "\n\noptions:\n";
  // One line per option, the descriptions aligned after the longest "--name VALUE".
  std::vector<std::pair<std::string, std::string>> rows;
  for (const auto& option : options.options()) {
    std::string name = "--" + option->long_name();
    const std::string value = option->semantic()->max_tokens() > 0 ? option->format_parameter() : "";
    if (!value.empty()) name += " " + value;
    rows.emplace_back(name, option->description());
  }
  rows.emplace_back("-h, --help", "this help");
  std::size_t width = 0;
  for (const auto& row : rows) width = std::max(width, row.first.size());
  for (const auto& [name, description] : rows)
    std::cout << "  " << name << std::string(width - name.size() + 3, ' ') << description << "\n";
  if (*usage.notes) std::cout << "\n" << usage.notes;
}

po::variables_map parse_command_line(int argc, char** argv, const po::options_description& options, std::string& positional_value,
                                     const CommandUsage& usage) {
  if (asks_for_help(argc, argv)) {
    print_help(usage, options);
    throw HelpShown{};
  }
  po::options_description hidden;
  hidden.add_options()("positional", po::value(&positional_value));
  po::options_description all;
  all.add(options).add(hidden);
  po::positional_options_description positional;
  positional.add("positional", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw UserError(std::string(usage.name) + ": " + e.what() + "\n" + usage_hint(usage));
  }
  return vm;
}

std::optional<long long> whole_integer(const std::string& text) {
  std::size_t used = 0;
  long long value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {  // std::stoll's own: no digits, or out of range
    return std::nullopt;
  }
  if (used != text.size()) return std::nullopt;
  return value;
}

std::optional<int> trial_option(const po::variables_map& vm, const CommandUsage& usage) {
  if (!vm.count("trial")) return std::nullopt;
  const int number = vm["trial"].as<int>();
  if (number < 0) throw UserError("--trial " + std::to_string(number) + ": a trial number is 0 or more\n" + usage_hint(usage));
  return number;
}

json read_params_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError(path + ": cannot read the configuration file");
  std::ostringstream text;
  text << in.rdbuf();
  json config = parse_user_json(text.str(), path);  // the depth limit and every parse error: exit 2
  if (config.is_object() && config.contains("number") && config.contains("params") && config["params"].is_object())
    config = config["params"];
  if (!config.is_object()) throw FileError(path, "", "must be a resolved configuration: a JSON object, got " + json_text(config, 80));
  return config;
}

}  // namespace hpsearch
