# slurm/hpsearch.oar on a real OAR 2.5.9 started on localhost (tools/cluster/start-oar.sh, root
# only; it installs Debian's packages if missing). Jobs run as the ordinary user oartest, in a
# folder of their own holding what the job needs laid out as in the repository (slurm/,
# build/hpsearch). A search that finishes ends with exit code 0 and one that fails with hpsearch's
# code, never 99 (OAR's code to resubmit an idempotent job). One stopped by the checkpoint signal
# (`oardel --checkpoint`: what `--checkpoint 120 --signal 12` sends before the walltime) after more
# than 60 s exits with 99, OAR resubmits it as a new job, and that job continues the study in the
# same database: every trial COMPLETE, each once, the trials finished before the signal not run
# again, the ones it interrupted run again.
source "$(dirname "$0")/lib.sh"

OAR_LOCAL_DIR=${OAR_LOCAL_DIR:-/tmp/oar-local}
OAR_USER=${OAR_LOCAL_USER:-oartest}

# The test starts OAR unless its server already runs, and then stops it (by pid files).
almighty_pid=$(head -1 "$OAR_LOCAL_DIR/run/almighty.pid" 2>/dev/null || true)
started_oar=1
[ -n "$almighty_pid" ] && [ "$(cat "/proc/$almighty_pid/comm" 2>/dev/null)" = Almighty ] && started_oar=0
jobs=()
JOBDIR=""
cleanup() {
  for job in "${jobs[@]}"; do runuser -u "$OAR_USER" -- oardel "$job" > /dev/null 2>&1 || true; done
  if [ "$started_oar" = 1 ]; then bash tools/cluster/stop-oar.sh > /dev/null || true; fi
  [ -z "$JOBDIR" ] || rm -rf "$JOBDIR"
  rm -rf "$WORK"
}
trap cleanup EXIT
begin=$SECONDS
start_local_cluster oar "oar-server, oar-node, oar-user (pgsql) and postgresql"

# The job's folder: the batch scripts as they are in the repository (mode included: oarsub -S
# runs the script itself), the binary where the script looks for it, the space, the databases.
JOBDIR=$(mktemp -d "$OAR_LOCAL_DIR/jobs/hpsearch-test.XXXXXX")
mkdir "$JOBDIR/slurm" "$JOBDIR/build"
cp -p slurm/hpsearch.oar slurm/run-search.sh "$JOBDIR/slurm/"
cp "$HPSEARCH" "$JOBDIR/build/hpsearch"
# 1 master + 1 worker (one rank per resource: the local cluster has 2); trials of at least 2 s.
cat > "$JOBDIR/curve.json" <<'JSON'
{"trainer": {"type": "synthetic", "function": "learning_curve", "steps": 10, "sleep_ms": 200},
 "objective": {"metric": "value", "mode": "min"},
 "trials": 40,
 "sampler": {"type": "random", "seed": 5},
 "params": {"x1": {"$uniform": [-5, 10]}, "x2": {"$uniform": [0, 15]}}}
JSON
chown -R "$OAR_USER" "$JOBDIR"
as_user() { (cd "$JOBDIR" && runuser -u "$OAR_USER" -- "$@"); }

# submit NAME [hpsearch arguments]: oarsub -S from the job's folder; sets $job.
submit() {
  local name=$1
  shift
  job=$(as_user oarsub -S "./slurm/hpsearch.oar $*" | sed -n 's/^OAR_JOB_ID=//p')
  [ -n "$job" ] || fail "oarsub refused slurm/hpsearch.oar"
  jobs+=("$job")
  echo "$name: job $job"
}
# info JOB FIELD: one field of `oarstat --json --full` (exit_code is the wait status: code << 8).
info() {
  oarstat -J -f -j "$1" | python3 -c "import json, sys; print(list(json.load(sys.stdin).values())[0].get('$2'))"
}
resubmitted_as() {  # the job OAR made when it resubmitted $1, if any
  oarstat -J -f -j "$1" | python3 -c '
import json, re, sys
for e in list(json.load(sys.stdin).values())[0]["events"]:
    if e["type"] == "RESUBMIT_JOB_AUTOMATICALLY":
        print(re.search(r"=> (\d+)", e["description"]).group(1))'
}
# wait_end JOB SECONDS: polls oarstat (OAR has no --wait) until the job has ended; sets $state.
wait_end() {
  local deadline=$((SECONDS + $2))
  while :; do
    state=$(oarstat -j "$1" -s | sed -n "s/^$1: //p")
    case "$state" in Terminated | Error) return ;; esac
    [ "$SECONDS" -lt "$deadline" ] || fail "job $1 still $state after $2 s"
    sleep 1
  done
}
# The test reads the databases as the jobs' user: a root-owned -shm file would lock the job out.
count() { as_user sqlite3 "$1" "SELECT count(*) FROM trials WHERE state = '$2'" 2>/dev/null || echo 0; }
exit_code() { echo $(($(info "$1" exit_code) >> 8)); }

# A search that finishes, and one that fails (no such space file): their own exit codes, not 99.
# (They also run less than 60 s, which alone keeps OAR from resubmitting them.)
t0=$SECONDS
submit plain curve.json --db plain.db --trials 6 --set trainer.sleep_ms=0
wait_end "$job" 60
[ "$state" = Terminated ] && [ "$(exit_code "$job")" = 0 ] || { cat "$JOBDIR"/hpsearch-"$job".*; fail "plain job: $state, exit code $(exit_code "$job")"; }
[ "$(count plain.db COMPLETE)" = 6 ] || fail "plain job: $(count plain.db COMPLETE) trials COMPLETE, not 6"
[ -z "$(resubmitted_as "$job")" ] || fail "plain job was resubmitted"
echo "plain: exit code 0, not resubmitted, $((SECONDS - t0)) s"
t0=$SECONDS
submit failing missing.json --db failing.db
wait_end "$job" 60
[ "$(exit_code "$job")" = 2 ] || { cat "$JOBDIR"/hpsearch-"$job".*; fail "failing job: $state, exit code $(exit_code "$job"), not hpsearch's 2"; }
grep -q "missing.json" "$JOBDIR/hpsearch-$job.err" || { cat "$JOBDIR"/hpsearch-"$job".*; fail "failing job: hpsearch's message does not name the space file"; }
echo "failing: exit code 2, not resubmitted, $((SECONDS - t0)) s"

# The checkpoint signal after 60 s of run, mid-search: exit code 99, resubmission, study finished.
t0=$SECONDS
submit resubmitted curve.json --db runs.db
first=$job
deadline=$((SECONDS + 60))
until [ "$(info "$first" state)" = Running ]; do
  [ "$SECONDS" -lt "$deadline" ] || fail "job $first: not running after 60 s"
  sleep 1
done
# OAR resubmits an idempotent job that exits with 99 only after a run of more than 60 s.
wait_s=$(($(info "$first" startTime) + 63 - $(date +%s)))
[ "$wait_s" -le 0 ] || sleep "$wait_s"
deadline=$((SECONDS + 5))
until [ "$(count runs.db RUNNING)" -ge 1 ] && [ "$(count runs.db COMPLETE)" -lt 40 ]; do
  [ "$SECONDS" -lt "$deadline" ] || fail "job $first: no trial running when the signal was to be sent"
  sleep 0.2
done
as_user oardel --checkpoint "$first" > /dev/null
wait_end "$first" 60
out=$JOBDIR/hpsearch-$first
[ "$(exit_code "$first")" = 99 ] || { cat "$out".*; fail "signalled job: exit code $(exit_code "$first"), not 99"; }
grep -q "CHECKPOINTED with signal 12" "$out.err" && grep -q "hpsearch: stopped by SIGUSR2" "$out.err" ||
  { cat "$out".*; fail "the checkpoint signal did not stop the search"; }
second=$(resubmitted_as "$first")
[ -n "$second" ] || { cat "$out".*; fail "OAR did not resubmit job $first (exit code 99, $(($(info "$first" stopTime) - $(info "$first" startTime))) s)"; }
jobs+=("$second")
echo "resubmitted: job $first stopped by the signal, exit code 99, resubmitted as job $second"
wait_end "$second" 120
out=$JOBDIR/hpsearch-$second
[ "$state" = Terminated ] && [ "$(exit_code "$second")" = 0 ] || { cat "$out".*; fail "resubmitted job $second: $state, exit code $(exit_code "$second")"; }
[ "$(info "$second" resubmit_job_id)" = "$first" ] || fail "job $second is not the resubmission of job $first"
[ -z "$(resubmitted_as "$second")" ] || fail "the finished job $second was resubmitted"
before=$(sed -n 's/.*40 trials (\([0-9]*\) finished before).*/\1/p' "$out.err")
[ -n "$before" ] && [ "$before" -ge 1 ] && [ "$before" -lt 40 ] || { cat "$out".*; fail "job $second did not continue the study (finished before: '$before')"; }
as_user build/hpsearch summarize runs.db --format json > "$WORK/summary.json"
python3 - "$WORK/summary.json" "$before" <<'PY'
import json, sys
trials = json.load(open(sys.argv[1]))["trials"]
assert [t["number"] for t in trials] == list(range(40)), [t["number"] for t in trials]
assert all(t["state"] == "COMPLETE" for t in trials), [(t["number"], t["state"]) for t in trials]
rerun = [t for t in trials if t["attempts"]]
assert rerun, "no trial was interrupted and run again"
for t in rerun:
    assert [a["state"] for a in t["attempts"]] == ["INTERRUPTED"], t["attempts"]
    assert t["attempts"][0]["error"].startswith("interrupted by SIGUSR2"), t["attempts"]
assert len(trials) - len(rerun) >= int(sys.argv[2]), "finished trials were run again"
print("resubmitted: %d trials COMPLETE, %d of them interrupted by SIGUSR2 and run again" % (len(trials), len(rerun)))
PY
echo "resubmitted: $before trials finished before the signal, the resubmitted job finished the study, $((SECONDS - t0)) s"
echo "oar batch: ok ($((SECONDS - begin)) s)"
