/* The YAML reader: tree and line numbers, typed getters with their messages,
 * the refused constructs, key checks and flow output that reads back. */
#include "check.h"
#include "base/error.h"
#include "base/yaml.h"

#include <stdarg.h>
#include <unistd.h>

static int load(const char *text, oiqa_yaml_doc *doc)
{
    return oiqa_yaml_load_string(text, strlen(text), "t.yaml", doc);
}

/* Loading must fail with exactly this message. */
static void expect_load_error(const char *text, const char *want)
{
    oiqa_yaml_doc doc;
    int rc = load(text, &doc);
    CHECK_MSG(rc == OIQA_EXIT_USAGE, "rc %d for: %s", rc, text);
    CHECK_STR(oiqa_errmsg(), want);
    CHECK(doc.root == NULL && doc.source == NULL);
}

static void t_tree_and_lines(void)
{
    oiqa_yaml_doc doc;
    const char *text =
        "# a comment\n"
        "size: 224\n"
        "name: 'quoted'\n"
        "centers:\n"
        "  - {lon: 0, lat: -30.5}\n"
        "  - lon: 180\n"
        "    lat: 0\n"
        "empty:\n";
    CHECK(load(text, &doc) == OIQA_OK);
    const oiqa_yaml_node *r = doc.root;
    CHECK(r && r->kind == OIQA_YAML_MAP && r->n == 4);
    if (!r || r->n != 4) { oiqa_yaml_free(&doc); return; }
    CHECK_STR(r->keys[0], "size");
    CHECK(r->key_lines[0] == 2 && r->key_lines[2] == 4 && r->key_lines[3] == 8);
    CHECK_STR(r->source, "t.yaml");
    const oiqa_yaml_node *size = oiqa_yaml_get(r, "size");
    CHECK(size && size->kind == OIQA_YAML_SCALAR && size->line == 2 && !size->quoted);
    CHECK_STR(size->scalar, "224");
    const oiqa_yaml_node *name = oiqa_yaml_get(r, "name");
    CHECK(name && name->quoted && name->line == 3);
    const oiqa_yaml_node *centers = oiqa_yaml_get(r, "centers");
    CHECK(centers && centers->kind == OIQA_YAML_SEQ && centers->n == 2 && centers->line == 5);
    const oiqa_yaml_node *c1 = centers->items[1];
    CHECK(c1->kind == OIQA_YAML_MAP && c1->line == 6 && c1->key_lines[1] == 7);
    double lat;
    CHECK(oiqa_yaml_as_double(oiqa_yaml_get(centers->items[0], "lat"), "lat", &lat) == OIQA_OK);
    CHECK(lat == -30.5);
    const oiqa_yaml_node *empty = oiqa_yaml_get(r, "empty");
    CHECK(empty && empty->kind == OIQA_YAML_SCALAR && !strcmp(empty->scalar, "") && empty->line == 8);
    CHECK(oiqa_yaml_get(r, "missing") == NULL);
    CHECK(oiqa_yaml_get(size, "x") == NULL); /* not a map */
    oiqa_yaml_free(&doc);
    oiqa_yaml_free(&doc); /* idempotent */
}

/* Parses "key: VALUE" and returns the value node (doc to free). */
static const oiqa_yaml_node *value_of(const char *value, oiqa_yaml_doc *doc)
{
    char text[256];
    snprintf(text, sizeof text, "\nkey: %s\n", value);
    if (load(text, doc) != OIQA_OK) return NULL;
    return oiqa_yaml_get(doc->root, "key");
}


static void t_ints(void)
{
    static const struct { const char *text; long v; } good[] = {
        {"224", 224}, {"-5", -5}, {"+7", 7}, {"007", 7}, {"0", 0},
        {"9223372036854775807", 9223372036854775807L},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        oiqa_yaml_doc doc;
        long v = -1;
        const oiqa_yaml_node *n = value_of(good[i].text, &doc);
        CHECK_MSG(oiqa_yaml_as_int(n, "key", &v) == OIQA_OK && v == good[i].v, "%s: %s", good[i].text, oiqa_errmsg());
        oiqa_yaml_free(&doc);
    }
    static const char *const bad[] = {"big", "1.5", "12abc", "1e3", "0x10", "9223372036854775808", "[1]", "'224'"};
    static const char *const shown[] = {"'big'", "'1.5'", "'12abc'", "'1e3'", "'0x10'", "'9223372036854775808'",
                                        "a list", "'224' (quoted, so a string)"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        oiqa_yaml_doc doc;
        long v;
        const oiqa_yaml_node *n = value_of(bad[i], &doc);
        CHECK_MSG(n && oiqa_yaml_as_int(n, "size", &v) == OIQA_EXIT_USAGE, "%s accepted", bad[i]);
        CHECK_STR(oiqa_errmsg(), check_fmt("t.yaml:2: key 'size': expected an integer, got %s", shown[i]));
        oiqa_yaml_free(&doc);
    }
    oiqa_yaml_doc doc;
    long v;
    const oiqa_yaml_node *n = value_of("", &doc);
    CHECK(oiqa_yaml_as_int(n, "size", &v) == OIQA_EXIT_USAGE);
    CHECK_STR(oiqa_errmsg(), "t.yaml:2: key 'size': expected an integer, got nothing");
    CHECK(oiqa_yaml_as_int(n, NULL, &v) == OIQA_EXIT_USAGE);
    CHECK_STR(oiqa_errmsg(), "t.yaml:2: expected an integer, got nothing");
    oiqa_yaml_free(&doc);
    CHECK(oiqa_yaml_as_int(NULL, "size", &v) == OIQA_EXIT_USAGE);
    CHECK_STR(oiqa_errmsg(), "key 'size': expected an integer, got nothing");
}

static void t_doubles(void)
{
    static const struct { const char *text; double v; } good[] = {
        {"0.5", 0.5}, {".5", 0.5}, {"5.", 5.0}, {"1e-3", 1e-3}, {"-2E+2", -200}, {"3", 3}, {"+1.25", 1.25},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        oiqa_yaml_doc doc;
        double v = -1;
        const oiqa_yaml_node *n = value_of(good[i].text, &doc);
        CHECK_MSG(oiqa_yaml_as_double(n, "key", &v) == OIQA_OK && v == good[i].v, "%s", good[i].text);
        oiqa_yaml_free(&doc);
    }
    static const char *const bad[] = {"nan", "inf", ".inf", "-.inf", "1e", "0x1p3", "1.2.3", ".", "1e999", "1,5", "\"0.5\""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        oiqa_yaml_doc doc;
        double v;
        const oiqa_yaml_node *n = value_of(bad[i], &doc);
        CHECK_MSG(n && oiqa_yaml_as_double(n, "fov", &v) == OIQA_EXIT_USAGE, "%s accepted", bad[i]);
        CHECK(!strncmp(oiqa_errmsg(), "t.yaml:2: key 'fov': expected a number, got '", 45));
        oiqa_yaml_free(&doc);
    }
}

static void t_bools(void)
{
    static const char *const yes[] = {"true", "True", "yes", "on", "1", "TRUE"};
    static const char *const no[] = {"false", "no", "off", "0", "Off"};
    for (size_t i = 0; i < 6; i++) {
        oiqa_yaml_doc doc;
        int b = 0;
        CHECK_MSG(oiqa_yaml_as_bool(value_of(yes[i], &doc), "k", &b) == OIQA_OK && b == 1, "%s", yes[i]);
        oiqa_yaml_free(&doc);
    }
    for (size_t i = 0; i < 5; i++) {
        oiqa_yaml_doc doc;
        int b = 1;
        CHECK_MSG(oiqa_yaml_as_bool(value_of(no[i], &doc), "k", &b) == OIQA_OK && b == 0, "%s", no[i]);
        oiqa_yaml_free(&doc);
    }
    oiqa_yaml_doc doc;
    int b;
    CHECK(oiqa_yaml_as_bool(value_of("maybe", &doc), "force", &b) == OIQA_EXIT_USAGE);
    CHECK_STR(oiqa_errmsg(), "t.yaml:2: key 'force': expected true or false, got 'maybe'");
    oiqa_yaml_free(&doc);
    CHECK(oiqa_yaml_as_bool(value_of("\"true\"", &doc), "force", &b) == OIQA_EXIT_USAGE);
    CHECK_STR(oiqa_errmsg(), "t.yaml:2: key 'force': expected true or false, got 'true' (quoted, so a string)");
    oiqa_yaml_free(&doc);
}

static void t_strings(void)
{
    oiqa_yaml_doc doc;
    const char *s = NULL;
    CHECK(oiqa_yaml_as_string(value_of("hello world", &doc), "k", &s) == OIQA_OK);
    CHECK_STR(s, "hello world");
    oiqa_yaml_free(&doc);
    CHECK(oiqa_yaml_as_string(value_of("\"123\"", &doc), "k", &s) == OIQA_OK);
    CHECK_STR(s, "123");
    oiqa_yaml_free(&doc);
    CHECK(oiqa_yaml_as_string(value_of("'null'", &doc), "k", &s) == OIQA_OK);
    CHECK_STR(s, "null"); /* quoted: the word, not null */
    oiqa_yaml_free(&doc);
    static const char *const nulls[] = {"", "~", "null", "NULL"};
    for (int i = 0; i < 4; i++) {
        s = "x";
        CHECK_MSG(oiqa_yaml_as_string(value_of(nulls[i], &doc), "k", &s) == OIQA_OK && s == NULL, "'%s'", nulls[i]);
        oiqa_yaml_free(&doc);
    }
    CHECK(oiqa_yaml_as_string(value_of("{a: 1}", &doc), "out", &s) == OIQA_EXIT_USAGE);
    CHECK_STR(oiqa_errmsg(), "t.yaml:2: key 'out': expected a string, got a map");
    oiqa_yaml_free(&doc);
    CHECK(oiqa_yaml_as_string(value_of("\"a\\tb\\u00e9\"", &doc), "k", &s) == OIQA_OK);
    CHECK_STR(s, "a\tb\xc3\xa9");
    oiqa_yaml_free(&doc);
}

static void t_refused(void)
{
    expect_load_error("a: 1\nb: 2\na: 3\n", "t.yaml:3: duplicate key 'a' (first at line 1)");
    expect_load_error("m:\n  x: 1\n  x: 2\n", "t.yaml:3: duplicate key 'x' (first at line 2)");
    expect_load_error("a: &anchor 1\nb: 2\n", "t.yaml:1: anchors (&anchor) are not supported; write the value out");
    expect_load_error("a: 1\nb: *x\n", "t.yaml:2: aliases (*x) are not supported; write the value out");
    expect_load_error("a: !!str 1\n", "t.yaml:1: tags (tag:yaml.org,2002:str) are not supported; quote a value to make it a string");
    expect_load_error("a: !custom [1]\n", "t.yaml:1: tags (!custom) are not supported; quote a value to make it a string");
    expect_load_error("a: 1\n---\nb: 2\n", "t.yaml:2: more than one YAML document (a second '---'); one is allowed");
    expect_load_error("? [a, b]\n: 1\n", "t.yaml:1: a map key must be a single value, not a list");
    expect_load_error("{[a]: 1}\n", "t.yaml:1: a map key must be a single value, not a list");
    expect_load_error("{{a: 1}: 1}\n", "t.yaml:1: a map key must be a single value, not a map");
    expect_load_error("a: \"x\\0y\"\n", "t.yaml:1: value contains a NUL character");
}

static void t_syntax_errors(void)
{
    oiqa_yaml_doc doc;
    /* A tab in the indentation: the message says to use spaces. */
    CHECK(load("a:\n\tb: 1\n", &doc) == OIQA_EXIT_USAGE);
    CHECK_MSG(!strncmp(oiqa_errmsg(), "t.yaml:2: ", 10) && strstr(oiqa_errmsg(), "indent with spaces, not tabs"),
              "%s", oiqa_errmsg());
    CHECK(load("a: [1, 2\nb: 3\n", &doc) == OIQA_EXIT_USAGE);
    CHECK_MSG(!strncmp(oiqa_errmsg(), "t.yaml:", 7) && !strstr(oiqa_errmsg(), "tabs"), "%s", oiqa_errmsg());
    CHECK(load("a: 1\n b: 2\n", &doc) == OIQA_EXIT_USAGE);
    CHECK_MSG(!strncmp(oiqa_errmsg(), "t.yaml:2: ", 10), "%s", oiqa_errmsg());
    CHECK(load("a: \"unterminated\n", &doc) == OIQA_EXIT_USAGE);
    CHECK_MSG(!strncmp(oiqa_errmsg(), "t.yaml:", 7), "%s", oiqa_errmsg());
    CHECK(oiqa_yaml_load_string("a: \xff\xfe\n", 7, "bad.yaml", &doc) == OIQA_EXIT_USAGE);
    CHECK_MSG(!strncmp(oiqa_errmsg(), "bad.yaml:1: ", 12), "%s", oiqa_errmsg());
    /* Very deep nesting is refused, not a stack overflow. */
    char deep[2 * 1000 + 1];
    memset(deep, '[', 1000);
    memset(deep + 1000, ']', 1000);
    deep[2000] = '\0';
    CHECK(load(deep, &doc) == OIQA_EXIT_USAGE);
    CHECK_STR(oiqa_errmsg(), "t.yaml:1: nested deeper than 200 levels");
}

static void t_empty_and_top_level(void)
{
    oiqa_yaml_doc doc;
    CHECK(load("", &doc) == OIQA_OK && doc.root == NULL);
    oiqa_yaml_free(&doc);
    CHECK(load("# only a comment\n\n", &doc) == OIQA_OK && doc.root == NULL);
    oiqa_yaml_free(&doc);
    CHECK(load("- a\n- b\n", &doc) == OIQA_OK && doc.root && doc.root->kind == OIQA_YAML_SEQ);
    static const char *const known[] = {"a", "b", NULL};
    CHECK(oiqa_yaml_check_keys(doc.root, known, NULL) == OIQA_EXIT_USAGE);
    CHECK_STR(oiqa_errmsg(), "t.yaml:1: expected a map of 'key: value' lines, got a list");
    oiqa_yaml_free(&doc);
    CHECK(load("just text\n", &doc) == OIQA_OK && doc.root->kind == OIQA_YAML_SCALAR);
    CHECK(oiqa_yaml_check_keys(doc.root, known, "the config") == OIQA_EXIT_USAGE);
    CHECK_STR(oiqa_errmsg(), "t.yaml:1: expected a map of 'key: value' lines in the config, got a single value");
    oiqa_yaml_free(&doc);
}

static void t_files(void)
{
    char path[] = "/tmp/oiqa_test_yaml_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) return;
    close(fd);
    oiqa_yaml_doc doc;
    CHECK(oiqa_yaml_load_file(path, &doc) == OIQA_OK && doc.root == NULL); /* empty file */
    CHECK_STR(doc.source, check_fmt("%s", path));
    oiqa_yaml_free(&doc);
    FILE *f = fopen(path, "w");
    fputs("size: 224\nsize: 225\n", f);
    fclose(f);
    CHECK(oiqa_yaml_load_file(path, &doc) == OIQA_EXIT_USAGE);
    CHECK_STR(oiqa_errmsg(), check_fmt("%s:2: duplicate key 'size' (first at line 1)", path));
    unlink(path);
    CHECK(oiqa_yaml_load_file(path, &doc) == OIQA_EXIT_DATA);
    CHECK_STR(oiqa_errmsg(), check_fmt("%s: no such file", path));
    CHECK(oiqa_yaml_load_file("/tmp", &doc) == OIQA_EXIT_DATA);
    CHECK_STR(oiqa_errmsg(), "/tmp: is a directory");
}

static void t_check_keys(void)
{
    oiqa_yaml_doc doc;
    CHECK(load("size: 1\nlayout: x\nsise: 3\n", &doc) == OIQA_OK);
    static const char *const known[] = {"size", "layout", "fov", NULL};
    CHECK(oiqa_yaml_check_keys(doc.root, known, NULL) == OIQA_EXIT_USAGE);
    CHECK_STR(oiqa_errmsg(), "t.yaml:3: unknown key 'sise' (known: size, layout, fov)");
    CHECK(oiqa_yaml_check_keys(doc.root, known, "viewports") == OIQA_EXIT_USAGE);
    CHECK_STR(oiqa_errmsg(), "t.yaml:3: unknown key 'sise' in viewports (known: size, layout, fov)");
    /* a key prefix for a nested map: the dotted name */
    CHECK(oiqa_yaml_check_keys(doc.root, known, "model.") == OIQA_EXIT_USAGE);
    CHECK_STR(oiqa_errmsg(), "t.yaml:3: unknown key 'model.sise' (known: size, layout, fov)");
    static const char *const all[] = {"size", "layout", "sise", NULL};
    CHECK(oiqa_yaml_check_keys(doc.root, all, NULL) == OIQA_OK);
    CHECK(oiqa_yaml_check_keys(NULL, all, NULL) == OIQA_OK);
    oiqa_yaml_free(&doc);
}

/* to_flow of the value of "key: TEXT" */
static void expect_flow(const char *text, const char *want)
{
    oiqa_yaml_doc doc;
    const oiqa_yaml_node *n = value_of(text, &doc);
    char *flow = oiqa_yaml_to_flow(n);
    CHECK_MSG(flow && !strcmp(flow, want), "%s -> %s, expected %s", text, flow, want);
    free(flow);
    oiqa_yaml_free(&doc);
}

static void t_flow(void)
{
    expect_flow("[{lon: 0, lat: -30.5, fov: 90}, {lon: 180, lat: 0}]", "[{lon: 0, lat: -30.5, fov: 90}, {lon: 180, lat: 0}]");
    expect_flow("\n  - lon: 1\n    lat: 2\n  - []\n  - {}\n", "[{lon: 1, lat: 2}, [], {}]");
    expect_flow("\"123\"", "\"123\"");
    expect_flow("'true'", "\"true\"");
    expect_flow("'it''s'", "it's");
    expect_flow("\"a: b\"", "\"a: b\"");
    expect_flow("[\"x,y\", \"line\\nbreak\", \"\"]", "[\"x,y\", \"line\\nbreak\", \"\"]");
    expect_flow("", "null");
    expect_flow("~", "~");
    expect_flow("{\"1\": one, key with spaces: two}", "{\"1\": one, key with spaces: two}");
    char *flow = oiqa_yaml_to_flow(NULL);
    CHECK_STR(flow, "null");
    free(flow);
}

/* Every awkward string survives quote -> parse -> as_string unchanged. */
static void t_quote_round_trip(void)
{
    static const char *const strings[] = {
        "plain", "", "true", "no", "null", "~", "123", "-1.5", ".inf", "-", "- x", "#x", "a #b", "a: b", "[x]",
        "{x}", "x,y", "tab\there", "new\nline", "back\\slash", "it's", "say \"hi\"", "\xc3\xa9t\xc3\xa9", "---",
        "...", " lead", "trail ", "*star", "&amp", "!bang", "%pct", "@at", "`tick", "|pipe", ">gt", "?q", "y",
        "C:/path", "data/x.png", "a\x01" "b",
    };
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        char *q = oiqa_yaml_quote_string(strings[i]);
        char text[256];
        snprintf(text, sizeof text, "k: %s\nl: [%s, %s]\n", q, q, q);
        oiqa_yaml_doc doc;
        const char *a = NULL, *b = NULL;
        int rc = load(text, &doc);
        CHECK_MSG(rc == OIQA_OK, "'%s' quoted as %s: %s", strings[i], q, oiqa_errmsg());
        if (rc == OIQA_OK) {
            const oiqa_yaml_node *l = oiqa_yaml_get(doc.root, "l");
            CHECK(oiqa_yaml_as_string(oiqa_yaml_get(doc.root, "k"), "k", &a) == OIQA_OK);
            CHECK(l && l->n == 2 && oiqa_yaml_as_string(l->items[1], "l", &b) == OIQA_OK);
            CHECK_MSG(a && !strcmp(a, strings[i]), "'%s' quoted as %s read back as '%s'", strings[i], q, a);
            CHECK_MSG(b && !strcmp(b, strings[i]), "'%s' in a list read back as '%s'", strings[i], b);
            long iv;
            if (!strcmp(strings[i], "123")) CHECK(oiqa_yaml_as_int(oiqa_yaml_get(doc.root, "k"), "k", &iv) != OIQA_OK);
            oiqa_yaml_free(&doc);
        }
        free(q);
    }
}

int main(void)
{
    RUN(t_tree_and_lines);
    RUN(t_ints);
    RUN(t_doubles);
    RUN(t_bools);
    RUN(t_strings);
    RUN(t_refused);
    RUN(t_syntax_errors);
    RUN(t_empty_and_top_level);
    RUN(t_files);
    RUN(t_check_keys);
    RUN(t_flow);
    RUN(t_quote_round_trip);
    return check_done();
}
