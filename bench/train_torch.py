#!/usr/bin/env python3
"""One training epoch of the MTFI head in PyTorch (CPU), the architecture of
libcommon/models/mtfi.c (docs/mtfi.md) on random cached features: the peer
of bench/bench_train.c, with the same sizes, batch, optimiser and threads.
  train_torch.py [--images N] [--views V] [--threads N] [--epochs E]
Prints TORCH_IMAGES_PER_S <images per second of the best epoch>."""
import argparse
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

DIMS = (1024, 2048, 4096)
G, H, LEVELS, TYPES, BATCH = 2880, 256, 12, 4, 16


class Stream(nn.Module):
    def __init__(self):
        super().__init__()
        self.unit = nn.ModuleList(nn.Linear(2 * d + (H if k else 0), H) for k, d in enumerate(DIMS))
        self.proj = nn.ModuleList(nn.Linear(H, H) for _ in DIMS[1:])
        self.fuse = nn.Linear(2 * H, H)

    def forward(self, orig, ref, g):
        h = None
        for k in range(len(DIMS)):
            x = torch.cat([orig[k], orig[k] - ref[k]], -1)
            if k:
                x = torch.cat([x, self.proj[k - 1](h)], -1)
            h = F.relu(self.unit[k](x))
        p = h.mean(1)
        return p + F.relu(self.fuse(torch.cat([p, g], -1)))


class MTFI(nn.Module):
    def __init__(self):
        super().__init__()
        self.streams = nn.ModuleList([Stream(), Stream()])
        self.glob = nn.Linear(G, H)
        self.q1, self.q2 = nn.Linear(2 * H, H), nn.Linear(H, 1)
        self.level, self.kind = nn.Linear(2 * H, LEVELS), nn.Linear(2 * H, TYPES)
        self.drop = nn.Dropout(0.1)

    def forward(self, orig, rest, degr, glob):
        g = F.relu(self.glob(glob))
        z = torch.cat([self.streams[0](orig, rest, g), self.streams[1](orig, degr, g)], -1)
        return self.q2(self.drop(F.relu(self.q1(z)))), self.level(z), self.kind(z)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=500)
    ap.add_argument("--views", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    n, v = a.images, a.views
    feats = [[torch.rand(n, v, d) * 2 - 1 for d in DIMS] for _ in range(3)]
    glob = torch.rand(n, G) * 2 - 1
    mos, lv, ty = torch.randn(n, 1), torch.arange(n) % LEVELS, torch.arange(n) % TYPES
    model = MTFI()
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9, weight_decay=1e-4)
    best = float("inf")
    for _ in range(a.epochs):
        perm = torch.randperm(n)
        t0 = time.perf_counter()
        for b0 in range(0, n, BATCH):
            idx = perm[b0:b0 + BATCH]
            o, r, d = ([f[k][idx] for k in range(len(DIMS))] for f in feats)
            q, pl, pt = model(o, r, d, glob[idx])
            loss = F.mse_loss(q, mos[idx]) + 0.1 * F.cross_entropy(pl, lv[idx]) + 0.1 * F.cross_entropy(pt, ty[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        best = min(best, time.perf_counter() - t0)
    print(f"torch {torch.__version__}: MTFI head, {n} images x {v} viewports, batch {BATCH}, "
          f"{a.threads} threads: one epoch {best:.3f} s")
    print(f"TORCH_IMAGES_PER_S {n / best:.2f}")


if __name__ == "__main__":
    main()
