/* cuBLAS and cuDNN, opened with dlopen when the first CUDA backend starts
 * rather than linked: a program that never uses the GPU then never loads
 * them (cuBLASLt alone maps half a gigabyte, which cost every tool start
 * about 0.15 s), and the binaries start on machines that lack them. The
 * CUDA runtime is linked statically (it loads the driver itself, lazily).
 * Calls go through the table: OIQA_CULIB.cudnnCreate(&h). */
#ifndef OIQA_NN_CUDA_CUDA_LIBS_H
#define OIQA_NN_CUDA_CUDA_LIBS_H

#include <cublas_v2.h>
#include <cudnn.h>

#define OIQA_CULIB_FN(name) __typeof__(name) *name
typedef struct {
    /* cuBLAS (real symbol names: cublas_v2.h maps cublasCreate to cublasCreate_v2, ...) */
    OIQA_CULIB_FN(cublasCreate_v2);
    OIQA_CULIB_FN(cublasDestroy_v2);
    OIQA_CULIB_FN(cublasSetStream_v2);
    OIQA_CULIB_FN(cublasSetMathMode);
    OIQA_CULIB_FN(cublasSgemm_v2);
    /* cuDNN */
    OIQA_CULIB_FN(cudnnGetErrorString);
    OIQA_CULIB_FN(cudnnCreate);
    OIQA_CULIB_FN(cudnnDestroy);
    OIQA_CULIB_FN(cudnnSetStream);
    OIQA_CULIB_FN(cudnnCreateActivationDescriptor);
    OIQA_CULIB_FN(cudnnSetActivationDescriptor);
    OIQA_CULIB_FN(cudnnDestroyActivationDescriptor);
    OIQA_CULIB_FN(cudnnCreateTensorDescriptor);
    OIQA_CULIB_FN(cudnnSetTensor4dDescriptor);
    OIQA_CULIB_FN(cudnnDestroyTensorDescriptor);
    OIQA_CULIB_FN(cudnnCreateFilterDescriptor);
    OIQA_CULIB_FN(cudnnSetFilter4dDescriptor);
    OIQA_CULIB_FN(cudnnDestroyFilterDescriptor);
    OIQA_CULIB_FN(cudnnCreateConvolutionDescriptor);
    OIQA_CULIB_FN(cudnnSetConvolution2dDescriptor);
    OIQA_CULIB_FN(cudnnSetConvolutionMathType);
    OIQA_CULIB_FN(cudnnDestroyConvolutionDescriptor);
    OIQA_CULIB_FN(cudnnGetConvolution2dForwardOutputDim);
    OIQA_CULIB_FN(cudnnFindConvolutionForwardAlgorithm);
    OIQA_CULIB_FN(cudnnGetConvolutionForwardWorkspaceSize);
    OIQA_CULIB_FN(cudnnConvolutionForward);
    OIQA_CULIB_FN(cudnnConvolutionBiasActivationForward);
} oiqa_cuda_libs;
#undef OIQA_CULIB_FN

/* The table, loaded once (thread-safe); NULL with the message set ("cuDNN:
 * libcudnn.so.9 not found: ...") when a library or symbol is missing. */
const oiqa_cuda_libs *oiqa_cuda_libs_load(void);

/* The loaded table; only after oiqa_cuda_libs_load succeeded. */
extern const oiqa_cuda_libs *oiqa_cuda_libs_loaded;
#define OIQA_CULIB (*oiqa_cuda_libs_loaded)

#endif
