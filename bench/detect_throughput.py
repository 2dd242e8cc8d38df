#!/usr/bin/env python3
"""Training throughput (images/s) of the seed's PyTorch detect loop, the reference for
bench/detect_throughput.cpp: same model (the seed's best detector), batch size, data size, loss
and optimizer, on the same device.

    python3 bench/detect_throughput.py [--batch-size 16,128] [--images 20000] [--device cuda|cpu] [--epochs 2] [--warmup 50]

The loop is the seed's (shared/seeds/000, src/balldetect/ball_detector.py): a DataLoader over a
float32 dataset on the host (the seed's images were float arrays), shuffle=True and pin_memory,
each batch moved to the device, Adam stepped through a closure, the loss read back with float()
at every batch for the bar, and the StepLR scheduler stepped per batch. The images are random
pixels with random labels (throughput does not depend on them). One JSON line per batch size.
"""
import argparse
import json
import time

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


def seed_best_detector():
    """The seed's DETECTOR_HP architecture: [conv -> ReLU -> BatchNorm] blocks, average pooling, flatten, Linear(5184, 45)."""
    bn = dict(eps=1e-5, momentum=0.07359778246238029, affine=True)

    def conv(cin, cout, k, p):
        return nn.Sequential(nn.Conv2d(cin, cout, kernel_size=k, padding=p), nn.ReLU(), nn.BatchNorm2d(cout, **bn))

    layers = [conv(3, 4, 3, 0), conv(4, 4, 3, 0), conv(4, 4, 3, 0), nn.AvgPool2d(2, 2),
              conv(4, 16, 5, 0), conv(16, 16, 5, 0), nn.AvgPool2d(2, 2),
              conv(16, 32, 5, 2), conv(32, 32, 7, 3), nn.AvgPool2d(2, 2),
              conv(32, 64, 5, 2), nn.Flatten(), nn.Linear(5184, 45)]
    model = nn.Sequential(*layers)
    gain = nn.init.calculate_gain('relu')
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.xavier_normal_(m.weight, gain=gain)
            m.bias.data.fill_(0.)
        elif isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight, gain=gain)
            m.bias.data.fill_(0.)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.uniform_(m.weight)
            m.bias.data.fill_(0.)
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--batch-size', default='16,128', help='comma-separated batch sizes')
    parser.add_argument('--images', type=int, default=20000)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--epochs', type=int, default=2)
    parser.add_argument('--warmup', type=int, default=50, help='untimed training steps first')
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.backends.cudnn.benchmark = device.type == 'cuda'  # the seed's cuda.benchmark = torch.cuda.is_available()

    torch.manual_seed(0)
    images = torch.randint(0, 256, (args.images, 3, 100, 100), dtype=torch.uint8).float()
    presence = (torch.rand(args.images, 9) < 1 / 3).float()
    boxes = torch.rand(args.images, 9, 4) * presence[:, :, None]
    dataset = TensorDataset(images, presence, boxes)

    for batch_size in [int(b) for b in args.batch_size.split(',')]:
        model = seed_best_detector().to(device).train(True)
        optimizer = torch.optim.Adam(model.parameters(), lr=6.537e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=6.84e-6, amsgrad=False)
        loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, num_workers=0, pin_memory=device.type == 'cuda', drop_last=True)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=40 * len(loader), gamma=0.3)
        bb_metric, pos_metric = nn.MSELoss(), nn.BCEWithLogitsLoss()

        def step(batch_x, colors, bbs):
            batch_x, colors, bbs = batch_x.to(device), colors.to(device), bbs.to(device).flatten(1)

            def closure():
                optimizer.zero_grad()
                output = model(batch_x)
                loss = 0.1 * pos_metric(output[:, :9], colors) + bb_metric(output[:, 9:], bbs)
                loss.backward()
                return loss
            loss = float(optimizer.step(closure).clone().detach())  # the seed read it every batch
            scheduler.step()
            return loss

        done = 0
        while done < args.warmup:
            for batch in loader:
                step(*batch)
                done += 1
                if done >= args.warmup:
                    break
        if device.type == 'cuda':
            torch.cuda.synchronize()
        trained, loss = 0, 0.0
        start = time.perf_counter()
        for _ in range(args.epochs):
            for batch in loader:
                loss = step(*batch)
                trained += batch[0].shape[0]
        if device.type == 'cuda':
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
        print(json.dumps({'bench': 'detect_throughput', 'impl': f'seed PyTorch loop (torch {torch.__version__})', 'device': str(device),
                          'batch_size': batch_size, 'images': args.images, 'epochs': args.epochs,
                          'images_per_s': round(trained / seconds, 1), 'seconds': round(seconds, 3), 'loss': round(loss, 5)}), flush=True)


if __name__ == '__main__':
    main()
