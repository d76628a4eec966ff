/* Writing and reading model.h5 / last.h5; see train/train_io.h. */
#include "train/train_io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/strutil.h"
#include "io/ckpt_h5.h"
#include "io/h5util.h"
#include "io/json_mini.h"

#define MAX_PARAMS 64

void oiqa_train_mtfi_config(const oiqa_train_config *c, int n_scales, const int *dims, int G,
                            const oiqa_train_classes *cl, oiqa_mtfi_config *mc)
{
    memset(mc, 0, sizeof *mc);
    mc->n_scales = n_scales;
    for (int k = 0; k < n_scales; k++) mc->local_dim[k] = dims[k];
    mc->global_dim = c->use_global ? G : 0;
    mc->hidden = (int)c->hidden;
    mc->use_restored = c->use_restored, mc->use_degraded = c->use_degraded, mc->use_global = c->use_global;
    mc->aux_heads = c->aux_heads;
    mc->n_levels = cl ? cl->n_levels : 0, mc->n_types = cl ? cl->n_types : 0;
    mc->dropout = (float)c->dropout;
    mc->w_quality = (float)c->loss_weights[0], mc->w_level = (float)c->loss_weights[1];
    mc->w_type = (float)c->loss_weights[2];
}

void oiqa_train_optimizer_init(const oiqa_train_config *c, oiqa_optimizer *o)
{
    memset(o, 0, sizeof *o);
    o->kind = c->optimizer == OIQA_TRAIN_ADAMW ? OIQA_OPT_ADAMW : OIQA_OPT_SGD;
    o->lr = c->lr, o->momentum = c->momentum, o->weight_decay = c->weight_decay;
    o->beta1 = 0.9, o->beta2 = 0.999, o->eps = 1e-8;
}

/* ---- writing ------------------------------------------------------------- */

static int add_tensor(oiqa_ckpt *ck, const char *name, const oiqa_param *p, const float *v)
{
    int64_t shape[OIQA_AG_MAX_DIMS];
    for (int d = 0; d < p->ndim; d++) shape[d] = p->shape[d];
    float *dst = oiqa_ckpt_add_f32(ck, name, p->ndim, shape);
    if (!dst) return OIQA_EXIT_DATA;
    memcpy(dst, v, p->numel * sizeof(float));
    return OIQA_OK;
}

typedef struct {
    const char *kv[64];
    char *owned[32];
    int n, n_owned;
} attr_list;

static void attr(attr_list *a, const char *name, const char *value)
{
    a->kv[2 * a->n] = name, a->kv[2 * a->n + 1] = value, a->n++;
}

static void attr_owned(attr_list *a, const char *name, char *value)
{
    attr(a, name, value), a->owned[a->n_owned++] = value;
}

static char *fmt_double(double v) { return oiqa_asprintf("%.17g", v); }

int oiqa_train_save(oiqa_mtfi *m, const oiqa_train_save_info *in, const char *path)
{
    oiqa_param *ps[MAX_PARAMS];
    int np = oiqa_mtfi_params(m, ps, MAX_PARAMS);
    if (np < 0) return OIQA_EXIT_DATA;
    oiqa_ckpt *ck;
    int rc = oiqa_ckpt_new("oiqa-train", &ck);
    if (rc) return rc;
    for (int i = 0; i < np && !rc; i++) rc = add_tensor(ck, ps[i]->name, ps[i], ps[i]->w);
    if (!rc) rc = oiqa_train_norm_save(in->norm, in->scales, ck);
    for (int i = 0; i < np && !rc && in->opt; i++) {
        char name[160];
        snprintf(name, sizeof name, "optim.m.%s", ps[i]->name);
        if (ps[i]->m) rc = add_tensor(ck, name, ps[i], ps[i]->m);
        snprintf(name, sizeof name, "optim.v.%s", ps[i]->name);
        if (!rc && ps[i]->v) rc = add_tensor(ck, name, ps[i], ps[i]->v);
    }
    attr_list a = {0};
    attr(&a, "model", "mtfi");
    attr(&a, "config", in->config_yaml);
    attr_owned(&a, "levels", oiqa_train_classes_levels_json(in->classes));
    attr_owned(&a, "types", oiqa_train_classes_types_json(in->classes));
    oiqa_sbuf dims = {0};
    oiqa_sbuf_append(&dims, "[");
    for (int k = 0; k < m->cfg.n_scales; k++) oiqa_sbuf_appendf(&dims, "%s%d", k ? ", " : "", m->cfg.local_dim[k]);
    oiqa_sbuf_append(&dims, "]");
    attr_owned(&a, "local_dims", dims.s);
    attr_owned(&a, "global_dim", oiqa_asprintf("%d", in->norm->G));
    attr_owned(&a, "features", oiqa_feature_prov_json(in->prov, in->n_prov));
    attr_owned(&a, "epoch", oiqa_asprintf("%ld", in->epoch));
    attr_owned(&a, "val_srcc", fmt_double(in->val_srcc));
    attr_owned(&a, "val_plcc", fmt_double(in->val_plcc));
    if (in->opt) {
        const oiqa_rng *r = in->rng;
        attr_owned(&a, "optimizer_step", oiqa_asprintf("%ld", in->opt->step));
        /* Every bit of the generator, so a resumed run draws the same numbers. */
        attr_owned(&a, "rng", oiqa_asprintf("%016llx %016llx %016llx %016llx %d %a", (unsigned long long)r->s[0],
                                            (unsigned long long)r->s[1], (unsigned long long)r->s[2],
                                            (unsigned long long)r->s[3], r->has_spare, r->spare));
        attr_owned(&a, "best_epoch", oiqa_asprintf("%ld", in->best_epoch));
        attr_owned(&a, "best_score", fmt_double(in->best_score));
    }
    char tool[64];
    snprintf(tool, sizeof tool, "oiqa-train %s", OIQA_VERSION);
    oiqa_weights_write_opts o = {.source_path = NULL, .arch = "mtfi", .tool = tool, .command = in->command,
                                 .force = 1, .deflate_level = 0, .extra_attrs = a.kv, .n_extra_attrs = a.n};
    if (!rc) rc = oiqa_ckpt_write_h5(ck, path, &o);
    for (int i = 0; i < a.n_owned; i++) free(a.owned[i]);
    oiqa_ckpt_close(ck);
    return rc;
}

/* ---- reading ------------------------------------------------------------- */

static char *need_attr(hid_t f, const char *name, const char *path, int *rc)
{
    char *s = oiqa_h5_attr_read_string(f, name);
    if (!s && !*rc) *rc = oiqa_fail(OIQA_EXIT_DATA, path, "no root attribute '%s': not a model written by oiqa-train", name);
    return s;
}

static int parse_dims(const char *text, const char *path, int *dims, int max, int *n)
{
    char err[128];
    oiqa_json *j = text ? oiqa_json_parse(text, strlen(text), err, sizeof err) : NULL;
    int ok = j && j->type == OIQA_JSON_ARRAY && j->n >= 1 && j->n <= max;
    for (int i = 0; ok && i < j->n; i++) {
        ok = j->kids[i].type == OIQA_JSON_INT && j->kids[i].i >= 1;
        if (ok) dims[i] = (int)j->kids[i].i;
    }
    int rc = ok ? OIQA_OK : oiqa_fail(OIQA_EXIT_DATA, path, "attribute 'local_dims' is not a list of sizes");
    if (!rc) *n = j->n;
    oiqa_json_free(j);
    return rc;
}

static int read_param(const oiqa_ckpt *ck, const char *name, const oiqa_param *p, float **dst, const char *path, int optional)
{
    const oiqa_ck_tensor *t = oiqa_ckpt_find(ck, name);
    if (!t) return optional ? OIQA_OK : oiqa_fail(OIQA_EXIT_DATA, path, "tensor %s is missing", name);
    if ((size_t)t->numel != p->numel || t->ndim != p->ndim)
        return oiqa_fail(OIQA_EXIT_DATA, path, "tensor %s has %lld values, the model expects %zu", name,
                         (long long)t->numel, p->numel);
    if (!*dst) *dst = oiqa_xcalloc(p->numel, sizeof(float));
    return oiqa_ckpt_read_f32(ck, t, *dst);
}

static int parse_state(hid_t f, const char *path, oiqa_train_model *tm)
{
    char *step = oiqa_h5_attr_read_string(f, "optimizer_step");
    if (!step) return OIQA_OK;
    int rc = OIQA_OK;
    char *rng = need_attr(f, "rng", path, &rc), *be = need_attr(f, "best_epoch", path, &rc);
    char *bs = need_attr(f, "best_score", path, &rc);
    unsigned long long s[4];
    int spare_flag;
    double spare;
    if (!rc && sscanf(rng, "%llx %llx %llx %llx %d %la", &s[0], &s[1], &s[2], &s[3], &spare_flag, &spare) != 6)
        rc = oiqa_fail(OIQA_EXIT_DATA, path, "attribute 'rng' is not a generator state");
    if (!rc) {
        tm->has_state = 1;
        oiqa_train_optimizer_init(&tm->cfg, &tm->opt);
        tm->opt.step = strtol(step, NULL, 10);
        for (int i = 0; i < 4; i++) tm->rng.s[i] = s[i];
        tm->rng.has_spare = spare_flag, tm->rng.spare = spare;
        tm->best_epoch = strtol(be, NULL, 10), tm->best_score = strtod(bs, NULL);
    }
    free(step), free(rng), free(be), free(bs);
    return rc;
}

void oiqa_train_model_free(oiqa_train_model *tm)
{
    oiqa_mtfi_free(&tm->model);
    oiqa_train_config_free(&tm->cfg);
    free(tm->config_yaml);
    oiqa_train_classes_free(&tm->classes);
    oiqa_train_norm_free(&tm->norm);
    for (int i = 0; i < tm->n_prov; i++) oiqa_feature_prov_free(&tm->prov[i]);
    memset(tm, 0, sizeof *tm);
}

int oiqa_train_load(const char *path, oiqa_train_model *tm)
{
    memset(tm, 0, sizeof *tm);
    oiqa_ckpt *ck = NULL;
    int rc = oiqa_ckpt_open(path, &ck);
    if (rc) return rc;
    hid_t fapl = oiqa_h5_fapl();
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    if (f < 0) {
        oiqa_ckpt_close(ck);
        return oiqa_h5_open_failure(path, "cannot open");
    }
    char *model = need_attr(f, "model", path, &rc), *levels = need_attr(f, "levels", path, &rc);
    char *types = need_attr(f, "types", path, &rc), *ldims = need_attr(f, "local_dims", path, &rc);
    char *gdim = need_attr(f, "global_dim", path, &rc), *feat = need_attr(f, "features", path, &rc);
    char *epoch = need_attr(f, "epoch", path, &rc), *vs = need_attr(f, "val_srcc", path, &rc);
    char *vp = need_attr(f, "val_plcc", path, &rc);
    tm->config_yaml = need_attr(f, "config", path, &rc);
    if (!rc && strcmp(model, "mtfi")) rc = oiqa_fail(OIQA_EXIT_DATA, path, "model '%s': this build knows 'mtfi'", model);
    oiqa_train_config_defaults(&tm->cfg);
    if (!rc) {
        oiqa_train_config_free(&tm->cfg);
        rc = oiqa_train_config_parse(tm->config_yaml, path, &tm->cfg);
    }
    if (!rc) rc = oiqa_train_classes_parse(&tm->classes, levels, types, path);
    int dims[OIQA_MTFI_MAX_SCALES], nd = 0, G = gdim ? atoi(gdim) : 0;
    if (!rc) rc = parse_dims(ldims, path, dims, OIQA_MTFI_MAX_SCALES, &nd);
    if (!rc && nd != tm->cfg.n_scales)
        rc = oiqa_fail(OIQA_EXIT_DATA, path, "%d input sizes for %d scales", nd, tm->cfg.n_scales);
    if (!rc) rc = oiqa_feature_prov_parse(feat, path, tm->prov, 2, &tm->n_prov);
    if (!rc) {
        tm->epoch = strtol(epoch, NULL, 10), tm->val_srcc = strtod(vs, NULL), tm->val_plcc = strtod(vp, NULL);
        oiqa_mtfi_config mc;
        oiqa_train_mtfi_config(&tm->cfg, nd, dims, G, &tm->classes, &mc);
        oiqa_rng r;
        oiqa_rng_seed(&r, 0); /* the draws are overwritten by the file's weights */
        rc = oiqa_mtfi_init(&tm->model, &mc, &r);
    }
    if (!rc) rc = oiqa_train_norm_load(&tm->norm, tm->cfg.scales, nd, dims, G, ck, path);
    if (!rc) rc = parse_state(f, path, tm);
    oiqa_param *ps[MAX_PARAMS];
    int np = rc ? 0 : oiqa_mtfi_params(&tm->model, ps, MAX_PARAMS);
    for (int i = 0; i < np && !rc; i++) {
        rc = read_param(ck, ps[i]->name, ps[i], &ps[i]->w, path, 0);
        char name[160];
        snprintf(name, sizeof name, "optim.m.%s", ps[i]->name);
        if (!rc && tm->has_state) rc = read_param(ck, name, ps[i], &ps[i]->m, path, 1);
        snprintf(name, sizeof name, "optim.v.%s", ps[i]->name);
        if (!rc && tm->has_state) rc = read_param(ck, name, ps[i], &ps[i]->v, path, 1);
    }
    free(model), free(levels), free(types), free(ldims), free(gdim), free(feat), free(epoch), free(vs), free(vp);
    H5Fclose(f);
    oiqa_ckpt_close(ck);
    if (rc) oiqa_train_model_free(tm);
    return rc;
}
