#!/usr/bin/env bash
# oiqa-h5 end to end: every subcommand on small stores written by
# test_h5store --write-fixtures (and on oiqa-viewports output when that tool
# is built), exit codes, and one-line errors.
. "$(dirname "$0")/lib.sh"
H5=$OIQA_BIN/oiqa-h5
FX=$TMP/fx

if [ ! -x "$H5" ]; then
    skip h5_all "oiqa-h5 is not built"
    e2e_done
fi

# ---- usage -------------------------------------------------------------------
run "$H5" --help
if [ $RC -eq 0 ] && printf '%s' "$OUT" | grep -q 'export-png FILE -o DIR' && printf '%s' "$OUT" | grep -q '^  merge'; then
    pass h5_help
else fail h5_help "rc $RC: $OUT"; fi
ok=1
for c in ls show stats dump diff merge export-png; do
    run "$H5" $c --help
    { [ $RC -eq 0 ] && printf '%s' "$OUT" | grep -q "^Usage: oiqa-h5 $c "; } || { ok=0; fail h5_sub_help "$c: rc $RC"; }
done
[ $ok = 1 ] && pass h5_sub_help
run "$H5" --version
[ $RC -eq 0 ] && printf '%s' "$OUT" | grep -qE '^oiqa-h5 [0-9]' && pass h5_version || fail h5_version "rc $RC: $OUT"

expect_error h5_no_command 2 'no command given' "$H5"
expect_error h5_unknown_command 2 "unknown command 'frobnicate'" "$H5" frobnicate x.h5
expect_error h5_missing_argument 2 'expected 1 argument' "$H5" ls
expect_error h5_unknown_option 2 'oiqa-h5: error: .*--nope' "$H5" ls --nope x.h5
expect_error h5_missing_file 1 'missing\.h5: no such file' "$H5" ls "$TMP/missing.h5"
printf 'not hdf5\n' >"$TMP/text.h5"
expect_error h5_not_hdf5 1 'text\.h5: not an HDF5 file' "$H5" stats "$TMP/text.h5"
expect_error h5_directory 1 ': is a directory' "$H5" diff "$TMP" "$TMP"

# ---- fixtures ----------------------------------------------------------------
WRITER=${OIQA_TESTS:-}/test_h5store
if [ -z "${OIQA_TESTS:-}" ] || [ ! -x "$WRITER" ]; then
    skip h5_fixtures "test_h5store is not built (it writes the fixture stores)"
    e2e_done
fi
mkdir -p "$FX"
if ! "$WRITER" --write-fixtures "$FX" 2>"$TMP/fx.err"; then
    fail h5_fixtures "$(cat "$TMP/fx.err")"
    e2e_done
fi
cd "$FX" || exit 1

# ---- ls ----------------------------------------------------------------------
run "$H5" ls all.h5
if [ $RC -eq 0 ] && printf '%s' "$OUT" | grep -qE '^/viewports +uint8 \[6,2,4,4,3\]  chunks \[1,2,4,4,3\]  shuffle  deflate\(4\)' &&
    printf '%s' "$OUT" | grep -q '@layout = "test2"' && printf '%s' "$OUT" | grep -qE '@inputs = .*\.\.\." \([0-9]+ bytes\)'; then
    pass h5_ls
else fail h5_ls "rc $RC: $OUT"; fi
run "$H5" ls all.h5 --attrs
printf '%s' "$OUT" | grep -q 'img5.png\\", \\"sha256' && pass h5_ls_attrs || fail h5_ls_attrs "$OUT"
run "$H5" ls weird.h5
if [ $RC -eq 0 ] && printf '%s' "$OUT" | grep -q -- '-> /scalar (soft link)' &&
    printf '%s' "$OUT" | grep -q 'external link' && printf '%s' "$OUT" | grep -q 'hard link to a group listed above' &&
    printf '%s' "$OUT" | grep -q 'compound {a: int32, b: float64}'; then
    pass h5_ls_any_hdf5
else fail h5_ls_any_hdf5 "rc $RC: $OUT"; fi

# ---- show --------------------------------------------------------------------
run "$H5" show all.h5
if [ $RC -eq 0 ] && printf '%s' "$OUT" | grep -q '^stage     test' && printf '%s' "$OUT" | grep -q '^inputs    6 files' &&
    printf '%s' "$OUT" | grep -q 'and 1 more (--all lists them)' && printf '%s' "$OUT" | grep -q '^    size: 4'; then
    pass h5_show
else fail h5_show "rc $RC: $OUT"; fi
run "$H5" show all.h5 --all
[ "$(printf '%s\n' "$OUT" | grep -c 'sha256 0')" -eq 6 ] && pass h5_show_all || fail h5_show_all "$OUT"
run "$H5" show partial.h5.partial
[ $RC -eq 0 ] && printf '%s' "$OUT" | grep -q '^complete  0 (the run did not finish' && pass h5_show_partial || fail h5_show_partial "$OUT"
expect_error h5_show_not_oiqa 1 'plain\.h5: not an oiqa feature file \(no oiqa_schema attribute\)' "$H5" show plain.h5

# ---- stats -------------------------------------------------------------------
run "$H5" stats nan.h5
line=$(printf '%s\n' "$OUT" | grep '^/original/layer1/mean ')
if [ $RC -eq 0 ] && [ "$(echo $line | awk '{print $4, $5, $8, $9}')" = "0 5.625 1 1" ]; then
    pass h5_stats
else fail h5_stats "rc $RC: $line"; fi
run "$H5" stats all.h5 /original/layer1/mean --rows
if [ $RC -eq 0 ] && printf '%s' "$OUT" | grep -qE '^    1 +sub/img1\.png +1 +1\.625 +1\.3125' &&
    [ "$(printf '%s\n' "$OUT" | grep -c '^    ')" -eq 6 ]; then
    pass h5_stats_rows
else fail h5_stats_rows "rc $RC: $OUT"; fi
expect_error h5_stats_not_numeric 1 '/names is not numeric \(string\)' "$H5" stats all.h5 /names
run "$H5" stats weird.h5
[ $RC -eq 0 ] && printf '%s' "$OUT" | grep -qE '^/scalar .* 3\.5 +3\.5' && pass h5_stats_any_hdf5 ||
    fail h5_stats_any_hdf5 "rc $RC: $OUT"

# ---- dump --------------------------------------------------------------------
run "$H5" dump all.h5 /centers
[ "$OUT" = "$(printf 'v0,v1,v2\n0,0,90\n180,45.5,90')" ] && pass h5_dump || fail h5_dump "$OUT"
run "$H5" dump all.h5 /original/layer1/mean --rows 1:3
if [ $RC -eq 0 ] && [ "$(printf '%s\n' "$OUT" | head -1)" = "name,i1,v0,v1,v2" ] &&
    [ "$(printf '%s\n' "$OUT" | sed -n 4p)" = "img2.jpg,0,2,2.125,2.25" ] && [ "$(printf '%s\n' "$OUT" | wc -l)" -eq 5 ]; then
    pass h5_dump_rows
else fail h5_dump_rows "$OUT"; fi
run "$H5" dump all.h5 /original/layer1/mean --index "-1,1,:2"
[ "$OUT" = "$(printf 'name,value\nsub/img5.png,5.375\nsub/img5.png,5.5')" ] && pass h5_dump_index || fail h5_dump_index "$OUT"
run "$H5" dump nan.h5 /original/layer1/mean --rows 1 --index ":,0"
[ "$OUT" = "$(printf 'name,v0,v1,v2\nsub/img1.png,nan,1.125,inf')" ] && pass h5_dump_nan || fail h5_dump_nan "$OUT"
run "$H5" dump weird.h5 /strings
[ "$OUT" = "$(printf 'v0,v1\na,"b,c"\n"say ""hi""",12345678')" ] && pass h5_dump_strings || fail h5_dump_strings "$OUT"
run "$H5" dump weird.h5 /deep/a/b/c --index ":,0,0,0,0,0,0,0"
[ "$OUT" = "$(printf 'i0,i8,v0,v1\n0,0,1,2\n1,0,3,65535')" ] && pass h5_dump_index_columns || fail h5_dump_index_columns "$OUT"
run "$H5" dump all.h5 /names
[ "$OUT" = "$(printf 'value\nimg0.jpg\nsub/img1.png\nimg2.jpg\nsub/img3.png\nimg4.jpg\nsub/img5.png')" ] && pass h5_dump_names ||
    fail h5_dump_names "$OUT"
expect_error h5_dump_bad_index 2 "--index '9': axis 0" "$H5" dump all.h5 /centers --index 9
expect_error h5_dump_no_dataset 1 'all\.h5: no dataset /nope' "$H5" dump all.h5 /nope
expect_error h5_dump_compound 1 'dump writes numbers and strings' "$H5" dump weird.h5 /compound

# ---- diff --------------------------------------------------------------------
run "$H5" diff all.h5 reversed.h5
[ $RC -eq 0 ] && printf '%s' "$OUT" | grep -q 'are equal (7 datasets compared)' && pass h5_diff_equal_by_name ||
    fail h5_diff_equal_by_name "rc $RC: $OUT"
run "$H5" diff all.h5 bumped.h5
if [ $RC -eq 1 ] && printf '%s' "$OUT" | grep -q "^/original/layer1/mean: 1 of 36 values differ; max abs diff 0.00099.*first at \[4,0,1\] (row 'img4.jpg')" &&
    [ -z "$ERR" ]; then
    pass h5_diff_differs
else fail h5_diff_differs "rc $RC: $OUT $ERR"; fi
run "$H5" diff all.h5 bumped.h5 --atol 1e-3
[ $RC -eq 0 ] && pass h5_diff_atol || fail h5_diff_atol "rc $RC: $OUT"
run "$H5" diff all.h5 bumped.h5 --rtol 1e-3
[ $RC -eq 0 ] && pass h5_diff_rtol || fail h5_diff_rtol "rc $RC: $OUT"
run "$H5" diff all.h5 bumped.h5 --atol 1e-5 --rtol 1e-5
[ $RC -eq 1 ] && pass h5_diff_tight || fail h5_diff_tight "rc $RC: $OUT"
run "$H5" diff nan.h5 nan.h5
[ $RC -eq 0 ] && pass h5_diff_nan_equal || fail h5_diff_nan_equal "rc $RC: $OUT"
run "$H5" diff all.h5 first4.h5
[ $RC -eq 1 ] && printf '%s' "$OUT" | grep -q "^/names: 2 only in all.h5 (first 'img4.jpg'), 0 only in first4.h5" &&
    pass h5_diff_names || fail h5_diff_names "rc $RC: $OUT"
run "$H5" diff all.h5 plain.h5
[ $RC -eq 1 ] && printf '%s' "$OUT" | grep -q '^/x: only in plain.h5' && pass h5_diff_only_in || fail h5_diff_only_in "$OUT"
run "$H5" diff all.h5 shard2_cfg.h5 --attrs
[ $RC -eq 1 ] && printf '%s' "$OUT" | grep -q '^/@config: ' && pass h5_diff_attrs || fail h5_diff_attrs "$OUT"
expect_error h5_diff_missing 1 'nope\.h5: no such file' "$H5" diff all.h5 nope.h5
expect_error h5_diff_one_arg 2 'expected 2 arguments' "$H5" diff all.h5

# ---- merge -------------------------------------------------------------------
run "$H5" merge shard1.h5 shard2.h5 -o merged.h5
if [ $RC -eq 0 ] && [ -f merged.h5 ] && [ ! -e merged.h5.partial ]; then pass h5_merge; else fail h5_merge "rc $RC: $ERR"; fi
run "$H5" diff merged.h5 all.h5
[ $RC -eq 0 ] && pass h5_merge_equals_single_run || fail h5_merge_equals_single_run "$OUT"
run "$H5" show merged.h5
printf '%s' "$OUT" | grep -qE '^tool      oiqa-h5 [0-9.]+ merge' && printf '%s' "$OUT" | grep -q '^inputs    6 files' &&
    pass h5_merge_provenance || fail h5_merge_provenance "$OUT"
expect_error h5_merge_exists 2 'merged\.h5: exists \(use --force to overwrite\)' "$H5" merge shard1.h5 shard2.h5 -o merged.h5
run "$H5" merge shard2.h5 shard1.h5 -o merged.h5 --force -q
[ $RC -eq 0 ] && pass h5_merge_force || fail h5_merge_force "rc $RC: $ERR"
run "$H5" diff merged.h5 all.h5
[ $RC -eq 0 ] && pass h5_merge_any_order || fail h5_merge_any_order "$OUT"
expect_error h5_merge_config 1 "shard2_cfg\.h5: config differs from shard1\.h5's at line 2: 'size: 5' here, 'size: 4' there" \
    "$H5" merge shard1.h5 shard2_cfg.h5 -o m2.h5
expect_error h5_merge_duplicate 1 "shard2_dup\.h5: 'img2\.jpg' is also in shard1\.h5 \(duplicate name\)" \
    "$H5" merge shard1.h5 shard2_dup.h5 -o m2.h5
expect_error h5_merge_incomplete 1 'partial\.h5\.partial: incomplete \(complete = 0\)' \
    "$H5" merge shard1.h5 partial.h5.partial -o m2.h5
expect_error h5_merge_not_oiqa 1 'plain\.h5: not an oiqa feature file' "$H5" merge shard1.h5 plain.h5 -o m2.h5
expect_error h5_merge_no_output 2 'no output: give -o' "$H5" merge shard1.h5 shard2.h5
[ ! -e m2.h5 ] && [ ! -e m2.h5.partial ] && pass h5_merge_leaves_nothing || fail h5_merge_leaves_nothing "$(ls)"

# ---- export-png --------------------------------------------------------------
png_ok() { [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ]; }
run "$H5" export-png all.h5 -o png -q
if [ $RC -eq 0 ] && [ "$(find png -name '*.png' | wc -l)" -eq 12 ] && png_ok png/sub/img1_v01.png && png_ok png/img0_v00.png; then
    pass h5_export_png
else fail h5_export_png "rc $RC: $ERR $(find png | head)"; fi
run "$H5" export-png all.h5 -o sheets --sheet --rows 1:3 -q
if [ $RC -eq 0 ] && [ "$(find sheets -name '*.png' | wc -l)" -eq 2 ] && png_ok sheets/sub/img1_sheet.png && png_ok sheets/img2_sheet.png; then
    pass h5_export_sheet
else fail h5_export_sheet "rc $RC: $ERR $(find sheets)"; fi
expect_error h5_export_wrong_dataset 1 'all\.h5: /centers is float32 \[2,3\], expected uint8' \
    "$H5" export-png all.h5 -o png3 --dataset /centers
expect_error h5_export_no_dir 2 'no output: give -o DIR' "$H5" export-png all.h5

# ---- on real viewports, when oiqa-viewports is built -------------------------
VP=$OIQA_BIN/oiqa-viewports
if [ ! -x "$VP" ]; then
    skip h5_viewports "oiqa-viewports is not built"
else
    imgs=(city_tonemapped.png forest_tonemapped.png night_tonemapped.png studio_tonemapped.png)
    common=(--root "$PANOS" --layout cube6 --size 32 --compress 3 -q)
    if "$VP" "${common[@]}" "${imgs[@]}" -o vp_all.h5 2>"$TMP/vp.err" &&
        "$VP" "${common[@]}" "${imgs[@]:0:2}" -o vp_a.h5 2>>"$TMP/vp.err" &&
        "$VP" "${common[@]}" "${imgs[@]:2:2}" -o vp_b.h5 2>>"$TMP/vp.err"; then
        run "$H5" merge vp_a.h5 vp_b.h5 -o vp_merged.h5 -q
        run2_rc=$RC
        run "$H5" diff vp_merged.h5 vp_all.h5
        [ $run2_rc -eq 0 ] && [ $RC -eq 0 ] && pass h5_viewports_merge || fail h5_viewports_merge "rc $run2_rc/$RC: $OUT"
        run "$H5" show vp_merged.h5
        printf '%s' "$OUT" | grep -q '^stage     viewports' && printf '%s' "$OUT" | grep -q '^    layout: cube6' &&
            pass h5_viewports_show || fail h5_viewports_show "$OUT"
        run "$H5" dump vp_all.h5 /centers
        [ "$(printf '%s\n' "$OUT" | head -2)" = "$(printf 'lon_deg,lat_deg,fov_deg\n0,0,90')" ] && pass h5_viewports_dump_columns ||
            fail h5_viewports_dump_columns "$OUT"
        run "$H5" export-png vp_all.h5 -o vp_sheets --sheet -q
        [ $RC -eq 0 ] && png_ok vp_sheets/studio_tonemapped_sheet.png && pass h5_viewports_sheets ||
            fail h5_viewports_sheets "rc $RC: $ERR"
        "$VP" --root "$PANOS" --layout cube6 --size 32 --compress 3 --filter bicubic -q "${imgs[@]}" -o vp_bicubic.h5 2>/dev/null
        run "$H5" diff vp_all.h5 vp_bicubic.h5
        d1=$RC
        run "$H5" diff vp_all.h5 vp_bicubic.h5 --atol 255
        [ $d1 -eq 1 ] && [ $RC -eq 0 ] && pass h5_viewports_diff_tolerance || fail h5_viewports_diff_tolerance "rc $d1/$RC"
    else
        fail h5_viewports "oiqa-viewports failed: $(head -3 "$TMP/vp.err")"
    fi
fi

e2e_done
