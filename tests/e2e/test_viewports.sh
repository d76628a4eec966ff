#!/usr/bin/env bash
# End-to-end: oiqa-viewports on the shipped panoramas, its outputs, and every
# bad input of issue 2 (exit code, one-line error naming the file, no output).
source "$(dirname "$0")/lib.sh"
VP=$OIQA_BIN/oiqa-viewports
H5=$OIQA_BIN/oiqa-h5
cd "$TMP" || exit 1
cp "$PANOS"/city_tonemapped.png "$PANOS"/forest_tonemapped.png "$PANOS"/night_tonemapped.png .

# --- a normal run, its file and its pictures --------------------------------
run "$VP" -q city_tonemapped.png forest_tonemapped.png -o vp.h5 --png png --sheet sheets
if [ "$RC" -eq 0 ] && [ -f vp.h5 ] && [ ! -e vp.h5.partial ]; then pass basic_run; else fail basic_run "rc=$RC $ERR"; fi
[ -z "$ERR" ] && pass quiet_is_quiet || fail quiet_is_quiet "stderr: $ERR"
run h5dump -H vp.h5
if [ "$RC" -eq 0 ] && printf '%s' "$OUT" | grep -q 'DATASPACE  SIMPLE { ( 2, 20, 224, 224, 3 )'; then
    pass h5dump_reads_viewports; else fail h5dump_reads_viewports "rc=$RC"; fi
run "$H5" show vp.h5
for key in 'stage.*viewports' 'tool.*oiqa-viewports' 'complete.*1' 'layout: icosa20' 'size: 224' 'sha256'; do
    printf '%s' "$OUT" | grep -qE "$key" || { fail provenance "'$key' not in oiqa-h5 show: $OUT"; break; }
done && pass provenance
n_png=$(ls png/city_tonemapped_v*.png 2>/dev/null | wc -l)
[ "$n_png" -eq 20 ] && [ -f png/forest_tonemapped_v19.png ] && pass png_per_viewport || fail png_per_viewport "$n_png pngs"
[ -f sheets/city_tonemapped_sheet.png ] && [ -f sheets/forest_tonemapped_sheet.png ] && pass contact_sheets \
    || fail contact_sheets "missing"

# --- threads do not change the result; -j1 vs -j2 --------------------------
run "$VP" -q -j 1 city_tonemapped.png forest_tonemapped.png -o vp_j1.h5
run "$H5" diff vp.h5 vp_j1.h5
[ "$RC" -eq 0 ] && pass deterministic_across_threads || fail deterministic_across_threads "$OUT $ERR"

# --- layouts, filters, config, stdin and @list ------------------------------
run "$VP" -q city_tonemapped.png --layout cube6 --size 64 -o cube.h5
run "$H5" ls cube.h5
printf '%s' "$OUT" | grep -qE '/viewports.*\[1, ?6, ?64, ?64, ?3\]' && pass layout_cube6 || fail layout_cube6 "$OUT"
run "$VP" -q city_tonemapped.png forest_tonemapped.png --layout vgcn20 --size 32 -o vgcn.h5
run "$H5" ls vgcn.h5
printf '%s' "$OUT" | grep -qE '/centers.*\[2, ?20, ?3\]' && pass layout_vgcn20_per_image_centers \
    || fail layout_vgcn20_per_image_centers "$OUT"
for f in bicubic antialias; do
    run "$VP" -q city_tonemapped.png --filter $f --size 48 -o f_$f.h5
    [ "$RC" -eq 0 ] && pass "filter_$f" || fail "filter_$f" "$ERR"
done
cat > list.yaml <<'YAML'
# two explicit viewports
layout: list
size: 32
centers:
  - {lon: 0, lat: 0}
  - {lon: -180, lat: 45, fov: 60}
YAML
run "$VP" -q --config list.yaml city_tonemapped.png -o list.h5
run "$H5" dump list.h5 /centers
if printf '%s' "$OUT" | grep -qE '^-180(\.0+)?,45(\.0+)?,60(\.0+)?$'; then pass layout_list_from_config; else
    fail layout_list_from_config "$OUT $ERR"; fi
run "$VP" -q --config list.yaml --set size=40 city_tonemapped.png -o list40.h5
run "$H5" ls list40.h5
printf '%s' "$OUT" | grep -qE '\[1, ?2, ?40, ?40, ?3\]' && pass set_overrides_config || fail set_overrides_config "$OUT"
printf 'city_tonemapped.png\n# comment\nforest_tonemapped.png\n' > names.txt
run "$VP" -q @names.txt -o at.h5 --size 32
run "$H5" ls at.h5
printf '%s' "$OUT" | grep -qE '/viewports.*\[2,' && pass at_list_inputs || fail at_list_inputs "$OUT $ERR"
printf 'forest_tonemapped.png\n' | "$VP" -q - -o stdin.h5 --size 32 2>/dev/null
run "$H5" dump stdin.h5 /names
printf '%s' "$OUT" | grep -q forest_tonemapped.png && pass stdin_inputs || fail stdin_inputs "$OUT"
mkdir -p ds/sub && cp city_tonemapped.png ds/sub/a.png
run "$VP" -q --root ds sub/a.png -o root.h5 --size 32
run "$H5" dump root.h5 /names
printf '%s' "$OUT" | grep -qx 'sub/a.png' && pass names_relative_to_root || fail names_relative_to_root "$OUT"

# --- bad input ----------------------------------------------------------------
expect_error missing_file 1 '^oiqa-viewports: error: nope\.png: no such file' "$VP" nope.png -o bad.h5
expect_error directory 1 'error: ds: is a directory' "$VP" ds -o bad.h5
echo "not an image" > text.png
expect_error non_image 1 'error: text\.png: not an image' "$VP" text.png -o bad.h5
head -c 6000 "$OIQA_ROOT/tests/data/city_512.jpg" > trunc.jpg
expect_error truncated_jpeg 1 'error: trunc\.jpg: not an image \(truncated' "$VP" trunc.jpg -o bad.h5
head -c 100000 city_tonemapped.png > trunc.png
expect_error truncated_png 1 'error: trunc\.png: not an image \(truncated' "$VP" trunc.png -o bad.h5
: > empty.png
expect_error zero_byte_file 1 'error: empty\.png: empty file' "$VP" empty.png -o bad.h5
expect_error one_pixel 1 'one_pixel\.png: image too small \(1x1\)' "$VP" "$OIQA_ROOT/tests/data/one_pixel.png" -o bad.h5 --allow-aspect
expect_error one_pixel_aspect 1 'one_pixel\.png: (image too small|not a 2:1)' "$VP" "$OIQA_ROOT/tests/data/one_pixel.png" -o bad.h5
printf '\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x01\x86\xa0\x00\x00\xc3\x50\x08\x02\x00\x00\x00\x00\x00\x00\x00' > huge.png
expect_error pixel_limit 1 'huge\.png: declares 100000x50000 pixels, above the limit' "$VP" huge.png -o bad.h5
expect_error not_2to1 1 'square_64\.png: not a 2:1 equirectangular image \(64x64\).*--allow-aspect' \
    "$VP" "$OIQA_ROOT/tests/data/square_64.png" -o bad.h5
run "$VP" -q "$OIQA_ROOT/tests/data/square_64.png" -o square.h5 --allow-aspect --size 16
[ "$RC" -eq 0 ] && pass allow_aspect_accepts || fail allow_aspect_accepts "$ERR"
[ ! -e bad.h5 ] && [ ! -e bad.h5.partial ] && pass bad_input_leaves_no_output || fail bad_input_leaves_no_output "$(ls bad.h5*)"
# (root ignores permissions, so: a parent that is a regular file, and /proc)
expect_error unwritable_output 1 'error: city_tonemapped\.png/out\.h5' "$VP" forest_tonemapped.png -o city_tonemapped.png/out.h5
expect_error unwritable_output_proc 1 'error: /proc/oiqa-out\.h5' "$VP" forest_tonemapped.png -o /proc/oiqa-out.h5
expect_error existing_output 2 'error: vp\.h5: .*--force' "$VP" city_tonemapped.png -o vp.h5
run "$VP" -q city_tonemapped.png -o vp.h5 --force --size 32
[ "$RC" -eq 0 ] && pass force_overwrites || fail force_overwrites "$ERR"
printf 'sise: 224\n' > unknown.yaml
expect_error config_unknown_key 2 "unknown\.yaml:1: unknown key 'sise'" "$VP" --config unknown.yaml city_tonemapped.png -o bad.h5
printf 'layout: icosa20\nsize: big\n' > wrongtype.yaml
expect_error config_wrong_type 2 "wrongtype\.yaml:2: key 'size': expected an integer" "$VP" --config wrongtype.yaml city_tonemapped.png -o bad.h5
expect_error config_bad_enum 2 "layout" "$VP" --layout dodeca city_tonemapped.png -o bad.h5
expect_error no_output_option 2 '-o' "$VP" city_tonemapped.png
expect_error unknown_option 2 "unknown option '--sise'" "$VP" --sise 3 city_tonemapped.png -o bad.h5
expect_error list_without_centers 2 'layout list needs centers' "$VP" --layout list city_tonemapped.png -o bad.h5
printf 'layout: list\ncenters:\n  - {lon: 0, lat: 0, roll: 3}\n' > badlist.yaml
expect_error list_unknown_key 2 "badlist\.yaml:3: unknown key 'roll'" "$VP" --config badlist.yaml city_tonemapped.png -o bad.h5
expect_error duplicate_name 2 'city_tonemapped\.png: given twice' "$VP" city_tonemapped.png city_tonemapped.png -o bad.h5
run "$VP" --help
printf '%s' "$OUT" | grep -q -- '--layout' && printf '%s' "$OUT" | grep -q 'default: icosa20' && \
    printf '%s' "$OUT" | grep -q 'Example' && pass help_lists_options || fail help_lists_options "$OUT"
run "$VP" --version
printf '%s' "$OUT" | grep -qE '^oiqa-viewports [0-9]+\.[0-9]+\.[0-9]+' && pass version || fail version "$OUT"

# --- a run killed midway, then --resume ----------------------------------------
for i in 1 2 3 4 5; do cp night_tonemapped.png n$i.png; done
OIQA_FAULT_KILL_AFTER_ROWS=2 "$VP" -q -j 1 n1.png n2.png n3.png n4.png n5.png -o killed.h5 --size 32 2>/dev/null
rc=$?
if [ $rc -eq 137 ] && [ -f killed.h5.partial ] && [ ! -e killed.h5 ]; then pass killed_leaves_only_partial; else
    fail killed_leaves_only_partial "rc=$rc; $(ls killed.h5* 2>&1)"; fi
expect_error partial_needs_resume 2 'killed\.h5.*--resume' "$VP" n1.png n2.png n3.png n4.png n5.png -o killed.h5 --size 32
expect_error resume_other_config 2 'killed\.h5.*(config|size)' "$VP" --resume n1.png n2.png n3.png n4.png n5.png -o killed.h5 --size 48
run "$VP" --resume -j 1 n1.png n2.png n3.png n4.png n5.png -o killed.h5 --size 32
if [ "$RC" -eq 0 ] && [ -f killed.h5 ] && [ ! -e killed.h5.partial ] && printf '%s' "$ERR" | grep -q '2 of 5 images already done'; then
    pass resume_completes; else fail resume_completes "rc=$RC $ERR"; fi
run "$VP" -q -j 1 n1.png n2.png n3.png n4.png n5.png -o straight.h5 --size 32
run "$H5" diff killed.h5 straight.h5
[ "$RC" -eq 0 ] && pass resumed_equals_uninterrupted || fail resumed_equals_uninterrupted "$OUT $ERR"
run "$H5" show killed.h5 --all
[ "$(printf '%s' "$OUT" | grep -c 'sha256')" -ge 5 ] && pass resumed_inputs_complete || fail resumed_inputs_complete "$OUT"

e2e_done
