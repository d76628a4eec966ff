#!/usr/bin/python3
"""Writes tests/fixtures/optim_torch.h5: PyTorch's optimisers, learning-rate
schedules, gradient clipping and the weight EMA of the methods, run on a few
small tensors with hand-set gradients (no model), the reference for
tests/unit/test_optim_torch.c (oiqa's nn/optim.c).

What it transcribes (torch 1.13 classes are used as they are):
  - torch.optim.SGD (momentum 0.9 and 0, weight decay), torch.optim.Adam
    (weight decay as L2; KD-OIQA's lr 2e-4, wd 5e-4), torch.optim.AdamW;
  - Adam with two parameter groups, the second at lr / 2 (KD-OIQA's mask
    network; SIND's backbone at lr / lr_ratio), both scaled by SIND's
    scheduler;
  - SIND's scheduler, `WarmupCosineLR` of ZachL1/SIND g_iqa/train_utils.py
    (an _LRScheduler, stepped once per batch, warmup_step = 5 epochs of
    batches, T_max = epochs x batches): lr_t = base * t / warmup_step for
    t < warmup_step, else base * (1 + cos(pi (t - warmup_step) / T_max)) / 2,
    t the scheduler's last_epoch (0 at the first optimizer step, so the first
    step runs at lr 0). Transcribed below (class WarmupCosineLR);
  - SIND's EMA, torch_ema.ExponentialMovingAverage (fadel/pytorch_ema
    torch_ema/ema.py, 0.3), made with the default use_num_updates=True and
    updated after every optimizer step: at the n-th update (n from 1)
    decay_n = min(decay, (1 + n) / (10 + n)) and
    shadow -= (1 - decay_n) * (shadow - w), over the parameters only (no
    buffers). Transcribed below (function ema_update; torch_ema is not a
    Debian package);
  - torch.optim.lr_scheduler.StepLR and CosineAnnealingLR stepped per batch
    past T_max (Roc-3/DPAM_IQA train_maniqa.py: T_max 50, eta_min 0, per
    batch over 200 epochs: the recursive form torch uses goes back up after
    T_max, as the closed form does);
  - oiqa's own warm-up + cosine and warm-up + step rules expressed with
    torch classes: SequentialLR(LinearLR(1/W, 1, W - 1), CosineAnnealingLR(
    T_max = total - W, eta_min) or StepLR, milestones [W]);
  - torch.nn.utils.clip_grad_norm_ on one step's gradients (max_norm below
    the norm).

How it was run (Debian 12: python3-torch 1.13, python3-h5py 3.7; neither is a
build or test dependency):
    /usr/bin/python3 tests/gen_optim_torch.py    # from the repository root

Datasets (weights float32, learning rates and norms float64; T = 8 steps,
parameters p0 [3,5], p1 [7], p2 [2,3,3,3]; per-step tensors are stored as
[T, numel], row-major, so every dataset has rank <= 4):
  grads/p{i}            [T, numel]  the gradient set by hand at each step
                                    (|g| in [0.2, 1], random signs)
  <run>/init/p{i}       [shape]     the weights before the first step
  <run>/w/p{i}          [T, numel]  the weights after each step
  runs (attributes lr, momentum, weight_decay and scale of the initial
  weights on each group):
    sgd_momentum        SGD lr 0.05, momentum 0.9, wd 1e-4
    sgd_plain           SGD lr 0.05, momentum 0, wd 1e-4
    adam_l2             Adam lr 2e-4, wd 5e-4 (KD-OIQA)
    adam_l2_strong      Adam lr 1e-2, wd 0.5 (the L2 term matters)
    adamw               AdamW lr 1e-3, wd 0.05
    adam_groups         Adam lr 1e-3, wd 1e-4; group 0 = p0, p1, group 1 =
                        p2 at lr / 2; WarmupCosineLR(warmup_step 3, T_max 6)
  adam_groups/lr        [T, 2]      each group's lr at each step
  ema/<name>/p{i}       [T, numel]  the shadow after each update, over
                                    adam_groups' weights (the shadow starts as
                                    adam_groups/init): decay_099 (torch_ema,
                                    decay 0.99: in its decay warm-up
                                    throughout), decay_040 (decay 0.4: the cap
                                    applies from the 5th update), plain_099
                                    (use_num_updates=False: decay 0.99 always)
  sched/<name>          [N = 120]   the lr of steps 0..N-1 (attributes give the
                                    configuration):
    step                StepLR lr 1e-3, step_size 10, gamma 0.5
    cosine_t50          CosineAnnealingLR lr 1e-5, T_max 50, eta_min 0 (DPAM)
    cosine_t50_eta      CosineAnnealingLR lr 1e-3, T_max 50, eta_min 1e-5
    sind                WarmupCosineLR lr 1e-5, warmup_step 15, T_max 105
                        (SIND's 5 warm-up epochs of 35, 3 batches per epoch)
    oiqa_cosine         SequentialLR(LinearLR(0.1, 1, 9), CosineAnnealingLR(
                        110, 1e-5), [10]), lr 1e-3 (oiqa: warmup 10, total 120)
    oiqa_step           SequentialLR(LinearLR(0.1, 1, 9), StepLR(10, 0.5),
                        [10]), lr 1e-3
  clip/before/p{i}, clip/after/p{i}  [shape]  grads/p{i}[0] before and after
                        clip_grad_norm_(max_norm 2.0)
  clip/norm             [1]         the total norm it returned
"""
import math
import warnings

import h5py
import numpy as np
import torch

torch.set_default_dtype(torch.float32)
warnings.filterwarnings("ignore")  # SequentialLR's step(epoch) deprecation note

T = 8
N_SCHED = 120
SHAPES = [(3, 5), (7,), (2, 3, 3, 3)]
NAMES = ["p0", "p1", "p2"]


def make_grads(gen):
    out = []
    for s in SHAPES:
        mag = 0.2 + 0.8 * torch.rand((T,) + s, generator=gen)
        sign = torch.where(torch.rand((T,) + s, generator=gen) < 0.5, -1.0, 1.0)
        out.append(mag * sign)
    return out


class WarmupCosineLR(torch.optim.lr_scheduler._LRScheduler):
    """SIND's scheduler (g_iqa/train_utils.py), transcribed."""

    def __init__(self, optimizer, warmup_step, T_max, last_epoch=-1):
        self.warmup_step = warmup_step
        self.T_max = T_max
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        t = self.last_epoch
        if t < self.warmup_step:
            return [b * t / self.warmup_step for b in self.base_lrs]
        return [0.5 * (1 + math.cos(math.pi * (t - self.warmup_step) / self.T_max)) * b for b in self.base_lrs]


def ema_update(shadow, params, decay, n, use_num_updates):
    """torch_ema 0.3 ExponentialMovingAverage.update, transcribed (n: updates
    done before this one)."""
    if use_num_updates:
        decay = min(decay, (1 + (n + 1)) / (10 + (n + 1)))
    one_minus_decay = 1.0 - decay
    with torch.no_grad():
        for s, p in zip(shadow, params):
            tmp = s - p
            tmp.mul_(one_minus_decay)
            s.sub_(tmp)


def make_init(gen, scale):
    return [((torch.rand(s, generator=gen) * 2 - 1) * scale).float() for s in SHAPES]


def run_opt(f, name, init, grads, make, attrs, groups=None, sched=None, emas=None):
    params = [torch.nn.Parameter(w.clone()) for w in init]
    opt = make(params)
    lrs, ws = [], [[] for _ in params]
    shadows = {k: [p.detach().clone() for p in params] for k in (emas or {})}
    ema_out = {k: [[] for _ in params] for k in (emas or {})}
    s = sched(opt) if sched else None
    for t in range(T):
        lrs.append([g["lr"] for g in opt.param_groups])
        for p, g in zip(params, grads):
            p.grad = g[t].clone()
        opt.step()
        if s:
            s.step()
        for i, p in enumerate(params):
            ws[i].append(p.detach().clone())
        for k, (decay, use_n) in (emas or {}).items():
            ema_update(shadows[k], params, decay, t, use_n)
            for i, sp in enumerate(shadows[k]):
                ema_out[k][i].append(sp.clone())
    g = f.create_group(name)
    for k, v in attrs.items():
        g.attrs[k] = v
    for i, n in enumerate(NAMES):
        g[f"init/{n}"] = init[i].numpy().astype(np.float32)
        g[f"w/{n}"] = torch.stack(ws[i]).reshape(T, -1).numpy().astype(np.float32)
    if groups:
        g["lr"] = np.array(lrs, dtype=np.float64)
    for k in ema_out:
        for i, n in enumerate(NAMES):
            f[f"ema/{k}/{n}"] = torch.stack(ema_out[k][i]).reshape(T, -1).numpy().astype(np.float32)


def sched_lrs(lr, make):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=lr)
    s = make(opt)
    out = []
    for _ in range(N_SCHED):
        out.append(opt.param_groups[0]["lr"])
        opt.step()  # no gradient: a no-op, keeps the call order torch expects
        s.step()
    return np.array(out, dtype=np.float64)


def main():
    gen = torch.Generator().manual_seed(2024)
    grads = make_grads(gen)
    with h5py.File("tests/fixtures/optim_torch.h5", "w") as f:
        for i, n in enumerate(NAMES):
            f[f"grads/{n}"] = grads[i].reshape(T, -1).numpy().astype(np.float32)

        init1 = make_init(gen, 1.0)
        run_opt(f, "sgd_momentum", init1, grads,
                lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=1e-4),
                dict(lr=0.05, momentum=0.9, weight_decay=1e-4, scale=1.0))
        run_opt(f, "sgd_plain", init1, grads,
                lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.0, weight_decay=1e-4),
                dict(lr=0.05, momentum=0.0, weight_decay=1e-4, scale=1.0))
        # the initial weights about as large as 8 Adam steps (lr 2e-4) move them
        run_opt(f, "adam_l2", make_init(gen, 2e-3), grads,
                lambda ps: torch.optim.Adam(ps, lr=2e-4, weight_decay=5e-4),
                dict(lr=2e-4, weight_decay=5e-4, scale=2e-3))
        run_opt(f, "adam_l2_strong", init1, grads,
                lambda ps: torch.optim.Adam(ps, lr=1e-2, weight_decay=0.5),
                dict(lr=1e-2, weight_decay=0.5, scale=1.0))
        run_opt(f, "adamw", make_init(gen, 1e-2), grads,
                lambda ps: torch.optim.AdamW(ps, lr=1e-3, weight_decay=0.05),
                dict(lr=1e-3, weight_decay=0.05, scale=1e-2))
        run_opt(f, "adam_groups", make_init(gen, 1e-2), grads,
                lambda ps: torch.optim.Adam([{"params": ps[:2]}, {"params": ps[2:], "lr": 1e-3 / 2}],
                                            lr=1e-3, weight_decay=1e-4),
                dict(lr=1e-3, lr_group1=5e-4, weight_decay=1e-4, scale=1e-2, warmup_step=3, T_max=6),
                groups=True, sched=lambda o: WarmupCosineLR(o, warmup_step=3, T_max=6),
                emas={"decay_099": (0.99, True), "decay_040": (0.4, True), "plain_099": (0.99, False)})

        sch = {
            "step": (1e-3, lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=10, gamma=0.5),
                     dict(lr=1e-3, step_size=10, gamma=0.5)),
            "cosine_t50": (1e-5, lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=50, eta_min=0.0),
                           dict(lr=1e-5, T_max=50, eta_min=0.0)),
            "cosine_t50_eta": (1e-3, lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=50, eta_min=1e-5),
                               dict(lr=1e-3, T_max=50, eta_min=1e-5)),
            "sind": (1e-5, lambda o: WarmupCosineLR(o, warmup_step=15, T_max=105),
                     dict(lr=1e-5, warmup_step=15, T_max=105)),
            "oiqa_cosine": (1e-3, lambda o: torch.optim.lr_scheduler.SequentialLR(
                o, [torch.optim.lr_scheduler.LinearLR(o, start_factor=0.1, end_factor=1.0, total_iters=9),
                    torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=110, eta_min=1e-5)], milestones=[10]),
                dict(lr=1e-3, warmup=10, total=120, eta_min=1e-5)),
            "oiqa_step": (1e-3, lambda o: torch.optim.lr_scheduler.SequentialLR(
                o, [torch.optim.lr_scheduler.LinearLR(o, start_factor=0.1, end_factor=1.0, total_iters=9),
                    torch.optim.lr_scheduler.StepLR(o, step_size=10, gamma=0.5)], milestones=[10]),
                dict(lr=1e-3, warmup=10, step_size=10, gamma=0.5)),
        }
        for name, (lr, make, attrs) in sch.items():
            d = f.create_dataset(f"sched/{name}", data=sched_lrs(lr, make))
            for k, v in attrs.items():
                d.attrs[k] = v

        ps = [torch.nn.Parameter(torch.zeros(s)) for s in SHAPES]
        for p, g in zip(ps, grads):
            p.grad = g[0].clone()
        norm = torch.nn.utils.clip_grad_norm_(ps, max_norm=2.0)
        assert norm.item() > 2.0
        for i, n in enumerate(NAMES):
            f[f"clip/before/{n}"] = grads[i][0].numpy().astype(np.float32)
            f[f"clip/after/{n}"] = ps[i].grad.numpy().astype(np.float32)
        f["clip/norm"] = np.array([norm.item()], dtype=np.float64)
        f["clip"].attrs["max_norm"] = 2.0


if __name__ == "__main__":
    main()
