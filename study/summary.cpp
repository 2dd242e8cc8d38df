#include "study/summary.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <map>
#include <ostream>
#include <sstream>

#include "core/errors.hpp"
#include "core/format.hpp"
#include "study/sqlite_storage.hpp"
#include "study/study_setup.hpp"
#include "study/study_spec.hpp"

namespace hpsearch {

using nlohmann::json;

namespace {

std::optional<double> duration_of(const TrialDetail& t) {
  if (t.started_at && t.finished_at) return *t.finished_at - *t.started_at;
  return std::nullopt;
}

json trial_json(const TrialDetail& t) {
  const auto duration = duration_of(t);
  return {{"number", t.number},
          {"state", to_string(t.state)},
          {"value", t.value ? json(*t.value) : json(nullptr)},
          {"params", t.config},
          {"duration_s", duration ? json(*duration) : json(nullptr)},
          {"steps", t.steps},
          {"error", t.error.empty() ? json(nullptr) : json(t.error)},
          {"worker", t.worker},
          {"attempt", t.attempt},     // 1 unless the trial ran again (retry, lost worker, resume)
          {"attempts", t.attempts}};  // the earlier attempts and how each ended
}

std::string compact(const json& value, std::size_t width) {
  std::string text;
  if (value.is_number_float()) {
    std::ostringstream s;
    s << std::setprecision(5) << value.get<double>();
    text = s.str();
  } else {
    text = value.is_string() ? value.get<std::string>() : value.dump();
  }
  if (text.size() > width) text = text.substr(0, width - 3) + "...";
  return text;
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
                       {"objective", {{"metric", spec.objective_metric}, {"mode", minimize ? "min" : "max"}}},
                       {"sampler", spec.sampler},
                       {"trainer", spec.trainer},
                       {"counts", counts}};
    json all = json::array();
    for (const auto& t : trials) all.push_back(trial_json(t));
    out << json{{"study", study_json}, {"best", best ? trial_json(*best) : json(nullptr)}, {"trials", all}}.dump(2) << "\n";
    return;
  }

  if (options.format == "csv") {
    out << "number,state,value,duration_s,worker";
    for (const auto& p : spec.space.parameters()) out << "," << csv_field(p.name);
    out << ",error\n";
    for (const auto& t : trials) {
      const auto duration = duration_of(t);
      out << t.number << "," << to_string(t.state) << "," << (t.value ? json(*t.value).dump() : "") << ","
          << (duration ? json(*duration).dump() : "") << "," << t.worker;
      std::map<std::string, json> shown;
      if (t.point.size() == spec.space.size()) {
        for (auto& [name, value] : spec.space.describe(t.point)) shown[name] = value;
      }
      for (const auto& p : spec.space.parameters()) {
        auto it = shown.find(p.name);
        out << "," << (it == shown.end() ? "" : csv_field(it->second.is_string() ? it->second.get<std::string>() : it->second.dump()));
      }
      out << "," << csv_field(t.error) << "\n";
    }
    return;
  }

  out << "study '" << study.name << "' in " << options.db_path << " (space " << study.space_file << ", " << spec.trainer.value("type", "?")
      << " trainer, " << spec.sampler.value("type", "random") << " sampler)\n";
  out << "objective: " << spec.objective_metric << " (" << (minimize ? "min" : "max") << "), " << spec.trials << " trials asked: ";
  bool first = true;
  for (const char* s : {"COMPLETE", "PRUNED", "FAIL", "RUNNING", "WAITING", "INTERRUPTED"}) {
    out << (first ? "" : ", ") << counts[s] << " " << s;
    first = false;
  }
  out << "\n";
  if (best) out << "best: trial " << best->number << ", " << spec.objective_metric << " = " << compact(json(*best->value), 20) << "\n";
  out << "\n"
      << std::left << std::setw(7) << "trial" << std::setw(10) << "state" << std::setw(14) << "value" << std::setw(10) << "duration"
      << "params\n";
  const std::size_t shown = std::min<std::size_t>(ranked.size(), static_cast<std::size_t>(options.top));
  for (std::size_t i = 0; i < shown; ++i) {
    const TrialDetail& t = *ranked[i];
    const auto duration = duration_of(t);
    out << std::left << std::setw(7) << t.number << std::setw(10) << to_string(t.state) << std::setw(14)
        << (t.value ? compact(json(*t.value), 13) : "-") << std::setw(10) << (duration ? format_duration(*duration) : "-");
    std::string params;
    if (t.point.size() == spec.space.size()) {
      for (const auto& [name, value] : spec.space.describe(t.point))
        params += (params.empty() ? "" : " ") + name + "=" + compact(value, 24);
    }
    out << params << "\n";
    if (!t.error.empty()) {  // why it failed, or why it stopped early (pruner, patience)
      std::string reason = t.error.substr(0, t.error.find('\n'));
      out << std::setw(7) << ""
          << "  " << (t.state == TrialState::Fail ? "failed: " : "stopped: ") << reason << "\n";
    }
  }
  if (ranked.size() > shown) out << "(" << ranked.size() - shown << " more; --top K shows more, --format json shows all)\n";
}

}  // namespace hpsearch
