# Graceful stop: SIGUSR2 to mpirun (what Slurm's --signal and OAR send before a walltime, which
# mpirun forwards), SIGTERM and SIGINT to the master rank (scancel, kill, Ctrl-C of a single
# process) each end the search with exit code 0 within the bound; the trials that were running
# are INTERRUPTED and the resume finishes the study: exactly the trials asked, each number once,
# each value what its configuration gives. SIGTERM to mpirun (Open MPI then kills the job with
# exit code 1) loses nothing either. A second signal, or the time bound, stops at once even when
# a step takes long.
source "$(dirname "$0")/lib.sh"

cat > "$WORK/curve.json" <<'JSON'
{"trainer": {"type": "synthetic", "function": "learning_curve", "steps": 10, "sleep_ms": 40},
 "objective": {"metric": "value", "mode": "min"},
 "trials": 16,
 "sampler": {"type": "random", "seed": 3},
 "params": {"x1": {"$uniform": [-5, 10]}, "x2": {"$uniform": [0, 15]}}}
JSON

count() { sqlite3 "$1" "SELECT count(*) FROM trials WHERE state = '$2'" 2>/dev/null || echo 0; }

# The pid of MPI rank $2 among the children of mpirun $1 (Open MPI sets OMPI_COMM_WORLD_RANK).
rank_pid() {
  for child in $(pgrep -P "$1"); do
    if tr '\0' '\n' < "/proc/$child/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2"; then echo "$child"; return; fi
  done
}

# stop_mid_search DB SIGNAL TARGET [hpsearch options]: starts the search, sends SIGNAL to TARGET
# (mpirun, or master: rank 0) once 3 trials are COMPLETE, and sets $code and $stop_seconds.
stop_mid_search() {
  local db=$1 signal=$2 target=$3
  shift 3
  mpirun -np 3 "$HPSEARCH" "$WORK/curve.json" --db "$db" --progress none "$@" > "$WORK/run.log" 2>&1 &
  local launcher=$!
  for _ in $(seq 600); do
    [ "$(count "$db" COMPLETE)" -ge 3 ] && break
    sleep 0.05
  done
  [ "$(count "$db" RUNNING)" -ge 1 ] || fail "no trial running when the signal was to be sent"
  local pid=$launcher
  [ "$target" = master ] && pid=$(rank_pid "$launcher" 0)
  [ -n "$pid" ] || fail "rank 0 not found"
  local start=$(date +%s.%N)
  kill "-$signal" "$pid"
  set +e
  wait "$launcher"
  code=$?
  set -e
  stop_seconds=$(echo "$(date +%s.%N) - $start" | bc)
  echo "$signal to $target: exit code $code after $stop_seconds s"
}

# After a stop: nothing is left RUNNING, and the resume ends the study as if never stopped.
CHECK_FINISHED='
def branin(x1, x2):
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1 ** 2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10
trials = s["trials"]
assert [t["number"] for t in trials] == list(range(16)), [t["number"] for t in trials]
assert all(t["state"] == "COMPLETE" for t in trials), [(t["number"], t["state"]) for t in trials]
for t in trials:
    x1, x2 = t["params"]["x1"], t["params"]["x2"]
    expected = branin(x1, x2) + 60.0 * math.exp(-10 / (3.0 + 12.0 * x2 / 15.0))
    assert abs(t["value"] - expected) < 1e-9, (t["number"], t["value"], expected)
    assert [st["step"] for st in t["steps"]] == list(range(1, 11))
rerun = [t for t in trials if t["attempts"]]
assert rerun, "no trial was interrupted"
for t in rerun:
    assert t["attempt"] == 2 and [a["state"] for a in t["attempts"]] == ["INTERRUPTED"], t
    assert t["attempts"][0]["error"].startswith("interrupted by " + SIGNAL), t["attempts"]
'
after_stop() {  # after_stop DB SIGNAL
  [ "$(count "$1" RUNNING)" = 0 ] || { sqlite3 "$1" "SELECT number, state FROM trials"; fail "trials left RUNNING after $2"; }
  [ "$(count "$1" INTERRUPTED)" -ge 1 ] || fail "no trial INTERRUPTED by $2"
  [ "$(count "$1" COMPLETE)" -lt 16 ] || fail "the search was not stopped by $2"
  [ "$(sqlite3 "$1" 'SELECT count(*) FROM locks')" = 0 ] || fail "the lock was not released after $2"
}

# SIGUSR2 to mpirun, then `hpsearch resume` (the space comes from the database).
stop_mid_search "$WORK/usr2.db" USR2 mpirun
[ "$code" = 0 ] || { cat "$WORK/run.log"; fail "SIGUSR2: exit code $code"; }
(( $(echo "$stop_seconds < 10" | bc) )) || fail "SIGUSR2: stopped after $stop_seconds s"
grep -q "stopped by SIGUSR2: [0-9]* trial(s) INTERRUPTED" "$WORK/run.log" || { cat "$WORK/run.log"; fail "no stop report"; }
after_stop "$WORK/usr2.db" SIGUSR2
mpirun -np 3 "$HPSEARCH" resume "$WORK/usr2.db" --progress none
check_summary "$WORK/usr2.db" "SIGNAL = 'SIGUSR2'
$CHECK_FINISHED"

# SIGTERM and SIGINT to the master rank, then the same command again.
for signal in TERM INT; do
  stop_mid_search "$WORK/$signal.db" "$signal" master
  [ "$code" = 0 ] || { cat "$WORK/run.log"; fail "SIG$signal: exit code $code"; }
  (( $(echo "$stop_seconds < 10" | bc) )) || fail "SIG$signal: stopped after $stop_seconds s"
  after_stop "$WORK/$signal.db" "SIG$signal"
  mpirun -np 3 "$HPSEARCH" "$WORK/curve.json" --db "$WORK/$signal.db" --progress none
  check_summary "$WORK/$signal.db" "SIGNAL = 'SIG$signal'
$CHECK_FINISHED"
done

# SIGTERM to mpirun (Ctrl-C on a terminal, or scancel, reach mpirun): Open MPI sends SIGTERM to
# the ranks a second later and SIGKILL a second after that, and exits with 1 whatever they do.
# The master records its running trials INTERRUPTED on that SIGTERM: nothing is left RUNNING.
stop_mid_search "$WORK/mpirun_term.db" TERM mpirun
[ "$code" != 0 ] || echo "(mpirun exited 0 after SIGTERM: a newer Open MPI?)"
after_stop "$WORK/mpirun_term.db" SIGTERM
mpirun -np 3 "$HPSEARCH" resume "$WORK/mpirun_term.db" --progress none
check_summary "$WORK/mpirun_term.db" "SIGNAL = 'SIGTERM'
$CHECK_FINISHED"

# Long steps (3 s without a report): a second signal stops at once, and without one the time
# bound (--stop-timeout 1, or the longest step seen: 3 s) does; the trials are INTERRUPTED.
cat > "$WORK/slow.json" <<'JSON'
{"trainer": {"type": "synthetic", "function": "learning_curve", "steps": 3, "sleep_ms": 3000},
 "trials": 4, "sampler": {"type": "random", "seed": 1},
 "params": {"x1": {"$uniform": [-5, 10]}, "x2": {"$uniform": [0, 15]}}}
JSON
slow_stop() {  # slow_stop DB SIGNALS_TO_SEND [options]: sets $code and $stop_seconds
  local db=$1 signals=$2
  shift 2
  mpirun -np 3 "$HPSEARCH" "$WORK/slow.json" --db "$db" --progress none "$@" > "$WORK/slow.log" 2>&1 &
  local launcher=$!
  for _ in $(seq 600); do
    [ "$(sqlite3 "$db" 'SELECT count(*) FROM steps' 2>/dev/null || echo 0)" -ge 1 ] && break
    sleep 0.05
  done
  sleep 0.5  # inside the trials' second step
  local start=$(date +%s.%N)
  for ((i = 0; i < signals; i++)); do
    kill -USR2 "$launcher"
    sleep 0.5
  done
  set +e
  wait "$launcher"
  code=$?
  set -e
  stop_seconds=$(echo "$(date +%s.%N) - $start" | bc)
  echo "$signals signal(s), long steps: exit code $code after $stop_seconds s"
  [ "$code" = 0 ] || { cat "$WORK/slow.log"; fail "exit code $code"; }
  [ "$(count "$db" RUNNING)" = 0 ] && [ "$(count "$db" INTERRUPTED)" = 2 ] || { sqlite3 "$db" "SELECT number, state FROM trials"; fail "states after the stop"; }
}
slow_stop "$WORK/twice.db" 2 --stop-timeout 60
grep -q "SIGUSR2 again: stopping at once" "$WORK/slow.log" || { cat "$WORK/slow.log"; fail "second signal not seen"; }
# 0.5 s between the signals, up to 2 s for the trainers (which do not look at stop_requested).
(( $(echo "$stop_seconds < 5" | bc) )) || fail "a second signal took $stop_seconds s"
slow_stop "$WORK/bound.db" 1 --stop-timeout 1
(( $(echo "$stop_seconds < 8" | bc) )) || fail "the stop bound took $stop_seconds s"
# --stop-within: a hard bound on the wait, for batch jobs whose walltime comes soon after the
# signal. Steps of 20 s, signalled while the first runs (no step seen yet): without the bound the
# wait is --stop-timeout 60 (or until the step ends, 20 s); with --stop-within 1, one second, then
# up to 2 s for the trainers to be left behind.
cat > "$WORK/slower.json" <<'JSON'
{"trainer": {"type": "synthetic", "function": "learning_curve", "steps": 3, "sleep_ms": 20000},
 "trials": 4, "sampler": {"type": "random", "seed": 1},
 "params": {"x1": {"$uniform": [-5, 10]}, "x2": {"$uniform": [0, 15]}}}
JSON
mpirun -np 3 "$HPSEARCH" "$WORK/slower.json" --db "$WORK/within.db" --progress none --stop-timeout 60 --stop-within 1 > "$WORK/within.log" 2>&1 &
launcher=$!
for _ in $(seq 600); do [ "$(count "$WORK/within.db" RUNNING)" = 2 ] && break; sleep 0.05; done
sleep 0.5
start=$(date +%s.%N)
kill -USR2 "$launcher"
wait "$launcher" || { cat "$WORK/within.log"; fail "--stop-within: exit code $?"; }
stop_seconds=$(echo "$(date +%s.%N) - $start" | bc)
echo "--stop-within 1, 20 s steps: exit code 0 after $stop_seconds s"
(( $(echo "$stop_seconds < 6" | bc) )) || fail "--stop-within 1 took $stop_seconds s"
[ "$(count "$WORK/within.db" RUNNING)" = 0 ] && [ "$(count "$WORK/within.db" INTERRUPTED)" = 2 ] || fail "states after --stop-within"
grep -q "at most 1 s" "$WORK/within.log" || { cat "$WORK/within.log"; fail "the stop message does not give the bound"; }
echo "stop signals: ok"
