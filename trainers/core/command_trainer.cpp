#include "trainers/core/command_trainer.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <deque>
#include <fstream>
#include <limits>
#include <optional>

#include "core/errors.hpp"
#include "core/json_input.hpp"

extern char** environ;

namespace hpsearch {

namespace {

using Clock = std::chrono::steady_clock;
constexpr double kTermGraceSeconds = 3.0;
constexpr std::size_t kStderrTailLines = 20;

std::string substitute(std::string text, const std::string& key, const std::string& value) {
  for (std::size_t pos = text.find(key); pos != std::string::npos; pos = text.find(key, pos + value.size())) {
    text.replace(pos, key.size(), value);
  }
  return text;
}

// A stdout line as a JSON object, or a discarded value when it is not one. Python's json.dumps
// writes NaN, Infinity and -Infinity, which JSON lacks: a diverging training reports exactly
// those, and they must reach the worker as non-finite values (a FAIL), not vanish into the log.
nlohmann::json parse_report(const std::string& line) {
  nlohmann::json report = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  // A line nested deeper than any report would be stored and printed by recursive code: it is
  // output for the log, not a report (core/json_input.hpp).
  if (!report.is_discarded() && json_depth(report) > kMaxJsonDepth) return nlohmann::json(nlohmann::json::value_t::discarded);
  if (report.is_object() || line.find_first_of("NI") == std::string::npos) return report;
  std::string quoted;  // the bare tokens turned into marker strings, outside JSON strings only
  bool in_string = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (in_string) {
      quoted += c;
      if (c == '\\' && i + 1 < line.size())
        quoted += line[++i];
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    bool replaced = false;
    for (const char* token : {"-Infinity", "Infinity", "NaN"}) {
      if (line.compare(i, std::strlen(token), token) == 0) {
        quoted += std::string("\"\\u0001") + token + "\"";  // JSON strings hold no raw control characters
        i += std::strlen(token) - 1;
        replaced = true;
        break;
      }
    }
    if (!replaced) quoted += c;
  }
  report = nlohmann::json::parse(quoted, nullptr, /*allow_exceptions=*/false);
  if (!report.is_object()) return report;
  for (auto& [key, value] : report.items()) {
    if (!value.is_string() || value.get<std::string>().rfind("\x01", 0) != 0) continue;
    const std::string token = value.get<std::string>().substr(1);
    value = token == "NaN" ? std::numeric_limits<double>::quiet_NaN()
                           : (token == "Infinity" ? 1.0 : -1.0) * std::numeric_limits<double>::infinity();
  }
  return report;
}

// Splits a byte stream into lines; the last partial line is kept until more bytes come.
struct LineBuffer {
  std::string pending;
  template <typename OnLine>
  void feed(const char* data, std::size_t n, OnLine&& on_line) {
    pending.append(data, n);
    std::size_t start = 0;
    for (std::size_t nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n', start)) {
      on_line(pending.substr(start, nl - start));
      start = nl + 1;
    }
    pending.erase(0, start);
  }
  template <typename OnLine>
  void flush(OnLine&& on_line) {
    if (!pending.empty()) on_line(pending);
    pending.clear();
  }
};

// The child process and its group; the destructor makes sure nothing is left running.
class ChildProcess {
 public:
  explicit ChildProcess(const std::vector<std::string>& argv) {
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) throw Error(std::string("pipe: ") + std::strerror(errno));
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // A process group of its own, so that a timeout kills the program and everything it started.
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attr, 0);
    sigset_t empty, all;
    sigemptyset(&empty);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &empty);
    posix_spawnattr_setsigdefault(&attr, &all);
    // The program runs in the search's working directory, so relative paths in argv work.
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const int rc = posix_spawnp(&pid_, args[0], &actions, &attr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    close(out[1]);
    close(err[1]);
    stdout_fd_ = out[0];
    stderr_fd_ = err[0];
    if (rc != 0) {
      pid_ = -1;
      throw Error("cannot start '" + argv[0] + "': " + std::strerror(rc));
    }
  }
  ~ChildProcess() {
    if (pid_ > 0 && !reaped_) {
      kill(-pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (stdout_fd_ >= 0) close(stdout_fd_);
    if (stderr_fd_ >= 0) close(stderr_fd_);
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  void signal_group(int sig) const {
    if (pid_ > 0 && !reaped_) kill(-pid_, sig);
  }
  // Non-blocking; returns the wait status once the process has exited.
  std::optional<int> try_reap() {
    if (reaped_) return status_;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      reaped_ = true;
      status_ = status;
      kill(-pid_, SIGKILL);  // children it left behind in its group
      return status_;
    }
    return std::nullopt;
  }
  int wait() {
    if (!reaped_) {
      waitpid(pid_, &status_, 0);
      reaped_ = true;
      kill(-pid_, SIGKILL);
    }
    return status_;
  }
  int& stdout_fd() { return stdout_fd_; }
  int& stderr_fd() { return stderr_fd_; }

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1, stderr_fd_ = -1;
  bool reaped_ = false;
  int status_ = 0;
};

}  // namespace

const settings::Table& command_settings_table() {
  namespace t = settings;
  static const settings::Table table{
      "command trainer",
      {t::required(t::any("argv", nullptr,
                          "the program and its arguments, e.g. `[\"python3\", \"train.py\", \"--config\", \"{config}\"]`, with the "
                          "placeholders `{config}`, `{trial}` and `{trial_dir}`")),
       t::open_min(t::number("timeout_s", 3600,
                             "seconds the program may run; past them its whole process group is killed and the trial FAILs", 0))},
      {"type"}};
  return table;
}

CommandTrainer::CommandTrainer(const nlohmann::json& settings, const std::string& file) {
  const settings::Reader s(settings, command_settings_table(), file, "trainer");
  const nlohmann::json argv = s.value("argv");
  if (!argv.is_array() || argv.empty()) s.fail("argv", "must be a non-empty array of strings");
  for (const auto& a : argv) {
    if (!a.is_string()) s.fail("argv", "must be a non-empty array of strings, got " + a.dump());
    argv_.push_back(a.get<std::string>());
  }
  timeout_s_ = s.number("timeout_s");
}

double CommandTrainer::run(const TrialContext& trial, StepReporter& reporter) {
  const std::filesystem::path config_path = write_trial_config(trial);
  std::vector<std::string> argv;
  for (const auto& a : argv_) {
    argv.push_back(substitute(substitute(substitute(a, "{config}", config_path.string()), "{trial_dir}", trial.trial_dir.string()),
                              "{trial}", std::to_string(trial.number)));
  }
  std::ofstream log(trial.trial_dir / "log.txt", std::ios::app);

  ChildProcess child(argv);
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s_));
  std::optional<Clock::time_point> kill_at;  // set once we asked the program to stop
  bool timed_out = false, stopped_by_master = false;
  std::optional<double> objective;
  int reports = 0;
  std::deque<std::string> stderr_tail;
  LineBuffer out_lines, err_lines;

  auto on_stdout_line = [&](const std::string& line) {
    nlohmann::json report = parse_report(line);
    if (!report.is_object()) {
      log << line << "\n";
      return;
    }
    int step = ++reports;
    if (report.contains("step")) {
      if (report["step"].is_number_integer()) step = report["step"].get<int>();
      report.erase("step");
    }
    if (report.contains(trial.objective_metric) && report[trial.objective_metric].is_number()) {
      objective = report[trial.objective_metric].get<double>();
    }
    if (!stopped_by_master && !reporter.report(step, report)) {
      stopped_by_master = true;
      child.signal_group(SIGTERM);
      kill_at = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(kTermGraceSeconds));
    }
  };
  auto on_stderr_line = [&](const std::string& line) {
    log << line << "\n";
    stderr_tail.push_back(line);
    if (stderr_tail.size() > kStderrTailLines) stderr_tail.pop_front();
  };

  char buffer[65536];
  while (child.stdout_fd() >= 0 || child.stderr_fd() >= 0) {
    const auto now = Clock::now();
    if (!timed_out && !stopped_by_master && now >= deadline) {
      timed_out = true;
      child.signal_group(SIGKILL);
    }
    if (kill_at && now >= *kill_at) child.signal_group(SIGKILL);
    if (!stopped_by_master && reporter.stop_requested()) {
      // The search ends now: the program gets SIGTERM (to save what it can) as when pruned.
      stopped_by_master = true;
      child.signal_group(SIGTERM);
      kill_at = now + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(kTermGraceSeconds));
    }
    pollfd fds[2] = {{child.stdout_fd(), POLLIN, 0}, {child.stderr_fd(), POLLIN, 0}};
    const int ready = poll(fds, 2, 200);
    if (ready < 0 && errno != EINTR) throw Error(std::string("poll: ") + std::strerror(errno));
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        if (i == 0)
          out_lines.feed(buffer, static_cast<std::size_t>(n), on_stdout_line);
        else
          err_lines.feed(buffer, static_cast<std::size_t>(n), on_stderr_line);
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        close(fds[i].fd);
        (i == 0 ? child.stdout_fd() : child.stderr_fd()) = -1;
      }
    }
    // The program may have exited while a process it started still holds the pipes open:
    // reaping kills the rest of its group, which closes them.
    child.try_reap();
  }
  out_lines.flush(on_stdout_line);
  err_lines.flush(on_stderr_line);
  const int status = child.wait();

  // Summaries show a reason's first line: it ends with the last line the program wrote on stderr,
  // which says why it stopped (python's "can't open file ...", a traceback's exception); the
  // lines before it follow on the next lines.
  auto tail = [&] {
    std::string last, text;
    for (const auto& l : stderr_tail) {
      text += "\n  " + l;
      const auto end = l.find_last_not_of(" \t\r");
      if (end != std::string::npos) last = l.substr(0, end + 1);
    }
    if (last.empty()) return std::string(" (stderr was empty)");
    return ": " + last + "\nlast lines of stderr:" + text;
  };
  if (stopped_by_master) return objective.value_or(std::nan(""));
  if (timed_out) {
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%g", timeout_s_);
    throw Error(std::string("command timed out after ") + seconds + " s (timeout_s) and was killed" + tail());
  }
  if (WIFSIGNALED(status))
    throw Error("command killed by signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")" + tail());
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
    throw Error("command exited with code " + std::to_string(WEXITSTATUS(status)) + tail());
  }
  if (!objective) {
    throw Error("command reported no '" + trial.objective_metric + "' metric: print a JSON line such as {\"step\": 1, \"" +
                trial.objective_metric + "\": 0.5} on stdout" + tail());
  }
  return *objective;
}

}  // namespace hpsearch
