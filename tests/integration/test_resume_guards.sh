# The deterministic guarantee and the database's guards (issue 7):
#  - with a fixed seed and one worker, a search stopped by SIGTERM after ~5 trials and resumed
#    suggests, trial by trial, exactly the configurations of an uninterrupted one (TPE sampler);
#  - a second search of the same study while the first runs is refused (exit 2), another study
#    in the same file runs beside it; a killed search's lock does not block the next one;
#  - hpsearch resume refuses what it cannot resume (exit 2, nothing written); a newer schema and
#    a foreign file are refused and left byte for byte as they were;
#  - a worker that stops answering (SIGSTOP) is lost after the heartbeat limit and its trial runs
#    again on another worker.
source "$(dirname "$0")/lib.sh"

cat > "$WORK/tpe.json" <<'JSON'
{"trainer": {"type": "synthetic", "function": "learning_curve", "steps": 5, "sleep_ms": 40},
 "trials": 12,
 "sampler": {"type": "tpe", "seed": 21, "n_startup_trials": 3},
 "params": {"x1": {"$uniform": [-5, 10]}, "x2": {"$uniform": [0, 15]}, "k": {"$choice": [1, 2, 3]}}}
JSON
count() { sqlite3 "$1" "SELECT count(*) FROM trials WHERE state = '$2'" 2>/dev/null || echo 0; }
rank_pid() {  # the pid of MPI rank $2 among the children of mpirun $1
  for child in $(pgrep -P "$1"); do
    if tr '\0' '\n' < "/proc/$child/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2"; then echo "$child"; return; fi
  done
}

# 1. Deterministic resume: -np 2 (one worker, trials one after another).
mpirun -np 2 "$HPSEARCH" "$WORK/tpe.json" --db "$WORK/straight.db" --progress none 2> /dev/null
mpirun -np 2 "$HPSEARCH" "$WORK/tpe.json" --db "$WORK/stopped.db" --progress none 2> "$WORK/stopped.log" &
launcher=$!
for _ in $(seq 600); do [ "$(count "$WORK/stopped.db" COMPLETE)" -ge 5 ] && break; sleep 0.02; done
kill -TERM "$(rank_pid "$launcher" 0)"
wait "$launcher" || { cat "$WORK/stopped.log"; fail "the stopped search's exit code"; }
done_before=$(count "$WORK/stopped.db" COMPLETE)
[ "$done_before" -lt 12 ] && [ "$(count "$WORK/stopped.db" INTERRUPTED)" = 1 ] || fail "the stop came too late ($done_before COMPLETE)"
mpirun -np 2 "$HPSEARCH" resume "$WORK/stopped.db" --progress none 2> /dev/null
configs() { sqlite3 "$1" "SELECT number, state, params, config, value FROM trials ORDER BY number"; }
diff <(configs "$WORK/straight.db") <(configs "$WORK/stopped.db") || fail "the resumed search suggested other configurations"
[ "$(configs "$WORK/stopped.db" | wc -l)" = 12 ] || fail "not 12 trials"
echo "stopped after $done_before COMPLETE trials and resumed: the same 12 configurations and values"

# 2. Two searches of one study at once: the second is refused; another study runs beside it.
mpirun -np 2 "$HPSEARCH" "$WORK/tpe.json" --db "$WORK/shared.db" --progress none 2> "$WORK/first.log" &
first=$!
for _ in $(seq 600); do [ "$(count "$WORK/shared.db" RUNNING)" -ge 1 ] && break; sleep 0.02; done
set +e
mpirun -np 2 "$HPSEARCH" "$WORK/tpe.json" --db "$WORK/shared.db" --progress none > "$WORK/second.log" 2>&1
code=$?
set -e
[ "$code" = 2 ] && grep -q "$WORK/shared.db: study 'tpe' is being searched by another hpsearch (host $(hostname), pid" "$WORK/second.log" ||
  { cat "$WORK/second.log"; fail "a second search of a running study: exit code $code"; }
mpirun -np 2 "$HPSEARCH" "$WORK/tpe.json" --db "$WORK/shared.db" --study other --progress none 2> "$WORK/other.log" ||
  { cat "$WORK/other.log"; fail "another study beside a running one"; }
wait "$first" || { cat "$WORK/first.log"; fail "the first search"; }
for study in tpe other; do
  [ "$(sqlite3 "$WORK/shared.db" "SELECT count(*) FROM trials t JOIN studies s ON s.id = t.study_id WHERE s.name = '$study' AND t.state = 'COMPLETE'")" = 12 ] ||
    fail "study $study did not end with 12 COMPLETE trials"
done
# A search killed with -9 leaves its lock row; the next search of the study takes it at once.
mpirun -np 2 "$HPSEARCH" "$WORK/tpe.json" --db "$WORK/killed.db" --progress none --trials 40 2> /dev/null &
launcher=$!
for _ in $(seq 600); do [ "$(count "$WORK/killed.db" COMPLETE)" -ge 2 ] && break; sleep 0.02; done
master=$(rank_pid "$launcher" 0)
kill -9 "$master" "$launcher"
wait "$launcher" 2>/dev/null || true
sleep 1  # the orphaned worker notices its mpirun is gone
[ "$(sqlite3 "$WORK/killed.db" 'SELECT count(*) FROM locks')" = 1 ] || fail "kill -9 left no lock row to test with"
mpirun -np 2 "$HPSEARCH" resume "$WORK/killed.db" --trials 5 --progress none 2> "$WORK/taken.log" || { cat "$WORK/taken.log"; fail "a dead search's lock blocked the resume"; }
[ "$(count "$WORK/killed.db" COMPLETE)" -ge 5 ] || fail "the resume after kill -9 did not finish"

# 3. What resume refuses: exit 2, a message naming the file, nothing written.
expect_refusal() {  # expect_refusal "message part" hpsearch-args...
  local expected=$1
  shift
  set +e
  mpirun -np 2 "$HPSEARCH" "$@" > "$WORK/out.txt" 2>&1
  local code=$?
  set -e
  [ "$code" = 2 ] || { cat "$WORK/out.txt"; fail "exit code $code, expected 2 for: $*"; }
  grep -qF -- "$expected" "$WORK/out.txt" || { cat "$WORK/out.txt"; fail "message lacks '$expected'"; }
}
expect_refusal "$WORK/none.db: no such database" resume "$WORK/none.db"
[ ! -e "$WORK/none.db" ] || fail "resume created a database"
expect_refusal "$WORK/shared.db: holds several studies (tpe, other); name one with --study" resume "$WORK/shared.db"
expect_refusal "$WORK/shared.db: --study nope: no such study (it holds tpe, other)" resume "$WORK/shared.db" --study nope
expect_refusal "resume needs a database file" resume
# A newer schema and a foreign file: refused, and not one byte changes (no -wal file either).
cp "$WORK/straight.db" "$WORK/newer.db"
sqlite3 "$WORK/newer.db" "PRAGMA journal_mode=DELETE; PRAGMA user_version=99" > /dev/null
before=$(sha256sum < "$WORK/newer.db")
expect_refusal "$WORK/newer.db: written by a newer hpsearch (schema 99" "$WORK/tpe.json" --db "$WORK/newer.db"
expect_refusal "$WORK/newer.db: written by a newer hpsearch (schema 99" resume "$WORK/newer.db"
[ "$(sha256sum < "$WORK/newer.db")" = "$before" ] && [ ! -e "$WORK/newer.db-wal" ] || fail "the newer database was changed"
sqlite3 "$WORK/foreign.db" "CREATE TABLE notes(text); INSERT INTO notes VALUES ('mine')"
before=$(sha256sum < "$WORK/foreign.db")
expect_refusal "$WORK/foreign.db: a SQLite database, but not hpsearch's" resume "$WORK/foreign.db"
expect_refusal "$WORK/foreign.db: a SQLite database, but not hpsearch's" "$WORK/tpe.json" --db "$WORK/foreign.db"
[ "$(sha256sum < "$WORK/foreign.db")" = "$before" ] || fail "the foreign database was changed"

# 4. Heartbeat: worker rank 2 is stopped (SIGSTOP) mid-trial; after --heartbeat-timeout 2 s it
# is lost and its trial runs again on worker 1. It is continued (SIGCONT) once the study is
# nearly done: its late STEP is answered "stop", its RESULT dropped, and it leaves with the rest.
cat > "$WORK/beat.json" <<'JSON'
{"trainer": {"type": "synthetic", "function": "learning_curve", "steps": 10, "sleep_ms": 50},
 "trials": 10, "sampler": {"type": "random", "seed": 4},
 "params": {"x1": {"$uniform": [-5, 10]}, "x2": {"$uniform": [0, 15]}}}
JSON
mpirun -np 3 "$HPSEARCH" "$WORK/beat.json" --db "$WORK/beat.db" --progress none --heartbeat-timeout 2 2> "$WORK/beat.log" &
launcher=$!
for _ in $(seq 600); do [ "$(count "$WORK/beat.db" COMPLETE)" -ge 2 ] && break; sleep 0.02; done
worker=$(rank_pid "$launcher" 2)
kill -STOP "$worker" || { wait "$launcher"; cat "$WORK/beat.log"; fail "worker rank 2 ($worker) is gone"; }
for _ in $(seq 600); do grep -q "worker 2 sent nothing for 2 s" "$WORK/beat.log" && break; sleep 0.05; done
for _ in $(seq 600); do [ "$(count "$WORK/beat.db" COMPLETE)" -ge 9 ] && break; sleep 0.05; done
kill -CONT "$worker"
wait "$launcher" || { cat "$WORK/beat.log"; fail "the search with a lost worker: exit code $?"; }
check_summary "$WORK/beat.db" '
trials = s["trials"]
assert [t["number"] for t in trials] == list(range(10)) and all(t["state"] == "COMPLETE" for t in trials), trials
lost = [t for t in trials if t["attempts"]]
assert len(lost) == 1, lost
t = lost[0]
assert t["attempt"] == 2 and t["attempts"][0]["state"] == "LOST" and t["attempts"][0]["worker"] == 2, t
assert "worker 2 sent nothing for 2 s (heartbeat limit)" in t["attempts"][0]["error"], t
assert t["worker"] == 1 and [st["step"] for st in t["steps"]] == list(range(1, 11)), t
assert all(u["worker"] == 1 for u in trials if u["number"] > t["number"]), "the lost worker was given a trial again"
'
echo "resume guards: ok"
