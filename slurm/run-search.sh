# Sourced by hpsearch.sbatch and hpsearch.oar: the one way both batch scripts run a search so that
# the walltime warning stops it gracefully.
#   run_search mpirun ... hpsearch SPACE.json --db runs.db ...
# sets search_status (the command's exit status) and search_signalled (1 if SIGUSR2 came).
#
# Slurm (--signal=B:USR2@120) and OAR (--checkpoint 120 --signal 12) send SIGUSR2 to the batch
# script's shell only, before the walltime. The command runs in the background so that this shell
# can take the signal while it waits, and passes it on to mpirun, which forwards it to every rank:
# hpsearch's master stops handing out trials, records the running ones INTERRUPTED and exits 0
# (README, "Resuming and failures"). What to do next (requeue, resubmit) is the scheduler's part.

run_search() {
  search_signalled=0
  "$@" &
  search_pid=$!
  trap 'search_forwarded=1; search_signalled=1; kill -USR2 "$search_pid" 2>/dev/null || true' USR2
  # A trapped signal cuts `wait` short (status > 128) without reaping the command: wait again.
  while true; do
    search_forwarded=0
    wait "$search_pid" && search_status=0 || search_status=$?
    [ "$search_forwarded" = 1 ] && [ "$search_status" -gt 128 ] || break
  done
  trap - USR2
}

# stopped_by_signal: true when the search stopped gracefully on SIGUSR2, so that the job should run
# again; false when it finished, failed (then the job must not run again), or was not signalled.
stopped_by_signal() {
  [ "$search_signalled" = 1 ] && [ "$search_status" = 0 ]
}
