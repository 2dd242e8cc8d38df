# mpirun -np 3 on a short noisy learning curve with each pruner: the search ends with PRUNED
# trials whose step counts follow the rule, with the rule or rung in their error, and COMPLETE
# trials that trained every step. Then the patience rule (early_stopping in the configuration).
source "$(dirname "$0")/lib.sh"

cat > "$WORK/curve.json" <<'JSON'
{"trainer": {"type": "synthetic", "function": "learning_curve", "steps": 27, "noise": 0.5, "sleep_ms": 1},
 "objective": {"metric": "value", "mode": "min"},
 "trials": 30,
 "sampler": {"type": "random", "seed": 5},
 "params": {"x1": {"$uniform": [-5, 10]}, "x2": {"$uniform": [0, 15]}}}
JSON

search() {  # search NAME PRUNER_JSON
  mpirun -np 3 "$HPSEARCH" "$WORK/curve.json" --db "$WORK/$1.db" --progress none --set "pruner=$2" 2> "$WORK/$1.log" ||
    { cat "$WORK/$1.log"; fail "$1 search"; }
  grep -q "pruner .* decisions" "$WORK/$1.log" || fail "$1: the master does not account the pruner's time"
}

# Common checks; `rule(t)` says whether trial t, PRUNED after len(t["steps"]) steps, obeys the rule.
CHECKS='
trials = s["trials"]
assert len(trials) == 30
pruned = [t for t in trials if t["state"] == "PRUNED"]
complete = [t for t in trials if t["state"] == "COMPLETE"]
assert pruned, "no trial was pruned"
assert complete and all(len(t["steps"]) == 27 for t in complete), [len(t["steps"]) for t in complete]
assert s["study"]["counts"]["PRUNED"] == len(pruned)
for t in pruned:
    k = len(t["steps"])
    assert [x["step"] for x in t["steps"]] == list(range(1, k + 1))
    assert t["error"].startswith(PREFIX), t["error"]
    assert rule(t, k), (t["number"], k, t["error"])
'

# ASHA, min_resource 1, eta 3: stopped exactly at rungs 1, 3 or 9 (27 is the last step).
search asha '{"type": "asha", "min_resource": 1, "reduction_factor": 3, "max_resource": 27}'
check_summary "$WORK/asha.db" "PREFIX = 'pruned by asha at rung'
rule = lambda t, k: k in (1, 3, 9) and '(step %d)' % k in t['error']
$CHECKS"

# ASHA with eta 4: rungs 1, 4 and 16.
search asha4 '{"type": "asha", "reduction_factor": 4, "max_resource": 27}'
check_summary "$WORK/asha4.db" "PREFIX = 'pruned by asha at rung'
rule = lambda t, k: k in (1, 4, 16)
$CHECKS"

# Median, 3 startup trials: stopped at the step named in the reason, never before 3 COMPLETE.
search median '{"type": "median", "startup_trials": 3}'
check_summary "$WORK/median.db" "PREFIX = 'pruned by median at step'
rule = lambda t, k: t['error'].startswith('pruned by median at step %d:' % k)
$CHECKS"

# Percentile 25 with warm-up 2 and interval 3: judged at steps 5, 8, 11, ...
search percentile '{"type": "percentile", "percentile": 25, "startup_trials": 3, "warmup_steps": 2, "interval_steps": 3}'
check_summary "$WORK/percentile.db" "PREFIX = 'pruned by percentile at step'
rule = lambda t, k: k > 2 and (k - 2) % 3 == 0
$CHECKS"

# Hyperband up to 27 steps, eta 3: brackets 0..3, trial n in bracket n % 4, whose rungs are 3^i
# for bracket <= i < 3; bracket 3 is never pruned.
search hyperband '{"type": "hyperband", "min_resource": 1, "reduction_factor": 3, "max_resource": 27}'
check_summary "$WORK/hyperband.db" "PREFIX = 'pruned by hyperband bracket'
def rule(t, k):
    b = t['number'] % 4
    return t['error'].startswith('pruned by hyperband bracket %d ' % b) and k in [3 ** i for i in range(b, 3)]
$CHECKS"

# An unknown pruner key is refused before anything runs, naming the flag and pruner.KEY.
if "$HPSEARCH" "$WORK/curve.json" --db "$WORK/bad.db" --set 'pruner={"type": "asha", "eta": 3}' 2> "$WORK/bad.log"; then fail "bad pruner accepted"; fi
grep -qF -- '--set pruner={"type": "asha", "eta": 3}: pruner.eta: unknown setting of the asha pruner' "$WORK/bad.log" || { cat "$WORK/bad.log"; fail "message"; }
[ ! -e "$WORK/bad.db" ] || fail "a refused space wrote a database"

# Patience: early_stopping = 2 in the configuration stops flat noisy curves early; such trials are
# COMPLETE with their best reported value, and say why they stopped.
mpirun -np 3 "$HPSEARCH" "$WORK/curve.json" --db "$WORK/patience.db" --progress none --trials 10 \
  --set trainer.noise=5 --set params.early_stopping=2 2> "$WORK/patience.log" || { cat "$WORK/patience.log"; fail "patience search"; }
check_summary "$WORK/patience.db" '
trials = s["trials"]
assert all(t["state"] == "COMPLETE" for t in trials)
early = [t for t in trials if t["error"]]
assert early, "no trial stopped early"
for t in early:
    k = len(t["steps"])
    assert k < 27 and t["error"].startswith("early stopping after step %d: no improvement for 2 steps" % k), t["error"]
    values = [x["value"] for x in t["steps"]]
    assert t["value"] == min(values), (t["value"], values)
    assert values[-1] >= min(values[:-2]) and values[-2] >= min(values[:-2])
'
echo "pruning: ok"
