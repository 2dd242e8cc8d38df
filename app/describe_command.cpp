// hpsearch describe SPACE.json [--params P.json] [--input CxHxW] [--outputs N] [--format table|json]
// hpsearch describe [SPACE.json] --from runs.db [--study S] [--trial N] [...]
//
// What seeds 001 and 003 ask students to write by hand for their network: every layer (Fn) with
// its input and output tensors (Xn), its weight tensors (Wn), its parameter count and its
// floating-point operations per image (multiplications, additions, maximums), and the totals.
//
// The architecture is the configuration's `architecture`: from --params (a resolved
// configuration, such as a trial's "params" in `hpsearch summarize --format json`), else the
// space's own when it is constant, else the trainer's default network (classify: seed 003's).
// With --from, the configuration of the best COMPLETE trial (or trial N) of a study in a
// database, as `hpsearch best` prints it, and the study's stored space unless SPACE.json is given.
// The input shape and the number of outputs come from the trainer's data folder (classify) or from
// --input and --outputs.
#include <boost/program_options.hpp>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "app/command_line.hpp"
#include "app/commands.hpp"
#include "core/errors.hpp"
#include "study/study_spec.hpp"
#include "study/trial_choice.hpp"
#include "trainers/core/architecture.hpp"
#include "trainers/core/data/classification_files.hpp"
#include "trainers/torch/classify/classify_trainer.hpp"

namespace hpsearch {

namespace po = boost::program_options;
using nlohmann::json;

namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s;
  for (auto d : shape) s += (s.empty() ? "" : "x") + std::to_string(d);
  return s;
}

// 23152400 -> "23,152,400": the counts run to millions and are read by people.
std::string grouped(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return (n < 0 ? "-" : "") + out;
}

std::vector<int64_t> parse_shape(const std::string& text) {
  std::vector<int64_t> shape;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, 'x');) {
    const std::optional<long long> size = whole_integer(part);
    if (!size || *size <= 0) throw UserError("--input " + text + ": use CxHxW (e.g. 3x32x32) or F, with positive sizes");
    shape.push_back(*size);
  }
  if (shape.size() != 3 && shape.size() != 1) throw UserError("--input " + text + ": use CxHxW (e.g. 3x32x32) or F");
  return shape;
}

}  // namespace

const CommandUsage kDescribeUsage{
    "describe",
    "usage: hpsearch describe SPACE.json [--params P.json] [--input CxHxW] [--outputs N] [--format table|json]\n"
    "       hpsearch describe [SPACE.json] --from runs.db [--study S] [--trial N] [--input CxHxW] [--outputs N] [--format ...]\n",
    "every layer of the network: tensor sizes, weights, parameters, multiplications, additions, maximums",
    "P.json: a resolved configuration (e.g. the output of hpsearch best runs.db);\n"
    "--from: the best COMPLETE trial's configuration (or trial N's) in that database, with the study's space\n"
    "unless SPACE.json is given; without either, the space's architecture when it is constant, else the\n"
    "trainer's default network\n"};

int run_describe_command(int argc, char** argv) {
  std::string space_file, params_file, db, study, input_text, format = "table";
  long long outputs = 0;
  po::options_description options("describe options");
  options.add_options()("params", po::value(&params_file)->value_name("P.json"),
                        "a resolved configuration (JSON) holding the architecture")(
      "from", po::value(&db)->value_name("runs.db"), "describe the best COMPLETE trial (or --trial N) of a study in this database")(
      "study", po::value(&study)->value_name("S"), "the study in --from (needed when the database holds several)")(
      "trial", po::value<int>()->value_name("N"), "a COMPLETE trial's number in --from (default: the best)")(
      "input", po::value(&input_text)->value_name("CxHxW"), "one input's shape, CxHxW or F (default: from the trainer's data)")(
      "outputs", po::value(&outputs)->value_name("N"), "the output layer's width (default: the data's classes)")(
      "format", po::value(&format)->value_name("FORMAT"), "table (default) or json");
  const po::variables_map vm = parse_command_line(argc, argv, options, space_file, kDescribeUsage);
  if (space_file.empty() && db.empty()) throw UserError("describe needs a space file or --from runs.db\n" + usage_hint(kDescribeUsage));
  if (!params_file.empty() && !db.empty())
    throw UserError("describe takes one of --params P.json and --from runs.db, not both\n" + usage_hint(kDescribeUsage));
  if (db.empty() && (!study.empty() || vm.count("trial")))
    throw UserError("--study and --trial choose a trial of --from runs.db; there is no --from\n" + usage_hint(kDescribeUsage));
  if (format != "table" && format != "json") throw UserError("--format " + format + ": use table or json");

  // The configuration to describe, when one is given: --params, or a trial of --from.
  std::optional<json> config;
  std::string config_source;  // names it in messages
  std::optional<StudySpec> stored_spec;
  if (!params_file.empty()) {
    config = read_params_file(params_file);
    config_source = params_file;
  } else if (!db.empty()) {
    ChosenTrial chosen = choose_trial(db, study, "", trial_option(vm, kDescribeUsage));
    config = chosen.trial.config;
    config_source = chosen.source;
    stored_spec = std::move(chosen.spec);
  }
  const StudySpec spec = space_file.empty() ? std::move(*stored_spec) : StudySpec::load(space_file, {});
  const std::string trainer = spec.trainer.value("type", "");

  // The configuration whose architecture is described.
  json architecture;
  std::string source;
  if (config) {
    if (config->contains("architecture")) {
      architecture = (*config)["architecture"];
      source = config_source;
    }
  } else {
    for (const auto& p : spec.space.parameters()) {
      if (p.name == "architecture" || p.name.rfind("architecture.", 0) == 0 || p.name.rfind("architecture[", 0) == 0) {
        throw FileError(spec.source, "params." + p.name,
                        "is searched, so the space has no single network: pass --params P.json with a resolved configuration "
                        "(e.g. from hpsearch best runs.db), or --from runs.db for a trial of a search");
      }
    }
    const json& params = spec.document.at("params");
    if (params.contains("architecture")) {
      architecture = params["architecture"];
      source = spec.source + " (params.architecture)";
    }
  }
  if (architecture.is_null()) {
    if (trainer != "classify") {
      throw UserError((config ? config_source : spec.source) + ": no \"architecture\" to describe (the " + trainer +
                      " trainer has no default network)");
    }
    architecture = default_classify_architecture();
    source = "the classify trainer's default (seed 003's network)";
  }
  nn::Architecture parsed;
  try {
    parsed = nn::parse_architecture(architecture);
  } catch (const ConfigError& e) {
    throw FileError(config ? config_source : spec.source, "", e.what());
  }

  // The input and output sizes.
  std::vector<int64_t> input = input_text.empty() ? std::vector<int64_t>{} : parse_shape(input_text);
  if ((input.empty() || outputs <= 0) && trainer == "classify" && spec.trainer.contains("data") && spec.trainer["data"].is_string()) {
    try {
      const auto shape = data::classification_shape(data::find_classification_files(spec.trainer["data"].get<std::string>()));
      if (input.empty()) input = shape.input;
      if (outputs <= 0) outputs = shape.classes;
    } catch (const UserError& e) {
      throw FileError(spec.source, "trainer.data", std::string(e.what()) + " (or give --input CxHxW and --outputs N)");
    }
  }
  if (input.empty())
    throw UserError("describe needs the input's shape: --input CxHxW (the " + trainer + " trainer has no data folder to read it from)");
  if (outputs <= 0) throw UserError("describe needs the output layer's width: --outputs N");

  nn::ModelCost cost;
  try {
    cost = nn::describe_architecture(parsed, input, outputs);
  } catch (const ConfigError& e) {
    throw FileError(config ? config_source : spec.source, "architecture", e.what());
  }

  if (format == "json") {
    json layers = json::array();
    for (const auto& l : cost.layers) {
      json weights = json::object();
      for (const auto& [name, shape] : l.weights) weights[name] = shape;
      layers.push_back({{"name", l.name},
                        {"input", l.input_shape},
                        {"output", l.output_shape},
                        {"weights", weights},
                        {"parameters", l.parameters},
                        {"multiplications", l.multiplications},
                        {"additions", l.additions},
                        {"maximums", l.maximums}});
    }
    std::cout << json{{"architecture", architecture},
                      {"source", source},
                      {"input", input},
                      {"outputs", outputs},
                      {"layers", layers},
                      {"totals",
                       {{"parameters", cost.parameters},
                        {"multiplications", cost.multiplications},
                        {"additions", cost.additions},
                        {"maximums", cost.maximums},
                        {"operations", cost.multiplications + cost.additions + cost.maximums}}}}
                     .dump(2)
              << "\n";
    return 0;
  }

  // Seed 001's notation: X0 is the input, Fn the n-th function, Xn its output, Wn its weights.
  std::ostringstream out;
  out << "network: " << source << "\ninput X0: " << shape_text(input) << ", outputs: " << outputs << "\n"
      << "operations are per image (one forward pass in evaluation mode)\n\n";
  out << std::left << std::setw(5) << "F" << std::setw(28) << "function" << std::setw(13) << "output" << std::setw(26) << "weights"
      << std::right << std::setw(12) << "parameters" << std::setw(14) << "mult" << std::setw(14) << "add" << std::setw(12) << "max"
      << "\n";
  for (std::size_t i = 0; i < cost.layers.size(); ++i) {
    const auto& l = cost.layers[i];
    std::string weights;
    for (const auto& [name, shape] : l.weights)
      weights += (weights.empty() ? "" : " + ") + std::string(name == "bias" ? "b " : "W ") + shape_text(shape);
    if (weights.empty()) weights = "-";
    out << std::left << std::setw(5) << ("F" + std::to_string(i + 1)) << std::setw(28) << l.name << std::setw(13)
        << ("X" + std::to_string(i + 1) + " " + shape_text(l.output_shape)) << std::setw(26) << weights << std::right << std::setw(12)
        << grouped(l.parameters) << std::setw(14) << grouped(l.multiplications) << std::setw(14) << grouped(l.additions) << std::setw(12)
        << grouped(l.maximums) << "\n";
  }
  out << std::left << std::setw(72) << "total" << std::right << std::setw(12) << grouped(cost.parameters) << std::setw(14)
      << grouped(cost.multiplications) << std::setw(14) << grouped(cost.additions) << std::setw(12) << grouped(cost.maximums) << "\n\n";
  out << "parameters: " << grouped(cost.parameters) << " (" << std::fixed << std::setprecision(2) << cost.parameters * 4.0 / (1 << 20)
      << " MiB as float32); operations per image: " << grouped(cost.multiplications + cost.additions + cost.maximums) << "\n";
  if (spec.trainer.contains("max_params") && spec.trainer["max_params"].is_number()) {
    const auto limit = spec.trainer["max_params"].get<long long>();
    out << "max_params " << grouped(limit) << ": " << (cost.parameters > limit ? "OVER (the trainer refuses it as infeasible)" : "within")
        << "\n";
  }
  std::cout << out.str();
  return 0;
}

}  // namespace hpsearch
