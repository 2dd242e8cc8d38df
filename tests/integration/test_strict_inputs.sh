# Issue #16, points 7, 9 and 10, through the CLI as a user types it: --set is strict (JSON-looking
# values must parse, a path must exist or extend what a table checks, constants are checked before
# any trial, errors name the flag), `train` writes nothing when refused and says when it has
# nothing to do, and the messages name what differs and what exists. Each refusal: exit 2, its
# message, nothing written.
source "$(dirname "$0")/lib.sh"

refused() {  # refused "expected message part" hpsearch-args...: exit 2 and the message
  local expected=$1
  shift
  set +e
  "$HPSEARCH" "$@" > "$WORK/out.txt" 2>&1
  local code=$?
  set -e
  [ "$code" = 2 ] || { cat "$WORK/out.txt"; fail "exit code $code, expected 2 for: $*"; }
  grep -qF -- "$expected" "$WORK/out.txt" || { cat "$WORK/out.txt"; fail "message lacks '$expected' for: $*"; }
}
nothing_written() { [ ! -e "$WORK/$1" ] || fail "a refused command wrote $1"; }

# Point 7: --set is strict.
refused "--set params.x3.lr=1: params has no parameter 'x3'; a new parameter is set whole" spaces/branin.json --db "$WORK/a.db" \
  --set params.x3.lr=1
refused "--set params.x1.low=0: params.x1 is a distribution" spaces/branin.json --db "$WORK/a.db" --set params.x1.low=0
refused "--set params.x1={\"\$uniform\": [0, 1]: not valid JSON" spaces/branin.json --db "$WORK/a.db" --set 'params.x1={"$uniform": [0, 1]'
refused "--set trainer.noise=[3: not valid JSON" spaces/branin.json --db "$WORK/a.db" --set 'trainer.noise=[3'
refused "--set trainer.fucntion=branin: unknown setting of the synthetic trainer (it takes function, steps, noise and sleep_ms)" \
  spaces/branin.json --db "$WORK/a.db" --set trainer.fucntion=branin
refused "--seed x: must be an integer" spaces/branin.json --db "$WORK/a.db" --seed x
nothing_written a.db
# A key inside a constant object of params: the whole parameter to give instead.
refused "--set params.misbehave.9=crash: params.misbehave has no key '9'" tests/spaces/command.json --db "$WORK/a.db" \
  --set params.misbehave.9=crash
grep -qF -- "--set 'params.misbehave={\"1\":\"crash\",\"2\":\"hang\",\"3\":\"silent\",\"9\":\"crash\"}'" "$WORK/out.txt" ||
  { cat "$WORK/out.txt"; fail "no whole parameter offered"; }
# The trainer's constants, checked before any trial: no database, no trial folder.
mkdir -p "$WORK/balls"
refused "--set params.epochs=two: must be an integer >= 1, got \"two\"" spaces/detect.json --db "$WORK/a.db" \
  --set trainer.data="$WORK/balls" --set params.epochs=two
refused "--set params.lerning_rate=0.1: unknown setting of the detect configuration (it takes epochs, batch_size" spaces/detect.json \
  --db "$WORK/a.db" --set trainer.data="$WORK/balls" --set params.lerning_rate=0.1
refused ": params.batch_size.\$choice[1]: must be an integer >= 1, got 0" spaces/detect.json --db "$WORK/a.db" \
  --set trainer.data="$WORK/balls" --set 'params.batch_size={"$choice": [64, 0]}'
nothing_written a.db
nothing_written a_trials
# What --set may still do: a new parameter, a new trainer setting its table knows, a top-level table.
"$HPSEARCH" spaces/branin.json --db "$WORK/ok.db" --trials 2 --progress none --set 'params.x3=1' --set trainer.noise=0.1 \
  --set sampler.seed=3 2> "$WORK/ok.log" || { cat "$WORK/ok.log"; fail "a valid --set was refused"; }

# Point 10: a changed space names the setting that differs, with both values.
refused "study 'branin' was made from another space (sampler.seed: 3 in the database, 5 in this run)" spaces/branin.json \
  --db "$WORK/ok.db" --set 'params.x3=1' --set trainer.noise=0.1 --set sampler.seed=5
refused "(params.x3: 1 in the database, absent in this run; trainer.noise: 0.1 in the database, absent in this run)" \
  spaces/branin.json --db "$WORK/ok.db" --seed 3
# summarize --study with a typo lists the studies, as resume does.
refused "$WORK/ok.db: --study brannin: no such study (it holds branin)" summarize "$WORK/ok.db" --study brannin
refused "$WORK/ok.db: --study brannin: no such study (it holds branin)" resume "$WORK/ok.db" --study brannin
# summarize FILE's advice fits summarize, which takes the database as its argument.
echo "notes" > "$WORK/notes.txt"
refused "$WORK/notes.txt: not an hpsearch database (not even SQLite); give the file that a search wrote with --db" summarize "$WORK/notes.txt"
# A missing data folder: the make-data command is offered as what it does.
refused "--set trainer.data=$WORK/balsl: '$WORK/balsl': no such folder; correct the path, or, to generate a synthetic data set there, run: hpsearch make-data balls --out $WORK/balsl" \
  spaces/detect.json --db "$WORK/a.db" --set trainer.data="$WORK/balsl"
nothing_written balsl
nothing_written a.db

# Point 9: train. A refused configuration writes nothing, not even over an earlier config.json.
printf '%s\n' '{"x": 0.5, "depth": 2, "epochs": 3}' > "$WORK/params.json"
mkdir -p "$WORK/kept" && echo '{"earlier": true}' > "$WORK/kept/config.json"
printf '%s\n' '{"epochs": "two"}' > "$WORK/bad_params.json"
refused "$WORK/bad_params.json: epochs: must be an integer >= 1, got \"two\"" train spaces/detect.json --params "$WORK/bad_params.json" \
  --set trainer.data="$WORK/balls" --out "$WORK/kept"
[ "$(cat "$WORK/kept/config.json")" = '{"earlier": true}' ] || fail "a refused train overwrote config.json"
printf '%s\n' '{"architecture": {"layers_param": [["nope"]]}}' > "$WORK/bad_arch.json"
refused "$WORK/bad_arch.json: " train spaces/detect.json --params "$WORK/bad_arch.json" --set trainer.data="$WORK/balls" --out "$WORK/fresh"
nothing_written fresh
refused "--set params.z.y=1: params has no parameter 'z'" train tests/spaces/command.json --params "$WORK/params.json" --out "$WORK/fresh" \
  --set params.z.y=1
nothing_written fresh

# A finished train again: nothing to do, nothing appended; no best.pt announced for a command.
"$HPSEARCH" train tests/spaces/command.json --params "$WORK/params.json" --out "$WORK/cmd" --progress plain > "$WORK/train.json" \
  2> "$WORK/train.log" || { cat "$WORK/train.log"; fail "train failed"; }
[ "$(wc -l < "$WORK/cmd/history.jsonl")" = 3 ] || fail "history of 3 epochs expected: $(cat "$WORK/cmd/history.jsonl")"
grep -q "best.pt" "$WORK/train.log" && { cat "$WORK/train.log"; fail "train announced a best.pt the command trainer never writes"; }
"$HPSEARCH" train tests/spaces/command.json --params "$WORK/params.json" --out "$WORK/cmd" --progress plain > "$WORK/again.json" \
  2> "$WORK/again.log" || { cat "$WORK/again.log"; fail "train again failed"; }
grep -qF "$WORK/cmd already trained 3 epochs of 3: nothing to do; use --epochs N to train further or --out DIR for a fresh run" \
  "$WORK/again.log" || { cat "$WORK/again.log"; fail "train again did not say it was finished"; }
grep -q "Training" "$WORK/again.log" && fail "train again drew the bar"
[ "$(wc -l < "$WORK/cmd/history.jsonl")" = 3 ] || fail "train again appended to history.jsonl"
python3 -c "import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); assert a==b, (a, b)" \
  "$WORK/train.json" "$WORK/again.json" || fail "train again printed another result"
echo "strict inputs: ok"
