/* The records a checkpoint lists (io/ckpt.h): element types and one
 * tensor's shape, strides and place in its storage. Apart from the front end
 * so that the format readers (io/ckpt_reader.h) need nothing above them. */
#ifndef OIQA_IO_CKPT_TENSOR_H
#define OIQA_IO_CKPT_TENSOR_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    OIQA_CK_UNKNOWN = 0, /* storage class the reader does not know */
    OIQA_CK_F32,
    OIQA_CK_F16,  /* IEEE binary16 */
    OIQA_CK_BF16, /* bfloat16: the top 16 bits of a float32 */
    OIQA_CK_F64,
    OIQA_CK_I64,
    OIQA_CK_I32,
    OIQA_CK_I16,
    OIQA_CK_I8,
    OIQA_CK_U8,
    OIQA_CK_BOOL, /* one byte, 0 or 1 */
} oiqa_ck_dtype;

#define OIQA_CK_MAX_DIMS 8

typedef struct {
    char *name;                        /* key in the chosen dict */
    oiqa_ck_dtype dtype;
    int ndim;                          /* 0 for a scalar (numel 1) */
    int64_t shape[OIQA_CK_MAX_DIMS];   /* sizes, outermost first */
    int64_t stride[OIQA_CK_MAX_DIMS];  /* in elements (row-major contiguous for safetensors) */
    int64_t storage_offset;            /* in elements, from the start of the storage */
    int64_t numel;                     /* product of shape (1 when ndim == 0) */
    /* Where the storage lies in the file (validated at open for known dtypes). */
    uint64_t file_offset;              /* byte offset of the storage's first element */
    uint64_t storage_bytes;            /* bytes of the storage */
} oiqa_ck_tensor;

typedef struct oiqa_ckpt oiqa_ckpt;

/* Size in bytes of one element (0 for OIQA_CK_UNKNOWN) and the dtype's name ("F32", ...). */
size_t oiqa_ck_dtype_size(oiqa_ck_dtype dt);
const char *oiqa_ck_dtype_name(oiqa_ck_dtype dt);

/* bfloat16 bit pattern to float (exact). float16 uses oiqa_f16_to_f32 of io/h5store.h. */
float oiqa_bf16_to_f32(uint16_t b);

#endif
