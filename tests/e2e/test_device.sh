#!/usr/bin/env bash
# End-to-end: --device on the network stages (oiqa-resnet, oiqa-vmamba).
# Without a usable GPU, --device cuda runs on the CPU, says so in one stderr
# line, and writes the same features as --device cpu; --device auto falls
# back silently under -q. With a GPU, the CUDA features match the CPU ones to
# DESIGN §6's 1e-3. A bad device name is a usage error.
source "$(dirname "$0")/lib.sh"
VP=$OIQA_BIN/oiqa-viewports
R=$OIQA_BIN/oiqa-resnet
V=$OIQA_BIN/oiqa-vmamba
H5=$OIQA_BIN/oiqa-h5
cd "$TMP" || exit 1

run "$VP" "$PANOS"/city_tonemapped.png "$PANOS"/forest_tonemapped.png --layout cube6 --size 64 -o vp.h5 -q
[ "$RC" -eq 0 ] || { fail device_setup "oiqa-viewports failed: $ERR"; e2e_done; }

gpu=0
run "$R" vp.h5 --weights random:5 -o probe.h5 --device auto
printf '%s' "$ERR" | grep -q 'running on the GPU' && gpu=1

# tool name, then the arguments before --device; writes cpu.h5 and cuda.h5.
check_tool() {
    local name=$1; shift
    run "$@" -o "$name-cpu.h5" -q --device cpu
    [ "$RC" -eq 0 ] || { fail "${name}_device_cpu" "exit $RC: $ERR"; return; }
    run "$@" -o "$name-cuda.h5" -q --device cuda
    local lines; lines=$(printf '%s' "$ERR" | grep -c '')
    if [ "$gpu" = 0 ]; then
        if [ "$RC" -eq 0 ] && [ "$lines" -eq 1 ] && printf '%s' "$ERR" | grep -qE 'warning: --device cuda: .*; running on the CPU$'; then
            pass "${name}_cuda_falls_back"; else fail "${name}_cuda_falls_back" "exit $RC, stderr: $ERR"; fi
        run "$H5" diff "$name-cpu.h5" "$name-cuda.h5" --rtol 0 --atol 0
        [ "$RC" -eq 0 ] && pass "${name}_fallback_same_features" || fail "${name}_fallback_same_features" "$OUT $ERR"
        run "$@" -o "$name-auto.h5" -q --device auto
        [ "$RC" -eq 0 ] && [ -z "$ERR" ] && pass "${name}_auto_quiet_on_cpu" ||
            fail "${name}_auto_quiet_on_cpu" "exit $RC, stderr: $ERR"
    else
        [ "$RC" -eq 0 ] && pass "${name}_cuda_runs" || fail "${name}_cuda_runs" "exit $RC: $ERR"
        run "$H5" diff "$name-cpu.h5" "$name-cuda.h5" --rtol 1e-3 --atol 1e-3
        [ "$RC" -eq 0 ] && pass "${name}_cuda_matches_cpu" || fail "${name}_cuda_matches_cpu" "$OUT $ERR"
    fi
}
check_tool resnet "$R" vp.h5 --weights random:5
check_tool vmamba "$V" "$PANOS"/city_tonemapped.png --weights random:5 --height 64 --width 128

# oiqa-vmamba decodes the next batch while the GPU computes the current one;
# OIQA_FORCE_OVERLAP=1 runs that pipeline on the CPU too: the same features,
# and a bad image in a later batch is still one error line, the batches
# before it kept in .partial for --resume, as without the overlap.
ALL=("$PANOS"/*.png)
run "$V" "${ALL[@]:0:5}" --weights random:5 --height 64 --width 128 --batch 2 -o seq.h5 -q --device cpu
run env OIQA_FORCE_OVERLAP=1 "$V" "${ALL[@]:0:5}" --weights random:5 --height 64 --width 128 --batch 2 -o ovl.h5 -q \
    --device cpu
if [ "$RC" -eq 0 ]; then
    run "$H5" diff seq.h5 ovl.h5 --rtol 0 --atol 0
    [ "$RC" -eq 0 ] && pass vmamba_overlap_same_features || fail vmamba_overlap_same_features "$OUT $ERR"
else fail vmamba_overlap_same_features "exit $RC: $ERR"; fi
head -c 3000 "${ALL[3]}" > cut.png
expect_error vmamba_overlap_bad_image 1 "cut.png: not an image.*the 2 finished images are kept" \
    env OIQA_FORCE_OVERLAP=1 "$V" "${ALL[0]}" "${ALL[1]}" "${ALL[2]}" cut.png --weights random:5 --height 64 --width 128 --batch 2 -o ovl2.h5 -q
[ ! -e ovl2.h5 ] && [ -e ovl2.h5.partial ] && pass vmamba_overlap_bad_image_partial ||
    fail vmamba_overlap_bad_image_partial "$(ls)"

expect_error resnet_bad_device 2 "device" "$R" vp.h5 --weights random:5 -o bad.h5 --device tpu
expect_error vmamba_bad_device 2 "device" "$V" "$PANOS"/city_tonemapped.png --weights random:5 -o bad.h5 --device gpu0
[ ! -e bad.h5 ] && [ ! -e bad.h5.partial ] && pass device_bad_leaves_nothing || fail device_bad_leaves_nothing "$(ls)"
e2e_done
