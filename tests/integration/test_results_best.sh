# Reading and reusing a search's result through the CLI (issue #16, points 1 and 3), on a tiny
# classify search of Fashion-MNIST (1 epoch, 1,000 training and 500 test images):
# - step 0, the untrained network's evaluation, is never a trial's value: with the objective
#   turned to "min" test_accuracy, the untrained network (chance, ~0.1) would win every trial if
#   it counted; the value is epoch 1's, and summarize shows the step (table and JSON);
# - every trial folder holds config.json, the trial's params, and summarize names the folders;
# - `hpsearch best` prints the best trial's configuration, which `train --params` and
#   `describe --params` take, and `describe --from` describes the same network;
# - an unknown study, an absent trial and a trial that is not COMPLETE are exit 2, saying so.
source "$(dirname "$0")/lib.sh"

DATA=/usr/share/datasets/fashion-mnist
if [ ! -f "$DATA/train-images-idx3-ubyte.gz" ]; then
  echo "results best: skipped (dataset-fashion-mnist is not installed)"
  exit 0
fi
SUBSETS=(--set trainer.train_subset=1000 --set trainer.test_subset=500)

"$HPSEARCH" spaces/classify.json --db "$WORK/runs.db" --trials 3 --seed 11 --progress plain --set params.epochs=1 \
  "${SUBSETS[@]}" --set objective.mode=min 2> "$WORK/search.log" || { cat "$WORK/search.log" >&2; fail "the classify search did not finish"; }
check_summary "$WORK/runs.db" '
import os
complete = [t for t in s["trials"] if t["state"] == "COMPLETE"]
assert complete, [(t["state"], t["error"]) for t in s["trials"]]
for t in complete:
    steps = {x["step"]: x["test_accuracy"] for x in t["steps"]}
    assert sorted(steps) == [0, 1], t["steps"]
    assert t["value"] == steps[1] and t["value"] != steps[0], (t["value"], steps)
    assert t["step"] == 1, t["step"]
    assert t["folder"] and os.path.isdir(t["folder"]), t["folder"]
    assert json.load(open(os.path.join(t["folder"], "config.json"))) == t["params"], t["folder"]
best = s["best"]
assert best["step"] >= 1 and best["value"] != best["steps"][0]["test_accuracy"], best
assert s["study"]["objective"]["use"] == "best", s["study"]["objective"]
'
"$HPSEARCH" summarize "$WORK/runs.db" > "$WORK/summary.txt"
grep -q "^best: trial [0-9]*, test_accuracy = 0\.[0-9]* at step 1$" "$WORK/summary.txt" && grep -q "^trial  *state  *value  *step  *duration" "$WORK/summary.txt" \
  && grep -q "^trial folders: .*runs_trials/classify/N" "$WORK/summary.txt" || { cat "$WORK/summary.txt" >&2; fail "the table lacks the step or the folders"; }

# best: the configuration alone on stdout, the trial on stderr; train and describe take it.
"$HPSEARCH" best "$WORK/runs.db" > "$WORK/best.json" 2> "$WORK/best.log" || { cat "$WORK/best.log" >&2; fail "best failed"; }
python3 - "$WORK/summary.json" "$WORK/best.json" <<'PY' || fail "best printed another configuration"
import json, sys
s, best = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert best == s["best"]["params"], best
PY
grep -q "^hpsearch best: trial [0-9]* of study 'classify' in .*runs.db, test_accuracy = .*; folder .*runs_trials/classify/[0-9]*$" "$WORK/best.log" \
  || fail "best's stderr: $(cat "$WORK/best.log")"
"$HPSEARCH" describe spaces/classify.json --params "$WORK/best.json" --format json > "$WORK/describe_params.json" \
  || fail "describe --params of best's output failed"
"$HPSEARCH" describe --from "$WORK/runs.db" --format json > "$WORK/describe_from.json" 2> "$WORK/err.log" \
  || fail "describe --from failed: $(cat "$WORK/err.log")"
python3 - "$WORK/describe_params.json" "$WORK/describe_from.json" <<'PY' || fail "describe --from and --params differ"
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
for k in ("architecture", "input", "outputs", "layers", "totals"):
    assert a[k] == b[k], k
assert "trial" in b["source"] and "classify" in b["source"], b["source"]
PY
"$HPSEARCH" train spaces/classify.json --params "$WORK/best.json" --epochs 1 --out "$WORK/train" --progress none "${SUBSETS[@]}" \
  > "$WORK/train.json" 2> "$WORK/train.log" || { cat "$WORK/train.log" >&2; fail "train --params of best's output failed"; }
[ -f "$WORK/train/best.pt" ] && [ -f "$WORK/train/config.json" ] || fail "train wrote no best.pt or config.json"
python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); assert r["best_epoch"] == 1, r' "$WORK/train.json" \
  || fail "train's best epoch: $(cat "$WORK/train.json")"

# A second study, whose only trial fails: now the database needs --study, and mistakes are exit 2.
"$HPSEARCH" spaces/examples/command.json --db "$WORK/runs.db" --study failing --trials 1 --progress none \
  --set 'trainer.argv=["false"]' 2> "$WORK/failing.log" || true  # a run whose every trial failed may say so by its exit code
"$HPSEARCH" summarize "$WORK/runs.db" --study failing --format json \
  | python3 -c 'import json, sys; assert [t["state"] for t in json.load(sys.stdin)["trials"]] == ["FAIL"]' \
  || { cat "$WORK/failing.log" >&2; fail "the failing study should hold one FAIL trial"; }
expect_refusal() {  # expect_refusal 'GREP PATTERN' hpsearch arguments...
  local pattern=$1
  shift
  set +e
  "$HPSEARCH" "$@" > "$WORK/out.txt" 2> "$WORK/err.log"
  local code=$?
  set -e
  [ $code -eq 2 ] && [ ! -s "$WORK/out.txt" ] && grep -qF -- "$pattern" "$WORK/err.log" || fail "$*: exit $code, $(cat "$WORK/err.log")"
}
expect_refusal "holds several studies (classify, failing); name one with --study" best "$WORK/runs.db"
expect_refusal "--study clasify: no such study (it holds classify, failing)" best "$WORK/runs.db" --study clasify
expect_refusal "study 'classify' has no trial 99 (its trials are 0 to 2)" best "$WORK/runs.db" --study classify --trial 99
expect_refusal "trial 0 of study 'failing' is FAIL, not COMPLETE" best "$WORK/runs.db" --study failing --trial 0
expect_refusal "study 'failing' has no COMPLETE trial" describe --from "$WORK/runs.db" --study failing
expect_refusal "--trial -1: a trial number is 0 or more" best "$WORK/runs.db" --study classify --trial=-1
"$HPSEARCH" best "$WORK/runs.db" --study classify > /dev/null 2>&1 || fail "best --study classify failed"
echo "results best: ok"
