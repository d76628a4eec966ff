/* ResNet-50 forward pass (models/resnet.h): stem, 16 Bottlenecks on reused
 * scratch buffers, optional global-average-pool + fc head. */
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

/* Largest map, in floats, that any scratch buffer must hold for an n x h x w
 * input: walks the shapes of every intermediate (stem conv, pool, each
 * block's inner maps and output). */
static size_t scratch_floats(const oiqa_resnet50 *net, int n, int h, int w)
{
    oiqa_tensor x = view(NULL, n, h, w, 3);
    oiqa_tensor y = conv_out_view(&net->stem.conv, &x, NULL);
    size_t most = oiqa_tensor_numel(&y);
    for (int b = 0; b < OIQA_RESNET50_BLOCKS; b++) {
        const oiqa_bottleneck *bk = &net->blocks[b];
        oiqa_tensor t1 = conv_out_view(&bk->conv1.conv, &y, NULL);
        oiqa_tensor t2 = conv_out_view(&bk->conv2.conv, &t1, NULL);
        oiqa_tensor t3 = conv_out_view(&bk->conv3.conv, &t2, NULL);
        size_t s1 = oiqa_tensor_numel(&t1), s2 = oiqa_tensor_numel(&t2), s3 = oiqa_tensor_numel(&t3);
        most = s1 > most ? s1 : most;
        most = s2 > most ? s2 : most;
        most = s3 > most ? s3 : most;
        y = t3;
    }
    return most;
}

/* One Bottleneck: y = relu(conv3(relu(conv2(relu(conv1(x))))) + skip), with
 * skip = downsample(x) written straight into y first (conv2d.h allows y to
 * alias the residual). t1, t2: scratch for the inner maps; y must not alias x. */
static int bottleneck_forward(oiqa_backend *be, const oiqa_bottleneck *bk, const oiqa_tensor *x, float *t1_data,
                              float *t2_data, oiqa_tensor *y)
{
    oiqa_tensor t1 = conv_out_view(&bk->conv1.conv, x, t1_data);
    oiqa_tensor t2 = conv_out_view(&bk->conv2.conv, &t1, t2_data);
    int rc = be->ops->conv2d(be, &bk->conv1.conv, x, NULL, 1, &t1);
    if (!rc) rc = be->ops->conv2d(be, &bk->conv2.conv, &t1, NULL, 1, &t2);
    const oiqa_tensor *skip = x;
    if (!rc && bk->has_downsample) {
        rc = be->ops->conv2d(be, &bk->downsample.conv, x, NULL, 0, y);
        skip = y;
    }
    if (!rc) rc = be->ops->conv2d(be, &bk->conv3.conv, &t2, skip, 1, y);
    return rc;
}

/* logits[b][o] = fc_bias[o] + sum_i pooled[b][i] * fc_weight[o][i] (in double). */
static void fc_forward(const oiqa_resnet50 *net, const oiqa_tensor *pooled, oiqa_tensor *logits)
{
    for (int b = 0; b < pooled->n; b++) {
        const float *f = pooled->data + (size_t)b * OIQA_RESNET50_FEATURES;
        for (int o = 0; o < OIQA_RESNET50_CLASSES; o++) {
            const float *wrow = net->fc_weight + (size_t)o * OIQA_RESNET50_FEATURES;
            double acc = net->fc_bias[o];
            for (int i = 0; i < OIQA_RESNET50_FEATURES; i++) acc += (double)f[i] * wrow[i];
            logits->data[(size_t)b * OIQA_RESNET50_CLASSES + o] = (float)acc;
        }
    }
}

static int head_forward(const oiqa_resnet50 *net, const oiqa_tensor *layer4, oiqa_tensor *logits)
{
    oiqa_tensor pooled = {0};
    int rc = oiqa_tensor_create(&pooled, layer4->n, 1, 1, layer4->c);
    if (!rc) rc = oiqa_global_avgpool(layer4, &pooled);
    if (!rc) rc = ensure_shape(logits, layer4->n, 1, 1, OIQA_RESNET50_CLASSES);
    if (!rc) fc_forward(net, &pooled, logits);
    oiqa_tensor_free(&pooled);
    return rc;
}

int oiqa_resnet50_forward_on(oiqa_backend *be, const oiqa_resnet50 *net, const oiqa_tensor *x,
                             oiqa_resnet50_out *out)
{
    if (!x->data || x->c != 3 || x->n < 1 || x->h < 1 || x->w < 1)
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "ResNet-50 input must be n x h x w x 3, got %d x %d x %d x %d",
                         x->n, x->h, x->w, x->c);
    size_t most = scratch_floats(net, x->n, x->h, x->w);
    /* buf[0], buf[1]: block outputs (ping-pong); buf[2], buf[3]: inner maps. */
    float *buf[4] = {0};
    int rc = OIQA_OK;
    for (int k = 0; k < 4 && !rc; k++)
        if (!(buf[k] = be->ops->alloc(be, most * sizeof(float))))
            rc = oiqa_fail(OIQA_EXIT_DATA, NULL, "out of %s memory (ResNet-50 scratch, %zu floats)", be->ops->name,
                           most);

    /* Stem: conv1+bn1+ReLU into buf[2], maxpool 3x3/2 pad 1 into buf[1]. */
    oiqa_tensor stem = conv_out_view(&net->stem.conv, x, buf[2]);
    oiqa_tensor cur = view(buf[1], x->n, oiqa_conv2d_out_size(stem.h, 3, 2, 1),
                           oiqa_conv2d_out_size(stem.w, 3, 2, 1), stem.c);
    if (!rc) rc = be->ops->conv2d(be, &net->stem.conv, x, NULL, 1, &stem);
    if (!rc) rc = be->ops->maxpool2d(be, &stem, 3, 2, 1, &cur);

    int block = 0;
    for (int s = 0; s < OIQA_RESNET50_STAGES && !rc; s++) {
        for (int b = 0; b < OIQA_RESNET50_STAGE_BLOCKS[s] && !rc; b++, block++) {
            const oiqa_bottleneck *bk = &net->blocks[block];
            oiqa_tensor t1 = conv_out_view(&bk->conv1.conv, &cur, NULL);
            oiqa_tensor t2 = conv_out_view(&bk->conv2.conv, &t1, NULL);
            oiqa_tensor y = conv_out_view(&bk->conv3.conv, &t2, NULL);
            if (b == OIQA_RESNET50_STAGE_BLOCKS[s] - 1) {
                rc = oiqa_be_tensor_ensure(be, &out->layer[s], y.n, y.h, y.w, y.c);
                y.data = out->layer[s].data;
            } else {
                y.data = cur.data == buf[0] ? buf[1] : buf[0];
            }
            if (!rc) rc = bottleneck_forward(be, bk, &cur, buf[2], buf[3], &y);
            cur = y;
        }
    }
    for (int k = 0; k < 4; k++)
        if (buf[k]) be->ops->free(be, buf[k]);
    return rc;
}

int oiqa_resnet50_forward(const oiqa_resnet50 *net, const oiqa_tensor *x, oiqa_resnet50_out *out, int want_logits)
{
    int rc = oiqa_resnet50_forward_on(oiqa_backend_cpu(), net, x, out);
    if (!rc && want_logits) rc = head_forward(net, &out->layer[3], &out->logits);
    return rc;
}

void oiqa_resnet50_out_free(oiqa_resnet50_out *out)
{
    for (int k = 0; k < OIQA_RESNET50_STAGES; k++) oiqa_tensor_free(&out->layer[k]);
    oiqa_tensor_free(&out->logits);
}
