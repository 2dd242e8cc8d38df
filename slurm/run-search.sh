# Sourced by hpsearch.sbatch and hpsearch.oar: the one way both batch scripts run a search so that
# the walltime warning stops it gracefully.
#   run_search mpirun ... hpsearch SPACE.json --db runs.db ...
# sets search_status (the command's exit status), search_signalled (1 if SIGUSR2 came) and
# search_report (the JSON of hpsearch's --run-report, which run_search appends to the command:
# written in the submission folder, which every node of the job sees, read, then removed). It
# also appends --stop-within 90 (see below).
#
# Slurm (--signal=B:USR2@120) and OAR (--checkpoint 120 --signal 12) send SIGUSR2 to the batch
# script's shell only, before the walltime. The command runs in the background so that this shell
# can take the signal while it waits, and passes it on to mpirun, which forwards it to every rank:
# hpsearch's master stops handing out trials, records the running ones INTERRUPTED and exits 0
# (README, "Resuming and failures"). What to do next (requeue, resubmit) is the scheduler's part.

run_search() {
  search_signalled=0
  local report_file=$PWD/.hpsearch-run-${SLURM_JOB_ID:-${OAR_JOB_ID:-$$}}.json
  rm -f "$report_file"
  local extra=(--run-report "$report_file")
  # The signal comes 120 s before the walltime: the search must end (and the job requeue) before
  # the scheduler kills it, even if an epoch is still running; that epoch's work is lost, the
  # trial goes on from its last checkpoint. HPSEARCH_STOP_WITHIN, or the user's own --stop-within.
  case " $* " in
    *" --stop-within"*) ;;
    *) extra+=(--stop-within "${HPSEARCH_STOP_WITHIN:-90}") ;;
  esac
  "$@" "${extra[@]}" &
  search_pid=$!
  trap 'search_forwarded=1; search_signalled=1; kill -USR2 "$search_pid" 2>/dev/null || true' USR2
  # A trapped signal cuts `wait` short (status > 128) without reaping the command: wait again.
  while true; do
    search_forwarded=0
    wait "$search_pid" && search_status=0 || search_status=$?
    [ "$search_forwarded" = 1 ] && [ "$search_status" -gt 128 ] || break
  done
  trap - USR2
  search_report=$(cat "$report_file" 2>/dev/null || true)
  rm -f "$report_file"
}

# stopped_by_signal: true when the search stopped gracefully on SIGUSR2, so that the job should run
# again; false when it finished, failed (then the job must not run again), or was not signalled.
stopped_by_signal() {
  [ "$search_signalled" = 1 ] && [ "$search_status" = 0 ]
}

# made_progress: true when the run finished a trial or took one past its last recorded step (the
# run report's trials_finished, trials_advanced), or when there is no report to tell; false when
# another run would only repeat this one: its trials restart from scratch (no checkpoint) and none
# can end within one walltime.
made_progress() {
  [ -n "$search_report" ] || return 0
  local finished advanced
  finished=$(sed -n 's/.*"trials_finished":\([0-9]*\).*/\1/p' <<< "$search_report")
  advanced=$(sed -n 's/.*"trials_advanced":\([0-9]*\).*/\1/p' <<< "$search_report")
  [ "${finished:-1}" != 0 ] || [ "${advanced:-1}" != 0 ]
}

# The message of a job that will not run again because it made no progress (exit code 3).
no_progress_message() {
  echo "$1: this run finished no trial and took none past its last recorded step: running the job again would only repeat it, so it is not requeued (exit code 3). The running trials take longer than the walltime and restart from scratch: give the job a longer walltime, or make the trainer save and resume checkpoints; then submit the same command again (nothing is lost)." >&2
}
