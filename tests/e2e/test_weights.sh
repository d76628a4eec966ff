#!/usr/bin/env bash
# End-to-end: oiqa-weights ls / convert / verify on the shared checkpoint
# fixtures, and its errors (exit code, exactly one stderr line naming the problem).
source "$(dirname "$0")/lib.sh"
W=$OIQA_BIN/oiqa-weights
cd "$TMP" || exit 1
R50=$OIQA_SHARED/fixtures/resnet50
VM=$OIQA_SHARED/fixtures/vmamba

# --- usage errors need no fixtures ------------------------------------------
expect_error weights_no_command 2 'no command given' "$W"
expect_error weights_unknown_command 2 "unknown command 'frob'" "$W" frob x
expect_error weights_missing_file 1 'missing\.pth: cannot open' "$W" ls missing.pth
expect_error weights_verify_missing_file 1 'missing\.pth: cannot open' "$W" verify missing.pth --arch resnet50
expect_error weights_unknown_arch 2 "unknown architecture 'alexnet' \(known: resnet18, resnet34, resnet50, resnet101, resnet152, vmamba" \
    "$W" verify missing.pth --arch alexnet
expect_error weights_verify_needs_arch 2 'give --arch NAME' "$W" verify missing.pth
expect_error weights_convert_needs_out 2 'no output' "$W" convert missing.pth
printf 'not hdf5\n' >text.pth
expect_error weights_not_a_checkpoint 1 'text\.pth: not a checkpoint' "$W" ls text.pth

if [ ! -d "$R50" ] || [ ! -d "$VM" ]; then
    skip weights_fixtures "shared fixtures absent ($OIQA_SHARED/fixtures); set OIQA_SHARED"
    e2e_done
fi

# --- ls on .pth and .safetensors --------------------------------------------
run "$W" ls "$R50/resnet50_seed0_conv1_to_layer1.safetensors"
if [ "$RC" -eq 0 ] && printf '%s' "$OUT" | head -1 | grep -q 'safetensors, 66 tensors' &&
    printf '%s' "$OUT" | grep -qE '^conv1\.weight +F32 +\[64,3,7,7\]$' &&
    printf '%s' "$OUT" | grep -qE '^bn1\.num_batches_tracked +I64 +\[\]$'; then
    pass weights_ls_safetensors; else fail weights_ls_safetensors "rc=$RC $(printf '%s' "$OUT" | head -3) $ERR"; fi
run "$W" ls "$VM/vmamba_v2_small.pth"
if [ "$RC" -eq 0 ] && printf '%s' "$OUT" | head -1 | grep -q "torch, [0-9]* tensors, dict 'model'" &&
    printf '%s' "$OUT" | grep -qE '^patch_embed\.0\.weight +F32 +\[8,3,3,3\]$'; then
    pass weights_ls_pth; else fail weights_ls_pth "rc=$RC $(printf '%s' "$OUT" | head -3) $ERR"; fi
run "$W" ls "$VM/vmamba_v2_small.pth" --dict ''
[ "$RC" -eq 0 ] && printf '%s' "$OUT" | head -1 | grep -q "dict ''" && pass weights_ls_dict_top \
    || fail weights_ls_dict_top "rc=$RC $(printf '%s' "$OUT" | head -2) $ERR"

# --- convert the full ResNet-50 and verify the result -------------------------
run "$W" convert "$R50/resnet50_seed0.pth" -o r50.h5 --arch resnet50 -q
if [ "$RC" -eq 0 ] && [ -f r50.h5 ] && [ ! -e r50.h5.partial ]; then pass weights_convert; else
    fail weights_convert "rc=$RC $ERR"; fi
run "$W" verify r50.h5 --arch resnet50
[ "$RC" -eq 0 ] && [ "$OUT" = "r50.h5: fits resnet50 (320 tensors)" ] && pass weights_verify_h5 \
    || fail weights_verify_h5 "rc=$RC '$OUT' $ERR"
run "$W" ls r50.h5
ls_pth=$("$W" ls "$R50/resnet50_seed0.pth" | tail -n +2)
[ "$RC" -eq 0 ] && [ "$(printf '%s' "$OUT" | tail -n +2)" = "$ls_pth" ] && pass weights_ls_h5_matches_pth \
    || fail weights_ls_h5_matches_pth "listings differ"
run "$OIQA_BIN/oiqa-h5" ls r50.h5 --attrs
for key in 'oiqa_weights_schema' 'arch.*resnet50' 'source.*resnet50_seed0\.pth' 'source_sha256' \
    'source_format.*torch' 'tool.*oiqa-weights' 'created' 'command'; do
    printf '%s' "$OUT" | grep -qE "$key" || { missing=$key; break; }
done
[ -z "${missing:-}" ] && pass weights_h5_attributes || fail weights_h5_attributes "'$missing' not in oiqa-h5 ls: $ERR"
expect_error weights_existing_output 2 'r50\.h5: exists' \
    "$W" convert "$R50/resnet50_seed0.pth" -o r50.h5
run "$W" convert "$VM/vmamba_v2_small.pth" -o r50.h5 --force -q
[ "$RC" -eq 0 ] && pass weights_force || fail weights_force "rc=$RC $ERR"

# --- mismatches -------------------------------------------------------------
expect_error weights_verify_subset 1 'not a torchvision ResNet-50 state dict: .*missing layer2\.0\.conv1\.weight' \
    "$W" verify "$R50/resnet50_seed0_conv1_to_layer1.safetensors" --arch resnet50
expect_error weights_convert_arch_mismatch 1 'not a torchvision ResNet-50' \
    "$W" convert "$VM/vmamba_v2_small.pth" -o vm.h5 --arch resnet50
[ ! -e vm.h5 ] && [ ! -e vm.h5.partial ] && pass weights_no_output_on_mismatch \
    || fail weights_no_output_on_mismatch "output left behind"
expect_error weights_other_hdf5 1 'not an oiqa weight file' "$W" ls "$R50/resnet50_io.h5"
e2e_done
