# mpirun -np 3 on a command-trainer space: the script's printed values are recorded exactly; a
# crash, a hang past timeout_s and a missing objective each FAIL with their reason; the others complete.
source "$(dirname "$0")/lib.sh"

mpirun -np 3 "$HPSEARCH" tests/spaces/command.json --db "$WORK/runs.db" --progress plain
check_summary "$WORK/runs.db" '
by_number = {t["number"]: t for t in s["trials"]}
assert sorted(by_number) == list(range(12))
crash, hang, silent = by_number[1], by_number[2], by_number[3]
assert crash["state"] == "FAIL" and "exited with code 3" in crash["error"] and "illegal memory access" in crash["error"], crash
assert hang["state"] == "FAIL" and "timed out after 3 s" in hang["error"], hang
assert silent["state"] == "FAIL" and "reported no \x27loss\x27 metric" in silent["error"], silent
for n, t in by_number.items():
    if n in (1, 2, 3):
        continue
    assert t["state"] == "COMPLETE", t
    expected = t["params"]["x"] * 10 + t["params"]["depth"]
    assert t["value"] == expected, (t["value"], expected)
    assert [st["step"] for st in t["steps"]] == [1, 2, 3]
    assert t["steps"][0]["loss"] == expected + 2 and t["steps"][0]["lr"] == 0.1
    assert t["params"]["misbehave"] == {"1": "crash", "2": "hang", "3": "silent"}
'
# Lines that are not JSON objects went to the trial's log.
grep -q "starting trial 4" "$WORK/runs_trials/command/4/log.txt" || fail "trial log missing"
echo "command search: ok"
