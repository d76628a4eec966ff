/* Viewports of an ERP on the GPU (geo/cuda/viewports_cuda.cu): the same
 * bytes as oiqa_view_map + the geo/sample.h filters on the CPU, up to the
 * rounding of a tie (see below).
 *
 * One call samples every viewport of one image: the ERP goes to the device
 * through a pinned staging buffer, one kernel computes each viewport pixel's
 * (u, v) with oiqa_view_map's formulas in double precision (the per-view
 * trigonometry of the camera is computed on the host by the same C code) and
 * samples it with the filter's own arithmetic, float32 operations in the CPU
 * code's order and without FMA contraction:
 *   bilinear   the 14-bit weights and integer blend of sample_bilinear.c,
 *              including which weight rounding (nearest-even in the SSE2 groups
 *              of 4 pixels, half-up elsewhere) the CPU applies to each pixel;
 *   bicubic    Keys a = -0.75, the tap order and clamping of sample_bicubic.c;
 *   antialias  the 2x2 pyramid (OIQA_VP_PYRAMID_LEVELS levels, exact integer
 *              means) built on the device, then the map's level of detail and
 *              trilinear sampling of sample_mip.c (a second kernel, as the LOD
 *              needs the neighbours' float32 (u, v)).
 * Differences from the CPU can come only from the device's double atan2
 * (2 ulp against glibc's < 1 ulp: a u or v float can differ in its last bit
 * about once in 10^7 pixels) and, for antialias, from sin/log2 in the LOD
 * (computed as double then rounded, against glibc's sinf/log2f): a tie at
 * the final rounding may go the other way, so bytes differ by at most 1.
 *
 * Buffers (pinned host staging, device ERP, pyramid, maps, output) are kept
 * in the context and grown as needed; all work runs on the context's one
 * stream. A context is used by one thread at a time.
 *
 * Builds without CUDA (make CUDA=0) get geo/viewports_gpu_stub.c: create
 * fails with "this build has no CUDA backend". */
#ifndef OIQA_GEO_VIEWPORTS_GPU_H
#define OIQA_GEO_VIEWPORTS_GPU_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" { /* the C headers below too: viewports_cuda.cu includes this one */
#endif

#include "geo/sample.h"
#include "geo/viewport.h"
#include "io/image.h"

/* The pyramid depth of the antialias filter, as the stage builds it on the CPU. */
#define OIQA_VP_PYRAMID_LEVELS 16

typedef struct oiqa_vp_gpu oiqa_vp_gpu;

/* A context on the current CUDA device (its stream, no buffers yet).
 * OIQA_OK, or OIQA_EXIT_DATA with the reason (no device, no driver, a build
 * without CUDA) as the thread's error message; *g is NULL then. */
int oiqa_vp_gpu_create(oiqa_vp_gpu **g);

/* erp W x H x 3 uint8 (host memory), views[V] (V >= 1), viewports S x S ->
 * out V x S x S x 3 uint8 (host memory), as oiqa_view_map + the filter on
 * the CPU. Synchronous: returns when out is filled. OIQA_OK, OIQA_EXIT_USAGE
 * for bad arguments, OIQA_EXIT_DATA for CUDA failures (out of device memory,
 * a launch error), with an oiqa_fail message. */
int oiqa_vp_gpu_sample(oiqa_vp_gpu *g, const oiqa_image *erp, const oiqa_view *views, int V, int S,
                       oiqa_filter filter, uint8_t *out);

/* Frees the buffers and the stream; NULL is a no-op. */
void oiqa_vp_gpu_destroy(oiqa_vp_gpu *g);

#ifdef __cplusplus
}
#endif

#endif
