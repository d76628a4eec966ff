#!/usr/bin/python3
"""The GPU peer of bench_gpu.c: torchvision ResNet-50 (eval, inference mode,
cudnn.benchmark on, NCHW and channels_last) on a batch already on the GPU,
synchronised after each batch. --tf32 allows TF32 (the default keeps fp32,
as oiqa's default). Prints images/s per layout; exits 3 without CUDA.
  gpu_torch.py resnet50 --batch N [--reps N] [--tf32]"""
import argparse
import sys
import time

import torch

ap = argparse.ArgumentParser()
ap.add_argument("net", choices=["resnet50"])
ap.add_argument("--batch", type=int, default=20)
ap.add_argument("--reps", type=int, default=10)
ap.add_argument("--tf32", action="store_true")
a = ap.parse_args()
if not torch.cuda.is_available():
    print("gpu_torch.py: torch sees no CUDA device")
    sys.exit(3)
import torchvision  # noqa: E402

torch.backends.cudnn.benchmark = True
torch.backends.cudnn.allow_tf32 = a.tf32
torch.backends.cuda.matmul.allow_tf32 = a.tf32
torch.manual_seed(0)
model = torchvision.models.resnet50().eval().cuda()
x = torch.randn(a.batch, 3, 224, 224, device="cuda")
mode = "TF32" if a.tf32 else "fp32"
print(f"torch {torch.__version__}, cuDNN {torch.backends.cudnn.version()}, {torch.cuda.get_device_name(0)}, {mode}")
for layout in ("NCHW", "channels_last"):
    m, inp = model, x
    if layout == "channels_last":
        m = model.to(memory_format=torch.channels_last)
        inp = x.contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        for _ in range(3):
            m(inp)
        torch.cuda.synchronize()
        times = []
        for _ in range(a.reps):
            t0 = time.perf_counter()
            m(inp)
            torch.cuda.synchronize()
            times.append(time.perf_counter() - t0)
    med = sorted(times)[len(times) // 2]
    print(f"torch resnet50 {layout} ({mode}): {a.batch / med:.2f} images/s (median of {a.reps})")
    print(f"TORCH_IMAGES_PER_S {layout} {a.batch / med:.4f}")
