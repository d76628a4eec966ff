#!/usr/bin/env bash
# End-to-end: oiqa-viewports --device. Without a usable GPU, --device cuda
# runs on the CPU with exactly one warning line and writes the same file as
# --device cpu; --device auto says so in one info line; a bad device name is
# a usage error. With a GPU, --device cuda matches the CPU for every filter
# and layout within the tolerance of geo/viewports_gpu.h (max |diff| <= 1,
# at most 1e-4 of the bytes differ).
source "$(dirname "$0")/lib.sh"
VP=$OIQA_BIN/oiqa-viewports
H5=$OIQA_BIN/oiqa-h5
cd "$TMP" || exit 1
cp "$PANOS"/city_tonemapped.png "$PANOS"/night_tonemapped.png .
IMGS=(city_tonemapped.png night_tonemapped.png)

# Is a GPU usable? --device auto names the GPU in one info line when it uses
# one, and falls back to the CPU silently (the reason is a debug line, -v).
run "$VP" --device auto city_tonemapped.png --size 8 -o probe.h5
if [ "$RC" -ne 0 ]; then
    fail device_auto_runs "rc=$RC $ERR"
    e2e_done
fi
if printf '%s' "$ERR" | grep -q 'running on the GPU'; then GPU=1; else GPU=0; fi
n_device_lines=$(printf '%s\n' "$ERR" | grep -cE 'GPU|CPU')
[ "$n_device_lines" -eq "$GPU" ] && pass device_auto_lines || fail device_auto_lines "stderr: $ERR"
run "$VP" -v --device auto city_tonemapped.png --size 8 -o probe2.h5
why=$(printf '%s\n' "$ERR" | grep -m1 -o 'no usable GPU.*' | sed 's/; running on the CPU$//')

# --- usage errors ---------------------------------------------------------------
expect_error device_bogus 2 "^oiqa-viewports: error: --device: expected one of cpu, cuda, auto, got 'bogus'" \
    "$VP" --device bogus city_tonemapped.png -o bad.h5
[ ! -e bad.h5 ] && [ ! -e bad.h5.partial ] && pass device_bogus_no_output || fail device_bogus_no_output "output left"

# --- the CPU reference ------------------------------------------------------------
run "$VP" -q --device cpu "${IMGS[@]}" --size 64 -o cpu.h5
[ "$RC" -eq 0 ] && [ -z "$ERR" ] && pass device_cpu_quiet || fail device_cpu_quiet "rc=$RC stderr: $ERR"

if [ "$GPU" = 0 ]; then
    # --- no usable GPU: the fallback ------------------------------------------------
    run "$VP" -q --device cuda "${IMGS[@]}" --size 64 -o cuda.h5
    lines=$(printf '%s' "$ERR" | grep -c '')
    if [ "$RC" -ne 0 ]; then fail cuda_fallback_exit0 "rc=$RC stderr: $ERR"
    elif [ "$lines" -ne 1 ]; then fail cuda_fallback_exit0 "stderr has $lines lines, expected 1: $ERR"
    elif ! printf '%s' "$ERR" | grep -qE '^oiqa-viewports: warning: --device cuda: .*running on the CPU'; then
        fail cuda_fallback_exit0 "stderr '$ERR' does not announce the CPU fallback"
    else pass cuda_fallback_exit0; fi
    run "$H5" diff cpu.h5 cuda.h5
    [ "$RC" -eq 0 ] && pass cuda_fallback_same_viewports || fail cuda_fallback_same_viewports "$OUT $ERR"
    run "$VP" -q --device cuda city_tonemapped.png --filter antialias --layout vgcn20 --size 32 -o aa_cuda.h5
    run2_rc=$RC
    run "$VP" -q --device cpu city_tonemapped.png --filter antialias --layout vgcn20 --size 32 -o aa_cpu.h5
    run "$H5" diff aa_cpu.h5 aa_cuda.h5
    [ "$run2_rc" -eq 0 ] && [ "$RC" -eq 0 ] && pass cuda_fallback_antialias_vgcn \
        || fail cuda_fallback_antialias_vgcn "rc=$run2_rc $OUT $ERR"
    skip cuda_matches_cpu "${why:-no usable GPU}"
    e2e_done
fi

# --- a usable GPU: cuda against cpu ---------------------------------------------------
# close A B LABEL: the /viewports of A and B differ by at most 1, in at most 1e-4 of the bytes.
close() {
    local a=$1 b=$2 label=$3
    run "$H5" diff "$a" "$b" --atol 1
    if [ "$RC" -ne 0 ]; then fail "$label" "max |diff| > 1: $OUT $ERR"; return; fi
    "$H5" dump "$a" /viewports > a.csv && "$H5" dump "$b" /viewports > b.csv
    local frac
    frac=$(paste -d, a.csv b.csv | awk -F, 'NR > 1 { h = NF / 2
        for (k = h - 2; k <= h; k++) { n++; if ($k != $(k + h)) d++ } } END { printf "%.3g", d / (n ? n : 1) }')
    awk -v f="$frac" 'BEGIN { exit !(f <= 1e-4) }' && pass "$label" || fail "$label" "$frac of the bytes differ"
}
run "$VP" -q --device cuda "${IMGS[@]}" --size 64 -o cuda.h5
[ "$RC" -eq 0 ] && [ -z "$ERR" ] && pass cuda_runs_quiet || fail cuda_runs_quiet "rc=$RC stderr: $ERR"
close cpu.h5 cuda.h5 cuda_matches_cpu_bilinear
for f in bicubic antialias; do
    run "$VP" -q --device cpu "${IMGS[@]}" --filter $f --size 97 -o cpu_$f.h5
    run "$VP" -q --device cuda "${IMGS[@]}" --filter $f --size 97 -o cuda_$f.h5
    [ "$RC" -eq 0 ] || fail "cuda_matches_cpu_$f" "rc=$RC $ERR"
    close cpu_$f.h5 cuda_$f.h5 "cuda_matches_cpu_$f"
done
run "$VP" -q --device cpu "${IMGS[@]}" --layout vgcn20 --filter antialias --size 33 -o cpu_vgcn.h5
run "$VP" -q --device cuda "${IMGS[@]}" --layout vgcn20 --filter antialias --size 33 -o cuda_vgcn.h5
close cpu_vgcn.h5 cuda_vgcn.h5 cuda_matches_cpu_vgcn20
e2e_done
