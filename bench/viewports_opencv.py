#!/usr/bin/python3
"""OpenCV side of the viewport benchmark (bench/run.sh runs both sides).

  viewports_opencv.py make-erp SRC.png OUT.png
      Upscales a shipped 1024x512 panorama to a 4096x2048 ERP (INTER_CUBIC),
      so nothing large is committed.
  viewports_opencv.py bench ERP.png MAPS.npy OURS.txt [--threads 2] [--seconds 3]
      Samples the same 20 maps (written by bench_viewports --maps-out) with
      cv2.remap INTER_LINEAR on uint8, prints OpenCV's images/s and the ratio
      ours / OpenCV, reading our figures from OURS.txt (bench_viewports --result).

Three OpenCV set-ups are timed and the fastest one is the reference:
  float   the ERP padded with 2 wrapped columns per side, map_x = u + 2,
          map_y = clip(v, 0, H-1), BORDER_REPLICATE (how the parity fixtures
          were made), float32 maps, cv2.setNumThreads(2) inside each remap;
  fixed   the same maps converted once with cv2.convertMaps to OpenCV's own
          fixed-point format (CV_16SC2 + CV_16UC1), setNumThreads(2);
  pool    float maps, 2 Python threads over the viewports (cv2.remap releases
          the GIL) with setNumThreads(1): the same parallel split as ours.
"""
import concurrent.futures
import statistics
import sys
import time

import cv2
import numpy as np

PADW = 2
TRIALS = 5


def make_erp(src, out):
    img = cv2.imread(src, cv2.IMREAD_COLOR)
    if img is None:
        sys.exit(f"viewports_opencv.py: error: {src}: cannot read")
    big = cv2.resize(img, (4096, 2048), interpolation=cv2.INTER_CUBIC)
    if not cv2.imwrite(out, big, [cv2.IMWRITE_PNG_COMPRESSION, 1]):
        sys.exit(f"viewports_opencv.py: error: {out}: cannot write")


def images_per_s(run_image, seconds):
    """Median images/s over TRIALS trials (the same protocol as bench_viewports.c)."""
    run_image()
    t0 = time.perf_counter()
    calib = 0
    while time.perf_counter() - t0 < 0.2:
        run_image()
        calib += 1
    per_image = (time.perf_counter() - t0) / calib
    reps = int(seconds / TRIALS / per_image) + 1
    rates = []
    for _ in range(TRIALS):
        t = time.perf_counter()
        for _ in range(reps):
            run_image()
        rates.append(reps / (time.perf_counter() - t))
    return statistics.median(rates)


def bench(erp_path, maps_path, ours_path, threads, seconds):
    cv2.setNumThreads(threads)
    erp = cv2.imread(erp_path, cv2.IMREAD_COLOR)
    if erp is None:
        sys.exit(f"viewports_opencv.py: error: {erp_path}: cannot read")
    erp = cv2.cvtColor(erp, cv2.COLOR_BGR2RGB)
    H, W = erp.shape[:2]
    uv = np.load(maps_path)  # [V, S, S, 2] float32: raw u, v
    padded = np.ascontiguousarray(np.concatenate([erp[:, W - PADW:], erp, erp[:, :PADW]], axis=1))
    float_maps = [(np.ascontiguousarray(m[..., 0] + PADW, dtype=np.float32),
                   np.ascontiguousarray(np.clip(m[..., 1], 0, H - 1), dtype=np.float32)) for m in uv]
    fixed_maps = [cv2.convertMaps(mx, my, cv2.CV_16SC2) for mx, my in float_maps]

    def run(maps):
        return lambda: [cv2.remap(padded, a, b, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
                        for a, b in maps]

    def run_cubic():
        return [cv2.remap(padded, a, b, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
                for a, b in float_maps]

    ours = {}
    with open(ours_path) as f:
        for line in f:
            k, v = line.split()
            ours[k] = float(v)
    cv_float = images_per_s(run(float_maps), seconds)
    cv_fixed = images_per_s(run(fixed_maps), seconds)
    cv_cubic = images_per_s(run_cubic, seconds / 3)
    cv2.setNumThreads(1)
    with concurrent.futures.ThreadPoolExecutor(max_workers=threads) as pool:
        def remap_one(m):
            return cv2.remap(padded, m[0], m[1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        cv_pool = images_per_s(lambda: list(pool.map(remap_one, float_maps)), seconds)
    cv2.setNumThreads(threads)
    best = max(cv_float, cv_fixed, cv_pool)
    o = ours["bilinear_u8_images_per_s"]
    print(f"opencv {cv2.__version__}: {len(uv)} viewports {uv.shape[1]}x{uv.shape[2]}, "
          f"setNumThreads({threads})")
    print(f"opencv: remap INTER_LINEAR float maps       {cv_float:8.1f} images/s")
    print(f"opencv: remap INTER_LINEAR fixed-point maps {cv_fixed:8.1f} images/s")
    print(f"opencv: remap INTER_LINEAR pool over views  {cv_pool:8.1f} images/s "
          f"({threads} Python threads, setNumThreads(1))")
    print(f"opencv: remap INTER_CUBIC float maps        {cv_cubic:8.1f} images/s (information)")
    print(f"ours:   bilinear u8                         {o:8.1f} images/s")
    print(f"ratio bilinear ours/opencv (vs the fastest set-up): {o / best:.2f}  "
          f"(float {o / cv_float:.2f}, fixed-point {o / cv_fixed:.2f}, pool {o / cv_pool:.2f})")
    print(f"ratio bicubic ours/opencv (information): {ours['bicubic_u8_images_per_s'] / cv_cubic:.2f}")


def main(argv):
    if len(argv) == 4 and argv[1] == "make-erp":
        make_erp(argv[2], argv[3])
        return
    if len(argv) >= 5 and argv[1] == "bench":
        threads, seconds = 2, 3.0
        rest = argv[5:]
        while rest:
            if rest[0] == "--threads" and len(rest) > 1:
                threads = int(rest[1])
            elif rest[0] == "--seconds" and len(rest) > 1:
                seconds = float(rest[1])
            else:
                sys.exit(__doc__)
            rest = rest[2:]
        bench(argv[2], argv[3], argv[4], threads, seconds)
        return
    sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
