/* Convolutions on cuDNN for the CUDA backend (nn/conv2d.h semantics).
 *
 * Tensors are NHWC float and the filter is cuDNN's NHWC layout (KRSC: the
 * HWIO host weight transposed once, nn/cuda/backend_cuda.c). Each
 * (conv, input shape) gets a plan: descriptors plus the algorithm, chosen
 * once by cudnnFindConvolutionForwardAlgorithm (it times the candidates, as
 * PyTorch's cudnn.benchmark does) among those of the allowed math: FMA only
 * (IEEE fp32) unless OIQA_TF32=1.
 *
 * The epilogue act(conv + bias + residual) is one call,
 * cudnnConvolutionBiasActivationForward, when it has a ReLU (cuDNN fuses
 * bias, the residual z and ReLU; IDENTITY is limited to one algorithm). A
 * conv without ReLU, or one cuDNN refuses to fuse, runs as
 * cudnnConvolutionForward with beta = 1 over the residual copied into y,
 * then oiqa_cu_bias_act. */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "nn/cuda/backend_cuda_internal.h"
#include "nn/cuda/cuda_libs.h"
#include "nn/cuda/kernels.h"

static void plan_free(conv_plan *p)
{
    if (p->x_desc) OIQA_CULIB.cudnnDestroyTensorDescriptor(p->x_desc);
    if (p->y_desc) OIQA_CULIB.cudnnDestroyTensorDescriptor(p->y_desc);
    if (p->bias_desc) OIQA_CULIB.cudnnDestroyTensorDescriptor(p->bias_desc);
    if (p->w_desc) OIQA_CULIB.cudnnDestroyFilterDescriptor(p->w_desc);
    if (p->conv_desc) OIQA_CULIB.cudnnDestroyConvolutionDescriptor(p->conv_desc);
    memset(p, 0, sizeof *p);
}

void oiqa_cuda_conv_plans_free(cuda_impl *c)
{
    for (int i = 0; i < c->n_plans; i++) plan_free(&c->plans[i]);
    free(c->plans);
    c->plans = NULL;
    c->n_plans = c->cap_plans = 0;
}

static int ensure_workspace(cuda_impl *c, size_t bytes)
{
    if (bytes <= c->workspace_bytes) return OIQA_OK;
    /* Ops already queued may use the old workspace. */
    int rc = oiqa_cuda_check(cudaStreamSynchronize(c->stream), "workspace");
    cudaFree(c->workspace);
    c->workspace = NULL, c->workspace_bytes = 0;
    if (!rc) rc = oiqa_cuda_check(cudaMalloc(&c->workspace, bytes), "workspace");
    if (!rc) c->workspace_bytes = bytes;
    return rc;
}

/* Descriptors and the timed choice of algorithm for conv on n x h x w. */
static int plan_make(cuda_impl *c, const oiqa_conv2d *conv, const oiqa_tensor *x, const oiqa_tensor *y,
                     conv_plan *p)
{
    memset(p, 0, sizeof *p);
    p->conv = conv, p->n = x->n, p->h = x->h, p->w = x->w;
    int rc = oiqa_cudnn_check(OIQA_CULIB.cudnnCreateTensorDescriptor(&p->x_desc), "descriptor");
    if (!rc) rc = oiqa_cudnn_check(OIQA_CULIB.cudnnCreateTensorDescriptor(&p->y_desc), "descriptor");
    if (!rc) rc = oiqa_cudnn_check(OIQA_CULIB.cudnnCreateTensorDescriptor(&p->bias_desc), "descriptor");
    if (!rc) rc = oiqa_cudnn_check(OIQA_CULIB.cudnnCreateFilterDescriptor(&p->w_desc), "descriptor");
    if (!rc) rc = oiqa_cudnn_check(OIQA_CULIB.cudnnCreateConvolutionDescriptor(&p->conv_desc), "descriptor");
    if (!rc)
        rc = oiqa_cudnn_check(OIQA_CULIB.cudnnSetTensor4dDescriptor(p->x_desc, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, x->n, x->c,
                                                         x->h, x->w),
                              "input descriptor");
    if (!rc)
        rc = oiqa_cudnn_check(OIQA_CULIB.cudnnSetTensor4dDescriptor(p->y_desc, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, y->n, y->c,
                                                         y->h, y->w),
                              "output descriptor");
    if (!rc)
        rc = oiqa_cudnn_check(OIQA_CULIB.cudnnSetTensor4dDescriptor(p->bias_desc, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1,
                                                         conv->cout, 1, 1),
                              "bias descriptor");
    if (!rc)
        rc = oiqa_cudnn_check(OIQA_CULIB.cudnnSetFilter4dDescriptor(p->w_desc, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NHWC, conv->cout,
                                                         conv->cin, conv->kh, conv->kw),
                              "filter descriptor");
    if (!rc)
        rc = oiqa_cudnn_check(OIQA_CULIB.cudnnSetConvolution2dDescriptor(p->conv_desc, conv->pad, conv->pad, conv->stride,
                                                              conv->stride, 1, 1, CUDNN_CROSS_CORRELATION,
                                                              CUDNN_DATA_FLOAT),
                              "conv descriptor");
    const cudnnMathType_t math = c->tf32 ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH;
    if (!rc) rc = oiqa_cudnn_check(OIQA_CULIB.cudnnSetConvolutionMathType(p->conv_desc, math), "math type");
    if (!rc) { /* cuDNN's output size must be the caller's */
        int on, oc, oh, ow;
        rc = oiqa_cudnn_check(OIQA_CULIB.cudnnGetConvolution2dForwardOutputDim(p->conv_desc, p->x_desc, p->w_desc, &on, &oc, &oh,
                                                                    &ow),
                              "output size");
        if (!rc && (on != y->n || oc != y->c || oh != y->h || ow != y->w))
            rc = oiqa_fail(OIQA_EXIT_DATA, NULL, "conv: output is %d x %d x %d x %d, cuDNN says %d x %d x %d x %d",
                           y->n, y->h, y->w, y->c, on, oh, ow, oc);
    }
    if (rc) return rc;
    cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    int found = 0;
    /* Find runs every candidate (synchronously) on scratch memory it allocates itself. */
    rc = oiqa_cudnn_check(OIQA_CULIB.cudnnFindConvolutionForwardAlgorithm(c->dnn, p->x_desc, p->w_desc, p->conv_desc, p->y_desc,
                                                               CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &found, perf),
                          "choosing an algorithm");
    if (rc) return rc;
    /* Sorted fastest first. Without TF32 only FMA kernels qualify: cuDNN's
     * DEFAULT_MATH permits TF32 tensor cores on Ampere and later. */
    int pick = -1;
    for (int i = 0; i < found && pick < 0; i++)
        if (perf[i].status == CUDNN_STATUS_SUCCESS && (c->tf32 || perf[i].mathType == CUDNN_FMA_MATH)) pick = i;
    if (pick < 0) {
        p->algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM; /* always available */
        rc = oiqa_cudnn_check(OIQA_CULIB.cudnnGetConvolutionForwardWorkspaceSize(c->dnn, p->x_desc, p->w_desc, p->conv_desc,
                                                                      p->y_desc, p->algo, &p->workspace),
                              "workspace size");
    } else {
        p->algo = perf[pick].algo;
        p->workspace = perf[pick].memory;
        if (c->tf32) rc = oiqa_cudnn_check(OIQA_CULIB.cudnnSetConvolutionMathType(p->conv_desc, perf[pick].mathType), "math type");
    }
    return rc;
}

static conv_plan *plan_for(cuda_impl *c, const oiqa_conv2d *conv, const oiqa_tensor *x, const oiqa_tensor *y)
{
    for (int i = 0; i < c->n_plans; i++) {
        conv_plan *p = &c->plans[i];
        if (p->conv == conv && p->n == x->n && p->h == x->h && p->w == x->w) return p;
    }
    if (c->n_plans == c->cap_plans) {
        int cap = c->cap_plans ? 2 * c->cap_plans : 64;
        conv_plan *m = realloc(c->plans, sizeof *m * cap);
        if (!m) return oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory (conv plans)"), NULL;
        c->plans = m, c->cap_plans = cap;
    }
    conv_plan *p = &c->plans[c->n_plans];
    if (plan_make(c, conv, x, y, p)) {
        plan_free(p);
        return NULL;
    }
    c->n_plans++;
    return p;
}

int oiqa_cuda_conv2d(cuda_impl *c, const oiqa_conv2d *conv, const oiqa_tensor *x, const oiqa_tensor *residual,
                     int relu, oiqa_tensor *y)
{
    if (x->c != conv->cin || y->c != conv->cout || y->n != x->n || (residual && !oiqa_tensor_same_shape(residual, y)))
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "conv: mismatched shapes (%d -> %d channels)", conv->cin, conv->cout);
    const float *w = oiqa_cuda_weight(c, conv->weight, (size_t)conv->kh * conv->kw * conv->cin * conv->cout,
                                      WEIGHT_KRSC, conv);
    const float *bias = conv->bias ? oiqa_cuda_weight(c, conv->bias, (size_t)conv->cout, WEIGHT_PLAIN, NULL) : NULL;
    if (!w || (conv->bias && !bias)) return OIQA_EXIT_DATA;
    conv_plan *p = plan_for(c, conv, x, y);
    if (!p) return OIQA_EXIT_DATA;
    int rc = ensure_workspace(c, p->workspace);
    if (rc) return rc;
    const float one = 1.0f, zero = 0.0f;
    if (relu && bias && !p->fused_failed) {
        /* z = residual (alpha2 = 1), or y itself with alpha2 = 0: zeroed
         * first, since 0 * z is NaN where a reused block holds NaN or Inf
         * and cuDNN does not promise to skip z when alpha2 is 0. */
        const float *z = residual ? residual->data : y->data;
        if (!residual &&
            (rc = oiqa_cuda_check(cudaMemsetAsync(y->data, 0, oiqa_tensor_numel(y) * sizeof(float), c->stream), "zero")))
            return rc;
        cudnnStatus_t st = OIQA_CULIB.cudnnConvolutionBiasActivationForward(
            c->dnn, &one, p->x_desc, x->data, p->w_desc, w, p->conv_desc, p->algo, c->workspace, p->workspace,
            residual ? &one : &zero, p->y_desc, z, p->bias_desc, bias, c->relu, p->y_desc, y->data);
        if (st == CUDNN_STATUS_SUCCESS) return OIQA_OK;
        if (st != CUDNN_STATUS_NOT_SUPPORTED && st != CUDNN_STATUS_BAD_PARAM)
            return oiqa_cudnn_check(st, "fused convolution");
        p->fused_failed = 1; /* this algorithm cannot fuse: the unfused path from now on */
    }
    float beta = 0.0f;
    if (residual) {
        if (residual->data != y->data)
            rc = oiqa_cuda_check(cudaMemcpyAsync(y->data, residual->data, oiqa_tensor_numel(y) * sizeof(float),
                                                 cudaMemcpyDeviceToDevice, c->stream),
                                 "residual");
        beta = 1.0f;
    }
    if (!rc)
        rc = oiqa_cudnn_check(OIQA_CULIB.cudnnConvolutionForward(c->dnn, &one, p->x_desc, x->data, p->w_desc, w, p->conv_desc,
                                                      p->algo, c->workspace, p->workspace, &beta, p->y_desc, y->data),
                              "convolution");
    if (!rc && (bias || relu))
        rc = oiqa_cuda_check(oiqa_cu_bias_act(y->data, (size_t)y->n * y->h * y->w, y->c, bias, NULL, relu, c->stream),
                             "conv epilogue");
    return rc;
}
