/*
 * test_errors.c — tests of src/common/errors.c: recite_strerror names every recite_status and
 * recite_info_source_name every recite_info_source. The codes are read from the public header
 * itself (include/recite.h), so a code added there without a name fails here. And
 * src/common/json_syntax.c: what jansson refuses for what a text holds is never taken for a
 * failed allocation, and an errno of ENOMEM makes any error RECITE_ENOMEM. And src/common/dl.c:
 * a library loaded on first use says why it could not be (no such library, a missing
 * function), once, for every later call too; one that loads resolves what it is asked for.
 */
#include "test_util.h"

#include "common/rc_common.h"

#include <dlfcn.h>
#include <errno.h>
#include <jansson.h>
#include <regex.h>

/* include/recite.h, found from this file's path (tests/unit/test_errors.c). */
static char *read_header(void)
{
    char path[4096];
    const char *me = __FILE__, *cut = strstr(me, "tests/unit/test_errors.c");
    assert_non_null(cut);
    snprintf(path, sizeof path, "%.*sinclude/recite.h", (int)(cut - me), me);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = calloc(1, 1 << 20);
    assert_non_null(buf);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    fclose(f);
    assert_true(n > 0);
    return buf;
}

/* Calls fn(name, value) for each match of `pattern` (group 1: the name, group 2: the value,
 * when the pattern has one) in text; returns how many. */
static int each_match(const char *text, const char *pattern, void (*fn)(const char *, long, int),
                      int *order)
{
    regex_t re;
    assert_int_equal(regcomp(&re, pattern, REG_EXTENDED | REG_NEWLINE), 0);
    regmatch_t m[3];
    int count = 0;
    for (const char *p = text; regexec(&re, p, 3, m, 0) == 0; p += m[0].rm_eo) {
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(m[1].rm_eo - m[1].rm_so), p + m[1].rm_so);
        long value = m[2].rm_so >= 0 ? strtol(p + m[2].rm_so, NULL, 10) : 0;
        fn(name, value, (*order)++);
        count++;
    }
    regfree(&re);
    return count;
}

static const char *seen_strings[64];
static int nseen;

static void check_status(const char *name, long value, int order)
{
    (void)order;
    const char *s = recite_strerror((int)value);
    if (!s || !*s || strcmp(s, "unknown error") == 0)
        fail_msg("recite_strerror(%s = %ld) is \"%s\"", name, value, s ? s : "(null)");
    for (int i = 0; i < nseen; i++)
        if (strcmp(seen_strings[i], s) == 0)
            fail_msg("recite_strerror(%s) is the same text as another code's: %s", name, s);
    assert_true(nseen < 64);
    seen_strings[nseen++] = s;
}

static void test_strerror_names_every_status(void **state)
{
    (void)state;
    char *h = read_header();
    int order = 0;
    nseen = 0;
    int n = each_match(h, "^ *(RECITE_E[A-Z]+|RECITE_OK) *= *(-?[0-9]+)", check_status, &order);
    /* The header has RECITE_OK and at least the nine error codes of API 0.1. */
    assert_true(n >= 10);
    /* Codes that are not statuses still get a text, never NULL. */
    assert_non_null(recite_strerror(1));
    assert_non_null(recite_strerror(-1000));
    assert_non_null(recite_strerror(INT32_MIN));
    free(h);
}

static void check_source(const char *name, long value, int order)
{
    (void)value;
    /* The enum counts from RECITE_FROM_NONE = 0 in declaration order. */
    recite_info_source from = (recite_info_source)order;
    const char *s = recite_info_source_name(from);
    assert_non_null(s);
    const char *want = name + strlen("RECITE_FROM_");
    char lower[32];
    size_t i = 0;
    for (; want[i] && i + 1 < sizeof lower; i++)
        lower[i] = (char)(want[i] >= 'A' && want[i] <= 'Z' ? want[i] + 32 : want[i]);
    lower[i] = 0;
    if (strcmp(s, lower) != 0)
        fail_msg("recite_info_source_name(%s) is \"%s\", not \"%s\"", name, s, lower);
    /* The internal inverse gives the value back. */
    assert_int_equal(rc_info_source_of(s), from);
}

static void test_info_source_names(void **state)
{
    (void)state;
    char *h = read_header();
    int order = 0;
    int n = each_match(h, "^ *(RECITE_FROM_[A-Z]+)()", check_source, &order);
    assert_true(n >= 5);
    assert_string_equal(recite_info_source_name((recite_info_source)99), "none");
    assert_int_equal(rc_info_source_of("no such source"), RECITE_FROM_NONE);
    assert_int_equal(rc_info_source_of(NULL), RECITE_FROM_NONE);
    free(h);
}

/* ==== out of memory, or not ==== */

/* Texts jansson refuses for what they hold: never "out of memory", whatever it says. */
static void test_json_refused_for_content(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        size_t flags;
    } bad[] = {
        {"", 0},
        {"   ", 0},
        {"{", 0},
        {"[1,]", 0},
        {"{\"a\" 1}", 0},
        {"{\"a\":}", 0},
        {"{\"a\":1,}", 0},
        {"[1 2]", 0},
        {"[1]]", 0},
        {"{\"a\":1}x", 0},
        {"{1:2}", 0},
        {"[nul]", 0},
        {"[tru]", 0},
        {"[01]", 0},
        {"[1.]", 0},
        {"[.5]", 0},
        {"[1e]", 0},
        {"[-]", 0},
        {"[\"\\x\"]", 0},
        {"[\"\\u12\"]", 0},
        {"[\"a\nb\"]", 0},
        {"[\"open]", 0},
        {"\"a string\"", 0}, /* not an object or array */
        {"7", 0},
        {"[\"\\u0000\"]", 0}, /* a NUL, not allowed */
        {"{\"a\":1,\"a\":2}", JSON_REJECT_DUPLICATES},
        {"[1e999]", 0}, /* overflows */
        {"[123456789012345678901234567890]", 0},
        {"[\"\xff\"]", 0},    /* not UTF-8 */
        {"[\"\\ud800\"]", 0}, /* a lone surrogate */
        {"[\"\\udc00\\ud800\"]", 0},
        {"[\"\\ud800\\u0041\"]", 0},
        {"\xef\xbb\xbf[]", 0}, /* a byte order mark */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        json_error_t jerr;
        size_t len = strlen(bad[i].text);
        json_t *j = json_loadb(bad[i].text, len, bad[i].flags, &jerr);
        if (j)
            fail_msg("jansson accepts %s", bad[i].text);
        if (rc_json_refused_for_memory(&jerr, bad[i].text, len, false))
            fail_msg("%s taken for out of memory (jansson: %s)", bad[i].text, jerr.text);
    }
    /* 3000 levels: past jansson's depth limit. */
    char deep[6001];
    memset(deep, '[', 3000);
    memset(deep + 3000, ']', 3000);
    deep[6000] = 0;
    json_error_t jerr;
    assert_null(json_loadb(deep, 6000, 0, &jerr));
    assert_false(rc_json_refused_for_memory(&jerr, deep, 6000, false));
}

/* What jansson says when its allocations fail, of a text that is well-formed. */
static json_error_t said(enum json_error_code code)
{
    json_error_t e;
    memset(&e, 0, sizeof e);
    snprintf(e.text, sizeof e.text, "%s", "something");
    e.text[JSON_ERROR_TEXT_LENGTH - 1] = (char)code;
    return e;
}

static void test_json_refused_for_memory(void **state)
{
    (void)state;
    static const char *const good[] = {
        "{}",
        " [ ] ",
        "{\"a\":[1,2.5e-3,-0,0.5E+7,true,false,null,\"\\u00e9\\n\\\"\\/\"],\"b\":{\"c\":{}}}\n",
        "[\"\\ud83d\\ude00\", \"caf\xc3\xa9\"]",
        "[[[[[[[[[[1]]]]]]]]]]",
        "{\"version\": 1, \"rules\": [{\"license\": [\"MIT\"], \"action\": \"allow\"}]}\r\n",
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        size_t len = strlen(good[i]);
        json_error_t ok;
        json_t *j = json_loadb(good[i], len, 0, &ok);
        if (!j)
            fail_msg("jansson refuses %s: %s", good[i], ok.text);
        json_decref(j);
        json_error_t e = said(json_error_invalid_syntax);
        if (!rc_json_refused_for_memory(&e, good[i], len, false))
            fail_msg("%s: a syntax error of a well-formed text is not taken for memory", good[i]);
        e = said(json_error_null_character); /* what one failure says */
        assert_true(rc_json_refused_for_memory(&e, good[i], len, false));
        e = said(json_error_duplicate_key); /* only the text causes it */
        assert_false(rc_json_refused_for_memory(&e, good[i], len, false));
    }
    json_error_t e = said(json_error_out_of_memory);
    assert_true(rc_json_refused_for_memory(&e, "[", 1, false));
    e = said(json_error_invalid_syntax);
    e.text[0] = 0; /* nothing said: its buffers could not be made */
    assert_true(rc_json_refused_for_memory(&e, "[", 1, false));
    e = said(json_error_null_character);
    assert_false(rc_json_refused_for_memory(&e, "[\"\\u0000\"]", 10, false));
    e = said(json_error_invalid_syntax);
    assert_false(rc_json_refused_for_memory(&e, "7", 1, false));
    assert_true(rc_json_refused_for_memory(&e, "7", 1, true));

    /* The writer's checked output. */
    json_t *o = json_pack("{s:s, s:[i,f]}", "k", "v\u00e9", "n", 1, 2.5);
    char *s = rc_json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
    assert_non_null(s);
    assert_string_equal(s, "{\"k\":\"v\\u00E9\",\"n\":[1,2.5]}");
    free(s);
    json_decref(o);
}

static void test_errno_enomem(void **state)
{
    (void)state;
    recite_error err;
    assert_int_equal(rc_error_errno(&err, RECITE_EIO, ENOMEM, "%s: cannot map", "x"),
                     RECITE_ENOMEM);
    assert_int_equal(err.code, RECITE_ENOMEM);
    assert_int_equal(rc_error_errno(&err, RECITE_EIO, ENOENT, "%s: cannot open", "x"), RECITE_EIO);
}

static size_t (*dl_strlen)(const char *);
static int resolved;

static const char *resolve_strlen(void *h)
{
    resolved++;
    return RC_DL_SYM(h, dl_strlen, "strlen") ? NULL : "strlen";
}

static const char *resolve_missing(void *h)
{
    resolved++;
    return RC_DL_SYM(h, dl_strlen, "recite_no_such_function") ? NULL : "recite_no_such_function";
}

static void test_dl_load(void **state)
{
    (void)state;
    char why[256] = "";
    /* No such library: EIO, the soname and the loader's reason; not tried again. */
    rc_dl none = RC_DL_INIT;
    assert_int_equal(rc_dl_load(&none, "librecite-no-such.so.9", resolve_strlen, why, sizeof why),
                     RECITE_EIO);
    assert_non_null(strstr(why, "librecite-no-such.so.9 could not be loaded"));
    assert_int_equal(resolved, 0);
    why[0] = 0;
    assert_int_equal(rc_dl_load(&none, "librecite-no-such.so.9", resolve_strlen, why, sizeof why),
                     RECITE_EIO);
    assert_non_null(strstr(why, "could not be loaded"));
    /* A library without a function asked for. */
    rc_dl lacking = RC_DL_INIT;
    assert_int_equal(rc_dl_load(&lacking, "libc.so.6", resolve_missing, why, sizeof why),
                     RECITE_EIO);
    assert_string_equal(why, "libc.so.6 has no recite_no_such_function");
    /* Loaded: the function works, and the library is resolved once. */
    rc_dl libc = RC_DL_INIT;
    resolved = 0;
    for (int i = 0; i < 3; i++)
        assert_int_equal(rc_dl_load(&libc, "libc.so.6", resolve_strlen, why, sizeof why),
                         RECITE_OK);
    assert_int_equal(resolved, 1);
    assert_int_equal(dl_strlen("recite"), 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strerror_names_every_status),
        cmocka_unit_test(test_info_source_names),
        cmocka_unit_test(test_json_refused_for_content),
        cmocka_unit_test(test_json_refused_for_memory),
        cmocka_unit_test(test_errno_enomem),
        cmocka_unit_test(test_dl_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
