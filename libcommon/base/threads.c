#include "base/threads.h"

#include <omp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* From OpenBLAS (cblas.h is not needed for these calls). */
void openblas_set_num_threads(int);
char *openblas_get_corename(void);

/* Debian 12's OpenBLAS 0.3.21 (a DYNAMIC_ARCH build) does not recognise CPUs
 * newer than itself (Sapphire and Emerald Rapids, family 6 models 143 and
 * 207, among others) and falls back to its SSE3 "Prescott" kernels: sgemm
 * runs about 6x slower. It picks its kernels when the library loads, from
 * OPENBLAS_CORETYPE if set; so when it reports Prescott on a CPU that has
 * AVX-512 (or AVX2 and FMA), this sets OPENBLAS_CORETYPE=SkylakeX (Haswell)
 * and executes the program again, once, before main. A user's own
 * OPENBLAS_CORETYPE is respected, and OIQA_BLAS_REEXEC=0 turns this off
 * (e.g. under valgrind). glibc passes argc, argv and envp to constructors. */
__attribute__((constructor)) static void blas_pick_kernels(int argc, char **argv, char **envp)
{
    (void)argc, (void)envp;
    const char *off = getenv("OIQA_BLAS_REEXEC");
    if (getenv("OPENBLAS_CORETYPE") || (off && !strcmp(off, "0")) || !argv || !argv[0]) return;
    const char *core = openblas_get_corename();
    if (!core || strcmp(core, "Prescott")) return;
    __builtin_cpu_init();
    const char *better = __builtin_cpu_supports("avx512f")                                 ? "SkylakeX"
                         : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? "Haswell"
                                                                                            : NULL;
    if (!better || setenv("OPENBLAS_CORETYPE", better, 1)) return;
    execv("/proc/self/exe", argv);
    /* exec failed: carry on with the slow kernels. */
}

static atomic_int g_threads; /* 0: not set yet */

/* OMP_NUM_THREADS, when the user set it to a plain positive number, says how
 * many threads they want this machine to give us; otherwise every core we may
 * run on (omp_get_num_procs honours the CPU affinity mask). */
int oiqa_threads_default(void)
{
    const char *env = getenv("OMP_NUM_THREADS");
    if (env && *env) {
        char *end;
        long n = strtol(env, &end, 10);
        if (*end == '\0' && n > 0 && n <= 1024) return (int)n;
    }
    int procs = omp_get_num_procs();
    return procs > 0 ? procs : 1;
}

void oiqa_threads_set(int n)
{
    if (n <= 0) n = oiqa_threads_default();
    atomic_store(&g_threads, n);
    /* Set together so that OpenMP loops and BLAS calls never oversubscribe. */
    omp_set_num_threads(n);
    openblas_set_num_threads(n);
}

int oiqa_threads_get(void)
{
    int n = atomic_load(&g_threads);
    return n > 0 ? n : oiqa_threads_default();
}
