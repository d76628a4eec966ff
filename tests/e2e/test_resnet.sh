#!/usr/bin/env bash
# End-to-end: oiqa-viewports -> oiqa-resnet on real panoramas, with random
# weights and with the shared torchvision checkpoint; determinism, --resume
# after a killed run, and each bad input (exit code, one stderr line).
source "$(dirname "$0")/lib.sh"
VP=$OIQA_BIN/oiqa-viewports
R=$OIQA_BIN/oiqa-resnet
H5=$OIQA_BIN/oiqa-h5
cd "$TMP" || exit 1
R50=$OIQA_SHARED/fixtures/resnet50
VM=$OIQA_SHARED/fixtures/vmamba

# Small viewports keep the suite fast: cube6 at 64 px gives layer4 maps of 2x2.
run "$VP" "$PANOS"/city_tonemapped.png "$PANOS"/forest_tonemapped.png "$PANOS"/night_tonemapped.png \
    --layout cube6 --size 64 -o vp.h5 -q
[ "$RC" -eq 0 ] || { fail resnet_setup "oiqa-viewports failed: $ERR"; e2e_done; }

# --- random weights: shapes, attributes, determinism --------------------------
run "$R" vp.h5 --weights random:7 -o a.h5 -q -j 2
run_b() { run "$R" vp.h5 --weights random:7 -o b.h5 -q -j 1 --batch 4; }
if [ "$RC" -eq 0 ]; then
    run "$H5" ls a.h5
    if printf '%s' "$OUT" | grep -qE '^/original/layer2/mean +float32 \[3,6,512\]' &&
        printf '%s' "$OUT" | grep -qE '^/original/layer4/std +float32 \[3,6,2048\]' &&
        printf '%s' "$OUT" | grep -q '@weights = "random:7"' && printf '%s' "$OUT" | grep -q '@weights_random = 1' &&
        printf '%s' "$OUT" | grep -q '@stage = "backbone"' && ! printf '%s' "$OUT" | grep -q '/original/layer1'; then
        pass resnet_random_weights_layout; else fail resnet_random_weights_layout "$(printf '%s' "$OUT" | head -40)"; fi
else fail resnet_random_weights_layout "exit $RC: $ERR"; fi
# Same seed, other thread count and batch size: the same features to float
# rounding (other GEMM blockings sum in other orders; layer4 values reach
# ~60, so 1e-3 absolute is within DESIGN §6's 1e-4 of the largest value).
run_b
run "$H5" diff a.h5 b.h5 --rtol 1e-4 --atol 1e-3
[ "$RC" -eq 0 ] && pass resnet_random_deterministic || fail resnet_random_deterministic "$OUT $ERR"
run "$H5" stats a.h5
if [ "$RC" -eq 0 ] && ! printf '%s' "$OUT" | awk 'NR>1 && ($(NF-1) != 0 || $NF != 0) {bad=1} END {exit !bad}'; then
    pass resnet_features_finite; else fail resnet_features_finite "$OUT"; fi

# --- maps, pooled ---------------------------------------------------------------
run "$R" vp.h5 --weights random:7 --blocks layer3 --maps --map-size 2 -o m.h5 -q
run "$H5" ls m.h5
if printf '%s' "$OUT" | grep -qE '^/original/layer3/map +float16 \[3,6,2,2,1024\]'; then
    pass resnet_maps_pooled; else fail resnet_maps_pooled "$(printf '%s' "$OUT" | grep layer3)"; fi

# --- --resume after a killed run -----------------------------------------------
# (the shell reports the SIGKILL; keep that line out of the log)
{ OIQA_FAULT_KILL_AFTER_ROWS=1 "$R" vp.h5 --weights random:7 -o k.h5 -q >/dev/null 2>&1; } 2>/dev/null
if [ -f k.h5.partial ] && [ ! -f k.h5 ]; then
    run "$R" vp.h5 --weights random:7 -o k.h5 --resume
    if [ "$RC" -eq 0 ] && printf '%s' "$ERR" | grep -q '1 of 3 images already done'; then
        run "$H5" diff a.h5 k.h5 --rtol 1e-4 --atol 1e-3
        [ "$RC" -eq 0 ] && pass resnet_resume_after_kill || fail resnet_resume_after_kill "diff: $OUT $ERR"
    else fail resnet_resume_after_kill "exit $RC: $ERR"; fi
else fail resnet_resume_after_kill "the killed run left no .partial"; fi
{ OIQA_FAULT_KILL_AFTER_ROWS=1 "$R" vp.h5 --weights random:7 -o k2.h5 -q >/dev/null 2>&1; } 2>/dev/null
expect_error resnet_resume_other_config 2 'k2\.h5\.partial: config differs.*random:8' \
    "$R" vp.h5 --weights random:8 -o k2.h5 --resume -q

# --- bad input -------------------------------------------------------------------
expect_error resnet_no_weights 2 'no weights: give --weights' "$R" vp.h5 -o x.h5
expect_error resnet_bad_seed 2 "weights 'random:seven'" "$R" vp.h5 --weights random:seven -o x.h5
expect_error resnet_no_output 2 'no output' "$R" vp.h5 --weights random:1
expect_error resnet_unknown_block 2 "no block 'layer5'" "$R" vp.h5 --weights random:1 --blocks layer5 -o x.h5
expect_error resnet_exists 2 'a\.h5' "$R" vp.h5 --weights random:1 -o a.h5
expect_error resnet_missing_input 1 'nothere\.h5' "$R" nothere.h5 --weights random:1 -o x.h5
printf 'not hdf5\n' >text.h5
expect_error resnet_not_hdf5 1 'text\.h5' "$R" text.h5 --weights random:1 -o x.h5
expect_error resnet_wrong_stage 1 'a\.h5.*viewports' "$R" a.h5 --weights random:1 -o x.h5
expect_error resnet_wrong_pseudoref_stage 1 'vp\.h5.*pseudoref' "$R" vp.h5 --pseudoref vp.h5 --weights random:1 -o x.h5
expect_error resnet_missing_weights 1 'nothere\.pth: (cannot open|no such file)' "$R" vp.h5 --weights nothere.pth -o x.h5
expect_error resnet_weights_not_ckpt 1 'text\.h5: .*not an oiqa weight file|text\.h5: not a checkpoint' \
    "$R" vp.h5 --weights text.h5 -o x.h5
"$VP" "$PANOS"/city_tonemapped.png --layout cube6 --size 16 -o tiny.h5 -q
expect_error resnet_tiny_viewports 2 'viewports of 16x16 give layer3 maps of 1x1' "$R" tiny.h5 --weights random:1 -o x.h5
[ ! -e x.h5 ] && [ ! -e x.h5.partial ] && pass resnet_errors_leave_no_output \
    || fail resnet_errors_leave_no_output "$(ls x.h5*)"

if [ ! -d "$R50" ]; then
    skip resnet_checkpoints "shared fixtures absent ($OIQA_SHARED/fixtures); set OIQA_SHARED"
    e2e_done
fi
# --- checkpoints users bring ----------------------------------------------------
run "$R" vp.h5 --weights "$R50/resnet50_seed0.pth" --blocks layer1,layer4 -o p.h5 -q
sha=$(sha256sum "$R50/resnet50_seed0.pth" | cut -d' ' -f1)
run "$H5" ls p.h5
if printf '%s' "$OUT" | grep -q '@weights = "resnet50_seed0.pth"' && printf '%s' "$OUT" | grep -q "${sha:0:40}" &&
    printf '%s' "$OUT" | grep -qE '^/original/layer1/mean +float32 \[3,6,256\]'; then
    pass resnet_pth_weights; else fail resnet_pth_weights "$(printf '%s' "$OUT" | head -30)"; fi
expect_error resnet_ckpt_partial 1 'not a torchvision ResNet-50 state dict: [0-9]+ missing.*missing layer2\.0\.conv1\.weight' \
    "$R" vp.h5 --weights "$R50/resnet50_seed0_conv1_to_layer1.safetensors" -o x.h5
expect_error resnet_ckpt_other_arch 1 'vmamba_v0_small\.pth: not a torchvision ResNet-50 state dict.*unexpected' \
    "$R" vp.h5 --weights "$VM/vmamba_v0_small.pth" -o x.h5
e2e_done
