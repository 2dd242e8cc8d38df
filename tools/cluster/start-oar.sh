#!/usr/bin/env bash
# Copied unchanged from shared/cluster/start-oar.sh, where it was run and checked on 2026-11-22
# (the facts behind it: shared/cluster/README.md); tests/integration/test_*_batch.sh use it.
# Start a throw-away single-node OAR 2.5 cluster on localhost (no systemd).
# Idempotent: installs Debian packages if missing, starts a private PostgreSQL
# cluster, patches /etc/oar/oar.conf, creates the OAR database, starts the
# oar-node sshd (port 6667) and the OAR server (Almighty), adds resources,
# waits until they are Alive and prints 'oar ready'.
# State (DB, logs, pid files, runtime dir) lives in $OAR_LOCAL_DIR.
#
# Env knobs:
#   OAR_LOCAL_DIR      state dir                                  (default /tmp/oar-local)
#   OAR_LOCAL_PGPORT   port of the private PostgreSQL (127.0.0.1) (default 5433)
#   OAR_LOCAL_NRES     number of resources (cores) on localhost   (default 2)
#   OAR_LOCAL_USER     unprivileged user created for submitting   (default oartest)
#   OAR_LOCAL_TIMEOUT  seconds to wait for readiness              (default 60)
# NOTE: OAR refuses jobs from root and oar (admission rule #2, and root jobs
# really do hang); submit as the unprivileged user:
#   runuser -u oartest -- oarsub -l /resource_id=2,walltime=0:05:00 ./job.sh
set -euo pipefail

O=${OAR_LOCAL_DIR:-/tmp/oar-local}
PGPORT=${OAR_LOCAL_PGPORT:-5433}
NRES=${OAR_LOCAL_NRES:-2}
OUSER=${OAR_LOCAL_USER:-oartest}
TIMEOUT=${OAR_LOCAL_TIMEOUT:-60}
PGDATA=$O/pg/data
CONF=/etc/oar/oar.conf

log() { echo "[start-oar] $*"; }
die() { echo "[start-oar] ERROR: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root"

# ---------------------------------------------------------------- packages
pkgs=(oar-server oar-server-pgsql oar-node oar-user oar-user-pgsql postgresql openssh-server)
missing=()
for p in "${pkgs[@]}"; do
  [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = 'install ok installed' ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]} (apt)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || {
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  }
fi
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
[ -x "$PGBIN/pg_ctl" ] || die "pg_ctl not found"

alive() {   # alive COMM PIDFILE
  local pid
  [ -s "$2" ] || return 1
  pid=$(head -1 "$2" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] && [ "$(cat /proc/$pid/comm)" = "$1" ]
}

mkdir -p "$O"/{run,log,runtime,pg,jobs}
chown oar:oar "$O/log" "$O/runtime"
chown postgres:postgres "$O/pg"; chmod 700 "$O/pg"
chmod 1777 "$O/jobs"     # a place where the submit user can write job output

# ---------------------------------------------------------------- PostgreSQL
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  log "initdb $PGDATA"
  runuser -u postgres -- "$PGBIN/initdb" -D "$PGDATA" -A trust -U postgres --no-sync >"$O/log/initdb.log" 2>&1
fi
if ! runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
  log "starting PostgreSQL on 127.0.0.1:$PGPORT"
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" -l "$O/pg/postgres.log" -w -t 60 \
    -o "-p $PGPORT -k $O/pg -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
fi

# ---------------------------------------------------------------- oar.conf
[ -f "$O/oar.conf.dist" ] || cp -p "$CONF" "$O/oar.conf.dist"
conf_sum_before=$(md5sum < "$CONF")
setkey() {  # setkey KEY VALUE  (replace first KEY= line, commented or not; else append)
  if grep -qE "^#?[[:space:]]*$1=" "$CONF"; then
    sed -i -E "0,/^#?[[:space:]]*$1=.*/s||$1=\"$2\"|" "$CONF"
  else
    echo "$1=\"$2\"" >> "$CONF"
  fi
}
setkey DB_HOSTNAME 127.0.0.1
setkey DB_PORT "$PGPORT"
setkey DB_BASE_PASSWD oarpass
setkey DB_BASE_PASSWD_RO oarro
setkey SERVER_HOSTNAME localhost
setkey LOG_FILE "$O/log/oar.log"
setkey OAR_RUNTIME_DIRECTORY "$O/runtime"
# schedule right after each oarsub (default 5 s min gap + 10 s idle read => ~13 s latency)
setkey SCHEDULER_MIN_TIME_BETWEEN_2_CALLS 0
# no cpuset/cgroup job resource manager (needs cgroup cpuset + job user setup)
sed -i -E 's/^(JOB_RESOURCE_MANAGER_PROPERTY_DB_FIELD=.*)/#\1/; s/^(CPUSET_PATH=.*)/#\1/' "$CONF"
CONF_CHANGED=0
[ "$(md5sum < "$CONF")" = "$conf_sum_before" ] || CONF_CHANGED=1

# ---------------------------------------------------------------- database
if ! oar-database --check >/dev/null 2>&1; then
  log "creating OAR database"
  oar-database --create --db-admin-user=postgres --db-admin-pass=unused -y >"$O/log/oar-database.log" 2>&1 \
    || { cat "$O/log/oar-database.log" >&2; die "oar-database --create failed"; }
fi

# ---------------------------------------------------------------- oar-node sshd (port 6667)
if ! alive sshd "$O/run/oar-node-sshd.pid"; then
  log "starting oar-node sshd on port 6667"
  mkdir -p /run/sshd; chmod 755 /run/sshd
  /usr/sbin/sshd -f /etc/oar/sshd_config -o PidFile="$O/run/oar-node-sshd.pid" -E "$O/log/oar-node-sshd.log"
fi

# ---------------------------------------------------------------- resources
# (capture output first: `cmd | grep -q` under pipefail can fail on SIGPIPE)
nodes_out=$(oarnodes -s 2>/dev/null || true)
if ! grep -q . <<<"$nodes_out"; then
  log "adding $NRES resources on localhost"
  for _ in $(seq 1 "$NRES"); do oarnodesetting -a -h localhost -s Alive >/dev/null; done
elif grep -qvE ': Alive$|^localhost$|^$' <<<"$nodes_out"; then
  oarnodesetting -h localhost -s Alive >/dev/null 2>&1 || true
fi

# ---------------------------------------------------------------- server (Almighty)
if [ "$CONF_CHANGED" = 1 ] && alive Almighty "$O/run/almighty.pid"; then
  pid=$(head -1 "$O/run/almighty.pid")
  log "oar.conf changed, restarting Almighty (pid $pid)"
  kill -TERM "$pid"
  for _ in $(seq 1 100); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
fi
if ! alive Almighty "$O/run/almighty.pid"; then
  log "starting OAR server (Almighty)"
  ( cd / && exec setsid /usr/sbin/Almighty </dev/null >>"$O/log/almighty.out" 2>&1 ) &
  echo $! > "$O/run/almighty.pid"
fi

# ---------------------------------------------------------------- submit user
id "$OUSER" >/dev/null 2>&1 || useradd -m -s /bin/bash "$OUSER"

# ---------------------------------------------------------------- wait ready
deadline=$(( $(date +%s) + TIMEOUT ))
while :; do
  ok=1
  alive Almighty "$O/run/almighty.pid" || ok=0
  [ "$ok" = 1 ] && { nodes_out=$(oarnodes -s 2>/dev/null || true); grep -q ': Alive$' <<<"$nodes_out" || ok=0; }
  [ "$ok" = 1 ] && { runuser -u oar -- ssh -p 6667 -o BatchMode=yes -o ConnectTimeout=3 localhost true >/dev/null 2>&1 || ok=0; }
  [ "$ok" = 1 ] && { runuser -u "$OUSER" -- oarstat >/dev/null 2>&1 || ok=0; }
  [ "$ok" = 1 ] && break
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "[start-oar] not ready after ${TIMEOUT}s; see $O/log" >&2
    tail -n 20 "$O/log/oar.log" "$O/log/almighty.out" >&2 2>/dev/null || true
    exit 1
  fi
  sleep 0.5
done
log "resources: $(grep -c ': Alive$' <<<"$nodes_out") Alive on localhost; submit as: runuser -u $OUSER -- oarsub ..."
echo "oar ready"
