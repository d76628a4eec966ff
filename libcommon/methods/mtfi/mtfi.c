/* MTFI's row of the method registry; see methods/mtfi/mtfi.h. */
#include "methods/mtfi/mtfi.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/strutil.h"
#include "io/csv.h"
#include "methods/mtfi/mtfi_model.h"

#define OFF(f) offsetof(oiqa_mtfi_opts, f)
static const oiqa_opt OPTIONS[] = {
    {"hidden", 0, OIQA_OPT_INT, OFF(hidden), "256", "H", "hidden units of every layer", 1, 65536, NULL, 0},
    {"dropout", 0, OIQA_OPT_DOUBLE, OFF(dropout), "0.1", "P", "dropout before the last quality layer", 0, 0.99, NULL,
     0},
    {"use_restored", 0, OIQA_OPT_FLAG, OFF(use_restored), "true", NULL,
     "the restored stream (features.local's /restored)", 0, 0, NULL, 0},
    {"use_degraded", 0, OIQA_OPT_FLAG, OFF(use_degraded), "true", NULL,
     "the degraded stream (features.local's /degraded)", 0, 0, NULL, 0},
    {"use_global", 0, OIQA_OPT_FLAG, OFF(use_global), "true", NULL, "fuse the global features (features.global)", 0,
     0, NULL, 0},
    {"scales", 0, OIQA_OPT_STRINGS, OFF(scales), "[layer2, layer3, layer4]", "LIST",
     "the local backbone's blocks, finest first", 0, 0, NULL, 0, NULL, 1, OIQA_MTFI_MAX_SCALES},
    {"aux_heads", 0, OIQA_OPT_FLAG, OFF(aux_heads), "true", NULL, "the distortion level and type heads", 0, 0, NULL,
     0},
    {"loss_weights", 0, OIQA_OPT_NUMBERS, OFF(loss_weights), "[1.0, 0.1, 0.1]", "[Q, L, T]",
     "weights of the quality MSE and the level and type cross-entropies", 0, 1e6, NULL, 0, NULL, 3, 3},
    {0},
};

static const oiqa_method_input INPUTS[] = {
    {"local", "backbone", OIQA_LAYOUT_VIEW_BLOCKS, {"original", "restored", "degraded"},
     "the viewports' backbone features (oiqa-resnet, or oiqa-vmamba --input viewports)",
     "compute %s with oiqa-resnet --blocks, or change model.scales",
     "features without pseudo-references: run oiqa-resnet --pseudoref, or set model.use_%s: false",
     NULL},
    {"global", "global", OIQA_LAYOUT_IMAGE_CONCAT, {"global"}, "the ERP's global features (oiqa-vmamba), or null",
     NULL, NULL, "model.use_global is true: give the oiqa-vmamba file or set model.use_global: false"},
};

static const oiqa_method_output OUTPUTS[] = {
    {"quality", OIQA_OUT_SCORE}, {"level", OIQA_OUT_CLASSES}, {"type", OIQA_OUT_CLASSES}};
static const char *const PARTS[] = {"quality", "level", "type"};

enum { IN_LOCAL, IN_GLOBAL };
enum { OUT_QUALITY, OUT_LEVEL, OUT_TYPE };

static int check(const void *opts)
{
    const oiqa_mtfi_opts *o = opts;
    for (int i = 0; i < o->scales.n; i++)
        for (int j = 0; j < i; j++)
            if (!strcmp(o->scales.v[i], o->scales.v[j]))
                return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'model.scales': '%s' given twice", o->scales.v[i]);
    return OIQA_OK;
}

static void select_inputs(const void *opts, oiqa_method_select *sel)
{
    const oiqa_mtfi_opts *o = opts;
    memset(sel, 0, sizeof *sel);
    sel->use[IN_LOCAL] = 1;
    sel->stream[IN_LOCAL][1] = o->use_restored, sel->stream[IN_LOCAL][2] = o->use_degraded;
    sel->n_blocks[IN_LOCAL] = o->scales.n;
    for (int k = 0; k < o->scales.n && k < OIQA_METHOD_MAX_BLOCKS; k++) sel->blocks[IN_LOCAL][k] = o->scales.v[k];
    sel->use[IN_GLOBAL] = o->use_global;
}

static int build(const void *opts, const oiqa_method_shape *s, oiqa_rng *rng, void **model)
{
    const oiqa_mtfi_opts *o = opts;
    oiqa_mtfi_config mc;
    memset(&mc, 0, sizeof mc);
    mc.n_scales = s->n_blocks[IN_LOCAL];
    for (int k = 0; k < mc.n_scales && k < OIQA_MTFI_MAX_SCALES; k++) mc.local_dim[k] = s->dim[IN_LOCAL][k];
    mc.global_dim = o->use_global && s->used[IN_GLOBAL] ? s->dim[IN_GLOBAL][0] : 0;
    mc.hidden = (int)o->hidden;
    mc.use_restored = o->use_restored, mc.use_degraded = o->use_degraded, mc.use_global = o->use_global;
    mc.aux_heads = o->aux_heads;
    mc.n_levels = s->classes ? s->classes->n_levels : 0, mc.n_types = s->classes ? s->classes->n_types : 0;
    mc.dropout = (float)o->dropout;
    mc.w_quality = (float)o->loss_weights.v[0], mc.w_level = (float)o->loss_weights.v[1];
    mc.w_type = (float)o->loss_weights.v[2];
    oiqa_mtfi *m = oiqa_xcalloc(1, sizeof *m);
    int rc = oiqa_mtfi_init(m, &mc, rng);
    if (rc) free(m), m = NULL;
    *model = m;
    return rc;
}

static int params(void *model, oiqa_param **out, int max) { return oiqa_mtfi_params(model, out, max); }

static int forward(void *model, oiqa_ag *ag, const oiqa_method_batch *b, oiqa_rng *rng, oiqa_agv *out)
{
    oiqa_mtfi *m = model;
    oiqa_mtfi_inputs in;
    for (int k = 0; k < OIQA_MTFI_MAX_SCALES; k++) {
        in.orig[k] = b->x[IN_LOCAL][0][k];
        in.rest[k] = b->x[IN_LOCAL][1][k];
        in.degr[k] = b->x[IN_LOCAL][2][k];
    }
    in.global = b->x[IN_GLOBAL][0][0];
    for (int k = 0; k < m->cfg.n_scales; k++)
        if (in.orig[k] < 0 || (m->cfg.use_restored && in.rest[k] < 0) || (m->cfg.use_degraded && in.degr[k] < 0))
            return oiqa_fail(OIQA_EXIT_DATA, NULL, "mtfi: inputs missing for the configured streams");
    if (m->cfg.use_global && in.global < 0)
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "mtfi: inputs missing for the configured streams");
    oiqa_mtfi_outputs o;
    int rc = oiqa_mtfi_forward(ag, m, &in, rng, &o);
    out[OUT_QUALITY] = o.quality, out[OUT_LEVEL] = o.level, out[OUT_TYPE] = o.type;
    return rc;
}

static oiqa_agv loss(void *model, oiqa_ag *ag, const oiqa_agv *out, oiqa_agv target, const int *level,
                     const int *type)
{
    oiqa_mtfi *m = model;
    oiqa_mtfi_outputs o = {.quality = out[OUT_QUALITY], .level = out[OUT_LEVEL], .type = out[OUT_TYPE]};
    int aux = m->cfg.aux_heads;
    return oiqa_mtfi_loss(ag, m, &o, target, aux ? level : NULL, aux ? type : NULL);
}

/* The parts as the tape computes them: squared error of the quality, and
 * -log p of the true class of every image that has one. */
static void log_parts(const void *model, const oiqa_method_pred *p, const oiqa_method_targets *t, double *sum,
                      long *count)
{
    const oiqa_mtfi_config *mc = &((const oiqa_mtfi *)model)->cfg;
    const float *q = p->v[OUT_QUALITY], *pl = p->v[OUT_LEVEL], *pt = p->v[OUT_TYPE];
    for (int b = 0; b < p->n; b++) {
        double e = q[b] - t->score[b];
        sum[0] += e * e, count[0]++;
        if (!mc->aux_heads) continue;
        if (t->level[b] >= 0) sum[1] -= log(fmax(pl[(size_t)b * mc->n_levels + t->level[b]], 1e-30)), count[1]++;
        if (t->type[b] >= 0) sum[2] -= log(fmax(pt[(size_t)b * mc->n_types + t->type[b]], 1e-30)), count[2]++;
    }
}

static double log_total(const void *model, const double *part)
{
    const oiqa_mtfi_config *mc = &((const oiqa_mtfi *)model)->cfg;
    return mc->w_quality * part[0] + (mc->aux_heads ? mc->w_level * part[1] + mc->w_type * part[2] : 0);
}

/* level,type (the argmax classes), then p_level_<L>..., p_type_<T>... */
static void csv_header(const void *model, const oiqa_train_classes *c, FILE *f)
{
    if (!((const oiqa_mtfi *)model)->cfg.aux_heads) return;
    fputs(",level,type", f);
    for (int j = 0; j < c->n_levels; j++) fprintf(f, ",p_level_%d", c->levels[j]);
    for (int j = 0; j < c->n_types; j++) {
        char *h = oiqa_asprintf("p_type_%s", c->types[j]);
        fputc(',', f);
        oiqa_csv_put(f, h);
        free(h);
    }
}

static void csv_row(const void *model, const oiqa_train_classes *c, const oiqa_method_pred *p, int i, FILE *f)
{
    if (!((const oiqa_mtfi *)model)->cfg.aux_heads) return;
    const float *pl = p->v[OUT_LEVEL] + (size_t)i * c->n_levels, *pt = p->v[OUT_TYPE] + (size_t)i * c->n_types;
    int bl = 0, bt = 0;
    for (int j = 1; j < c->n_levels; j++) bl = pl[j] > pl[bl] ? j : bl;
    for (int j = 1; j < c->n_types; j++) bt = pt[j] > pt[bt] ? j : bt;
    fprintf(f, ",%d,", c->levels[bl]);
    oiqa_csv_put(f, c->types[bt]);
    for (int j = 0; j < c->n_levels; j++) fprintf(f, ",%.6f", pl[j]);
    for (int j = 0; j < c->n_types; j++) fprintf(f, ",%.6f", pt[j]);
}

static void free_model(void *model)
{
    if (!model) return;
    oiqa_mtfi_free(model);
    free(model);
}

const oiqa_method oiqa_method_mtfi = {
    .name = "mtfi",
    .summary = "multi-task fusion of viewport, pseudo-reference and global features (Liu et al., TCSVT 2025)",
    .opts = OPTIONS,
    .opts_size = sizeof(oiqa_mtfi_opts),
    .n_inputs = 2,
    .inputs = INPUTS,
    .n_outputs = 3,
    .outputs = OUTPUTS,
    .n_parts = 3,
    .loss_parts = PARTS,
    .check = check,
    .select = select_inputs,
    .build = build,
    .params = params,
    .forward = forward,
    .loss = loss,
    .log_parts = log_parts,
    .log_total = log_total,
    .csv_header = csv_header,
    .csv_row = csv_row,
    .free = free_model,
};
