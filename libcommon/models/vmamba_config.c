/* VMamba configurations from YAML files (configs/models/vmamba_*.yaml; the
 * keys and values of the official yaml files, models/vmamba.h). */
#include <string.h>

#include "base/error.h"
#include "base/yaml.h"
#include "models/vmamba.h"

static const char *const KNOWN_KEYS[] = {
    "arch", "preset", "depths", "dims", "forward_type", "ssm_d_state", "ssm_ratio", "ssm_dt_rank", "ssm_conv",
    "ssm_conv_bias", "mlp_ratio", "norm_layer", "patch_size", "patchembed_version", "downsample_version",
    "num_classes", NULL};

/* A list of four positive integers, or one integer d meaning d, 2d, 4d, 8d
 * (the official `dims: 96`). */
static int read_four(const oiqa_yaml_node *n, const char *what, int doubling, int out[OIQA_VMAMBA_STAGES])
{
    long v;
    if (n && n->kind == OIQA_YAML_SCALAR && doubling) {
        int rc = oiqa_yaml_as_int(n, what, &v);
        for (int s = 0; !rc && s < OIQA_VMAMBA_STAGES; s++) out[s] = (int)(v << s);
        return rc;
    }
    if (!n || n->kind != OIQA_YAML_SEQ || n->n != OIQA_VMAMBA_STAGES)
        return oiqa_yaml_type_error(n, what, "a list of 4 integers");
    for (int s = 0; s < OIQA_VMAMBA_STAGES; s++) {
        int rc = oiqa_yaml_as_int(n->items[s], what, &v);
        if (rc) return rc;
        out[s] = (int)v;
    }
    return OIQA_OK;
}

/* A string that must be one of `choices` (NULL-terminated); its index. */
static int read_choice(const oiqa_yaml_node *map, const char *key, const char *const *choices, int *index)
{
    const char *s = NULL;
    int rc = oiqa_yaml_as_string(oiqa_yaml_get(map, key), key, &s);
    for (int i = 0; !rc && choices[i]; i++)
        if (s && !strcmp(s, choices[i])) {
            *index = i;
            return OIQA_OK;
        }
    return rc ? rc : oiqa_yaml_type_error(oiqa_yaml_get(map, key), key, "one of the listed values");
}

static int read_config(const oiqa_yaml_node *m, oiqa_vmamba_config *cfg)
{
    long state, patch, classes, conv = 3;
    double ratio, mlp;
    const char *dt_rank = "auto";
    int bias, form, norm, embed, down, depths[OIQA_VMAMBA_STAGES], dims[OIQA_VMAMBA_STAGES];
    static const char *const forms[] = {"v0", "v05_noz", NULL}, *const norms[] = {"ln", "ln2d", NULL};
    static const char *const embeds[] = {"v1", "v2", NULL}, *const downs[] = {"v1", "v3", NULL};
    int rc = oiqa_yaml_check_keys(m, KNOWN_KEYS, "a VMamba configuration");
    /* Every key but arch, preset, ssm_dt_rank and ssm_conv is required. */
    for (int i = 2; !rc && KNOWN_KEYS[i]; i++) {
        const char *k = KNOWN_KEYS[i];
        if (strcmp(k, "ssm_dt_rank") && strcmp(k, "ssm_conv") && !oiqa_yaml_get(m, k))
            rc = oiqa_fail(OIQA_EXIT_USAGE, m->source, "missing key '%s' (a VMamba configuration)", k);
    }
    if (!rc) rc = read_four(oiqa_yaml_get(m, "depths"), "depths", 0, depths);
    if (!rc) rc = read_four(oiqa_yaml_get(m, "dims"), "dims", 1, dims);
    if (!rc) rc = read_choice(m, "forward_type", forms, &form);
    if (!rc) rc = oiqa_yaml_as_int(oiqa_yaml_get(m, "ssm_d_state"), "ssm_d_state", &state);
    if (!rc) rc = oiqa_yaml_as_double(oiqa_yaml_get(m, "ssm_ratio"), "ssm_ratio", &ratio);
    const oiqa_yaml_node *dt_node = oiqa_yaml_get(m, "ssm_dt_rank"), *conv_node = oiqa_yaml_get(m, "ssm_conv");
    if (!rc && dt_node) rc = oiqa_yaml_as_string(dt_node, "ssm_dt_rank", &dt_rank); /* optional: auto */
    if (!rc && conv_node) rc = oiqa_yaml_as_int(conv_node, "ssm_conv", &conv);        /* optional: 3 */
    if (!rc) rc = oiqa_yaml_as_bool(oiqa_yaml_get(m, "ssm_conv_bias"), "ssm_conv_bias", &bias);
    if (!rc) rc = oiqa_yaml_as_double(oiqa_yaml_get(m, "mlp_ratio"), "mlp_ratio", &mlp);
    if (!rc) rc = read_choice(m, "norm_layer", norms, &norm);
    if (!rc) rc = oiqa_yaml_as_int(oiqa_yaml_get(m, "patch_size"), "patch_size", &patch);
    if (!rc) rc = read_choice(m, "patchembed_version", embeds, &embed);
    if (!rc) rc = read_choice(m, "downsample_version", downs, &down);
    if (!rc) rc = oiqa_yaml_as_int(oiqa_yaml_get(m, "num_classes"), "num_classes", &classes);
    /* What the loader cannot run is refused here, not at the first forward. */
    if (!rc && (!dt_rank || strcmp(dt_rank, "auto")))
        rc = oiqa_yaml_type_error(dt_node, "ssm_dt_rank", "auto (ceil(C / 16))");
    if (!rc && conv != 3) rc = oiqa_yaml_type_error(conv_node, "ssm_conv", "3");
    if (rc) return rc;
    (void)norm; /* ln and ln2d compute the same LayerNorm over channels */
    *cfg = (oiqa_vmamba_config){
        .d_state = (int)state, .ssm_ratio = (float)ratio, .mlp_ratio = (float)mlp,
        .forward_type = form ? OIQA_VMAMBA_V05_NOZ : OIQA_VMAMBA_V0, .conv_bias = bias, .patch_size = (int)patch,
        .patch_embed_version = embed + 1, .downsample_version = down ? 3 : 1, .num_classes = (int)classes,
    };
    memcpy(cfg->depths, depths, sizeof depths);
    memcpy(cfg->dims, dims, sizeof dims);
    return OIQA_OK;
}

int oiqa_vmamba_config_from_yaml(const char *path, oiqa_vmamba_config *cfg)
{
    oiqa_yaml_doc doc;
    int rc = oiqa_yaml_load_file(path, &doc);
    if (rc) return rc;
    if (!doc.root || doc.root->kind != OIQA_YAML_MAP) rc = oiqa_fail(OIQA_EXIT_USAGE, path, "not a YAML mapping");
    else rc = read_config(doc.root, cfg);
    oiqa_yaml_free(&doc);
    return rc;
}
