#!/usr/bin/env python3
"""A minimal user training script for hpsearch's command trainer.

hpsearch runs: python3 spaces/examples/train.py --config {config}
It reads the resolved configuration, "trains", and prints one JSON object per
epoch on stdout; the objective (here valid_loss) is the best value printed (the
last with the space's "objective": {"use": "last"}).
Anything else it prints goes to the trial's log.txt.
"""
import argparse
import json
import math

parser = argparse.ArgumentParser()
parser.add_argument("--config", required=True)
args = parser.parse_args()
with open(args.config) as f:
    config = json.load(f)

lr = config["optimizer"]["lr"]
width = config["width"]
print(f"training with lr={lr} width={width}")
for epoch in range(1, config["epochs"] + 1):
    # A stand-in for a real epoch: a loss that is lowest near lr = 3e-3 and width = 64.
    loss = (math.log10(lr) + 2.5) ** 2 + (math.log2(width) - 6) ** 2 / 10 + 1.0 / epoch
    print(json.dumps({"step": epoch, "train_loss": loss * 1.1, "valid_loss": loss}), flush=True)
