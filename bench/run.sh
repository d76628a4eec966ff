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

# ResNet-50 forward, batch 20 of 224x224, 2 threads: ours against PyTorch
# (NCHW and channels_last) in alternating rounds; the ratio is against
# PyTorch's better layout. Needs the fixture weights in ../shared.
bench_resnet() {
    local weights=${OIQA_SHARED:-../shared}/fixtures/resnet50/resnet50_seed0.pth
    echo "== resnet50: batch 20 x 224x224, 2 threads"
    if [ ! -f "$weights" ]; then echo "skipped: $weights absent"; return; fi
    local ours=() nchw=() cl=() line
    for round in 1 2 3; do
        while read -r line; do
            case "$line" in OIQA_IMAGES_PER_S*) ours+=("${line##* }") ;; *) [ "$round" = 1 ] && echo "$line" ;; esac
        done < <("$BENCHBIN/bench_resnet" "$weights" --batch 20 --threads 2 --reps 3)
        while read -r line; do
            case "$line" in
                "TORCH_IMAGES_PER_S NCHW"*) nchw+=("${line##* }") ;;
                "TORCH_IMAGES_PER_S channels_last"*) cl+=("${line##* }") ;;
                *) [ "$round" = 1 ] && echo "$line" ;;
            esac
        done < <("$PY" bench/resnet_torch.py 20 2 3)
    done
    median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
    local o n c
    o=$(median "${ours[@]}"); n=$(median "${nchw[@]}"); c=$(median "${cl[@]}")
    awk -v o="$o" -v n="$n" -v c="$c" 'BEGIN {
        best = n > c ? n : c
        printf "medians of 3 rounds: oiqa %.2f, torch NCHW %.2f, torch channels_last %.2f images/s\n", o, n, c
        printf "ratio resnet50 ours/torch (better layout): %.2f\n", o / best }'
}

all=(viewports resnet)
for name in "${@:-${all[@]}}"; do
    case "$name" in
        viewports) bench_viewports ;;
        resnet) bench_resnet ;;
        *) echo "bench/run.sh: unknown benchmark '$name' (have: ${all[*]})" >&2; exit 2 ;;
    esac
done
