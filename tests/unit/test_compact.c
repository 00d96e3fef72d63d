/*
 * test_compact.c — compaction (recite_index_compact): the index rebuilt from its own stored
 * texts without the deleted works keeps every other work byte for byte (ids, metadata, modes,
 * Latin-1 bytes, offsets of matches), finds nothing of the deleted work, and holds no trace of
 * its text, not even in the compression dictionary; a text-free index and deleting everything
 * are refused with the index unchanged.
 */
#include "test_util.h"

#include "index/rc_index.h"

typedef struct fixture {
    char *dir, *lib, *idx;
    char *secret_text; /* the work to delete: words found nowhere else */
    size_t secret_len;
} fixture;

static char *unique_text(rng *r, size_t words, size_t *len)
{
    static const char *const syl[] = {"zor", "quil", "vanth", "ebr", "mox", "tirr", "plen", "ask"};
    size_t cap = words * 16 + 2, n = 0;
    char *s = malloc(cap);
    for (size_t w = 0; w < words; w++) {
        unsigned k = 2 + (unsigned)rng_below(r, 3);
        for (unsigned i = 0; i < k; i++)
            n += (size_t)sprintf(s + n, "%s", syl[rng_below(r, 8)]);
        s[n++] = w % 15 == 14 ? '\n' : ' ';
    }
    s[n] = 0;
    *len = n;
    return s;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    test_dirs_make(&f->dir, &f->lib, &f->idx);
    static const char *const names[] = {"GPL-3", "Apache-2.0", "MPL-2.0", "Artistic"};
    for (size_t i = 0; i < RC_ARRAY_LEN(names); i++)
        free(test_put_license(f->lib, names[i], NULL));
    /* Latin-1 bytes (not UTF-8) must survive the round trip byte for byte. */
    char *latin = path_join(f->lib, "latin1.txt");
    write_str(latin, "Caf\xe9 cr\xe8"
                     "me br\xfbl\xe9"
                     "e: la recette de ma grand-m\xe8"
                     "re, \xe9"
                     "crite \xe0 la main sur une fiche jaunie par le temps et les taches.\n");
    free(latin);
    rng r = rng_seeded(91);
    f->secret_text = unique_text(&r, 3000, &f->secret_len);
    /* JSONL: the secret work, with metadata, and a code work. */
    char *jl = path_join(f->lib, "works.jsonl");
    FILE *fp = fopen(jl, "w");
    assert_non_null(fp);
    fprintf(fp, "{\"id\": \"secret\", \"text\": \"");
    for (size_t i = 0; i < f->secret_len; i++)
        fputs(f->secret_text[i] == '\n' ? "\\n" : (char[]){f->secret_text[i], 0}, fp);
    fprintf(fp, "\", \"title\": \"Secret\", \"source\": \"shadow-library\"}\n");
    fprintf(fp, "{\"id\": \"kept/code\", \"mode\": \"code\", \"title\": \"Loop\", \"license\": "
                "\"MIT\", \"source\": \"licensed\", \"runs\": [\"r1\"], \"text\": \"int main(void) "
                "{ for (int i = 0; i < 10; i++) printf(\\\"%%d\\\\n\\\", i * i); return 0; }\"}\n");
    assert_int_equal(fclose(fp), 0);
    free(jl);
    test_build(f->lib, f->idx, NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    test_dirs_free(f->dir, f->lib, f->idx);
    free(f->secret_text);
    free(f);
    return 0;
}

typedef struct snapshot {
    size_t n;
    char *ids[16], *meta[16], *text[16];
    size_t len[16];
    int mode[16];
} snapshot;

static snapshot snap(const char *dir)
{
    snapshot s = {0};
    recite_index *idx;
    recite_error err = {0};
    assert_int_equal(recite_index_open(&idx, dir, &err), RECITE_OK);
    s.n = recite_index_work_count(idx);
    assert_true(s.n <= 16);
    for (uint32_t w = 0; w < s.n; w++) {
        recite_work_info info;
        assert_int_equal(recite_index_work(&info, idx, w), RECITE_OK);
        s.ids[w] = strdup(info.id);
        s.meta[w] = info.metadata_json ? strdup(info.metadata_json) : NULL;
        s.mode[w] = info.mode;
        assert_int_equal(recite_index_work_text(&s.text[w], &s.len[w], idx, w, 0, info.bytes, &err),
                         RECITE_OK);
    }
    recite_index_close(idx);
    return s;
}

static void snap_free(snapshot *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->ids[i]);
        free(s->meta[i]);
        free(s->text[i]);
    }
}

/* Whether any stored byte of the index (decompressed text blocks, dictionary, whole file)
 * holds `needle`. */
static bool index_holds(const char *dir, const char *needle, size_t n)
{
    recite_index *idx;
    recite_error err = {0};
    assert_int_equal(recite_index_open(&idx, dir, &err), RECITE_OK);
    uint8_t *all = malloc(idx->text_bytes + 1);
    rc_store_reader rd;
    assert_int_equal(rc_store_reader_init(&rd, idx), RECITE_OK);
    assert_int_equal(rc_store_read(&rd, 0, idx->text_bytes, all, &err), RECITE_OK);
    rc_store_reader_free(&rd);
    bool found = memmem(all, idx->text_bytes, needle, n) != NULL ||
                 memmem(idx->map, idx->map_len, needle, n) != NULL;
    free(all);
    recite_index_close(idx);
    return found;
}

/* The first match of text in the index at dir (all zero when none). */
static recite_match first_match(const char *dir, const char *text, size_t len)
{
    recite_index *idx;
    recite_checker *chk;
    recite_error err = {0};
    assert_int_equal(recite_index_open(&idx, dir, &err), RECITE_OK);
    assert_int_equal(recite_checker_create(&chk, idx, NULL, &err), RECITE_OK);
    const recite_result *res;
    assert_int_equal(recite_check_text(&res, chk, text, len, &err), RECITE_OK);
    recite_match m;
    memset(&m, 0, sizeof m);
    if (res->nmatches)
        m = res->matches[0];
    recite_checker_free(chk);
    recite_index_close(idx);
    return m;
}

static void test_compact_drops_and_keeps(void **state)
{
    fixture *f = *state;
    snapshot before = snap(f->idx);
    assert_int_equal(before.n, 7);
    /* A phrase of the secret work: in the index before, found by a check. */
    const char *phrase = f->secret_text + 600;
    size_t plen = 200;
    while (phrase[plen] != ' ')
        plen++;
    assert_true(index_holds(f->idx, f->secret_text + 1000, 40));
    size_t glen;
    char *gpl = read_file("/usr/share/common-licenses/GPL-3", &glen);
    assert_non_null(gpl);
    recite_match before_match = first_match(f->idx, gpl + 5000, 600);
    recite_match secret_match = first_match(f->idx, phrase, plen);
    assert_true(secret_match.out_end > 0); /* found before the compaction */

    const char *drop[] = {"secret", "no-such-work"};
    recite_build_stats st;
    recite_error err = {0};
    recite_build_options opt = test_opts();
    assert_int_equal(recite_index_compact(&st, f->idx, drop, 2, &opt, &err), RECITE_OK);
    assert_int_equal(st.works_dropped, 1);
    assert_int_equal(st.works, 6);

    snapshot after = snap(f->idx);
    assert_int_equal(after.n, 6);
    for (size_t i = 0, j = 0; i < before.n; i++) {
        if (strcmp(before.ids[i], "secret") == 0)
            continue;
        assert_string_equal(after.ids[j], before.ids[i]); /* same order, same ids */
        assert_int_equal(after.len[j], before.len[i]);
        assert_memory_equal(after.text[j], before.text[i], before.len[i]);
        assert_int_equal(after.mode[j], before.mode[i]);
        if (before.meta[i])
            assert_string_equal(after.meta[j], before.meta[i]);
        else
            assert_null(after.meta[j]);
        j++;
    }
    /* No trace of the secret text, not even a 40-byte piece in the dictionary. */
    for (size_t at = 0; at + 40 < f->secret_len; at += 997)
        if (index_holds(f->idx, f->secret_text + at, 24))
            fail_msg("a piece of the deleted work at %zu is still in the index", at);
    /* A check finds the kept works at the same offsets, and nothing of the deleted one. */
    recite_index *idx;
    recite_checker *chk;
    assert_int_equal(recite_index_open(&idx, f->idx, &err), RECITE_OK);
    assert_int_equal(recite_checker_create(&chk, idx, NULL, &err), RECITE_OK);
    const recite_result *res;
    assert_int_equal(recite_check_text(&res, chk, phrase, plen, &err), RECITE_OK);
    assert_int_equal(res->nmatches, 0);
    recite_match after_match = first_match(f->idx, gpl + 5000, 600);
    assert_int_equal(after_match.out_start, before_match.out_start);
    assert_int_equal(after_match.out_end, before_match.out_end);
    assert_int_equal(after_match.src_start, before_match.src_start);
    assert_int_equal(after_match.src_end, before_match.src_end);
    assert_true(after_match.out_end > 0);
    free(gpl);
    recite_checker_free(chk);
    recite_index_close(idx);
    snap_free(&before);
    snap_free(&after);
}

static void test_compact_refusals(void **state)
{
    fixture *f = *state;
    snapshot before = snap(f->idx);
    const char *all[7];
    for (size_t i = 0; i < before.n; i++)
        all[i] = before.ids[i];
    recite_error err = {0};
    recite_build_options opt = test_opts();
    assert_int_equal(recite_index_compact(NULL, f->idx, all, before.n, &opt, &err), RECITE_EEMPTY);
    snapshot same = snap(f->idx);
    assert_int_equal(same.n, before.n);
    snap_free(&same);
    /* A text-free index has no text to index again. */
    char *tf = path_join(f->dir, "tf");
    const char *paths[] = {f->lib};
    recite_build_options bo = test_opts();
    bo.text_free_key = "0123456789abcdef0123";
    bo.text_free_key_len = 20;
    bo.skip_cmi = 1;
    assert_int_equal(recite_index_build(NULL, tf, paths, 1, &bo, &err), RECITE_OK);
    assert_int_equal(recite_index_compact(NULL, tf, all, 1, &opt, &err), RECITE_ENOTEXT);
    assert_non_null(strstr(err.message, "text-free"));
    free(tf);
    snap_free(&before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_compact_drops_and_keeps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compact_refusals, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
