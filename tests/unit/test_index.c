/*
 * test_index.c — the index (src/index/): build from files, directories and JSONL; round trip of
 * works, metadata, clusters and stored text; the external sort against qsort; stored tokens
 * against a one-pass tokenization; and corrupt, truncated or foreign-version files rejected.
 */
#include "test_util.h"

#include "build/rc_build.h"

#include <fcntl.h>
#include <pthread.h>

typedef struct fixture {
    char *dir, *lib, *idx;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    test_dirs_make(&f->dir, &f->lib, &f->idx);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    test_dirs_free(f->dir, f->lib, f->idx);
    free(f);
    return 0;
}

static void put(const fixture *f, const char *name, const char *text)
{
    test_put(f->lib, name, text, strlen(text));
}

typedef struct notes {
    int hidden, binary, empty, invalid, dup;
} notes;

static void on_note(recite_note_kind kind, const char *path, const char *detail, void *user)
{
    (void)path;
    (void)detail;
    notes *n = user;
    switch (kind) {
    case RECITE_NOTE_SKIPPED_HIDDEN: n->hidden++; break;
    case RECITE_NOTE_SKIPPED_BINARY: n->binary++; break;
    case RECITE_NOTE_SKIPPED_EMPTY: n->empty++; break;
    case RECITE_NOTE_INVALID_UTF8: n->invalid++; break;
    case RECITE_NOTE_DUPLICATE: n->dup++; break;
    default: break;
    }
}

static int build(const fixture *f, const char *const *paths, size_t n, notes *nt, unsigned jobs,
                 uint64_t mem, recite_error *err)
{
    recite_build_options opt = test_opts();
    opt.note = on_note;
    opt.user = nt;
    opt.jobs = jobs;
    opt.mem_budget = mem;
    opt.created_unix = 1; /* deterministic builds compare bytes */
    return recite_index_build(NULL, f->idx, paths, n, &opt, err);
}

static const char *find_work(const recite_index *idx, const char *id, recite_work_info *info)
{
    for (uint32_t w = 0; w < recite_index_work_count(idx); w++) {
        assert_int_equal(recite_index_work(info, idx, w), RECITE_OK);
        if (strcmp(info->id, id) == 0)
            return info->id;
    }
    return NULL;
}

static void test_build_and_read_back(void **state)
{
    fixture *f = *state;
    const char *gpl = "This program is free software: you can redistribute it and/or modify it "
                      "under the terms of the licence.\n";
    put(f, "a.txt", gpl);
    put(f, "b.txt", "A different text about tokens, fingerprints and windows.\n");
    put(f, "copy-of-a.txt", gpl);
    put(f, ".hidden", "not indexed");
    put(f, "empty.txt", "");
    write_file("/dev/null", "", 0);
    char *bin = path_join(f->lib, "bin.dat");
    write_file(bin, "abc\0def", 7);
    free(bin);
    char *jsonl = path_join(f->dir, "works.jsonl");
    const char *j =
        "{\"id\":\"book-1\",\"text\":\"Call me Ishmael. Some years ago\",\"title\":\"T\","
        "\"author\":\"A\",\"license\":\"CC0-1.0\",\"source\":\"scanned\",\"runs\":[\"r1\"]}\n"
        "\n"
        "{\"id\":7,\"text\":\"caf\\u00e9 cr\\u00e8me\"}\n";
    write_file(jsonl, j, strlen(j));
    const char *paths[] = {f->lib, jsonl};
    notes nt = {0};
    recite_error err = {0};
    int rc = build(f, paths, 2, &nt, 2, 0, &err);
    if (rc != RECITE_OK)
        fail_msg("build: %s", err.message);
    assert_int_equal(nt.hidden, 1);
    assert_int_equal(nt.binary, 1);
    assert_int_equal(nt.empty, 1);
    assert_int_equal(nt.dup, 1);

    recite_index *idx;
    assert_int_equal(recite_index_open(&idx, f->idx, &err), RECITE_OK);
    recite_index_stats st;
    recite_index_get_stats(&st, idx);
    assert_int_equal(st.works, 5);
    assert_int_equal(st.clusters, 4);
    assert_int_equal(st.min_tokens, 12);

    recite_work_info a, c, book;
    char *ida = path_join(f->lib, "a.txt"), *idc = path_join(f->lib, "copy-of-a.txt");
    assert_non_null(find_work(idx, ida, &a));
    assert_non_null(find_work(idx, idc, &c));
    assert_int_equal(a.cluster, c.cluster);
    assert_int_equal(c.representative, a.representative);
    uint32_t nmem;
    const uint32_t *mem = recite_index_cluster_members(idx, a.cluster, &nmem);
    assert_int_equal(nmem, 2);
    assert_int_equal(mem[0], a.representative);
    assert_int_equal(a.bytes, strlen(gpl));

    char *text;
    size_t len;
    assert_int_equal(recite_index_work_text(&text, &len, idx, a.representative, 0, a.bytes, &err),
                     RECITE_OK);
    assert_int_equal(len, strlen(gpl));
    assert_memory_equal(text, gpl, len);
    free(text);
    assert_int_equal(
        recite_index_work_text(&text, &len, idx, a.representative, 5, a.bytes + 1, &err),
        RECITE_EINVAL);

    assert_non_null(find_work(idx, "book-1", &book));
    assert_string_equal(book.title, "T");
    assert_string_equal(book.author, "A");
    assert_string_equal(book.license, "CC0-1.0");
    assert_string_equal(book.source, "scanned");
    assert_null(book.copyright);
    assert_non_null(strstr(book.metadata_json, "\"runs\""));
    assert_null(strstr(book.metadata_json, "Ishmael"));
    recite_work_info seven;
    assert_non_null(find_work(idx, "7", &seven));
    assert_int_equal(seven.bytes, strlen("caf\xc3\xa9 cr\xc3\xa8me"));
    recite_index_close(idx);
    free(ida);
    free(idc);
    free(jsonl);
}

static void expect_build_error(const fixture *f, const char *path, int code, const char *needle)
{
    const char *paths[] = {path};
    notes nt = {0};
    recite_error err = {0};
    assert_int_equal(build(f, paths, 1, &nt, 1, 0, &err), code);
    if (!strstr(err.message, needle))
        fail_msg("message '%s' lacks '%s'", err.message, needle);
    struct stat st;
    assert_int_not_equal(stat(f->idx, &st), 0); /* nothing published */
}

static void test_bad_inputs(void **state)
{
    fixture *f = *state;
    char *p = path_join(f->dir, "bad.jsonl");
    write_str(p, "{\"id\":\"a\",\"text\":\"x\"}\n{\"id\":\"b\",\"text\":}\n");
    expect_build_error(f, p, RECITE_EFORMAT, "bad.jsonl:2:");
    write_str(p, "{\"text\":\"x\"}\n");
    expect_build_error(f, p, RECITE_EFORMAT, "bad.jsonl:1: missing");
    write_str(p, "{\"id\":\"a\",\"text\":\"x\"}\n{\"id\":\"a\",\"text\":\"y\"}\n");
    expect_build_error(f, p, RECITE_EFORMAT, "duplicate work id");
    write_str(p, "[1,2]\n");
    expect_build_error(f, p, RECITE_EFORMAT, "expected a JSON object");
    free(p);
    p = path_join(f->dir, "empty.txt");
    write_file(p, "", 0);
    expect_build_error(f, p, RECITE_EFORMAT, "file is empty");
    free(p);
    p = path_join(f->dir, "missing.txt");
    expect_build_error(f, p, RECITE_EIO, "cannot access");
    free(p);
    /* A directory holding nothing indexable. */
    p = path_join(f->dir, "nothing");
    mkdir(p, 0755);
    expect_build_error(f, p, RECITE_EEMPTY, "no works");
    /* Refuse to replace a directory that is not an index. */
    mkdir(f->idx, 0755);
    char *keep = path_join(f->idx, "precious.txt");
    write_file(keep, "x", 1);
    put(f, "w.txt", "some words here");
    const char *paths[] = {f->lib};
    recite_error err = {0};
    notes nt = {0};
    assert_int_equal(build(f, paths, 1, &nt, 1, 0, &err), RECITE_EINVAL);
    assert_non_null(strstr(err.message, "refusing"));
    struct stat st;
    assert_int_equal(stat(keep, &st), 0);
    free(keep);
    free(p);
}

/* ==== external sort ==== */

static int cmp_rec(const void *a, const void *b)
{
    const rc_posting_rec *x = a, *y = b;
    if (RC_SORT_KEY(x->hash) != RC_SORT_KEY(y->hash))
        return RC_SORT_KEY(x->hash) < RC_SORT_KEY(y->hash) ? -1 : 1;
    return (x->gpos > y->gpos) - (x->gpos < y->gpos);
}

/* ==== spools: what is appended reads back, from the file and the buffer alike ==== */

static void test_spool_round_trip(void **state)
{
    fixture *f = *state;
    rng r = rng_seeded(24);
    for (int round = 0; round < 3; round++) {
        size_t total = round == 0 ? 3000 : 200000 + rng_below(&r, 50000);
        uint8_t *ref = malloc(total);
        for (size_t i = 0; i < total; i++)
            ref[i] = (uint8_t)rng_below(&r, 256);
        rc_spool s;
        recite_error err = {0};
        rc_spool_init(&s, f->dir, 4096); /* round 0 fits in the buffer; the others spill */
        for (size_t at = 0; at < total;) {
            size_t n = RC_MIN(total - at, (size_t)rng_below(&r, 9000));
            assert_int_equal(rc_spool_append(&s, ref + at, n, &err), RECITE_OK);
            at += n;
        }
        assert_int_equal(rc_spool_size(&s), total);
        assert_true(round == 0 ? !s.file : s.file && s.flushed > 0);
        for (int k = 0; k < 200; k++) { /* ranges across the file and the buffer */
            uint64_t off = rng_below(&r, total);
            size_t n = (size_t)rng_below(&r, RC_MIN(total - off, (uint64_t)10000) + 1);
            uint8_t got[10000];
            assert_int_equal(rc_spool_read(&s, off, got, n, &err), RECITE_OK);
            assert_memory_equal(got, ref + off, n);
        }
        uint8_t one;
        assert_int_not_equal(rc_spool_read(&s, total, &one, 1, &err), RECITE_OK);
        rc_spool_iter it; /* in order, piece by piece */
        assert_int_equal(rc_spool_iter_init(&it, &s, &err), RECITE_OK);
        const uint8_t *p;
        size_t n, seen = 0;
        while (rc_spool_iter_next(&it, &p, &n, &err) == RECITE_OK && n) {
            assert_true(seen + n <= total);
            assert_memory_equal(p, ref + seen, n);
            seen += n;
        }
        assert_int_equal(seen, total);
        rc_spool_iter_free(&it);
        assert_int_equal(rc_spool_iter_init(&it, &s, &err), RECITE_OK); /* in records */
        for (size_t at = 0; at + 7 <= total; at += 7) {
            uint8_t rec[7];
            assert_int_equal(rc_spool_iter_read(&it, rec, 7, &err), RECITE_OK);
            assert_memory_equal(rec, ref + at, 7);
        }
        rc_spool_iter_free(&it);
        rc_spool_free(&s);
        free(ref);
    }
}

static void test_sorter_spills_and_merges(void **state)
{
    fixture *f = *state;
    rng r = rng_seeded(21);
    /* Round 3: more runs than are merged at once (128): merged in groups first. */
    for (int round = 0; round < 4; round++) {
        size_t n = round == 0   ? 1000
                   : round == 3 ? 130 * 4096 + rng_below(&r, 4096)
                                : 50000 + rng_below(&r, 20000);
        bool few = round >= 2; /* few distinct keys: the merge must keep positions in order */
        rc_posting_rec *v = malloc(n * sizeof *v);
        for (size_t i = 0; i < n; i++) /* positions increase, as the builder adds them */
            v[i] = (rc_posting_rec){rng_below(&r, few ? 50 : UINT64_MAX) << (few ? 16 : 0),
                                    (uint32_t)i, 0};
        rc_sorter s;
        recite_error err;
        /* 4096-record buffer: several spilled runs for the larger rounds. */
        assert_int_equal(rc_sorter_init(&s, 4096 * 2 * sizeof(rc_posting_rec), f->dir, &err), 0);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(rc_sorter_add(&s, &v[i], &err), 0);
        assert_int_equal(rc_sorter_finish(&s, &err), 0);
        if (round)
            assert_true(s.runs.n > 1);
        if (round == 3)
            assert_true(s.spilled > 128 && s.runs.n <= 128);
        qsort(v, n, sizeof *v, cmp_rec);
        rc_posting_rec got;
        size_t k = 0;
        int more;
        while ((more = rc_sorter_next(&s, &got, &err)) == 1) {
            assert_true(k < n);
            assert_int_equal(RC_SORT_KEY(got.hash), RC_SORT_KEY(v[k].hash));
            assert_int_equal(got.gpos, v[k].gpos);
            k++;
        }
        assert_int_equal(more, 0);
        assert_int_equal(k, n);
        rc_sorter_free(&s);
        free(v);
    }
}

/* ==== builds are deterministic whatever the threads and memory ==== */

static char *file_bytes(const char *dir, size_t *len)
{
    char *p = path_join(dir, RC_INDEX_FILE);
    char *b = read_file(p, len);
    free(p);
    return b;
}

static void write_library(const fixture *f, rng *r, size_t nfiles)
{
    static const char *words[] = {"the",  "court",   "found",  "that",   "recitation",
                                  "of",   "text",    "model",  "output", "library",
                                  "work", "license", "notice", "copy",   "verbatim",
                                  "span", "tokens",  "author", "title",  "year"};
    for (size_t i = 0; i < nfiles; i++) {
        size_t n = 20 + rng_below(r, 4000);
        char *buf = malloc(n * 12 + 1), name[32];
        size_t len = 0;
        for (size_t k = 0; k < n; k++)
            len += (size_t)sprintf(buf + len, "%s%s", words[rng_below(r, 20)],
                                   rng_below(r, 12) ? " " : ".\n");
        snprintf(name, sizeof name, "f%04zu.txt", i);
        char *p = path_join(f->lib, name);
        write_file(p, buf, len);
        free(p);
        free(buf);
    }
}

static void test_deterministic_builds(void **state)
{
    fixture *f = *state;
    rng r = rng_seeded(22);
    write_library(f, &r, (size_t)iterations(1100));
    const char *paths[] = {f->lib};
    notes nt = {0};
    recite_error err = {0};
    assert_int_equal(build(f, paths, 1, &nt, 1, 0, &err), RECITE_OK);
    size_t la, lb;
    char *a = file_bytes(f->idx, &la);
    /* Two threads and a 16 MiB budget that forces spilled runs (the sort gets about 11 MiB of
     * it, 350K postings; the library has 550K): same bytes. */
    recite_build_options opt = test_opts();
    opt.jobs = 2;
    opt.mem_budget = 16u << 20;
    opt.created_unix = 1;
    recite_build_stats bs;
    assert_int_equal(recite_index_build(&bs, f->idx, paths, 1, &opt, &err), RECITE_OK);
    char *b = file_bytes(f->idx, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    assert_int_equal(bs.index_bytes, lb);
    if (!getenv("RECITE_TEST_QUICK"))
        assert_true(bs.spill_runs > 1);
    free(a);
    free(b);
}

/* ==== stored tokens equal a one-pass tokenization, chunk by chunk ==== */

/* Writes a library of nfiles generated files, builds it with two jobs and opens the index. */
static recite_index *build_open(const fixture *f, rng *r, size_t nfiles)
{
    write_library(f, r, nfiles);
    const char *paths[] = {f->lib};
    notes nt = {0};
    recite_error err = {0};
    assert_int_equal(build(f, paths, 1, &nt, 2, 0, &err), RECITE_OK);
    recite_index *idx;
    assert_int_equal(recite_index_open(&idx, f->idx, &err), RECITE_OK);
    return idx;
}

static void test_stored_chunks(void **state)
{
    fixture *f = *state;
    rng r = rng_seeded(23);
    recite_index *idx = build_open(f, &r, 20);
    recite_error err = {0};
    rc_store_reader rd;
    assert_int_equal(rc_store_reader_init(&rd, idx), RECITE_OK);
    static rc_tokenizer tz;
    toklist *all = calloc(idx->nclusters, sizeof *all);
    for (uint32_t c = 0; c < idx->nclusters; c++) {
        rc_cluster cl;
        assert_int_equal(rc_index_cluster_check(idx, c, &cl, &err), RECITE_OK);
        char *text = malloc(cl.text_len + 1);
        assert_int_equal(
            rc_store_read(&rd, cl.text_offset, cl.text_offset + cl.text_len, (uint8_t *)text, &err),
            RECITE_OK);
        all[c] = tokenize_all(text, cl.text_len);
        assert_int_equal(all[c].n, cl.ntokens);
        for (uint64_t t = 0; t < cl.ntokens; t += 97)
            assert_int_equal(rc_index_cluster_of_token(idx, cl.token_base + t), c);
        free(text);
    }
    /* Chunks in random order across clusters, so the cache both hits and replaces. */
    for (int k = 0; k < 2000; k++) {
        uint32_t c = (uint32_t)rng_below(&r, idx->nclusters);
        rc_cluster cl;
        rc_index_cluster(idx, c, &cl);
        uint64_t nchunks = (cl.ntokens + RC_CHECKPOINT_EVERY - 1) / RC_CHECKPOINT_EVERY;
        if (!nchunks)
            continue;
        uint64_t i = rng_below(&r, nchunks);
        const rc_chunk *ch;
        assert_int_equal(rc_store_chunk(&ch, &rd, &tz, c, &cl, i, &err), RECITE_OK);
        uint64_t want = RC_MIN((uint64_t)RC_CHECKPOINT_EVERY, cl.ntokens - i * RC_CHECKPOINT_EVERY);
        assert_int_equal(ch->n, want);
        for (uint64_t t = 0; t < want; t++) {
            const rc_token *a = &ch->toks[t], *b = &all[c].v[i * RC_CHECKPOINT_EVERY + t];
            assert_int_equal(a->hash, b->hash);
            assert_int_equal(a->start, b->start);
            assert_int_equal(a->end, b->end);
        }
        /* Past the last chunk: an error, not a read out of bounds. */
        assert_int_equal(rc_store_chunk(&ch, &rd, &tz, c, &cl, nchunks, &err), RECITE_EFORMAT);
    }
    assert_true(rd.chunk_hits > 0 && rd.chunk_misses > 0);
    for (uint32_t c = 0; c < idx->nclusters; c++)
        free(all[c].v);
    free(all);
    rc_store_reader_free(&rd);
    recite_index_close(idx);
}

/* The caches of a reader narrowed to one set of each (RC_BLOCK_WAYS blocks, RC_CHUNK_WAYS
 * chunks): reads across the library replace slots all the time and still give the stored bytes
 * and tokens, and the slot replaced is the least recently used one. */
static void test_cache_replacement(void **state)
{
    fixture *f = *state;
    rng r = rng_seeded(29);
    recite_index *idx = build_open(f, &r, 20);
    recite_error err = {0};
    rc_store_reader rd, whole;
    assert_int_equal(rc_store_reader_init(&rd, idx), RECITE_OK);
    assert_int_equal(rc_store_reader_init(&whole, idx), RECITE_OK);
    rd.block_sets = rd.chunk_sets = 1;
    static rc_tokenizer tz;
    /* Chunks: the first RC_CHUNK_WAYS + 1 of the library, in the order A B C D A E A B (for 4
     * ways): A is used again before E comes, so E replaces B, the least recently used. */
    enum { W = RC_CHUNK_WAYS };
    uint32_t cc[W + 1];
    uint64_t ci[W + 1];
    size_t got = 0;
    for (uint32_t c = 0; c < idx->nclusters && got < W + 1; c++) {
        rc_cluster cl;
        rc_index_cluster(idx, c, &cl);
        for (uint64_t i = 0; i * RC_CHECKPOINT_EVERY < cl.ntokens && got < W + 1; i++, got++)
            cc[got] = c, ci[got] = i;
    }
    assert_int_equal(got, W + 1);
    size_t order[2 * W + 1], n = 0;
    for (size_t k = 0; k < W; k++)
        order[n++] = k;
    order[n++] = 0;
    order[n++] = W;
    order[n++] = 0;
    order[n++] = 1;
    uint64_t hits_want[2 * W + 1], h = 0;
    for (size_t k = 0; k < n; k++) {
        h += (k == W || k == W + 2); /* A again (twice); B after E: a miss */
        hits_want[k] = h;
    }
    for (size_t k = 0; k < n; k++) {
        size_t j = order[k];
        rc_cluster cl;
        rc_index_cluster(idx, cc[j], &cl);
        const rc_chunk *a, *b;
        assert_int_equal(rc_store_chunk(&a, &rd, &tz, cc[j], &cl, ci[j], &err), RECITE_OK);
        assert_int_equal(rd.chunk_hits, hits_want[k]);
        assert_int_equal(rc_store_chunk(&b, &whole, &tz, cc[j], &cl, ci[j], &err), RECITE_OK);
        assert_int_equal(a->n, b->n);
        for (uint32_t t = 0; t < a->n; t++) {
            assert_int_equal(a->toks[t].hash, b->toks[t].hash);
            assert_int_equal(a->toks[t].start, b->toks[t].start);
            assert_int_equal(a->toks[t].end, b->toks[t].end);
        }
    }
    /* Blocks (a reader of empty caches again): bytes of blocks 0 .. W read in the same order,
     * one byte each. */
    assert_int_equal(RC_BLOCK_WAYS, W);
    assert_true(idx->nblocks > W + 1);
    rc_store_reader_free(&rd);
    assert_int_equal(rc_store_reader_init(&rd, idx), RECITE_OK);
    rd.block_sets = rd.chunk_sets = 1;
    uint64_t hits0 = rd.hits;
    for (size_t k = 0; k < n; k++) {
        uint64_t at = order[k] * idx->block_size;
        uint8_t x, y;
        assert_int_equal(rc_store_read(&rd, at, at + 1, &x, &err), RECITE_OK);
        assert_int_equal(rd.hits - hits0, hits_want[k]);
        assert_int_equal(rc_store_read(&whole, at, at + 1, &y, &err), RECITE_OK);
        assert_int_equal(x, y);
    }
    /* Whole texts read through the narrowed reader: the bytes the full one gives. */
    for (uint32_t c = 0; c < idx->nclusters; c++) {
        rc_cluster cl;
        rc_index_cluster(idx, c, &cl);
        uint8_t *a = malloc(cl.text_len + 1), *b = malloc(cl.text_len + 1);
        assert_non_null(a);
        assert_non_null(b);
        assert_int_equal(rc_store_read(&rd, cl.text_offset, cl.text_offset + cl.text_len, a, &err),
                         RECITE_OK);
        assert_int_equal(
            rc_store_read(&whole, cl.text_offset, cl.text_offset + cl.text_len, b, &err),
            RECITE_OK);
        assert_memory_equal(a, b, cl.text_len);
        free(a);
        free(b);
    }
    assert_true(rd.misses > idx->nblocks); /* blocks were decompressed again after replacement */
    rc_store_reader_free(&rd);
    rc_store_reader_free(&whole);
    recite_index_close(idx);
}

/* ==== damaged indexes ==== */

static void rewrite(const char *path, const char *data, size_t len)
{
    write_file(path, data, len);
}

/* Reads every work, its text, and checks a piece of each against the index, rendering the
 * report: with ref NULL, returns the reports (one per work, NULL where one failed); otherwise
 * each use must fail with RECITE_EFORMAT or give the report in ref (a damaged byte is found
 * before anything rests on it). */
static char **use_index(const recite_index *idx, char **ref)
{
    recite_error err;
    recite_checker *chk;
    uint32_t nw = recite_index_work_count(idx);
    char **out = calloc(nw + 1, sizeof *out);
    assert_int_equal(recite_checker_create(&chk, idx, NULL, &err), RECITE_OK);
    for (uint32_t w = 0; w < nw; w++) {
        recite_work_info info;
        int rc = recite_index_work(&info, idx, w);
        char *text = NULL;
        size_t len;
        if (rc == RECITE_OK) {
            uint32_t n;
            if (!recite_index_cluster_members(idx, info.cluster, &n))
                rc = RECITE_EFORMAT;
        }
        if (rc == RECITE_OK)
            rc = recite_index_work_text(&text, &len, idx, w, 0, RC_MIN(info.bytes, (uint64_t)1500),
                                        &err);
        const recite_result *res;
        if (rc == RECITE_OK)
            rc = recite_check_text(&res, chk, text, len, &err);
        if (rc == RECITE_OK)
            rc = recite_report_json(&out[w], idx, NULL, info.id, text, len, res, &err);
        free(text);
        assert_true(rc == RECITE_OK || rc == RECITE_EFORMAT);
        if (ref && rc == RECITE_OK) {
            assert_non_null(ref[w]);
            assert_string_equal(out[w], ref[w]);
        }
    }
    recite_checker_free(chk);
    return out;
}

static void free_reports(char **r, uint32_t n)
{
    for (uint32_t w = 0; w < n && r; w++)
        free(r[w]);
    free(r);
}

static void test_corrupt_truncated_version(void **state)
{
    fixture *f = *state;
    rng r = rng_seeded(24);
    write_library(f, &r, 10);
    const char *paths[] = {f->lib};
    notes nt = {0};
    recite_error err = {0};
    assert_int_equal(build(f, paths, 1, &nt, 1, 0, &err), RECITE_OK);
    size_t len;
    char *orig = file_bytes(f->idx, &len);
    char *path = path_join(f->idx, RC_INDEX_FILE);
    char *copy = malloc(len);
    recite_index *idx;

    /* Every byte flipped in turn (sampled). The header, the section table and the page
     * checksums are checked at open; a flip anywhere else is found by recite_index_verify, and
     * by any read of its page before then: every use of the index fails with "corrupt index" or
     * gives the intact index's results, never a crash, a read out of bounds (the sanitizer runs
     * check) or a result resting on the damaged byte; with the lookup filters made or not. */
    assert_int_equal(recite_index_open(&idx, f->idx, &err), RECITE_OK);
    uint32_t nw = recite_index_work_count(idx);
    char **ref = use_index(idx, NULL);
    for (uint32_t w = 0; w < nw; w++)
        assert_non_null(ref[w]);
    recite_index_close(idx);
    for (int it = 0; it < iterations(400); it++) {
        memcpy(copy, orig, len);
        size_t at = rng_below(&r, len);
        copy[at] ^= (char)(1 + rng_below(&r, 255));
        rewrite(path, copy, len);
        int rc = recite_index_open(&idx, f->idx, &err);
        if (rc != RECITE_OK) {
            assert_true(rc == RECITE_EFORMAT || rc == RECITE_EVERSION);
            assert_null(idx);
            continue;
        }
        assert_true(at >= RC_DATA_OFFSET && at < idx->pages_end);
        if (it % 2) /* half of them through the lookup filters, made from the damaged file */
            recite_index_prepare(idx);
        free_reports(use_index(idx, ref), nw);
        assert_int_equal(recite_index_verify(idx, &err), RECITE_EFORMAT);
        assert_non_null(strstr(err.message, "corrupt index"));
        recite_index_close(idx);
    }
    free_reports(ref, nw);
    /* Truncated anywhere. */
    for (int it = 0; it < iterations(100); it++) {
        size_t cut = rng_below(&r, len);
        rewrite(path, orig, cut);
        assert_int_equal(recite_index_open(&idx, f->idx, &err), RECITE_EFORMAT);
    }
    rewrite(path, orig, 0);
    assert_int_equal(recite_index_open(&idx, f->idx, &err), RECITE_EFORMAT);
    /* Another format version. */
    memcpy(copy, orig, len);
    rc_put_u32((uint8_t *)copy + RC_H_VERSION, RC_FORMAT_VERSION + 1);
    rewrite(path, copy, len);
    assert_int_equal(recite_index_open(&idx, f->idx, &err), RECITE_EVERSION);
    assert_non_null(strstr(err.message, "format version"));
    /* Not an index at all. */
    rewrite(path, "hello", 5);
    assert_int_equal(recite_index_open(&idx, f->idx, &err), RECITE_EFORMAT);
    unlink(path);
    assert_int_equal(recite_index_open(&idx, f->idx, &err), RECITE_EFORMAT);
    assert_int_not_equal(recite_index_open(&idx, "/nonexistent/idx", &err), RECITE_OK);
    /* Intact again: opens. */
    rewrite(path, orig, len);
    assert_int_equal(recite_index_open(&idx, f->idx, &err), RECITE_OK);
    recite_index_close(idx);
    free(copy);
    free(orig);
    free(path);
}

/* A check that copies the first 1500 bytes of work w: its number of matches (-1: an error, with
 * its code in *rc). */
static int check_copy(const recite_index *idx, uint32_t w, int *rc)
{
    recite_error err;
    recite_checker *chk;
    recite_work_info info;
    char *text = NULL;
    size_t len;
    const recite_result *res;
    int n = -1;
    assert_int_equal(recite_checker_create(&chk, idx, NULL, &err), RECITE_OK);
    assert_int_equal(recite_index_work(&info, idx, w), RECITE_OK);
    *rc = recite_index_work_text(&text, &len, idx, w, 0, RC_MIN(info.bytes, (uint64_t)1500), &err);
    if (*rc == RECITE_OK)
        *rc = recite_check_text(&res, chk, text, len, &err);
    if (*rc == RECITE_OK)
        n = (int)res->nmatches;
    else
        assert_non_null(strstr(err.message, "corrupt index"));
    free(text);
    recite_checker_free(chk);
    return n;
}

typedef struct copier {
    const recite_index *idx;
    uint32_t work;
    pthread_barrier_t *bar;
    int matches, rc;
} copier;

static void *copy_thread(void *arg)
{
    copier *cp = arg;
    pthread_barrier_wait(cp->bar);
    cp->matches = check_copy(cp->idx, cp->work, &cp->rc);
    return NULL;
}

/* The text dictionary's decompression tables are made on first use, not at open: opening reads
 * none of the dictionary; the first reads of stored text, by two threads at once, make them
 * once and find the copies; a damaged dictionary opens, checks text that reads no stored text,
 * and fails the first read that needs it, and verify, with "corrupt index". */
static void test_dictionary_on_first_use(void **state)
{
    fixture *f = *state;
    rng r = rng_seeded(31);
    /* ~1.9 MB: a dictionary is trained (libraries over 1 MB). */
    recite_index *idx = build_open(f, &r, 160);
    recite_error err = {0};
    const rc_section *dict = &idx->sec[RC_SEC_TEXT_DICT];
    assert_true(dict->len > 0);
    assert_null(atomic_load(&idx->ddict));
    size_t dict_at = (size_t)(dict->data - idx->map), dict_len = (size_t)dict->len;
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, 2);
    copier cps[2] = {{idx, 3, &bar, 0, 0}, {idx, 77, &bar, 0, 0}};
    pthread_t th[2];
    for (int t = 0; t < 2; t++)
        assert_int_equal(pthread_create(&th[t], NULL, copy_thread, &cps[t]), 0);
    for (int t = 0; t < 2; t++) {
        pthread_join(th[t], NULL);
        assert_int_equal(cps[t].rc, RECITE_OK);
        assert_true(cps[t].matches > 0);
    }
    pthread_barrier_destroy(&bar);
    assert_non_null(atomic_load(&idx->ddict));
    recite_index_close(idx);

    /* One byte of the dictionary damaged. */
    size_t len;
    char *orig = file_bytes(f->idx, &len), *path = path_join(f->idx, RC_INDEX_FILE);
    orig[dict_at + dict_len / 2] ^= 0x5a;
    rewrite(path, orig, len);
    assert_int_equal(recite_index_open(&idx, f->idx, &err), RECITE_OK);
    recite_checker *chk;
    const recite_result *res;
    const char *fresh = "nothing here is in the library: zebra quartz umbrella xylophone";
    assert_int_equal(recite_checker_create(&chk, idx, NULL, &err), RECITE_OK);
    assert_int_equal(recite_check_text(&res, chk, fresh, strlen(fresh), &err), RECITE_OK);
    assert_int_equal(res->nmatches, 0);
    recite_checker_free(chk);
    int rc;
    assert_int_equal(check_copy(idx, 3, &rc), -1);
    assert_int_equal(rc, RECITE_EFORMAT);
    assert_null(atomic_load(&idx->ddict));
    assert_int_equal(recite_index_verify(idx, &err), RECITE_EFORMAT);
    assert_non_null(strstr(err.message, "corrupt index"));
    recite_index_close(idx);
    free(orig);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_build_and_read_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_inputs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spool_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sorter_spills_and_merges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deterministic_builds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stored_chunks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_replacement, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_truncated_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dictionary_on_first_use, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
