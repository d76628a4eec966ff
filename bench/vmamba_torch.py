#!/usr/bin/python3
"""VMamba forward in PyTorch (CPU, float32), the peer of bench_vmamba.c.

Written from the forward definition in ../shared/fixtures/vmamba/README.md
(Liu et al. 2024, "VMamba: Visual State Space Model"; the selective scan of
Gu & Dao 2023, "Mamba"), not from the official code: v0 (z gate, patch embed
v1, patch merging) and v05_noz (no gate, MLP, patch embed v2, conv
downsample). The architecture is read from the state dict's keys and shapes.
Like the official pure-PyTorch path (selective_scan_torch) the scan is a
Python loop over the sequence with every channel of the four routes
vectorised, here in chunks so that exp(delta*A) of a 512x1024 input fits.

  vmamba_torch.py bench WEIGHTS [--h H] [--w W] [--batch N] [--threads N] [--reps N] [--warmup N] [--label L]
  vmamba_torch.py check FIXTURE_DIR      (the small models against vmamba_small_io.h5)
WEIGHTS: an oiqa HDF5 weight file (bench_vmamba --save-weights) or a .pth.
"""
import argparse
import sys
import time

import torch
import torch.nn.functional as F

CHUNK = 512  # scan steps whose exp(delta*A) is computed at once


def load_state_dict(path):
    if path.endswith(".h5"):
        import h5py
        sd = {}
        with h5py.File(path, "r") as f:
            for name, ds in f["tensors"].items():
                key = ds.attrs.get("key", name.replace("|", "/"))
                key = key.decode() if isinstance(key, bytes) else str(key)
                sd[key] = torch.from_numpy(ds[()]).float()
        return sd
    obj = torch.load(path, map_location="cpu")
    return obj.get("model", obj)


class VMamba:
    def __init__(self, sd):
        self.sd = sd
        self.depths = []
        for s in range(4):
            j = 0
            while f"layers.{s}.blocks.{j}.norm.weight" in sd:
                j += 1
            self.depths.append(j)
        b0 = "layers.0.blocks.0.op."
        self.di0 = sd[b0 + "x_proj_weight"].shape[2]
        self.gated = sd[b0 + "in_proj.weight"].shape[0] == 2 * self.di0
        self.embed_v2 = "patch_embed.5.weight" in sd
        self.merge_v1 = "layers.0.downsample.reduction.weight" in sd

    def ln(self, x, p):
        return F.layer_norm(x, (x.shape[-1],), self.sd[p + ".weight"], self.sd[p + ".bias"], 1e-5)

    def conv(self, x, p, stride, pad):  # NHWC in and out
        y = F.conv2d(x.permute(0, 3, 1, 2), self.sd[p + ".weight"], self.sd.get(p + ".bias"), stride, pad)
        return y.permute(0, 2, 3, 1)

    def linear(self, x, p, bias=False):
        w = self.sd[p + ".weight"]
        return F.linear(x, w.reshape(w.shape[0], -1), self.sd[p + ".bias"] if bias else None)

    def patch_embed(self, x):
        if not self.embed_v2:
            k = self.sd["patch_embed.0.weight"].shape[2]
            return self.ln(self.conv(x, "patch_embed.0", k, 0), "patch_embed.2")
        x = F.gelu(self.ln(self.conv(x, "patch_embed.0", 2, 1), "patch_embed.2"))
        return self.ln(self.conv(x, "patch_embed.5", 2, 1), "patch_embed.7")

    def downsample(self, x, s):
        p = f"layers.{s}.downsample"
        if not self.merge_v1:
            return self.ln(self.conv(x, p + ".1", 2, 1), p + ".3")
        H, W = x.shape[1], x.shape[2]
        if H % 2 or W % 2:
            x = F.pad(x, (0, 0, 0, W % 2, 0, H % 2))
        x = torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], -1)
        return self.linear(self.ln(x, p + ".norm"), p + ".reduction")

    def scan(self, u, delta, A, Bs, Cs, D):
        """u, delta: (B, K, Di, L); A: (K, Di, N); Bs, Cs: (B, K, N, L); D: (K, Di)."""
        Bn, K, Di, L = u.shape
        h = u.new_zeros(Bn, K, Di, A.shape[-1])
        ys = []
        for t0 in range(0, L, CHUNK):
            t1 = min(L, t0 + CHUNK)
            dt = delta[..., t0:t1]
            dA = torch.exp(dt.unsqueeze(-1) * A.unsqueeze(2))  # B K Di T N
            dBu = (dt * u[..., t0:t1]).unsqueeze(-1) * Bs[..., t0:t1].transpose(2, 3).unsqueeze(2)
            C = Cs[..., t0:t1].transpose(2, 3).unsqueeze(2)  # B K 1 T N
            for t in range(t1 - t0):
                h = dA[:, :, :, t] * h + dBu[:, :, :, t]
                ys.append((h * C[:, :, :, t]).sum(-1))
        return torch.stack(ys, -1) + D.unsqueeze(-1) * u

    def ss2d(self, x, p):  # x: B H W Di (after conv + SiLU)
        sd = self.sd
        Bn, H, W, Di = x.shape
        L = H * W
        row = x.permute(0, 3, 1, 2).reshape(Bn, Di, L)
        col = x.permute(0, 3, 2, 1).reshape(Bn, Di, L)
        xs = torch.stack([row, col, row.flip(-1), col.flip(-1)], 1)  # B K Di L
        wx = sd[p + "x_proj_weight"]
        N = sd[p + "A_logs"].shape[1]
        R = wx.shape[1] - 2 * N
        dbl = torch.einsum("bkdl,kcd->bkcl", xs, wx)
        dts = torch.einsum("bkrl,kdr->bkdl", dbl[:, :, :R], sd[p + "dt_projs_weight"])
        delta = F.softplus(dts + sd[p + "dt_projs_bias"].view(1, 4, Di, 1))
        A = -torch.exp(sd[p + "A_logs"]).view(4, Di, N)
        ys = self.scan(xs, delta, A, dbl[:, :, R:R + N], dbl[:, :, R + N:], sd[p + "Ds"].view(4, Di))
        y_row = ys[:, 0] + ys[:, 2].flip(-1)
        y_col = (ys[:, 1] + ys[:, 3].flip(-1)).view(Bn, Di, W, H).transpose(2, 3).reshape(Bn, Di, L)
        return (y_row + y_col).transpose(1, 2).reshape(Bn, H, W, Di)

    def block(self, x, p):
        sd = self.sd
        h = self.linear(self.ln(x, p + "norm"), p + "op.in_proj")
        Di = sd[p + "op.x_proj_weight"].shape[2]
        if self.gated:
            h, z = h.split(Di, -1)
        c = F.conv2d(h.permute(0, 3, 1, 2), sd[p + "op.conv2d.weight"], sd.get(p + "op.conv2d.bias"), padding=1,
                     groups=Di)
        y = self.ln(self.ss2d(F.silu(c).permute(0, 2, 3, 1), p + "op."), p + "op.out_norm")
        if self.gated:
            y = y * F.silu(z)
        x = x + self.linear(y, p + "op.out_proj")
        if p + "mlp.fc1.weight" in sd:
            m = F.gelu(self.linear(self.ln(x, p + "norm2"), p + "mlp.fc1", True))
            x = x + self.linear(m, p + "mlp.fc2", True)
        return x

    def forward(self, x_nchw):
        x = self.patch_embed(x_nchw.permute(0, 2, 3, 1))
        stages = []
        for s in range(4):
            if s:
                x = self.downsample(x, s - 1)
            for j in range(self.depths[s]):
                x = self.block(x, f"layers.{s}.blocks.{j}.")
            stages.append(x)
        pooled = self.ln(x, "classifier.norm").mean((1, 2))
        return stages, pooled, self.linear(pooled, "classifier.head", True)


def bench(a):
    torch.set_num_threads(a.threads)
    if a.device == "cuda":
        if not torch.cuda.is_available():
            print("vmamba_torch.py: torch sees no CUDA device")
            sys.exit(3)
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    model = VMamba({k: v.to(a.device) for k, v in load_state_dict(a.weights).items()})
    g = torch.Generator().manual_seed(1)
    x = (torch.rand(a.batch, 3, a.h, a.w, generator=g) * 4 - 2).to(a.device)
    sync = torch.cuda.synchronize if a.device == "cuda" else (lambda: None)
    print(f"torch {torch.__version__}, {a.threads} threads, device {a.device}")
    with torch.inference_mode():
        for _ in range(a.warmup):
            model.forward(x)
        sync()
        times = []
        for _ in range(a.reps):
            t0 = time.perf_counter()
            model.forward(x)
            sync()
            times.append(time.perf_counter() - t0)
    med = sorted(times)[len(times) // 2]
    print(f"torch vmamba {a.label}: batch {a.batch} x {a.h}x{a.w}: {a.batch / med:.3f} images/s "
          f"(median of {a.reps}, {med:.3f} s per batch)")
    print(f"TORCH_IMAGES_PER_S {a.label} {a.batch / med:.5f}")


def check(a):
    import h5py
    torch.set_num_threads(a.threads)
    worst = 0.0
    with h5py.File(f"{a.fixtures}/vmamba_small_io.h5", "r") as io, torch.inference_mode():
        for variant in ("v0_small", "v2_small", "v2s1_small"):
            model = VMamba(load_state_dict(f"{a.fixtures}/vmamba_{variant}.pth"))
            for inp, pre in (("input/images_f32", ""), ("input/erp_f32", "erp_")):
                stages, pooled, logits = model.forward(torch.from_numpy(io[inp][()]))
                outs = {f"stage{i}": s.permute(0, 3, 1, 2) for i, s in enumerate(stages)}
                outs.update(pooled=pooled, logits=logits)
                for name, t in outs.items():
                    ref = torch.from_numpy(io[f"{variant}/{pre}{name}"][()])
                    rel = float((t - ref).abs().max() / ref.abs().max())
                    worst = max(worst, rel)
                    print(f"  {variant}/{pre}{name}: rel {rel:.3e}")
    print(f"max relative error {worst:.3e}: {'PASS' if worst <= 1e-4 else 'FAIL'}")
    return worst <= 1e-4


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("bench")
    b.add_argument("weights")
    b.add_argument("--h", type=int, default=512)
    b.add_argument("--w", type=int, default=1024)
    b.add_argument("--batch", type=int, default=1)
    b.add_argument("--threads", type=int, default=2)
    b.add_argument("--reps", type=int, default=1)
    b.add_argument("--warmup", type=int, default=1, help="untimed runs first (0 for the slow 512x1024 case)")
    b.add_argument("--label", default="vmamba")
    b.add_argument("--device", default="cpu", choices=["cpu", "cuda"],
                   help="cuda: the same PyTorch code on the GPU (its scan is a loop over positions in Python)")
    c = sub.add_parser("check")
    c.add_argument("fixtures")
    c.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    if args.cmd == "bench":
        bench(args)
    else:
        raise SystemExit(0 if check(args) else 1)
