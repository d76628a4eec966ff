/* Reading the reference fixtures' HDF5 datasets in tests (contiguous,
 * little-endian, written by h5py; DESIGN's fixtures README). */
#ifndef OIQA_TEST_FIXTURE_H5_H
#define OIQA_TEST_FIXTURE_H5_H

#include <hdf5.h>
#include <stdlib.h>
#include <string.h>

/* Reads a whole dataset of `file`, converted to mem_type (elem bytes each),
 * into a malloc'ed buffer. dims (up to 4 axes, padded with 1) and the
 * element count are returned when asked for (1s and 0 when absent). NULL if
 * absent or of rank > 4. */
static inline void *fixture_read_dataset(hid_t file, const char *name, hid_t mem_type, size_t elem, hsize_t dims[4],
                                         size_t *count)
{
    if (dims) dims[0] = dims[1] = dims[2] = dims[3] = 1; /* set on every path */
    if (count) *count = 0;
    if (H5Lexists(file, name, H5P_DEFAULT) <= 0) return NULL;
    hid_t d = H5Dopen2(file, name, H5P_DEFAULT);
    if (d < 0) return NULL;
    hid_t sp = H5Dget_space(d);
    int rank = H5Sget_simple_extent_ndims(sp);
    hsize_t dd[4] = {1, 1, 1, 1};
    if (rank < 1 || rank > 4) rank = 0;
    else H5Sget_simple_extent_dims(sp, dd, NULL);
    size_t n = 1;
    for (int k = 0; k < rank; k++) n *= dd[k];
    void *buf = rank ? malloc(n * elem) : NULL;
    if (buf && H5Dread(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
        free(buf);
        buf = NULL;
    }
    H5Sclose(sp);
    H5Dclose(d);
    if (dims) memcpy(dims, dd, sizeof dd);
    if (count) *count = n;
    return buf;
}

/* A float32 dataset of exactly `want` elements (NULL: absent or another size). */
static inline float *fixture_read_f32(hid_t file, const char *name, size_t want)
{
    size_t n;
    float *v = fixture_read_dataset(file, name, H5T_NATIVE_FLOAT, sizeof(float), NULL, &n);
    if (v && n != want) free(v), v = NULL;
    return v;
}

#endif
