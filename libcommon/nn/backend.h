/* The compute backends behind one small table of operations (ggml's backend
 * vtable is the model): the networks (models/resnet.c, models/vmamba.c) are
 * written once against this table, and run on the CPU kernels of nn/ or on
 * the CUDA backend of nn/cuda/ unchanged.
 *
 * Tensors: an oiqa_tensor whose data lives where its backend keeps memory
 * (host memory for the CPU backend, device memory for CUDA), allocated with
 * oiqa_be_tensor_create / freed with oiqa_be_tensor_free of the same
 * backend. Moving data in and out is upload / download.
 *
 * Weights: operations take the network's weights as the host arrays the
 * loaders made (HWIO conv weights, (out, in) linear weights, ...). The CPU
 * backend uses them as they are; the CUDA backend copies each array to the
 * device on first use (in the layout its libraries want) and keeps it until
 * the backend is destroyed, so the weights must outlive the backend.
 *
 * Every operation means exactly what the CPU kernel of the same name means
 * (its header is the contract); shapes are checked by the callers. Ops
 * return OIQA_OK or an exit code with the message set; on the GPU they are
 * asynchronous and a failure may only surface at download or sync. Call
 * from serial code. */
#ifndef OIQA_NN_BACKEND_H
#define OIQA_NN_BACKEND_H

#include <stddef.h>

#include "nn/conv2d.h"
#include "nn/device.h"
#include "nn/ss2d.h"
#include "nn/tensor.h"

typedef enum { OIQA_ACT_RELU = 0, OIQA_ACT_SILU = 1, OIQA_ACT_GELU = 2 } oiqa_activation;

typedef struct oiqa_backend oiqa_backend;

typedef struct {
    const char *name; /* "cpu", "cuda" */
    /* Memory of this backend; alloc returns NULL when out of memory. */
    void *(*alloc)(oiqa_backend *be, size_t bytes);
    void (*free)(oiqa_backend *be, void *p);
    /* host (t's numel floats) -> t, and back. download waits for the data. */
    int (*upload)(oiqa_backend *be, const float *host, oiqa_tensor *t);
    int (*download)(oiqa_backend *be, const oiqa_tensor *t, float *host);
    /* Waits for every queued op; reports the first asynchronous failure. */
    int (*sync)(oiqa_backend *be);
    /* Bytes of memory still free (SIZE_MAX on the CPU). */
    size_t (*free_memory)(oiqa_backend *be);

    /* nn/conv2d.h: y = act(conv(x) + bias + residual); y may alias residual. */
    int (*conv2d)(oiqa_backend *be, const oiqa_conv2d *conv, const oiqa_tensor *x, const oiqa_tensor *residual,
                  int relu, oiqa_tensor *y);
    /* nn/linear.h, on raw device rows with strides. */
    int (*linear)(oiqa_backend *be, const float *x, size_t ldx, size_t rows, int cin, const float *weight,
                  const float *bias, int cout, float *y, size_t ldy, int accumulate);
    /* nn/layernorm.h; y may alias x. */
    int (*layernorm)(oiqa_backend *be, const float *x, float *y, size_t rows, int channels, const float *gamma,
                     const float *beta, float eps);
    /* In place over n values: relu (nn/eltwise.h), silu, gelu (nn/activation.h). */
    int (*activation)(oiqa_backend *be, oiqa_activation act, float *x, size_t n);
    /* y = a * b elementwise (nn/activation.h oiqa_mul); y may alias a or b. */
    int (*mul)(oiqa_backend *be, const float *a, const float *b, float *y, size_t n);
    /* nn/pool.h oiqa_maxpool2d; y shaped by the caller. */
    int (*maxpool2d)(oiqa_backend *be, const oiqa_tensor *x, int k, int stride, int pad, oiqa_tensor *y);
    /* nn/dwconv.h; y shaped like x, not aliasing it. */
    int (*dwconv3x3)(oiqa_backend *be, const oiqa_tensor *x, const float *w_33c, const float *bias, oiqa_tensor *y);
    /* VMamba v1 patch merging's gather (models/vmamba.h): y (n x ceil(h/2) x
     * ceil(w/2) x 4c) holds the 2x2 neighbours (0,0), (1,0), (0,1), (1,1)
     * as (row, col) offsets, zeros past an odd edge. */
    int (*patch_merge)(oiqa_backend *be, const oiqa_tensor *x, oiqa_tensor *y);
    /* nn/ss2d.h oiqa_ss2d_core on every image of x (n x h x w x Di) into y. */
    int (*ss2d)(oiqa_backend *be, const oiqa_ss2d_weights *wt, const oiqa_tensor *x, oiqa_tensor *y);
    /* models/imagenet.h: n host RGB images (h x w x 3, 0..255 float) ->
     * normalised x on this backend (x shaped n x h x w x 3 by the caller). */
    int (*normalize)(oiqa_backend *be, const float *rgb, const float mean[3], const float std[3], oiqa_tensor *x);
    /* nn/pool.h oiqa_channel_mean_std (unbiased) of x into HOST arrays
     * mean and std (x->n * x->c floats each): the statistics pooling, so
     * only these leave the device. Waits for the result. */
    int (*channel_mean_std)(oiqa_backend *be, const oiqa_tensor *x, float *mean, float *std);
    /* Frees the backend's own state (not the struct of the CPU singleton). */
    void (*destroy)(oiqa_backend *be);
} oiqa_backend_ops;

struct oiqa_backend {
    const oiqa_backend_ops *ops;
    oiqa_device device; /* OIQA_DEVICE_CPU or OIQA_DEVICE_CUDA */
    void *impl;         /* the backend's private state */
};

/* The CPU backend (stateless; a shared instance, never destroyed). */
oiqa_backend *oiqa_backend_cpu(void);

/* A backend for a resolved device (nn/device.h oiqa_device_resolve): the
 * CPU singleton, or a new CUDA backend. Falls back to the CPU, with the
 * device's stderr line, when the CUDA backend cannot start. */
oiqa_backend *oiqa_backend_open(oiqa_device device);
/* Releases a backend from oiqa_backend_open (NULL and the CPU: no-op). */
void oiqa_backend_close(oiqa_backend *be);

/* The CUDA backend (nn/cuda/backend_cuda.c); NULL with the message set when
 * no GPU can be used (or the build has none). */
oiqa_backend *oiqa_backend_cuda_create(void);

/* Tensors in a backend's memory (same contract as nn/tensor.h). */
int oiqa_be_tensor_create(oiqa_backend *be, oiqa_tensor *t, int n, int h, int w, int c);
void oiqa_be_tensor_free(oiqa_backend *be, oiqa_tensor *t);
/* (Re)allocates t to n x h x w x c unless it already has that shape. */
int oiqa_be_tensor_ensure(oiqa_backend *be, oiqa_tensor *t, int n, int h, int w, int c);

#endif
