# The database under faults (issue 15, items 4-7), through the CLI:
#  - a space with no "sampler" key: the same command again continues the study;
#  - a database that cannot be written (immutable, read-only mount): a search or a resume is
#    refused (exit 2, what to do), summarize reads it, and no -wal/-shm is left beside it;
#  - a full disk (a small tmpfs): the search that fills it fails naming the cause, later commands
#    never call the database foreign, and once space is freed it is intact and resumes;
#  - many searches creating one new database at once: one creates the schema, the others share
#    it (another study) or are refused by the study lock (the same study), none fails.
# Mounts and chattr need privileges: each part that cannot have them says so and is skipped.
source "$(dirname "$0")/lib.sh"

MOUNTS=()
cleanup() {
  for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
  chattr -i "$WORK"/*.db 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

cat > "$WORK/nosampler.json" <<'JSON'
{"trainer": {"type": "synthetic", "function": "branin"},
 "trials": 4,
 "params": {"x1": {"$uniform": [-5, 10]}, "x2": {"$uniform": [0, 15]}}}
JSON
count() { sqlite3 "$1" "SELECT count(*) FROM trials WHERE state = '$2'"; }
run_cli() {  # run_cli LOG hpsearch-args...: sets $code
  local log=$1
  shift
  set +e
  "$@" > "$log" 2>&1
  code=$?
  set -e
}
expect_exit() {  # expect_exit CODE "message part" LOG
  [ "$code" = "$1" ] || { cat "$3"; fail "exit code $code, expected $1"; }
  [ -z "$2" ] || grep -qF -- "$2" "$3" || { cat "$3"; fail "the message lacks '$2'"; }
  ! grep -q "MPI_ABORT\|not an hpsearch database\|cannot rollback" "$3" || { cat "$3"; fail "a misleading message"; }
}
no_side_files() {
  for f in "$1-wal" "$1-shm"; do [ ! -e "$f" ] || fail "$2 left $f"; done
}

# 4. No "sampler" key: the second run continues the study (4 trials, then 6).
mpirun -np 2 "$HPSEARCH" "$WORK/nosampler.json" --db "$WORK/ns.db" --progress none 2> "$WORK/ns1.log" || { cat "$WORK/ns1.log"; fail "first run"; }
run_cli "$WORK/ns2.log" mpirun -np 2 "$HPSEARCH" "$WORK/nosampler.json" --db "$WORK/ns.db" --progress none --trials 6
expect_exit 0 "" "$WORK/ns2.log"
[ "$(count "$WORK/ns.db" COMPLETE)" = 6 ] && [ "$(sqlite3 "$WORK/ns.db" 'SELECT count(*) FROM studies')" = 1 ] ||
  fail "the same command again did not continue the study"
echo "no sampler key: the same command again continued the study"

# 5. A database that cannot be written.
readonly_checks() {  # readonly_checks DB WHAT: the file cannot be written now
  local db=$1 what=$2 before
  before=$(sha256sum "$db")
  run_cli "$WORK/ro.log" mpirun -np 2 "$HPSEARCH" "$WORK/nosampler.json" --db "$db" --progress none --trials 8
  expect_exit 2 "$db: cannot be written" "$WORK/ro.log"
  grep -q "copy it" "$WORK/ro.log" || { cat "$WORK/ro.log"; fail "the refusal does not say what to do"; }
  no_side_files "$db" "a refused search ($what)"
  run_cli "$WORK/ro.log" mpirun -np 2 "$HPSEARCH" resume "$db" --trials 8 --progress none
  expect_exit 2 "$db: cannot be written" "$WORK/ro.log"
  no_side_files "$db" "a refused resume ($what)"
  run_cli "$WORK/ro.log" "$HPSEARCH" summarize "$db" --format json
  expect_exit 0 "" "$WORK/ro.log"
  python3 -c "import json,sys; assert len(json.load(open(sys.argv[1]))['trials']) == 6" "$WORK/ro.log" || { cat "$WORK/ro.log"; fail "summarize of a $what"; }
  no_side_files "$db" "summarize ($what)"
  [ "$(sha256sum "$db")" = "$before" ] || fail "the $what changed"
  echo "$what: search and resume refused (exit 2), summarize reads it, no -wal/-shm left"
}
cp "$WORK/ns.db" "$WORK/immutable.db"
if chattr +i "$WORK/immutable.db" 2>/dev/null; then
  readonly_checks "$WORK/immutable.db" "immutable file (chattr +i)"
  chattr -i "$WORK/immutable.db"
else
  echo "SKIP: chattr +i is not supported here (no CAP_LINUX_IMMUTABLE or a file system without it)"
fi
mkdir -p "$WORK/ro"
if mount -t tmpfs -o size=4m tmpfs "$WORK/ro" 2>/dev/null; then
  MOUNTS+=("$WORK/ro")
  cp "$WORK/ns.db" "$WORK/ro/runs.db"
  mount -o remount,ro "$WORK/ro" || fail "cannot remount the tmpfs read-only"
  readonly_checks "$WORK/ro/runs.db" "read-only mount"
  run_cli "$WORK/ro.log" mpirun -np 2 "$HPSEARCH" "$WORK/nosampler.json" --db "$WORK/ro/new.db" --progress none
  expect_exit 2 "$WORK/ro/new.db: cannot create the database" "$WORK/ro.log"
else
  echo "SKIP: read-only mount and full disk: mount -t tmpfs is not allowed here"
fi

# 6. A full disk: a 1 MiB tmpfs, nearly filled before the search.
mkdir -p "$WORK/full"
if mount -t tmpfs -o size=1m tmpfs "$WORK/full" 2>/dev/null; then
  MOUNTS+=("$WORK/full")
  db=$WORK/full/runs.db
  mpirun -np 2 "$HPSEARCH" "$WORK/nosampler.json" --db "$db" --progress none 2> /dev/null
  dd if=/dev/zero of="$WORK/full/filler" bs=4k 2> /dev/null || true  # until the disk is full
  rm -f "$WORK/full/filler"
  dd if=/dev/zero of="$WORK/full/filler" bs=4k count=$(( $(df --output=avail -B4k "$WORK/full" | tail -1) - 40 )) 2> /dev/null
  run_cli "$WORK/full.log" mpirun -np 2 "$HPSEARCH" resume "$db" --trials 100000 --progress none
  [ "$code" != 0 ] && grep -q "database or disk is full" "$WORK/full.log" || { cat "$WORK/full.log"; fail "the search that filled the disk: exit $code"; }
  ! grep -q "not an hpsearch database\|cannot rollback" "$WORK/full.log" || { cat "$WORK/full.log"; fail "the full disk was misreported"; }
  dd if=/dev/zero of="$WORK/full/filler2" bs=1k 2> /dev/null || true  # whatever the search left free
  # While the disk is full: summarize reads the database or names the full disk; a search names it.
  run_cli "$WORK/full.log" "$HPSEARCH" summarize "$db"
  [ "$code" = 0 ] || grep -q "full" "$WORK/full.log" || { cat "$WORK/full.log"; fail "summarize on a full disk: exit $code"; }
  ! grep -q "not an hpsearch database\|not hpsearch's\|cannot rollback" "$WORK/full.log" || { cat "$WORK/full.log"; fail "summarize called a good database foreign"; }
  run_cli "$WORK/full.log" mpirun -np 2 "$HPSEARCH" resume "$db" --trials 100000 --progress none
  [ "$code" != 0 ] && grep -q "full" "$WORK/full.log" || { cat "$WORK/full.log"; fail "a resume on a full disk: exit $code"; }
  ! grep -q "not an hpsearch database\|not hpsearch's\|cannot rollback" "$WORK/full.log" || { cat "$WORK/full.log"; fail "a resume called a good database foreign"; }
  rm -f "$WORK/full/filler" "$WORK/full/filler2"
  [ "$(sqlite3 "$db" 'PRAGMA integrity_check')" = ok ] || fail "the database is damaged once space is freed"
  kept=$(sqlite3 "$db" "SELECT count(*) FROM trials")
  [ "$kept" -gt 4 ] || fail "the trials of the search that filled the disk are lost ($kept)"
  run_cli "$WORK/full.log" mpirun -np 2 "$HPSEARCH" resume "$db" --trials $((kept + 3)) --progress none
  expect_exit 0 "" "$WORK/full.log"
  [ "$(count "$db" COMPLETE)" = $((kept + 3)) ] || fail "the resume after freeing space did not finish"
  echo "full disk: the cause named, the database intact ($kept trials) and resumed once space was freed"
fi

# 7. Eight searches creating one new database at once: four of one study, four of others.
cat > "$WORK/quick.json" <<'JSON'
{"trainer": {"type": "synthetic", "function": "branin"}, "trials": 3, "sampler": {"seed": 1},
 "params": {"x1": {"$uniform": [-5, 10]}, "x2": {"$uniform": [0, 15]}}}
JSON
for round in 1 2 3; do
  db=$WORK/race$round.db
  pids=()
  for i in 0 1 2 3 4 5 6 7; do
    study=same
    [ "$i" -lt 4 ] || study=other$i
    mpirun -np 2 "$HPSEARCH" "$WORK/quick.json" --db "$db" --study "$study" --progress none > "$WORK/race$i.log" 2>&1 &
    pids+=($!)
  done
  for i in 0 1 2 3 4 5 6 7; do
    set +e
    wait "${pids[$i]}"
    code=$?
    set -e
    if [ "$code" = 2 ]; then
      [ "$i" -lt 4 ] && grep -q "study 'same' is being searched by another hpsearch" "$WORK/race$i.log" ||
        { cat "$WORK/race$i.log"; fail "round $round, start $i: refused"; }
    elif [ "$code" != 0 ]; then
      cat "$WORK/race$i.log"
      fail "round $round, start $i: exit $code"
    fi
  done
  [ "$(sqlite3 "$db" 'PRAGMA integrity_check')" = ok ] || fail "round $round: damaged"
  for study in same other4 other5 other6 other7; do
    [ "$(sqlite3 "$db" "SELECT count(*) FROM trials t JOIN studies s ON s.id = t.study_id WHERE s.name = '$study' AND t.state = 'COMPLETE'")" = 3 ] ||
      fail "round $round: study $study does not have 3 COMPLETE trials"
  done
done
echo "8 simultaneous starts on one new database, 3 rounds: one schema, no failure"
