/* geo/viewports_gpu.h for builds without the CUDA backend (make CUDA=0, or
 * no nvcc): every context creation fails with the reason, so callers fall
 * back to the CPU. With CUDA the functions live in geo/cuda/viewports_cuda.cu
 * and this file compiles to nothing. */
#include "geo/viewports_gpu.h"

#ifndef OIQA_HAVE_CUDA

#include <stddef.h>

#include "base/error.h"

int oiqa_vp_gpu_create(oiqa_vp_gpu **g)
{
    if (g) *g = NULL;
    return oiqa_fail(OIQA_EXIT_DATA, NULL, "GPU viewports: this build has no CUDA backend "
                                           "(built with CUDA=0 or without nvcc)");
}

int oiqa_vp_gpu_sample(oiqa_vp_gpu *g, const oiqa_image *erp, const oiqa_view *views, int V, int S,
                       oiqa_filter filter, uint8_t *out)
{
    (void)g, (void)erp, (void)views, (void)V, (void)S, (void)filter, (void)out;
    return oiqa_fail(OIQA_EXIT_DATA, NULL, "GPU viewports: this build has no CUDA backend "
                                           "(built with CUDA=0 or without nvcc)");
}

void oiqa_vp_gpu_destroy(oiqa_vp_gpu *g) { (void)g; }

#endif
