#!/usr/bin/env bash
# Copied unchanged from shared/cluster/stop-slurm.sh, where it was run and checked on 2026-11-22
# (the facts behind it: shared/cluster/README.md); tests/integration/test_*_batch.sh use it.
# Stop the local Slurm cluster started by start-slurm.sh.
# Only touches processes whose pid is in $SLURM_LOCAL_DIR/run/*.pid and whose
# /proc/PID/comm matches the expected daemon name (never pkill/killall).
# Cancels the jobs of this local cluster first so no slurmstepd is left behind.
set -uo pipefail

B=${SLURM_LOCAL_DIR:-/tmp/slurm-local}
CONF=$B/etc/slurm.conf
log() { echo "[stop-slurm] $*"; }

alive() {
  local pid
  [ -s "$2" ] || return 1
  pid=$(cat "$2" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] && [ "$(cat /proc/$pid/comm)" = "$1" ]
}

stop_daemon() {   # stop_daemon NAME PIDFILE
  local name=$1 pf=$2 pid
  if ! alive "$name" "$pf"; then rm -f "$pf"; return 0; fi
  pid=$(cat "$pf")
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
  if [ -d "/proc/$pid" ] && [ "$(cat /proc/$pid/comm 2>/dev/null)" = "$name" ]; then
    log "$name (pid $pid) did not exit, sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pf"
}

# cancel all jobs of *this* cluster (only if our controller is up)
if [ -f "$CONF" ] && alive slurmctld "$B/run/slurmctld.pid"; then
  export SLURM_CONF=$CONF
  jobs=$(squeue -h -o '%A' 2>/dev/null | tr '\n' ' ')
  if [ -n "${jobs// /}" ]; then
    log "cancelling jobs: $jobs"
    # shellcheck disable=SC2086
    scancel $jobs 2>/dev/null || true
    for _ in $(seq 1 100); do
      [ -z "$(squeue -h -o '%A' 2>/dev/null)" ] && break
      sleep 0.1
    done
  fi
fi

stop_daemon slurmd    "$B/run/slurmd.pid"
stop_daemon slurmctld "$B/run/slurmctld.pid"
stop_daemon munged    "$B/run/munged.pid"

# drop the /etc/slurm/slurm.conf symlink only if it is ours
if [ -L /etc/slurm/slurm.conf ] && [ "$(readlink /etc/slurm/slurm.conf)" = "$CONF" ]; then
  rm -f /etc/slurm/slurm.conf
fi
log "stopped"
