/* The MTFI fusion model; see methods/mtfi/mtfi_model.h and docs/mtfi.md. */
#include "methods/mtfi/mtfi_model.h"

#include <stdio.h>
#include <string.h>

#include "base/error.h"

static int check_config(const oiqa_mtfi_config *c)
{
    if (c->n_scales < 1 || c->n_scales > OIQA_MTFI_MAX_SCALES)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'scales': 1 to %d scales, got %d", OIQA_MTFI_MAX_SCALES,
                         c->n_scales);
    for (int k = 0; k < c->n_scales; k++)
        if (c->local_dim[k] < 1) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "scale %d has no features", k);
    if (c->hidden < 1 || c->hidden > 65536) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'hidden': must be >= 1");
    if (c->use_global && c->global_dim < 1)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'use_global': on, but no global features are given");
    if (c->aux_heads && (c->n_levels < 2 || c->n_types < 2))
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'aux_heads': needs at least 2 levels and 2 types in the labels");
    if (!(c->dropout >= 0 && c->dropout < 1)) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'dropout': must be in [0, 1)");
    return OIQA_OK;
}

static int init_stream(oiqa_mtfi_stream *s, const oiqa_mtfi_config *c, int index, int direction, oiqa_rng *rng)
{
    char name[64];
    s->direction = direction;
    int H = c->hidden, rc = OIQA_OK;
    for (int k = 0; k < c->n_scales && !rc; k++) {
        int in = (direction ? 2 : 1) * c->local_dim[k] + (k ? H : 0);
        snprintf(name, sizeof name, "stream%d.unit%d", index, k);
        rc = oiqa_linear_layer_init(&s->unit[k], name, in, H, 1, rng);
        if (!rc && k) {
            snprintf(name, sizeof name, "stream%d.proj%d", index, k);
            rc = oiqa_linear_layer_init(&s->proj[k], name, H, H, 1, rng);
        }
    }
    if (!rc && c->use_global) {
        snprintf(name, sizeof name, "stream%d.fuse", index);
        rc = oiqa_linear_layer_init(&s->fuse, name, 2 * H, H, 1, rng);
    }
    return rc;
}

int oiqa_mtfi_init(oiqa_mtfi *m, const oiqa_mtfi_config *cfg, oiqa_rng *rng)
{
    memset(m, 0, sizeof *m);
    int rc = check_config(cfg);
    if (rc) return rc;
    m->cfg = *cfg;
    int H = cfg->hidden;
    if (cfg->use_restored) rc = init_stream(&m->streams[m->n_streams], cfg, m->n_streams, 1, rng), m->n_streams++;
    if (!rc && cfg->use_degraded)
        rc = init_stream(&m->streams[m->n_streams], cfg, m->n_streams, 2, rng), m->n_streams++;
    if (!rc && m->n_streams == 0) rc = init_stream(&m->streams[0], cfg, 0, 0, rng), m->n_streams = 1;
    if (!rc && cfg->use_global) rc = oiqa_linear_layer_init(&m->global_proj, "global", cfg->global_dim, H, 1, rng);
    int heads_in = m->n_streams * H;
    if (!rc) rc = oiqa_linear_layer_init(&m->q1, "quality1", heads_in, H, 1, rng);
    if (!rc) rc = oiqa_linear_layer_init(&m->q2, "quality2", H, 1, 1, rng);
    if (!rc && cfg->aux_heads) rc = oiqa_linear_layer_init(&m->level, "level", heads_in, cfg->n_levels, 1, rng);
    if (!rc && cfg->aux_heads) rc = oiqa_linear_layer_init(&m->type, "type", heads_in, cfg->n_types, 1, rng);
    if (rc) oiqa_mtfi_free(m);
    return rc;
}

void oiqa_mtfi_free(oiqa_mtfi *m)
{
    for (int s = 0; s < 2; s++) {
        for (int k = 0; k < OIQA_MTFI_MAX_SCALES; k++) {
            oiqa_linear_layer_free(&m->streams[s].unit[k]);
            oiqa_linear_layer_free(&m->streams[s].proj[k]);
        }
        oiqa_linear_layer_free(&m->streams[s].fuse);
    }
    oiqa_linear_layer_free(&m->global_proj);
    oiqa_linear_layer_free(&m->q1), oiqa_linear_layer_free(&m->q2);
    oiqa_linear_layer_free(&m->level), oiqa_linear_layer_free(&m->type);
}

int oiqa_mtfi_params(oiqa_mtfi *m, oiqa_param **out, int max)
{
    oiqa_param *all[64];
    int n = 0;
    for (int s = 0; s < m->n_streams; s++) {
        for (int k = 0; k < m->cfg.n_scales; k++) {
            n += oiqa_linear_layer_params(&m->streams[s].unit[k], all + n);
            if (k) n += oiqa_linear_layer_params(&m->streams[s].proj[k], all + n);
        }
        if (m->cfg.use_global) n += oiqa_linear_layer_params(&m->streams[s].fuse, all + n);
    }
    if (m->cfg.use_global) n += oiqa_linear_layer_params(&m->global_proj, all + n);
    n += oiqa_linear_layer_params(&m->q1, all + n);
    n += oiqa_linear_layer_params(&m->q2, all + n);
    if (m->cfg.aux_heads) {
        n += oiqa_linear_layer_params(&m->level, all + n);
        n += oiqa_linear_layer_params(&m->type, all + n);
    }
    if (n > max) return oiqa_fail(OIQA_EXIT_DATA, NULL, "mtfi: %d parameters, room for %d", n, max), -1;
    memcpy(out, all, (size_t)n * sizeof *out);
    return n;
}

/* One stream over the scales, pooled over viewports: [B, H]. */
static oiqa_agv stream_forward(oiqa_ag *ag, oiqa_mtfi *m, oiqa_mtfi_stream *s, const oiqa_mtfi_inputs *in)
{
    oiqa_agv h = -1;
    for (int k = 0; k < m->cfg.n_scales; k++) {
        oiqa_agv x = in->orig[k];
        if (s->direction) {
            oiqa_agv ref = s->direction == 1 ? in->rest[k] : in->degr[k];
            oiqa_agv parts[2] = {x, oiqa_ag_sub(ag, x, ref)};
            x = oiqa_ag_concat(ag, parts, 2);
        }
        if (k) {
            oiqa_agv parts[2] = {x, oiqa_linear_layer_apply(ag, &s->proj[k], h)};
            x = oiqa_ag_concat(ag, parts, 2);
        }
        h = oiqa_ag_relu(ag, oiqa_linear_layer_apply(ag, &s->unit[k], x)); /* [B, V, H] */
    }
    return oiqa_ag_mean_axis(ag, h, 1);
}

int oiqa_mtfi_forward(oiqa_ag *ag, oiqa_mtfi *m, const oiqa_mtfi_inputs *in, oiqa_rng *rng,
                      oiqa_mtfi_outputs *out)
{
    oiqa_agv g = -1, pooled[2];
    if (m->cfg.use_global) g = oiqa_ag_relu(ag, oiqa_linear_layer_apply(ag, &m->global_proj, in->global));
    for (int s = 0; s < m->n_streams; s++) {
        oiqa_agv p = stream_forward(ag, m, &m->streams[s], in);
        if (m->cfg.use_global) {
            oiqa_agv parts[2] = {p, g};
            p = oiqa_ag_add(ag, p, oiqa_ag_relu(ag, oiqa_linear_layer_apply(ag, &m->streams[s].fuse,
                                                                            oiqa_ag_concat(ag, parts, 2))));
        }
        pooled[s] = p;
    }
    oiqa_agv z = m->n_streams == 2 ? oiqa_ag_concat(ag, pooled, 2) : pooled[0];
    oiqa_agv q = oiqa_ag_relu(ag, oiqa_linear_layer_apply(ag, &m->q1, z));
    q = oiqa_ag_dropout(ag, q, m->cfg.dropout, rng);
    out->quality = oiqa_linear_layer_apply(ag, &m->q2, q);
    out->level = m->cfg.aux_heads ? oiqa_linear_layer_apply(ag, &m->level, z) : -1;
    out->type = m->cfg.aux_heads ? oiqa_linear_layer_apply(ag, &m->type, z) : -1;
    if (out->quality < 0 || (m->cfg.aux_heads && (out->level < 0 || out->type < 0)))
        return OIQA_EXIT_DATA; /* message set by the failing op */
    return OIQA_OK;
}

oiqa_agv oiqa_mtfi_loss(oiqa_ag *ag, const oiqa_mtfi *m, const oiqa_mtfi_outputs *out, oiqa_agv target,
                        const int *levels, const int *types)
{
    oiqa_agv loss = oiqa_ag_scale(ag, oiqa_ag_mse(ag, out->quality, target), m->cfg.w_quality);
    if (m->cfg.aux_heads && levels && m->cfg.w_level > 0)
        loss = oiqa_ag_add(ag, loss, oiqa_ag_scale(ag, oiqa_ag_cross_entropy(ag, out->level, levels), m->cfg.w_level));
    if (m->cfg.aux_heads && types && m->cfg.w_type > 0)
        loss = oiqa_ag_add(ag, loss, oiqa_ag_scale(ag, oiqa_ag_cross_entropy(ag, out->type, types), m->cfg.w_type));
    return loss;
}
