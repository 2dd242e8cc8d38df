# --run-report FILE: how a run ended and what it did, for the batch scripts' requeue decision.
# A search stopped by SIGUSR2 while its trial is new has advanced it; the same search stopped
# again before the rerun trial (which restarts from step 1: the synthetic trainer keeps no
# checkpoint) got past its last recorded step has neither finished nor advanced anything, which
# is what tells a batch script that requeueing would only repeat that run. A run that ends the
# study says "finished"; a report in a missing folder is a user's mistake (exit 2, no database).
source "$(dirname "$0")/lib.sh"

cat > "$WORK/slow.json" <<'JSON'
{"trainer": {"type": "synthetic", "function": "learning_curve", "steps": 30, "sleep_ms": 100},
 "objective": {"metric": "value", "mode": "min"},
 "trials": 2,
 "sampler": {"type": "random", "seed": 5},
 "params": {"x1": {"$uniform": [-5, 10]}, "x2": {"$uniform": [0, 15]}}}
JSON
db=$WORK/runs.db
report=$WORK/report.json
query() { sqlite3 "$db" "$1" 2>/dev/null || true; }
field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$report" "$1"; }

# run_until CONDITION: starts the search (one worker), sends SIGUSR2 to mpirun once the SQL
# CONDITION holds, and waits for the end.
run_until() {
  rm -f "$report"
  mpirun -np 2 "$HPSEARCH" "$WORK/slow.json" --db "$db" --progress none --run-report "$report" > "$WORK/run.log" 2>&1 &
  local launcher=$!
  for _ in $(seq 400); do
    [ "$(query "$1")" = 1 ] && break
    sleep 0.05
  done
  [ "$(query "$1")" = 1 ] || fail "condition never held: $1"
  kill -USR2 "$launcher"
  wait "$launcher" || fail "the stopped search exited with $? (log: $(cat "$WORK/run.log"))"
  [ -f "$report" ] || fail "no run report written"
}

# 1. Trial 0 is new: every step it reports is new work.
run_until "SELECT count(*) >= 8 FROM steps WHERE number = 0"
[ "$(field ended)" = stopped ] && [ "$(field signal)" = SIGUSR2 ] || fail "first run: $(cat "$report")"
[ "$(field trials_finished)" = 0 ] && [ "$(field trials_advanced)" = 1 ] && [ "$(field trials_interrupted)" = 1 ] || fail "first run: $(cat "$report")"
last_step=$(query "SELECT max(step) FROM steps WHERE number = 0")

# 2. Trial 0 runs again from step 1 and is stopped before it passes $last_step.
run_until "SELECT state = 'RUNNING' FROM trials WHERE number = 0"
[ "$(field ended)" = stopped ] && [ "$(field trials_finished)" = 0 ] && [ "$(field trials_advanced)" = 0 ] || fail "second run: $(cat "$report") (last step before: $last_step)"

# 3. To the end.
mpirun -np 2 "$HPSEARCH" "$WORK/slow.json" --db "$db" --progress none --run-report "$report" > "$WORK/run.log" 2>&1 || fail "last run: $(cat "$WORK/run.log")"
[ "$(field ended)" = finished ] && [ "$(field signal)" = None ] && [ "$(field trials_finished)" = 2 ] && [ "$(field trials_advanced)" = 2 ] || fail "last run: $(cat "$report")"
check_summary "$db" 'assert s["study"]["counts"]["COMPLETE"] == 2, s["study"]["counts"]'

# 4. A report in a folder that does not exist.
set +e
"$HPSEARCH" "$WORK/slow.json" --db "$WORK/other.db" --run-report "$WORK/missing/report.json" > "$WORK/err.log" 2>&1
code=$?
set -e
[ "$code" = 2 ] || fail "--run-report in a missing folder: exit code $code, expected 2"
grep -q -- "--run-report .*missing/report.json: the folder .* does not exist" "$WORK/err.log" || fail "message: $(cat "$WORK/err.log")"
[ ! -e "$WORK/other.db" ] || fail "a database was written despite the bad option"
echo "run report: ok"
