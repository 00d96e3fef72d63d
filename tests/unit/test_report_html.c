/*
 * test_report_html.c — recite_report_html through the public API: options (version, defaults,
 * limits on the evidence shown), escaping of hostile checked text, a work pane per span, the
 * word-level differences of a near span, and a result without matches.
 */
#include "recite.h"
#include "test_util.h"

typedef struct fixture {
    char *dir, *lib, *idxdir, *gpl;
    size_t gpl_len;
    recite_index *idx;
    recite_checker *chk;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    test_dirs_make(&f->dir, &f->lib, &f->idxdir);
    f->gpl = test_put_license(f->lib, "GPL-3", &f->gpl_len);
    test_build(f->lib, f->idxdir, NULL);
    recite_error err;
    assert_int_equal(recite_index_open(&f->idx, f->idxdir, &err), RECITE_OK);
    assert_int_equal(recite_checker_create(&f->chk, f->idx, NULL, &err), RECITE_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    recite_checker_free(f->chk);
    recite_index_close(f->idx);
    test_dirs_free(f->dir, f->lib, f->idxdir);
    free(f->gpl);
    free(f);
    return 0;
}

/* The checked text: hostile markup, a verbatim paragraph, a near copy of the next one. */
static char *hostile_text(const fixture *f, size_t *len)
{
    const char *a = strstr(f->gpl, "  The licenses for most software");
    const char *b = strstr(a, "\n\n");
    const char *c = strstr(f->gpl, "  When we speak of free software");
    const char *d = strstr(c, "\n\n");
    assert_non_null(a), assert_non_null(b), assert_non_null(c), assert_non_null(d);
    size_t cap = (size_t)(b - a) + (size_t)(d - c) + 256;
    char *t = malloc(cap);
    int n = snprintf(t, cap, "<script>alert(1)</script></textarea>]]>\"'&\xff\r\n%.*s\n\nx\n",
                     (int)(b - a), a);
    char *near = t + n;
    memcpy(near, c, (size_t)(d - c));
    near[d - c] = '\0';
    char *w = strstr(near, "freedom"); /* one word substituted */
    assert_non_null(w);
    memcpy(w, "liberty", 7);
    *len = strlen(t);
    return t;
}

static void test_options_and_escaping(void **state)
{
    fixture *f = *state;
    size_t len;
    char *text = hostile_text(f, &len);
    const recite_result *res;
    recite_error err;
    assert_int_equal(recite_check_text(&res, f->chk, text, len, &err), RECITE_OK);
    assert_true(res->nmatches >= 1);

    char *html = NULL;
    recite_report_html_options bad = RECITE_REPORT_HTML_OPTIONS_INIT;
    bad.version = 99;
    assert_int_equal(recite_report_html(&html, f->idx, NULL, "in<put>", text, len, res, &bad, &err),
                     RECITE_EINVAL);
    assert_null(html);
    assert_non_null(strstr(err.message, "version"));

    assert_int_equal(recite_report_html(&html, f->idx, NULL, "in<put>", text, len, res, NULL, &err),
                     RECITE_OK);
    assert_non_null(html);
    assert_null(strstr(html, "<script>"));
    assert_null(strstr(html, "</textarea>"));
    assert_null(strstr(html, "in<put>"));
    assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;&lt;/textarea&gt;]]&gt;"
                                 "&quot;&#39;&amp;"));
    assert_non_null(strstr(html, "data-bytes=\"1\" title=\"byte 0xFF"));
    assert_non_null(strstr(html, "title=\"U+000D\""));
    assert_non_null(strstr(html, "<div class=\"pane-h\">Work <span"));
    assert_non_null(strstr(html, "d-sub\" title=\"substituted: the work has freedom\">liberty"));
    assert_non_null(strstr(html, "</html>\n"));
    free(html);

    /* One span side by side, the others listed; a fixed check time. */
    recite_report_html_options opt = RECITE_REPORT_HTML_OPTIONS_INIT;
    opt.max_evidence = 1;
    opt.checked_unix = 86400;
    opt.context_bytes = 5;
    opt.index_name = "my-index";
    assert_int_equal(recite_report_html(&html, f->idx, NULL, NULL, text, len, res, &opt, &err),
                     RECITE_OK);
    assert_non_null(strstr(html, "1970-01-02 00:00:00 UTC"));
    assert_non_null(strstr(html, "<dd>my-index</dd>"));
    if (res->nmatches > 1)
        assert_non_null(strstr(html, "Further spans, not shown side by side"));
    free(html);
    free(text);
}

static void test_no_matches(void **state)
{
    fixture *f = *state;
    const char *text = "Nothing from any work is in this sentence at all.";
    const recite_result *res;
    recite_error err;
    assert_int_equal(recite_check_text(&res, f->chk, text, strlen(text), &err), RECITE_OK);
    assert_int_equal(res->nmatches, 0);
    char *html = NULL;
    assert_int_equal(
        recite_report_html(&html, f->idx, NULL, "x", text, strlen(text), res, NULL, &err),
        RECITE_OK);
    assert_non_null(strstr(html, "No recitation was found."));
    assert_non_null(strstr(html, "v-pass"));
    assert_null(strstr(html, "class=\"hl"));
    free(html);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options_and_escaping),
        cmocka_unit_test(test_no_matches),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
