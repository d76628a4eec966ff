/* oiqa-score's raw-image mode, the parts without a network: the recorded
 * stage configs read back through the stage tools' own option tables (every
 * key a tool writes is understood and round-trips; backbone configs of the
 * three backbone tools through oiqa-backbone's table for their extractor), and the weights lookup
 * and checks (random weights, --weights-dir, overrides, a missing file, a
 * sha256 that differs). The end-to-end parity with the cached path is
 * tests/e2e/test_score_raw.sh. */
#include "check.h"
#include "base/cli.h"
#include "base/error.h"
#include "base/log.h"
#include "base/sha256.h"
#include "stage/backbone_tool.h"
#include "stage/stage_tools.h"
#include "score/score.h"

#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/oiqa-score-raw.XXXXXX";

/* Parses `text` with tool's table and returns the resolved config of the
 * result (malloc'ed), or NULL with the message set. */
static char *reparse(const oiqa_tool *tool, const char *text, void *opts)
{
    oiqa_cli cli;
    if (oiqa_cli_parse_config_text(tool, text, "test", opts, &cli)) return NULL;
    char *r = oiqa_cli_resolved_config(tool, opts);
    oiqa_cli_free(&cli);
    return r;
}

/* Every key of the default config, and a config with non-defaults, read
 * back to the same text: nothing a tool records is lost or refused. */
static void roundtrip(const oiqa_tool *tool, void *opts, const char *nondefault)
{
    char *def = reparse(tool, "", opts);
    CHECK_MSG(def != NULL, "%s: %s", tool->name, oiqa_errmsg());
    if (!def) return;
    char *again = reparse(tool, def, opts);
    CHECK_MSG(again != NULL, "%s: %s", tool->name, oiqa_errmsg());
    CHECK_STR(again, def);
    if (nondefault) {
        char *a = reparse(tool, nondefault, opts);
        CHECK_MSG(a != NULL, "%s: %s", tool->name, oiqa_errmsg());
        char *b = a ? reparse(tool, a, opts) : NULL;
        CHECK_STR(b, a);
        CHECK_MSG(a && strcmp(a, def), "%s: non-default config resolved to the defaults", tool->name);
        free(a), free(b);
    }
    free(def), free(again);
}

static void t_viewports_config_roundtrip(void)
{
    oiqa_viewports_cli o;
    roundtrip(&oiqa_viewports_tool, &o,
              "layout: list\nsize: 48\nfov: 80\nfilter: antialias\ncenters: [{lon: 0, lat: 0}, {lon: 90, lat: 10, "
              "fov: 60}]\nmin-sep: 25\ncompress: 3\nmax-pixels: 1000000\nallow-aspect: true\n");
    /* and into stage options */
    oiqa_cli cli;
    const char *cfg = "layout: list\nsize: 48\ncenters: [{lon: 0, lat: 0}, {lon: 90, lat: 10, fov: 60}]\n";
    CHECK(!oiqa_cli_parse_config_text(&oiqa_viewports_tool, cfg, "test", &o, &cli));
    oiqa_viewports_opts vo;
    oiqa_view *list = NULL;
    CHECK(!oiqa_viewports_cli_opts(&o, &vo, &list));
    CHECK(vo.layout == OIQA_LAYOUT_LIST && vo.size == 48 && vo.n_list == 2 && oiqa_viewports_count(&vo) == 2);
    CHECK(list && list[1].lon == 90 && list[1].fov == 60 && list[0].fov == 90);
    free(list);
    oiqa_cli_free(&cli);
}

static void t_pseudoref_config_roundtrip(void)
{
    oiqa_pseudoref_cli o;
    roundtrip(&oiqa_pseudoref_tool, &o,
              "restore: denoise\ndegrade: noise\ndegrade-level: 2\nseed: 7\nerror-maps: true\nerror-eps: 2\n");
    oiqa_cli cli;
    CHECK(!oiqa_cli_parse_config_text(&oiqa_pseudoref_tool, "degrade: blur\ndegrade-level: 4\nseed: 9\n", "test", &o,
                                      &cli));
    oiqa_pseudoref_opts po;
    oiqa_pseudoref_cli_opts(&o, &po);
    CHECK(po.degrade == OIQA_PR_DEGRADE_BLUR && po.degrade_level == 4 && po.seed == 9 &&
          po.restore == OIQA_PR_RESTORE_AUTO);
    oiqa_cli_free(&cli);
}

static void t_backbone_configs_roundtrip(void)
{
    oiqa_backbone_table t;
    oiqa_backbone_cli c;
    CHECK(oiqa_backbone_table_build(&oiqa_backbone_tool_resnet, oiqa_extractor_find("resnet50"), &t) == 0);
    roundtrip(&t.tool, &c, "weights: w/r50.pth\npseudoref: pr.h5\nblocks: layer3\nbatch: 4\n");
    CHECK(oiqa_backbone_table_build(&oiqa_backbone_tool_vmamba, oiqa_extractor_find("vmamba_t_v0"), &t) == 0);
    roundtrip(&t.tool, &c, "arch: vmamba_t_v0\nweights: random:3\nheight: 64\nwidth: 128\nblocks: stage3\n");
    CHECK(oiqa_backbone_table_build(&oiqa_backbone_tool_any, oiqa_extractor_find("resnet50"), &t) == 0);
    roundtrip(&t.tool, &c, "arch: resnet50\nweights: random:3\nheight: 64\nwidth: 128\nblocks: layer4\n");
}

/* What the tools wrote before oiqa-backbone (the old oiqa-resnet and
 * oiqa-vmamba tables, key for key) replays through the generic table built
 * for the feature file's backbone; a config for another arch is refused. */
static void t_recorded_backbone_configs(void)
{
    static const char OLD_RESNET[] = "weights: random:0\npseudoref: pr.h5\nblocks: layer2,layer3,layer4\n"
                                     "maps: false\nmap-size: 0\nbatch: 20\ncompress: 4\n";
    static const char OLD_VMAMBA[] = "arch: vmamba_t_v0\nweights: random:2\nblocks: stage0,stage1,stage2,stage3\n"
                                     "height: 64\nwidth: 128\nmaps: false\nmap-size: 0\nbatch: 1\ncompress: 4\n"
                                     "allow-aspect: false\nmax-pixels: 536870912\npseudoref: null\n";
    oiqa_backbone_table t;
    oiqa_backbone_cli c;
    oiqa_cli cli;
    int rc = oiqa_backbone_config_parse("resnet50", OLD_RESNET, "m.h5 (backbone config)", &t, &c, &cli);
    CHECK_MSG(rc == 0, "%s", oiqa_errmsg());
    if (!rc) {
        oiqa_backbone_opts bo;
        oiqa_backbone_cli_opts(&t, &c, &bo);
        CHECK_STR(bo.extractor, "resnet50");
        CHECK_STR(bo.pseudoref, "pr.h5");
        CHECK(bo.batch == 20 && bo.extractor_opts == NULL);
        oiqa_cli_free(&cli);
    }
    rc = oiqa_backbone_config_parse("vmamba_t_v0", OLD_VMAMBA, "m.h5 (global config)", &t, &c, &cli);
    CHECK_MSG(rc == 0, "%s", oiqa_errmsg());
    if (!rc) {
        oiqa_global_opts go;
        oiqa_backbone_cli_global_opts(&t, &c, &go);
        CHECK(!strcmp(go.extractor, "vmamba_t_v0") && !strcmp(go.weights, "random:2") && go.height == 64 &&
              go.width == 128);
        oiqa_cli_free(&cli);
    }
    CHECK(oiqa_backbone_config_parse("vmamba_t_s1l8", OLD_VMAMBA, "m.h5 (global config)", &t, &c, &cli) ==
          OIQA_EXIT_DATA);
    CHECK_MSG(strstr(oiqa_errmsg(), "m.h5 (global config): the recorded config is for vmamba_t_v0"), "%s",
              oiqa_errmsg());
    CHECK(oiqa_backbone_config_parse("alexnet", OLD_RESNET, "m.h5", &t, &c, &cli) == OIQA_EXIT_DATA);
    CHECK_MSG(strstr(oiqa_errmsg(), "'alexnet' is not a registered extractor"), "%s", oiqa_errmsg());
    CHECK(oiqa_backbone_config_parse("resnet50", "hight: 3\n", "m.h5", &t, &c, &cli) == OIQA_EXIT_USAGE);
    CHECK_MSG(strstr(oiqa_errmsg(), "hight"), "%s", oiqa_errmsg());
}

static void t_config_refusals(void)
{
    oiqa_viewports_cli o;
    oiqa_cli cli;
    CHECK(oiqa_cli_parse_config_text(&oiqa_viewports_tool, "sise: 32\n", "m.h5 (viewports_config)", &o, &cli) ==
          OIQA_EXIT_USAGE);
    CHECK_MSG(strstr(oiqa_errmsg(), "sise") && strstr(oiqa_errmsg(), "m.h5 (viewports_config)"), "%s", oiqa_errmsg());
    CHECK(o.centers == NULL && o.out == NULL);
    CHECK(oiqa_cli_parse_config_text(&oiqa_viewports_tool, "size: 2\n", "x", &o, &cli) == OIQA_EXIT_USAGE);
    CHECK(oiqa_cli_parse_config_text(&oiqa_viewports_tool, "[1, 2]\n", "x", &o, &cli) == OIQA_EXIT_USAGE);
}

static char *write_file(const char *name, const char *text)
{
    char *p = malloc(strlen(tmpdir) + strlen(name) + 2);
    sprintf(p, "%s/%s", tmpdir, name);
    FILE *f = fopen(p, "wb");
    if (f) fputs(text, f), fclose(f);
    return p;
}

static void t_weights_random(void)
{
    char *w = NULL;
    CHECK(oiqa_score_find_weights("random:5", "", "local", "/nonexistent", NULL, &w) == OIQA_OK);
    CHECK_STR(w, "random:5");
    free(w);
}

static void t_weights_lookup_and_checks(void)
{
    char *a = write_file("r50.pth", "weights A"), *b = write_file("other.pth", "weights B");
    char sha_a[65], sha_b[65];
    CHECK(!oiqa_sha256_file(a, sha_a) && !oiqa_sha256_file(b, sha_b));
    char *w = NULL;
    /* the recorded path */
    CHECK(oiqa_score_find_weights(a, sha_a, "local", NULL, NULL, &w) == OIQA_OK);
    CHECK_STR(w, a);
    free(w), w = NULL;
    /* the recorded file name in --weights-dir, the recorded path gone */
    CHECK(oiqa_score_find_weights("/gone/away/r50.pth", sha_a, "local", tmpdir, NULL, &w) == OIQA_OK);
    CHECK_MSG(w && strstr(w, tmpdir) && strstr(w, "r50.pth"), "%s", check_nonnull(w));
    free(w), w = NULL;
    /* missing: one line naming the file and the fix */
    CHECK(oiqa_score_find_weights("/gone/away/r50.pth", sha_a, "local", NULL, NULL, &w) == OIQA_EXIT_DATA);
    CHECK(w == NULL);
    CHECK_MSG(strstr(oiqa_errmsg(), "/gone/away/r50.pth") && strstr(oiqa_errmsg(), "not found") &&
              strstr(oiqa_errmsg(), "give --weights-dir or --local-weights") && !strchr(oiqa_errmsg(), '\n'),
              "%s", oiqa_errmsg());
    CHECK(oiqa_score_find_weights("/gone/away/x.pth", sha_a, "global", tmpdir, NULL, &w) == OIQA_EXIT_DATA);
    CHECK_MSG(strstr(oiqa_errmsg(), "--global-weights"), "%s", oiqa_errmsg());
    /* sha256 mismatch: both hashes named */
    CHECK(oiqa_score_find_weights(a, sha_b, "local", NULL, NULL, &w) == OIQA_EXIT_DATA);
    CHECK(w == NULL);
    CHECK_MSG(strstr(oiqa_errmsg(), sha_a) && strstr(oiqa_errmsg(), sha_b) && strstr(oiqa_errmsg(), a), "%s",
              oiqa_errmsg());
    /* an override wins over the recorded path, and is checked too */
    CHECK(oiqa_score_find_weights(a, sha_b, "local", NULL, b, &w) == OIQA_OK);
    CHECK_STR(w, b);
    free(w), w = NULL;
    CHECK(oiqa_score_find_weights(b, sha_b, "global", NULL, a, &w) == OIQA_EXIT_DATA);
    CHECK_MSG(strstr(oiqa_errmsg(), sha_a) && strstr(oiqa_errmsg(), sha_b), "%s", oiqa_errmsg());
    CHECK(oiqa_score_find_weights(a, sha_a, "local", NULL, "/no/such.pth", &w) == OIQA_EXIT_DATA);
    CHECK_MSG(strstr(oiqa_errmsg(), "/no/such.pth") && strstr(oiqa_errmsg(), "not found"), "%s", oiqa_errmsg());
    /* a directory is not a weights file */
    CHECK(oiqa_score_find_weights(tmpdir, sha_a, "local", NULL, NULL, &w) == OIQA_EXIT_DATA);
    unlink(a), unlink(b);
    free(a), free(b);
}

int main(void)
{
    oiqa_log_set_level(OIQA_LOG_ERROR);
    if (!mkdtemp(tmpdir)) {
        printf("FAIL setup: mkdtemp\n");
        return 1;
    }
    RUN(t_viewports_config_roundtrip);
    RUN(t_pseudoref_config_roundtrip);
    RUN(t_backbone_configs_roundtrip);
    RUN(t_recorded_backbone_configs);
    RUN(t_config_refusals);
    RUN(t_weights_random);
    RUN(t_weights_lookup_and_checks);
    rmdir(tmpdir);
    return check_done();
}
