/* The CUDA probe behind nn/device.h: is there a device the runtime can start? */
#include <stdio.h>

#include <cuda_runtime_api.h>

int oiqa_cuda_probe(char *why, size_t why_size);
int oiqa_cuda_query(char *name, size_t name_size, size_t *free_bytes, size_t *total_bytes);

int oiqa_cuda_probe(char *why, size_t why_size)
{
    int count = 0;
    cudaError_t err = cudaGetDeviceCount(&count);
    if (err == cudaErrorNoDevice || (err == cudaSuccess && count == 0)) {
        snprintf(why, why_size, "no CUDA device");
        return 0;
    }
    if (err == cudaErrorInsufficientDriver) {
        snprintf(why, why_size, "no NVIDIA driver, or one older than this build's CUDA %d.%d", CUDART_VERSION / 1000,
                 CUDART_VERSION % 1000 / 10);
        return 0;
    }
    if (err != cudaSuccess) {
        snprintf(why, why_size, "CUDA: %s", cudaGetErrorString(err));
        return 0;
    }
    struct cudaDeviceProp prop;
    if ((err = cudaGetDeviceProperties(&prop, 0)) != cudaSuccess || (err = cudaSetDevice(0)) != cudaSuccess ||
        (err = cudaFree(0)) != cudaSuccess) { /* cudaFree(0) starts the context */
        snprintf(why, why_size, "CUDA device 0 does not start: %s", cudaGetErrorString(err));
        return 0;
    }
    if (prop.major < 8) {
        snprintf(why, why_size, "%s is compute capability %d.%d; this build targets 8.0 and newer", prop.name,
                 prop.major, prop.minor);
        return 0;
    }
    return 1;
}

int oiqa_cuda_query(char *name, size_t name_size, size_t *free_bytes, size_t *total_bytes)
{
    struct cudaDeviceProp prop;
    if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) return -1;
    snprintf(name, name_size, "%s", prop.name);
    return cudaMemGetInfo(free_bytes, total_bytes) == cudaSuccess ? 0 : -1;
}
