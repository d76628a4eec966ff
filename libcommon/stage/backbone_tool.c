/* oiqa-backbone and its names oiqa-resnet and oiqa-vmamba; see
 * stage/backbone_tool.h. */
#include "stage/backbone_tool.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/log.h"
#include "base/strutil.h"
#include "stage/stage_rows.h"

const oiqa_backbone_variant oiqa_backbone_tool_any = {
    .name = "oiqa-backbone",
    .summary = "Features of any registered backbone (--arch): per-block channel mean and std of every viewport of a "
               "viewports.h5 (and of its pseudo-references), or of whole ERP images; optionally the maps.",
    .usage = "[options] --arch NAME VIEWPORTS.h5|IMAGE... --weights FILE|random:SEED -o OUT.h5",
    .example = "oiqa-backbone --arch resnet50 features/demo/viewports.h5 --weights resnet50-0676ba61.pth -o r50.h5\n"
               "  oiqa-backbone --arch vmamba_t_s1l8 --root /data/CVIQ @names.txt --weights vssm1_tiny.pth -o vm.h5\n"
               "  oiqa-backbone --arch resnet50 --help   (the options of one backbone)",
    .batch = "20",
    .erp = 1,
};

const oiqa_backbone_variant oiqa_backbone_tool_resnet = {
    .name = "oiqa-resnet",
    .summary = "ResNet-50 features of every viewport (and of its pseudo-references): per-channel mean and std of "
               "the selected stages, optionally the maps.",
    .usage = "[options] VIEWPORTS.h5 --weights FILE|random:SEED -o OUT.h5",
    .example = "oiqa-resnet features/demo/viewports.h5 --pseudoref features/demo/pseudoref.h5 \\\n"
               "      --weights resnet50-0676ba61.pth -o features/demo/resnet50.h5\n"
               "  oiqa-resnet vp.h5 --weights random:0 --blocks layer4 --maps --map-size 4 -o r50.h5 -j 8",
    .arch = "resnet50",
    .fixed = 1,
    .batch = "20",
};

const oiqa_backbone_variant oiqa_backbone_tool_vmamba = {
    .name = "oiqa-vmamba",
    .summary = "VMamba-T global features of whole ERP images (per-channel mean and std of each stage), or of every "
               "viewport of a viewports.h5.",
    .usage = "[options] IMAGE... --weights FILE|random:SEED -o OUT.h5   (or VIEWPORTS.h5 instead of images)",
    .example = "oiqa-vmamba data/panoramas/*.png --weights vssm1_tiny_0230s_ckpt_epoch_264.pth -o vmamba.h5\n"
               "  oiqa-vmamba --root /data/CVIQ @names.txt --arch vmamba_t_v0 --weights vssmtiny.pth -o cviq_vm.h5\n"
               "  oiqa-vmamba features/demo/viewports.h5 --weights random:0 --blocks stage3 -o vp_vmamba.h5",
    .family = "vmamba",
    .arch = "vmamba_t_s1l8",
    .batch = "1",
    .erp = 1,
};

static int in_variant(const oiqa_backbone_variant *v, const oiqa_extractor_kind *k)
{
    if (v->fixed) return !strcmp(k->name, v->arch);
    return !v->family || (k->family && !strcmp(k->family, v->family));
}

/* "a, b, c": the rows --arch of v may name. */
static void arch_list(const oiqa_backbone_variant *v, char *buf, size_t size)
{
    buf[0] = '\0';
    for (int i = 0; i < oiqa_extractor_count(); i++) {
        const oiqa_extractor_kind *k = oiqa_extractor_at(i);
        if (!in_variant(v, k)) continue;
        size_t n = strlen(buf);
        snprintf(buf + n, size - n, "%s%s", n ? ", " : "", k->name);
    }
}

#define OFF(f) offsetof(oiqa_backbone_cli, f)
#define CLI OIQA_OPTF_CLI_ONLY
/* Rows that only ERP inputs use: left out of a variant without them. */
static int erp_only(const char *name)
{
    static const char *const ERP_ROWS[] = {"height", "width", "allow-aspect", "max-pixels", "root", NULL};
    for (int i = 0; ERP_ROWS[i]; i++)
        if (!strcmp(ERP_ROWS[i], name)) return 1;
    return 0;
}

int oiqa_backbone_table_build(const oiqa_backbone_variant *v, const oiqa_extractor_kind *k, oiqa_backbone_table *t)
{
    memset(t, 0, sizeof *t);
    t->v = v, t->kind = k;
    char list[512];
    arch_list(v, list, sizeof list);
    snprintf(t->arch_help, sizeof t->arch_help, "the backbone: %s", list);
    snprintf(t->weights_help, sizeof t->weights_help, "%s, or deterministic random weights",
             k && k->weights_help ? k->weights_help : "the backbone's checkpoint (.pth, .safetensors, oiqa .h5)");
    if (k) {
        char blocks[256] = "";
        for (int b = 0; b < k->n_blocks; b++)
            snprintf(blocks + strlen(blocks), sizeof blocks - strlen(blocks), "%s%s", b ? "," : "", k->blocks[b].name);
        snprintf(t->blocks_help, sizeof t->blocks_help, "blocks to keep, from %s", blocks);
        snprintf(t->height_def, sizeof t->height_def, "%d", k->input_h);
        snprintf(t->width_def, sizeof t->width_def, "%d", k->input_w);
    } else {
        snprintf(t->blocks_help, sizeof t->blocks_help, "blocks to keep (default: the backbone's; see --arch NAME "
                 "--help)");
    }
    const oiqa_opt common[] = {
        {"out", 'o', OIQA_OPT_STRING, OFF(out), NULL, "FILE",
         "output feature file (written as FILE.partial, then renamed)", 0, 0, NULL, CLI},
        {"arch", 0, OIQA_OPT_STRING, OFF(arch), k ? k->name : v->arch, "NAME", t->arch_help, 0, 0, NULL, 0},
        {"weights", 'w', OIQA_OPT_STRING, OFF(weights), NULL, "FILE|random:SEED", t->weights_help, 0, 0, NULL, 0},
        {"pseudoref", 0, OIQA_OPT_STRING, OFF(pseudoref), NULL, "FILE",
         "pseudoref.h5 of the same viewports (viewports input only): adds the restored and degraded streams", 0, 0,
         NULL, 0},
        {"blocks", 0, OIQA_OPT_STRING, OFF(blocks), k ? k->default_blocks : NULL, "LIST", t->blocks_help, 0, 0, NULL,
         0},
        {"height", 0, OIQA_OPT_INT, OFF(height), k ? t->height_def : NULL, "H",
         "ERP inputs are resized to H x W (area when shrinking)", 8, 8192, NULL, 0},
        {"width", 0, OIQA_OPT_INT, OFF(width), k ? t->width_def : NULL, "W", "see --height", 8, 16384, NULL, 0},
        {"maps", 0, OIQA_OPT_FLAG, OFF(maps), "false", NULL,
         "also store the feature maps (float16; a token backbone's patch-token grid)", 0, 0, NULL, 0},
        {"map-size", 0, OIQA_OPT_INT, OFF(map_size), "0", "P", "average the stored maps to P x P (0: native size)", 0,
         256, NULL, 0},
        {"batch", 0, OIQA_OPT_INT, OFF(batch), v->batch, "N",
         "viewports (or images) per forward pass (memory grows with it)", 1, 1024, NULL, 0},
        {"compress", 0, OIQA_OPT_INT, OFF(deflate), "4", "LEVEL", "deflate level 0-9 for the features", 0, 9, NULL, 0},
        {"allow-aspect", 0, OIQA_OPT_FLAG, OFF(allow_aspect), "false", NULL, "accept ERP images that are not 2:1", 0,
         0, NULL, 0},
        {"max-pixels", 0, OIQA_OPT_INT, OFF(max_pixels), "536870912", "N",
         "refuse images declaring more pixels than this (checked before decoding)", 64, 4e12, NULL, 0},
        {"root", 0, OIQA_OPT_STRING, OFF(root), NULL, "DIR", "dataset root: inputs are names relative to it", 0, 0,
         NULL, CLI},
        {"skip-bad", 0, OIQA_OPT_FLAG, OFF(skip_bad), "false", NULL,
         "leave out images with NaN or Inf inputs or features (listed in the attribute skipped) instead of failing",
         0, 0, NULL, CLI},
        STAGE_DEVICE,
        STAGE_FORCE_RESUME,
    };
    int n = 0;
    for (size_t i = 0; i < sizeof common / sizeof *common; i++) {
        if ((v->fixed && !strcmp(common[i].name, "arch")) || (!v->erp && erp_only(common[i].name))) continue;
        t->opts[n++] = common[i];
    }
    /* The extractor's own rows, their offsets moved to the ext buffer. */
    for (int i = 0; k && k->opts && k->opts[i].name; i++) {
        for (size_t j = 0; j < sizeof common / sizeof *common; j++)
            if (!strcmp(common[j].name, k->opts[i].name))
                return oiqa_fail(OIQA_EXIT_USAGE, NULL, "extractor %s: its option '%s' is a common option of %s",
                                 k->name, k->opts[i].name, v->name);
        if (n == OIQA_BACKBONE_ROWS_MAX || k->opts_size > sizeof(oiqa_extractor_opts))
            return oiqa_fail(OIQA_EXIT_USAGE, NULL, "extractor %s: too many options", k->name);
        t->opts[n] = k->opts[i];
        t->opts[n++].offset += OFF(ext);
    }
    t->tool = (oiqa_tool){.name = v->name, .summary = v->summary, .usage = v->usage, .example = v->example,
                          .opts = t->opts, .min_args = 1, .max_args = v->erp ? -1 : 1};
    return OIQA_OK;
}
#undef OFF
#undef CLI

/* The extractor --arch names (as the command line would finally set it),
 * checked against the variant; NULL when none is named. */
static int pick_kind(const oiqa_backbone_variant *v, int argc, char **argv, const oiqa_extractor_kind **k)
{
    *k = NULL;
    char *name = NULL;
    int rc = v->fixed ? OIQA_OK : oiqa_cli_peek_key(argc, argv, "arch", &name);
    const char *want = name ? name : v->arch;
    char list[512];
    arch_list(v, list, sizeof list);
    if (!rc && want && !(*k = oiqa_extractor_find(want)))
        rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "--arch: unknown backbone '%s' (known: %s)", want, list);
    else if (!rc && *k && !in_variant(v, *k))
        rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "--arch: %s runs %s, not %s (oiqa-backbone runs every backbone)",
                       v->name, list, want);
    free(name);
    return rc;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

void oiqa_backbone_cli_opts(const oiqa_backbone_table *t, const oiqa_backbone_cli *c, oiqa_backbone_opts *bo)
{
    *bo = (oiqa_backbone_opts){
        .extractor = t->kind->name, .weights = c->weights, .blocks = c->blocks, .pseudoref = c->pseudoref,
        .maps = c->maps, .map_size = (int)c->map_size, .batch = (int)c->batch, .deflate = (int)c->deflate,
        .skip_bad = c->skip_bad, .device = (oiqa_device)c->device, .extractor_opts = t->kind->opts ? &c->ext : NULL,
    };
}

void oiqa_backbone_cli_global_opts(const oiqa_backbone_table *t, const oiqa_backbone_cli *c, oiqa_global_opts *go)
{
    *go = (oiqa_global_opts){
        .extractor = t->kind->name, .weights = c->weights, .blocks = c->blocks, .height = (int)c->height,
        .width = (int)c->width, .maps = c->maps, .map_size = (int)c->map_size, .batch = (int)c->batch,
        .deflate = (int)c->deflate, .allow_aspect = c->allow_aspect, .max_pixels = c->max_pixels, .root = c->root,
        .skip_bad = c->skip_bad, .device = (oiqa_device)c->device, .extractor_opts = t->kind->opts ? &c->ext : NULL,
    };
}

/* The checks and the run, once parsed. */
static int run_parsed(const oiqa_backbone_table *t, const oiqa_backbone_cli *c, const oiqa_cli *cli)
{
    const oiqa_backbone_variant *v = t->v;
    char list[512];
    arch_list(v, list, sizeof list);
    int viewports_input = !v->erp || (cli->n_args == 1 && ends_with(cli->args[0], ".h5"));
    if (!t->kind) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "no backbone: give --arch NAME (known: %s)", list);
    if (!c->out) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "no output: give -o OUT.h5 (see --help)");
    if (!c->weights)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "no weights: give --weights FILE (%s) or --weights random:SEED",
                         t->kind->weights_help ? t->kind->weights_help : ".pth, .safetensors or an oiqa .h5");
    if (c->force && c->resume) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "--force and --resume exclude each other");
    if (c->pseudoref && !viewports_input)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "--pseudoref goes with a viewports.h5 input, not with ERP images");
    char **names = NULL;
    int n_names = 0, rc = OIQA_OK;
    if (!viewports_input && (rc = oiqa_cli_expand_inputs(cli->args, cli->n_args, &names, &n_names))) return rc;
    char *config = oiqa_cli_resolved_config(&t->tool, c);
    oiqa_provenance prov = {.stage = viewports_input ? "backbone" : "global", .tool = cli->tool_version,
                            .command = cli->command, .config = config};
    if (viewports_input) {
        oiqa_backbone_opts bo;
        oiqa_backbone_cli_opts(t, c, &bo);
        bo.force = c->force, bo.resume = c->resume;
        rc = oiqa_backbone_run(&bo, cli->args[0], c->out, &prov);
    } else {
        oiqa_global_opts go;
        oiqa_backbone_cli_global_opts(t, c, &go);
        go.force = c->force, go.resume = c->resume;
        rc = oiqa_global_run(&go, names, n_names, c->out, &prov);
    }
    if (!rc) oiqa_info("wrote %s", c->out);
    free(config);
    oiqa_strv_free(names, n_names);
    return rc;
}

int oiqa_backbone_main(const oiqa_backbone_variant *v, int argc, char **argv)
{
    oiqa_log_init(argv[0]);
    const oiqa_extractor_kind *k;
    oiqa_backbone_table *t = oiqa_xcalloc(1, sizeof *t);
    oiqa_backbone_cli *c = oiqa_xcalloc(1, sizeof *c);
    oiqa_cli cli = {0};
    int rc = pick_kind(v, argc, argv, &k);
    if (!rc) rc = oiqa_backbone_table_build(v, k, t);
    if (!rc) rc = oiqa_cli_parse(&t->tool, argc, argv, c, &cli);
    if (!rc) rc = run_parsed(t, c, &cli);
    oiqa_cli_free(&cli);
    free(c), free(t);
    if (rc == OIQA_CLI_EXIT_OK) return 0;
    return rc ? oiqa_report(rc) : 0;
}

int oiqa_backbone_config_parse(const char *extractor, const char *text, const char *source, oiqa_backbone_table *t,
                               oiqa_backbone_cli *c, oiqa_cli *cli)
{
    memset(c, 0, sizeof *c);
    memset(cli, 0, sizeof *cli);
    const oiqa_extractor_kind *k = extractor ? oiqa_extractor_find(extractor) : NULL;
    if (!k)
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "%s: backbone '%s' is not a registered extractor (known: %s)", source,
                         extractor ? extractor : "(none)", oiqa_extractor_names());
    int rc = oiqa_backbone_table_build(&oiqa_backbone_tool_any, k, t);
    if (!rc) rc = oiqa_cli_parse_config_text(&t->tool, text, source, c, cli);
    if (!rc && (!c->arch || strcmp(c->arch, k->name))) {
        rc = oiqa_fail(OIQA_EXIT_DATA, NULL, "%s: the recorded config is for %s, the features' backbone is %s", source,
                       c->arch ? c->arch : "(none)", k->name);
        oiqa_cli_free(cli);
    }
    return rc;
}
