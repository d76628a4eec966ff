/* Thread count for OpenMP and OpenBLAS together (no oversubscription):
 * OpenMP gets n; BLAS gets n when called from serial code and 1 inside
 * OpenMP regions (see oiqa_blas_threads). */
#ifndef OIQA_BASE_THREADS_H
#define OIQA_BASE_THREADS_H

/* OMP_NUM_THREADS when set to a positive number, else the number of usable
 * cores (omp_get_num_procs, which honours the affinity mask). */
int oiqa_threads_default(void);
void oiqa_threads_set(int n);     /* n <= 0: default */
int oiqa_threads_get(void);

#endif
