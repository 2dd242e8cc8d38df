# The classify trainer end to end on CPU and real data: a TPE search of spaces/classify.json on
# Debian's Fashion-MNIST under mpirun with 2 workers (1 epoch, 2,000 training and 1,000 test
# images via --set), every trial COMPLETE or refused as infeasible (over max_params) without
# training, accuracies in the summary; `hpsearch describe` of the default network and of a trial's
# configuration; a data folder that holds no data set is exit 2 before any trial.
source "$(dirname "$0")/lib.sh"

DATA=/usr/share/datasets/fashion-mnist
if [ ! -f "$DATA/train-images-idx3-ubyte.gz" ]; then
  echo "classify search: skipped (dataset-fashion-mnist is not installed)"
  exit 0
fi

mpirun -np 3 "$HPSEARCH" spaces/classify.json --db "$WORK/runs.db" --trials 4 --seed 11 --progress plain \
  --set params.epochs=1 --set trainer.train_subset=2000 --set trainer.test_subset=1000 2> "$WORK/search.log" \
  || { cat "$WORK/search.log" >&2; fail "the classify search did not finish"; }
check_summary "$WORK/runs.db" '
trials = s["trials"]
assert len(trials) == 4, len(trials)
complete = [t for t in trials if t["state"] == "COMPLETE"]
for t in trials:
    if t["state"] == "FAIL":
        # Over max_params: refused before training, the parameter count in the reason, no steps.
        assert t["error"].startswith("infeasible: the model has "), t["error"]
        assert int(t["error"].split()[4]) > 256000, t["error"]
        assert t["steps"] == [], t["steps"]
    else:
        assert t["state"] == "COMPLETE", (t["state"], t["error"])
assert len(complete) >= 2, [(t["state"], t["error"]) for t in trials]
for t in complete:
    steps = t["steps"]
    assert [x["step"] for x in steps] == [0, 1], steps
    last = steps[-1]
    for k in ("train_loss", "train_accuracy", "test_loss", "test_accuracy", "parameters", "epoch_time_s", "confusion_matrix"):
        assert k in last, (k, last)
    assert last["parameters"] <= 256000, last["parameters"]
    assert t["value"] == max(x["test_accuracy"] for x in steps if x["step"] >= 1), t  # step 0: untrained, never the value
    assert sum(map(sum, last["confusion_matrix"])) == 1000
# One epoch on 2,000 images: the best trial is far above chance (0.1).
assert s["best"]["value"] > 0.5, s["best"]
assert {t["worker"] for t in trials} == {1, 2}, "both workers took trials"
'
# The table shows the accuracy (the objective) of each trial.
"$HPSEARCH" summarize "$WORK/runs.db" > "$WORK/summary.txt"
grep -q "objective: test_accuracy (max)" "$WORK/summary.txt" && grep -q "best: trial [0-9]*, test_accuracy = 0\.[0-9]" "$WORK/summary.txt" \
  || { cat "$WORK/summary.txt" >&2; fail "summary lacks the accuracies"; }
ls "$WORK"/runs_trials/classify/*/classification.json > /dev/null || fail "no classification.json in the trial folders"

# describe: the default network (seed 003's) on the space's data, and the best trial's network.

set +e
"$HPSEARCH" describe spaces/classify.json > "$WORK/describe.txt" 2> "$WORK/err.log"; code=$?
set -e
[ $code -eq 2 ] && grep -q "params.architecture.* is searched.*--params" "$WORK/err.log" || fail "describe of a searched network: exit $code, $(cat "$WORK/err.log")"
python3 - "$WORK/summary.json" "$WORK/best.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
json.dump(s["best"]["params"], open(sys.argv[2], "w"))
PY
"$HPSEARCH" describe spaces/classify.json --params "$WORK/best.json" --format json > "$WORK/describe.json"
python3 - "$WORK/summary.json" "$WORK/describe.json" <<'PY' || fail "describe disagrees with the trained model"
import json, sys
s = json.load(open(sys.argv[1]))
d = json.load(open(sys.argv[2]))
assert d["input"] == [1, 28, 28] and d["outputs"] == 10, d
assert d["totals"]["parameters"] == s["best"]["steps"][-1]["parameters"], (d["totals"], s["best"]["steps"][-1]["parameters"])
assert d["totals"]["parameters"] == sum(l["parameters"] for l in d["layers"])
PY
echo '{"epochs": 1}' > "$WORK/plain.json"
"$HPSEARCH" describe spaces/classify.json --params "$WORK/plain.json" > "$WORK/default.txt"
grep -q "^total .* 741,570 .* 16,266,000 .* 16,266,000 .* 71,720$" "$WORK/default.txt" || { cat "$WORK/default.txt" >&2; fail "seed-003 network totals"; }

# A data folder with no data set in it: exit 2, the file and field named, nothing written.
mkdir "$WORK/empty"
set +e
mpirun -np 3 "$HPSEARCH" spaces/classify.json --db "$WORK/bad.db" --set trainer.data="$WORK/empty" 2> "$WORK/err.log"; code=$?
set -e
[ $code -eq 2 ] || fail "empty data folder: exit $code, expected 2"
grep -q -- "--set trainer.data=.*no image-classification data recognised" "$WORK/err.log" || fail "message: $(cat "$WORK/err.log")"
[ ! -e "$WORK/bad.db" ] || fail "a database was written for a refused search"
cat "$WORK/summary.txt"
echo "classify search: ok"
