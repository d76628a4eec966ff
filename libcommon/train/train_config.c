/* oiqa-train's configuration from option tables; see train/train_config.h. */
#include "train/train_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/strutil.h"
#include "methods/registry.h"

static const char *const OPTIMIZERS[] = {"sgd", "adamw", "adam", NULL};
static const char *const SCHEDULES[] = {"constant", "step", "cosine", NULL};
static const char *const PER[] = {"epoch", "batch", NULL};
static const char *const WARMUP_RULES[] = {"to_lr", "from_init", NULL}; /* nn/optim.h's oiqa_warmup_kind */

#define OPT(f) offsetof(oiqa_train_optimizer_config, f)
static const oiqa_opt OPTIMIZER_KEYS[] = {
    {"type", 0, OIQA_OPT_ENUM, OPT(type), "sgd", "NAME", "the optimiser", 0, 0, OPTIMIZERS, 0},
    {"lr", 0, OIQA_OPT_DOUBLE, OPT(lr), "0.001", "LR", "learning rate", 0, 100, NULL, 0},
    {"momentum", 0, OIQA_OPT_DOUBLE, OPT(momentum), "0.9", "M", "SGD momentum", 0, 0.9999, NULL, 0},
    {"weight_decay", 0, OIQA_OPT_DOUBLE, OPT(weight_decay), "0.0001", "WD",
     "weight decay (SGD, Adam: added to the gradient; AdamW: decoupled)", 0, 10, NULL, 0},
    {"betas", 0, OIQA_OPT_NUMBERS, OPT(betas), "[0.9, 0.999]", "[B1, B2]", "Adam, AdamW: the moments' decays", 0,
     0.999999, NULL, 0},
    {"eps", 0, OIQA_OPT_DOUBLE, OPT(eps), "1e-08", "EPS", "Adam, AdamW: added to the root of the second moment", 0, 1,
     NULL, 0},
    {"lr_scale", 0, OIQA_OPT_STRINGS, OPT(lr_scale), "[]", "[PREFIX=SCALE]",
     "parameter groups: the lr of the parameters a prefix names times SCALE (the first that names one)", 0, 0, NULL,
     0},
    {0},
};

#define SCH(f) offsetof(oiqa_train_schedule_config, f)
static const oiqa_opt SCHEDULE_KEYS[] = {
    {"type", 0, OIQA_OPT_ENUM, SCH(type), "constant", "NAME", "the learning rate's rule", 0, 0, SCHEDULES, 0},
    {"per", 0, OIQA_OPT_ENUM, SCH(per), "epoch", "UNIT",
     "the rule's step: epoch or batch (the unit of warmup, step_size, period)", 0, 0, PER, 0},
    {"in_epochs", 0, OIQA_OPT_FLAG, SCH(in_epochs), "false", NULL,
     "per batch, but warmup, step_size and period count epochs (SIND: 5 warm-up epochs)", 0, 0, NULL, 0},
    {"warmup", 0, OIQA_OPT_INT, SCH(warmup), "0", "N", "steps of linear warm-up", 0, 1e9, NULL, 0},
    {"warmup_rule", 0, OIQA_OPT_ENUM, SCH(warmup_rule), "to_lr", "RULE",
     "to_lr: lr (t+1)/warmup; from_init: warmup_init + (lr - warmup_init) t/warmup (SIND's)", 0, 0, WARMUP_RULES,
     0},
    {"warmup_init", 0, OIQA_OPT_DOUBLE, SCH(warmup_init), "0", "LR", "from_init: the rate of the first step", 0, 100,
     NULL, 0},
    {"step_size", 0, OIQA_OPT_INT, SCH(step_size), "30", "N", "step: steps between decays", 1, 1e9, NULL, 0},
    {"gamma", 0, OIQA_OPT_DOUBLE, SCH(gamma), "0.1", "G", "step: the decay factor", 0, 1e3, NULL, 0},
    {"min_lr", 0, OIQA_OPT_DOUBLE, SCH(min_lr), "0", "LR", "cosine: the floor", 0, 100, NULL, 0},
    {"period", 0, OIQA_OPT_INT, SCH(period), "0", "N",
     "cosine: steps from lr to min_lr, then back up (torch's T_max; 0: the whole run after warm-up)", 0, 1e9, NULL,
     0},
    {0},
};

void oiqa_train_config_rows(const oiqa_method *m, size_t base, oiqa_train_rows *r)
{
    memset(r, 0, sizeof *r);
    for (int i = 0; i < m->n_inputs && i < OIQA_METHOD_MAX_INPUTS; i++)
        r->features[i] = (oiqa_opt){m->inputs[i].role, 0, OIQA_OPT_STRING, (size_t)i * sizeof(char *), NULL, "FILE",
                                    m->inputs[i].help, 0, 0, NULL, 0};
    snprintf(r->method_help, sizeof r->method_help, "the method: %s (its keys are model's)", oiqa_method_names());
    snprintf(r->model_help, sizeof r->model_help, "%s's keys: %s", m->name, m->summary ? m->summary : "");
#define B(f) (base + offsetof(oiqa_train_config, f))
    const oiqa_opt rows[] = {
        {"method", 0, OIQA_OPT_STRING, B(method), "mtfi", "NAME", r->method_help, 0, 0, NULL, 0},
        {"model", 0, OIQA_OPT_SECTION, B(model), NULL, "MAP", r->model_help, 0, 0, NULL, 0, m->opts, 0, 0},
        {"features", 0, OIQA_OPT_SECTION, B(features), NULL, "MAP", "the cached feature files, one per input", 0, 0,
         NULL, 0, r->features, 0, 0},
        {"labels", 0, OIQA_OPT_STRING, B(labels), NULL, "FILE", "labels.csv (name,mos,ref,dist_type,dist_level)", 0,
         0, NULL, 0},
        {"splits", 0, OIQA_OPT_STRING, B(splits), NULL, "FILE", "splits.csv (content-disjoint train / val / test)",
         0, 0, NULL, 0},
        {"repeat", 0, OIQA_OPT_STRING, B(repeat), "s0", "sN", "the splits column to train on", 0, 0, NULL, 0},
        {"optimizer", 0, OIQA_OPT_SECTION, B(optimizer), NULL, "MAP", "the optimiser (SGD, Adam or AdamW)", 0, 0, NULL, 0,
         OPTIMIZER_KEYS, 0, 0},
        {"schedule", 0, OIQA_OPT_SECTION, B(schedule), NULL, "MAP", "the learning rate per epoch or batch", 0, 0,
         NULL, 0, SCHEDULE_KEYS, 0, 0},
        {"freeze", 0, OIQA_OPT_STRINGS, B(freeze), "[]", "[PREFIX]",
         "parameters kept constant: those a name prefix names (layer1 is layer1.*)", 0, 0, NULL, 0},
        {"ema", 0, OIQA_OPT_DOUBLE, B(ema), "0", "DECAY",
         "validate and keep a moving average of the weights (e.g. 0.99; 0: off)", 0, 0.999999999, NULL, 0},
        {"ema_warmup", 0, OIQA_OPT_FLAG, B(ema_warmup), "false", NULL,
         "ema's decay ramps as min(ema, (1 + n)/(10 + n)) at update n (torch_ema's, SIND's)", 0, 0, NULL, 0},
        {"epochs", 0, OIQA_OPT_INT, B(epochs), "100", "N", "epochs to train", 1, 1e6, NULL, 0},
        {"batch_size", 0, OIQA_OPT_INT, B(batch_size), "16", "N", "images per mini-batch", 1, 1e6, NULL, 0},
        {"clip", 0, OIQA_OPT_DOUBLE, B(clip), "0", "NORM", "clip the global gradient norm to NORM (0: off)", 0, 1e12,
         NULL, 0},
        {"seed", 0, OIQA_OPT_INT, B(seed), "0", "N", "seed of the weights, the shuffling and dropout", 0,
         2147483647.0, NULL, 0},
    };
#undef B
    r->n = (int)(sizeof rows / sizeof *rows);
    memcpy(r->row, rows, sizeof rows);
}

int oiqa_train_prefix_names(const char *prefix, const char *param_name)
{
    size_t len = strlen(prefix);
    return len && !strncmp(param_name, prefix, len) && (param_name[len] == '\0' || param_name[len] == '.');
}

int oiqa_train_input_index(const oiqa_method *m, const char *role)
{
    for (int i = 0; i < m->n_inputs; i++)
        if (!strcmp(m->inputs[i].role, role)) return i;
    return -1;
}

static int method_by_name(const char *name, const oiqa_method **m)
{
    *m = oiqa_method_find(name ? name : "mtfi");
    if (!*m)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'method': unknown method '%s' (known: %s)", name,
                         oiqa_method_names());
    return OIQA_OK;
}

int oiqa_train_method_of_args(int argc, char **argv, const oiqa_method **m)
{
    char *name = NULL;
    int rc = oiqa_cli_peek_key(argc, argv, "method", &name);
    if (!rc) rc = method_by_name(name, m);
    free(name);
    return rc;
}

int oiqa_train_config_bind(oiqa_train_config *c, const oiqa_method *want)
{
    const oiqa_method *m;
    int rc = method_by_name(c->method, &m);
    if (rc) return rc;
    if (want && m != want)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'method': '%s', but the keys were read as %s's", m->name,
                         want->name);
    c->m = m;
    return OIQA_OK;
}

int oiqa_train_tool_table(const oiqa_method *m, const oiqa_opt *own, int n_own, size_t base, oiqa_train_table *t,
                          oiqa_tool *tool)
{
    oiqa_train_config_rows(m, base, &t->rows);
    if (n_own < 0 || n_own + t->rows.n > OIQA_TRAIN_TOOL_ROWS_MAX)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "internal error: %d tool rows, room for %d", n_own + t->rows.n,
                         OIQA_TRAIN_TOOL_ROWS_MAX);
    if (n_own) memcpy(t->opts, own, (size_t)n_own * sizeof *own);
    memcpy(t->opts + n_own, t->rows.row, (size_t)t->rows.n * sizeof *own);
    memset(&t->opts[n_own + t->rows.n], 0, sizeof *own);
    tool->opts = t->opts;
    return OIQA_OK;
}

/* A tool of just the config keys (offsets from the config itself). */
static void config_tool(const oiqa_method *m, oiqa_train_table *t, oiqa_tool *tool)
{
    memset(tool, 0, sizeof *tool);
    tool->name = "oiqa-train";
    oiqa_train_tool_table(m, NULL, 0, 0, t, tool);
}

int oiqa_train_config_parse(const oiqa_method *m, const char *text, const char *source, oiqa_train_config *c,
                            oiqa_cli *cli)
{
    memset(c, 0, sizeof *c);
    oiqa_train_table t;
    oiqa_tool tool;
    config_tool(m, &t, &tool);
    int rc = oiqa_cli_parse_config_text(&tool, text, source, c, cli);
    /* A config written before the `method` key reads as mtfi's, the only
     * method then. */
    if (!rc) rc = oiqa_train_config_bind(c, m);
    return rc;
}

char *oiqa_train_config_yaml(const oiqa_train_config *c)
{
    oiqa_train_table t;
    oiqa_tool tool;
    config_tool(c->m, &t, &tool);
    return oiqa_cli_resolved_config(&tool, c);
}

int oiqa_train_config_check(const oiqa_train_config *c)
{
    const oiqa_method *m = c->m;
    oiqa_method_select sel;
    m->select(&c->model, &sel);
    for (int i = 0; i < m->n_inputs; i++)
        if (sel.use[i] && !c->features[i]) {
            const char *fix = m->inputs[i].fix_missing;
            return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'features.%s': no %s feature file given%s%s%s",
                             m->inputs[i].role, m->inputs[i].role, fix ? " (" : "", fix ? fix : "", fix ? ")" : "");
        }
    if (!c->labels) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'labels': no labels.csv given");
    if (!c->splits) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'splits': no splits.csv given");
    if (c->schedule.min_lr > c->optimizer.lr && c->schedule.type == OIQA_TRAIN_COSINE)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'schedule.min_lr': larger than optimizer.lr");
    if (c->optimizer.betas.n != 2)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'optimizer.betas': expected [beta1, beta2], got %d value(s)",
                         c->optimizer.betas.n);
    for (int i = 0; i < c->optimizer.lr_scale.n; i++) {
        const char *s = c->optimizer.lr_scale.v[i], *eq = strchr(s, '=');
        char *end = NULL;
        double v = eq ? strtod(eq + 1, &end) : 0;
        if (!eq || eq == s || end == eq + 1 || *end || !(v >= 0) || v > 1e6)
            return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'optimizer.lr_scale': '%s' is not PREFIX=SCALE (SCALE >= 0)",
                             s);
    }
    return m->check ? m->check(&c->model) : OIQA_OK;
}
