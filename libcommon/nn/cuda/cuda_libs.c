/* Loading cuBLAS and cuDNN at run time (nn/cuda/cuda_libs.h). */
#include "nn/cuda/cuda_libs.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "base/error.h"

const oiqa_cuda_libs *oiqa_cuda_libs_loaded;

static oiqa_cuda_libs table;

/* The sonames of the versions this build was compiled against. */
#define STRINGIFY2(x) #x
#define STRINGIFY(x) STRINGIFY2(x)
#define CUBLAS_SONAME "libcublas.so." STRINGIFY(CUBLAS_VER_MAJOR)
#define CUDNN_SONAME "libcudnn.so." STRINGIFY(CUDNN_MAJOR)

/* The library by its soname (LD_LIBRARY_PATH, the executable's run path,
 * the system's), else from the toolkit folder the build used. */
static void *open_lib(const char *soname, char *why, size_t why_size)
{
    void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (h) return h;
    snprintf(why, why_size, "%s", dlerror());
    char path[512];
    snprintf(path, sizeof path, "%s/%s", OIQA_CUDA_LIBDIR, soname);
    return dlopen(path, RTLD_NOW | RTLD_LOCAL);
}

static int load(void)
{
    static const struct {
        const char *soname, *label;
    } libs[2] = {{CUBLAS_SONAME, "cuBLAS"}, {CUDNN_SONAME, "cuDNN"}};
    void *h[2];
    char why[512];
    for (int k = 0; k < 2; k++)
        if (!(h[k] = open_lib(libs[k].soname, why, sizeof why)))
            return oiqa_fail(OIQA_EXIT_DATA, NULL, "%s: %s not found (%s)", libs[k].label, libs[k].soname, why);
    /* Each entry: the symbol's name and where its pointer goes, in table order. */
#define SYM(lib, name) {lib, #name, (void **)&table.name}
    const struct {
        int lib;
        const char *name;
        void **slot;
    } syms[] = {
        SYM(0, cublasCreate_v2), SYM(0, cublasDestroy_v2), SYM(0, cublasSetStream_v2), SYM(0, cublasSetMathMode),
        SYM(0, cublasSgemm_v2), SYM(1, cudnnGetErrorString), SYM(1, cudnnCreate), SYM(1, cudnnDestroy),
        SYM(1, cudnnSetStream), SYM(1, cudnnCreateActivationDescriptor), SYM(1, cudnnSetActivationDescriptor),
        SYM(1, cudnnDestroyActivationDescriptor), SYM(1, cudnnCreateTensorDescriptor),
        SYM(1, cudnnSetTensor4dDescriptor), SYM(1, cudnnDestroyTensorDescriptor), SYM(1, cudnnCreateFilterDescriptor),
        SYM(1, cudnnSetFilter4dDescriptor), SYM(1, cudnnDestroyFilterDescriptor),
        SYM(1, cudnnCreateConvolutionDescriptor), SYM(1, cudnnSetConvolution2dDescriptor),
        SYM(1, cudnnSetConvolutionMathType), SYM(1, cudnnDestroyConvolutionDescriptor),
        SYM(1, cudnnGetConvolution2dForwardOutputDim), SYM(1, cudnnFindConvolutionForwardAlgorithm),
        SYM(1, cudnnGetConvolutionForwardWorkspaceSize), SYM(1, cudnnConvolutionForward),
        SYM(1, cudnnConvolutionBiasActivationForward),
    };
#undef SYM
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++)
        if (!(*syms[i].slot = dlsym(h[syms[i].lib], syms[i].name)))
            return oiqa_fail(OIQA_EXIT_DATA, NULL, "%s: no symbol %s in %s", libs[syms[i].lib].label, syms[i].name,
                             libs[syms[i].lib].soname);
    return OIQA_OK;
}

const oiqa_cuda_libs *oiqa_cuda_libs_load(void)
{
    static int state = 0; /* 0 not tried, 1 loaded, -1 failed */
    static oiqa_error failure;
    int ok;
#pragma omp critical(oiqa_cuda_libs_load)
    {
        if (state == 0) {
            int rc = load();
            state = rc ? -1 : 1;
            if (rc) oiqa_error_capture(&failure, rc);
            else oiqa_cuda_libs_loaded = &table;
        }
        ok = state == 1;
    }
    if (!ok) oiqa_error_restore(&failure);
    return ok ? &table : NULL;
}
