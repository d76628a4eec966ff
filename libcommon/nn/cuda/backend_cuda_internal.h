/* State of the CUDA backend (nn/cuda/backend_cuda.c, backend_cuda_conv.c,
 * cuda_memory.c). */
#ifndef OIQA_NN_CUDA_BACKEND_CUDA_INTERNAL_H
#define OIQA_NN_CUDA_BACKEND_CUDA_INTERNAL_H

#include <stddef.h>

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include "nn/backend.h"

/* How a host weight array is laid out on the device. */
typedef enum {
    WEIGHT_PLAIN = 0, /* as on the host */
    WEIGHT_KRSC = 1,  /* a conv weight, HWIO on the host -> [cout][kh][kw][cin] (cuDNN's NHWC filter) */
} weight_layout;

typedef struct {
    const float *host;
    weight_layout layout;
    size_t count;
    float *dev;
} weight_entry;

typedef struct {
    void *p;
    size_t bytes;
} mem_block;

/* One convolution on one input shape: cuDNN's descriptors and algorithm. */
typedef struct {
    const oiqa_conv2d *conv;
    int n, h, w;
    cudnnTensorDescriptor_t x_desc, y_desc, bias_desc;
    cudnnFilterDescriptor_t w_desc;
    cudnnConvolutionDescriptor_t conv_desc;
    cudnnConvolutionFwdAlgo_t algo;
    size_t workspace;
    int fused_failed; /* cudnnConvolutionBiasActivationForward refused this one: unfused from now on */
} conv_plan;

typedef struct {
    cudaStream_t stream;
    cublasHandle_t blas;
    cudnnHandle_t dnn;
    cudnnActivationDescriptor_t relu;
    int tf32;
    weight_entry *weights;
    int n_weights, cap_weights;
    mem_block *live;   /* allocated blocks and their sizes */
    int n_live, cap_live;
    mem_block *cached; /* freed device blocks kept for reuse (by exact size) */
    int n_cached, cap_cached;
    size_t cached_bytes;
    conv_plan *plans;
    int n_plans, cap_plans;
    void *workspace; /* cuDNN workspace, grown on demand */
    size_t workspace_bytes;
    void *staging[2]; /* pinned host buffers for uploads (alternating) and downloads */
    size_t staging_bytes[2];
    cudaEvent_t staged[2]; /* the last copy out of staging[k] */
    int next_staging;
} cuda_impl;

/* Sets the message from a CUDA / cuBLAS / cuDNN status; OIQA_OK when fine. */
int oiqa_cuda_check(cudaError_t err, const char *what);
int oiqa_cublas_check(cublasStatus_t st, const char *what);
int oiqa_cudnn_check(cudnnStatus_t st, const char *what);

/* The device copy of a host weight array (count floats), made on first use. NULL (message set) on failure. */
const float *oiqa_cuda_weight(cuda_impl *c, const float *host, size_t count, weight_layout layout,
                              const oiqa_conv2d *conv);

/* Device memory of the backend's allocator (cuda_memory.c): freed blocks are
 * kept for reuse by size; oiqa_cuda_memory_free releases every block and weight. */
void *oiqa_cuda_alloc(cuda_impl *c, size_t bytes);
void oiqa_cuda_release(cuda_impl *c, void *p);
void oiqa_cuda_memory_free(cuda_impl *c);

/* backend_cuda_conv.c */
int oiqa_cuda_conv2d(cuda_impl *c, const oiqa_conv2d *conv, const oiqa_tensor *x, const oiqa_tensor *residual,
                     int relu, oiqa_tensor *y);
void oiqa_cuda_conv_plans_free(cuda_impl *c);

#endif
