#!/usr/bin/env bash
# Copied unchanged from shared/cluster/stop-oar.sh, where it was run and checked on 2026-11-22
# (the facts behind it: shared/cluster/README.md); tests/integration/test_*_batch.sh use it.
# Stop the local OAR cluster started by start-oar.sh: deletes remaining jobs,
# stops Almighty (and its own children), the oar-node sshd and the private
# PostgreSQL -- only by pid files in $OAR_LOCAL_DIR/run (never pkill/killall).
# Set OAR_LOCAL_RESTORE_CONF=1 to put back the original /etc/oar/oar.conf.
set -uo pipefail

O=${OAR_LOCAL_DIR:-/tmp/oar-local}
PGDATA=$O/pg/data
log() { echo "[stop-oar] $*"; }

alive() {   # alive COMM PIDFILE
  local pid
  [ -s "$2" ] || return 1
  pid=$(head -1 "$2" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] && [ "$(cat /proc/$pid/comm)" = "$1" ]
}
descendants() {   # all descendant pids of $1
  local c
  for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do echo "$c"; descendants "$c"; done
}
wait_gone() {     # wait_gone SECONDS PID...
  local t=$(( $1 * 10 )); shift
  for _ in $(seq 1 "$t"); do
    local any=0; for p in "$@"; do [ -d "/proc/$p" ] && any=1; done
    [ "$any" = 0 ] && return 0; sleep 0.1
  done
  return 1
}

# 1. delete jobs still known to OAR (so no oarexec is left running)
if alive Almighty "$O/run/almighty.pid"; then
  jobs=$(oarstat 2>/dev/null | awk 'NR>2 && $1 ~ /^[0-9]+$/ {print $1}' | tr '\n' ' ')
  if [ -n "${jobs// /}" ]; then
    log "deleting jobs: $jobs"
    # shellcheck disable=SC2086
    oardel $jobs >/dev/null 2>&1 || true
    for _ in $(seq 1 40); do
      [ -z "$(oarstat 2>/dev/null | awk 'NR>2 && $1 ~ /^[0-9]+$/')" ] && break
      sleep 0.5
    done
  fi
fi

# 2. Almighty and its children (collected before it exits)
if alive Almighty "$O/run/almighty.pid"; then
  pid=$(head -1 "$O/run/almighty.pid")
  kids=$(descendants "$pid")
  log "stopping Almighty (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  wait_gone 10 "$pid" || kill -KILL "$pid" 2>/dev/null || true
  for k in $kids; do
    # only processes that are still the same oar-owned children we recorded
    [ -d "/proc/$k" ] && [ "$(stat -c %U /proc/$k 2>/dev/null)" = oar ] && kill -TERM "$k" 2>/dev/null
  done
  # shellcheck disable=SC2086
  wait_gone 5 $kids || for k in $kids; do
    [ -d "/proc/$k" ] && [ "$(stat -c %U /proc/$k 2>/dev/null)" = oar ] && kill -KILL "$k" 2>/dev/null
  done
fi
rm -f "$O/run/almighty.pid"

# 3. oar-node sshd
if alive sshd "$O/run/oar-node-sshd.pid"; then
  pid=$(head -1 "$O/run/oar-node-sshd.pid")
  log "stopping oar-node sshd (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  wait_gone 5 "$pid" || kill -KILL "$pid" 2>/dev/null || true
fi
rm -f "$O/run/oar-node-sshd.pid"

# 4. PostgreSQL (pg_ctl signals the postmaster pid from $PGDATA/postmaster.pid)
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -n "$PGBIN" ] && [ -s "$PGDATA/postmaster.pid" ] && \
   runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
  log "stopping PostgreSQL ($PGDATA)"
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w -t 30 stop >/dev/null || true
fi

if [ "${OAR_LOCAL_RESTORE_CONF:-0}" = 1 ] && [ -f "$O/oar.conf.dist" ]; then
  cp -p "$O/oar.conf.dist" /etc/oar/oar.conf && log "restored /etc/oar/oar.conf"
fi
log "stopped"
