# Trials on groups of ranks (--gpus-per-trial, issue #8) on CPU: under mpirun -np 5 with groups of
# 2, the 4 worker ranks form two groups whose leaders (ranks 1 and 3) take trials side by side,
# each trained data-parallel by its 2 ranks through the MPI communicator. A rank count that does
# not form whole groups is a user's mistake (exit 2, nothing written).
source "$(dirname "$0")/lib.sh"
export OMP_NUM_THREADS=1  # 5 ranks on 2 cores

"$HPSEARCH" make-data balls --out "$WORK/balls" --count 200 --seed 5 2> "$WORK/make.log"
SMALL='[["conv2d", {"out_channels": 4, "kernel_size": 3, "stride": 2}], ["max_pooling", {"kernel_size": 2}], ["conv2d", {"out_channels": 8, "kernel_size": 3, "stride": 2}], ["max_pooling", {"kernel_size": 2}], ["flatten", {}], ["fully_connected", {}]]'
mpirun -np 5 "$HPSEARCH" spaces/detect.json --db "$WORK/runs.db" --trials 6 --seed 3 --progress plain --gpus-per-trial 2 \
  --set params.epochs=2 --set trainer.data="$WORK/balls" --set "params.architecture.layers_param=$SMALL" 2> "$WORK/search.log" \
  || { cat "$WORK/search.log" >&2; fail "the grouped search did not finish"; }
grep -q "2 MPI worker" "$WORK/search.log" || { cat "$WORK/search.log" >&2; fail "the master should see 2 workers (the group leaders)"; }
check_summary "$WORK/runs.db" '
trials = s["trials"]
assert len(trials) == 6, len(trials)
assert all(t["state"] == "COMPLETE" for t in trials), [(t["state"], t.get("error")) for t in trials]
assert {t["worker"] for t in trials} == {1, 3}, "the two group leaders took the trials: %s" % [t["worker"] for t in trials]
'
[ "$(ls "$WORK/runs_trials/detect" | wc -l)" -eq 6 ] || fail "one folder per trial, written by the group leaders"

# 4 ranks = a master and 3 workers: not whole groups of 2.
set +e
mpirun -np 4 "$HPSEARCH" spaces/detect.json --db "$WORK/bad.db" --gpus-per-trial 2 --set trainer.data="$WORK/balls" 2> "$WORK/err.log"; code=$?
set -e
[ $code -eq 2 ] || fail "3 workers in groups of 2: exit $code, expected 2"
grep -q "do not form whole groups" "$WORK/err.log" || fail "message: $(cat "$WORK/err.log")"
[ ! -e "$WORK/bad.db" ] || fail "a refused search wrote $WORK/bad.db"
echo "trial groups: ok"
