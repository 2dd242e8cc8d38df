# mpirun -np 3 on the branin space: every trial COMPLETE, each value what branin gives for its
# parameters, and a second run with more trials continues the same study.
source "$(dirname "$0")/lib.sh"

# Each trial waits 5 ms, so that one worker cannot take every trial before the other asks for one.
mpirun -np 3 "$HPSEARCH" spaces/branin.json --db "$WORK/runs.db" --trials 40 --seed 7 --progress plain --set trainer.sleep_ms=5
check_summary "$WORK/runs.db" '
def branin(x1, x2):
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1 ** 2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10
trials = s["trials"]
assert len(trials) == 40, len(trials)
assert [t["number"] for t in trials] == list(range(40))
assert all(t["state"] == "COMPLETE" for t in trials)
for t in trials:
    assert abs(t["value"] - branin(t["params"]["x1"], t["params"]["x2"])) < 1e-9, t
assert s["best"]["value"] == min(t["value"] for t in trials)
assert {t["worker"] for t in trials} == {1, 2}, "both workers took trials"
assert s["study"]["counts"]["COMPLETE"] == 40
'

# The same study again with more trials: it goes on from 40 to 60, with the seed it was given.
mpirun -np 3 "$HPSEARCH" spaces/branin.json --db "$WORK/runs.db" --trials 60 --progress none --set trainer.sleep_ms=5
check_summary "$WORK/runs.db" '
assert len(s["trials"]) == 60 and all(t["state"] == "COMPLETE" for t in s["trials"])
assert s["study"]["sampler"]["seed"] == 7
'

# Without mpirun the master runs the trials itself.
"$HPSEARCH" spaces/branin.json --db "$WORK/single.db" --trials 5 --progress none
check_summary "$WORK/single.db" 'assert [t["state"] for t in s["trials"]] == ["COMPLETE"] * 5'
"$HPSEARCH" summarize "$WORK/runs.db" | grep -q "60 COMPLETE" || fail "table summary lacks the counts"
echo "synthetic search: ok"

# objective.use through the CLI: a noisy learning curve's trial value is its best trained step by
# default, its last step with "use": "last"; step 0 (none here) never counts.
for use in best last; do
  "$HPSEARCH" spaces/learning_curve.json --db "$WORK/use.db" --study "$use" --trials 4 --progress none \
    --set trainer.steps=12 --set trainer.noise=5 --set objective.use=$use
  "$HPSEARCH" summarize "$WORK/use.db" --study "$use" --format json > "$WORK/use.json"
  python3 - "$WORK/use.json" "$use" <<'PY'
import json, sys
s, use = json.load(open(sys.argv[1])), sys.argv[2]
for t in s["trials"]:
    trained = [(p["step"], p["value"]) for p in t["steps"] if p["step"] >= 1]
    assert len(trained) == 12, t["steps"]
    step, value = min(trained, key=lambda p: p[1]) if use == "best" else trained[-1]
    assert t["value"] == value and t["step"] == step, (use, t["value"], t["step"], step, value)
assert use == "last" or any(t["steps"][-1]["value"] != t["value"] for t in s["trials"]), "noise never made best differ from last"
PY
done
echo "objective.use best and last: ok"
