/* The safetensors reader behind oiqa_ckpt_open (io/safetensors.c). */
#ifndef OIQA_IO_SAFETENSORS_H
#define OIQA_IO_SAFETENSORS_H

#include "io/ckpt_tensor.h"

/* Lists the tensors of ck's mapped safetensors file. */
int ckpt_open_safetensors(oiqa_ckpt *ck);

#endif
