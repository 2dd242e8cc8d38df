# Each failure kind ends its trial FAIL with its reason and the search goes on (a trial that hangs
# without a step report too, with --step-timeout); retries run a
# FAIL trial again with the same number and configuration, keep every attempt's reason, and the
# study still ends with exactly the trials asked, each number once.
source "$(dirname "$0")/lib.sh"

# Command trainer under mpirun -np 3: crash (exit code), hang past timeout_s, no objective,
# a transient crash on the first attempt only ("flaky"), with 2 retries of FAIL trials.
mpirun -np 3 "$HPSEARCH" tests/spaces/command.json --db "$WORK/retry.db" --progress none --retries 2 \
  --set 'params.misbehave={"1": "crash", "2": "hang", "3": "silent", "4": "flaky"}' 2> "$WORK/retry.log" ||
  { cat "$WORK/retry.log"; fail "retry search"; }
check_summary "$WORK/retry.db" '
by_number = {t["number"]: t for t in s["trials"]}
assert sorted(by_number) == list(range(12)), sorted(by_number)
crash, hang, silent, flaky = by_number[1], by_number[2], by_number[3], by_number[4]
# A deterministic failure fails each of its 3 attempts (1 + 2 retries), every reason kept.
for t, reason in ((crash, "exited with code 3"), (hang, "timed out after 3 s"), (silent, "reported no \x27loss\x27 metric")):
    assert t["state"] == "FAIL" and reason in t["error"] and "failed 3 times" in t["error"], t
    assert t["attempt"] == 3, t
    assert [a["state"] for a in t["attempts"]] == ["FAIL", "FAIL"], t["attempts"]
    assert all(reason in a["error"] for a in t["attempts"]), t["attempts"]
# The transient failure is retried once and completes with the value its configuration gives.
assert flaky["state"] == "COMPLETE" and flaky["attempt"] == 2, flaky
assert len(flaky["attempts"]) == 1 and "exited with code 4" in flaky["attempts"][0]["error"], flaky["attempts"]
assert flaky["value"] == flaky["params"]["x"] * 10 + flaky["params"]["depth"]
assert [st["step"] for st in flaky["steps"]] == [1, 2, 3], "steps of the failed attempt are gone"
for n, t in by_number.items():
    if n not in (1, 2, 3, 4):
        assert t["state"] == "COMPLETE" and t["attempt"] == 1 and t["attempts"] == [], t
assert s["study"]["counts"] == {"COMPLETE": 9, "FAIL": 3, "PRUNED": 0, "RUNNING": 0, "WAITING": 0, "INTERRUPTED": 0}, s["study"]["counts"]
'
# 2 retries for each of the 3 deterministic failures, 1 for the flaky trial.
grep -q "7 failed attempts run again" "$WORK/retry.log" || { cat "$WORK/retry.log"; fail "the master does not count the retried attempts"; }

# The same space key from the file: retries.failed (and no retries: a flaky trial just FAILs).
mpirun -np 3 "$HPSEARCH" tests/spaces/command.json --db "$WORK/noretry.db" --progress none --trials 6 \
  --set 'params.misbehave={"4": "flaky"}' 2> "$WORK/noretry.log" || { cat "$WORK/noretry.log"; fail "search without retries"; }
check_summary "$WORK/noretry.db" '
t = s["trials"][4]
assert t["state"] == "FAIL" and "exited with code 4" in t["error"] and t["attempt"] == 1 and t["attempts"] == [], t
'
# A bad retries value is refused with the flag named, and nothing is written.
set +e
mpirun -np 2 "$HPSEARCH" tests/spaces/command.json --db "$WORK/bad.db" --retries -1 > "$WORK/bad.log" 2>&1
code=$?
set -e
[ "$code" = 2 ] && grep -qF -- "--retries -1: must be an integer in [0, 1000], got -1" "$WORK/bad.log" ||
  { cat "$WORK/bad.log"; fail "bad --retries: code $code"; }
[ ! -e "$WORK/bad.db" ] || fail "a refused search wrote a database"

# --step-timeout: a trial that reports no step for 2 s (it hangs after its first step, inside a
# 60 s timeout_s) FAILs with the reason, its worker is left out, the other worker runs the rest,
# and the stuck worker, which cannot leave, is ended with MPI_Abort once the database is complete:
# exit code 0.
mpirun -np 3 "$HPSEARCH" tests/spaces/command.json --db "$WORK/step.db" --progress none --trials 6 --step-timeout 2 \
  --set trainer.timeout_s=60 --set 'params.misbehave={"2": "hang"}' 2> "$WORK/step.log" || { cat "$WORK/step.log"; fail "search with --step-timeout: exit code $?"; }
pkill -f "$WORK/step.db_trials" || true  # the hanging script, should it outlive its rank
grep -q "stuck in a trial; the database is complete, ending the job with MPI_Abort" "$WORK/step.log" || { cat "$WORK/step.log"; fail "no MPI_Abort of the stuck worker"; }
check_summary "$WORK/step.db" '
by_number = {t["number"]: t for t in s["trials"]}
hang = by_number[2]
assert hang["state"] == "FAIL" and "no step report for 2 s (--step-timeout) from worker" in hang["error"], hang
assert [st["step"] for st in hang["steps"]] == [1], hang["steps"]
others = [t for n, t in by_number.items() if n != 2]
assert sorted(by_number) == list(range(6)) and all(t["state"] == "COMPLETE" for t in others), s["trials"]
assert all(t["worker"] != hang["worker"] for t in others if t["number"] > 2), "the stuck worker was given a trial again"
'
set +e
"$HPSEARCH" tests/spaces/command.json --db "$WORK/badstep.db" --step-timeout -1 > "$WORK/badstep.log" 2>&1
code=$?
set -e
[ "$code" = 2 ] && grep -q -- "--step-timeout must be >= 0 seconds" "$WORK/badstep.log" || { cat "$WORK/badstep.log"; fail "bad --step-timeout: code $code"; }
[ ! -e "$WORK/badstep.db" ] || fail "a refused search wrote a database"

# NaN and infinite objectives, as Python's json.dumps writes them (NaN, Infinity: not JSON, read
# all the same): FAIL with the reason; the other trials complete.
cat > "$WORK/diverge.py" <<'PY'
import json, sys
args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
x = json.load(open(args["--config"]))["x"]
print(json.dumps({"step": 1, "loss": x, "note": "NaN and Infinity inside a string stay text"}))
print(json.dumps({"step": 2, "loss": float("nan") if x > 0.75 else float("inf") if x > 0.5 else x / 2}), flush=True)
PY
cat > "$WORK/diverge.json" <<JSON
{"trainer": {"type": "command", "argv": ["python3", "$WORK/diverge.py", "--config", "{config}"]},
 "objective": {"metric": "loss"}, "trials": 10, "sampler": {"type": "random", "seed": 1},
 "params": {"x": {"\$uniform": [0, 1]}}}
JSON
mpirun -np 3 "$HPSEARCH" "$WORK/diverge.json" --db "$WORK/diverge.db" --progress none 2> "$WORK/diverge.log" ||
  { cat "$WORK/diverge.log"; fail "diverging search"; }
check_summary "$WORK/diverge.db" '
assert len(s["trials"]) == 10
kinds = set()
for t in s["trials"]:
    x = t["params"]["x"]
    assert t["steps"][0]["note"] == "NaN and Infinity inside a string stay text"
    if x > 0.75:
        assert t["state"] == "FAIL" and t["error"] == "the objective \x27loss\x27 is NaN", t
    elif x > 0.5:
        assert t["state"] == "FAIL" and t["error"] == "the objective \x27loss\x27 is infinite", t
    else:
        assert t["state"] == "COMPLETE" and t["value"] == x / 2, t
    kinds.add(t["state"] if x <= 0.5 else ("NaN" if x > 0.75 else "inf"))
assert kinds == {"COMPLETE", "NaN", "inf"}, kinds
'
echo "failures and retries: ok"
