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
#include "methods/registry.h"

#define MAX_PARAMS OIQA_METHOD_MAX_PARAMS

void oiqa_train_optimizer_init(const oiqa_train_config *c, oiqa_optimizer *o)
{
    memset(o, 0, sizeof *o);
    o->kind = c->optimizer.type == OIQA_TRAIN_ADAMW ? OIQA_OPT_ADAMW
              : c->optimizer.type == OIQA_TRAIN_ADAM ? OIQA_OPT_ADAM
                                                     : OIQA_OPT_SGD;
    o->lr = c->optimizer.lr, o->momentum = c->optimizer.momentum, o->weight_decay = c->optimizer.weight_decay;
    o->beta1 = c->optimizer.betas.n == 2 ? c->optimizer.betas.v[0] : 0.9;
    o->beta2 = c->optimizer.betas.n == 2 ? c->optimizer.betas.v[1] : 0.999;
    o->eps = c->optimizer.eps;
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
    char *owned[48];
    int n, n_owned;
} attr_list;

static void attr(attr_list *a, const char *name, const char *value)
{
    a->kv[2 * a->n] = name, a->kv[2 * a->n + 1] = value, a->n++;
}

/* value malloc'ed; name too when name_owned. */
static void attr_owned(attr_list *a, const char *name, int name_owned, char *value)
{
    attr(a, name, value), a->owned[a->n_owned++] = value;
    if (name_owned) a->owned[a->n_owned++] = (char *)name;
}

static char *fmt_double(double v) { return oiqa_asprintf("%.17g", v); }

/* Every bit of the generator, so a resumed run draws the same numbers. */
static char *rng_text(const oiqa_rng *r)
{
    return oiqa_asprintf("%016llx %016llx %016llx %016llx %d %a", (unsigned long long)r->s[0],
                         (unsigned long long)r->s[1], (unsigned long long)r->s[2], (unsigned long long)r->s[3],
                         r->has_spare, r->spare);
}

static int rng_parse(const char *text, const char *attr_name, const char *path, oiqa_rng *r)
{
    unsigned long long s[4];
    int spare_flag;
    double spare;
    if (!text || sscanf(text, "%llx %llx %llx %llx %d %la", &s[0], &s[1], &s[2], &s[3], &spare_flag, &spare) != 6)
        return oiqa_fail(OIQA_EXIT_DATA, path, "attribute '%s' is not a generator state", attr_name);
    for (int i = 0; i < 4; i++) r->s[i] = s[i];
    r->has_spare = spare_flag, r->spare = spare;
    return OIQA_OK;
}

/* The input sizes as root attributes: <role>_dims / <role>_dim. */
static void dims_attrs(const oiqa_method *m, const oiqa_method_shape *sh, attr_list *a)
{
    for (int i = 0; i < m->n_inputs; i++) {
        const char *role = m->inputs[i].role;
        if (m->inputs[i].layout == OIQA_LAYOUT_IMAGE_CONCAT) {
            attr_owned(a, oiqa_asprintf("%s_dim", role), 1, oiqa_asprintf("%d", sh->used[i] ? sh->dim[i][0] : 0));
            continue;
        }
        oiqa_sbuf dims = {0};
        oiqa_sbuf_append(&dims, "[");
        for (int k = 0; sh->used[i] && k < sh->n_blocks[i]; k++)
            oiqa_sbuf_appendf(&dims, "%s%d", k ? ", " : "", sh->dim[i][k]);
        oiqa_sbuf_append(&dims, "]");
        attr_owned(a, oiqa_asprintf("%s_dims", role), 1, dims.s);
    }
}

int oiqa_train_save(const oiqa_method *m, void *model, const oiqa_train_save_info *in, const char *path)
{
    oiqa_param *ps[MAX_PARAMS];
    int np = m->params(model, ps, MAX_PARAMS);
    if (np < 0) return OIQA_EXIT_DATA;
    oiqa_ckpt *ck;
    int rc = oiqa_ckpt_new("oiqa-train", &ck);
    if (rc) return rc;
    /* model.h5 holds the weights that are evaluated: the average, with ema
     * (of the parameters it averages; the others as they are). */
    const oiqa_ema *ema = in->ema;
    for (int i = 0, j = 0; i < np && !rc; i++) {
        const float *avg = NULL;
        if (ema && j < ema->n && ema->params[j] == ps[i]) avg = ema->shadow[j++];
        rc = add_tensor(ck, ps[i]->name, ps[i], avg && !in->opt ? avg : ps[i]->w);
        char name[160];
        snprintf(name, sizeof name, "ema.%s", ps[i]->name);
        if (!rc && avg && in->opt) rc = add_tensor(ck, name, ps[i], avg);
    }
    if (!rc) rc = oiqa_feature_norm_save(in->norm, ck);
    for (int i = 0; i < np && !rc && in->opt; i++) {
        char name[160];
        snprintf(name, sizeof name, "optim.m.%s", ps[i]->name);
        if (ps[i]->m) rc = add_tensor(ck, name, ps[i], ps[i]->m);
        snprintf(name, sizeof name, "optim.v.%s", ps[i]->name);
        if (!rc && ps[i]->v) rc = add_tensor(ck, name, ps[i], ps[i]->v);
    }
    attr_list a = {0};
    attr(&a, "model", m->name);
    attr(&a, "config", in->config_yaml);
    attr_owned(&a, "levels", 0, oiqa_train_classes_levels_json(in->classes));
    attr_owned(&a, "types", 0, oiqa_train_classes_types_json(in->classes));
    dims_attrs(m, in->shape, &a);
    attr_owned(&a, "features", 0, oiqa_feature_prov_json(in->prov, in->n_prov));
    attr_owned(&a, "epoch", 0, oiqa_asprintf("%ld", in->epoch));
    attr_owned(&a, "val_srcc", 0, fmt_double(in->val_srcc));
    attr_owned(&a, "val_plcc", 0, fmt_double(in->val_plcc));
    if (in->opt) {
        const oiqa_rng *r = in->rng;
        attr_owned(&a, "optimizer_step", 0, oiqa_asprintf("%ld", in->opt->step));
        /* Every bit of the generator, so a resumed run draws the same numbers. */
        attr_owned(&a, "rng", 0, rng_text(r));
        attr_owned(&a, "best_epoch", 0, oiqa_asprintf("%ld", in->best_epoch));
        attr_owned(&a, "best_score", 0, fmt_double(in->best_score));
        if (ema) attr_owned(&a, "ema_updates", 0, oiqa_asprintf("%ld", ema->updates));
        if (in->epoch_batches > 0) {
            attr_owned(&a, "epoch_batches", 0, oiqa_asprintf("%ld", in->epoch_batches));
            attr_owned(&a, "epoch_rng", 0, rng_text(in->epoch_rng));
            attr(&a, "epoch_sums", in->epoch_sums ? in->epoch_sums : "");
        }
    }
    char tool[64];
    snprintf(tool, sizeof tool, "oiqa-train %s", OIQA_VERSION);
    oiqa_weights_write_opts o = {.source_path = NULL, .arch = m->name, .tool = tool, .command = in->command,
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

static int parse_dims(const char *text, const char *attr_name, const char *path, int *dims, int max, int *n)
{
    char err[128];
    oiqa_json *j = text ? oiqa_json_parse(text, strlen(text), err, sizeof err) : NULL;
    int ok = j && j->type == OIQA_JSON_ARRAY && j->n >= 1 && j->n <= max;
    for (int i = 0; ok && i < j->n; i++) {
        ok = j->kids[i].type == OIQA_JSON_INT && j->kids[i].i >= 1;
        if (ok) dims[i] = (int)j->kids[i].i;
    }
    int rc = ok ? OIQA_OK : oiqa_fail(OIQA_EXIT_DATA, path, "attribute '%s' is not a list of sizes", attr_name);
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
    if (!rc) rc = rng_parse(rng, "rng", path, &tm->rng);
    char *eu = rc ? NULL : oiqa_h5_attr_read_string(f, "ema_updates");
    if (eu) tm->ema_updates = strtol(eu, NULL, 10), free(eu);
    char *eb = rc ? NULL : oiqa_h5_attr_read_string(f, "epoch_batches");
    if (eb) {
        char *er = need_attr(f, "epoch_rng", path, &rc);
        if (!rc) rc = rng_parse(er, "epoch_rng", path, &tm->epoch_rng);
        tm->epoch_sums = need_attr(f, "epoch_sums", path, &rc);
        tm->epoch_batches = strtol(eb, NULL, 10);
        free(er);
        if (!rc && tm->epoch_batches < 1)
            rc = oiqa_fail(OIQA_EXIT_DATA, path, "attribute 'epoch_batches' is '%s', not a batch count", eb);
    }
    if (!rc) {
        tm->has_state = 1;
        oiqa_train_optimizer_init(&tm->cfg, &tm->opt);
        tm->opt.step = strtol(step, NULL, 10);
        tm->best_epoch = strtol(be, NULL, 10), tm->best_score = strtod(bs, NULL);
    }
    free(step), free(rng), free(be), free(bs), free(eb);
    return rc;
}

void oiqa_train_model_free(oiqa_train_model *tm)
{
    if (tm->m && tm->model) tm->m->free(tm->model);
    oiqa_cli_free(&tm->cfg_cli);
    free(tm->config_yaml);
    oiqa_train_classes_free(&tm->classes);
    oiqa_feature_norm_free(&tm->norm);
    for (int i = 0; i < tm->n_prov; i++) oiqa_feature_prov_free(&tm->prov[i]);
    for (int i = 0; tm->ema && i < tm->n_ema; i++) free(tm->ema[i]);
    free(tm->ema), free(tm->epoch_sums);
    memset(tm, 0, sizeof *tm);
}

const oiqa_feature_prov *oiqa_train_model_prov(const oiqa_train_model *tm, int i)
{
    if (!tm->sel.use[i]) return NULL;
    int k = 0;
    for (int j = 0; j < i; j++) k += tm->sel.use[j] != 0;
    return k < tm->n_prov ? &tm->prov[k] : NULL;
}

/* The input sizes of the <role>_dims / <role>_dim attributes. */
static int read_shape(hid_t f, const char *path, oiqa_train_model *tm)
{
    const oiqa_method *m = tm->m;
    int rc = OIQA_OK;
    memset(&tm->shape, 0, sizeof tm->shape);
    tm->shape.classes = &tm->classes;
    for (int i = 0; i < m->n_inputs && !rc; i++) {
        const char *role = m->inputs[i].role;
        int concat = m->inputs[i].layout == OIQA_LAYOUT_IMAGE_CONCAT;
        char name[96];
        snprintf(name, sizeof name, concat ? "%s_dim" : "%s_dims", role);
        char *text = need_attr(f, name, path, &rc);
        if (rc) break;
        tm->shape.used[i] = tm->sel.use[i];
        if (concat) {
            int G = atoi(text);
            tm->shape.n_blocks[i] = 1, tm->shape.dim[i][0] = G;
            if (tm->sel.use[i] && G < 1)
                rc = oiqa_fail(OIQA_EXIT_DATA, path, "attribute '%s' is %s, but the config reads features.%s", name,
                               text, role);
        } else if (tm->sel.use[i]) {
            int nd = 0;
            rc = parse_dims(text, name, path, tm->shape.dim[i], OIQA_METHOD_MAX_BLOCKS, &nd);
            if (!rc && nd != tm->sel.n_blocks[i])
                rc = oiqa_fail(OIQA_EXIT_DATA, path, "%d input sizes for %d %s blocks", nd, tm->sel.n_blocks[i], role);
            tm->shape.n_blocks[i] = nd;
        }
        free(text);
    }
    return rc;
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
    char *types = need_attr(f, "types", path, &rc), *feat = need_attr(f, "features", path, &rc);
    char *epoch = need_attr(f, "epoch", path, &rc), *vs = need_attr(f, "val_srcc", path, &rc);
    char *vp = need_attr(f, "val_plcc", path, &rc);
    char *config = need_attr(f, "config", path, &rc);
    if (!rc && !(tm->m = oiqa_method_find(model)))
        rc = oiqa_fail(OIQA_EXIT_DATA, path, "model '%s': this build knows %s", model, oiqa_method_names());
    if (!rc) rc = oiqa_train_config_parse(tm->m, config, path, &tm->cfg, &tm->cfg_cli);
    /* The resolved text of this version (an older file's reads the same). */
    if (!rc) tm->config_yaml = oiqa_train_config_yaml(&tm->cfg);
    if (!rc) tm->m->select(&tm->cfg.model, &tm->sel);
    if (!rc) rc = oiqa_train_classes_parse(&tm->classes, levels, types, path);
    if (!rc) rc = read_shape(f, path, tm);
    if (!rc) rc = oiqa_feature_prov_parse(feat, path, tm->prov, OIQA_METHOD_MAX_INPUTS, &tm->n_prov);
    if (!rc) {
        tm->epoch = strtol(epoch, NULL, 10), tm->val_srcc = strtod(vs, NULL), tm->val_plcc = strtod(vp, NULL);
        oiqa_rng r;
        oiqa_rng_seed(&r, 0); /* the draws are overwritten by the file's weights */
        rc = tm->m->build(&tm->cfg.model, &tm->shape, &r, &tm->model);
    }
    if (!rc) rc = oiqa_feature_norm_load(&tm->norm, tm->m, &tm->sel, &tm->shape, ck, path);
    if (!rc) rc = parse_state(f, path, tm);
    oiqa_param *ps[MAX_PARAMS];
    int np = rc ? 0 : tm->m->params(tm->model, ps, MAX_PARAMS);
    if (np < 0) rc = OIQA_EXIT_DATA, np = 0;
    for (int i = 0; i < np && !rc; i++) {
        rc = read_param(ck, ps[i]->name, ps[i], &ps[i]->w, path, 0);
        char name[160];
        snprintf(name, sizeof name, "optim.m.%s", ps[i]->name);
        if (!rc && tm->has_state) rc = read_param(ck, name, ps[i], &ps[i]->m, path, 1);
        snprintf(name, sizeof name, "optim.v.%s", ps[i]->name);
        if (!rc && tm->has_state) rc = read_param(ck, name, ps[i], &ps[i]->v, path, 1);
        snprintf(name, sizeof name, "ema.%s", ps[i]->name);
        if (!rc && tm->has_state && tm->cfg.ema > 0) {
            if (!tm->ema) tm->ema = oiqa_xcalloc((size_t)np, sizeof *tm->ema), tm->n_ema = np;
            rc = read_param(ck, name, ps[i], &tm->ema[i], path, 1);
        }
    }
    free(model), free(levels), free(types), free(feat), free(epoch), free(vs), free(vp), free(config);
    H5Fclose(f);
    oiqa_ckpt_close(ck);
    if (rc) oiqa_train_model_free(tm);
    return rc;
}
