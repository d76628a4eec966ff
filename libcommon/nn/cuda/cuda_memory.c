/* Device memory, weights and status checks of the CUDA backend
 * (nn/cuda/backend_cuda_internal.h). */
#include <stdlib.h>

#include "base/error.h"
#include "nn/cuda/backend_cuda_internal.h"
#include "nn/cuda/cuda_libs.h"

int oiqa_cuda_check(cudaError_t err, const char *what)
{
    if (err == cudaSuccess) return OIQA_OK;
    return oiqa_fail(OIQA_EXIT_DATA, NULL, "CUDA: %s: %s", what, cudaGetErrorString(err));
}

int oiqa_cublas_check(cublasStatus_t st, const char *what)
{
    if (st == CUBLAS_STATUS_SUCCESS) return OIQA_OK;
    return oiqa_fail(OIQA_EXIT_DATA, NULL, "cuBLAS: %s: status %d", what, (int)st);
}

int oiqa_cudnn_check(cudnnStatus_t st, const char *what)
{
    if (st == CUDNN_STATUS_SUCCESS) return OIQA_OK;
    return oiqa_fail(OIQA_EXIT_DATA, NULL, "cuDNN: %s: %s", what, OIQA_CULIB.cudnnGetErrorString(st));
}

/* ---- memory: cudaMalloc is slow and synchronising, so freed blocks are
 * kept and handed out again for the same (rounded) size; the networks ask
 * for the same shapes batch after batch. ---- */

static int push_block(mem_block **arr, int *n, int *cap, void *p, size_t bytes)
{
    if (*n == *cap) {
        int grown = *cap ? 2 * *cap : 64;
        mem_block *m = realloc(*arr, sizeof *m * grown);
        if (!m) return -1;
        *arr = m, *cap = grown;
    }
    (*arr)[(*n)++] = (mem_block){p, bytes};
    return 0;
}

static void drop_cache(cuda_impl *c)
{
    for (int i = 0; i < c->n_cached; i++) cudaFree(c->cached[i].p);
    c->n_cached = 0;
    c->cached_bytes = 0;
}

void *oiqa_cuda_alloc(cuda_impl *c, size_t bytes)
{
    bytes = (bytes + 255) / 256 * 256; /* near sizes share cached blocks */
    if (!bytes) bytes = 256;
    void *p = NULL;
    for (int i = c->n_cached - 1; i >= 0 && !p; i--)
        if (c->cached[i].bytes == bytes) {
            p = c->cached[i].p;
            c->cached[i] = c->cached[--c->n_cached];
            c->cached_bytes -= bytes;
        }
    if (!p && cudaMalloc(&p, bytes) != cudaSuccess) {
        cudaGetLastError(); /* clear it; give the cache back and try once more */
        p = NULL;
        cudaStreamSynchronize(c->stream);
        drop_cache(c);
        if (cudaMalloc(&p, bytes) != cudaSuccess) {
            cudaGetLastError();
            return NULL;
        }
    }
    if (push_block(&c->live, &c->n_live, &c->cap_live, p, bytes)) {
        cudaFree(p);
        return NULL;
    }
    return p;
}

void oiqa_cuda_release(cuda_impl *c, void *p)
{
    if (!p) return;
    for (int i = c->n_live - 1; i >= 0; i--)
        if (c->live[i].p == p) {
            size_t bytes = c->live[i].bytes;
            c->live[i] = c->live[--c->n_live];
            /* Later ops on the stream may still read p; a block handed out
             * again is only used by ops queued after them, so no wait. */
            if (push_block(&c->cached, &c->n_cached, &c->cap_cached, p, bytes)) {
                cudaStreamSynchronize(c->stream);
                cudaFree(p);
            } else {
                c->cached_bytes += bytes;
            }
            return;
        }
}

/* ---- weights ---- */

const float *oiqa_cuda_weight(cuda_impl *c, const float *host, size_t count, weight_layout layout,
                              const oiqa_conv2d *conv)
{
    if (!host) return NULL;
    for (int i = 0; i < c->n_weights; i++)
        if (c->weights[i].host == host && c->weights[i].layout == layout && c->weights[i].count == count)
            return c->weights[i].dev;
    if (c->n_weights == c->cap_weights) {
        int cap = c->cap_weights ? 2 * c->cap_weights : 256;
        weight_entry *m = realloc(c->weights, sizeof *m * cap);
        if (!m) return oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory (weight table)"), NULL;
        c->weights = m, c->cap_weights = cap;
    }
    const float *src = host;
    float *krsc = NULL;
    if (layout == WEIGHT_KRSC) { /* HWIO [kh][kw][cin][cout] -> [cout][kh][kw][cin] */
        if (!(krsc = malloc(sizeof(float) * count))) return oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory"), NULL;
        const int kh = conv->kh, kw = conv->kw, ci = conv->cin, co = conv->cout;
        for (int u = 0; u < kh; u++)
            for (int v = 0; v < kw; v++)
                for (int i = 0; i < ci; i++)
                    for (int o = 0; o < co; o++)
                        krsc[(((size_t)o * kh + u) * kw + v) * ci + i] = host[(((size_t)u * kw + v) * ci + i) * co + o];
        src = krsc;
    }
    float *dev = NULL;
    int rc = oiqa_cuda_check(cudaMalloc((void **)&dev, sizeof(float) * count), "weights");
    /* A synchronous copy: weights are copied once, and the host copy (krsc) is freed right after. */
    if (!rc) rc = oiqa_cuda_check(cudaMemcpy(dev, src, sizeof(float) * count, cudaMemcpyHostToDevice), "weights");
    free(krsc);
    if (rc) {
        cudaFree(dev);
        return NULL;
    }
    c->weights[c->n_weights++] = (weight_entry){host, layout, count, dev};
    return dev;
}

void oiqa_cuda_memory_free(cuda_impl *c)
{
    for (int i = 0; i < c->n_weights; i++) cudaFree(c->weights[i].dev);
    for (int i = 0; i < c->n_live; i++) cudaFree(c->live[i].p);
    drop_cache(c);
    free(c->weights);
    free(c->live);
    free(c->cached);
    c->weights = NULL, c->live = NULL, c->cached = NULL;
    c->n_weights = c->n_live = 0;
}
