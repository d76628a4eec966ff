/* The ResNet forward pass (models/resnet.h): stem, BasicBlocks or
 * Bottlenecks on reused scratch buffers, optional global-average-pool + fc
 * head. */
#include "models/resnet.h"

#include <string.h>

#include "base/error.h"
#include "nn/backend.h"
#include "nn/pool.h"


/* A tensor header over borrowed memory (never passed to oiqa_tensor_free). */
static oiqa_tensor view(float *data, int n, int h, int w, int c)
{
    return (oiqa_tensor){n, h, w, c, data};
}

/* The output of conv applied to x, as a view over data. */
static oiqa_tensor conv_out_view(const oiqa_conv2d *conv, const oiqa_tensor *x, float *data)
{
    return view(data, x->n, oiqa_conv2d_out_size(x->h, conv->kh, conv->stride, conv->pad),
                oiqa_conv2d_out_size(x->w, conv->kw, conv->stride, conv->pad), conv->cout);
}

/* (Re)allocates t to n x h x w x c unless it already has that shape. */
static int ensure_shape(oiqa_tensor *t, int n, int h, int w, int c)
{
    if (t->data && t->n == n && t->h == h && t->w == w && t->c == c) return OIQA_OK;
    oiqa_tensor_free(t);
    return oiqa_tensor_create(t, n, h, w, c);
}

static int n_convs(const oiqa_resnet *net) { return net->plan.convs_per_block; }

/* Largest map, in floats, that any scratch buffer must hold for an n x h x w
 * input: walks the shapes of every intermediate (stem conv, pool, each
 * block's inner maps and output). */
static size_t scratch_floats(const oiqa_resnet *net, int n, int h, int w)
{
    oiqa_tensor x = view(NULL, n, h, w, 3);
    oiqa_tensor y = conv_out_view(&net->stem.conv, &x, NULL);
    size_t most = oiqa_tensor_numel(&y);
    for (int b = 0; b < net->plan.n_blocks; b++) {
        oiqa_tensor t = y;
        for (int j = 0; j < n_convs(net); j++) {
            t = conv_out_view(&net->blocks[b].conv[j].conv, &t, NULL);
            size_t s = oiqa_tensor_numel(&t);
            most = s > most ? s : most;
        }
        y = t;
    }
    return most;
}

/* One block: y = relu(conv_last(... relu(conv1(x))) + skip), with skip =
 * downsample(x) written straight into y first (conv2d.h allows y to alias
 * the residual). t1, t2: scratch for the inner maps; y must not alias x. */
static int block_forward(oiqa_backend *be, const oiqa_resnet *net, const oiqa_resnet_block *bk, const oiqa_tensor *x,
                         float *t1_data, float *t2_data, oiqa_tensor *y)
{
    int last = n_convs(net) - 1, rc = OIQA_OK;
    float *inner[2] = {t1_data, t2_data};
    oiqa_tensor in = *x;
    for (int j = 0; j < last && !rc; j++) {
        oiqa_tensor t = conv_out_view(&bk->conv[j].conv, &in, inner[j]);
        rc = be->ops->conv2d(be, &bk->conv[j].conv, &in, NULL, 1, &t);
        in = t;
    }
    const oiqa_tensor *skip = x;
    if (!rc && bk->has_downsample) {
        rc = be->ops->conv2d(be, &bk->downsample.conv, x, NULL, 0, y);
        skip = y;
    }
    if (!rc) rc = be->ops->conv2d(be, &bk->conv[last].conv, &in, skip, 1, y);
    return rc;
}

/* logits[b][o] = fc_bias[o] + sum_i pooled[b][i] * fc_weight[o][i] (in double). */
static void fc_forward(const oiqa_resnet *net, const oiqa_tensor *pooled, oiqa_tensor *logits)
{
    int F = pooled->c;
    for (int b = 0; b < pooled->n; b++) {
        const float *f = pooled->data + (size_t)b * F;
        for (int o = 0; o < net->classes; o++) {
            const float *wrow = net->fc_weight + (size_t)o * F;
            double acc = net->fc_bias[o];
            for (int i = 0; i < F; i++) acc += (double)f[i] * wrow[i];
            logits->data[(size_t)b * net->classes + o] = (float)acc;
        }
    }
}

static int head_forward(const oiqa_resnet *net, const oiqa_tensor *layer4, oiqa_tensor *logits)
{
    oiqa_tensor pooled = {0};
    int rc = oiqa_tensor_create(&pooled, layer4->n, 1, 1, layer4->c);
    if (!rc) rc = oiqa_global_avgpool(layer4, &pooled);
    if (!rc) rc = ensure_shape(logits, layer4->n, 1, 1, net->classes);
    if (!rc) fc_forward(net, &pooled, logits);
    oiqa_tensor_free(&pooled);
    return rc;
}

int oiqa_resnet_forward_on(oiqa_backend *be, const oiqa_resnet *net, const oiqa_tensor *x, oiqa_resnet_out *out)
{
    const char *title = net->plan.depth ? net->plan.depth->title : "ResNet";
    if (!x->data || x->c != 3 || x->n < 1 || x->h < 1 || x->w < 1)
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "%s input must be n x h x w x 3, got %d x %d x %d x %d", title, x->n,
                         x->h, x->w, x->c);
    size_t most = scratch_floats(net, x->n, x->h, x->w);
    /* buf[0], buf[1]: block outputs (ping-pong); buf[2], buf[3]: inner maps. */
    float *buf[4] = {0};
    int rc = OIQA_OK;
    for (int k = 0; k < 4 && !rc; k++)
        if (!(buf[k] = be->ops->alloc(be, most * sizeof(float))))
            rc = oiqa_fail(OIQA_EXIT_DATA, NULL, "out of %s memory (%s scratch, %zu floats)", be->ops->name, title,
                           most);

    /* Stem: conv1+bn1+ReLU into buf[2], maxpool 3x3/2 pad 1 into buf[1]. */
    oiqa_tensor stem = conv_out_view(&net->stem.conv, x, buf[2]);
    oiqa_tensor cur = view(buf[1], x->n, oiqa_conv2d_out_size(stem.h, 3, 2, 1),
                           oiqa_conv2d_out_size(stem.w, 3, 2, 1), stem.c);
    if (!rc) rc = be->ops->conv2d(be, &net->stem.conv, x, NULL, 1, &stem);
    if (!rc) rc = be->ops->maxpool2d(be, &stem, 3, 2, 1, &cur);

    for (int b = 0; b < net->plan.n_blocks && !rc; b++) {
        const oiqa_resnet_block *bk = &net->blocks[b];
        oiqa_tensor y = cur;
        for (int j = 0; j < n_convs(net); j++) y = conv_out_view(&bk->conv[j].conv, &y, NULL);
        int stage = net->plan.stage_of[b];
        if (b == net->plan.n_blocks - 1 || net->plan.stage_of[b + 1] != stage) { /* a stage's last block */
            rc = oiqa_be_tensor_ensure(be, &out->layer[stage], y.n, y.h, y.w, y.c);
            y.data = out->layer[stage].data;
        } else {
            y.data = cur.data == buf[0] ? buf[1] : buf[0];
        }
        if (!rc) rc = block_forward(be, net, bk, &cur, buf[2], buf[3], &y);
        cur = y;
    }
    for (int k = 0; k < 4; k++)
        if (buf[k]) be->ops->free(be, buf[k]);
    return rc;
}

int oiqa_resnet_forward(const oiqa_resnet *net, const oiqa_tensor *x, oiqa_resnet_out *out, int want_logits)
{
    int rc = oiqa_resnet_forward_on(oiqa_backend_cpu(), net, x, out);
    if (!rc && want_logits && net->classes) rc = head_forward(net, &out->layer[3], &out->logits);
    return rc;
}

void oiqa_resnet_out_free(oiqa_resnet_out *out)
{
    for (int k = 0; k < OIQA_RESNET_STAGES; k++) oiqa_tensor_free(&out->layer[k]);
    oiqa_tensor_free(&out->logits);
}
