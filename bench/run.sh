#!/usr/bin/env bash
# Benchmarks that print ratios against peers run in the same invocation
# (DESIGN §8). Called by `make bench`; runs every benchmark, or those named:
#   bench/run.sh [viewports ...]
# Environment (set by make bench): BIN (the tools), BENCHBIN (the bench binaries).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${BENCHBIN:?set BENCHBIN to the folder of the bench binaries (make bench does)}"
PY=${PY:-/usr/bin/python3}
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

# The same 20 viewports on the GPU: ours (geo/viewports_gpu.h, what
# `oiqa-viewports --device cuda` runs per image: pinned copy, upload, maps and
# sampling on the device, download) against PyTorch's grid_sample on the same
# GPU at the same (u, v) (bench/viewports_torch_gpu.py), bilinear and
# bicubic; antialias is ours alone. Skipped with a line without a usable GPU
# or without torch.cuda.
bench_viewports_gpu() {
    echo "== viewports on the GPU: 20 x 224x224 from a 4096x2048 ERP (forest_tonemapped.png upscaled)"
    local out theirs f o t
    mkdir -p "$tmp/vpgpu"
    # a failure here is reported and does not stop the other benchmarks
    out=$("$BENCHBIN/bench_viewports_gpu" data/panoramas/forest_tonemapped.png --dump "$tmp/vpgpu") \
        || { echo "$out"; echo "bench_viewports_gpu failed"; return 0; }
    echo "$out"
    if grep -q '^skipped' <<< "$out"; then return; fi
    theirs=$("$PY" bench/viewports_torch_gpu.py "$tmp/vpgpu") \
        || { echo "$theirs"; echo "viewports_torch_gpu.py failed"; return 0; }
    echo "$theirs"
    rm -rf "$tmp/vpgpu"
    if grep -q '^skipped' <<< "$theirs"; then return; fi
    for f in bilinear bicubic; do
        o=$(awk -v f="$f" '$1 == "OIQA_GPU_IMAGES_PER_S" && $2 == f {print $3}' <<< "$out")
        t=$(awk -v f="$f" '$1 == "TORCH_GPU_IMAGES_PER_S" && $2 == f {print $3}' <<< "$theirs")
        awk -v o="$o" -v t="$t" -v f="$f" 'BEGIN { printf "ratio viewports_gpu %s ours/torch grid_sample: %.2f\n", f, o / t }'
    done
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

# VMamba-T v0 and VMamba-T[s1l8] (random weights, models/vmamba_random.h),
# 2 threads: one 512x1024 ERP and a batch of 8 viewports of 224x224, ours
# against bench/vmamba_torch.py (PyTorch, written from the fixture README's
# equations, the same weights through an oiqa HDF5 weight file).
bench_vmamba() {
    local preset label ours theirs out
    for preset in vmamba_t_v0 vmamba_t_s1l8; do
        for shape in "512 1024 1" "224 224 8"; do
            set -- $shape
            label="$preset ${1}x${2} batch $3"
            echo "== vmamba: $label, 2 threads"
            out=$("$BENCHBIN/bench_vmamba" "$preset" --h "$1" --w "$2" --batch "$3" --threads 2 --reps 3 \
                  --save-weights "$tmp/$preset.h5")
            echo "$out"
            ours=$(awk '/^OIQA_IMAGES_PER_S/ {print $2}' <<< "$out")
            out=$("$PY" bench/vmamba_torch.py bench "$tmp/$preset.h5" --h "$1" --w "$2" --batch "$3" \
                  --threads 2 --reps 1 --warmup 0 --label "$preset")
            echo "$out"
            theirs=$(awk '/^TORCH_IMAGES_PER_S/ {print $3}' <<< "$out")
            awk -v o="$ours" -v t="$theirs" -v l="$label" 'BEGIN { printf "ratio vmamba %s ours/torch: %.2f\n", l, o / t }'
        done
    done
}

# The iqa/ operators (distortions, restorers, SSIM, MS-SSIM) on 16 crops of
# 224x224 of a shipped panorama, threads over viewports as oiqa-pseudoref runs
# them: absolute viewports/s with 1 and 2 threads (no Python peer takes the
# same parameters; docs/iqa.md).
bench_iqa() {
    echo "== iqa: operators on 224x224 viewports (city_tonemapped.png crops), 1 and 2 threads"
    "$BENCHBIN/bench_iqa" data/panoramas/city_tonemapped.png --seconds 1
}

# One training epoch of the MTFI head (500 images x 20 viewports of random
# cached features, ResNet-50 layer2..4 for three streams + a VMamba-T global
# vector, hidden 256, batch 16, SGD), 2 threads: bench/bench_train.c against
# the same architecture in PyTorch (bench/train_torch.py).
bench_train() {
    echo "== train: one epoch of the MTFI head, 500 images x 20 viewports, batch 16, 2 threads"
    local out ours theirs
    out=$("$BENCHBIN/bench_train" --images 500 --views 20 --threads 2 --epochs 2)
    echo "$out"
    ours=$(awk '/^OIQA_IMAGES_PER_S/ {print $2}' <<< "$out")
    out=$("$PY" bench/train_torch.py --images 500 --views 20 --threads 2 --epochs 2)
    echo "$out"
    theirs=$(awk '/^TORCH_IMAGES_PER_S/ {print $2}' <<< "$out")
    awk -v o="$ours" -v t="$theirs" 'BEGIN { printf "ratio train ours/torch: %.2f\n", o / t }'
}

# The CUDA backend against PyTorch on the same GPU (skipped without one):
# ResNet-50 at batch 20 and 64, fp32 (TF32 off on both sides) and TF32
# (OIQA_TF32=1 / allow_tf32), the ratio against PyTorch's better layout;
# VMamba-T v0 and s1l8 on a 512x1024 ERP and 20 viewports of 224x224 against
# bench/vmamba_torch.py on the GPU (the official repository's CUDA scan
# kernels are not packaged in Debian; that peer's scan is a PyTorch loop).
bench_gpu() {
    echo "== gpu: ResNet-50 and VMamba-T on the CUDA backend vs PyTorch on the same GPU"
    local out rc=0
    out=$("$BENCHBIN/bench_gpu" resnet50 --batch 2 --reps 1) || rc=$?
    if [ $rc -eq 3 ]; then echo "skipped: $out"; return; fi
    [ $rc -eq 0 ] || { echo "$out"; return 1; }
    local batch mode tf ours best
    for batch in 20 64; do
        for mode in fp32 tf32; do
            tf=0; [ $mode = tf32 ] && tf=1
            out=$(OIQA_TF32=$tf "$BENCHBIN/bench_gpu" resnet50 --batch $batch --reps 20); echo "$out"
            ours=$(awk '/^OIQA_IMAGES_PER_S/ {print $2}' <<< "$out")
            out=$("$PY" bench/gpu_torch.py resnet50 --batch $batch --reps 20 $([ $tf = 1 ] && echo --tf32)); echo "$out"
            best=$(awk '/^TORCH_IMAGES_PER_S/ {if ($3 > b) b = $3} END {print b}' <<< "$out")
            awk -v o="$ours" -v t="$best" -v l="batch $batch $mode" \
                'BEGIN { printf "ratio resnet50 gpu %s ours/torch (better layout): %.2f\n", l, o / t }'
        done
    done
    local preset theirs
    for preset in vmamba_t_v0 vmamba_t_s1l8; do
        for shape in "512 1024 1" "224 224 20"; do
            set -- $shape
            out=$("$BENCHBIN/bench_gpu" "$preset" --h "$1" --w "$2" --batch "$3" --reps 5 \
                  --save-weights "$tmp/gpu_$preset.h5"); echo "$out"
            ours=$(awk '/^OIQA_IMAGES_PER_S/ {print $2}' <<< "$out")
            out=$("$PY" bench/vmamba_torch.py bench "$tmp/gpu_$preset.h5" --h "$1" --w "$2" --batch "$3" \
                  --reps 3 --warmup 1 --device cuda --label "$preset"); echo "$out"
            theirs=$(awk '/^TORCH_IMAGES_PER_S/ {print $3}' <<< "$out")
            awk -v o="$ours" -v t="$theirs" -v l="$preset ${1}x${2} batch $3" \
                'BEGIN { printf "ratio vmamba gpu %s ours/torch: %.2f\n", l, o / t }'
        done
    done
}

# oiqa-pseudoref with its defaults (detect erp, restore auto, degrade auto) on
# CVIQ-sized inputs: 4 shipped panoramas upscaled to 4096x2048 and coded as
# JPEG quality 15 (oiqa-synth, jpeg level 3), 20 icosa20 viewports of 224x224
# each, 2 threads; viewports/s of the best of 3 runs. With OIQA_BEFORE_BIN
# (the bin folder of an older build, e.g. a git worktree of a past commit)
# that build's oiqa-pseudoref runs in alternation on the same viewports.h5
# and the ratio is printed (issue 15: the ERP path must stay under 2x).
bench_pseudoref() {
    echo "== pseudoref: 4 x 20 viewports of 224x224 from 4096x2048 JPEG-q15 ERPs, defaults, 2 threads"
    local d=$tmp/pr p t0 t1 best_new=1e9 best_old=1e9 round
    mkdir -p "$d"
    for p in city courtyard forest interior; do
        "$PY" bench/viewports_opencv.py make-erp "data/panoramas/${p}_tonemapped.png" "$d/$p.png"
    done
    "$BIN/oiqa-synth" "$d"/{city,courtyard,forest,interior}.png --families jpeg --levels 3 --size 32 -o "$d/s" -q -j 2
    "$BIN/oiqa-viewports" "$d"/s/*_jpeg_3.png -o "$d/vp.h5" -q -j 2
    secs() { local a b; a=$(date +%s.%N); "$@" >/dev/null 2>&1 || echo "failed: $*" >&2; b=$(date +%s.%N)
             awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b - a }'; }
    for round in 1 2 3; do
        t1=$(secs "$BIN/oiqa-pseudoref" "$d/vp.h5" -o "$d/new.h5" -j 2 -q --force)
        best_new=$(awk -v a="$best_new" -v b="$t1" 'BEGIN { print (b < a ? b : a) }')
        if [ -n "${OIQA_BEFORE_BIN:-}" ]; then
            t0=$(secs "$OIQA_BEFORE_BIN/oiqa-pseudoref" "$d/vp.h5" -o "$d/old.h5" -j 2 -q --force)
            best_old=$(awk -v a="$best_old" -v b="$t0" 'BEGIN { print (b < a ? b : a) }')
        fi
    done
    awk -v t="$best_new" 'BEGIN { printf "oiqa-pseudoref: %.2f s, %.1f viewports/s\n", t, 80 / t }'
    if [ -n "${OIQA_BEFORE_BIN:-}" ]; then
        awk -v t="$best_old" 'BEGIN { printf "before (OIQA_BEFORE_BIN): %.2f s, %.1f viewports/s\n", t, 80 / t }'
        awk -v n="$best_new" -v o="$best_old" 'BEGIN { printf "ratio pseudoref time now/before: %.2f\n", n / o }'
    fi
}

# Training steps of ResNet-18 on the tape (forward in train mode, backward,
# Adam), 2 threads: batch 16 at 224x224 and batch 2 at 512x1024 (KD-OIQA's
# teacher faces and student ERP sizes), against PyTorch's best of NCHW and
# channels_last; steps/s and peak resident memory of both.
bench_resnet_train() {
    local size batch h w out ours theirs best peak tpeak layout
    for size in "16 224 224" "2 512 1024"; do
        read -r batch h w <<< "$size"
        echo "== resnet18 train step: batch $batch x ${h}x${w}, 2 threads"
        out=$("$BENCHBIN/bench_resnet_train" --batch "$batch" --height "$h" --width "$w" --steps 3 --threads 2)
        echo "$out"
        ours=$(awk '/^OIQA_STEPS_PER_S/ {print $2}' <<< "$out"); peak=$(awk '/^OIQA_PEAK_MIB/ {print $2}' <<< "$out")
        best=0; tpeak=0
        for layout in "" --channels-last; do
            out=$("$PY" bench/resnet_train_torch.py --batch "$batch" --height "$h" --width "$w" --steps 3 \
                --threads 2 $layout)
            echo "$out"
            theirs=$(awk '/^TORCH_STEPS_PER_S/ {print $2}' <<< "$out")
            if awk -v t="$theirs" -v b="$best" 'BEGIN { exit !(t > b) }'; then
                best=$theirs; tpeak=$(awk '/^TORCH_PEAK_MIB/ {print $2}' <<< "$out")
            fi
        done
        awk -v o="$ours" -v t="$best" -v p="$peak" -v q="$tpeak" -v b="$batch" -v h="$h" -v w="$w" \
            'BEGIN { printf "ratio resnet18_train b%d %dx%d ours/torch: %.2f (peak memory ours/torch %.2f)\n", b, h, w, o / t, p / q }'
    done
}

# A ViT-B/16 training step (timm layout), batch 8 at 224^2, 2 threads: ours
# on the tape against the same step in PyTorch (bench/vit_train_torch.py).
bench_vit_train() {
    local out ours peak theirs tpeak
    echo "== vit-b/16 train step: batch 8 x 224x224, 2 threads"
    out=$("$BENCHBIN/bench_vit_train" --batch 8 --image 224 --patch 16 --steps 3 --threads 2)
    echo "$out"
    ours=$(awk '/^OIQA_STEPS_PER_S/ {print $2}' <<< "$out"); peak=$(awk '/^OIQA_PEAK_MIB/ {print $2}' <<< "$out")
    out=$("$PY" bench/vit_train_torch.py --batch 8 --image 224 --patch 16 --steps 3 --threads 2)
    echo "$out"
    theirs=$(awk '/^TORCH_STEPS_PER_S/ {print $2}' <<< "$out"); tpeak=$(awk '/^TORCH_PEAK_MIB/ {print $2}' <<< "$out")
    awk -v o="$ours" -v t="$theirs" -v p="$peak" -v q="$tpeak" \
        'BEGIN { printf "ratio vit_b16_train b8 224x224 ours/torch: %.2f (peak memory ours/torch %.2f)\n", o / t, p / q }'
}

all=(viewports viewports_gpu resnet vmamba iqa pseudoref train resnet_train vit_train gpu)
for name in "${@:-${all[@]}}"; do
    case "$name" in
        viewports) bench_viewports ;;
        viewports_gpu) bench_viewports_gpu ;;
        resnet) bench_resnet ;;
        vmamba) bench_vmamba ;;
        iqa) bench_iqa ;;
        pseudoref) bench_pseudoref ;;
        train) bench_train ;;
        resnet_train) bench_resnet_train ;;
        vit_train) bench_vit_train ;;
        gpu) bench_gpu ;;
        *) echo "bench/run.sh: unknown benchmark '$name' (have: ${all[*]})" >&2; exit 2 ;;
    esac
done
