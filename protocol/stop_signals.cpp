#include "protocol/stop_signals.hpp"

#include <signal.h>

#include <atomic>
#include <cstring>

namespace hpsearch::stop_signals {

namespace {

// Lock-free atomics are async-signal-safe; nothing else is touched in the handler.
std::atomic<int> received{0};
std::atomic<int> last_signal{0};
static_assert(std::atomic<int>::is_always_lock_free);

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGUSR2};

void on_signal(int signal_number) {
  last_signal.store(signal_number);
  received.fetch_add(1);
}

void set_all(void (*handler)(int)) {
  struct sigaction action;
  std::memset(&action, 0, sizeof action);
  action.sa_handler = handler;
  sigemptyset(&action.sa_mask);
  // SA_RESTART: a signal must not turn a system call in MPI or SQLite into an error.
  action.sa_flags = SA_RESTART;
  for (int s : kSignals) sigaction(s, &action, nullptr);
}

}  // namespace

void install() { set_all(on_signal); }
void ignore() { set_all(SIG_IGN); }
int count() { return received.load(); }
int last() { return last_signal.load(); }

const char* name(int signal_number) {
  switch (signal_number) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGUSR2: return "SIGUSR2";
    default: return "a signal";
  }
}

}  // namespace hpsearch::stop_signals
