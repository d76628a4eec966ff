/* Layers with parameters, built from the tape's ops (nn/ag.h): linear,
 * convolution (1-D and 2-D, through im2col + matmul), multi-head attention
 * (Vaswani et al. 2017) and an LSTM (Hochreiter & Schmidhuber 1997, with
 * PyTorch's gate order; its two biases b_ih + b_hh are one vector here). Their
 * initialisations are PyTorch's defaults, drawn from base/rng.h, so a seed
 * fixes them. Each layer lists its parameters for the optimiser. */
#ifndef OIQA_NN_AG_LAYERS_H
#define OIQA_NN_AG_LAYERS_H

#include "base/rng.h"
#include "nn/ag.h"

#define OIQA_LAYER_MAX_PARAMS 8

typedef struct {
    int in, out, has_bias;
    oiqa_param w, b; /* w [out, in], b [out] */
} oiqa_linear_layer;

/* nn.Linear's init: w and b ~ U(-1/sqrt(in), 1/sqrt(in)). */
int oiqa_linear_layer_init(oiqa_linear_layer *l, const char *name, int in, int out, int bias, oiqa_rng *rng);
oiqa_agv oiqa_linear_layer_apply(oiqa_ag *ag, oiqa_linear_layer *l, oiqa_agv x);
void oiqa_linear_layer_free(oiqa_linear_layer *l);

/* A convolution on NHWC [B, H, W, Cin] (2-D) or [B, L, Cin] (1-D: kh = 1). */
typedef struct {
    int kh, kw, stride, pad_h, pad_w, cin, cout;
    oiqa_param w, b; /* w [kh*kw*cin, cout] (HWIO), b [cout] */
} oiqa_conv_layer;

int oiqa_conv_layer_init(oiqa_conv_layer *l, const char *name, int kh, int kw, int cin, int cout, int stride,
                         int pad_h, int pad_w, oiqa_rng *rng);
oiqa_agv oiqa_conv_layer_apply(oiqa_ag *ag, oiqa_conv_layer *l, oiqa_agv x);
void oiqa_conv_layer_free(oiqa_conv_layer *l);

/* Multi-head attention on [B, L, D] (queries) and [B, S, D] (keys/values):
 * softmax(Q K^T / sqrt(D/heads)) V per head, heads concatenated, projected. */
typedef struct {
    int dim, heads;
    oiqa_linear_layer q, k, v, o;
} oiqa_mha;

int oiqa_mha_init(oiqa_mha *m, const char *name, int dim, int heads, oiqa_rng *rng);
/* kv = -1 for self-attention. */
oiqa_agv oiqa_mha_apply(oiqa_ag *ag, oiqa_mha *m, oiqa_agv x, oiqa_agv kv);
void oiqa_mha_free(oiqa_mha *m);

/* One-layer LSTM over [B, T, D] -> hidden states [B, T, H], zero initial
 * state. gates = x W_ih^T + h W_hh^T + b (i, f, g, o blocks of H);
 * c = sigmoid(f) c + sigmoid(i) tanh(g); h = sigmoid(o) tanh(c). */
typedef struct {
    int in, hidden;
    oiqa_linear_layer ih, hh; /* [4H, D] with bias, [4H, H] without */
} oiqa_lstm;

int oiqa_lstm_init(oiqa_lstm *l, const char *name, int in, int hidden, oiqa_rng *rng);
oiqa_agv oiqa_lstm_apply(oiqa_ag *ag, oiqa_lstm *l, oiqa_agv x);
void oiqa_lstm_free(oiqa_lstm *l);

/* The parameters of a layer, for the optimiser; returns the count. */
int oiqa_linear_layer_params(oiqa_linear_layer *l, oiqa_param **out);
int oiqa_conv_layer_params(oiqa_conv_layer *l, oiqa_param **out);
int oiqa_mha_params(oiqa_mha *m, oiqa_param **out);
int oiqa_lstm_params(oiqa_lstm *l, oiqa_param **out);

#endif
