/* Thread count for OpenMP and OpenBLAS together (no oversubscription):
 * OpenMP and OpenBLAS both get n. (Nothing calls BLAS yet; the NN core of
 * issue 3 must call it from serial code, or set BLAS to 1 thread around
 * OpenMP regions that call it.) */
#ifndef OIQA_BASE_THREADS_H
#define OIQA_BASE_THREADS_H

/* OMP_NUM_THREADS when set to a positive number, else the number of usable
 * cores (omp_get_num_procs, which honours the affinity mask). */
int oiqa_threads_default(void);
void oiqa_threads_set(int n);     /* n <= 0: default */
int oiqa_threads_get(void);

#endif
