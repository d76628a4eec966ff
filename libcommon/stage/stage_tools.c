/* The option tables of the stage tools; see stage/stage_tools.h. */
#include "stage/stage_tools.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "nn/device.h"
/* --force and --resume, the same in every stage tool (each table defines OFF
 * for its own struct, which has `force` and `resume` fields). */
#define STAGE_FORCE_RESUME                                                                                            \
    {"force", 0, OIQA_OPT_FLAG, OFF(force), "false", NULL, "overwrite an existing output or .partial", 0, 0, NULL,  \
     OIQA_OPTF_CLI_ONLY},                                                                                            \
    {"resume", 0, OIQA_OPT_FLAG, OFF(resume), "false", NULL, "continue an interrupted run's FILE.partial", 0, 0,     \
     NULL, OIQA_OPTF_CLI_ONLY}
/* --device, the same in the stages that compute on a GPU (nn/device.h). Not
 * part of the recorded recipe: the results do not depend on it. */
#define STAGE_DEVICE                                                                                                  \
    {"device", 0, OIQA_OPT_ENUM, OFF(device), "auto", "NAME",                                                         \
     "cpu, cuda (the GPU; the CPU with one line on stderr when none works) or auto (the GPU when one works)", 0, 0, \
     oiqa_device_names, OIQA_OPTF_CLI_ONLY}

/* ---- oiqa-viewports ---- */

#define OFF(f) offsetof(oiqa_viewports_cli, f)
static const oiqa_opt VIEWPORTS_OPTIONS[] = {
    {"out", 'o', OIQA_OPT_STRING, OFF(out), NULL, "FILE", "output viewports.h5 (written as FILE.partial, then renamed)",
     0, 0, NULL, OIQA_OPTF_CLI_ONLY},
    {"layout", 0, OIQA_OPT_ENUM, OFF(layout), "icosa20", "NAME", "where the viewports look", 0, 0,
     oiqa_layout_names, 0},
    {"size", 0, OIQA_OPT_INT, OFF(size), "224", "S", "viewport width and height in pixels", 8, 4096, NULL, 0},
    {"fov", 0, OIQA_OPT_DOUBLE, OFF(fov), "90", "DEG", "field of view in degrees", 1, 179, NULL, 0},
    {"filter", 0, OIQA_OPT_ENUM, OFF(filter), "bilinear", "NAME",
     "sampling filter (antialias: trilinear mipmapping, for ERPs much larger than the viewports)", 0, 0,
     oiqa_filter_names, 0},
    {"centers", 0, OIQA_OPT_YAML, OFF(centers), NULL, "LIST",
     "layout list: [{lon: DEG, lat: DEG, fov: DEG}, ...] (fov optional)", 0, 0, NULL, 0},
    {"min-sep", 0, OIQA_OPT_DOUBLE, OFF(min_sep), "30", "DEG", "vgcn20: minimum great-circle separation", 0, 90,
     NULL, 0},
    {"compress", 0, OIQA_OPT_INT, OFF(deflate), "0", "LEVEL",
     "deflate level 0-9 for /viewports (0: none; natural images gain little)", 0, 9, NULL, 0},
    {"max-pixels", 0, OIQA_OPT_INT, OFF(max_pixels), "536870912", "N",
     "refuse images declaring more pixels than this (checked before decoding)", 64, 4e12, NULL, 0},
    {"allow-aspect", 0, OIQA_OPT_FLAG, OFF(allow_aspect), "false", NULL, "accept images that are not 2:1", 0, 0,
     NULL, 0},
    {"root", 0, OIQA_OPT_STRING, OFF(root), NULL, "DIR",
     "dataset root: inputs are names relative to it (as in labels.csv)", 0, 0, NULL, OIQA_OPTF_CLI_ONLY},
    {"png", 0, OIQA_OPT_STRING, OFF(png_dir), NULL, "DIR", "also write every viewport as DIR/<name>_vNN.png", 0, 0,
     NULL, OIQA_OPTF_CLI_ONLY},
    {"sheet", 0, OIQA_OPT_STRING, OFF(sheet_dir), NULL, "DIR",
     "also write one contact sheet per image as DIR/<name>_sheet.png", 0, 0, NULL, OIQA_OPTF_CLI_ONLY},
    STAGE_DEVICE,
    STAGE_FORCE_RESUME,
    {0},
};

const oiqa_tool oiqa_viewports_tool = {
    .name = "oiqa-viewports",
    .summary = "Cut V gnomonic viewports out of each equirectangular (ERP) image into an HDF5 feature file.",
    .usage = "[options] IMAGE... -o OUT.h5   (IMAGE may be @list.txt, or - for names on stdin)",
    .example = "oiqa-viewports data/panoramas/*.png -o features/demo/viewports.h5 --sheet results/sheets\n"
               "  oiqa-viewports --root /data/CVIQ @names.txt --layout cube6 --size 256 -o cviq_vp.h5 -j 8",
    .opts = VIEWPORTS_OPTIONS,
    .min_args = 1,
    .max_args = -1,
};
#undef OFF

int oiqa_viewports_cli_opts(const oiqa_viewports_cli *c, oiqa_viewports_opts *vo, oiqa_view **list)
{
    *list = NULL;
    int n_list = 0, rc;
    if (c->layout == OIQA_LAYOUT_LIST && (rc = oiqa_views_from_yaml(c->centers, c->fov, list, &n_list))) return rc;
    if (c->layout != OIQA_LAYOUT_LIST && c->centers)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "centers are given but layout is %s (use layout: list)",
                         oiqa_layout_names[c->layout]);
    *vo = (oiqa_viewports_opts){
        .layout = (oiqa_layout_kind)c->layout, .size = (int)c->size, .fov = c->fov, .filter = (oiqa_filter)c->filter,
        .list = *list, .n_list = n_list, .vgcn_min_sep = c->min_sep, .allow_aspect = c->allow_aspect,
        .max_pixels = c->max_pixels, .deflate = (int)c->deflate, .device = (oiqa_device)c->device,
    };
    return OIQA_OK;
}

/* ---- oiqa-pseudoref ---- */

static const char *const LEVEL_NAMES[] = {"auto", "1", "2", "3", "4", "5", NULL};

#define OFF(f) offsetof(oiqa_pseudoref_cli, f)
static const oiqa_opt PSEUDOREF_OPTIONS[] = {
    {"out", 'o', OIQA_OPT_STRING, OFF(out), NULL, "FILE", "output pseudoref.h5 (written as FILE.partial, then renamed)",
     0, 0, NULL, OIQA_OPTF_CLI_ONLY},
    {"detect", 0, OIQA_OPT_ENUM, OFF(detect), "erp", "WHERE",
     "where the distortion is detected: erp (each row's source image, on its codec grid) or viewport (each viewport; "
     "no source needed)", 0, 0, oiqa_pr_detect_names, 0},
    {"erp-root", 0, OIQA_OPT_STRING, OFF(erp_root), NULL, "DIR",
     "detect erp: the source images are DIR/<row name> (default: the paths viewports.h5 recorded)", 0, 0, NULL,
     OIQA_OPTF_CLI_ONLY},
    {"restore", 0, OIQA_OPT_ENUM, OFF(restore), "auto", "NAME",
     "restorer (auto: the detected distortion's; none: a copy)", 0, 0, oiqa_pr_restore_names, 0},
    {"restore-on", 0, OIQA_OPT_ENUM, OFF(restore_on), "erp", "WHERE",
     "detect erp, restore auto: jpeg, jpeg2000, h264 and hevc restored on the ERP, then cut (erp), or on each "
     "viewport (viewport)", 0, 0, oiqa_pr_space_names, 0},
    {"degrade", 0, OIQA_OPT_ENUM, OFF(degrade), "auto", "NAME",
     "distortion (auto: the detected one, one level stronger; blur level 1 when none is detected; h264 and hevc "
     "through the ffmpeg program)", 0, 0, oiqa_pr_degrade_names, 0},
    {"degrade-level", 0, OIQA_OPT_ENUM, OFF(degrade_level), "auto", "L",
     "level 1..5 of the degradation (auto: detected + 1 for degrade auto, 3 for a named family)", 0, 0, LEVEL_NAMES,
     0},
    {"seed", 0, OIQA_OPT_INT, OFF(seed), "0", "N", "noise seed (mixed with each row name and viewport index)", 0,
     4294967295.0, NULL, 0},
    {"error-maps", 0, OIQA_OPT_FLAG, OFF(error_maps), "false", NULL,
     "also write float16 error maps /error_restored and /error_degraded", 0, 0, NULL, 0},
    {"error-eps", 0, OIQA_OPT_DOUBLE, OFF(error_eps), "1", "EPS",
     "eps of the error maps, in squared grey levels (floor eps/255^2 on the squared luma difference)", 1e-6, 65000,
     NULL, 0},
    {"compress", 0, OIQA_OPT_INT, OFF(deflate), "0", "LEVEL", "deflate level 0-9 for /restored and /degraded", 0, 9,
     NULL, 0},
    {"png", 0, OIQA_OPT_STRING, OFF(png_dir), NULL, "DIR",
     "also write DIR/<name>_vNN_{original,restored,degraded}.png", 0, 0, NULL, OIQA_OPTF_CLI_ONLY},
    {"sheet", 0, OIQA_OPT_STRING, OFF(sheet_dir), NULL, "DIR",
     "also write one sheet per image, DIR/<name>_pseudoref.png: rows of original | restored | degraded", 0, 0, NULL,
     OIQA_OPTF_CLI_ONLY},
    STAGE_FORCE_RESUME,
    {0},
};

const oiqa_tool oiqa_pseudoref_tool = {
    .name = "oiqa-pseudoref",
    .summary = "Restored and degraded pseudo-references of every viewport of a viewports.h5 (MTFI's bidirectional "
               "pseudo-references), with classical operators.",
    .usage = "[options] VIEWPORTS.h5 -o OUT.h5",
    .example = "oiqa-pseudoref features/demo/viewports.h5 -o features/demo/pseudoref.h5 --sheet results/pseudoref\n"
               "  oiqa-pseudoref features/cviq/viewports.h5 --erp-root /data/CVIQ -o features/cviq/pseudoref.h5 -j 8\n"
               "  oiqa-pseudoref vp.h5 --restore denoise --degrade noise --degrade-level 2 --error-maps -o pr.h5 -j 8",
    .opts = PSEUDOREF_OPTIONS,
    .min_args = 1,
    .max_args = 1,
};
#undef OFF

void oiqa_pseudoref_cli_opts(const oiqa_pseudoref_cli *c, oiqa_pseudoref_opts *po)
{
    *po = (oiqa_pseudoref_opts){
        .restore = (oiqa_pr_restore)c->restore, .degrade = (oiqa_pr_degrade)c->degrade,
        .degrade_level = c->degrade_level, .seed = (uint64_t)c->seed, .error_maps = c->error_maps,
        .error_eps = c->error_eps, .deflate = (int)c->deflate, .detect = (oiqa_pr_detect)c->detect,
        .restore_on = (oiqa_pr_space)c->restore_on, .erp_root = c->erp_root,
    };
}

/* ---- oiqa-resnet ---- */

#define OFF(f) offsetof(oiqa_resnet_cli, f)
static const oiqa_opt RESNET_OPTIONS[] = {
    {"out", 'o', OIQA_OPT_STRING, OFF(out), NULL, "FILE", "output feature file (written as FILE.partial, then renamed)",
     0, 0, NULL, OIQA_OPTF_CLI_ONLY},
    {"weights", 'w', OIQA_OPT_STRING, OFF(weights), NULL, "FILE|random:SEED",
     "torchvision ResNet-50 weights (.pth, .safetensors, oiqa .h5), or deterministic random weights", 0, 0, NULL, 0},
    {"pseudoref", 0, OIQA_OPT_STRING, OFF(pseudoref), NULL, "FILE",
     "pseudoref.h5 of the same viewports: adds the restored and degraded streams", 0, 0, NULL, 0},
    {"blocks", 0, OIQA_OPT_STRING, OFF(blocks), "layer2,layer3,layer4", "LIST",
     "stages to keep, from layer1,layer2,layer3,layer4", 0, 0, NULL, 0},
    {"maps", 0, OIQA_OPT_FLAG, OFF(maps), "false", NULL, "also store the feature maps (float16)", 0, 0, NULL, 0},
    {"map-size", 0, OIQA_OPT_INT, OFF(map_size), "0", "P", "average the stored maps to P x P (0: native size)", 0, 256,
     NULL, 0},
    {"batch", 0, OIQA_OPT_INT, OFF(batch), "20", "N", "viewports per forward pass (memory grows with it)", 1, 1024,
     NULL, 0},
    {"compress", 0, OIQA_OPT_INT, OFF(deflate), "4", "LEVEL", "deflate level 0-9 for the features", 0, 9, NULL, 0},
    {"skip-bad", 0, OIQA_OPT_FLAG, OFF(skip_bad), "false", NULL,
     "leave out images with NaN or Inf inputs or features (listed in the attribute skipped) instead of failing", 0,
     0, NULL, OIQA_OPTF_CLI_ONLY},
    STAGE_DEVICE,
    STAGE_FORCE_RESUME,
    {0},
};

const oiqa_tool oiqa_resnet_tool = {
    .name = "oiqa-resnet",
    .summary = "ResNet-50 features of every viewport (and of its pseudo-references): per-channel mean and std of "
               "the selected stages, optionally the maps.",
    .usage = "[options] VIEWPORTS.h5 --weights FILE|random:SEED -o OUT.h5",
    .example = "oiqa-resnet features/demo/viewports.h5 --pseudoref features/demo/pseudoref.h5 \\\n"
               "      --weights resnet50-0676ba61.pth -o features/demo/resnet50.h5\n"
               "  oiqa-resnet vp.h5 --weights random:0 --blocks layer4 --maps --map-size 4 -o r50.h5 -j 8",
    .opts = RESNET_OPTIONS,
    .min_args = 1,
    .max_args = 1,
};
#undef OFF

void oiqa_resnet_cli_opts(const oiqa_resnet_cli *c, oiqa_backbone_opts *bo)
{
    *bo = (oiqa_backbone_opts){
        .extractor = "resnet50", .weights = c->weights, .blocks = c->blocks, .pseudoref = c->pseudoref,
        .maps = c->maps, .map_size = (int)c->map_size, .batch = (int)c->batch, .deflate = (int)c->deflate,
        .skip_bad = c->skip_bad, .device = (oiqa_device)c->device,
    };
}

/* ---- oiqa-vmamba ---- */

const char *const oiqa_vmamba_arch_names[] = {"vmamba_t_s1l8", "vmamba_t_s2l5", "vmamba_t_v0", NULL};

#define OFF(f) offsetof(oiqa_vmamba_cli, f)
#define CLI OIQA_OPTF_CLI_ONLY
static const oiqa_opt VMAMBA_OPTIONS[] = {
    {"out", 'o', OIQA_OPT_STRING, OFF(out), NULL, "FILE", "output feature file (written as FILE.partial, then renamed)",
     0, 0, NULL, CLI},
    {"arch", 0, OIQA_OPT_ENUM, OFF(arch), "vmamba_t_s1l8", "NAME",
     "VMamba-T variant: s1l8 (the released VMamba-T), s2l5, or v0 (the first release)", 0, 0, oiqa_vmamba_arch_names, 0},
    {"weights", 'w', OIQA_OPT_STRING, OFF(weights), NULL, "FILE|random:SEED",
     "official VMamba checkpoint (.pth {'model': ...}, .safetensors, oiqa .h5), or deterministic random weights", 0,
     0, NULL, 0},
    {"blocks", 0, OIQA_OPT_STRING, OFF(blocks), "stage0,stage1,stage2,stage3", "LIST", "stages to keep", 0, 0, NULL,
     0},
    {"height", 0, OIQA_OPT_INT, OFF(height), "512", "H", "ERP inputs are resized to H x W (area when shrinking)", 8,
     8192, NULL, 0},
    {"width", 0, OIQA_OPT_INT, OFF(width), "1024", "W", "see --height", 8, 16384, NULL, 0},
    {"maps", 0, OIQA_OPT_FLAG, OFF(maps), "false", NULL, "also store the feature maps (float16)", 0, 0, NULL, 0},
    {"map-size", 0, OIQA_OPT_INT, OFF(map_size), "0", "P", "average the stored maps to P x P (0: native size)", 0, 256,
     NULL, 0},
    {"batch", 0, OIQA_OPT_INT, OFF(batch), "1", "N", "images (or viewports) per forward pass", 1, 1024, NULL, 0},
    {"compress", 0, OIQA_OPT_INT, OFF(deflate), "4", "LEVEL", "deflate level 0-9 for the features", 0, 9, NULL, 0},
    {"allow-aspect", 0, OIQA_OPT_FLAG, OFF(allow_aspect), "false", NULL, "accept ERP images that are not 2:1", 0, 0,
     NULL, 0},
    {"max-pixels", 0, OIQA_OPT_INT, OFF(max_pixels), "536870912", "N",
     "refuse images declaring more pixels than this (checked before decoding)", 64, 4e12, NULL, 0},
    {"pseudoref", 0, OIQA_OPT_STRING, OFF(pseudoref), NULL, "FILE",
     "viewports input only: pseudoref.h5 adding the restored and degraded streams", 0, 0, NULL, 0},
    {"root", 0, OIQA_OPT_STRING, OFF(root), NULL, "DIR", "dataset root: inputs are names relative to it", 0, 0, NULL,
     CLI},
    {"skip-bad", 0, OIQA_OPT_FLAG, OFF(skip_bad), "false", NULL,
     "leave out images whose features are NaN or Inf (listed in the attribute skipped) instead of failing", 0, 0,
     NULL, CLI},
    STAGE_DEVICE,
    STAGE_FORCE_RESUME,
    {0},
};

const oiqa_tool oiqa_vmamba_tool = {
    .name = "oiqa-vmamba",
    .summary = "VMamba-T global features of whole ERP images (per-channel mean and std of each stage), or of every "
               "viewport of a viewports.h5.",
    .usage = "[options] IMAGE... --weights FILE|random:SEED -o OUT.h5   (or VIEWPORTS.h5 instead of images)",
    .example = "oiqa-vmamba data/panoramas/*.png --weights vssm1_tiny_0230s_ckpt_epoch_264.pth -o vmamba.h5\n"
               "  oiqa-vmamba --root /data/CVIQ @names.txt --arch vmamba_t_v0 --weights vssmtiny.pth -o cviq_vm.h5\n"
               "  oiqa-vmamba features/demo/viewports.h5 --weights random:0 --blocks stage3 -o vp_vmamba.h5",
    .opts = VMAMBA_OPTIONS,
    .min_args = 1,
    .max_args = -1,
};
#undef OFF
#undef CLI

void oiqa_vmamba_cli_global_opts(const oiqa_vmamba_cli *c, oiqa_global_opts *go)
{
    *go = (oiqa_global_opts){
        .extractor = oiqa_vmamba_arch_names[c->arch], .weights = c->weights, .blocks = c->blocks,
        .height = (int)c->height, .width = (int)c->width, .maps = c->maps, .map_size = (int)c->map_size,
        .batch = (int)c->batch, .deflate = (int)c->deflate, .allow_aspect = c->allow_aspect,
        .max_pixels = c->max_pixels, .root = c->root, .skip_bad = c->skip_bad, .device = (oiqa_device)c->device,
    };
}

void oiqa_vmamba_cli_backbone_opts(const oiqa_vmamba_cli *c, oiqa_backbone_opts *bo)
{
    *bo = (oiqa_backbone_opts){
        .extractor = oiqa_vmamba_arch_names[c->arch], .weights = c->weights, .blocks = c->blocks,
        .pseudoref = c->pseudoref, .maps = c->maps, .map_size = (int)c->map_size, .batch = (int)c->batch,
        .deflate = (int)c->deflate, .skip_bad = c->skip_bad, .device = (oiqa_device)c->device,
    };
}

/* ---- the registry of backbone tools ---- */

static const char *const RESNET_EXTRACTORS[] = {"resnet50", NULL};

static void resnet_backbone(const void *c, oiqa_backbone_opts *bo) { oiqa_resnet_cli_opts(c, bo); }
static void vmamba_backbone(const void *c, oiqa_backbone_opts *bo) { oiqa_vmamba_cli_backbone_opts(c, bo); }
static void vmamba_global(const void *c, oiqa_global_opts *go) { oiqa_vmamba_cli_global_opts(c, go); }

static const oiqa_stage_tool STAGE_TOOLS[] = {
    {&oiqa_resnet_tool, sizeof(oiqa_resnet_cli), RESNET_EXTRACTORS, resnet_backbone, NULL},
    {&oiqa_vmamba_tool, sizeof(oiqa_vmamba_cli), oiqa_vmamba_arch_names, vmamba_backbone, vmamba_global},
};
#define N_STAGE_TOOLS ((int)(sizeof STAGE_TOOLS / sizeof *STAGE_TOOLS))

const oiqa_stage_tool *oiqa_stage_tool_for(const char *stage, const char *extractor)
{
    int global = stage && !strcmp(stage, "global");
    for (int i = 0; extractor && i < N_STAGE_TOOLS; i++) {
        const oiqa_stage_tool *t = &STAGE_TOOLS[i];
        if (!(global ? t->global_opts != NULL : t->backbone_opts != NULL)) continue;
        for (int j = 0; t->extractors[j]; j++)
            if (!strcmp(t->extractors[j], extractor)) return t;
    }
    return NULL;
}

const char *oiqa_stage_tool_names(void)
{
    static char buf[512];
    buf[0] = '\0';
    for (int i = 0; i < N_STAGE_TOOLS; i++) {
        size_t n = strlen(buf);
        snprintf(buf + n, sizeof buf - n, "%s%s (", i ? ", " : "", STAGE_TOOLS[i].tool->name);
        for (int j = 0; STAGE_TOOLS[i].extractors[j]; j++) {
            n = strlen(buf);
            snprintf(buf + n, sizeof buf - n, "%s%s", j ? ", " : "", STAGE_TOOLS[i].extractors[j]);
        }
        n = strlen(buf);
        snprintf(buf + n, sizeof buf - n, ")");
    }
    return buf;
}
