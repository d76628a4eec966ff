#!/usr/bin/env bash
# End-to-end: libcommon keeps its layers (docs/layers.md): no include of a
# higher or same-rank folder, no circle between files (scripts/check-layers.sh);
# and the checker itself finds both kinds of fault in a planted tree.
source "$(dirname "$0")/lib.sh"
CHECK=$OIQA_ROOT/scripts/check-layers.sh

# --- the real tree --------------------------------------------------------------
cd "$OIQA_ROOT" || exit 1
run scripts/check-layers.sh --quiet
if [ "$RC" -eq 0 ] && [ -z "$OUT" ]; then pass layers_no_upward_includes_no_circles
else fail layers_no_upward_includes_no_circles "exit $RC:
$OUT$ERR"; fi

# --- a planted tree: one upward include, one circle, the rest clean ----------------
T=$TMP/tree
mkdir -p "$T/base" "$T/io" "$T/nn/cuda" "$T/iqa" "$T/stage"
printf '/* a leaf */\nint base_leaf(void);\n' >"$T/base/leaf.h"
printf '#include "base/leaf.h"\nint base_leaf(void) { return 1; }\n' >"$T/base/leaf.c"
# base/up.c reaches up to io: the planted layer fault.
printf '#include "io/store.h"\nint base_up(void) { return io_store(); }\n' >"$T/base/up.c"
printf '#include "base/leaf.h"\nint io_store(void);\n' >"$T/io/store.h"
printf '#include "io/store.h"\nint io_store(void) { return base_leaf(); }\n' >"$T/io/store.c"
# stage/a.c and stage/b.c call each other's functions, each through the
# other's header: the planted circle (a.c -> b.c -> a.c).
printf 'int stage_a(void);\n' >"$T/stage/a.h"
printf '#include "stage/a.h"\n#include "stage/b.h"\nint stage_a(void) { return stage_b(); }\n' >"$T/stage/a.c"
printf 'int stage_b(void);\n' >"$T/stage/b.h"
printf '#include "stage/b.h"\n#include "stage/a.h"\n#include "io/store.h"\nint stage_b(void) { return stage_a() + 1; }\n' >"$T/stage/b.c"
# Clean on purpose: iqa/x.c includes x.h and y.h and calls y.c; y.c includes
# x.h for its macro only (an edge to the header, none to x.c): no circle.
printf '#define IQA_X_MAX 4\nint iqa_x(void);\n' >"$T/iqa/x.h"
printf 'int iqa_y(void);\n' >"$T/iqa/y.h"
printf '#include "iqa/x.h"\n#include "iqa/y.h"\nint iqa_x(void) { return iqa_y(); }\n' >"$T/iqa/x.c"
printf '#include "iqa/x.h"\nint iqa_y(void) { return IQA_X_MAX; }\n' >"$T/iqa/y.c"
# Clean too: a folder-less include in a subfolder, a private header.
printf 'int k(void);\n' >"$T/nn/cuda/kern.h"
printf '#include "kern.h"\n#include "nn/cuda/kern_internal.h"\nint k(void) { return 0; }\n' >"$T/nn/cuda/kern.c"
printf '#include "nn/cuda/kern.h"\n#include "base/leaf.h"\n' >"$T/nn/cuda/kern_internal.h"

run "$CHECK" --quiet --root "$T"
want="$T/base/up.c: includes io/store.h (base is layer 0, io is layer 1)
circle: stage/a.c -> stage/b.c -> stage/a.c"
if [ "$RC" -eq 1 ] && [ "$OUT" = "$want" ]; then pass layers_checker_finds_planted_faults
else fail layers_checker_finds_planted_faults "exit $RC, expected 1 with exactly:
$want
got:
$OUT$ERR"; fi
e2e_done
