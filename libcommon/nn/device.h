/* Where the compute stages run (DESIGN §6): `--device cpu|cuda|auto`.
 *
 * cpu   the CPU kernels (OpenBLAS + OpenMP), always available.
 * cuda  the CUDA backend (cuDNN convolutions, cuBLAS GEMMs, oiqa's own
 *       kernels for the rest; nn/cuda/). When it cannot run (a build without
 *       CUDA, no driver, no device, a device that fails to start), the stage
 *       falls back to the CPU and says so in one line on stderr: the same
 *       command line works on every machine.
 * auto  the GPU when one works (the default of the stage tools), the CPU
 *       otherwise, silently (a debug line, -v).
 * Work on the GPU starts with one info line naming it (oiqa_device_announce;
 * -q silences it), printed when the first GPU work starts rather than when
 * the device is chosen, so that an error before any work stays one line.
 *
 * Reduced precision is opt-in: OIQA_TF32=1 in the environment lets cuDNN and
 * cuBLAS use TF32 tensor cores (about 1e-3 relative error per layer);
 * without it every GPU op is IEEE fp32 FMA arithmetic and matches the CPU to
 * DESIGN §6's 1e-3 (the backend tests check it). */
#ifndef OIQA_NN_DEVICE_H
#define OIQA_NN_DEVICE_H

#include <stddef.h>

typedef enum { OIQA_DEVICE_CPU = 0, OIQA_DEVICE_CUDA = 1, OIQA_DEVICE_AUTO = 2 } oiqa_device;

/* {"cpu", "cuda", "auto", NULL}, in enum order (an OIQA_OPT_ENUM's choices). */
extern const char *const oiqa_device_names[];

/* 1 when this build has the CUDA backend (compiled with nvcc, CUDA=1). */
int oiqa_cuda_built(void);

/* 1 when a CUDA device can be used now; else 0 with the reason in why
 * ("this build has no CUDA backend (make CUDA=0 or no nvcc)", "no CUDA
 * device", "CUDA driver: ..."). The probe runs once per process. */
int oiqa_cuda_usable(char *why, size_t why_size);

/* Device 0's name, free and total memory (bytes); 0 on success. */
int oiqa_cuda_device_info(char *name, size_t name_size, size_t *free_bytes, size_t *total_bytes);

/* The device a stage runs on for a request: cpu stays cpu; cuda and auto
 * give cuda when usable, else cpu, with the fallback line described above
 * (once per process: a warning for an explicit `cuda`, a debug line for
 * `auto`). Never fails. */
oiqa_device oiqa_device_resolve(oiqa_device requested);

/* "running on the GPU: NAME (F of T GiB free)", once per process: call it
 * where GPU work begins. */
void oiqa_device_announce(void);

/* 1 when OIQA_TF32=1 (reduced precision allowed on the GPU). */
int oiqa_device_tf32(void);

#endif
