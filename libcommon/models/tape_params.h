/* Reading a trainable network's tensors from a checkpoint (io/ckpt.h) into
 * tape parameters (nn/ag.h), shared by the networks on the tape
 * (models/resnet_tape.h, models/transformer_tape.h): each parameter is named
 * by its state-dict key and registered in the network's list, in load
 * order, so optimisers, freezing by prefix and saved checkpoints line up
 * with PyTorch's names. */
#ifndef OIQA_MODELS_TAPE_PARAMS_H
#define OIQA_MODELS_TAPE_PARAMS_H

#include "io/ckpt.h"
#include "nn/ag.h"

typedef struct {
    const oiqa_ckpt *ck;
    const char *path;
    const char *what;   /* "a torchvision ResNet": names the expected checkpoint in messages */
    oiqa_param **list;  /* the network's parameter list */
    int *n, cap;
    oiqa_param **buffers; /* its buffers (BatchNorm's running statistics), NULL: none */
    int *n_buffers, buffers_cap;
} oiqa_tape_loader;

/* The tensor `name` into p, registered in the list. want: ndim sizes to
 * check (an entry <= 0 takes the checkpoint's), or NULL. A missing or
 * mis-shaped tensor fails naming the file and the key. */
int oiqa_tape_load_param(oiqa_tape_loader *l, const char *name, int ndim, const int *want, oiqa_param *p);
/* A tensor of exactly numel values into p, a frozen parameter (a constant
 * on the tape, skipped by the optimisers) registered in the buffer list:
 * BatchNorm's running statistics, which do not train by gradient but are
 * saved and restored with the weights. */
int oiqa_tape_load_buffer(oiqa_tape_loader *l, const char *name, size_t numel, oiqa_param *p);
/* The parameter of the list with this name, NULL when none. */
oiqa_param *oiqa_tape_find_param(oiqa_param *const *list, int n, const char *name);

#endif
