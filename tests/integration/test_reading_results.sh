# What a user reads after a search (issue 16, points 2 and 4), through the CLI:
# a tree-structured space's table names choices by their options and parameters by the keys on
# their path, shows only the parameters that differ between the listed trials, and fits the
# width; a search whose every trial fails says so, exits 4, and its table shows why.
source "$(dirname "$0")/lib.sh"

cat > "$WORK/tree.json" <<'JSON'
{
  "trainer": {"type": "synthetic", "function": "branin"},
  "objective": {"metric": "value", "mode": "min"},
  "trials": 12,
  "sampler": {"type": "random", "seed": 3},
  "params": {
    "x1": {"$uniform": [-5, 10]},
    "x2": {"$uniform": [0, 15]},
    "epochs": 10,
    "optimizer": {"$choice": ["sgd", "adam"]},
    "loss": {"$choice": ["cross_entropy"]},
    "architecture": {
      "batch_norm": {"$choice": [null, {"eps": 1e-05, "momentum": 0.1, "affine": true}]},
      "dropout_prob": {"$choice": [0.0, {"$uniform": [0.05, 0.3]}]},
      "layers_param": {"$choice": {
        "two blocks": [["conv2d", {"out_channels": {"$quniform": [8, 48, 8]}, "kernel_size": 5}], ["max_pooling", {"kernel_size": 2}],
                       ["conv2d", {"out_channels": {"$quniform": [16, 64, 16]}, "kernel_size": 5}], ["flatten", {}], ["fully_connected", {}]],
        "one block": [["conv2d", {"out_channels": {"$quniform": [8, 48, 8]}, "kernel_size": 3}], ["flatten", {}],
                      ["fully_connected", {"out_features": {"$choice": [32, 64]}}], ["fully_connected", {}]]
      }},
      "head": {"$choice": [[["conv2d", {"out_channels": 8}], ["flatten", {}]], [["conv2d", {"out_channels": 16}], ["flatten", {}]]]}
    }
  }
}
JSON
"$HPSEARCH" "$WORK/tree.json" --db "$WORK/tree.db" --progress none 2> "$WORK/tree.log" || { cat "$WORK/tree.log"; fail "tree search exited $?"; }
COLUMNS=80 "$HPSEARCH" summarize "$WORK/tree.db" --top 12 > "$WORK/table.txt"
cat "$WORK/table.txt"
table=$(cat "$WORK/table.txt")
# Choices read as their options: a name the space gives, the constant, or a short form that tells options apart.
grep -Eq 'architecture\.layers_param=(two|one) block' <<< "$table" || fail "layers_param is not named by its option"
grep -Eq 'architecture\.batch_norm=(null|\{affine,eps,momentum\})( |$)' <<< "$table" || fail "batch_norm is not shown by its option"
grep -Eq 'architecture\.head=#[12] 2 layers' <<< "$table" || fail "two unnamed list options do not read apart"
grep -Eq 'optimizer=(sgd|adam)' <<< "$table" || fail "a string choice is not shown as written"
# Inner parameters are named by the keys on their path; no positions, no "option k", no cut JSON.
grep -Eq 'architecture\.layers_param\.conv2d(#1)?\.out_channels=[0-9]+' <<< "$table" || fail "no path-key name for a conv2d width"
grep -Eq 'architecture\.dropout_prob=0(\.[0-9]+)?( |$)' <<< "$table" || fail "dropout_prob is not shown as its value"
! grep -Eq '\[[0-9]+\]|option [0-9]|\.\.\.' <<< "$table" || fail "positional names, 'option k' or cut text in the table"
# Only what differs between the listed trials: a one-option choice is said once, above the table.
grep -q '^same in every trial listed: loss=cross_entropy' <<< "$table" || fail "the common parameter is not listed once"
[ "$(grep -c 'loss=' <<< "$table")" = 1 ] || fail "a common parameter is repeated on the trial rows"
# Every line fits COLUMNS=80.
awk 'length($0) > 80 { print "line " NR " has " length($0) " columns: " $0; bad = 1 } END { exit bad }' "$WORK/table.txt" ||
  fail "lines wider than COLUMNS=80"
# A narrow terminal still fits: the parameters go below each row.
COLUMNS=50 "$HPSEARCH" summarize "$WORK/tree.db" > "$WORK/narrow.txt"
awk 'length($0) > 50 { bad = 1 } END { exit bad }' "$WORK/narrow.txt" || { cat "$WORK/narrow.txt"; fail "lines wider than COLUMNS=50"; }
# CSV has a column per label; JSON keeps "params" as the trainer received it and adds "named_params".
"$HPSEARCH" summarize "$WORK/tree.db" --format csv | head -1 | grep -q ',architecture.layers_param,architecture.layers_param.conv2d.out_channels,.*,architecture.layers_param.conv2d#1.out_channels,' ||
  fail "CSV columns are not the parameter labels"
check_summary "$WORK/tree.db" '
for t in s["trials"]:
    named = t["named_params"]
    assert named["architecture.layers_param"] in ("two blocks", "one block"), named
    assert named["loss"] == "cross_entropy" and isinstance(named["x1"], float), named
    layers = t["params"]["architecture"]["layers_param"]
    assert layers[0][0] == "conv2d" and "name" not in layers, layers
    assert (len(layers) == 5) == (named["architecture.layers_param"] == "two blocks"), (layers, named)
'

# Point 4: a command trainer whose script is missing (a typo): every trial FAILs.
cat > "$WORK/typo.json" <<JSON
{
  "trainer": {"type": "command", "argv": ["python3", "$WORK/trian.py", "--config", "{config}"]},
  "objective": {"metric": "loss", "mode": "min"},
  "trials": 3,
  "params": {"lr": {"\$loguniform": [0.001, 0.1]}}
}
JSON
code=0
"$HPSEARCH" "$WORK/typo.json" --db "$WORK/typo.db" --progress none 2> "$WORK/typo.log" || code=$?
cat "$WORK/typo.log"
[ "$code" = 4 ] || fail "a search whose every trial failed exited $code, not 4"
# (python names itself by its full path: /usr/bin/python3)
grep -q "^hpsearch: error: every trial of this run FAILed (3 of 3); the last one: command exited with code 2: [^ ]*python3: can't open file '$WORK/trian.py'" \
  "$WORK/typo.log" || fail "the end of the run does not say that every trial failed, and why"
COLUMNS=80 "$HPSEARCH" summarize "$WORK/typo.db" > "$WORK/typo_table.txt"
cat "$WORK/typo_table.txt"
tr -s ' \n' ' ' < "$WORK/typo_table.txt" | grep -q "failed: command exited with code 2: [^ ]*python3: can't open file '$WORK/trian.py'" ||
  fail "the table does not show the reason's useful line"
grep -q "trian.py" "$WORK/typo_table.txt" || fail "the table does not name the missing script"
awk 'length($0) > 80 { bad = 1 } END { exit bad }' "$WORK/typo_table.txt" || fail "failure lines wider than COLUMNS=80"
check_summary "$WORK/typo.db" '
for t in s["trials"]:
    assert t["state"] == "FAIL" and "last lines of stderr:" in t["error"], t
'
# A resume with nothing left to run finishes no trial: not "every trial failed".
code=0
"$HPSEARCH" resume "$WORK/typo.db" --progress none 2> "$WORK/resume.log" || code=$?
[ "$code" = 0 ] || { cat "$WORK/resume.log"; fail "a resume that ran nothing exited $code"; }
! grep -q "every trial" "$WORK/resume.log" || fail "a resume that ran nothing says every trial failed"
echo "reading results: ok"
