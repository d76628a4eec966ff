/* oiqa-viewports: ERP images -> viewports.h5 (DESIGN §1, §3, §5). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/cli.h"
#include "base/error.h"
#include "base/log.h"
#include "stage/viewports.h"

typedef struct {
    char *out;
    int force, resume, allow_aspect;
    int layout;
    long size;
    double fov;
    int filter;
    const oiqa_yaml_node *centers;
    double min_sep;
    long deflate;
    long max_pixels;
    char *root, *png_dir, *sheet_dir;
} viewports_cli;

#define OFF(f) offsetof(viewports_cli, f)
static const oiqa_opt OPTIONS[] = {
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
    {"force", 0, OIQA_OPT_FLAG, OFF(force), "false", NULL, "overwrite an existing output or .partial", 0, 0, NULL,
     OIQA_OPTF_CLI_ONLY},
    {"resume", 0, OIQA_OPT_FLAG, OFF(resume), "false", NULL, "continue an interrupted run's FILE.partial", 0, 0,
     NULL, OIQA_OPTF_CLI_ONLY},
    {0},
};

static const oiqa_tool TOOL = {
    .name = "oiqa-viewports",
    .summary = "Cut V gnomonic viewports out of each equirectangular (ERP) image into an HDF5 feature file.",
    .usage = "[options] IMAGE... -o OUT.h5   (IMAGE may be @list.txt, or - for names on stdin)",
    .example = "oiqa-viewports data/panoramas/*.png -o features/demo/viewports.h5 --sheet results/sheets\n"
               "  oiqa-viewports --root /data/CVIQ @names.txt --layout cube6 --size 256 -o cviq_vp.h5 -j 8",
    .opts = OPTIONS,
    .min_args = 1,
    .max_args = -1,
};

int main(int argc, char **argv)
{
    oiqa_log_init(argv[0]);
    viewports_cli o;
    oiqa_cli cli;
    int rc = oiqa_cli_parse(&TOOL, argc, argv, &o, &cli);
    if (rc == OIQA_CLI_EXIT_OK) return 0;
    if (rc) return oiqa_report(rc);

    char **names = NULL;
    int n_names = 0;
    oiqa_view *list = NULL;
    char *config = NULL;
    if (!o.out) { rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "no output: give -o OUT.h5 (see --help)"); goto done; }
    if (o.force && o.resume) { rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "--force and --resume exclude each other"); goto done; }
    int n_list = 0;
    if (o.layout == OIQA_LAYOUT_LIST && (rc = oiqa_views_from_yaml(o.centers, o.fov, &list, &n_list))) goto done;
    if (o.layout != OIQA_LAYOUT_LIST && o.centers) {
        rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "centers are given but layout is %s (use layout: list)",
                       oiqa_layout_names[o.layout]);
        goto done;
    }
    if ((rc = oiqa_cli_expand_inputs(cli.args, cli.n_args, &names, &n_names))) goto done;
    if (n_names == 0) { rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "no input images"); goto done; }

    config = oiqa_cli_resolved_config(&TOOL, &o);
    oiqa_provenance prov = {.stage = "viewports", .tool = cli.tool_version, .command = cli.command, .config = config};
    oiqa_viewports_opts vo = {
        .layout = (oiqa_layout_kind)o.layout, .size = (int)o.size, .fov = o.fov, .filter = (oiqa_filter)o.filter,
        .list = list, .n_list = n_list, .vgcn_min_sep = o.min_sep, .allow_aspect = o.allow_aspect,
        .max_pixels = o.max_pixels, .deflate = (int)o.deflate, .root = o.root, .png_dir = o.png_dir,
        .sheet_dir = o.sheet_dir, .force = o.force, .resume = o.resume,
    };
    rc = oiqa_viewports_run(&vo, names, n_names, o.out, &prov);
    if (!rc) oiqa_info("wrote %s (%d images)", o.out, n_names);

done:
    free(config);
    free(list);
    oiqa_strv_free(names, n_names);
    oiqa_cli_free(&cli);
    return rc ? oiqa_report(rc) : 0;
}
