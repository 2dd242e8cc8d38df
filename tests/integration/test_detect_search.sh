# The detect trainer end to end on CPU: make a small ball data set with make-data, run a TPE
# search of spaces/detect.json under mpirun with 2 workers (small network and 2 epochs via --set),
# check every trial COMPLETE with the detect metrics stored, then train the best configuration
# with `hpsearch train --from` and check its bar and outputs. A missing data folder is exit 2.
source "$(dirname "$0")/lib.sh"

"$HPSEARCH" make-data balls --out "$WORK/balls" --count 160 --seed 5 2> "$WORK/make.log"
[ -f "$WORK/balls/img_00159.jpg" ] && [ -f "$WORK/balls/p_bb_00159.npy" ] || fail "make-data wrote no data"

# The seed's space with its 90 epochs and its 94k-parameter detector would take minutes per
# trial on a CPU: 2 epochs and a small backbone keep the search itself, its choices included.
SMALL='[["conv2d", {"out_channels": 4, "kernel_size": 3, "stride": 2}], ["max_pooling", {"kernel_size": 2}], ["conv2d", {"out_channels": 8, "kernel_size": 3, "stride": 2}], ["max_pooling", {"kernel_size": 2}], ["flatten", {}], ["fully_connected", {}]]'
mpirun -np 3 "$HPSEARCH" spaces/detect.json --db "$WORK/runs.db" --trials 6 --seed 3 --progress plain \
  --set params.epochs=2 --set trainer.data="$WORK/balls" --set "params.architecture.layers_param=$SMALL" 2> "$WORK/search.log" \
  || { cat "$WORK/search.log" >&2; fail "the detect search did not finish"; }
check_summary "$WORK/runs.db" '
trials = s["trials"]
assert len(trials) == 6, len(trials)
assert all(t["state"] == "COMPLETE" for t in trials), [(t["state"], t.get("error")) for t in trials]
for t in trials:
    assert math.isfinite(t["value"]) and t["value"] > 0, t
    assert t["params"]["epochs"] == 2 and t["params"]["batch_size"] in (16, 32, 64), t["params"]
assert {t["worker"] for t in trials} == {1, 2}, "both workers took trials"
'
# The stored steps carry the detect metrics: step 0 (untrained) and epochs 1, 2.
"$HPSEARCH" summarize "$WORK/runs.db" --format json > "$WORK/summary.json"
python3 - "$WORK/summary.json" <<'PY' || fail "steps lack the detect metrics"
import json, sys
s = json.load(open(sys.argv[1]))
t = s["trials"][0]
steps = t["steps"]
assert [x["step"] for x in steps] == [0, 1, 2], steps
for k in ("train_loss", "valid_loss", "colour_accuracy", "mean_iou", "centre_error_px"):
    assert k in steps[-1], (k, steps[-1])
PY

# hpsearch train --from: the best trial's configuration, 3 epochs, a bar per epoch, best.pt.
"$HPSEARCH" train spaces/detect.json --from "$WORK/runs.db" --epochs 3 --out "$WORK/train" --progress plain \
  --set trainer.data="$WORK/balls" > "$WORK/train.json" 2> "$WORK/train.log" || { cat "$WORK/train.log" >&2; fail "train --from failed"; }
grep -q "3/3 epochs \[Elapsed=" "$WORK/train.log" || { cat "$WORK/train.log" >&2; fail "no progress bar"; }
[ -f "$WORK/train/best.pt" ] && [ -f "$WORK/train/checkpoint.pt" ] || fail "train wrote no model"
[ "$(wc -l < "$WORK/train/history.jsonl")" -eq 4 ] || fail "history.jsonl should hold steps 0..3"

# User mistakes: exit 2 with the file and the field named.
set +e
"$HPSEARCH" spaces/detect.json --db "$WORK/bad.db" --set trainer.data="$WORK/nothing" 2> "$WORK/err.log"; code=$?
set -e
[ $code -eq 2 ] || fail "missing data folder: exit $code, expected 2"
grep -q -- "--set trainer.data=.*: no such folder; correct the path, or, to generate a synthetic data set there, run: hpsearch make-data balls --out" "$WORK/err.log" || fail "message: $(cat "$WORK/err.log")"
echo '{"batch_size": 16,' > "$WORK/broken.json"
set +e
"$HPSEARCH" train spaces/detect.json --params "$WORK/broken.json" --set trainer.data="$WORK/balls" 2> "$WORK/err.log"; code=$?
set -e
[ $code -eq 2 ] && grep -q "broken.json: not valid JSON" "$WORK/err.log" || fail "bad params file: exit $code, $(cat "$WORK/err.log")"
set +e
"$HPSEARCH" train spaces/detect.json --from "$WORK/none.db" --set trainer.data="$WORK/balls" 2> "$WORK/err.log"; code=$?
set -e
[ $code -eq 2 ] || fail "missing database: exit $code, $(cat "$WORK/err.log")"
echo "detect search: ok"
