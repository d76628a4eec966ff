#!/usr/bin/python3
"""Viewport sampling on the GPU with PyTorch's grid_sample: the peer of
bench/bench_viewports_gpu.c (bench/run.sh, function bench_viewports_gpu).

  viewports_torch_gpu.py DUMP_DIR [--seconds 2]

DUMP_DIR holds what `bench_viewports_gpu --dump DIR` wrote: erp.u8 (the
4096x2048 ERP, H x W x 3 bytes) and maps.f32 (the 20 icosa20 (u, v) maps of
224x224 from oiqa_view_map, float32). The same positions, sampled the way
the viewports would be with torch alone: per image, the uint8 ERP goes from
pinned memory to the GPU, becomes a 1 x 3 x H x (W + 4) float32 tensor with
2 wrapped columns per side (the longitude seam), is sampled by
torch.nn.functional.grid_sample (align_corners=True, padding_mode='border',
so v clamps as ours) at all 20 maps at once (stacked as one 4480 x 224 grid),
rounded to uint8 and copied back to pinned host memory. The normalised grid
is computed once (ours computes the maps per image, on the device). One image
= 20 viewports. Prints "TORCH_GPU_IMAGES_PER_S MODE X" for bilinear and
bicubic (Keys a = -0.75 as ours; torch has no antialias equivalent), or one
"skipped: ..." line without torch or without a CUDA device.
"""
import argparse
import os
import statistics
import sys
import time

N_VIEWS, S, W, H, PAD = 20, 224, 4096, 2048, 2
TRIALS = 5


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dump")
    ap.add_argument("--seconds", type=float, default=2.0)
    a = ap.parse_args()
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        print("skipped: no PyTorch (python3-torch) for the peer")
        return 0
    if not torch.cuda.is_available():
        print("skipped: torch.cuda is not available (torch %s)" % torch.__version__)
        return 0
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    dev = torch.device("cuda")

    with open(os.path.join(a.dump, "erp.u8"), "rb") as f:
        erp = torch.frombuffer(bytearray(f.read()), dtype=torch.uint8).view(H, W, 3).pin_memory()
    with open(os.path.join(a.dump, "maps.f32"), "rb") as f:
        maps = torch.frombuffer(bytearray(f.read()), dtype=torch.float32).view(N_VIEWS, S, S, 2).to(dev)

    # (u, v) -> grid_sample's [-1, 1] over the padded ERP, corners aligned:
    # x = (u + PAD) * 2 / (W + 2 PAD - 1) - 1, y = clamp(v, 0, H - 1) * 2 / (H - 1) - 1.
    gx = (maps[..., 0].double() + PAD) * (2.0 / (W + 2 * PAD - 1)) - 1.0
    gy = maps[..., 1].double().clamp(0, H - 1) * (2.0 / (H - 1)) - 1.0
    grid = torch.stack([gx, gy], dim=-1).float().reshape(1, N_VIEWS * S, S, 2).contiguous()
    out_host = torch.empty((N_VIEWS, S, S, 3), dtype=torch.uint8).pin_memory()

    def one_image(mode):
        x = erp.to(dev, non_blocking=True).permute(2, 0, 1).unsqueeze(0).float()
        x = torch.cat([x[..., -PAD:], x, x[..., :PAD]], dim=3)
        y = F.grid_sample(x, grid, mode=mode, padding_mode="border", align_corners=True)
        y = y.round_().clamp_(0, 255).to(torch.uint8)  # 1 x 3 x (20 S) x S
        out_host.copy_(y[0].permute(1, 2, 0).reshape(N_VIEWS, S, S, 3), non_blocking=True)
        torch.cuda.synchronize()

    print("torch %s, %s" % (torch.__version__, torch.cuda.get_device_name(0)))
    for mode in ("bilinear", "bicubic"):
        one_image(mode)  # warm-up
        rates = []
        for _ in range(TRIALS):
            n, t0 = 0, time.perf_counter()
            while True:
                one_image(mode)
                n += 1
                t = time.perf_counter() - t0
                if t >= a.seconds / TRIALS:
                    break
            rates.append(n / t)
        print("TORCH_GPU_IMAGES_PER_S %s %.1f" % (mode, statistics.median(rates)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
