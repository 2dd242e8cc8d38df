# slurm/hpsearch.sbatch on a real Slurm 22.05 started on localhost (tools/cluster/start-slurm.sh,
# root only; it installs Debian's packages if missing). A search that finishes ends COMPLETED and
# is not requeued; one that fails ends FAILED with hpsearch's exit code and is not requeued; one
# stopped by SIGUSR2 (what --signal=B:USR2@120 sends before the time limit; `scancel --batch`
# sends it now) requeues itself, and its second run continues the study in the same database:
# every trial COMPLETE, each once, the trials finished before the signal not run again, the ones
# it interrupted run again. With HPSEARCH_REQUEUE=0 the signal stops the search and nothing more.
# A run that made no progress (its long trial restarted from scratch and was stopped before it
# got past its last step) is not requeued: FAILED, exit code 3.
source "$(dirname "$0")/lib.sh"

SLURM_LOCAL_DIR=${SLURM_LOCAL_DIR:-/tmp/slurm-local}
export SLURM_CONF=$SLURM_LOCAL_DIR/etc/slurm.conf

# The test starts Slurm unless its controller already runs, and then stops it (by pid files).
slurmctld_pid=$(cat "$SLURM_LOCAL_DIR/run/slurmctld.pid" 2>/dev/null || true)
started_slurm=1
[ -n "$slurmctld_pid" ] && [ "$(cat "/proc/$slurmctld_pid/comm" 2>/dev/null)" = slurmctld ] && started_slurm=0
jobs=()
cleanup() {
  for job in "${jobs[@]}"; do scancel "$job" 2>/dev/null || true; done
  if [ "$started_slurm" = 1 ]; then bash tools/cluster/stop-slurm.sh > /dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
begin=$SECONDS
start_local_cluster slurm "munge, slurmctld, slurmd and slurm-client"

# 1 master + 1 worker (the local node has 2 CPUs); trials of 10 steps of 100 ms.
cat > "$WORK/curve.json" <<'JSON'
{"trainer": {"type": "synthetic", "function": "learning_curve", "steps": 10, "sleep_ms": 100},
 "objective": {"metric": "value", "mode": "min"},
 "trials": 20,
 "sampler": {"type": "random", "seed": 5},
 "params": {"x1": {"$uniform": [-5, 10]}, "x2": {"$uniform": [0, 15]}}}
JSON

# submit NAME [hpsearch arguments]: submits from the source root, as the README says; sets $job.
submit() {
  local name=$1
  shift
  job=$(HPSEARCH=$HPSEARCH sbatch --parsable --ntasks=2 --time=10 --job-name="$name" --output="$WORK/$name.out" \
    slurm/hpsearch.sbatch "$@") || fail "sbatch refused slurm/hpsearch.sbatch"
  jobs+=("$job")
  echo "$name: job $job"
}
field() { scontrol show job "$1" | grep -o "\b$2=[^ ]*" | head -1 | cut -d= -f2; }
# wait_end JOB SECONDS: waits until the job has ended (polling, not sbatch --wait); sets $state.
wait_end() {
  local deadline=$((SECONDS + $2))
  while :; do
    state=$(field "$1" JobState)
    case "$state" in
      COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | BOOT_FAIL | DEADLINE) return ;;
    esac
    [ "$SECONDS" -lt "$deadline" ] || fail "job $1 still $state after $2 s"
    sleep 0.5
  done
}
count() { sqlite3 "$1" "SELECT count(*) FROM trials WHERE state = '$2'" 2>/dev/null || echo 0; }
# signal_mid_search JOB DB COMPLETE: sends SIGUSR2 to the batch shell once COMPLETE trials are
# done and one runs.
signal_mid_search() {
  local deadline=$((SECONDS + 60))
  until [ "$(count "$2" COMPLETE)" -ge "$3" ] && [ "$(count "$2" RUNNING)" -ge 1 ]; do
    [ "$SECONDS" -lt "$deadline" ] || { cat "$WORK"/*.out; fail "job $1: $3 trials not COMPLETE after 60 s"; }
    sleep 0.2
  done
  scancel --batch --signal=USR2 "$1"
}

# A search that finishes: COMPLETED, never requeued.
t0=$SECONDS
submit plain "$WORK/curve.json" --db "$WORK/plain.db" --trials 6 --set trainer.sleep_ms=0
wait_end "$job" 60
[ "$state" = COMPLETED ] && [ "$(field "$job" Restarts)" = 0 ] || { cat "$WORK/plain.out"; fail "plain job: $state, restarts $(field "$job" Restarts)"; }
! grep -q requeueing "$WORK/plain.out" || fail "plain job asked for a requeue"
[ "$(count "$WORK/plain.db" COMPLETE)" = 6 ] || fail "plain job: $(count "$WORK/plain.db" COMPLETE) trials COMPLETE, not 6"
echo "plain: COMPLETED, not requeued, $((SECONDS - t0)) s"

# A search that fails (no such space file): FAILED with hpsearch's exit code 2, never requeued.
t0=$SECONDS
submit failing "$WORK/missing.json" --db "$WORK/failing.db"
wait_end "$job" 60
[ "$state" = FAILED ] && [ "$(field "$job" ExitCode)" = 2:0 ] && [ "$(field "$job" Restarts)" = 0 ] ||
  { cat "$WORK/failing.out"; fail "failing job: $state, exit code $(field "$job" ExitCode), restarts $(field "$job" Restarts)"; }
grep -q "missing.json" "$WORK/failing.out" || { cat "$WORK/failing.out"; fail "failing job: hpsearch's message does not name the space file"; }
echo "failing: FAILED (exit code 2), not requeued, $((SECONDS - t0)) s"

# SIGUSR2 with HPSEARCH_REQUEUE=0: the search stops gracefully, the job ends COMPLETED.
t0=$SECONDS
HPSEARCH_REQUEUE=0 submit optout "$WORK/curve.json" --db "$WORK/optout.db"
signal_mid_search "$job" "$WORK/optout.db" 2
wait_end "$job" 60
[ "$state" = COMPLETED ] && [ "$(field "$job" Restarts)" = 0 ] || { cat "$WORK/optout.out"; fail "HPSEARCH_REQUEUE=0: $state, restarts $(field "$job" Restarts)"; }
grep -q "stopped by SIGUSR2; not requeued (HPSEARCH_REQUEUE=0" "$WORK/optout.out" || { cat "$WORK/optout.out"; fail "HPSEARCH_REQUEUE=0: no stop message"; }
[ "$(count "$WORK/optout.db" INTERRUPTED)" -ge 1 ] && [ "$(count "$WORK/optout.db" COMPLETE)" -lt 20 ] ||
  fail "HPSEARCH_REQUEUE=0: the search was not stopped mid-way by the signal"
echo "HPSEARCH_REQUEUE=0: stopped, COMPLETED, not requeued, $((SECONDS - t0)) s"

# SIGUSR2 mid-search: the job requeues itself and its second run finishes the study.
t0=$SECONDS
submit requeued "$WORK/curve.json" --db "$WORK/runs.db"
signal_mid_search "$job" "$WORK/runs.db" 4
wait_end "$job" 120
[ "$state" = COMPLETED ] && [ "$(field "$job" Restarts)" = 1 ] && [ "$(field "$job" ExitCode)" = 0:0 ] ||
  { cat "$WORK/requeued.out"; fail "signalled job: $state, restarts $(field "$job" Restarts), exit code $(field "$job" ExitCode); expected COMPLETED after 1 requeue"; }
out=$WORK/requeued.out
grep -q "hpsearch: stopped by SIGUSR2" "$out" && grep -q "requeueing job $job to continue the study" "$out" ||
  { cat "$out"; fail "the first run did not stop on SIGUSR2 and requeue"; }
grep -q "job $job, run 2: continuing the study" "$out" || { cat "$out"; fail "no second run"; }
before=$(sed -n 's/.*20 trials (\([0-9]*\) finished before).*/\1/p' "$out" | tail -1)
[ -n "$before" ] && [ "$before" -ge 4 ] && [ "$before" -lt 20 ] || { cat "$out"; fail "the second run did not continue the study (finished before: '$before')"; }
check_summary "$WORK/runs.db" '
trials = s["trials"]
assert [t["number"] for t in trials] == list(range(20)), [t["number"] for t in trials]
assert all(t["state"] == "COMPLETE" for t in trials), [(t["number"], t["state"]) for t in trials]
rerun = [t for t in trials if t["attempts"]]
assert rerun, "no trial was interrupted and run again"
for t in rerun:
    assert [a["state"] for a in t["attempts"]] == ["INTERRUPTED"], t["attempts"]
    assert t["attempts"][0]["error"].startswith("interrupted by SIGUSR2"), t["attempts"]
assert len(trials) - len(rerun) >= 4, "finished trials were run again"
print("requeued: %d trials COMPLETE, %d of them interrupted by SIGUSR2 and run again" % (len(trials), len(rerun)))
'
echo "requeued: $before trials finished before the requeue, COMPLETED after 1 requeue, $((SECONDS - t0)) s"
# A trial longer than a walltime that restarts from scratch (the synthetic trainer keeps no
# checkpoint): the first run took it from nothing to step 20 or more and is requeued; the second,
# signalled before the rerun passes that step, made no progress, so the job ends FAILED with exit
# code 3 instead of requeueing forever.
t0=$SECONDS
submit stuck "$WORK/curve.json" --db "$WORK/stuck.db" --trials 1 --set trainer.steps=600
steps() { sqlite3 "$WORK/stuck.db" "SELECT count(*) FROM steps" 2>/dev/null || echo 0; }
deadline=$((SECONDS + 60))
until [ "$(steps)" -ge 20 ]; do [ "$SECONDS" -lt "$deadline" ] || fail "stuck job: no 20 steps after 60 s"; sleep 0.2; done
scancel --batch --signal=USR2 "$job"
deadline=$((SECONDS + 90))
until grep -q "job $job, run 2: continuing the study" "$WORK/stuck.out" 2>/dev/null && [ "$(count "$WORK/stuck.db" RUNNING)" = 1 ]; do
  [ "$SECONDS" -lt "$deadline" ] || { cat "$WORK/stuck.out"; fail "stuck job: no second run with its trial running after 90 s"; }
  sleep 0.1
done
scancel --batch --signal=USR2 "$job"
wait_end "$job" 60
[ "$state" = FAILED ] && [ "$(field "$job" ExitCode)" = 3:0 ] && [ "$(field "$job" Restarts)" = 1 ] ||
  { cat "$WORK/stuck.out"; fail "stuck job: $state, exit code $(field "$job" ExitCode), restarts $(field "$job" Restarts); expected FAILED, 3:0 after 1 requeue"; }
grep -q "finished no trial and took none past its last recorded step" "$WORK/stuck.out" || { cat "$WORK/stuck.out"; fail "stuck job: no message"; }
[ "$(count "$WORK/stuck.db" INTERRUPTED)" = 1 ] || fail "stuck job: its trial is not INTERRUPTED (to run with a longer walltime)"
echo "stuck: requeued once, then FAILED (exit code 3) without progress, $((SECONDS - t0)) s"
echo "slurm batch: ok ($((SECONDS - begin)) s)"
