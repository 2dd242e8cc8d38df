# Every user mistake: exit code 2, a message naming the file and the field, nothing written.
source "$(dirname "$0")/lib.sh"

expect_refusal() {  # expect_refusal "expected message part" hpsearch-args...
  local expected=$1
  shift
  set +e
  mpirun -np 2 "$HPSEARCH" "$@" > "$WORK/out.txt" 2>&1
  local code=$?
  set -e
  [ "$code" = 2 ] || { cat "$WORK/out.txt"; fail "exit code $code, expected 2 for: $*"; }
  grep -qF -- "$expected" "$WORK/out.txt" || { cat "$WORK/out.txt"; fail "message lacks '$expected'"; }
}

write() { printf '%s\n' "$2" > "$WORK/$1"; }

write unknown_key.json '{"trainer": {"type": "synthetic", "function": "branin"}, "params": {}, "trails": 10}'
expect_refusal "$WORK/unknown_key.json: trails: unknown key" "$WORK/unknown_key.json" --db "$WORK/a.db"
write bad_bound.json '{"trainer": {"type": "synthetic", "function": "branin"}, "params": {"x1": {"$loguniform": [0, 1]}}}'
expect_refusal "$WORK/bad_bound.json: params.x1: \$loguniform bounds are in real space and must be > 0" "$WORK/bad_bound.json" --db "$WORK/a.db"
write bad_trainer.json '{"trainer": {"type": "synthetic", "function": "branin", "stpes": 3}, "params": {}}'
expect_refusal "$WORK/bad_trainer.json: trainer.stpes: unknown setting of the synthetic trainer" "$WORK/bad_trainer.json" --db "$WORK/a.db"
write bad_sampler.json '{"trainer": {"type": "synthetic", "function": "branin"}, "sampler": {"type": "grid"}, "params": {}}'
expect_refusal "$WORK/bad_sampler.json: sampler.type: unknown sampler 'grid'" "$WORK/bad_sampler.json" --db "$WORK/a.db"
write not_json.json '{"trainer": '
expect_refusal "$WORK/not_json.json: not valid JSON" "$WORK/not_json.json" --db "$WORK/a.db"
expect_refusal "$WORK/missing.json: cannot read the space file" "$WORK/missing.json" --db "$WORK/a.db"
expect_refusal "--trials 0: must be an integer in [1, 100000000], got 0" spaces/branin.json --db "$WORK/a.db" --trials 0
[ ! -e "$WORK/a.db" ] || fail "a refused search wrote a database"

# A file that is not an hpsearch database is refused and left as it was.
echo "precious notes" > "$WORK/notes.txt"
expect_refusal "$WORK/notes.txt: not an hpsearch database" spaces/branin.json --db "$WORK/notes.txt"
[ "$(cat "$WORK/notes.txt")" = "precious notes" ] || fail "the foreign file was changed"

# The same study name with another space is refused; the study is untouched.
"$HPSEARCH" spaces/branin.json --db "$WORK/b.db" --trials 3 --progress none
before=$(sqlite3 "$WORK/b.db" 'select count(*) from trials' 2>/dev/null || "$HPSEARCH" summarize "$WORK/b.db" --format csv | wc -l)
expect_refusal "study 'branin' was made from another space (params.x1: {\"\$uniform\":[-5,10]} in the database, {\"\$uniform\":[0,1]} in this run)" spaces/branin.json --db "$WORK/b.db" --set 'params.x1={"$uniform": [0, 1]}'
after=$(sqlite3 "$WORK/b.db" 'select count(*) from trials' 2>/dev/null || "$HPSEARCH" summarize "$WORK/b.db" --format csv | wc -l)
[ "$before" = "$after" ] || fail "the refused run changed the study"

set +e
"$HPSEARCH" summarize "$WORK/nothing.db" > "$WORK/out.txt" 2>&1
code=$?
set -e
[ "$code" = 2 ] && grep -q "no such database" "$WORK/out.txt" || fail "summarize of a missing database: code $code"
echo "user errors: ok"
