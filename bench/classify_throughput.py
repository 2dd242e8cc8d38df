#!/usr/bin/env python3
"""Training throughput of seed 003's network in a plain PyTorch loop, in images per second: the
reference for bench/classify_throughput.cpp (the classify trainer's loop in LibTorch). Run both on
the same machine and device with the same arguments and compare their "images_per_s".

    python3 bench/classify_throughput.py [--batch-size 128] [--images 10000] [--device auto|cpu|cuda]
                                         [--epochs 3] [--warmup-steps 20] [--data synthetic|FOLDER] [--augment]

The loop is the one a student writes once the data is on the GPU (better than the seeds'
DataLoader, which decodes on the CPU each epoch): uint8 images on the device, a permutation per
epoch, index_select of each batch, float conversion and per-channel normalisation, forward,
cross-entropy, backward, SGD with momentum 0.9, loss and accuracy accumulated on the device and read
once per epoch. --data FOLDER reads Fashion-MNIST/MNIST IDX files (gzipped or not) with numpy.
Needs torch (2.x on the GPU machine; 1.13 works too) and numpy. Prints one JSON line.
"""
import argparse
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def seed003_network(channels, height, width, classes=10):
    """conv 32/64/64 5x5 pad 2 + ReLU, 2x2 max pooling after each, fc 1000 + ReLU, fc classes."""
    def conv(cin, cout):
        return [nn.Conv2d(cin, cout, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2, 2)]
    h, w = height // 2 // 2 // 2, width // 2 // 2 // 2
    return nn.Sequential(*conv(channels, 32), *conv(32, 64), *conv(64, 64), nn.Flatten(),
                         nn.Linear(64 * h * w, 1000), nn.ReLU(), nn.Linear(1000, classes))


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if raw[0] != 0 or raw[1] != 0 or raw[2] != 8:
        sys.exit(f"{path}: not an IDX file of unsigned bytes")
    rank = raw[3]
    sizes = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * rank).reshape(sizes)


def load_folder(folder, images):
    names = sorted(os.listdir(folder))
    def find(prefix):
        for n in names:
            if n.startswith(prefix):
                return os.path.join(folder, n)
        sys.exit(f"{folder}: no {prefix}* file (IDX folders only here)")
    x = read_idx(find("train-images"))[:images, None, :, :].copy()  # writable, for torch.from_numpy
    y = read_idx(find("train-labels"))[:images].astype(np.int64)
    return torch.from_numpy(x), torch.from_numpy(y)


def augment(batch, padding=4):
    """The trainer's device-side random crop with zero padding and horizontal flip."""
    b, c, h, w = batch.shape
    padded = F.pad(batch, (padding, padding, padding, padding))
    dy = torch.randint(0, 2 * padding + 1, (b, 1), device=batch.device)
    dx = torch.randint(0, 2 * padding + 1, (b, 1), device=batch.device)
    rows = (dy + torch.arange(h, device=batch.device)).view(b, 1, h, 1).expand(b, c, h, w + 2 * padding)
    cols = (dx + torch.arange(w, device=batch.device)).view(b, 1, 1, w).expand(b, c, h, w)
    out = padded.gather(2, rows).gather(3, cols)
    flip = torch.randint(0, 2, (b, 1, 1, 1), device=batch.device).bool()
    return torch.where(flip, out.flip(3), out)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--images", type=int, default=10000)
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--warmup-steps", type=int, default=20)
    p.add_argument("--data", default="synthetic")
    p.add_argument("--augment", action="store_true")
    a = p.parse_args()
    if a.batch_size < 2 or a.images < a.batch_size or a.epochs < 1:
        sys.exit("need batch size >= 2, images >= batch size, epochs >= 1")
    device = torch.device("cuda" if a.device in ("auto", "cuda") and torch.cuda.is_available() else "cpu")
    if a.device == "cuda" and device.type != "cuda":
        sys.exit("--device cuda: no CUDA device")
    torch.backends.cudnn.benchmark = True  # as the trainer (configure_backends(false))

    torch.manual_seed(0)
    if a.data == "synthetic":
        x = torch.randint(0, 256, (a.images, 3, 32, 32), dtype=torch.int64).to(torch.uint8)
        y = torch.randint(0, 10, (a.images,), dtype=torch.int64)
    else:
        x, y = load_folder(a.data, a.images)
    images = x.shape[0]
    xf = x[:10000].double()  # as the C++ bench: statistics of the first 10,000 images
    m = xf.mean(dim=(0, 2, 3))
    mean = m.float().view(1, -1, 1, 1).to(device)
    std = ((xf * xf).mean(dim=(0, 2, 3)) - m * m).sqrt().float().view(1, -1, 1, 1).to(device)
    x, y = x.to(device), y.to(device)

    model = seed003_network(x.shape[1], x.shape[2], x.shape[3]).to(device)
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), dtype=torch.int64, device=device)

    def step(index):
        nonlocal loss_sum, correct
        batch = x.index_select(0, index)
        if a.augment:
            batch = augment(batch)
        inputs = (batch.float() - mean) / std
        labels = y.index_select(0, index)
        optimizer.zero_grad()
        logits = model(inputs)
        loss = F.cross_entropy(logits, labels)
        loss.backward()
        optimizer.step()
        loss_sum += loss.detach()
        correct += logits.detach().argmax(1).eq(labels).sum()

    for _ in range(a.warmup_steps):
        step(torch.randint(0, images, (a.batch_size,), device=device))
    loss_sum.item()  # waits for the warm-up to finish on the device

    batches = images // a.batch_size
    epoch_s = []
    start = time.perf_counter()
    last_loss = 0.0
    for _ in range(a.epochs):
        t0 = time.perf_counter()
        order = torch.randperm(images, device=device)
        loss_sum.zero_()
        for b in range(batches):
            step(order.narrow(0, b * a.batch_size, a.batch_size))
        last_loss = loss_sum.item() / batches  # one read per epoch: the only sync
        epoch_s.append(time.perf_counter() - t0)
    seconds = time.perf_counter() - start
    trained = a.epochs * batches * a.batch_size
    print(json.dumps({"bench": "classify_throughput", "impl": "pytorch-python", "torch": torch.__version__, "device": str(device),
                      "data": a.data, "input": list(x.shape[1:]), "parameters": sum(q.numel() for q in model.parameters()),
                      "batch_size": a.batch_size, "images": images, "epochs": a.epochs, "augment": a.augment,
                      "trained_images": trained, "seconds": seconds, "images_per_s": trained / seconds, "epoch_s": epoch_s,
                      "last_epoch_loss": last_loss}), flush=True)


if __name__ == "__main__":
    main()
