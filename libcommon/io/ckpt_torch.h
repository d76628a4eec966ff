/* The torch.save zip reader behind oiqa_ckpt_open (io/ckpt_torch.c). */
#ifndef OIQA_IO_CKPT_TORCH_H
#define OIQA_IO_CKPT_TORCH_H

#include "io/ckpt_tensor.h"

/* Lists the tensors of ck's mapped zip (the dict chosen by dict_key, io/ckpt.h). */
int ckpt_open_torch(oiqa_ckpt *ck, const char *dict_key);

#endif
