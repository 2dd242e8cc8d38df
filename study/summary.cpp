#include "study/summary.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <filesystem>
#include <iomanip>
#include <map>
#include <ostream>
#include <sstream>

#include "core/errors.hpp"
#include "core/format.hpp"
#include "study/sqlite_storage.hpp"
#include "study/study_setup.hpp"
#include "study/study_spec.hpp"
#include "study/trial_choice.hpp"

namespace hpsearch {

using nlohmann::json;

namespace {

std::optional<double> duration_of(const TrialDetail& t) {
  if (t.started_at && t.finished_at) return *t.finished_at - *t.started_at;
  return std::nullopt;
}

// Each active parameter of the trial by its label, as the table shows it; empty when the trial's
// point does not fit the space (an earlier version of the study).
std::vector<std::pair<std::string, json>> named_params(const SearchSpace& space, const TrialDetail& t) {
  if (t.point.size() != space.size()) return {};
  return space.describe(t.point);
}

// The step the trial's value came from: the one objective.use picks among its trained steps, or,
// for a value that is not (a database of an hpsearch that counted step 0, a trainer that returned
// a value of its own), the first step that reported exactly it; none when no step did.
std::optional<int> value_step(const TrialDetail& t, const StudySpec& spec) {
  if (!t.value) return std::nullopt;
  std::vector<std::pair<int, double>> reported;
  for (const json& s : t.steps) {
    if (s.contains("step") && s["step"].is_number_integer() && s.contains(spec.objective_metric) && s[spec.objective_metric].is_number())
      reported.emplace_back(s["step"].get<int>(), s[spec.objective_metric].get<double>());
  }
  const std::optional<StepValue> chosen = objective_from_steps(reported, spec.mode, spec.objective_use);
  if (chosen && chosen->value == *t.value) return chosen->step;
  for (const auto& [step, value] : reported)
    if (value == *t.value) return step;
  return std::nullopt;
}

// `root`: the study's trial folders (trial_root); a trial's is given when it exists (a trainer
// that writes no file makes none).
json trial_json(const TrialDetail& t, const StudySpec& spec, const std::filesystem::path& root) {
  const auto duration = duration_of(t);
  const auto step = value_step(t, spec);
  const std::filesystem::path folder = root / std::to_string(t.number);
  std::error_code error;
  json named = json::object();
  for (auto& [label, value] : named_params(spec.space, t)) named[label] = value;
  return {{"number", t.number},
          {"state", to_string(t.state)},
          {"value", t.value ? json(*t.value) : json(nullptr)},
          {"step", step ? json(*step) : json(nullptr)},  // the step the value came from
          {"params", t.config},
          {"duration_s", duration ? json(*duration) : json(nullptr)},
          {"steps", t.steps},
          {"error", t.error.empty() ? json(nullptr) : json(t.error)},
          {"worker", t.worker},
          {"folder", std::filesystem::is_directory(folder, error) ? json(folder.string()) : json(nullptr)},
          {"attempt", t.attempt},    // 1 unless the trial ran again (retry, lost worker, resume)
          {"attempts", t.attempts},  // the earlier attempts and how each ended
          {"named_params", named}};
}

// A value as the table prints it: floats to 5 significant digits, strings unquoted.
std::string compact(const json& value) {
  if (value.is_number_float()) {
    std::ostringstream s;
    s << std::setprecision(5) << value.get<double>();
    return s.str();
  }
  return value.is_string() ? value.get<std::string>() : value.dump();
}

// Lays out words on lines of at most `width` columns: the first line starts at column `first`
// (the caller printed what comes before), the next ones are indented by `indent`. A word longer
// than a line is cut across lines, after a '.' or '=' where one fits. Ends with a newline.
std::string wrap(const std::vector<std::string>& words, std::size_t first, std::size_t indent, std::size_t width) {
  std::string out;
  std::size_t column = first;
  bool line_empty = true;
  for (std::string word : words) {
    // A word that does not fit starts the next line (and is cut there if still too long).
    if (column + (line_empty ? 0 : 1) + word.size() > width && column > indent) {
      out += "\n" + std::string(indent, ' ');
      column = indent;
      line_empty = true;
    }
    if (!line_empty) {
      out += ' ';
      ++column;
    }
    while (column + word.size() > width && width > column) {
      // Cut after the last '.' or '=' that fits (a parameter's name splits between its keys).
      std::size_t cut = width - column;
      const std::size_t key_end = word.find_last_of(".=", cut - 1);
      if (key_end != std::string::npos && key_end > 0) cut = key_end + 1;
      out += word.substr(0, cut) + "\n" + std::string(indent, ' ');
      word.erase(0, cut);
      column = indent;
    }
    out += word;
    column += word.size();
    line_empty = false;
  }
  return out + "\n";
}

std::vector<std::string> words_of(const std::string& text) {
  std::vector<std::string> words;
  std::istringstream in(text);
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

// The table's fixed columns, left to right; the parameters follow, wrapped. One line adds a column.
struct Column {
  const char* title;
  std::size_t width;
  std::function<std::string(const TrialDetail&)> cell;
};

std::vector<Column> table_columns(const StudySpec& spec) {
  return {
      {"trial", 7, [](const TrialDetail& t) { return std::to_string(t.number); }},
      {"state", 10, [](const TrialDetail& t) { return std::string(to_string(t.state)); }},
      {"value", 14, [](const TrialDetail& t) { return t.value ? compact(json(*t.value)) : std::string("-"); }},
      {"step", 6,
       [&spec](const TrialDetail& t) {
         const auto step = value_step(t, spec);
         return step ? std::to_string(*step) : std::string("-");
       }},
      {"duration", 10,
       [](const TrialDetail& t) {
         const auto duration = duration_of(t);
         return duration ? format_duration(*duration) : std::string("-");
       }},
  };
}

// Narrowest room for the parameters beside the fixed columns (wider when one parameter needs it);
// narrower, they go under each row.
constexpr std::size_t kMinParamsWidth = 36;
// Where the parameters and failure reasons start on their own lines.
constexpr std::size_t kBelowIndent = 4;
// Narrowest width the table is laid out for, whatever the terminal says.
constexpr int kMinWidth = 40;

// The rows of the table: the fixed columns, then the parameters that differ between `listed`
// (the others once, above), then each trial's failure or stop reason.
void print_table(const StudySpec& spec, const std::vector<const TrialDetail*>& listed, std::size_t width, std::ostream& out) {
  const std::vector<Column> columns = table_columns(spec);
  std::vector<std::vector<std::pair<std::string, json>>> params;
  for (const TrialDetail* t : listed) params.push_back(named_params(spec.space, *t));
  // A parameter is common when every listed trial has it with the same value (two trials at least).
  std::map<std::string, std::pair<json, std::size_t>> seen;  // label: first value, trials with that value
  for (const auto& trial_params : params) {
    for (const auto& [label, value] : trial_params) {
      const auto it = seen.emplace(label, std::make_pair(value, 0)).first;
      if (it->second.first == value) ++it->second.second;
    }
  }
  auto is_common = [&](const std::string& label) { return listed.size() > 1 && seen.at(label).second == listed.size(); };
  std::vector<std::string> common;
  if (!params.empty()) {
    for (const auto& [label, value] : params.front())
      if (is_common(label)) common.push_back(label + "=" + compact(value));
  }
  if (!common.empty()) {
    const std::string intro = "same in every trial listed:";
    out << intro << " " << wrap(common, intro.size() + 1, 2, width);
  }
  out << "\n";

  std::string header;
  for (const auto& c : columns) {
    header += c.title;
    header.resize(header.size() + c.width - std::string(c.title).size(), ' ');
  }
  std::vector<std::vector<std::string>> differing(listed.size());
  std::size_t widest = kMinParamsWidth;
  for (std::size_t i = 0; i < listed.size(); ++i) {
    for (const auto& [label, value] : params[i]) {
      if (is_common(label)) continue;
      differing[i].push_back(label + "=" + compact(value));
      widest = std::max(widest, differing[i].back().size());
    }
  }
  // Beside the fixed columns when every parameter fits there whole, else under each row.
  const std::size_t fixed = header.size();
  const bool beside = width >= fixed + widest;
  out << (beside ? header + "params" : header.substr(0, header.find_last_not_of(' ') + 1)) << "\n";
  for (std::size_t i = 0; i < listed.size(); ++i) {
    const TrialDetail& t = *listed[i];
    std::string row;
    for (const auto& c : columns) {
      std::string cell = c.cell(t);
      cell.resize(std::max(cell.size() + 1, c.width), ' ');
      row += cell;
    }
    if (beside && !differing[i].empty()) {
      out << row << wrap(differing[i], row.size(), fixed, width);
    } else {
      out << row.substr(0, row.find_last_not_of(' ') + 1) << "\n";
      if (!differing[i].empty()) out << std::string(kBelowIndent, ' ') << wrap(differing[i], kBelowIndent, kBelowIndent, width);
    }
    if (!t.error.empty()) {  // why it failed, or why it stopped early (pruner, patience): its first line
      std::vector<std::string> reason = words_of(t.error.substr(0, t.error.find('\n')));
      reason.insert(reason.begin(), t.state == TrialState::Fail ? "failed:" : "stopped:");
      out << std::string(kBelowIndent, ' ') << wrap(reason, kBelowIndent, kBelowIndent + 2, width);
    }
  }
}

std::string csv_field(std::string text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += (c == '"') ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

void summarize(const SummaryOptions& options, std::ostream& out) {
  if (options.format != "table" && options.format != "json" && options.format != "csv") {
    throw UserError("--format " + options.format + ": use table, json or csv");
  }
  if (options.top < 1) throw UserError("--top must be at least 1");
  SqliteStorage storage(options.db_path, SqliteStorage::Access::ReadOnly);
  const StoredStudy study = choose_study(storage.studies(), options.db_path, options.study);
  const StudySpec spec = StudySpec::from_document(study.document, options.db_path + " (study " + study.name + ")", study.space_text);
  const auto trials = storage.trial_details(study);
  const std::filesystem::path root = trial_root(options.db_path, study.name);

  // Best first: complete trials by objective, then the others by number.
  std::vector<const TrialDetail*> ranked;
  for (const auto& t : trials) ranked.push_back(&t);
  const bool minimize = spec.mode == ObjectiveMode::Minimize;
  std::stable_sort(ranked.begin(), ranked.end(), [&](const TrialDetail* a, const TrialDetail* b) {
    const bool a_ok = a->state == TrialState::Complete && a->value, b_ok = b->state == TrialState::Complete && b->value;
    if (a_ok != b_ok) return a_ok;
    if (!a_ok) return false;
    return minimize ? *a->value < *b->value : *a->value > *b->value;
  });
  const TrialDetail* best =
      (!ranked.empty() && ranked.front()->state == TrialState::Complete && ranked.front()->value) ? ranked.front() : nullptr;

  std::map<std::string, int> counts;
  for (const char* s : {"COMPLETE", "PRUNED", "FAIL", "RUNNING", "WAITING", "INTERRUPTED"}) counts[s] = 0;
  for (const auto& t : trials) ++counts[to_string(t.state)];

  if (options.format == "json") {
    json study_json = {{"name", study.name},
                       {"space_file", study.space_file},
                       {"created_at", study.created_at},
                       {"trials_asked", spec.trials},
                       {"objective",
                        {{"metric", spec.objective_metric},
                         {"mode", minimize ? "min" : "max"},
                         {"use", spec.objective_use == ObjectiveUse::Last ? "last" : "best"}}},
                       {"sampler", spec.sampler},
                       {"trainer", spec.trainer},
                       {"counts", counts}};
    json all = json::array();
    for (const auto& t : trials) all.push_back(trial_json(t, spec, root));
    out << json{{"study", study_json}, {"best", best ? trial_json(*best, spec, root) : json(nullptr)}, {"trials", all}}.dump(2) << "\n";
    return;
  }

  if (options.format == "csv") {
    const std::vector<std::string> labels = spec.space.labels();
    out << "number,state,value,duration_s,worker";
    for (const auto& label : labels) out << "," << csv_field(label);
    out << ",error\n";
    for (const auto& t : trials) {
      const auto duration = duration_of(t);
      out << t.number << "," << to_string(t.state) << "," << (t.value ? json(*t.value).dump() : "") << ","
          << (duration ? json(*duration).dump() : "") << "," << t.worker;
      std::map<std::string, json> shown;
      for (auto& [label, value] : named_params(spec.space, t)) shown[label] = value;
      for (const auto& label : labels) {
        auto it = shown.find(label);
        out << "," << (it == shown.end() ? "" : csv_field(it->second.is_string() ? it->second.get<std::string>() : it->second.dump()));
      }
      out << "," << csv_field(t.error) << "\n";
    }
    return;
  }

  const auto width = static_cast<std::size_t>(std::max(options.width, kMinWidth));
  out << wrap(words_of("study '" + study.name + "' in " + options.db_path + " (space " + study.space_file + ", " +
                       spec.trainer.value("type", "?") + " trainer, " + spec.sampler.value("type", "random") + " sampler)"),
              0, 2, width);
  std::string counted;
  for (const char* s : {"COMPLETE", "PRUNED", "FAIL", "RUNNING", "WAITING", "INTERRUPTED"})
    counted += (counted.empty() ? "" : ", ") + std::to_string(counts[s]) + " " + s;
  out << wrap(words_of("objective: " + spec.objective_metric + " (" + (minimize ? "min" : "max") + "), " + std::to_string(spec.trials) +
                       " trials asked: " + counted),
              0, 2, width);
  if (best) {
    const auto step = value_step(*best, spec);
    out << wrap(words_of("best: trial " + std::to_string(best->number) + ", " + spec.objective_metric + " = " + compact(json(*best->value)) +
                         (step ? " at step " + std::to_string(*step) : "")),
                0, 2, width);
  }
  std::error_code no_folders;
  if (std::filesystem::is_directory(root, no_folders))
    out << wrap(words_of("trial folders: " + (root / "N").string() + " (N: the trial's number)"), 0, 2, width);
  const std::size_t shown = std::min<std::size_t>(ranked.size(), static_cast<std::size_t>(options.top));
  print_table(spec, std::vector<const TrialDetail*>(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(shown)), width, out);
  if (ranked.size() > shown)
    out << wrap(words_of("(" + std::to_string(ranked.size() - shown) + " more; --top K shows more, --format json shows all)"), 0, 1, width);
}

}  // namespace hpsearch
