#include "base/threads.h"

#include <omp.h>
#include <stdatomic.h>
#include <stdlib.h>

/* From OpenBLAS (cblas.h is not needed for this one call). */
void openblas_set_num_threads(int);

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
