#!/usr/bin/env bash
# End-to-end: oiqa-viewports -> oiqa-pseudoref on real panoramas (small cube6
# viewports keep it fast): layout and attributes, the same bytes on 1 and 2
# threads, error maps in [0, 1], explicit operators, config vs flags,
# pictures, --resume after a killed run, and each bad input (exit code, one
# stderr line, no output left).
source "$(dirname "$0")/lib.sh"
VP=$OIQA_BIN/oiqa-viewports
PR=$OIQA_BIN/oiqa-pseudoref
H5=$OIQA_BIN/oiqa-h5
cd "$TMP" || exit 1

run "$VP" "$PANOS"/city_tonemapped.png "$PANOS"/forest_tonemapped.png "$PANOS"/night_tonemapped.png \
    --layout cube6 --size 64 -o vp.h5 -q
[ "$RC" -eq 0 ] || { fail pseudoref_setup "oiqa-viewports failed: $ERR"; e2e_done; }

# --- defaults: auto / auto -------------------------------------------------------
run "$PR" vp.h5 -o a.h5 -q -j 2 --error-maps
if [ "$RC" -eq 0 ]; then
    run "$H5" ls a.h5
    if printf '%s' "$OUT" | grep -qE '^/restored +uint8 \[3,6,64,64,3\]' &&
        printf '%s' "$OUT" | grep -qE '^/degraded +uint8 \[3,6,64,64,3\]' &&
        printf '%s' "$OUT" | grep -qE '^/detected +int32 \[3,6,2\]' &&
        printf '%s' "$OUT" | grep -qE '^/degrade_applied +int32 \[3,6,2\]' &&
        printf '%s' "$OUT" | grep -qE '^/error_restored +float16 \[3,6,64,64\]' &&
        printf '%s' "$OUT" | grep -q '@stage = "pseudoref"' && printf '%s' "$OUT" | grep -q '@restore = "auto"' &&
        printf '%s' "$OUT" | grep -q '@degrade_fallback = "blur level 1'; then
        pass pseudoref_layout; else fail pseudoref_layout "$(printf '%s' "$OUT" | head -60)"; fi
else fail pseudoref_layout "exit $RC: $ERR"; fi
# names and order follow the viewports
run "$H5" dump vp.h5 /names; vp_names=$OUT
run "$H5" dump a.h5 /names
[ "$OUT" = "$vp_names" ] && pass pseudoref_names_follow_viewports || fail pseudoref_names_follow_viewports "$OUT"
# auto: applied = detected family one level up (6, the table's "beyond", after 5), blur 1 for none
run "$H5" dump a.h5 /detected; det=$OUT
run "$H5" dump a.h5 /degrade_applied
if paste -d, <(printf '%s\n' "$det" | awk -F, 'NR>1 {print $(NF-1), $NF}' | tr ' ' ,) \
        <(printf '%s\n' "$OUT" | awk -F, 'NR>1 {print $(NF-1), $NF}' | tr ' ' ,) |
    awk -F, '{ want_f = $1 < 0 ? 1 : $1; want_l = $1 < 0 ? 1 : $2 + 1
               if ($3 != want_f || $4 != want_l) bad = 1; n++ } END { exit bad || n != 18 }'; then
    pass pseudoref_auto_rule; else fail pseudoref_auto_rule "detected: $det applied: $OUT"; fi
# error maps lie in [0, 1]
run "$H5" stats a.h5 /error_degraded
if [ "$RC" -eq 0 ] && printf '%s' "$OUT" | awk 'NR == 2 { exit !($4 >= 0 && $5 <= 1) }'; then
    pass pseudoref_error_maps_range; else fail pseudoref_error_maps_range "$OUT $ERR"; fi

# --- determinism across thread counts -----------------------------------------
run "$PR" vp.h5 -o b.h5 -q -j 1 --error-maps
run "$H5" diff a.h5 b.h5 --atol 0 --rtol 0
[ "$RC" -eq 0 ] && pass pseudoref_same_on_1_and_2_threads || fail pseudoref_same_on_1_and_2_threads "$OUT $ERR"
# the clean panoramas degrade with blur (no noise); the seed moves noise
run "$PR" vp.h5 -o n.h5 -q --degrade noise
run "$PR" vp.h5 -o s.h5 -q --seed 1 --degrade noise
run "$H5" diff n.h5 s.h5 --atol 0 --rtol 0
[ "$RC" -eq 1 ] && pass pseudoref_seed_matters || fail pseudoref_seed_matters "exit $RC: $OUT"

# --- explicit operators, config file, flags win ----------------------------------
printf 'restore: none\ndegrade: noise\ndegrade-level: 2\n' >pr.yaml
run "$PR" vp.h5 -o c.h5 -q --config pr.yaml --restore denoise
run "$H5" dump c.h5 /degrade_applied
if [ "$RC" -eq 0 ] && [ "$(printf '%s\n' "$OUT" | awk -F, 'NR>1' | cut -d, -f3- | sort -u)" = "2,2" ]; then
    pass pseudoref_explicit_degrade; else fail pseudoref_explicit_degrade "$OUT $ERR"; fi
run "$H5" ls c.h5
if printf '%s' "$OUT" | grep -q '@restore = "denoise"' && ! printf '%s' "$OUT" | grep -q '^/detected'; then
    pass pseudoref_flag_wins_over_config; else fail pseudoref_flag_wins_over_config "$(printf '%s' "$OUT" | head -30)"; fi

# --- pictures ----------------------------------------------------------------------
run "$PR" vp.h5 -o p.h5 -q --sheet sheets --png pngs --restore none --degrade blur
n_png=$(find pngs -name '*_v0[0-5]_*.png' 2>/dev/null | wc -l)
n_sheet=$(find sheets -name '*_pseudoref.png' 2>/dev/null | wc -l)
[ "$RC" -eq 0 ] && [ "$n_png" -eq 54 ] && [ "$n_sheet" -eq 3 ] && pass pseudoref_pictures \
    || fail pseudoref_pictures "exit $RC, $n_png PNGs, $n_sheet sheets: $ERR"

# --- --resume after a killed run -----------------------------------------------
{ OIQA_FAULT_KILL_AFTER_ROWS=1 "$PR" vp.h5 -o k.h5 -q --error-maps >/dev/null 2>&1; } 2>/dev/null
if [ -f k.h5.partial ] && [ ! -f k.h5 ]; then
    run "$PR" vp.h5 -o k.h5 --resume --error-maps
    if [ "$RC" -eq 0 ] && printf '%s' "$ERR" | grep -q '1 of 3 images already done'; then
        run "$H5" diff a.h5 k.h5 --atol 0 --rtol 0
        [ "$RC" -eq 0 ] && pass pseudoref_resume_after_kill || fail pseudoref_resume_after_kill "diff: $OUT $ERR"
    else fail pseudoref_resume_after_kill "exit $RC: $ERR"; fi
else fail pseudoref_resume_after_kill "the killed run left no .partial"; fi

# --- bad input -----------------------------------------------------------------------
expect_error pseudoref_unknown_restore 2 'restore.*sharpen' "$PR" vp.h5 --restore sharpen -o x.h5
expect_error pseudoref_unknown_degrade 2 'degrade.*jpegxl' "$PR" vp.h5 --degrade jpegxl -o x.h5
printf 'degrade: gif\n' >bad.yaml
expect_error pseudoref_unknown_degrade_config 2 "bad\.yaml:1.*degrade" "$PR" vp.h5 --config bad.yaml -o x.h5
expect_error pseudoref_level_6 2 'degrade-level.*6' "$PR" vp.h5 --degrade blur --degrade-level 6 -o x.h5
expect_error pseudoref_level_0 2 'degrade-level.*0' "$PR" vp.h5 --degrade-level 0 -o x.h5
expect_error pseudoref_negative_eps 2 'error-eps' "$PR" vp.h5 --error-maps --error-eps -1 -o x.h5
expect_error pseudoref_no_output 2 'no output' "$PR" vp.h5
expect_error pseudoref_exists 2 'a\.h5' "$PR" vp.h5 -o a.h5
expect_error pseudoref_missing_input 1 'nothere\.h5' "$PR" nothere.h5 -o x.h5
printf 'not hdf5\n' >text.h5
expect_error pseudoref_not_hdf5 1 'text\.h5' "$PR" text.h5 -o x.h5
expect_error pseudoref_wrong_stage 1 'a\.h5.*viewports' "$PR" a.h5 -o x.h5
"$VP" "$PANOS"/city_tonemapped.png --layout cube6 --size 8 -o tiny.h5 -q
expect_error pseudoref_tiny_viewports 1 'tiny\.h5: viewports of 8x8 are below the 16x16' "$PR" tiny.h5 -o x.h5
[ ! -e x.h5 ] && [ ! -e x.h5.partial ] && pass pseudoref_errors_leave_no_output \
    || fail pseudoref_errors_leave_no_output "$(ls x.h5*)"
e2e_done
