/* io/csv.h: quoting, line numbers in messages, header lookup, whitespace
 * tables, round trip of the writer. */
#include "base/error.h"
#include "io/csv.h"
#include "check.h"

static oiqa_csv *parse(const char *text, char delim, int header)
{
    oiqa_csv *t = NULL;
    int rc = oiqa_csv_parse(text, strlen(text), "labels.csv", delim, header, &t);
    return rc ? NULL : t;
}

static void t_quoted_fields(void)
{
    oiqa_csv *t = parse("\xEF\xBB\xBFname,mos,note\r\n"
                        "a.png,1.5,\"x, \"\"y\"\"\"\r\n"
                        "\n"
                        "\"b\nc.png\",2,\n"
                        "d.png,3\n",
                        ',', 1);
    CHECK(t != NULL);
    if (!t) return;
    CHECK(t->n_cols == 3 && t->n_rows == 3);
    CHECK_STR(oiqa_csv_cell(t, 0, 2), "x, \"y\"");
    CHECK_STR(oiqa_csv_cell(t, 1, 0), "b\nc.png");
    CHECK_STR(oiqa_csv_cell(t, 2, 2), "");
    CHECK(t->line[0] == 2 && t->line[1] == 4 && t->line[2] == 6);
    CHECK(oiqa_csv_col(t, "mos") == 1 && oiqa_csv_col(t, "dmos") == -1);
    double v = 0;
    CHECK(oiqa_csv_double(t, 2, 1, &v) == 0 && v == 3);
    oiqa_csv_free(t);
}

static void t_messages_name_the_line(void)
{
    oiqa_csv *t = parse("name,mos\na,1\nb,abc\n", ',', 1);
    CHECK(t != NULL);
    if (!t) return;
    double v;
    CHECK(oiqa_csv_double(t, 1, 1, &v) == OIQA_EXIT_DATA);
    CHECK_STR(oiqa_errmsg(), "labels.csv:3: column 'mos': 'abc' is not a number");
    long l;
    CHECK(oiqa_csv_long(t, 0, 1, &l) == 0 && l == 1);
    int col;
    CHECK(oiqa_csv_need_col(t, "ref", &col) == OIQA_EXIT_DATA);
    CHECK_STR(oiqa_errmsg(), "labels.csv: no column 'ref' (the header is 'name,mos')");
    oiqa_csv_free(t);
    oiqa_csv *u = NULL;
    CHECK(oiqa_csv_parse("a,b\n1,2,3\n", 10, "x.csv", ',', 1, &u) == OIQA_EXIT_DATA && !u);
    CHECK_STR(oiqa_errmsg(), "x.csv:2: 3 fields, but the header has 2");
    CHECK(oiqa_csv_parse("a,b\n\"1,2\n", 9, "x.csv", ',', 1, &u) == OIQA_EXIT_DATA && !u);
    CHECK_STR(oiqa_errmsg(), "x.csv:2: unterminated quoted field");
    CHECK(oiqa_csv_parse("\n\n", 2, "x.csv", ',', 1, &u) == OIQA_EXIT_DATA && !u);
}

static void t_whitespace_tables(void)
{
    oiqa_csv *t = parse("  img1   5.25\nimg2\t3\n img3 7 extra\n", OIQA_CSV_WHITESPACE, 0);
    CHECK(t != NULL);
    if (!t) return;
    CHECK(t->n_rows == 3 && t->n_cols == 3 && !t->header);
    CHECK_STR(oiqa_csv_cell(t, 0, 0), "img1");
    CHECK_STR(oiqa_csv_cell(t, 0, 1), "5.25");
    CHECK_STR(oiqa_csv_cell(t, 1, 1), "3");
    CHECK_STR(oiqa_csv_cell(t, 0, 2), "");
    CHECK_STR(oiqa_csv_cell(t, 2, 2), "extra");
    double v;
    CHECK(oiqa_csv_double(t, 2, 2, &v) == OIQA_EXIT_DATA);
    CHECK_STR(oiqa_errmsg(), "labels.csv:3: column '3': 'extra' is not a number");
    oiqa_csv_free(t);
}

static void t_writer_round_trip(void)
{
    check_tmp_init();
    const char *p = check_tmp("w.csv");
    FILE *f = fopen(p, "w");
    CHECK(f != NULL);
    if (!f) return;
    const char *v[3] = {"plain", "a,b", "say \"hi\"\nnow"};
    for (int i = 0; i < 3; i++) {
        oiqa_csv_put(f, v[i]);
        fputc(i < 2 ? ',' : '\n', f);
    }
    fclose(f);
    oiqa_csv *t = NULL;
    CHECK(oiqa_csv_read(p, ',', 0, &t) == 0 && t && t->n_rows == 1);
    for (int i = 0; t && i < 3; i++) CHECK_STR(oiqa_csv_cell(t, 0, i), v[i]);
    oiqa_csv_free(t);
    CHECK(oiqa_csv_read(check_tmp("missing.csv"), ',', 1, &t) == OIQA_EXIT_DATA);
    check_tmp_cleanup();
}

int main(void)
{
    RUN(t_quoted_fields);
    RUN(t_messages_name_the_line);
    RUN(t_whitespace_tables);
    RUN(t_writer_round_trip);
    return check_done();
}
