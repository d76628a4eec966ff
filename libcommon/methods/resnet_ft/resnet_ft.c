/* The resnet_ft row of the method registry; see methods/resnet_ft/resnet_ft.h. */
#include "methods/resnet_ft/resnet_ft.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/strutil.h"
#include "io/ckpt.h"
#include "models/augment.h"
#include "models/imagenet.h"
#include "models/resnet_random.h"
#include "models/resnet_tape.h"

static const char *const ARCHS[] = {"resnet18", "resnet34", "resnet50", "resnet101", "resnet152", NULL};
/* where the trained part starts: the images themselves, or the maps of a layer */
static const char *const BN_MODES[] = {"train", "frozen", NULL};
static const char *const CUTS[] = {"none", "layer1", "layer2", "layer3", "layer4", NULL};

#define OFF(f) offsetof(oiqa_resnet_ft_opts, f)
static const oiqa_opt OPTIONS[] = {
    {"weights", 0, OIQA_OPT_STRING, OFF(weights), NULL, "FILE|random:SEED",
     "the backbone's checkpoint (the one the cached maps were computed with), or random:SEED", 0, 0, NULL, 0},
    {"arch", 0, OIQA_OPT_ENUM, OFF(arch), "resnet18", "NAME", "the ResNet (its depth; a checkpoint must match)", 0, 0,
     ARCHS, 0},
    {"cut", 0, OIQA_OPT_ENUM, OFF(cut), "layer3", "LAYER",
     "the cached maps' layer (features.maps' block), the layers above it train; none: the whole network from the "
     "viewports (features.viewports)", 0, 0, CUTS, 0},
    {"train_backbone", 0, OIQA_OPT_FLAG, OFF(train_backbone), "true", NULL,
     "fine-tune the layers above the cut (false: only the head, the frozen-backbone linear probe)", 0, 0, NULL, 0},
    {"bn", 0, OIQA_OPT_ENUM, OFF(bn), "train", "MODE",
     "BatchNorm of the trained layers: train (batch statistics, running statistics updated and saved, as "
     "model.train() in PyTorch) or frozen (the checkpoint's statistics; gamma and beta still learn)", 0, 0, BN_MODES,
     0},
    {"crop", 0, OIQA_OPT_INT, OFF(crop), "0", "SIDE",
     "cut none: train on a random SIDE x SIDE crop of each viewport per step and evaluate on the centre crop "
     "(torchvision's RandomCrop / CenterCrop); 0: the whole viewport", 0, 65536, NULL, 0},
    {"flip", 0, OIQA_OPT_FLAG, OFF(flip), "true", NULL,
     "cut none: flip each viewport left-right with probability 1/2 per step (RandomHorizontalFlip)", 0, 0, NULL, 0},
    {0},
};

static const oiqa_method_input INPUTS[] = {
    {"maps", "backbone", OIQA_LAYOUT_MAPS, {"original"},
     "the viewports' maps of the cut (oiqa-backbone --arch resnet18 --blocks layer3 --maps)",
     "or change model.cut", NULL, "give the backbone file with the cut's maps (or set model.cut: none)"},
    {"viewports", "viewports", OIQA_LAYOUT_IMAGES, {"viewports"},
     "the viewports themselves (oiqa-viewports), with model.cut: none", NULL, NULL,
     "model.cut is none: give the viewports.h5 the network trains from"},
};
enum { IN_MAPS, IN_VIEWPORTS };

static const oiqa_method_output OUTPUTS[] = {{"quality", OIQA_OUT_SCORE}};
static const char *const PARTS[] = {"quality"};

typedef struct {
    oiqa_resnet_tape net;
    oiqa_param head_w, head_b; /* Linear(C4, 1) */
    int cut, train_backbone, bn_train, crop, flip;
} resnet_ft;

static int check(const void *opts)
{
    const oiqa_resnet_ft_opts *o = opts;
    if (!o->weights || !*o->weights)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL,
                         "key 'model.weights': give the backbone's checkpoint (the one the cached maps came from) or "
                         "random:SEED");
    if (o->cut && o->crop)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'model.crop': crops apply to images (model.cut: none), not to "
                         "cached %s maps", CUTS[o->cut]);
    return OIQA_OK;
}

static void select_inputs(const void *opts, oiqa_method_select *sel)
{
    const oiqa_resnet_ft_opts *o = opts;
    memset(sel, 0, sizeof *sel);
    int in = o->cut ? IN_MAPS : IN_VIEWPORTS;
    sel->use[in] = 1;
    sel->n_blocks[in] = 1;
    sel->blocks[in][0] = o->cut ? CUTS[o->cut] : "viewports";
}

/* The checkpoint of model.weights: a file, or the random weights of arch. */
static int open_weights(const oiqa_resnet_ft_opts *o, oiqa_ckpt **ck)
{
    const char *w = o->weights;
    if (!strncmp(w, "random:", 7)) {
        char *end;
        unsigned long long seed = strtoull(w + 7, &end, 10);
        if (end == w + 7 || *end)
            return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'model.weights': '%s' is not random:SEED", w);
        return oiqa_resnet_random_ckpt(oiqa_resnet_depth_find(ARCHS[o->arch]), (uint64_t)seed, ck);
    }
    return oiqa_ckpt_open(w, ck);
}

/* A parameter of a layer above the cut ("layer4.1.conv2.weight" above
 * layer3; everything, the stem's conv1 and bn1 too, above none). */
static int above_cut(const char *name, int cut)
{
    if (strncmp(name, "layer", 5)) return cut == 0 && strncmp(name, "fc.", 3);
    return name[5] >= '1' && name[5] <= '4' && name[6] == '.' && name[5] - '0' > cut;
}

static void free_model(void *model)
{
    resnet_ft *m = model;
    if (!m) return;
    oiqa_resnet_tape_free(&m->net);
    oiqa_param_free(&m->head_w), oiqa_param_free(&m->head_b);
    free(m);
}

static int build(const void *opts, const oiqa_method_shape *s, oiqa_rng *rng, void **model)
{
    const oiqa_resnet_ft_opts *o = opts;
    *model = NULL;
    oiqa_ckpt *ck = NULL;
    int rc = open_weights(o, &ck);
    if (rc) return rc;
    resnet_ft *m = oiqa_xcalloc(1, sizeof *m);
    rc = oiqa_resnet_tape_load(ck, o->weights, &m->net);
    oiqa_ckpt_close(ck);
    if (!rc && strcmp(m->net.depth.name, ARCHS[o->arch]))
        rc = oiqa_fail(OIQA_EXIT_USAGE, o->weights, "a %s checkpoint, but model.arch is %s", m->net.depth.name,
                       ARCHS[o->arch]);
    int C = o->cut ? m->net.channels[o->cut - 1] : 3, have = s->dim[o->cut ? IN_MAPS : IN_VIEWPORTS][0];
    if (!rc && have != C)
        rc = oiqa_fail(OIQA_EXIT_DATA, NULL, "the cached %s maps have %d channels, the %s's %s has %d: the maps "
                       "come from another backbone", CUTS[o->cut], have, ARCHS[o->arch], CUTS[o->cut], C);
    int C4 = m->net.channels[3], ws[2] = {1, C4}, bs[1] = {1};
    if (!rc) rc = oiqa_param_init(&m->head_w, "head.weight", 2, ws);
    if (!rc) rc = oiqa_param_init(&m->head_b, "head.bias", 1, bs);
    if (!rc) { /* nn.Linear's init: U(-1/sqrt(in), 1/sqrt(in)) */
        double bound = 1.0 / sqrt((double)C4);
        for (int k = 0; k < C4; k++) m->head_w.w[k] = (float)(bound * (2 * oiqa_rng_uniform(rng) - 1));
        m->head_b.w[0] = (float)(bound * (2 * oiqa_rng_uniform(rng) - 1));
    }
    m->cut = o->cut, m->train_backbone = o->train_backbone, m->bn_train = o->bn == 0;
    m->crop = (int)o->crop, m->flip = o->flip;
    for (int i = 0; !rc && i < m->net.n_params; i++) /* below the cut, or the probe's backbone: constants */
        m->net.params[i]->frozen = !(m->train_backbone && above_cut(m->net.params[i]->name, m->cut));
    if (rc) free_model(m), m = NULL;
    *model = m;
    return rc;
}

static int params(void *model, oiqa_param **out, int max)
{
    resnet_ft *m = model;
    int n = 0;
    for (int i = 0; m->train_backbone && i < m->net.n_params; i++)
        if (above_cut(m->net.params[i]->name, m->cut)) {
            if (n == max) return oiqa_fail(OIQA_EXIT_DATA, NULL, "resnet_ft: more than %d parameters", max), -1;
            out[n++] = m->net.params[i];
        }
    /* the running statistics of the trained layers' BatchNorms: frozen
     * parameters, saved and restored with the weights, not stepped */
    for (int i = 0; m->train_backbone && m->bn_train && i < m->net.n_buffers; i++)
        if (above_cut(m->net.buffers[i]->name, m->cut)) {
            if (n == max) return oiqa_fail(OIQA_EXIT_DATA, NULL, "resnet_ft: more than %d parameters", max), -1;
            out[n++] = m->net.buffers[i];
        }
    if (n + 2 > max) return oiqa_fail(OIQA_EXIT_DATA, NULL, "resnet_ft: more than %d parameters", max), -1;
    out[n++] = &m->head_w, out[n++] = &m->head_b;
    return n;
}

/* The viewports of a batch (a leaf of the tape, [B*V, S, S, 3] on 0..255)
 * as the network sees them: with crop, a new leaf of the crops (random in
 * training, rng set; the centre otherwise), then in training a random
 * horizontal flip of each (the draws: every crop, then every flip), then
 * the ImageNet normalisation the backbone stage uses (models/imagenet.h),
 * in place. */
static int prepare_images(const resnet_ft *m, oiqa_ag *ag, oiqa_agv *x, oiqa_rng *rng)
{
    const int *s = oiqa_ag_shape(ag, *x);
    int n = s[0], H = s[1], W = s[2];
    if (m->crop) {
        if (m->crop > H || m->crop > W)
            return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'model.crop': %d is larger than the viewports (%dx%d)",
                             m->crop, H, W);
        int cs[4] = {n, m->crop, m->crop, 3};
        oiqa_agv c = oiqa_ag_input(ag, NULL, 4, cs);
        if (c < 0) return OIQA_EXIT_DATA;
        int rc = oiqa_crop_batch(oiqa_ag_data(ag, *x), n, H, W, 3, m->crop, m->crop, rng, oiqa_ag_data(ag, c));
        if (rc) return rc;
        *x = c, H = W = m->crop;
    }
    float *v = oiqa_ag_data(ag, *x);
    if (rng && m->flip) oiqa_hflip_batch(v, n, H, W, 3, rng);
    oiqa_tensor view = {n, H, W, 3, v}; /* elementwise, so in place */
    return oiqa_imagenet_normalize_f32(v, n, H, W, &view);
}

static int forward(void *model, oiqa_ag *ag, const oiqa_method_batch *b, oiqa_rng *rng, oiqa_agv *out)
{
    (void)rng;
    resnet_ft *m = model;
    oiqa_agv x = b->x[m->cut ? IN_MAPS : IN_VIEWPORTS][0][0];
    if (x < 0) return oiqa_fail(OIQA_EXIT_DATA, NULL, "resnet_ft: no %s in the batch", m->cut ? "maps" : "viewports");
    int BV = oiqa_ag_shape(ag, x)[0], V = BV / b->B;
    if (!m->cut) {
        int rc = prepare_images(m, ag, &x, rng);
        if (rc) return rc;
    }
    /* BatchNorm: batch statistics when training with bn: train (the
     * running statistics move and are saved as buffers), else the running
     * statistics (evaluation; bn: frozen; the probe's frozen backbone). */
    int batch_stats = rng && m->train_backbone && m->bn_train;
    oiqa_resnet_tape_out o;
    int rc = oiqa_resnet_tape_forward_from(ag, &m->net, m->cut, x, batch_stats, &o);
    if (rc) return rc;
    int C4 = m->net.channels[3], s3[3] = {b->B, V, C4};
    oiqa_agv pooled = oiqa_ag_mean_axis(ag, oiqa_ag_reshape(ag, o.pool, 3, s3), 1); /* the mean over viewports */
    out[0] = oiqa_ag_linear(ag, pooled, oiqa_ag_param(ag, &m->head_w), oiqa_ag_param(ag, &m->head_b));
    return out[0] < 0 ? OIQA_EXIT_DATA : OIQA_OK;
}

static oiqa_agv loss(void *model, oiqa_ag *ag, const oiqa_agv *out, oiqa_agv target, const int *level,
                     const int *type)
{
    (void)model, (void)level, (void)type;
    return oiqa_ag_mse(ag, out[0], target);
}

static void log_parts(const void *model, const oiqa_method_pred *p, const oiqa_method_targets *t, double *sum,
                      long *count)
{
    (void)model;
    for (int b = 0; b < p->n; b++) {
        double e = p->v[0][b] - t->score[b];
        sum[0] += e * e, count[0]++;
    }
}

static double log_total(const void *model, const double *part)
{
    (void)model;
    return part[0];
}

const oiqa_method oiqa_method_resnet_ft = {
    .name = "resnet_ft",
    .summary = "a torchvision ResNet fine-tuned above a cached cut (its maps), mean over viewports, linear head",
    .opts = OPTIONS,
    .opts_size = sizeof(oiqa_resnet_ft_opts),
    .n_inputs = 2,
    .inputs = INPUTS,
    .n_outputs = 1,
    .outputs = OUTPUTS,
    .n_parts = 1,
    .loss_parts = PARTS,
    .check = check,
    .select = select_inputs,
    .build = build,
    .params = params,
    .forward = forward,
    .loss = loss,
    .log_parts = log_parts,
    .log_total = log_total,
    .free = free_model,
};
