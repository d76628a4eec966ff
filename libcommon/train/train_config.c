/* oiqa-train's configuration: defaults, nested keys, the resolved text;
 * see train/train_config.h and docs/train.md. */
#include "train/train_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/strutil.h"

static const char *const OPTIMIZERS[] = {"sgd", "adamw", NULL};
static const char *const SCHEDULES[] = {"constant", "step", "cosine", NULL};
static const char *const TOP_KEYS[] = {"model", "features", "labels", "splits", "repeat", "optimizer",
                                       "schedule", "epochs", "batch_size", "clip", "seed", NULL};
static const char *const MODEL_KEYS[] = {"hidden", "dropout", "use_restored", "use_degraded", "use_global",
                                         "scales", "aux_heads", "loss_weights", NULL};
static const char *const FEATURE_KEYS[] = {"local", "global", NULL};
static const char *const OPT_KEYS[] = {"type", "lr", "momentum", "weight_decay", NULL};
static const char *const SCHED_KEYS[] = {"type", "warmup", "step_size", "gamma", "min_lr", NULL};

static void set_str(char **dst, const char *s)
{
    free(*dst);
    *dst = s ? oiqa_strdup(s) : NULL;
}

void oiqa_train_config_defaults(oiqa_train_config *c)
{
    memset(c, 0, sizeof *c);
    c->hidden = 256, c->dropout = 0.1;
    c->use_restored = c->use_degraded = c->use_global = c->aux_heads = 1;
    c->n_scales = 3;
    c->scales[0] = oiqa_strdup("layer2"), c->scales[1] = oiqa_strdup("layer3"), c->scales[2] = oiqa_strdup("layer4");
    c->loss_weights[0] = 1.0, c->loss_weights[1] = 0.1, c->loss_weights[2] = 0.1;
    c->repeat = oiqa_strdup("s0");
    c->optimizer = OIQA_TRAIN_SGD, c->lr = 1e-3, c->momentum = 0.9, c->weight_decay = 1e-4;
    c->schedule = OIQA_TRAIN_CONSTANT, c->warmup = 0, c->step_size = 30, c->gamma = 0.1, c->min_lr = 0;
    c->epochs = 100, c->batch_size = 16, c->seed = 0, c->clip = 0;
}

void oiqa_train_config_free(oiqa_train_config *c)
{
    for (int k = 0; k < OIQA_MTFI_MAX_SCALES; k++) free(c->scales[k]);
    free(c->local), free(c->global), free(c->labels), free(c->splits), free(c->repeat);
    memset(c, 0, sizeof *c);
}

int oiqa_train_config_copy(oiqa_train_config *dst, const oiqa_train_config *src)
{
    *dst = *src;
    for (int k = 0; k < OIQA_MTFI_MAX_SCALES; k++) dst->scales[k] = src->scales[k] ? oiqa_strdup(src->scales[k]) : NULL;
    dst->local = src->local ? oiqa_strdup(src->local) : NULL;
    dst->global = src->global ? oiqa_strdup(src->global) : NULL;
    dst->labels = src->labels ? oiqa_strdup(src->labels) : NULL;
    dst->splits = src->splits ? oiqa_strdup(src->splits) : NULL;
    dst->repeat = src->repeat ? oiqa_strdup(src->repeat) : NULL;
    return OIQA_OK;
}

/* ---- reading keys --------------------------------------------------------- */

static int get_choice(const oiqa_yaml_node *n, const char *what, const char *const *choices, int *out)
{
    const char *s;
    int rc = oiqa_yaml_as_string(n, what, &s);
    if (rc) return rc;
    for (int i = 0; s && choices[i]; i++)
        if (!strcmp(s, choices[i])) return *out = i, OIQA_OK;
    char expected[128] = "one of";
    for (int i = 0; choices[i]; i++)
        snprintf(expected + strlen(expected), sizeof expected - strlen(expected), "%s %s", i ? "," : "", choices[i]);
    return oiqa_yaml_type_error(n, what, expected);
}

static int get_long(const oiqa_yaml_node *n, const char *what, long lo, long hi, long *out)
{
    long v;
    int rc = oiqa_yaml_as_int(n, what, &v);
    if (rc) return rc;
    if (v < lo || v > hi) {
        char e[96];
        snprintf(e, sizeof e, "an integer in [%ld, %ld]", lo, hi);
        return oiqa_yaml_type_error(n, what, e);
    }
    return *out = v, OIQA_OK;
}

static int get_double(const oiqa_yaml_node *n, const char *what, double lo, double hi, double *out)
{
    double v;
    int rc = oiqa_yaml_as_double(n, what, &v);
    if (rc) return rc;
    if (!(v >= lo && v <= hi)) {
        char e[96];
        snprintf(e, sizeof e, "a number in [%g, %g]", lo, hi);
        return oiqa_yaml_type_error(n, what, e);
    }
    return *out = v, OIQA_OK;
}

static int get_string(const oiqa_yaml_node *n, const char *what, char **dst)
{
    const char *s;
    int rc = oiqa_yaml_as_string(n, what, &s);
    if (!rc) set_str(dst, s);
    return rc;
}

/* A list of scalars, or one scalar as a list of one. */
static int get_scales(oiqa_train_config *c, const oiqa_yaml_node *n, const char *what)
{
    size_t cnt = n->kind == OIQA_YAML_SEQ ? n->n : 1;
    if (n->kind == OIQA_YAML_MAP || cnt < 1 || cnt > OIQA_MTFI_MAX_SCALES)
        return oiqa_yaml_type_error(n, what, "a list of 1 to 4 block names");
    char *names[OIQA_MTFI_MAX_SCALES] = {0};
    for (size_t i = 0; i < cnt; i++) {
        const oiqa_yaml_node *it = n->kind == OIQA_YAML_SEQ ? n->items[i] : n;
        const char *s;
        int rc = oiqa_yaml_as_string(it, what, &s);
        if (!rc && !s) rc = oiqa_yaml_type_error(it, what, "a block name");
        if (rc) {
            for (size_t j = 0; j < i; j++) free(names[j]);
            return rc;
        }
        names[i] = oiqa_strdup(s);
    }
    for (int k = 0; k < OIQA_MTFI_MAX_SCALES; k++) free(c->scales[k]), c->scales[k] = names[k];
    c->n_scales = (int)cnt;
    return OIQA_OK;
}

static int get_weights(oiqa_train_config *c, const oiqa_yaml_node *n, const char *what)
{
    if (n->kind != OIQA_YAML_SEQ || n->n != 3)
        return oiqa_yaml_type_error(n, what, "a list of 3 numbers (quality, level, type)");
    double w[3];
    for (int i = 0; i < 3; i++) {
        int rc = get_double(n->items[i], what, 0, 1e6, &w[i]);
        if (rc) return rc;
    }
    memcpy(c->loss_weights, w, sizeof w);
    return OIQA_OK;
}

static int bad_key(const oiqa_yaml_node *n, const char *section, const char *key, const char *const *known)
{
    char list[256] = "";
    for (int i = 0; known[i]; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", known[i]);
    if (n && n->source)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "%s:%d: unknown key '%s%s%s' (known: %s)", n->source, n->line,
                         section ? section : "", section ? "." : "", key, list);
    return oiqa_fail(OIQA_EXIT_USAGE, NULL, "unknown key '%s%s%s' (known: %s)", section ? section : "",
                     section ? "." : "", key, list);
}

static int apply_model(oiqa_train_config *c, const char *k, const oiqa_yaml_node *n)
{
    char what[64];
    snprintf(what, sizeof what, "model.%s", k);
    if (!strcmp(k, "hidden")) return get_long(n, what, 1, 65536, &c->hidden);
    if (!strcmp(k, "dropout")) return get_double(n, what, 0, 0.99, &c->dropout);
    if (!strcmp(k, "use_restored")) return oiqa_yaml_as_bool(n, what, &c->use_restored);
    if (!strcmp(k, "use_degraded")) return oiqa_yaml_as_bool(n, what, &c->use_degraded);
    if (!strcmp(k, "use_global")) return oiqa_yaml_as_bool(n, what, &c->use_global);
    if (!strcmp(k, "aux_heads")) return oiqa_yaml_as_bool(n, what, &c->aux_heads);
    if (!strcmp(k, "scales")) return get_scales(c, n, what);
    if (!strcmp(k, "loss_weights")) return get_weights(c, n, what);
    return bad_key(n, "model", k, MODEL_KEYS);
}

static int apply_features(oiqa_train_config *c, const char *k, const oiqa_yaml_node *n)
{
    char what[64];
    snprintf(what, sizeof what, "features.%s", k);
    if (!strcmp(k, "local")) return get_string(n, what, &c->local);
    if (!strcmp(k, "global")) return get_string(n, what, &c->global);
    return bad_key(n, "features", k, FEATURE_KEYS);
}

static int apply_optimizer(oiqa_train_config *c, const char *k, const oiqa_yaml_node *n)
{
    char what[64];
    snprintf(what, sizeof what, "optimizer.%s", k);
    if (!strcmp(k, "type")) return get_choice(n, what, OPTIMIZERS, &c->optimizer);
    if (!strcmp(k, "lr")) return get_double(n, what, 0, 100, &c->lr);
    if (!strcmp(k, "momentum")) return get_double(n, what, 0, 0.9999, &c->momentum);
    if (!strcmp(k, "weight_decay")) return get_double(n, what, 0, 10, &c->weight_decay);
    return bad_key(n, "optimizer", k, OPT_KEYS);
}

static int apply_schedule(oiqa_train_config *c, const char *k, const oiqa_yaml_node *n)
{
    char what[64];
    snprintf(what, sizeof what, "schedule.%s", k);
    if (!strcmp(k, "type")) return get_choice(n, what, SCHEDULES, &c->schedule);
    if (!strcmp(k, "warmup")) return get_long(n, what, 0, 1000000, &c->warmup);
    if (!strcmp(k, "step_size")) return get_long(n, what, 1, 1000000, &c->step_size);
    if (!strcmp(k, "gamma")) return get_double(n, what, 0, 1e3, &c->gamma);
    if (!strcmp(k, "min_lr")) return get_double(n, what, 0, 100, &c->min_lr);
    return bad_key(n, "schedule", k, SCHED_KEYS);
}

typedef int (*section_fn)(oiqa_train_config *, const char *, const oiqa_yaml_node *);

static section_fn section_of(const char *name)
{
    if (!strcmp(name, "model")) return apply_model;
    if (!strcmp(name, "features")) return apply_features;
    if (!strcmp(name, "optimizer")) return apply_optimizer;
    if (!strcmp(name, "schedule")) return apply_schedule;
    return NULL;
}

static int apply_section(oiqa_train_config *c, const char *name, section_fn fn, const oiqa_yaml_node *n)
{
    if (n->kind == OIQA_YAML_SCALAR && !n->quoted && oiqa_yaml_is_null_text(n->scalar)) return OIQA_OK;
    if (n->kind != OIQA_YAML_MAP) return oiqa_yaml_type_error(n, name, "a map of keys");
    for (size_t i = 0; i < n->n; i++) {
        int rc = fn(c, n->keys[i], n->items[i]);
        if (rc) return rc;
    }
    return OIQA_OK;
}

int oiqa_train_config_apply_key(oiqa_train_config *c, const char *key, const oiqa_yaml_node *n)
{
    const char *dot = strchr(key, '.');
    if (dot) {
        char section[32];
        snprintf(section, sizeof section, "%.*s", (int)(dot - key), key);
        section_fn fn = section_of(section);
        if (!fn) return bad_key(n, NULL, section, TOP_KEYS);
        return fn(c, dot + 1, n);
    }
    section_fn fn = section_of(key);
    if (fn) return apply_section(c, key, fn, n);
    if (!strcmp(key, "labels")) return get_string(n, key, &c->labels);
    if (!strcmp(key, "splits")) return get_string(n, key, &c->splits);
    if (!strcmp(key, "repeat")) return get_string(n, key, &c->repeat);
    if (!strcmp(key, "epochs")) return get_long(n, key, 1, 1000000, &c->epochs);
    if (!strcmp(key, "batch_size")) return get_long(n, key, 1, 1000000, &c->batch_size);
    if (!strcmp(key, "seed")) return get_long(n, key, 0, 0x7fffffffL, &c->seed);
    if (!strcmp(key, "clip")) return get_double(n, key, 0, 1e12, &c->clip);
    return bad_key(n, NULL, key, TOP_KEYS);
}

int oiqa_train_config_apply(oiqa_train_config *c, const oiqa_yaml_node *root)
{
    if (!root) return OIQA_OK;
    if (root->kind != OIQA_YAML_MAP) return oiqa_yaml_type_error(root, "(top level)", "a map of keys");
    for (size_t i = 0; i < root->n; i++) {
        int rc = oiqa_train_config_apply_key(c, root->keys[i], root->items[i]);
        if (rc) return rc;
    }
    return OIQA_OK;
}

int oiqa_train_config_set(oiqa_train_config *c, const char *assignment)
{
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "--set: expected KEY=VALUE, got '%s'", assignment);
    char *text = oiqa_asprintf("v: %s", eq + 1);
    char *key = oiqa_strndup(assignment, (size_t)(eq - assignment));
    oiqa_yaml_doc doc = {0};
    int rc = oiqa_yaml_load_string(text, strlen(text), "--set", &doc);
    if (rc) rc = OIQA_EXIT_USAGE;
    else if (!doc.root || doc.root->kind != OIQA_YAML_MAP || doc.root->n != 1)
        rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "--set %s: the value must be one YAML value", key);
    else
        rc = oiqa_train_config_apply_key(c, key, doc.root->items[0]);
    oiqa_yaml_free(&doc);
    free(text), free(key);
    return rc;
}

int oiqa_train_config_parse(const char *text, const char *source, oiqa_train_config *c)
{
    oiqa_train_config_defaults(c);
    oiqa_yaml_doc doc = {0};
    int rc = oiqa_yaml_load_string(text, strlen(text), source, &doc);
    if (!rc) rc = oiqa_train_config_apply(c, doc.root);
    oiqa_yaml_free(&doc);
    return rc;
}

int oiqa_train_config_check(const oiqa_train_config *c)
{
    if (!c->local) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'features.local': no backbone feature file given");
    if (c->use_global && !c->global)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL,
                         "key 'model.use_global' is true but 'features.global' is null: give the oiqa-vmamba file "
                         "or set model.use_global: false");
    if (!c->labels) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'labels': no labels.csv given");
    if (!c->splits) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'splits': no splits.csv given");
    for (int i = 0; i < c->n_scales; i++)
        for (int j = 0; j < i; j++)
            if (!strcmp(c->scales[i], c->scales[j]))
                return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'model.scales': '%s' given twice", c->scales[i]);
    if (c->min_lr > c->lr && c->schedule == OIQA_TRAIN_COSINE)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'schedule.min_lr': larger than optimizer.lr");
    return OIQA_OK;
}

/* ---- the resolved text ---------------------------------------------------- */

static void put_str(oiqa_sbuf *b, const char *s)
{
    if (!s) {
        oiqa_sbuf_append(b, "null");
        return;
    }
    char *q = oiqa_yaml_quote_string(s);
    oiqa_sbuf_append(b, q);
    free(q);
}

static void put_line_num(oiqa_sbuf *b, const char *key, double v)
{
    oiqa_sbuf_appendf(b, "%s: ", key);
    oiqa_sbuf_append_double(b, v);
    oiqa_sbuf_append(b, "\n");
}

static void put_line_int(oiqa_sbuf *b, const char *key, long v) { oiqa_sbuf_appendf(b, "%s: %ld\n", key, v); }

static void put_line_str(oiqa_sbuf *b, const char *key, const char *s)
{
    oiqa_sbuf_appendf(b, "%s: ", key);
    put_str(b, s);
    oiqa_sbuf_append(b, "\n");
}

char *oiqa_train_config_yaml(const oiqa_train_config *c)
{
    oiqa_sbuf b = {0};
    const char *tf[2] = {"false", "true"};
    oiqa_sbuf_append(&b, "model:\n");
    put_line_int(&b, "  hidden", c->hidden);
    put_line_num(&b, "  dropout", c->dropout);
    oiqa_sbuf_appendf(&b, "  use_restored: %s\n  use_degraded: %s\n  use_global: %s\n", tf[!!c->use_restored],
                      tf[!!c->use_degraded], tf[!!c->use_global]);
    oiqa_sbuf_append(&b, "  scales: [");
    for (int k = 0; k < c->n_scales; k++) {
        if (k) oiqa_sbuf_append(&b, ", ");
        put_str(&b, c->scales[k]);
    }
    oiqa_sbuf_appendf(&b, "]\n  aux_heads: %s\n  loss_weights: [", tf[!!c->aux_heads]);
    for (int i = 0; i < 3; i++) {
        if (i) oiqa_sbuf_append(&b, ", ");
        oiqa_sbuf_append_double(&b, c->loss_weights[i]);
    }
    oiqa_sbuf_append(&b, "]\nfeatures:\n");
    put_line_str(&b, "  local", c->local);
    put_line_str(&b, "  global", c->global);
    put_line_str(&b, "labels", c->labels);
    put_line_str(&b, "splits", c->splits);
    put_line_str(&b, "repeat", c->repeat);
    oiqa_sbuf_appendf(&b, "optimizer:\n  type: %s\n", OPTIMIZERS[c->optimizer]);
    put_line_num(&b, "  lr", c->lr);
    put_line_num(&b, "  momentum", c->momentum);
    put_line_num(&b, "  weight_decay", c->weight_decay);
    oiqa_sbuf_appendf(&b, "schedule:\n  type: %s\n", SCHEDULES[c->schedule]);
    put_line_int(&b, "  warmup", c->warmup);
    put_line_int(&b, "  step_size", c->step_size);
    put_line_num(&b, "  gamma", c->gamma);
    put_line_num(&b, "  min_lr", c->min_lr);
    put_line_int(&b, "epochs", c->epochs);
    put_line_int(&b, "batch_size", c->batch_size);
    put_line_num(&b, "clip", c->clip);
    put_line_int(&b, "seed", c->seed);
    return b.s;
}
