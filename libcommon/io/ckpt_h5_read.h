/* Reading oiqa HDF5 weight files (layout: io/ckpt_h5.h, docs/weights.md):
 * the format reader behind oiqa_ckpt_open, and the HDF5 type of each
 * checkpoint dtype, which the writer (io/ckpt_h5.c) shares. */
#ifndef OIQA_IO_CKPT_H5_READ_H
#define OIQA_IO_CKPT_H5_READ_H

#include <hdf5.h>

#include "io/ckpt_tensor.h"

#define OIQA_WEIGHTS_SCHEMA 1 /* the root attribute oiqa_weights_schema this reader and the writer know */
#define CKPT_H5_TENSORS_GROUP "tensors" /* the group holding one dataset per tensor */

/* Lists the tensors of the oiqa HDF5 weight file ck->path: replaces ck->map
 * with a heap copy of every tensor's elements; refuses other HDF5 files. */
int ckpt_open_h5(oiqa_ckpt *ck);

/* The stored HDF5 type of dt, a copy the caller closes; -1 for none. */
hid_t ckpt_h5_type_of(oiqa_ck_dtype dt);

#endif
