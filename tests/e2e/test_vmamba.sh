#!/usr/bin/env bash
# End-to-end: oiqa-vmamba on real panoramas (global features) and on a
# viewports file (per-viewport features), random weights at small sizes to
# keep the suite fast, --resume after a kill, and each bad input.
source "$(dirname "$0")/lib.sh"
V=$OIQA_BIN/oiqa-vmamba
VP=$OIQA_BIN/oiqa-viewports
H5=$OIQA_BIN/oiqa-h5
cd "$TMP" || exit 1
VMF=$OIQA_SHARED/fixtures/vmamba
R50=$OIQA_SHARED/fixtures/resnet50
IMGS=("$PANOS"/city_tonemapped.png "$PANOS"/night_tonemapped.png)

run "$V" "${IMGS[@]}" --weights random:3 --height 64 --width 128 -o g.h5 -q
if [ "$RC" -eq 0 ]; then
    run "$H5" ls g.h5
    if printf '%s' "$OUT" | grep -qE '^/global/stage0/mean +float32 \[2,96\]' &&
        printf '%s' "$OUT" | grep -qE '^/global/stage3/std +float32 \[2,768\]' &&
        printf '%s' "$OUT" | grep -q '@backbone = "vmamba_t_s1l8"' && printf '%s' "$OUT" | grep -q '@stage = "global"' &&
        printf '%s' "$OUT" | grep -q '@input_size = "128x64"'; then
        pass vmamba_global_layout; else fail vmamba_global_layout "$(printf '%s' "$OUT" | head -30)"; fi
else fail vmamba_global_layout "exit $RC: $ERR"; fi
run "$V" "${IMGS[@]}" --weights random:3 --height 64 --width 128 -o g2.h5 -q -j 1 --batch 2
run "$H5" diff g.h5 g2.h5 --rtol 1e-4 --atol 1e-3
[ "$RC" -eq 0 ] && pass vmamba_deterministic_batch_threads || fail vmamba_deterministic_batch_threads "$OUT $ERR"
run "$V" "${IMGS[@]}" --weights random:3 --height 64 --width 128 --blocks stage3 --maps -o m.h5 -q
run "$H5" ls m.h5
printf '%s' "$OUT" | grep -qE '^/global/stage3/map +float16 \[2,2,4,768\]' && pass vmamba_maps \
    || fail vmamba_maps "$(printf '%s' "$OUT" | grep stage3)"

{ OIQA_FAULT_KILL_AFTER_ROWS=1 "$V" "${IMGS[@]}" --weights random:3 --height 64 --width 128 -o k.h5 -q \
    >/dev/null 2>&1; } 2>/dev/null
run "$V" "${IMGS[@]}" --weights random:3 --height 64 --width 128 -o k.h5 --resume
if [ "$RC" -eq 0 ] && printf '%s' "$ERR" | grep -q '1 of 2 images already done'; then
    run "$H5" diff g.h5 k.h5 --rtol 1e-4 --atol 1e-3
    [ "$RC" -eq 0 ] && pass vmamba_resume_after_kill || fail vmamba_resume_after_kill "$OUT $ERR"
else fail vmamba_resume_after_kill "exit $RC: $ERR"; fi

# Per-viewport use: the backbone stage layout, as oiqa-resnet's.
"$VP" "${IMGS[0]}" --layout cube6 --size 64 -o vp.h5 -q
run "$V" vp.h5 --weights random:3 --arch vmamba_t_s2l5 --blocks stage1,stage3 -o pv.h5 -q
run "$H5" ls pv.h5
if printf '%s' "$OUT" | grep -qE '^/original/stage1/mean +float32 \[1,6,192\]' &&
    printf '%s' "$OUT" | grep -q '@stage = "backbone"' && printf '%s' "$OUT" | grep -q '@backbone = "vmamba_t_s2l5"'; then
    pass vmamba_viewports_input; else fail vmamba_viewports_input "$(printf '%s' "$OUT" | head -20)"; fi

# --- bad input --------------------------------------------------------------------
expect_error vmamba_no_weights 2 'no weights' "$V" "${IMGS[@]}" -o x.h5
expect_error vmamba_unknown_arch 2 "arch" "$V" "${IMGS[@]}" --arch vmamba_b --weights random:1 -o x.h5
expect_error vmamba_unknown_block 2 "no block 'stage4'" "$V" "${IMGS[@]}" --weights random:1 --blocks stage4 -o x.h5
expect_error vmamba_pseudoref_with_images 2 'pseudoref goes with a viewports' \
    "$V" "${IMGS[@]}" --weights random:1 --pseudoref p.h5 -o x.h5
"$VP" "${IMGS[0]}" --size 16 --layout cube6 -o tinyvp.h5 -q
expect_error vmamba_tiny_viewports 2 'viewports of 16x16 give stage2 maps of 1x1' "$V" tinyvp.h5 --weights random:1 -o x.h5
"$VP" --root "$PANOS" city_tonemapped.png --size 8 --layout cube6 -o png8.h5 --png png8 -q  # real, tiny PNGs
expect_error vmamba_image_too_small 1 'v00\.png: image too small \(8x8\): vmamba_t_s1l8 needs at least' \
    "$V" png8/city_tonemapped_v00.png --weights random:1 -o x.h5
expect_error vmamba_input_size_too_small 2 'input size 32x16 is below' \
    "$V" "${IMGS[@]}" --weights random:1 --height 16 --width 32 -o x.h5
expect_error vmamba_wrong_stage 1 'g\.h5.*viewports' "$V" g.h5 --weights random:1 -o x.h5
[ ! -e x.h5 ] && [ ! -e x.h5.partial ] && pass vmamba_errors_leave_no_output || fail vmamba_errors_leave_no_output "$(ls x.h5*)"

if [ ! -d "$VMF" ]; then skip vmamba_checkpoints "shared fixtures absent ($OIQA_SHARED/fixtures)"; e2e_done; fi
expect_error vmamba_ckpt_other_size 1 'vmamba_v0_small\.pth: not a VMamba state dict.*mis-shaped patch_embed\.0\.weight is \[16,3,4,4\], expected \[96,3,4,4\]' \
    "$V" "${IMGS[@]}" --arch vmamba_t_v0 --weights "$VMF/vmamba_v0_small.pth" -o x.h5
expect_error vmamba_ckpt_resnet 1 'resnet50_seed0_conv1_to_layer1\.safetensors: not a VMamba state dict' \
    "$V" "${IMGS[@]}" --weights "$R50/resnet50_seed0_conv1_to_layer1.safetensors" -o x.h5
e2e_done
