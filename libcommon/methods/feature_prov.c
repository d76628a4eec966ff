/* Provenance of a feature file; see methods/feature_prov.h. */
#include "methods/feature_prov.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/sha256.h"
#include "base/strutil.h"
#include "io/json_mini.h"

const char *const oiqa_prov_field_names[OIQA_PROV_FIELDS] = {
    "path", "sha256", "stage", "backbone", "weights", "weights_sha256",
    "blocks", "streams", "config", "normalisation", "input_size", "resize",
    "viewports_config", "pseudoref_config",
};

void oiqa_feature_prov_free(oiqa_feature_prov *p)
{
    for (int i = 0; i < OIQA_PROV_FIELDS; i++) free(p->v[i]), p->v[i] = NULL;
}

int oiqa_feature_prov_from_reader(const oiqa_store_reader *r, const char *path, int hash, oiqa_feature_prov *p)
{
    memset(p, 0, sizeof *p);
    p->v[0] = oiqa_strdup(path);
    char sha[65] = "";
    if (hash) {
        int rc = oiqa_sha256_file(path, sha);
        if (rc) return rc;
    }
    p->v[1] = oiqa_strdup(sha);
    for (int i = 2; i < OIQA_PROV_FIELDS; i++) {
        char *s = oiqa_store_reader_attr_string(r, "/", oiqa_prov_field_names[i]);
        p->v[i] = s ? s : oiqa_strdup("");
    }
    return OIQA_OK;
}

int oiqa_feature_prov_read(const char *path, const char *stage, oiqa_feature_prov *p)
{
    memset(p, 0, sizeof *p);
    oiqa_store_reader *r;
    int rc = oiqa_store_open_read(path, stage, 0, &r);
    if (rc) return rc;
    rc = oiqa_feature_prov_from_reader(r, path, 0, p);
    oiqa_store_close(r);
    return rc;
}

/* ---- provenance as JSON ------------------------------------------------------ */

char *oiqa_feature_prov_json(const oiqa_feature_prov *const *provs, int n)
{
    oiqa_sbuf b = {0};
    oiqa_sbuf_append(&b, "[");
    for (int i = 0; i < n; i++) {
        oiqa_sbuf_append(&b, i ? ", {" : "{");
        for (int f = 0; f < OIQA_PROV_FIELDS; f++) {
            oiqa_sbuf_append_json_string(&b, oiqa_prov_field_names[f]);
            oiqa_sbuf_append(&b, ": ");
            oiqa_sbuf_append_json_string(&b, provs[i]->v[f] ? provs[i]->v[f] : "");
            if (f + 1 < OIQA_PROV_FIELDS) oiqa_sbuf_append(&b, ", ");
        }
        oiqa_sbuf_append(&b, "}");
    }
    oiqa_sbuf_append(&b, "]");
    return b.s;
}

int oiqa_feature_prov_parse(const char *json, const char *path, oiqa_feature_prov *provs, int max, int *n)
{
    char err[128];
    *n = 0;
    oiqa_json *j = json ? oiqa_json_parse(json, strlen(json), err, sizeof err) : NULL;
    if (!j || j->type != OIQA_JSON_ARRAY || j->n > max) {
        oiqa_json_free(j);
        return oiqa_fail(OIQA_EXIT_DATA, path, "attribute 'features' is not a list of feature-file records");
    }
    for (int i = 0; i < j->n; i++) {
        memset(&provs[i], 0, sizeof provs[i]);
        for (int f = 0; f < OIQA_PROV_FIELDS; f++) {
            const oiqa_json *v = oiqa_json_get(&j->kids[i], oiqa_prov_field_names[f]);
            provs[i].v[f] = oiqa_strdup(v && v->type == OIQA_JSON_STRING ? v->str : "");
        }
    }
    *n = j->n;
    oiqa_json_free(j);
    return OIQA_OK;
}

int oiqa_feature_prov_compare(const oiqa_feature_prov *a, const oiqa_feature_prov *b, const char *model)
{
    /* Fields that fix what the numbers mean (not the file's name, not its
     * hash: other images computed the same way are what scoring is for). */
    static const int fields[] = {2, 3, 5, 9, 10, 11};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
        int f = fields[i];
        if (strcmp(a->v[f], b->v[f]))
            return oiqa_fail(OIQA_EXIT_DATA, b->v[0], "%s '%s' differs from the training features' '%s' (%s, %s): "
                             "features must be computed as for training", oiqa_prov_field_names[f], b->v[f], a->v[f],
                             model, a->v[0]);
    }
    /* Random weights share an empty hash; their seed is in `weights`. */
    if (!strncmp(a->v[4], "random:", 7) && strcmp(a->v[4], b->v[4]))
        return oiqa_fail(OIQA_EXIT_DATA, b->v[0], "weights '%s' differ from the training features' '%s' (%s, %s): "
                         "features must be computed as for training", b->v[4], a->v[4], model, a->v[0]);
    if (!strcmp(a->v[2], "global") && strcmp(a->v[6], b->v[6]))
        return oiqa_fail(OIQA_EXIT_DATA, b->v[0], "blocks '%s' differ from the training features' '%s' (%s, %s)",
                         b->v[6], a->v[6], model, a->v[0]);
    return OIQA_OK;
}
