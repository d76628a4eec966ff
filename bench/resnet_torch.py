#!/usr/bin/python3
"""PyTorch's ResNet-50 forward on the same batch as bench_resnet.c (the peer of
`make bench`): torchvision resnet50, eval, inference mode, NCHW and
channels_last, the same thread count. Prints images/s per layout."""
import sys
import time

import torch
import torchvision

batch = int(sys.argv[1]) if len(sys.argv) > 1 else 20
threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
reps = int(sys.argv[3]) if len(sys.argv) > 3 else 5
torch.set_num_threads(threads)
torch.manual_seed(0)
model = torchvision.models.resnet50().eval()
x = torch.randn(batch, 3, 224, 224)
print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, {threads} threads")
for layout in ("NCHW", "channels_last"):
    m, inp = model, x
    if layout == "channels_last":
        m = model.to(memory_format=torch.channels_last)
        inp = x.contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        m(inp)  # warm-up
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            m(inp)
            times.append(time.perf_counter() - t0)
    med = sorted(times)[len(times) // 2]
    print(f"torch resnet50 {layout}: {batch / med:.2f} images/s (median of {reps}, {med:.3f} s per batch)")
    print(f"TORCH_IMAGES_PER_S {layout} {batch / med:.4f}")
