#!/usr/bin/env python3
"""The peer of bench/bench_resnet_train.c: the same training step of
torchvision's resnet18 (train mode, MSE on a Linear(512, 1) head over the
pooled features, backward, torch.optim.Adam lr 2e-4, weight decay 5e-4),
random images, fp32, on the CPU with the given threads. Prints steps/s and
the peak resident memory."""
import argparse
import resource
import time

import torch
import torchvision

ap = argparse.ArgumentParser()
ap.add_argument("--batch", type=int, default=16)
ap.add_argument("--height", type=int, default=224)
ap.add_argument("--width", type=int, default=224)
ap.add_argument("--steps", type=int, default=3)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--channels-last", action="store_true")
a = ap.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(1)
net = torchvision.models.resnet18()
net.fc = torch.nn.Identity()
head = torch.nn.Linear(512, 1)
net.train()
x = torch.randn(a.batch, 3, a.height, a.width)
if a.channels_last:
    net = net.to(memory_format=torch.channels_last)
    x = x.contiguous(memory_format=torch.channels_last)
y = torch.randn(a.batch, 1)
opt = torch.optim.Adam(list(net.parameters()) + list(head.parameters()), lr=2e-4, weight_decay=5e-4)
best = float("inf")
for s in range(a.steps + 1):
    t0 = time.perf_counter()
    opt.zero_grad()
    loss = torch.nn.functional.mse_loss(head(net(x)), y)
    loss.backward()
    opt.step()
    t = time.perf_counter() - t0
    if s > 0:
        best = min(best, t)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
layout = "channels_last" if a.channels_last else "NCHW"
print(f"torch resnet18 train step ({layout}): batch {a.batch} x {a.height}x{a.width}, {a.threads} threads: "
      f"best {best:.3f} s (loss {loss.item():.4f}), peak RSS {peak:.0f} MiB")
print(f"TORCH_STEPS_PER_S {1.0 / best:.6f}")
print(f"TORCH_PEAK_MIB {peak:.1f}")
