#!/usr/bin/env python3
"""A stand-in for a user's training script, driven by hpsearch's command trainer.

Usage: fake_train.py --config CONFIG.json --trial N
Reports three steps as JSON lines; the objective "loss" of the last step is
x * 10 + depth, so a test can check that hpsearch recorded exactly what was printed.
Trial numbers listed in the configuration's "misbehave" object make it crash,
hang, or never report the objective, so that the failure paths are exercised;
"flaky" crashes on the trial's first attempt only (a marker file in the trial's folder, where
the config file is, remembers it), as a transient fault would.
"""
import json
import os
import sys
import time

args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
with open(args["--config"]) as f:
    config = json.load(f)
trial = args["--trial"]
behaviour = config.get("misbehave", {}).get(trial, "ok")

final = config["x"] * 10 + config["depth"]
print("starting trial", trial, "with", json.dumps(config))  # not JSON object: goes to the log
for step in range(1, 4):
    if behaviour == "silent":
        print(json.dumps({"step": step, "accuracy": 0.5}), flush=True)
        continue
    print(json.dumps({"step": step, "loss": final + (3 - step), "lr": 0.1}), flush=True)
    first_attempt_marker = os.path.join(os.path.dirname(args["--config"]), "attempted")
    if behaviour == "flaky" and step == 2 and not os.path.exists(first_attempt_marker):
        open(first_attempt_marker, "w").close()
        print("RuntimeError: NCCL timeout (transient)", file=sys.stderr)
        sys.exit(4)
    if behaviour == "crash" and step == 2:
        print("Traceback (most recent call last):\nRuntimeError: CUDA error: an illegal memory access", file=sys.stderr)
        sys.exit(3)
    if behaviour == "hang":
        time.sleep(3600)
