/* A small reverse-mode automatic differentiation tape for training the
 * fusion heads on cached features (issue 6): a forward pass records each op
 * as a node holding its value; oiqa_ag_backward walks the nodes in reverse
 * and accumulates gradients into every input that needs one (Griewank &
 * Walther, "Evaluating Derivatives", the tape or "Wengert list" form).
 *
 * It also trains backbones on the CPU (issue 17): convolutional networks
 * (nn/ag_cnn.c: conv2d, batch norm, pooling) and transformers
 * (nn/ag_attention.c, nn/ag_seq.c: attention, token ops).
 *
 * Values are float32, row-major, up to 4 dimensions. A value is named by an
 * index on its tape (oiqa_agv); ops return -1 after a failure (the message
 * is set, base/error.h) and propagate -1 inputs, so a forward pass can be
 * written straight and checked once at the end.
 *
 * Parameters live outside the tape (oiqa_param: weights and their gradient
 * accumulators), so one tape is reset and reused every step while the
 * gradients add up until the optimiser (nn/optim.h) takes them.
 *
 * Broadcasting: add and mul accept b of a's shape, or of a's trailing
 * dimensions (a bias [C] onto [B, C]), or a single element.
 *
 * Ops that call BLAS (matmul, linear) must run from serial code. */
#ifndef OIQA_NN_AG_H
#define OIQA_NN_AG_H

#include <stddef.h>
#include <stdint.h>

#include "base/rng.h"

#define OIQA_AG_MAX_DIMS 4

typedef int oiqa_agv;
typedef struct oiqa_ag oiqa_ag;

typedef struct {
    char *name;                  /* "fc1.weight" */
    int ndim;
    int shape[OIQA_AG_MAX_DIMS];
    size_t numel;
    float *w;                    /* values (owned) */
    float *g;                    /* gradient accumulator (owned), zeroed by oiqa_param_zero_grad */
    float *m, *v;                /* optimiser state (owned, NULL until used) */
    int frozen;                  /* 1: a constant on the tape (no gradient, nothing computed for it) */
} oiqa_param;

/* Allocates a parameter of the given shape, values zero. */
int oiqa_param_init(oiqa_param *p, const char *name, int ndim, const int *shape);
void oiqa_param_free(oiqa_param *p);
void oiqa_param_zero_grad(oiqa_param *p);

oiqa_ag *oiqa_ag_new(void);
void oiqa_ag_free(oiqa_ag *ag);
/* Drops every node (values, gradients), keeping the tape for reuse: their
 * buffers stay in the tape's pool for the next step's same-sized ones. */
void oiqa_ag_reset(oiqa_ag *ag);
/* Training mode (dropout active) or evaluation mode; default training. */
void oiqa_ag_set_training(oiqa_ag *ag, int training);

/* Leaves: a copy of data (no gradient), a zero-filled value, a parameter
 * (its values are used in place; backward adds into p->g, unless p->frozen:
 * then it is a constant and the backward does no work for it). */
oiqa_agv oiqa_ag_input(oiqa_ag *ag, const float *data, int ndim, const int *shape);
oiqa_agv oiqa_ag_param(oiqa_ag *ag, oiqa_param *p);

/* Access to a value and (after backward) its gradient; NULL for -1. The
 * backward keeps the gradients of leaves (parameters, inputs) and of the
 * loss; an op's own gradient is released once its backward has run. */
float *oiqa_ag_data(oiqa_ag *ag, oiqa_agv v);
const float *oiqa_ag_grad(oiqa_ag *ag, oiqa_agv v);
int oiqa_ag_ndim(oiqa_ag *ag, oiqa_agv v);
const int *oiqa_ag_shape(oiqa_ag *ag, oiqa_agv v);
size_t oiqa_ag_numel(oiqa_ag *ag, oiqa_agv v);

/* Seeds d loss / d loss = 1 (loss must have one element) and propagates. */
int oiqa_ag_backward(oiqa_ag *ag, oiqa_agv loss);

/* ---- elementwise and shape ops (nn/ag_ops.c) ---- */
oiqa_agv oiqa_ag_add(oiqa_ag *ag, oiqa_agv a, oiqa_agv b);
oiqa_agv oiqa_ag_sub(oiqa_ag *ag, oiqa_agv a, oiqa_agv b);
oiqa_agv oiqa_ag_mul(oiqa_ag *ag, oiqa_agv a, oiqa_agv b);
oiqa_agv oiqa_ag_scale(oiqa_ag *ag, oiqa_agv a, float s);
oiqa_agv oiqa_ag_relu(oiqa_ag *ag, oiqa_agv a);
/* relu(a + b), a and b of one shape (a residual block's end), one value kept. */
oiqa_agv oiqa_ag_add_relu(oiqa_ag *ag, oiqa_agv a, oiqa_agv b);
oiqa_agv oiqa_ag_gelu(oiqa_ag *ag, oiqa_agv a);    /* exact (erf) */
oiqa_agv oiqa_ag_sigmoid(oiqa_ag *ag, oiqa_agv a);
oiqa_agv oiqa_ag_tanh(oiqa_ag *ag, oiqa_agv a);
oiqa_agv oiqa_ag_silu(oiqa_ag *ag, oiqa_agv a);       /* x sigmoid(x) */
oiqa_agv oiqa_ag_quick_gelu(oiqa_ag *ag, oiqa_agv a); /* x sigmoid(1.702 x): CLIP's activation */
/* 1 where a > threshold, else 0, with a straight-through gradient clamped to
 * [-1, 1] (KD-OIQA's Bisign mask). */
oiqa_agv oiqa_ag_bisign(oiqa_ag *ag, oiqa_agv a, float threshold);
/* Same elements, another shape (numel must agree). */
oiqa_agv oiqa_ag_reshape(oiqa_ag *ag, oiqa_agv a, int ndim, const int *shape);
/* Reorders the dimensions: output dimension d is input dimension perm[d]. */
oiqa_agv oiqa_ag_permute(oiqa_ag *ag, oiqa_agv a, const int *perm);
/* a[index] along the first dimension (which is removed). */
oiqa_agv oiqa_ag_select(oiqa_ag *ag, oiqa_agv a, int index);
/* Sliding windows of an NHWC value [B, H, W, C] for a kh x kw convolution
 * with the stride and zero padding (pad_h rows, pad_w columns on each side):
 * [B, OH, OW, kh*kw*C] in (u, v, c) order, so a convolution is
 * oiqa_ag_matmul with an HWIO weight [kh*kw*C, Cout] (nn/ag_layers.h). */
oiqa_agv oiqa_ag_im2col(oiqa_ag *ag, oiqa_agv x, int kh, int kw, int stride, int pad_h, int pad_w);
/* Inverted dropout: zero with probability p, scale the rest by 1/(1-p);
 * the identity in evaluation mode. */
oiqa_agv oiqa_ag_dropout(oiqa_ag *ag, oiqa_agv a, float p, oiqa_rng *rng);

/* ---- along an axis, and over tokens (nn/ag_seq.c); axis < 0 counts from the end ---- */
/* Concatenation of any number of parts along an axis (they agree on the
 * others); oiqa_ag_concat is along the last one. */
oiqa_agv oiqa_ag_concat_axis(oiqa_ag *ag, const oiqa_agv *parts, int n, int axis);
oiqa_agv oiqa_ag_concat(oiqa_ag *ag, const oiqa_agv *parts, int n);
/* a[..., start : start + len, ...] along an axis (x[:, 0:1] is the class
 * token of [B, T, D]); oiqa_ag_slice is along the last one. */
oiqa_agv oiqa_ag_narrow(oiqa_ag *ag, oiqa_agv a, int axis, int start, int len);
oiqa_agv oiqa_ag_slice(oiqa_ag *ag, oiqa_agv a, int start, int len);
/* count copies of a along a new first dimension, [count, ...] (a class
 * token for every image); backward sums them. */
oiqa_agv oiqa_ag_repeat(oiqa_ag *ag, oiqa_agv a, int count);
/* Rows of a seen as [R, D] (D its last dimension) at the given indices ->
 * [n, D]: nn.Embedding's lookup when a is the table, and gathering tokens
 * (CLIP's x[arange(B), eot]) from a reshaped [B*T, D]. Repeated indices add
 * their gradients. */
oiqa_agv oiqa_ag_take_rows(oiqa_ag *ag, oiqa_agv a, const int *rows, int n);
/* Stochastic depth (Huang et al. 2016; timm's drop_path): each sample along
 * the first dimension is zeroed with probability p and the others scaled by
 * 1/(1-p); the identity in evaluation mode. */
oiqa_agv oiqa_ag_drop_path(oiqa_ag *ag, oiqa_agv a, float p, oiqa_rng *rng);

/* ---- attention (nn/ag_attention.c) ---- */
/* Multi-head scaled dot-product attention, heads split along the channels:
 * q [B, L, C], k and v [B, S, C] -> [B, L, C], per head
 * softmax(q k^T / sqrt(C/heads) + mask) v. mask: [L, S] added to the scores
 * (CLIP's causal mask, -inf above the diagonal) or NULL; read during the
 * call only. oiqa_ag_attention_qkv takes a fused projection [B, L, 3C]
 * (q, k, v blocks of channels, as CLIP's in_proj and timm's qkv store them). */
oiqa_agv oiqa_ag_attention(oiqa_ag *ag, oiqa_agv q, oiqa_agv k, oiqa_agv v, int heads, const float *mask);
oiqa_agv oiqa_ag_attention_qkv(oiqa_ag *ag, oiqa_agv qkv, int heads, const float *mask);

/* ---- linear algebra and normalisation (nn/ag_linalg.c) ---- */
/* a [..., M, K] x b [K, N] -> [..., M, N]; or batched b [..., K, N] with the
 * same leading dimensions as a. */
oiqa_agv oiqa_ag_matmul(oiqa_ag *ag, oiqa_agv a, oiqa_agv b);
/* nn.Linear: x [..., in] * W^T + b, W [out, in], b [out] or -1. */
oiqa_agv oiqa_ag_linear(oiqa_ag *ag, oiqa_agv x, oiqa_agv w, oiqa_agv b);
/* Softmax over the last dimension. */
oiqa_agv oiqa_ag_softmax(oiqa_ag *ag, oiqa_agv a);
/* LayerNorm over the last dimension (biased variance), gamma/beta [C] or -1. */
oiqa_agv oiqa_ag_layernorm(oiqa_ag *ag, oiqa_agv x, oiqa_agv gamma, oiqa_agv beta, float eps);
/* Mean, or std (Bessel-corrected when unbiased), over one axis, which is
 * removed from the shape: pooling over viewports. */
oiqa_agv oiqa_ag_mean_axis(oiqa_ag *ag, oiqa_agv a, int axis);
oiqa_agv oiqa_ag_std_axis(oiqa_ag *ag, oiqa_agv a, int axis, int unbiased);
/* Swaps the last two dimensions. */
oiqa_agv oiqa_ag_transpose(oiqa_ag *ag, oiqa_agv a);

/* ---- convolutional networks (nn/ag_cnn.c), NHWC values ---- */
/* torch.nn.Conv2d: x [B, H, W, C], w [O, C/groups, kh, kw] (PyTorch's OIHW,
 * as checkpoints store it), b [O] or -1; the same stride and zero padding
 * on both axes; groups = C is a depthwise convolution. -> [B, OH, OW, O]. */
oiqa_agv oiqa_ag_conv2d(oiqa_ag *ag, oiqa_agv x, oiqa_agv w, oiqa_agv b, int stride, int pad, int groups);
/* torch.nn.BatchNorm2d over the last dimension (the channels) of x
 * [..., C]: with batch_stats, normalised by the batch mean and biased
 * variance, and the running statistics (when not NULL) moved by momentum
 * towards the batch mean and the unbiased variance (train mode); without,
 * normalised by the running statistics (eval mode, and the frozen-statistics
 * mode of fine-tuning: gamma and beta still learn). gamma, beta [C]. */
oiqa_agv oiqa_ag_batchnorm2d(oiqa_ag *ag, oiqa_agv x, oiqa_agv gamma, oiqa_agv beta, float *running_mean,
                             float *running_var, int batch_stats, float momentum, float eps);
/* The same followed by a ReLU when relu (one value kept instead of two, as
 * PyTorch's in-place ReLU after a BatchNorm). */
oiqa_agv oiqa_ag_batchnorm2d_act(oiqa_ag *ag, oiqa_agv x, oiqa_agv gamma, oiqa_agv beta, float *running_mean,
                                 float *running_var, int batch_stats, float momentum, float eps, int relu);
/* torch.nn.MaxPool2d(k, stride, pad) on [B, H, W, C] (padding is -inf). */
oiqa_agv oiqa_ag_maxpool2d(oiqa_ag *ag, oiqa_agv x, int k, int stride, int pad);
/* torch.nn.AvgPool2d(k, stride, pad) (count_include_pad: the padding counts
 * as zeros) and AdaptiveAvgPool2d((oh, ow)) (PyTorch's bins: rows
 * floor(i H / oh) .. ceil((i + 1) H / oh)) on [B, H, W, C]. */
oiqa_agv oiqa_ag_avgpool2d(oiqa_ag *ag, oiqa_agv x, int k, int stride, int pad);
oiqa_agv oiqa_ag_adaptive_avgpool2d(oiqa_ag *ag, oiqa_agv x, int oh, int ow);

/* ---- losses (nn/ag_loss.c), each a one-element value ---- */
oiqa_agv oiqa_ag_mse(oiqa_ag *ag, oiqa_agv pred, oiqa_agv target);
oiqa_agv oiqa_ag_l1(oiqa_ag *ag, oiqa_agv pred, oiqa_agv target);
/* Huber with threshold beta (PyTorch's smooth_l1_loss). */
oiqa_agv oiqa_ag_smooth_l1(oiqa_ag *ag, oiqa_agv pred, oiqa_agv target, float beta);
/* Mean cross-entropy of logits [B, K] against class indices [B]. */
oiqa_agv oiqa_ag_cross_entropy(oiqa_ag *ag, oiqa_agv logits, const int *labels);
/* 1 - Pearson correlation of pred and target (both n elements), halved to
 * [0, 1]: a correlation-driven loss for quality regression. */
oiqa_agv oiqa_ag_plcc_loss(oiqa_ag *ag, oiqa_agv pred, oiqa_agv target);

#endif
