/*
 * test_errors.c — tests of src/common/errors.c: recite_strerror names every recite_status and
 * recite_info_source_name every recite_info_source. The codes are read from the public header
 * itself (include/recite.h), so a code added there without a name fails here.
 */
#include "test_util.h"

#include "common/rc_common.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strerror_names_every_status),
        cmocka_unit_test(test_info_source_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
