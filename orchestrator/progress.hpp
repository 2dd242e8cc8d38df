#pragma once
// The master's progress display: trials done/total, running, failed, best value so far,
// trials per second, elapsed and remaining time. One live line on a terminal, redrawn at most
// ten times a second; plain lines every `plain_interval` otherwise (logs of batch jobs).
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

#include "core/format.hpp"
#include "search/history.hpp"

namespace hpsearch {

class Progress {
 public:
  enum class Style { Live, Plain, None };
  // `before`: the study as this run found it. Its finished trials count as done, failed, pruned
  // and towards the best value, so that a resumed search shows the study's figures, not only
  // this run's; the rate counts this run's trials only.
  Progress(int total, const StudyHistory& before, Style style, std::FILE* out = stderr,
           std::chrono::seconds plain_interval = std::chrono::seconds(10));

  void trial_started() { ++running_; }
  // A running trial that ended without a result (retried, interrupted, its worker lost).
  void trial_stopped() { --running_; }
  void trial_finished(TrialState state, std::optional<double> value, int number);
  // Redraws when due; cheap enough to call on every message.
  void tick();
  // The last line, always printed.
  void finish();
  std::string line() const;

  static Style style_for(std::FILE* out);  // Live on a terminal, else Plain

 private:
  using Clock = std::chrono::steady_clock;
  // Counts a finished trial (done, failed, pruned, best), whichever run finished it.
  void count_finished(TrialState state, std::optional<double> value, int number);

  int total_, done_ = 0, done_here_ = 0, running_ = 0, failed_ = 0, pruned_ = 0;
  ObjectiveMode mode_;
  Style style_;
  std::FILE* out_;
  std::chrono::seconds plain_interval_;
  std::optional<double> best_;
  int best_number_ = -1;
  Clock::time_point start_ = Clock::now(), last_draw_{};
};

}  // namespace hpsearch
