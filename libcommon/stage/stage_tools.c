/* The option tables of the stage tools; see stage/stage_tools.h. */
#include "stage/stage_tools.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "nn/device.h"
#include "stage/stage_rows.h"

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
