/* Checkpoint element types (io/ckpt_tensor.h): sizes, names, bfloat16. */
#include "io/ckpt_tensor.h"

#include <string.h>

static const struct {
    oiqa_ck_dtype dt;
    size_t size;
    const char *name;
} DTYPES[] = {
    {OIQA_CK_UNKNOWN, 0, "unknown"}, {OIQA_CK_F32, 4, "F32"}, {OIQA_CK_F16, 2, "F16"},   {OIQA_CK_BF16, 2, "BF16"},
    {OIQA_CK_F64, 8, "F64"},         {OIQA_CK_I64, 8, "I64"}, {OIQA_CK_I32, 4, "I32"},   {OIQA_CK_I16, 2, "I16"},
    {OIQA_CK_I8, 1, "I8"},           {OIQA_CK_U8, 1, "U8"},   {OIQA_CK_BOOL, 1, "BOOL"},
};
#define N_DTYPES (int)(sizeof DTYPES / sizeof DTYPES[0])

size_t oiqa_ck_dtype_size(oiqa_ck_dtype dt) { return (int)dt > 0 && (int)dt < N_DTYPES ? DTYPES[dt].size : 0; }
const char *oiqa_ck_dtype_name(oiqa_ck_dtype dt)
{
    return (int)dt > 0 && (int)dt < N_DTYPES ? DTYPES[dt].name : "unknown";
}

float oiqa_bf16_to_f32(uint16_t b)
{
    uint32_t bits = (uint32_t)b << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}
