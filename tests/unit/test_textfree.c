/*
 * test_textfree.c — text-free indexes (src/text/keyed.c, src/index/tokrec.c): the same
 * library indexed with and without its text gives the same exact and normalized matches, with
 * the same offsets, on planted spans of prose and code; the stored stream holds no words of the
 * works; the key is required and checked; the token record codec round-trips. And the key file
 * reader (recite_key_read, src/common/fs.c): 16 to 4096 bytes of a regular file, read back
 * unchanged; anything else refused with a code and one line naming the file, a FIFO at once.
 */
#include "test_util.h"

#include "index/rc_index.h"

#include <ctype.h>

static const char *const prose_files[] = {"GPL-3", "Apache-2.0", "MPL-2.0", "Artistic", "LGPL-2.1"};

typedef struct fixture {
    char *dir, *lib, *idx, *tfidx;
    char *texts[6];
    size_t lens[6];
    recite_index *plain, *tf;
    recite_checker *cplain, *ctf;
} fixture;

static const char secret[] = "0123456789abcdef-a test key, not a secret";

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    test_dirs_make(&f->dir, &f->lib, &f->idx);
    f->tfidx = path_join(f->dir, "tfidx");
    for (size_t i = 0; i < 5; i++)
        f->texts[i] = test_put_license(f->lib, prose_files[i], &f->lens[i]);
    f->texts[5] = read_file("/usr/include/stdio.h", &f->lens[5]);
    assert_non_null(f->texts[5]);
    char *dst = path_join(f->lib, "stdio.h");
    write_file(dst, f->texts[5], f->lens[5]);
    free(dst);
    recite_build_options bo = test_opts();
    bo.mode = RECITE_MODE_AUTO;
    bo.skip_cmi = 1;
    test_build(f->lib, f->idx, &bo);
    bo.text_free_key = secret;
    bo.text_free_key_len = sizeof secret - 1;
    test_build(f->lib, f->tfidx, &bo);
    recite_error err = {0};
    assert_int_equal(recite_index_open(&f->plain, f->idx, &err), RECITE_OK);
    assert_int_equal(recite_index_open_keyed(&f->tf, f->tfidx, secret, sizeof secret - 1, &err),
                     RECITE_OK);
    recite_check_options co = RECITE_CHECK_OPTIONS_INIT;
    co.exact_only = 1; /* near matching seeds on fingerprints, which the key reshuffles */
    co.all_works = 1;
    assert_int_equal(recite_checker_create(&f->cplain, f->plain, &co, &err), RECITE_OK);
    assert_int_equal(recite_checker_create(&f->ctf, f->tf, &co, &err), RECITE_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    recite_checker_free(f->cplain);
    recite_checker_free(f->ctf);
    recite_index_close(f->plain);
    recite_index_close(f->tf);
    for (size_t i = 0; i < 6; i++)
        free(f->texts[i]);
    test_dirs_free(f->dir, f->lib, f->idx);
    free(f->tfidx);
    free(f);
    return 0;
}

/* A passage of text i at a random place, changed as `how` says, between unrelated words. */
static char *planted(const fixture *f, rng *r, size_t i, int how)
{
    /* Code: long enough for 65 lexemes outside comments. */
    size_t len = i == 5 ? 4000 + rng_below(r, 3000) : 300 + rng_below(r, 2000);
    size_t from = rng_below(r, f->lens[i] - len);
    char *s = malloc(len * 3 + 64);
    size_t n = (size_t)sprintf(s, "Unrelated opening words. ");
    for (size_t k = from; k < from + len; k++) {
        unsigned char ch = (unsigned char)f->texts[i][k];
        if (how == 1 && ch < 0x80) /* case */
            s[n++] = (char)toupper(ch);
        else if (how == 2 && ch == '\'') /* curly apostrophes */
            n += (size_t)sprintf(s + n, "\xe2\x80\x99");
        else if (how == 3 && ch == ' ' && rng_below(r, 4) == 0) /* reflowed */
            n += (size_t)sprintf(s + n, "\n  ");
        else
            s[n++] = (char)ch;
    }
    n += (size_t)sprintf(s + n, " Unrelated closing words.\n");
    s[n] = 0;
    return s;
}

static void expect_same_result(const recite_result *a, const recite_result *b, const char *what)
{
    if (a->nmatches != b->nmatches)
        fail_msg("%s: %zu matches with text, %zu text-free", what, a->nmatches, b->nmatches);
    for (size_t i = 0; i < a->nmatches; i++) {
        const recite_match *x = &a->matches[i], *y = &b->matches[i];
        if (x->work != y->work || x->out_start != y->out_start || x->out_end != y->out_end ||
            x->src_start != y->src_start || x->src_end != y->src_end || x->kind != y->kind ||
            x->tokens != y->tokens)
            fail_msg("%s: match %zu differs: work %u/%u out %llu-%llu/%llu-%llu src %llu-%llu/"
                     "%llu-%llu kind %d/%d",
                     what, i, x->work, y->work, (unsigned long long)x->out_start,
                     (unsigned long long)x->out_end, (unsigned long long)y->out_start,
                     (unsigned long long)y->out_end, (unsigned long long)x->src_start,
                     (unsigned long long)x->src_end, (unsigned long long)y->src_start,
                     (unsigned long long)y->src_end, x->kind, y->kind);
    }
    assert_false(a->text_free);
    assert_true(b->text_free);
}

static void test_same_matches(void **state)
{
    fixture *f = *state;
    rng r = rng_seeded(77);
    int kinds[3] = {0};
    for (int t = 0; t < iterations(120); t++) {
        size_t i = rng_below(&r, 6);
        int how = i == 5 ? 0 : (int)rng_below(&r, 4);
        char *s = planted(f, &r, i, how);
        const recite_result *a, *b;
        recite_error err = {0};
        assert_int_equal(recite_check_text(&a, f->cplain, s, strlen(s), &err), RECITE_OK);
        assert_int_equal(recite_check_text(&b, f->ctf, s, strlen(s), &err), RECITE_OK);
        char what[64];
        snprintf(what, sizeof what, "trial %d (%s, change %d)", t, i < 5 ? prose_files[i] : "code",
                 how);
        if (a->nmatches == 0)
            fail_msg("%s: nothing found in \"%.80s...\"", what, s);
        expect_same_result(a, b, what);
        for (size_t k = 0; k < b->nmatches; k++)
            kinds[b->matches[k].kind]++;
        free(s);
    }
    /* Both exact and normalized copies were among them, and told apart without the text. */
    assert_true(kinds[RECITE_KIND_EXACT] > 0);
    assert_true(kinds[RECITE_KIND_NORMALIZED] > 0);
}

/* No word of the works is in the index file or in its decompressed stored stream. */
static void test_no_text_stored(void **state)
{
    fixture *f = *state;
    size_t flen = 0;
    char *tf_path = path_join(f->tfidx, "recite.idx");
    char *file = read_file(tf_path, &flen);
    assert_non_null(file);
    uint8_t *stream = malloc(f->tf->text_bytes + 1);
    rc_store_reader rd;
    recite_error err = {0};
    assert_int_equal(rc_store_reader_init(&rd, f->tf), RECITE_OK);
    assert_int_equal(rc_store_read(&rd, 0, f->tf->text_bytes, stream, &err), RECITE_OK);
    rc_store_reader_free(&rd);
    /* The same search finds the words in an index that stores text (decompressed), so it is not
     * blind. */
    uint8_t *plain_stream = malloc(f->plain->text_bytes + 1);
    assert_int_equal(rc_store_reader_init(&rd, f->plain), RECITE_OK);
    assert_int_equal(rc_store_read(&rd, 0, f->plain->text_bytes, plain_stream, &err), RECITE_OK);
    rc_store_reader_free(&rd);
    rng r = rng_seeded(78);
    int words = 0;
    for (int t = 0; t < 400 && words < 150; t++) {
        size_t i = rng_below(&r, 6);
        size_t at = rng_below(&r, f->lens[i] - 40);
        while (at < f->lens[i] && isalpha((unsigned char)f->texts[i][at]))
            at++; /* to the end of a word */
        while (at < f->lens[i] && !isalpha((unsigned char)f->texts[i][at]))
            at++; /* to the start of the next */
        size_t e = at;
        while (e < f->lens[i] && isalpha((unsigned char)f->texts[i][e]))
            e++;
        if (e - at < 7)
            continue;
        words++;
        const char *w = f->texts[i] + at;
        size_t wl = e - at;
        assert_non_null(memmem(plain_stream, f->plain->text_bytes, w, wl));
        if (memmem(stream, f->tf->text_bytes, w, wl) || memmem(file, flen, w, wl))
            fail_msg("the word \"%.*s\" is stored in the text-free index", (int)wl, w);
    }
    assert_true(words >= 100);
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(recite_index_work_text(&out, &len, f->tf, 0, 0, 10, &err), RECITE_ENOTEXT);
    assert_null(out);
    recite_index_stats st;
    recite_index_get_stats(&st, f->tf);
    assert_true(st.text_free);
    assert_int_equal(st.works, 6);
    free(plain_stream);
    free(stream);
    free(file);
    free(tf_path);
}

static void test_key_required_and_checked(void **state)
{
    fixture *f = *state;
    recite_index *idx = NULL;
    recite_checker *chk = NULL;
    recite_error err = {0};
    /* Opened without its key: readable, but not checkable. */
    assert_int_equal(recite_index_open(&idx, f->tfidx, &err), RECITE_OK);
    assert_int_equal(recite_checker_create(&chk, idx, NULL, &err), RECITE_EKEY);
    assert_null(chk);
    recite_index_close(idx);
    /* Another key, a short one, no key. */
    static const char other[] = "0123456789abcdef-another key";
    assert_int_equal(recite_index_open_keyed(&idx, f->tfidx, other, sizeof other - 1, &err),
                     RECITE_EKEY);
    assert_null(idx);
    assert_non_null(strstr(err.message, "wrong key"));
    assert_int_equal(recite_index_open_keyed(&idx, f->tfidx, secret, 8, &err), RECITE_EKEY);
    assert_int_equal(recite_index_open_keyed(&idx, f->tfidx, NULL, 0, &err), RECITE_EKEY);
    /* An ordinary index opens with or without a key. */
    assert_int_equal(recite_index_open_keyed(&idx, f->idx, other, sizeof other - 1, &err),
                     RECITE_OK);
    recite_index_close(idx);
    /* A build refuses a short key. */
    const char *paths[] = {f->lib};
    recite_build_options bo = test_opts();
    bo.text_free_key = "short";
    bo.text_free_key_len = 5;
    bo.skip_cmi = 1;
    char *bad = path_join(f->dir, "bad");
    assert_int_equal(recite_index_build(NULL, bad, paths, 1, &bo, &err), RECITE_EINVAL);
    struct stat sb;
    assert_int_not_equal(stat(bad, &sb), 0); /* nothing left behind */
    free(bad);
}

/* Records round-trip, including checkpoint (absolute) starts, long tokens and code shapes, and
 * a record cut short asks for more bytes instead of misreading. */
static void test_record_codec(void **state)
{
    (void)state;
    rng r = rng_seeded(79);
    uint8_t buf[RC_TOKREC_MAX * 64];
    rc_token toks[64];
    rc_tokx xs[64];
    for (int code = 0; code < 2; code++) {
        size_t n = 0;
        uint64_t prev = 0, pos = rng_below(&r, 1u << 30);
        for (int i = 0; i < 64; i++) {
            pos += rng_below(&r, i % 7 == 0 ? 100000 : 4);
            uint64_t len = 1 + rng_below(&r, i % 5 == 0 ? 70000 : 12);
            toks[i] = (rc_token){rng_next(&r) & 0xffffffffu, code ? rng_next(&r) & 0xffffffffu : 0,
                                 pos, pos + len};
            if (!code)
                toks[i].shape = toks[i].hash;
            xs[i] = (rc_tokx){(uint16_t)rng_next(&r), (uint8_t)rng_next(&r), (uint8_t)rng_next(&r)};
            size_t m = rc_tokrec_encode(buf + n, &toks[i], &xs[i], prev, i % 32 == 0, code);
            assert_true(m <= RC_TOKREC_MAX);
            n += m;
            prev = pos += len;
        }
        size_t at = 0;
        prev = 0;
        for (int i = 0; i < 64; i++) {
            rc_token t;
            rc_tokx x;
            /* Every strict prefix of the record is "too short". */
            size_t full = rc_tokrec_decode(buf + at, n - at, prev, i % 32 == 0, code, &t, &x);
            assert_true(full > 0 && full != SIZE_MAX);
            for (size_t cut = 0; cut < full; cut++)
                assert_int_equal(rc_tokrec_decode(buf + at, cut, prev, i % 32 == 0, code, &t, &x),
                                 0);
            rc_tokrec_decode(buf + at, n - at, prev, i % 32 == 0, code, &t, &x);
            assert_int_equal(t.start, toks[i].start);
            assert_int_equal(t.end, toks[i].end);
            assert_int_equal(t.hash, toks[i].hash);
            assert_int_equal(t.shape, toks[i].shape);
            assert_int_equal(x.xtok, xs[i].xtok);
            assert_int_equal(x.xgap, xs[i].xgap);
            assert_int_equal(x.pgap, xs[i].pgap);
            at += full;
            prev = t.end;
        }
        assert_int_equal(at, n);
    }
    /* A varint that never ends is malformed. */
    uint8_t junk[16];
    memset(junk, 0xff, sizeof junk);
    rc_token t;
    rc_tokx x;
    assert_int_equal(rc_tokrec_decode(junk, sizeof junk, 0, true, false, &t, &x), SIZE_MAX);
}

/* recite_key_read(path) fails with `code` and a message "PATH: ...WHY...", *out NULL, *len 0. */
static void key_refused(const char *path, int code, const char *why)
{
    char *key = (char *)"untouched";
    size_t len = 99;
    recite_error err = {0};
    assert_int_equal(recite_key_read(&key, &len, path, &err), code);
    assert_int_equal(err.code, code);
    assert_null(key);
    assert_int_equal(len, 0);
    assert_int_equal(strncmp(err.message, path, strlen(path)), 0);
    if (!strstr(err.message, why))
        fail_msg("'%s' does not say '%s'", err.message, why);
    assert_null(strchr(err.message, '\n'));
    /* err may be NULL */
    assert_int_equal(recite_key_read(&key, &len, path, NULL), code);
    assert_null(key);
}

static void test_key_file(void **state)
{
    (void)state;
    char *dir = tmp_dir_make();
    char *path = path_join(dir, "key");
    uint8_t bytes[RECITE_KEY_MAX_BYTES + 1];
    rng r = rng_seeded(83);
    for (size_t i = 0; i < sizeof bytes; i++)
        bytes[i] = (uint8_t)rng_next(&r);
    bytes[3] = 0; /* any bytes: NUL and line breaks are part of the key */
    bytes[4] = '\n';
    /* 16, 32 and 4096 bytes: read back unchanged */
    static const size_t ok_sizes[] = {RECITE_KEY_MIN_BYTES, 32, RECITE_KEY_MAX_BYTES};
    for (size_t i = 0; i < RC_ARRAY_LEN(ok_sizes); i++) {
        write_file(path, bytes, ok_sizes[i]);
        char *key = NULL;
        size_t len = 0;
        recite_error err = {0};
        assert_int_equal(recite_key_read(&key, &len, path, &err), RECITE_OK);
        assert_int_equal(len, ok_sizes[i]);
        assert_memory_equal(key, bytes, len);
        free(key);
    }
    /* too few and too many bytes */
    write_file(path, bytes, 0);
    key_refused(path, RECITE_EINVAL, "key too short: at least 16 bytes");
    write_file(path, bytes, RECITE_KEY_MIN_BYTES - 1);
    key_refused(path, RECITE_EINVAL, "key too short: at least 16 bytes (head -c 32 /dev/urandom");
    write_file(path, bytes, RECITE_KEY_MAX_BYTES + 1);
    key_refused(path, RECITE_EINVAL, "key too long: at most 4096 bytes");
    /* not a file, or none */
    key_refused(dir, RECITE_EIO, "cannot read the key: a directory, not a file");
    char *missing = path_join(dir, "missing");
    key_refused(missing, RECITE_EIO, strerror(ENOENT));
    /* A FIFO without a writer: refused at once (a blocking open would wait here for ever; the
     * alarm ends the test then). */
    char *fifo = path_join(dir, "fifo");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    alarm(20);
    key_refused(fifo, RECITE_EIO, "cannot read the key: not a regular file");
    alarm(0);
    rm_rf(dir);
    free(fifo);
    free(missing);
    free(path);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_codec),
        cmocka_unit_test(test_key_file),
        cmocka_unit_test_setup_teardown(test_same_matches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_text_stored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_required_and_checked, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
