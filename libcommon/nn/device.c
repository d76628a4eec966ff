/* Device choice and the fallback line (nn/device.h). The CUDA probe lives in
 * nn/cuda/device_cuda.c, compiled only when the build has CUDA. */
#include "nn/device.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

const char *const oiqa_device_names[] = {"cpu", "cuda", "auto", NULL};

#ifdef OIQA_HAVE_CUDA
int oiqa_cuda_probe(char *why, size_t why_size);
int oiqa_cuda_query(char *name, size_t name_size, size_t *free_bytes, size_t *total_bytes);
#endif

int oiqa_cuda_built(void)
{
#ifdef OIQA_HAVE_CUDA
    return 1;
#else
    return 0;
#endif
}

int oiqa_cuda_usable(char *why, size_t why_size)
{
#ifdef OIQA_HAVE_CUDA
    /* Probed once: starting the driver takes a moment, and the answer does not change. */
    static int probed = 0, usable = 0;
    static char reason[256];
#pragma omp critical(oiqa_cuda_probe)
    if (!probed) {
        usable = oiqa_cuda_probe(reason, sizeof reason);
        probed = 1;
    }
    if (why && why_size) snprintf(why, why_size, "%s", usable ? "" : reason);
    return usable;
#else
    if (why && why_size) snprintf(why, why_size, "this build has no CUDA backend (built with CUDA=0 or without nvcc)");
    return 0;
#endif
}

int oiqa_cuda_device_info(char *name, size_t name_size, size_t *free_bytes, size_t *total_bytes)
{
#ifdef OIQA_HAVE_CUDA
    if (!oiqa_cuda_usable(NULL, 0)) return -1;
    return oiqa_cuda_query(name, name_size, free_bytes, total_bytes);
#else
    (void)name, (void)name_size, (void)free_bytes, (void)total_bytes;
    return -1;
#endif
}

int oiqa_device_tf32(void)
{
    const char *v = getenv("OIQA_TF32");
    return v && !strcmp(v, "1");
}

oiqa_device oiqa_device_resolve(oiqa_device requested)
{
    if (requested == OIQA_DEVICE_CPU) return OIQA_DEVICE_CPU;
    char why[256];
    if (oiqa_cuda_usable(why, sizeof why)) return OIQA_DEVICE_CUDA;
    static int said = 0; /* one line per process, however many stages resolve */
    if (!said) {
        if (requested == OIQA_DEVICE_CUDA)
            oiqa_warn("--device cuda: %s; running on the CPU", why);
        else
            oiqa_debug("--device auto: no usable GPU (%s); running on the CPU", why);
        said = 1;
    }
    return OIQA_DEVICE_CPU;
}

void oiqa_device_announce(void)
{
    static int said = 0;
    int first;
#pragma omp critical(oiqa_device_announce)
    {
        first = !said;
        said = 1;
    }
    if (!first) return;
    char name[128] = "?";
    size_t free_b = 0, total_b = 0;
    oiqa_cuda_device_info(name, sizeof name, &free_b, &total_b);
    oiqa_info("running on the GPU: %s (%.1f of %.1f GiB free)%s", name, free_b / 1073741824.0,
              total_b / 1073741824.0, oiqa_device_tf32() ? ", TF32 allowed (OIQA_TF32=1)" : "");
}
