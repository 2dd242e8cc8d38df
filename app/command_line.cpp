#include "app/command_line.hpp"

#include <fstream>
#include <sstream>

#include "core/errors.hpp"
#include "core/json_input.hpp"

namespace hpsearch {

namespace po = boost::program_options;
using nlohmann::json;

po::variables_map parse_command_line(int argc, char** argv, const po::options_description& options, std::string& positional_value,
                                     const std::string& usage) {
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
    throw UserError(std::string(e.what()) + "\n" + usage);
  }
  return vm;
}

std::optional<int> trial_option(const po::variables_map& vm, const std::string& usage) {
  if (!vm.count("trial")) return std::nullopt;
  const int number = vm["trial"].as<int>();
  if (number < 0) throw UserError("--trial " + std::to_string(number) + ": a trial number is 0 or more\n" + usage);
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
