#!/usr/bin/env bash
# Benchmarks that print ratios against peers run in the same invocation
# (DESIGN §8). Called by `make bench`; runs every benchmark, or those named:
#   bench/run.sh [viewports ...]
# Environment (set by make bench): BIN (the tools), BENCHBIN (the bench binaries).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${BENCHBIN:?set BENCHBIN to the folder of the bench binaries (make bench does)}"
PY=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cpu_model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
echo "machine: $(nproc) CPUs, ${cpu_model:-unknown CPU}"

# 20 icosa20 viewports of 224x224 (fov 90) from a 4096x2048 ERP, bilinear,
# 2 threads each: ours (OpenMP over viewports) against OpenCV's cv2.remap, in
# alternating trials (bench/viewports_opencv.py drives bench_viewports --serve).
bench_viewports() {
    echo "== viewports: 20 x 224x224 from a 4096x2048 ERP (forest_tonemapped.png upscaled), 2 threads"
    "$PY" bench/viewports_opencv.py make-erp data/panoramas/forest_tonemapped.png "$tmp/erp4096.png"
    "$PY" bench/viewports_opencv.py bench "$tmp/erp4096.png" "$BENCHBIN/bench_viewports" --threads 2
}

all=(viewports)
for name in "${@:-${all[@]}}"; do
    case "$name" in
        viewports) bench_viewports ;;
        *) echo "bench/run.sh: unknown benchmark '$name' (have: ${all[*]})" >&2; exit 2 ;;
    esac
done
