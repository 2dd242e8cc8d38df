// hpsearch make-data balls|balls-seq --out DIR [--count N] [--seed S] [--threads T]
//
// Writes a ball data set in the seed's format (trainers/core/data/balls_generator.hpp), so that the
// detect and forecast trainers have data where the original COPHY subset cannot be downloaded.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "app/command_line.hpp"
#include "app/commands.hpp"
#include "core/errors.hpp"
#include "trainers/core/data/balls_generator.hpp"

namespace hpsearch {
namespace {

namespace fs = std::filesystem;

// The help's list of the options (parsed by hand below, not by boost: its messages are make-data's own).
boost::program_options::options_description make_data_options() {
  namespace po = boost::program_options;
  po::options_description options("make-data options");
  options.add_options()("out", po::value<std::string>()->value_name("DIR"),
                        "the folder to write (created; refused when it holds other files)")(
      "count", po::value<std::string>()->value_name("N"), "number of samples (default 21000 for balls, 7000 for balls-seq)")(
      "seed", po::value<std::string>()->value_name("S"), "random seed (default 0): the same seed writes the same files")(
      "threads", po::value<std::string>()->value_name("T"), "threads that write (default 0: every core)");
  return options;
}

// Left in every folder make-data writes: a later make-data may replace such a folder's files,
// while any other non-empty folder (a real data set, someone's work) is refused.
constexpr const char* kMarker = ".hpsearch-make-data";

long long parse_integer(const std::string& option, const std::string& text, long long low, long long high) {
  const std::optional<long long> value = whole_integer(text);
  if (!value || *value < low || *value > high) {
    throw UserError("make-data " + option + " " + text + ": expected an integer in [" + std::to_string(low) + ", " + std::to_string(high) +
                    "]\n" + usage_hint(kMakeDataUsage));
  }
  return *value;
}

bool is_generated_file(const std::string& name) {
  const auto ends = [&](const char* suffix) {
    const std::string s(suffix);
    return name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
  };
  return (name.rfind("img_", 0) == 0 && ends(".jpg")) || (name.rfind("p_", 0) == 0 && ends(".npy")) ||
         (name.rfind("seq_bb_", 0) == 0 && ends(".npy"));
}

// Makes `folder` ready: created when missing, used when empty, emptied of its data files when a
// previous make-data wrote it; any other content is refused before anything is written.
void prepare_folder(const fs::path& folder) {
  std::error_code ec;
  if (!fs::exists(folder, ec)) {
    fs::create_directories(folder, ec);
    if (ec) throw UserError(folder.string() + ": cannot create the output folder: " + ec.message());
    return;
  }
  if (!fs::is_directory(folder, ec)) throw UserError(folder.string() + ": --out exists and is not a folder");
  if (fs::is_empty(folder, ec)) return;
  if (!fs::exists(folder / kMarker)) {
    throw UserError(folder.string() +
                    ": --out is a non-empty folder that make-data did not write; refusing to mix files into it "
                    "(give a new or empty folder)");
  }
  for (const auto& entry : fs::directory_iterator(folder)) {
    if (entry.is_regular_file() && is_generated_file(entry.path().filename().string())) fs::remove(entry.path());
  }
}

}  // namespace

const CommandUsage kMakeDataUsage{"make-data", "usage: hpsearch make-data balls|balls-seq --out DIR [--count N] [--seed S] [--threads T]\n",
                                  "write a ball data set in the seed's format (images for detect, sequences for forecast)",
                                  "balls:     img_NNNNN.jpg + p_bb_NNNNN.npy (detect; default count 21000, as mini_balls)\n"
                                  "balls-seq: p_NNNNN.npy + seq_bb_NNNNN.npy (forecast; default count 7000, as mini_balls_seq)\n"};

int run_make_data_command(int argc, char** argv) {
  std::string kind, out;
  long long count = -1, seed = 0, threads = 0;
  if (asks_for_help(argc, argv)) {
    print_help(kMakeDataUsage, make_data_options());
    throw HelpShown{};
  }
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i], value;
    const bool is_option = arg.rfind("--", 0) == 0;
    if (is_option) {
      if (const auto eq = arg.find('='); eq != std::string::npos) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        throw UserError("make-data " + arg + ": missing value\n" + usage_hint(kMakeDataUsage));
      }
    }
    if (!is_option) {
      if (!kind.empty()) throw UserError("make-data: unexpected argument '" + arg + "'\n" + usage_hint(kMakeDataUsage));
      kind = arg;
    } else if (arg == "--out") {
      out = value;
    } else if (arg == "--count") {
      count = parse_integer(arg, value, 1, 10'000'000);
    } else if (arg == "--seed") {
      seed = parse_integer(arg, value, 0, 9'000'000'000'000'000'000LL);
    } else if (arg == "--threads") {
      threads = parse_integer(arg, value, 0, 1024);
    } else {
      throw UserError("make-data: unknown option " + arg + "\n" + usage_hint(kMakeDataUsage));
    }
  }
  if (kind != "balls" && kind != "balls-seq") {
    throw UserError("make-data: " + (kind.empty() ? std::string("no data set given") : "unknown data set '" + kind + "'") +
                    "; use balls or balls-seq\n" + usage_hint(kMakeDataUsage));
  }
  if (out.empty()) throw UserError("make-data: --out DIR is required\n" + usage_hint(kMakeDataUsage));
  const bool images = kind == "balls";
  if (count < 0) count = images ? 21000 : 7000;
  const fs::path folder(out);
  prepare_folder(folder);
  {
    std::ofstream marker(folder / kMarker);
    marker << "{\"kind\": \"" << kind << "\", \"count\": " << count << ", \"seed\": " << seed << "}\n";
    if (!marker) throw Error((folder / kMarker).string() + ": cannot write");
  }
  const auto report = data::generate_ball_data(images ? data::BallDataKind::Images : data::BallDataKind::Sequences, folder, count,
                                               static_cast<std::uint64_t>(seed), static_cast<int>(threads));
  std::fprintf(stderr,
               "hpsearch: wrote %lld %s samples to %s in %.2f s (%.0f samples/s); boxes x1 %g..%g, y1 %g..%g, x2 %g..%g, y2 %g..%g "
               "(BBOX_SCALE %g %g %g %g)\n",
               count, kind.c_str(), folder.string().c_str(), report.seconds, count / report.seconds, report.box_min[0], report.box_max[0],
               report.box_min[1], report.box_max[1], report.box_min[2], report.box_max[2], report.box_min[3], report.box_max[3], 89.0, 88.0,
               99.0, 99.0);
  return 0;
}

}  // namespace hpsearch
