#!/usr/bin/env python3
"""The peer of bench/bench_vit_train.c: the same training step of timm's
VisionTransformer (the transcription of timm 0.5.5 in
tests/gen_transformer_grads.py, which the fixtures check; vit_base_patch16_224
by default), MSE on a Linear(D, 1) head over the class token, backward,
torch.optim.Adam lr 1e-5, weight decay 1e-5, random images, fp32, on the CPU
with the given threads. Prints steps/s and the peak resident memory."""
import argparse
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from gen_transformer_grads import TimmViT  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--batch", type=int, default=8)
ap.add_argument("--image", type=int, default=224)
ap.add_argument("--patch", type=int, default=16)
ap.add_argument("--width", type=int, default=768)
ap.add_argument("--depth", type=int, default=12)
ap.add_argument("--steps", type=int, default=3)
ap.add_argument("--threads", type=int, default=2)
a = ap.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(1)
net = TimmViT(a.image, a.patch, a.width, a.depth, a.width // 64, classes=1)
for p in net.parameters():
    torch.nn.init.normal_(p, std=0.02)
net.train()
x = torch.randn(a.batch, 3, a.image, a.image)
y = torch.randn(a.batch, 1)
opt = torch.optim.Adam(net.parameters(), lr=1e-5, weight_decay=1e-5)
best = float("inf")
for s in range(a.steps + 1):
    t0 = time.perf_counter()
    opt.zero_grad()
    loss = torch.nn.functional.mse_loss(net(x)[2], y)
    loss.backward()
    opt.step()
    t = time.perf_counter() - t0
    if s > 0:
        best = min(best, t)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
print(f"torch vit (width {a.width}, depth {a.depth}, patch {a.patch}) train step: batch {a.batch} x {a.image}x{a.image}, "
      f"{a.threads} threads: best {best:.3f} s (loss {loss.item():.4f}), peak RSS {peak:.0f} MiB")
print(f"TORCH_STEPS_PER_S {1.0 / best:.6f}")
print(f"TORCH_PEAK_MIB {peak:.1f}")
