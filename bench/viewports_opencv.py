#!/usr/bin/python3
"""Viewport sampling: oiqa against OpenCV, in one invocation (bench/run.sh runs it).

  viewports_opencv.py make-erp SRC.png OUT.png
      Upscales a shipped 1024x512 panorama to a 4096x2048 ERP (INTER_CUBIC),
      so nothing large is committed.
  viewports_opencv.py bench ERP.png BENCH_VIEWPORTS [--threads 2] [--rounds 7] [--seconds 0.6]
      Starts our C bench (bench_viewports --serve), which builds the 20 icosa20
      maps (224x224, fov 90) and writes them to a .npy; OpenCV samples the same
      maps with cv2.remap INTER_LINEAR on uint8. Trials alternate, ours and
      OpenCV's, round after round, so both see the same machine; the figures are
      medians over the rounds (one image = 20 viewports).

Three OpenCV set-ups are timed and the fastest one is the reference:
  float   the ERP padded with 2 wrapped columns per side, map_x = u + 2,
          map_y = clip(v, 0, H-1), BORDER_REPLICATE (how the parity fixtures
          were made), float32 maps, cv2.setNumThreads(N) inside each remap;
  fixed   the same maps converted once with cv2.convertMaps to OpenCV's own
          fixed-point format (CV_16SC2 + CV_16UC1), setNumThreads(N);
  pool    float maps, N Python threads over the viewports (cv2.remap releases
          the GIL) with setNumThreads(1): the same parallel split as ours.
"""
import concurrent.futures
import os
import statistics
import subprocess
import sys
import tempfile
import time

import cv2
import numpy as np

PADW = 2


def make_erp(src, out):
    img = cv2.imread(src, cv2.IMREAD_COLOR)
    if img is None:
        sys.exit(f"viewports_opencv.py: error: {src}: cannot read")
    big = cv2.resize(img, (4096, 2048), interpolation=cv2.INTER_CUBIC)
    if not cv2.imwrite(out, big, [cv2.IMWRITE_PNG_COMPRESSION, 1]):
        sys.exit(f"viewports_opencv.py: error: {out}: cannot write")


def trial_rate(run_image, seconds):
    """Images/s of one trial: whole images for at least `seconds`."""
    run_image()  # warm-up
    n, t0 = 0, time.perf_counter()
    while True:
        run_image()
        n += 1
        t = time.perf_counter() - t0
        if t >= seconds:
            return n / t


class Ours:
    """bench_viewports --serve as a child process."""

    def __init__(self, exe, erp, maps, threads):
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        self.p = subprocess.Popen([exe, erp, "--threads", str(threads), "--maps-out", maps, "--serve"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        for line in self.p.stdout:
            if line.strip() == "ready":
                return
            print(line, end="")
        sys.exit(f"viewports_opencv.py: error: {exe} stopped before it was ready")

    def rate(self, filt, seconds):
        self.p.stdin.write(f"{filt} {seconds}\n")
        self.p.stdin.flush()
        name, value = self.p.stdout.readline().split()
        if name != filt:
            sys.exit(f"viewports_opencv.py: error: bench_viewports answered '{name} {value}'")
        return float(value)

    def close(self):
        self.p.stdin.write("quit\n")
        self.p.stdin.close()
        self.p.wait()


def bench(erp_path, exe, threads, rounds, seconds):
    with tempfile.TemporaryDirectory() as tmp:
        maps_path = os.path.join(tmp, "maps.npy")
        ours = Ours(exe, erp_path, maps_path, threads)
        uv = np.load(maps_path)  # [V, S, S, 2] float32: raw u, v
    erp = cv2.cvtColor(cv2.imread(erp_path, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    H, W = erp.shape[:2]
    padded = np.ascontiguousarray(np.concatenate([erp[:, W - PADW:], erp, erp[:, :PADW]], axis=1))
    float_maps = [(np.ascontiguousarray(m[..., 0] + PADW, dtype=np.float32),
                   np.ascontiguousarray(np.clip(m[..., 1], 0, H - 1), dtype=np.float32)) for m in uv]
    fixed_maps = [cv2.convertMaps(mx, my, cv2.CV_16SC2) for mx, my in float_maps]
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=threads)

    def remap(m, interp=cv2.INTER_LINEAR):
        return cv2.remap(padded, m[0], m[1], interp, borderMode=cv2.BORDER_REPLICATE)

    def cv_threads(n, run):
        def trial():
            cv2.setNumThreads(n)
            return trial_rate(run, seconds)
        return trial

    setups = {
        "ours bilinear u8": lambda: ours.rate("bilinear", seconds),
        "opencv float maps": cv_threads(threads, lambda: [remap(m) for m in float_maps]),
        "opencv fixed-point maps": cv_threads(threads, lambda: [remap(m) for m in fixed_maps]),
        "opencv pool over views": cv_threads(1, lambda: list(pool.map(remap, float_maps))),
    }
    info = {
        "ours bilinear f32": lambda: ours.rate("bilinear_f32", seconds),
        "ours bicubic u8": lambda: ours.rate("bicubic", seconds),
        "opencv bicubic (float maps)": cv_threads(threads, lambda: [remap(m, cv2.INTER_CUBIC) for m in float_maps]),
        "ours antialias u8": lambda: ours.rate("antialias", seconds),
    }
    rates = {k: [] for k in list(setups) + list(info)}
    round_ratios = []
    for r in range(rounds):
        names = list(setups) if r % 2 == 0 else list(reversed(setups))
        got = {k: setups[k]() for k in names}
        for k, v in got.items():
            rates[k].append(v)
        round_ratios.append(got["ours bilinear u8"] / max(v for k, v in got.items() if k.startswith("opencv")))
    for r in range(max(1, rounds // 2)):
        for k, run in info.items():
            rates[k].append(run())
    ours.close()
    pool.shutdown()
    cv2.setNumThreads(threads)

    med = {k: statistics.median(v) for k, v in rates.items()}
    print(f"opencv {cv2.__version__}, numpy {np.__version__}; {len(uv)} viewports {uv.shape[1]}x{uv.shape[2]}, "
          f"{threads} threads each side, {rounds} alternating rounds of {seconds:g} s, medians:")
    for k in setups:
        print(f"  {k:28s} {med[k]:8.1f} images/s")
    for k in info:
        print(f"  {k:28s} {med[k]:8.1f} images/s (information)")
    best = max(med[k] for k in setups if k.startswith("opencv"))
    o = med["ours bilinear u8"]
    print(f"ratio bilinear ours/opencv (fastest OpenCV set-up): {o / best:.2f}  "
          f"(per round: median {statistics.median(round_ratios):.2f}, min {min(round_ratios):.2f}, "
          f"max {max(round_ratios):.2f})")
    print(f"ratio bicubic ours/opencv (information): {med['ours bicubic u8'] / med['opencv bicubic (float maps)']:.2f}")


def main(argv):
    if len(argv) == 4 and argv[1] == "make-erp":
        make_erp(argv[2], argv[3])
        return
    if len(argv) >= 4 and argv[1] == "bench":
        threads, rounds, seconds = 2, 7, 0.6
        rest = argv[4:]
        while rest:
            if len(rest) > 1 and rest[0] == "--threads":
                threads = int(rest[1])
            elif len(rest) > 1 and rest[0] == "--rounds":
                rounds = int(rest[1])
            elif len(rest) > 1 and rest[0] == "--seconds":
                seconds = float(rest[1])
            else:
                sys.exit(__doc__)
            rest = rest[2:]
        bench(argv[2], argv[3], threads, rounds, seconds)
        return
    sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
