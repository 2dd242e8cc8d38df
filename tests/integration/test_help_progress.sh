# The command line as a newcomer meets it (issue #16, points 5, 6 and 8): the help of every
# subcommand in its three forms, --version, a mistyped subcommand, resume --trials below the
# finished trials and --more, the start line, and the progress line (a running trial's step and an
# estimate before the first trial finishes; the live line under mpirun on a terminal).
source "$(dirname "$0")/lib.sh"

# expect CODE OUTFILE command...: runs it, stdout and stderr into OUTFILE, and checks the exit code.
expect() {
  local code=$1 out=$2
  shift 2
  local got=0
  "$@" > "$out" 2>&1 || got=$?
  [ "$got" = "$code" ] || { cat "$out"; fail "exit code $got, expected $code for: $*"; }
}
contains() { grep -qF -- "$2" "$1" || { cat "$1"; fail "$1 lacks '$2'"; }; }
short() { [ "$(wc -l < "$1")" -le 10 ] || { cat "$1"; fail "$1: a message of more than 10 lines"; }; }

# --- Help: hpsearch --help lists every subcommand; each has its help three ways, the same text,
# with every option of its synopsis explained on a line of its own.
expect 0 "$WORK/help.txt" "$HPSEARCH" --help
for cmd in search resume summarize describe make-data train; do
  grep -q "^  $cmd " "$WORK/help.txt" || { cat "$WORK/help.txt"; fail "hpsearch --help does not list $cmd"; }
  expect 0 "$WORK/help-$cmd.txt" "$HPSEARCH" help "$cmd"
  expect 0 "$WORK/flag-$cmd.txt" "$HPSEARCH" "$cmd" --help
  cmp -s "$WORK/help-$cmd.txt" "$WORK/flag-$cmd.txt" || { diff "$WORK/help-$cmd.txt" "$WORK/flag-$cmd.txt"; fail "help $cmd and $cmd --help differ"; }
  contains "$WORK/help-$cmd.txt" "usage: hpsearch"
  contains "$WORK/help-$cmd.txt" "-h, --help"
  for option in $(sed -n '/^options:/q;p' "$WORK/help-$cmd.txt" | grep -o -- '--[a-z-]*' | sort -u); do
    grep -qE -- "^  $option( [^ ]+)?   +[^ ]" "$WORK/help-$cmd.txt" || { cat "$WORK/help-$cmd.txt"; fail "help $cmd: $option is not explained on a line of its own"; }
  done
done
expect 0 "$WORK/h.txt" "$HPSEARCH" summarize -h
cmp -s "$WORK/h.txt" "$WORK/help-summarize.txt" || fail "summarize -h differs from its help"
expect 0 "$WORK/h.txt" "$HPSEARCH" spaces/branin.json --help  # a search's help, with its space file
cmp -s "$WORK/h.txt" "$WORK/help-search.txt" || fail "SPACE.json --help differs from help search"
contains "$WORK/help-resume.txt" "--more N"
contains "$WORK/help-search.txt" "--more N"
expect 2 "$WORK/h.txt" "$HPSEARCH"
contains "$WORK/h.txt" "subcommands:"
expect 0 "$WORK/h.txt" "$HPSEARCH" help
cmp -s "$WORK/h.txt" "$WORK/help.txt" || fail "hpsearch help differs from hpsearch --help"

# --- --version: the version declared in CMakeLists.txt, and the libraries it was built with.
version=$(sed -n 's/^project(hpsearch VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
expect 0 "$WORK/version.txt" "$HPSEARCH" --version
contains "$WORK/version.txt" "hpsearch $version"
grep -qE "built with LibTorch [0-9]+\.[0-9]+.*, .*MPI.*\(MPI [0-9]\.[0-9]\), SQLite 3\.[0-9]+" "$WORK/version.txt" ||
  { cat "$WORK/version.txt"; fail "--version lacks the LibTorch, MPI and SQLite versions"; }

# --- A mistyped subcommand is one, not a space file; a space file that does not exist is one.
expect 2 "$WORK/typo.txt" "$HPSEARCH" sumarize x.db
contains "$WORK/typo.txt" "unknown subcommand 'sumarize', did you mean summarize?"
short "$WORK/typo.txt"
expect 2 "$WORK/typo.txt" "$HPSEARCH" help trian
contains "$WORK/typo.txt" "did you mean train?"
expect 2 "$WORK/typo.txt" "$HPSEARCH" frobnicate
contains "$WORK/typo.txt" "unknown subcommand 'frobnicate' (subcommands: search, resume, summarize"
expect 2 "$WORK/typo.txt" "$HPSEARCH" "$WORK/nothere.json" --db "$WORK/x.db"
grep -q "unknown subcommand" "$WORK/typo.txt" && fail "a missing space file was taken for a subcommand"
# Option errors are short: the subcommand's synopsis and where its options are explained.
expect 2 "$WORK/opt.txt" "$HPSEARCH" summarize x.db --bogus
contains "$WORK/opt.txt" "every option explained: hpsearch help summarize"
short "$WORK/opt.txt"
expect 2 "$WORK/opt.txt" "$HPSEARCH" spaces/branin.json --db "$WORK/x.db" --triasl 3
contains "$WORK/opt.txt" "every option explained: hpsearch help search"
short "$WORK/opt.txt"
[ ! -e "$WORK/x.db" ] || fail "a refused command line wrote $WORK/x.db"

# --- --trials below the finished trials, and --more.
cat > "$WORK/quick.json" <<'JSON'
{"trainer": {"type": "synthetic", "function": "learning_curve", "steps": 3},
 "objective": {"metric": "value", "mode": "min"}, "trials": 6, "sampler": {"type": "random", "seed": 1},
 "params": {"x1": {"$uniform": [-5, 10]}, "x2": {"$uniform": [0, 15]}}}
JSON
db=$WORK/quick.db
expect 0 "$WORK/run.txt" "$HPSEARCH" "$WORK/quick.json" --db "$db" --progress none
contains "$WORK/run.txt" "6 trials (0 finished before), random sampler, no pruner, 1 worker in the master process, synthetic trainer (learning_curve)"
cp "$db" "$WORK/before.db"
# The same rows in every table, compared as SQL: a resume takes the study's lock and gives it back,
# which leaves the lock table's page laid out differently by the length of its row (the pid).
same_content() {
  python3 -c 'import sqlite3, sys; d = [list(sqlite3.connect(f).iterdump()) for f in sys.argv[1:]]; sys.exit(d[0] != d[1])' "$1" "$2"
}
expect 0 "$WORK/resume.txt" "$HPSEARCH" resume "$db" --trials 3 --progress none
contains "$WORK/resume.txt" "already 6 trials finished >= --trials 3: nothing to do; for more, use --trials 9 or --more 3"
same_content "$db" "$WORK/before.db" || fail "resume with nothing to do changed the database"
expect 0 "$WORK/resume.txt" mpirun -np 2 "$HPSEARCH" resume "$db" --trials 3 --progress none  # every rank ends with 0
contains "$WORK/resume.txt" "nothing to do"
expect 0 "$WORK/resume.txt" "$HPSEARCH" resume "$db" --progress none
contains "$WORK/resume.txt" "already 6 trials finished >= its 6 trials: nothing to do; for more, use --more N (or --trials T above 6)"
expect 2 "$WORK/resume.txt" "$HPSEARCH" resume "$db" --trials 9 --more 2
contains "$WORK/resume.txt" "--trials and --more together"
expect 2 "$WORK/resume.txt" "$HPSEARCH" resume "$db" --more 0
contains "$WORK/resume.txt" "--more 0: expected a number of trials"
same_content "$db" "$WORK/before.db" || fail "a refused resume changed the database"
expect 0 "$WORK/resume.txt" "$HPSEARCH" resume "$db" --more 2 --progress none
contains "$WORK/resume.txt" "8 trials (6 finished before)"
contains "$WORK/resume.txt" "this run finished 2 trials"
expect 0 "$WORK/more.txt" "$HPSEARCH" "$WORK/quick.json" --db "$WORK/more.db" --more 1 --progress none
contains "$WORK/more.txt" "1 trial (0 finished before)"
check_summary "$db" 'assert len(s["trials"]) == 8, len(s["trials"])'

# --- The start line of a command trainer says what it runs.
expect 0 "$WORK/command.txt" "$HPSEARCH" tests/spaces/command.json --db "$WORK/command.db" --trials 1 --progress none
contains "$WORK/command.txt" "command trainer running python3 tests/scripts/fake_train.py --config {config} --trial {trial}"
grep -q "LibTorch" "$WORK/command.txt" && { cat "$WORK/command.txt"; fail "a command trainer's start line names LibTorch"; }

# --- The plain progress line, every 10 s: at 10 s the only trial (3 steps of 4 s) is at step 2 of 3,
# and the time left is estimated from that.
cat > "$WORK/slow.json" <<'JSON'
{"trainer": {"type": "synthetic", "function": "learning_curve", "steps": 3, "sleep_ms": 4000},
 "objective": {"metric": "value", "mode": "min"}, "trials": 1, "sampler": {"type": "random", "seed": 1},
 "params": {"x1": {"$uniform": [-5, 10]}, "x2": {"$uniform": [0, 15]}}}
JSON
expect 0 "$WORK/slow.txt" "$HPSEARCH" "$WORK/slow.json" --db "$WORK/slow.db" --progress plain
grep -E "^progress: 0/1 done, 1 running \(#0 step 2/3\), .* elapsed, [0-9.:s]+ left$" "$WORK/slow.txt" ||
  { cat "$WORK/slow.txt"; fail "no plain progress line with the running trial's step and an estimate before it finished"; }

# --- Under mpirun, --progress auto draws the live line when mpirun writes to a terminal (script
# gives it one), and plain lines when its stderr goes to a file.
if command -v script > /dev/null; then
  script -qec "mpirun -np 2 $HPSEARCH $WORK/quick.json --db $WORK/live.db" /dev/null > "$WORK/live.txt" 2>&1 ||
    { cat "$WORK/live.txt"; fail "the search under mpirun on a terminal failed"; }
  grep -q $'\r\033\[K' "$WORK/live.txt" || { cat -v "$WORK/live.txt"; fail "no live line under mpirun on a terminal"; }
  grep -q "^progress: " "$WORK/live.txt" && { cat -v "$WORK/live.txt"; fail "plain lines under mpirun on a terminal"; }
fi
mpirun -np 2 "$HPSEARCH" "$WORK/quick.json" --db "$WORK/plain.db" > "$WORK/plain.txt" 2>&1 || { cat "$WORK/plain.txt"; fail "mpirun search failed"; }
grep -q "^progress: 6/6 done" "$WORK/plain.txt" || { cat -v "$WORK/plain.txt"; fail "no plain lines under mpirun into a file"; }
echo "help and progress: ok"
