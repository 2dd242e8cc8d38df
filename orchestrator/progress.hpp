#pragma once
// The master's progress display: trials done/total, the running ones with their last step,
// failed, best value so far, trials per second, elapsed and remaining time. One live line on a
// terminal, redrawn at most ten times a second; plain lines every `plain_interval` otherwise
// (logs of batch jobs).
//
// The time left is work left over the rate of work done, in trials: a finished trial counts 1, a
// running one the share of its steps reported (its step over its last step, when the trainer
// knows that in advance: epochs, a synthetic curve's steps), so that an estimate exists before
// the first trial finishes. It is worked out again at each event (a trial started, a step
// reported, a trial ended) and counts down in between: it grows only when the work turns out
// slower than it had been.
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "core/format.hpp"
#include "search/history.hpp"

namespace hpsearch {

class Progress {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Style { Live, Plain, None };
  // `before`: the study as this run found it. Its finished trials count as done, failed, pruned
  // and towards the best value, so that a resumed search shows the study's figures, not only
  // this run's; the rate counts this run's work only. `step_unit` names the trainer's steps
  // ("epoch", "step"); `clock` is the time (a test's own).
  Progress(int total, const StudyHistory& before, Style style, std::string step_unit = "step", std::FILE* out = stderr,
           std::chrono::seconds plain_interval = std::chrono::seconds(10), std::function<Clock::time_point()> clock = Clock::now);

  // `last_step`: the step of the trial's last report, when known in advance.
  void trial_started(int number, std::optional<int> last_step);
  void trial_step(int number, int step);
  // A running trial that ended without a result (retried, interrupted, its worker lost).
  void trial_stopped(int number);
  void trial_finished(TrialState state, std::optional<double> value, int number);
  // Redraws when due; cheap enough to call on every message.
  void tick();
  // The last line, always printed.
  void finish();
  std::string line() const;
  // The time left in seconds as the line shows it; nullopt while there is nothing to estimate from.
  std::optional<double> seconds_left() const;

  // Live when `out` is a terminal, else Plain. Under an MPI launcher (`under_launcher`) the
  // master's stderr is a pipe to the launcher, whatever the launcher writes to (Open MPI makes
  // the ranks' stdout a pseudo-terminal even into a file, so that says nothing either): there the
  // launcher's own stderr decides, when the launcher is this process's parent (mpirun starts the
  // ranks of its own node), and Plain otherwise (a rank 0 on another node, srun).
  static Style style_for(std::FILE* out, bool under_launcher);

 private:
  struct Running {
    std::optional<int> step, last_step;
  };
  // Counts a finished trial (done, failed, pruned, best), whichever run finished it.
  void count_finished(TrialState state, std::optional<double> value, int number);
  // The share of a running trial's work done, 0 when its length is unknown.
  static double share_done(const Running& r);
  // Works out the time left again, after an event.
  void estimate();
  std::string running_text() const;

  int total_, done_ = 0, done_here_ = 0, failed_ = 0, pruned_ = 0;
  std::map<int, Running> running_;
  ObjectiveMode mode_;
  Style style_;
  std::string step_unit_;
  std::FILE* out_;
  std::chrono::seconds plain_interval_;
  std::function<Clock::time_point()> clock_;
  std::optional<double> best_;
  int best_number_ = -1;
  Clock::time_point start_, last_draw_{};
  std::optional<double> left_at_estimate_;  // seconds left, as of estimated_at_
  Clock::time_point estimated_at_{};
};

}  // namespace hpsearch
