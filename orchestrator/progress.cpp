#include "orchestrator/progress.hpp"

#include <unistd.h>

#include <cmath>

namespace hpsearch {

Progress::Progress(int total, const StudyHistory& before, Style style, std::FILE* out, std::chrono::seconds plain_interval)
    : total_(total), mode_(before.mode), style_(style), out_(out), plain_interval_(plain_interval) {
  for (const auto& t : before.trials) {
    if (is_finished(t.state)) count_finished(t.state, t.value, t.number);
  }
}

Progress::Style Progress::style_for(std::FILE* out) { return isatty(fileno(out)) ? Style::Live : Style::Plain; }

void Progress::trial_finished(TrialState state, std::optional<double> value, int number) {
  --running_;
  ++done_here_;
  count_finished(state, value, number);
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

std::string Progress::line() const {
  const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
  const double rate = elapsed > 0 ? done_here_ / elapsed : 0;
  const int remaining = total_ - done_;
  char buffer[256];
  std::string best = "-";
  if (best_) {
    std::snprintf(buffer, sizeof buffer, "%.6g (#%d)", *best_, best_number_);
    best = buffer;
  }
  std::snprintf(buffer, sizeof buffer, "%d/%d done, %d running, %d failed%s, best %s, %.3g trials/s, %s elapsed, %s left", done_, total_,
                running_, failed_, pruned_ ? (", " + std::to_string(pruned_) + " pruned").c_str() : "", best.c_str(), rate,
                format_duration(elapsed).c_str(), rate > 0 ? format_duration(remaining / rate).c_str() : "?");
  return buffer;
}

void Progress::tick() {
  if (style_ == Style::None) return;
  const auto now = Clock::now();
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
