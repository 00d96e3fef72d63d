/*
 * test_extract.c — extraction (src/build/extract*.c) and locators (src/index/locate.c): the kind
 * of an input by its magic bytes, HTML to text (scripts, navigation dropped; blocks kept apart;
 * metadata), line locators against a brute-force count at random offsets across text blocks,
 * archive members' locators, and the loader refusing damaged locator sections whose checksums
 * were made to fit.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "build/rc_extract.h"
#include "test_util.h"
#include "../../fuzz/seeds_write.h"

#include <xxhash.h>

static void test_kinds(void **state)
{
    (void)state;
    uint8_t buf[RC_SNIFF_BYTES];
    struct {
        const char *bytes;
        size_t len, at;
        const char *name;
        rc_doc_kind want;
    } cases[] = {
        {"%PDF-1.7\n", 9, 0, "x", RC_DOC_PDF},
        {"%PDF-1.4\n", 9, 100, "x", RC_DOC_PDF}, /* after junk */
        {"PK\x03\x04", 4, 0, "a.zip", RC_DOC_ARCHIVE},
        {"PK\x03\x04", 4, 0, "a.epub", RC_DOC_EPUB},
        {"\x1f\x8b\x08", 3, 0, "x", RC_DOC_ARCHIVE},
        {"\xfd"
         "7zXZ\x00",
         6, 0, "x", RC_DOC_ARCHIVE},
        {"\x28\xb5\x2f\xfd", 4, 0, "x", RC_DOC_ARCHIVE},
        {"7z\xbc\xaf\x27\x1c", 6, 0, "x", RC_DOC_ARCHIVE},
        {"BZh9", 4, 0, "x", RC_DOC_ARCHIVE},
        {"ustar", 5, 257, "x", RC_DOC_ARCHIVE},
        {"  <!DOCTYPE html><p>", 20, 0, "x", RC_DOC_HTML},
        {"\xef\xbb\xbf<!-- c --><HTML>", 20, 0, "x", RC_DOC_HTML},
        {"<div>a fragment</div>", 21, 0, "page.htm", RC_DOC_HTML},
        {"<div>not named html</div>", 25, 0, "notes.txt", RC_DOC_TEXT},
        {"plain words", 11, 0, "a.html", RC_DOC_TEXT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memset(buf, 'x', sizeof buf);
        memcpy(buf + cases[i].at, cases[i].bytes, cases[i].len);
        size_t n = cases[i].at + cases[i].len;
        if (cases[i].want == RC_DOC_ARCHIVE || cases[i].want == RC_DOC_PDF)
            n = sizeof buf;
        if (rc_doc_kind_of(buf, n, cases[i].name) != cases[i].want)
            fail_msg("case %zu (%s): kind %d, expected %d", i, cases[i].name,
                     (int)rc_doc_kind_of(buf, n, cases[i].name), (int)cases[i].want);
    }
    /* An EPUB by its mimetype member, whatever its name. */
    memset(buf, 0, sizeof buf);
    memcpy(buf, "PK\x03\x04", 4);
    memcpy(buf + 30, "mimetypeapplication/epub+zip", 28);
    assert_int_equal(rc_doc_kind_of(buf, 64, "book.zip"), RC_DOC_EPUB);
}

static void test_html_text(void **state)
{
    (void)state;
    static const char page[] =
        "<!DOCTYPE html><html lang=\"fr\"><head><title>Le &amp; Titre</title>"
        "<meta name=\"author\" content=\"Une Autrice\"><meta name=\"copyright\" "
        "content=\"Copyright 2019 Somebody\"><style>p { color: red }</style>"
        "<script>var secret = 'scriptword';</script></head><body>"
        "<nav>navword home</nav><header>headerword</header>"
        "<h1>Heading</h1><p>First   paragraph\nof <b>text</b> &eacute;t&eacute;.</p>"
        "<p>Second<br>line</p><pre>  kept\n  as is</pre>"
        "<ul><li>one</li><li>two</li></ul><div hidden>hiddenword</div>"
        "<footer>footerword</footer></body></html>";
    rc_work_out out;
    memset(&out, 0, sizeof out);
    json_t *meta = json_object();
    const char *why = NULL;
    assert_true(rc_extract_html((const uint8_t *)page, sizeof page - 1, &out, meta, &why));
    const char *t = (const char *)out.text;
    assert_non_null(t);
    assert_int_equal(strlen(t), out.text_len);
    assert_non_null(
        strstr(t, "Heading\n\nFirst paragraph of text \xc3\xa9t\xc3\xa9.\n\nSecond\nline"));
    assert_non_null(strstr(t, "  kept\n  as is"));
    assert_non_null(strstr(t, "one\ntwo"));
    static const char *const dropped[] = {"scriptword", "navword",    "headerword",
                                          "footerword", "hiddenword", "color"};
    for (size_t i = 0; i < sizeof dropped / sizeof dropped[0]; i++)
        if (strstr(t, dropped[i]))
            fail_msg("'%s' is in the text: %s", dropped[i], t);
    assert_string_equal(json_string_value(json_object_get(meta, "title")), "Le & Titre");
    assert_string_equal(json_string_value(json_object_get(meta, "author")), "Une Autrice");
    assert_string_equal(json_string_value(json_object_get(meta, "copyright")),
                        "Copyright 2019 Somebody");
    assert_string_equal(json_string_value(json_object_get(meta, "language")), "fr");
    json_decref(meta);
    rc_work_out_free(&out);
}

/* Lines of text[0, off), + 1. */
static uint64_t count_line(const char *text, uint64_t off)
{
    uint64_t n = 1;
    for (uint64_t i = 0; i < off; i++)
        n += text[i] == '\n';
    return n;
}

static void test_locate_lines(void **state)
{
    (void)state;
    char *dir, *lib, *idx;
    test_dirs_make(&dir, &lib, &idx);
    rng r = rng_seeded(77);
    /* A text of ~40 KB of lines of varied length (10 blocks), and an archive with a member. */
    size_t cap = 40000, n = 0;
    char *text = malloc(cap + 200);
    while (n < cap) {
        unsigned words = (unsigned)rng_below(&r, 14);
        for (unsigned w = 0; w < words; w++)
            n += (size_t)sprintf(text + n, "w%u ", (unsigned)rng_below(&r, 1000));
        text[n++] = '\n';
    }
    test_put(lib, "lines.txt", text, n);
    static unsigned char tar[65536];
    sw_member m[] = {{"dir/member.txt", text, 5000}};
    size_t tl = sw_archive("tar", "gzip", m, 1, tar, sizeof tar);
    assert_true(tl > 0);
    test_put(lib, "pack.tar.gz", (const char *)tar, tl);
    recite_build_options opt = test_opts();
    opt.skip_cmi = 1;
    test_build(lib, idx, &opt);
    recite_index *ix;
    test_open(idx, &ix, NULL, NULL);
    uint32_t lines_w = UINT32_MAX, member_w = UINT32_MAX;
    for (uint32_t w = 0; w < recite_index_work_count(ix); w++) {
        recite_work_info info;
        assert_int_equal(recite_index_work(&info, ix, w), RECITE_OK);
        if (strstr(info.id, "lines.txt"))
            lines_w = w;
        if (strstr(info.id, "pack.tar.gz!dir/member.txt"))
            member_w = w;
    }
    assert_int_not_equal(lines_w, UINT32_MAX);
    assert_int_not_equal(member_w, UINT32_MAX);
    recite_locator loc;
    recite_error err = {0};
    uint64_t offs[] = {0, 1, 4095, 4096, 4097, 8192, n - 1, n, n + 100};
    for (int i = 0; i < iterations(200) + 9; i++) {
        uint64_t off = i < 9 ? offs[i] : rng_below(&r, n + 1);
        assert_int_equal(recite_index_locate(&loc, ix, lines_w, off, &err), RECITE_OK);
        uint64_t want = count_line(text, off > n ? n : off);
        if (loc.line != want)
            fail_msg("offset %llu: line %llu, expected %llu", (unsigned long long)off,
                     (unsigned long long)loc.line, (unsigned long long)want);
        assert_null(loc.member);
        assert_int_equal(loc.page, 0);
        assert_int_equal(loc.chapter, 0);
    }
    /* Two offsets at once (a match's first and last byte, as reports ask): in one block, in
     * two, at the text's end, and given in either order. */
    for (int i = 0; i < iterations(400); i++) {
        uint64_t x = rng_below(&r, n + 1);
        uint64_t y = i % 3 == 0   ? x + rng_below(&r, 64)
                     : i % 3 == 1 ? x + rng_below(&r, 3000)
                                  : rng_below(&r, n + 50);
        if (i % 17 == 0)
            y = n;
        recite_locator la, lb;
        assert_int_equal(rc_index_locate_span(&la, &lb, ix, lines_w, x, y, &err), RECITE_OK);
        uint64_t wa = count_line(text, x > n ? n : x), wb = count_line(text, y > n ? n : y);
        if (la.line != wa || lb.line != wb)
            fail_msg("offsets %llu, %llu: lines %llu, %llu, expected %llu, %llu",
                     (unsigned long long)x, (unsigned long long)y, (unsigned long long)la.line,
                     (unsigned long long)lb.line, (unsigned long long)wa, (unsigned long long)wb);
    }
    assert_int_equal(recite_index_locate(&loc, ix, member_w, 4000, &err), RECITE_OK);
    assert_string_equal(loc.member, "dir/member.txt");
    assert_int_equal(loc.line, count_line(text, 4000));
    assert_int_equal(recite_index_locate(&loc, ix, 99, 0, &err), RECITE_EINVAL);
    recite_index_close(ix);

    /* Damage the locator sections with checksums made to fit: the loader refuses them. */
    size_t len = 0;
    char *path = path_join(idx, RC_INDEX_FILE);
    uint8_t *orig = (uint8_t *)read_file(path, &len);
    uint8_t *copy = malloc(len);
    static const unsigned ids[] = {RC_SEC_LOC_INDEX, RC_SEC_LOC_DATA, RC_SEC_LINES};
    for (int it = 0; it < iterations(60); it++) {
        memcpy(copy, orig, len);
        unsigned id = ids[it % 3];
        uint8_t *e = NULL;
        for (unsigned s = 0; s < RC_MAX_SECTIONS; s++)
            if (rc_get_u32(copy + RC_SECTIONS_OFFSET + s * RC_SECTION_ENTRY_SIZE) == id)
                e = copy + RC_SECTIONS_OFFSET + s * RC_SECTION_ENTRY_SIZE;
        assert_non_null(e);
        uint64_t so = rc_get_u64(e + 8), sl = rc_get_u64(e + 16);
        assert_true(sl > 0);
        size_t at = (size_t)(so + rng_below(&r, sl));
        copy[at] ^= (uint8_t)(1u << rng_below(&r, 8));
        rc_put_u64(e + 24, XXH3_64bits(copy + so, sl));
        memset(copy + RC_H_CHECKSUM, 0, 8);
        rc_put_u64(copy + RC_H_CHECKSUM, XXH3_64bits(copy, RC_DATA_OFFSET));
        write_file(path, copy, len);
        int rc = recite_index_open(&ix, idx, &err);
        if (rc == RECITE_OK) {
            /* A flip that keeps the records consistent (a title's byte): still in bounds. */
            for (uint32_t w = 0; w < recite_index_work_count(ix); w++)
                assert_int_equal(recite_index_locate(&loc, ix, w, rng_below(&r, 50000), &err),
                                 RECITE_OK);
            recite_index_close(ix);
        } else {
            assert_int_equal(rc, RECITE_EFORMAT);
        }
    }
    write_file(path, orig, len);
    free(copy);
    free(orig);
    free(path);
    free(text);
    test_dirs_free(dir, lib, idx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_html_text),
        cmocka_unit_test(test_locate_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
