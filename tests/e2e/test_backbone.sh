#!/usr/bin/env bash
# End-to-end: oiqa-backbone --arch NAME on real panoramas, against the tools
# that are names for it (oiqa-resnet, oiqa-vmamba): the same features for the
# same settings, on viewports and on whole images; --help per backbone; and
# each bad input (exit code, one stderr line).
source "$(dirname "$0")/lib.sh"
VP=$OIQA_BIN/oiqa-viewports
B=$OIQA_BIN/oiqa-backbone
H5=$OIQA_BIN/oiqa-h5
cd "$TMP" || exit 1

run "$VP" "$PANOS"/city_tonemapped.png "$PANOS"/forest_tonemapped.png --layout cube6 --size 64 -o vp.h5 -q
[ "$RC" -eq 0 ] || { fail backbone_setup "oiqa-viewports failed: $ERR"; e2e_done; }

# --- the same file as oiqa-resnet's on viewports ----------------------------------
run "$B" --arch resnet50 vp.h5 --weights random:3 --blocks layer3,layer4 -o b.h5 -q -j 2
rc_b=$RC
run "$OIQA_BIN/oiqa-resnet" vp.h5 --weights random:3 --blocks layer3,layer4 -o r.h5 -q -j 2
if [ "$rc_b" -eq 0 ] && [ "$RC" -eq 0 ]; then
    run "$H5" diff b.h5 r.h5
    [ "$RC" -eq 0 ] && pass backbone_is_resnet || fail backbone_is_resnet "$OUT $ERR"
else fail backbone_is_resnet "exit $rc_b / $RC: $ERR"; fi
run "$H5" show b.h5
if printf '%s' "$OUT" | grep -q 'arch: resnet50' && printf '%s' "$OUT" | grep -q 'blocks: "\?layer3,layer4'; then
    pass backbone_records_arch; else fail backbone_records_arch "$OUT"; fi

# --- the same file as oiqa-vmamba's on whole images (small input: fast) ------------
IMGS=("$PANOS"/city_tonemapped.png "$PANOS"/night_tonemapped.png)
run "$B" --arch vmamba_t_v0 "${IMGS[@]}" --weights random:2 --height 64 --width 128 --batch 2 -o g.h5 -q
rc_b=$RC
run "$OIQA_BIN/oiqa-vmamba" --arch vmamba_t_v0 "${IMGS[@]}" --weights random:2 --height 64 --width 128 -o v.h5 -q
if [ "$rc_b" -eq 0 ] && [ "$RC" -eq 0 ]; then
    run "$H5" diff g.h5 v.h5 --rtol 1e-5 --atol 1e-5
    [ "$RC" -eq 0 ] && pass backbone_is_vmamba_global || fail backbone_is_vmamba_global "$OUT $ERR"
else fail backbone_is_vmamba_global "exit $rc_b / $RC: $ERR"; fi
run "$H5" ls g.h5
printf '%s' "$OUT" | grep -qE '^/global/stage3/mean +float32 \[2,768\]' && printf '%s' "$OUT" | grep -q '@stage = "global"' &&
    pass backbone_global_layout || fail backbone_global_layout "$(printf '%s' "$OUT" | head -20)"

# --- ResNet-50 on whole images: any backbone on either stage ------------------------
run "$B" --arch resnet50 "${IMGS[@]}" --weights random:1 --height 64 --width 128 --blocks layer4 -o rg.h5 -q
run "$H5" ls rg.h5
[ "$RC" -eq 0 ] && printf '%s' "$OUT" | grep -qE '^/global/layer4/mean +float32 \[2,2048\]' &&
    pass backbone_resnet_global || fail backbone_resnet_global "$OUT $ERR"

# --- the ResNet family: ResNet-18 (BasicBlocks) with its layer3 maps, the cached cut
# a trainable backbone fine-tunes above; and the fixture's ResNet-18 weights
run "$B" --arch resnet18 vp.h5 --weights random:4 --blocks layer3,layer4 --maps -o r18.h5 -q -j 2
run "$H5" ls r18.h5
[ "$RC" -eq 0 ] && printf '%s' "$OUT" | grep -qE '^/original/layer3/map +float16 \[2,6,4,4,256\]' &&
    printf '%s' "$OUT" | grep -qE '^/original/layer4/mean +float32 \[2,6,512\]' &&
    pass backbone_resnet18_maps || fail backbone_resnet18_maps "$OUT $ERR"
R18=$OIQA_SHARED/fixtures/resnet18/resnet18_w8_seed18.pth
if [ -f "$R18" ]; then
    # the fixture is a width-8 ResNet-18: the backbone refuses it (its features are torchvision's 512)
    expect_error backbone_resnet18_narrow_weights 1 'a ResNet-18 of stem width 8 \(layer4 64 channels\): the resnet18 backbone needs torchvision.s width 64' \
        "$B" --arch resnet18 vp.h5 --weights "$R18" -o x.h5 -q
    expect_error backbone_resnet34_wrong_depth 1 'not a torchvision ResNet-34 state dict: .*missing layer1\.2\.conv1\.weight' \
        "$B" --arch resnet34 vp.h5 --weights "$R18" -o x.h5 -q
else echo "SKIP backbone_resnet18_narrow_weights: $R18 absent"; fi

# --- help per backbone ------------------------------------------------------------------
run "$B" --arch vmamba_t_s1l8 --help
[ "$RC" -eq 0 ] && printf '%s' "$OUT" | grep -q 'blocks to keep, from stage0,stage1,stage2,stage3' &&
    printf '%s' "$OUT" | grep -q 'default: 512' && pass backbone_help_per_arch || fail backbone_help_per_arch "$OUT"
run "$B" --help
[ "$RC" -eq 0 ] && printf '%s' "$OUT" | grep -q 'resnet18, resnet34, resnet50, resnet101, resnet152, vmamba_t_v0' && pass backbone_help || fail backbone_help "$OUT"

# --- bad input -------------------------------------------------------------------------
expect_error backbone_no_arch 2 'no backbone: give --arch NAME \(known: resnet18, resnet34, resnet50,' "$B" vp.h5 --weights random:0 -o x.h5
expect_error backbone_unknown_arch 2 "--arch: unknown backbone 'resnet5'" "$B" --arch resnet5 vp.h5 -o x.h5
expect_error backbone_arch_from_config_set 2 "--arch: unknown backbone 'vit'" "$B" --set arch=vit vp.h5 -o x.h5
expect_error backbone_vmamba_family_only 2 '--arch: oiqa-vmamba runs vmamba_t_v0, vmamba_t_s2l5, vmamba_t_s1l8, not resnet50' \
    "$OIQA_BIN/oiqa-vmamba" --arch resnet50 vp.h5 --weights random:0 -o x.h5
expect_error backbone_resnet_no_arch 2 "unknown option '--arch'" "$OIQA_BIN/oiqa-resnet" --arch resnet50 vp.h5 -o x.h5
expect_error backbone_unknown_block 2 "resnet50 has no block 'stage3'" "$B" --arch resnet50 vp.h5 --blocks stage3 \
    --weights random:0 -o x.h5
expect_error backbone_pseudoref_with_images 2 '--pseudoref goes with a viewports.h5 input' "$B" --arch resnet50 \
    "${IMGS[@]}" --pseudoref vp.h5 --weights random:0 -o x.h5
[ ! -e x.h5 ] && [ ! -e x.h5.partial ] && pass backbone_errors_leave_no_output ||
    fail backbone_errors_leave_no_output "$(ls)"
e2e_done
