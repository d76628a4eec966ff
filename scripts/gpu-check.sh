#!/usr/bin/env bash
# The GPU checks of the CUDA backend (docs/gpu.md) in one run, for a GPU
# machine that cannot build oiqa itself (no Debian -dev packages there):
#
#   scripts/gpu-check.sh pack        here: build with CUDA, then gather the tools,
#                                    tests, benchmarks, the shared libraries they
#                                    need (not CUDA's, not glibc's) and the small
#                                    fixtures into .gpu/bundle.tar.xz (about 16 MB;
#                                    the device tool carries at most 64 MiB)
#   scripts/gpu-check.sh run [OUT]   there, from the repository root with .gpu/:
#                                    the GPU unit tests, the --device e2e tests,
#                                    then the GPU benchmarks; logs into OUT
#                                    (default .gpu/out), summary on stdout
#
# On the machine without a GPU, `run` exercises the same plumbing: every GPU case skips with
# its reason. CUDA's own libraries (cudart, cuBLAS, cuDNN) are taken from the
# GPU machine: /usr/local/cuda/lib64 and the nvidia-* Python wheels' lib/
# folders (PyTorch's), whichever exist.
set -uo pipefail
cd "$(dirname "$0")/.."
G=.gpu

pack() {
    set -e
    make -j"$(nproc)" CUDA=1 BUILD=build tools unit-tests
    make -j"$(nproc)" CUDA=1 BUILD=build build/bench/bench_gpu build/bench/bench_viewports_gpu
    rm -rf "$G" && mkdir -p "$G/bin" "$G/tests" "$G/bench" "$G/lib" "$G/shared/fixtures/vmamba"
    cp build/bin/oiqa-* "$G/bin/"
    cp build/tests/test_backend build/tests/test_viewports_gpu build/tests/test_extractor "$G/tests/"
    cp build/bench/bench_gpu build/bench/bench_viewports_gpu "$G/bench/"
    strip "$G"/bin/* "$G"/tests/* "$G"/bench/*
    # Shared libraries other than CUDA's and the C library's own.
    ldd "$G"/bin/* "$G"/tests/* "$G"/bench/* | awk '$2 == "=>" && $3 ~ /^\// {print $3}' | sort -u |
        grep -vE '/(libc|libm|libpthread|libdl|librt|ld-linux[^/]*)\.so|libcud|libcublas' |
        while read -r lib; do cp -L "$lib" "$G/lib/"; done
    local shared=${OIQA_SHARED:-../shared}
    cp "$shared"/fixtures/vmamba/vmamba_*_small.pth "$G/shared/fixtures/vmamba/" 2>/dev/null || true
    tar -C "$G" -cJf "$G/bundle.tar.xz" bin tests bench lib shared
    rm -rf "$G/bin" "$G/tests" "$G/bench" "$G/lib" "$G/shared"
    grep -qxF "/$G/" .git/info/exclude 2>/dev/null || echo "/$G/" >> .git/info/exclude
    echo "packed $(du -sh "$G/bundle.tar.xz" | cut -f1) into $G/bundle.tar.xz (carry it: carry [\"$G\"])"
}

run_checks() {
    local out=${1:-$G/out}
    mkdir -p "$out"
    [ -d "$G/bin" ] || tar -C "$G" -xJf "$G/bundle.tar.xz" || { echo "no $G/bundle.tar.xz: run pack first"; return 2; }
    # CUDA's libraries: the toolkit's, then any nvidia-* wheel's (cuDNN and cuBLAS ship there with PyTorch).
    local libs=$PWD/$G/lib d
    [ -d /usr/local/cuda/lib64 ] && libs=$libs:/usr/local/cuda/lib64
    for d in $(python3 -c 'import nvidia, os; print(" ".join(os.path.join(p, x, "lib") for p in nvidia.__path__ for x in os.listdir(p)))' 2>/dev/null); do
        [ -d "$d" ] && libs=$libs:$d
    done
    export LD_LIBRARY_PATH=$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    export OIQA_BIN=$PWD/$G/bin OIQA_SHARED=$PWD/$G/shared OIQA_ROOT=$PWD
    local status=0 t
    {
        echo "== machine"
        nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 || echo "no nvidia-smi"
        for t in test_backend test_viewports_gpu test_extractor; do
            echo "== unit: $t"
            "$G/tests/$t" || status=1
        done
        for t in test_device test_viewports_device; do
            echo "== e2e: $t"
            bash "tests/e2e/$t.sh" || status=1
        done
    } > "$out/tests.log" 2>&1
    grep -E '^(FAIL|SKIP) |^  ' "$out/tests.log" | head -80
    echo "tests: $(grep -c '^PASS ' "$out/tests.log") passed, $(grep -c '^FAIL ' "$out/tests.log") failed," \
         "$(grep -c '^SKIP ' "$out/tests.log") skipped (log: $out/tests.log)"
    BENCHBIN=$PWD/$G/bench PY=$(command -v python3) bash bench/run.sh viewports_gpu gpu > "$out/bench.log" 2>&1 ||
        status=1
    grep -E '^(ratio|skipped|oiqa |torch )' "$out/bench.log"
    return $status
}

case "${1:-}" in
    pack) pack ;;
    run) shift; run_checks "$@" ;;
    *) echo "usage: scripts/gpu-check.sh pack | run [OUT]" >&2; exit 2 ;;
esac
