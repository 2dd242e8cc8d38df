# Kill -9 of the whole process tree at random moments, then the same command again, until the
# search ends: exactly the trials asked are COMPLETE, each number once, each value what its
# configuration gives, and SQLite's integrity check passes.
source "$(dirname "$0")/lib.sh"

cat > "$WORK/space.json" <<'JSON'
{"trainer": {"type": "synthetic", "function": "learning_curve", "steps": 8, "sleep_ms": 15},
 "objective": {"metric": "value", "mode": "min"},
 "trials": 60,
 "sampler": {"type": "random", "seed": 11},
 "params": {"x1": {"$uniform": [-5, 10]}, "x2": {"$uniform": [0, 15]}}}
JSON

run_search() { bash tools/mpirun.sh -np 3 "$HPSEARCH" "$WORK/space.json" --db "$WORK/runs.db" --progress none; }

complete_count() {
  if [ -f "$WORK/runs.db" ]; then
    sqlite3 "$WORK/runs.db" "SELECT count(*) FROM trials WHERE state = 'COMPLETE'" 2>/dev/null || echo 0
  else
    echo 0
  fi
}

RANDOM=42  # seeded: the same kill moments on every run of this test
kills=0
interrupted=0  # kills that left trials RUNNING: they hit the search mid-trial
for attempt in $(seq 14); do
  setsid bash -c "$(declare -f run_search); HPSEARCH=$HPSEARCH WORK=$WORK; cd $SOURCE_DIR; run_search" > "$WORK/run.log" 2>&1 &
  leader=$!
  # Kill once this run has finished 1 to 4 more trials, plus 0 to 90 ms: mid-search whatever the
  # machine's load, at a different point of a trial each time.
  target=$(( $(complete_count) + 1 + RANDOM % 4 ))
  for _ in $(seq 400); do
    [ "$(complete_count)" -ge "$target" ] && break
    kill -0 "$leader" 2>/dev/null || break
    sleep 0.05
  done
  sleep "0.0$(( RANDOM % 10 ))"
  if kill -0 "$leader" 2>/dev/null; then
    kill -9 -- "-$leader" 2>/dev/null || true
    kills=$((kills + 1))
  fi
  wait "$leader" 2>/dev/null || true
  if [ -f "$WORK/runs.db" ]; then
    counts=$(sqlite3 "$WORK/runs.db" "SELECT group_concat(state || '=' || n) FROM (SELECT state, count(*) n FROM trials GROUP BY state)")
    echo "after kill $kills: $counts"
    case "$counts" in *RUNNING*) interrupted=$((interrupted + 1)) ;; esac
  fi
done
echo "killed $kills times, $interrupted of them mid-trial"
[ "$kills" -ge 10 ] || fail "only $kills kills landed"
[ "$interrupted" -ge 5 ] || fail "only $interrupted kills hit running trials"
run_search
check_summary "$WORK/runs.db" '
def branin(x1, x2):
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1 ** 2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10
def curve(x1, x2, step):
    final = branin(x1, x2)
    tau = 3.0 + 12.0 * x2 / 15.0
    return final + 60.0 * math.exp(-step / tau)
trials = s["trials"]
assert [t["number"] for t in trials] == list(range(60)), [t["number"] for t in trials]
assert all(t["state"] == "COMPLETE" for t in trials), [(t["number"], t["state"]) for t in trials if t["state"] != "COMPLETE"]
for t in trials:
    expected = curve(t["params"]["x1"], t["params"]["x2"], 8)
    assert abs(t["value"] - expected) < 1e-9, (t["number"], t["value"], expected)
    assert [st["step"] for st in t["steps"]] == list(range(1, 9)), t["steps"]
'
[ "$(sqlite3 "$WORK/runs.db" 'PRAGMA integrity_check')" = ok ] || fail "integrity check"
echo "kill and resume: ok"
