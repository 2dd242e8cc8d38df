#include "orchestrator/progress.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <utility>

namespace hpsearch {

Progress::Progress(int total, const StudyHistory& before, Style style, std::string step_unit, std::FILE* out,
                   std::chrono::seconds plain_interval, std::function<Clock::time_point()> clock)
    : total_(total),
      mode_(before.mode),
      style_(style),
      step_unit_(std::move(step_unit)),
      out_(out),
      plain_interval_(plain_interval),
      clock_(std::move(clock)),
      start_(clock_()) {
  for (const auto& t : before.trials) {
    if (is_finished(t.state)) count_finished(t.state, t.value, t.number);
  }
}

Progress::Style Progress::style_for(std::FILE* out, bool under_launcher) {
  if (isatty(fileno(out))) return Style::Live;
  if (!under_launcher) return Style::Plain;
  // The launcher's stderr, as this process may open it: /proc/PARENT/fd/2.
  const std::string parent_stderr = "/proc/" + std::to_string(getppid()) + "/fd/2";
  const int fd = open(parent_stderr.c_str(), O_WRONLY | O_NOCTTY);
  if (fd < 0) return Style::Plain;
  const bool terminal = isatty(fd);
  close(fd);
  return terminal ? Style::Live : Style::Plain;
}

void Progress::trial_started(int number, std::optional<int> last_step) {
  running_[number] = Running{std::nullopt, last_step};
  estimate();
}

void Progress::trial_step(int number, int step) {
  if (auto it = running_.find(number); it != running_.end()) it->second.step = step;
  estimate();
}

void Progress::trial_stopped(int number) {
  running_.erase(number);
  estimate();
}

void Progress::trial_finished(TrialState state, std::optional<double> value, int number) {
  running_.erase(number);
  ++done_here_;
  count_finished(state, value, number);
  estimate();
}

void Progress::count_finished(TrialState state, std::optional<double> value, int number) {
  ++done_;
  if (state == TrialState::Fail) ++failed_;
  if (state == TrialState::Pruned) ++pruned_;
  if (state == TrialState::Complete && value) {
    const bool better = !best_ || (mode_ == ObjectiveMode::Minimize ? *value < *best_ : *value > *best_);
    if (better) {
      best_ = value;
      best_number_ = number;
    }
  }
}

double Progress::share_done(const Running& r) {
  if (!r.step || !r.last_step || *r.last_step <= 0) return 0;
  return std::clamp(static_cast<double>(*r.step) / *r.last_step, 0.0, 1.0);
}

void Progress::estimate() {
  const auto now = clock_();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  double running_share = 0;
  for (const auto& [number, r] : running_) running_share += share_done(r);
  const double work_done = done_here_ + running_share;
  estimated_at_ = now;
  if (work_done <= 0 || elapsed <= 0) {
    left_at_estimate_.reset();
    return;
  }
  const double work_left = std::max(0.0, total_ - done_ - running_share);
  left_at_estimate_ = work_left / (work_done / elapsed);
}

std::optional<double> Progress::seconds_left() const {
  if (!left_at_estimate_) return std::nullopt;
  const double since = std::chrono::duration<double>(clock_() - estimated_at_).count();
  return std::max(0.0, *left_at_estimate_ - since);
}

std::string Progress::running_text() const {
  // The first few running trials, by number: a line for a terminal, not a table of every worker.
  constexpr std::size_t kShown = 3;
  std::string text;
  std::size_t shown = 0;
  for (const auto& [number, r] : running_) {
    if (shown++ == kShown) {
      text += ", +" + std::to_string(running_.size() - kShown) + " more";
      break;
    }
    text += (text.empty() ? "" : ", ") + ("#" + std::to_string(number)) + " ";
    if (!r.step)
      text += "starting";
    else
      text += step_unit_ + " " + std::to_string(*r.step) + (r.last_step ? "/" + std::to_string(*r.last_step) : "");
  }
  return text.empty() ? "" : " (" + text + ")";
}

std::string Progress::line() const {
  const double elapsed = std::chrono::duration<double>(clock_() - start_).count();
  const double rate = elapsed > 0 ? done_here_ / elapsed : 0;
  char buffer[256];
  std::string best = "-";
  if (best_) {
    std::snprintf(buffer, sizeof buffer, "%.6g (#%d)", *best_, best_number_);
    best = buffer;
  }
  const std::optional<double> left = seconds_left();
  std::snprintf(buffer, sizeof buffer, "%d/%d done, %zu running%s, %d failed%s, best %s, %.3g trials/s, %s elapsed, %s left", done_, total_,
                running_.size(), running_text().c_str(), failed_, pruned_ ? (", " + std::to_string(pruned_) + " pruned").c_str() : "",
                best.c_str(), rate, format_duration(elapsed).c_str(), left ? format_duration(*left).c_str() : "?");
  return buffer;
}

void Progress::tick() {
  if (style_ == Style::None) return;
  const auto now = clock_();
  const auto interval = style_ == Style::Live ? std::chrono::duration_cast<Clock::duration>(std::chrono::milliseconds(100))
                                              : std::chrono::duration_cast<Clock::duration>(plain_interval_);
  if (now - last_draw_ < interval) return;
  last_draw_ = now;
  if (style_ == Style::Live)
    std::fprintf(out_, "\r\033[K%s", line().c_str());
  else
    std::fprintf(out_, "progress: %s\n", line().c_str());
  std::fflush(out_);
}

void Progress::finish() {
  if (style_ == Style::None) return;
  if (style_ == Style::Live)
    std::fprintf(out_, "\r\033[K%s\n", line().c_str());
  else
    std::fprintf(out_, "progress: %s\n", line().c_str());
  std::fflush(out_);
}

}  // namespace hpsearch
