#!/usr/bin/env bash
# Installs the Debian packages oiqa needs, only when something is missing.
#   scripts/install-deps.sh           build + test dependencies (ffmpeg for the h264/hevc families)
#   scripts/install-deps.sh --bench   also the peers the benchmarks compare against
#   scripts/install-deps.sh --check   exit 0 if the build + test dependencies are present, 1 if not
set -euo pipefail

# g++ is nvcc's host compiler for the CUDA backend (CUDA itself comes from /usr/local/cuda).
BUILD_PKGS="gcc g++ make pkg-config libhdf5-dev hdf5-tools libyaml-dev zlib1g-dev libstb-dev libopenblas-dev libopenjp2-7-dev"
# ffmpeg (a program, never linked) codes the h264 and hevc families; without it those two are refused
# with one line and their tests skip. Installed with the build packages, not required by --check.
TEST_PKGS="ffmpeg"
BENCH_PKGS="python3 python3-numpy python3-opencv python3-h5py python3-torch python3-torchvision"

have_build_deps() {
    command -v gcc >/dev/null && command -v g++ >/dev/null && command -v make >/dev/null && command -v pkg-config >/dev/null &&
        command -v h5dump >/dev/null &&
        pkg-config --exists hdf5 yaml-0.1 zlib stb openblas libopenjp2 2>/dev/null
}
have_bench_deps() {
    [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import numpy, cv2, h5py, torch, torchvision' 2>/dev/null
}

install() {
    local sudo=""
    if [ "$(id -u)" != 0 ]; then
        if command -v sudo >/dev/null; then sudo="sudo"; else
            echo "install-deps: missing packages; run as root: apt-get install -y $*" >&2; exit 1
        fi
    fi
    echo "install-deps: installing $*" >&2
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >&2
}

case "${1:-}" in
    --check) have_build_deps; exit $? ;;
    --bench) have_build_deps || install $BUILD_PKGS
             command -v ffmpeg >/dev/null || install $TEST_PKGS
             have_bench_deps || install $BENCH_PKGS ;;
    "")      have_build_deps || install $BUILD_PKGS
             command -v ffmpeg >/dev/null || install $TEST_PKGS ;;
    *) echo "usage: $0 [--check|--bench]" >&2; exit 2 ;;
esac
