/*
 * fuzz_index.c — the index loader (src/index/index_load.c) on damaged index files: bit flips,
 * truncation, inflated lengths and counts, out-of-range offsets. A damaged file must be refused
 * at open (RECITE_EFORMAT, or RECITE_EVERSION for unknown versions and flags) with a one-line
 * message, or — when the damage passes validation — everything read from it must stay inside
 * it: stats, every work and cluster, stored text, a check (RECITE_OK or RECITE_EFORMAT, with
 * offsets inside the query and the work) and its JSON report. The map of the file is a malloc'd
 * copy of its exact size (fuzz_util.c), so AddressSanitizer sees any read past it.
 *
 * Section and header checksums (XXH3) are verified at open, so random damage mostly dies
 * there; byte 0 of the input lets the harness repair them after the damage so that the
 * structural validation is what is tested: bit 0 recompute the section checksums and the header
 * checksum, bit 1 also set the header's file size to the real one, bit 2 open with the key of
 * the text-free seeds, bits 3-7 pick the query. The rest of the input is recite.idx. Under
 * libFuzzer a custom mutator damages the structure on purpose: header counts, section table
 * entries, record fields inside sections, truncation.
 */
#include "fuzz.h"
#include "index/rc_index.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <xxhash.h>

static char *ix_dir, *ix_path;
#define NQUERIES 8
static char *queries[NQUERIES];
static size_t query_lens[NQUERIES];

/* ==== the seed library (the harness and its seeds make the same texts) ==== */

static const char c_file[] =
    "/* A small C file written for the fuzz seeds. */\n#include <stdio.h>\n\n"
    "static int sum_of_squares(const int *values, size_t count)\n{\n    int total = 0;\n"
    "    for (size_t i = 0; i < count; i++)\n        total += values[i] * values[i];\n"
    "    return total;\n}\n\nint main(void)\n{\n    int v[] = {1, 2, 3, 4, 5, 6, 7, 8};\n"
    "    printf(\"%d\\n\", sum_of_squares(v, sizeof v / sizeof *v));\n    return 0;\n}\n";

static char *lib_text(int which, size_t *len)
{
    switch (which) {
    case 0: return fz_text("/usr/share/common-licenses/GPL-3", 3000, 2000, len);
    case 1: return fz_text("/usr/share/common-licenses/BSD", 0, 1500, len);
    case 2: return fz_text("/usr/share/common-licenses/Apache-2.0", 5000, 2000, len);
    case 3: return fz_text("/usr/include/stdio.h", 0, 3000, len);
    default: {
        char *s = strdup(c_file);
        FZ_CHECK(s, "oom");
        *len = strlen(s);
        return s;
    }
    }
}

static void make_queries(void)
{
    size_t n[5];
    char *t[5];
    for (int i = 0; i < 5; i++)
        t[i] = lib_text(i, &n[i]);
    for (int q = 0; q < NQUERIES; q++) {
        char *s = NULL;
        switch (q) {
        case 0: FZ_CHECK(asprintf(&s, "Quoted: %.600s", t[0] + 500) > 0, "oom"); break;
        case 1: FZ_CHECK(asprintf(&s, "%s", t[1]) > 0, "oom"); break;
        case 2: FZ_CHECK(asprintf(&s, "%.900s and more", t[2] + 300) > 0, "oom"); break;
        case 3: FZ_CHECK(asprintf(&s, "```c\n%.1200s\n```", t[3] + 800) > 0, "oom"); break;
        case 4: FZ_CHECK(asprintf(&s, "%s", t[4]) > 0, "oom"); break;
        case 5:
            FZ_CHECK(asprintf(&s, "%.400s\n%.400s\n%.400s", t[0] + 100, t[1], t[3] + 200) > 0,
                     "oom");
            break;
        case 6: /* normalized: upper case, lines joined */
            FZ_CHECK(asprintf(&s, "%.700s", t[2] + 100) > 0, "oom");
            for (char *p = s; *p; p++)
                *p = *p == '\n' ? ' ' : (char)toupper((unsigned char)*p);
            break;
        default: /* near: every ninth word dropped */
            FZ_CHECK(asprintf(&s, "%.800s", t[0] + 1000) > 0, "oom");
            for (size_t i = 0, w = 0, o = 0;; i++) {
                if (s[i] == ' ' && ++w % 9 == 0)
                    while (s[i + 1] && s[i + 1] != ' ')
                        i++;
                else
                    s[o++] = s[i];
                if (!s[i]) {
                    s[o] = 0;
                    break;
                }
            }
            break;
        }
        queries[q] = s;
        query_lens[q] = strlen(s);
    }
    for (int i = 0; i < 5; i++)
        free(t[i]);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char *dir = fz_tmpdir("index");
    FZ_CHECK(asprintf(&ix_dir, "%s/idx", dir) > 0 &&
                 asprintf(&ix_path, "%s/idx/%s", dir, RC_INDEX_FILE) > 0,
             "oom");
    FZ_CHECK(mkdir(ix_dir, 0755) == 0, "cannot create %s", ix_dir);
    make_queries();
    return 0;
}

/* ==== repairing checksums ==== */

static uint8_t *section_entry(uint8_t *ix, size_t n, unsigned id);

/* Recomputes what a reader checks: the section checksums, the page checksums (PAGE_SUMS: one
 * per 4 KiB page from the end of the section table to that section) and the header's. */
static void fixup(uint8_t *ix, size_t n, bool fix_size)
{
    if (n < RC_DATA_OFFSET)
        return;
    uint8_t *ps = section_entry(ix, n, RC_SEC_PAGE_SUMS);
    uint32_t nsec = rc_get_u32(ix + RC_H_NSECTIONS);
    for (uint32_t i = 0; i < nsec && i < RC_MAX_SECTIONS; i++) {
        uint8_t *e = ix + RC_SECTIONS_OFFSET + i * RC_SECTION_ENTRY_SIZE;
        uint64_t off = rc_get_u64(e + 8), len = rc_get_u64(e + 16);
        if (e != ps && off <= n && len <= n - off)
            rc_put_u64(e + 24, XXH3_64bits(ix + off, len));
    }
    uint64_t off = ps ? rc_get_u64(ps + 8) : 0, len = ps ? rc_get_u64(ps + 16) : 0;
    if (ps && off >= RC_DATA_OFFSET && off <= n && len <= n - off) {
        for (uint64_t p = 0; 8 * p + 8 <= len; p++) {
            uint64_t a = RC_DATA_OFFSET + p * RC_PAGE_SIZE;
            if (a >= off)
                break;
            uint64_t b = RC_MIN(a + RC_PAGE_SIZE, off);
            rc_put_u64(ix + off + 8 * p, XXH3_64bits(ix + a, b - a));
        }
        rc_put_u64(ps + 24, XXH3_64bits(ix + off, len));
    }
    if (fix_size)
        rc_put_u64(ix + RC_H_FILE_SIZE, n);
    rc_put_u64(ix + RC_H_CHECKSUM, 0);
    rc_put_u64(ix + RC_H_CHECKSUM, XXH3_64bits(ix, RC_DATA_OFFSET));
}

/* ==== one input ==== */

static void check_opened(recite_index *idx, const char *query, size_t qlen)
{
    recite_index_stats st;
    recite_index_get_stats(&st, idx);
    uint32_t nworks = recite_index_work_count(idx);
    /* Opening bounds what a reader allocates per block (a u32 in the header). */
    FZ_CHECK(st.text_block_size <= 65536, "an index with %llu-byte text blocks opens",
             (unsigned long long)st.text_block_size);
    FZ_CHECK(nworks == st.works && st.clusters <= st.works,
             "%u works, stats say %llu (%llu "
             "clusters)",
             nworks, (unsigned long long)st.works, (unsigned long long)st.clusters);
    size_t text_budget = 1 << 16;
    recite_error err = {0};
    /* Everything at once: when it passes, no read below may find damage. */
    int vrc = recite_index_verify(idx, &err);
    if (vrc != RECITE_OK) {
        fz_check_error(vrc, &err, "verify");
        FZ_CHECK(vrc == RECITE_EFORMAT, "verify: %s", err.message);
    }
    bool verified = vrc == RECITE_OK;
    for (uint32_t w = 0; w < nworks && w < 512; w++) {
        recite_work_info info;
        int wrc = recite_index_work(&info, idx, w);
        FZ_CHECK(wrc == RECITE_OK || (wrc == RECITE_EFORMAT && !verified),
                 "work %u: status %d (verified: %d)", w, wrc, verified);
        if (wrc != RECITE_OK)
            continue; /* damage found where it is read */
        FZ_CHECK(info.id && info.id[0] && info.cluster < st.clusters &&
                     info.representative < nworks &&
                     (info.mode == RECITE_MODE_PROSE || info.mode == RECITE_MODE_CODE),
                 "work %u: cluster %u, representative %u, mode %d", w, info.cluster,
                 info.representative, info.mode);
        const char *strs[] = {info.id,        info.title,       info.author, info.license,
                              info.copyright, info.source,      info.url,    info.metadata_json,
                              info.cmi_json,  info.content_hash};
        size_t total = 0;
        for (size_t i = 0; i < sizeof strs / sizeof *strs; i++)
            total += strs[i] ? strlen(strs[i]) : 0; /* inside the map, or ASan says so */
        (void)total;
        uint32_t count;
        const uint32_t *members = recite_index_cluster_members(idx, info.cluster, &count);
        FZ_CHECK(members || !verified, "work %u: cluster %u of a verified index unreadable", w,
                 info.cluster);
        if (!members)
            continue;
        FZ_CHECK(count > 0, "work %u: cluster %u has no members", w, info.cluster);
        FZ_CHECK(((uintptr_t)members & 3) == 0, "cluster %u: members at a misaligned address",
                 info.cluster); /* read as u32 by callers (the reports) */
        for (uint32_t m = 0; m < count; m++)
            FZ_CHECK(members[m] < nworks, "member %u of cluster %u is work %u", m, info.cluster,
                     members[m]);
        if (!st.text_free && info.bytes <= text_budget) {
            char *text = NULL;
            size_t len = 0;
            int rc = recite_index_work_text(&text, &len, idx, w, 0, info.bytes, &err);
            if (rc == RECITE_OK)
                FZ_CHECK(len == info.bytes && text[len] == 0, "work %u: %zu bytes of %llu", w, len,
                         (unsigned long long)info.bytes);
            else
                FZ_CHECK(rc == RECITE_EFORMAT, "work %u text: %s", w, err.message);
            free(text);
            text_budget -= info.bytes;
        }
    }

    recite_checker *c = NULL;
    int rc = recite_checker_create(&c, idx, NULL, &err);
    if (rc == RECITE_EKEY) {
        FZ_CHECK(st.text_free, "EKEY from an ordinary index");
        return;
    }
    FZ_CHECK(rc == RECITE_OK, "checker: %s", err.message);
    const recite_result *res = NULL;
    rc = recite_check_text(&res, c, query, qlen, &err);
    if (rc != RECITE_OK) {
        fz_check_error(rc, &err, "check");
        FZ_CHECK(rc == RECITE_EFORMAT, "check: %s", err.message);
    } else {
        if (getenv("FUZZ_VERBOSE"))
            fprintf(stderr, "check: %zu matches\n", res->nmatches);
        for (size_t i = 0; i < res->nmatches; i++) {
            const recite_match *m = &res->matches[i];
            recite_work_info info;
            FZ_CHECK(m->work < nworks, "match of work %u of %u", m->work, nworks);
            if (recite_index_work(&info, idx, m->work) != RECITE_OK) {
                FZ_CHECK(!verified, "matched work %u of a verified index unreadable", m->work);
                continue;
            }
            FZ_CHECK(m->out_start < m->out_end && m->out_end <= qlen &&
                         m->src_start <= m->src_end && m->src_end <= info.bytes,
                     "match %zu: out %llu-%llu of %zu, source %llu-%llu of %llu", i,
                     (unsigned long long)m->out_start, (unsigned long long)m->out_end, qlen,
                     (unsigned long long)m->src_start, (unsigned long long)m->src_end,
                     (unsigned long long)info.bytes);
        }
        char *json = NULL;
        rc = recite_report_json(&json, idx, NULL, "q", query, qlen, res, &err);
        FZ_CHECK(rc == RECITE_OK || (rc == RECITE_EFORMAT && !verified), "report: %s", err.message);
        free(json);
    }
    recite_checker_free(c);
}

/* Compacts the index at ix_dir without its first work: a clean error, or an index with one
 * work fewer. */
static void compact(const recite_index *idx)
{
    recite_work_info first;
    recite_index_stats st;
    recite_index_get_stats(&st, idx);
    if (recite_index_work(&first, idx, 0) != RECITE_OK || st.works < 2)
        return;
    char *id = strdup(first.id);
    FZ_CHECK(id, "oom");
    const char *drop[] = {id};
    recite_build_options opt = RECITE_BUILD_OPTIONS_INIT;
    opt.jobs = 1;
    opt.created_unix = 1700000000;
    opt.skip_cmi = 1;
    recite_build_stats bs;
    recite_error err = {0};
    int rc = recite_index_compact(&bs, ix_dir, drop, 1, &opt, &err);
    if (rc != RECITE_OK) {
        fz_check_error(rc, &err, "compact");
        FZ_CHECK(rc == RECITE_EFORMAT || rc == RECITE_ENOTEXT || rc == RECITE_EEMPTY ||
                     rc == RECITE_ELIMIT,
                 "compact: status %d: %s", rc, err.message);
    } else if (bs.works_dropped) {
        recite_index *after = NULL;
        FZ_CHECK(recite_index_open(&after, ix_dir, &err) == RECITE_OK,
                 "the compacted index does not open: %s", err.message);
        FZ_CHECK(recite_index_work_count(after) + bs.works_dropped == st.works,
                 "%u works after dropping %llu of %llu", recite_index_work_count(after),
                 (unsigned long long)bs.works_dropped, (unsigned long long)st.works);
        recite_index_close(after);
    }
    free(id);
}

static uint8_t *recipe(const uint8_t *data, size_t size, size_t *n, uint8_t *ctl, bool *compact,
                       bool *skip);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint8_t ctl = data[0];
    size_t n = size - 1;
    bool force_compact = false, skip;
    uint8_t *ix = recipe(data, size, &n, &ctl, &force_compact, &skip);
    if (skip)
        return 0;
    if (!ix) {
        ix = malloc(n);
        FZ_CHECK(ix, "oom");
        memcpy(ix, data + 1, n);
    }
    if (ctl & 1)
        fixup(ix, n, ctl & 2);
    FZ_CHECK(fz_write(ix_path, ix, n) == 0, "cannot write %s", ix_path);
    free(ix);

    recite_index *idx = NULL;
    recite_error err = {0};
    bool keyed = ctl & 4;
    int rc = keyed ? recite_index_open_keyed(&idx, ix_dir, fz_key, sizeof fz_key, &err)
                   : recite_index_open(&idx, ix_dir, &err);
    if (getenv("FUZZ_VERBOSE"))
        fprintf(stderr, "open: %s\n", rc == RECITE_OK ? "ok" : err.message);
    if (rc != RECITE_OK) {
        FZ_CHECK(!idx, "an index returned with an error");
        fz_check_error(rc, &err, "open");
        FZ_CHECK(rc == RECITE_EFORMAT || rc == RECITE_EVERSION || (keyed && rc == RECITE_EKEY),
                 "open: status %d: %s", rc, err.message);
        return 0;
    }
    int q = (ctl >> 3) % NQUERIES;
    check_opened(idx, queries[q], query_lens[q]);
    /* One input in eight: a compaction of it (it reads back every text and builds anew). */
    if (force_compact || fz_hash(data, size) % 8 == 0)
        compact(idx);
    recite_index_close(idx);
    return 0;
}

/* ==== seeds ==== */

typedef struct seed_lib {
    const char *name;
    int texts[5], ntexts; /* lib_text numbers; -1 = the BSD text again (a duplicate) */
    recite_mode mode;
    int skip_cmi, text_free, jsonl;
} seed_lib;

static const seed_lib seed_libs[] = {
    {"prose", {0, 1, 2, -1}, 4, RECITE_MODE_PROSE, 1, 0, 0},
    {"cmi", {0, 1, 2}, 3, RECITE_MODE_PROSE, 0, 0, 0},
    {"code", {3, 4}, 2, RECITE_MODE_CODE, 1, 0, 0},
    {"auto", {0, 1, 3, 4}, 4, RECITE_MODE_AUTO, 1, 0, 0},
    {"jsonl", {0, 2, 4}, 3, RECITE_MODE_AUTO, 1, 0, 1},
    {"text-free", {0, 1, 2, -1}, 4, RECITE_MODE_PROSE, 1, 1, 0},
    {"text-free-code", {3, 4, 1}, 3, RECITE_MODE_AUTO, 1, 1, 0},
};

static char *write_lib(const char *dir, const seed_lib *sl, char **paths)
{
    char *jsonl_text = NULL;
    size_t jn = 0;
    for (int i = 0; i < sl->ntexts; i++) {
        size_t n;
        int which = sl->texts[i] < 0 ? 1 : sl->texts[i];
        char *t = lib_text(which, &n);
        const char *ext = which == 3 ? "h" : which == 4 ? "c" : "txt";
        FZ_CHECK(asprintf(&paths[i], "%s/%s-%d.%s", dir, sl->name, i, ext) > 0, "oom");
        if (sl->jsonl) { /* one line per text, with metadata */
            char *esc = malloc(2 * n + 1), *o = esc;
            FZ_CHECK(esc, "oom");
            for (size_t k = 0; k < n; k++) {
                unsigned char ch = (unsigned char)t[k];
                if (ch == '"' || ch == '\\')
                    *o++ = '\\', *o++ = (char)ch;
                else if (ch == '\n')
                    *o++ = '\\', *o++ = 'n';
                else if (ch >= 0x20)
                    *o++ = (char)ch;
            }
            *o = 0;
            char *line;
            FZ_CHECK(asprintf(&line,
                              "%s{\"id\":\"w%d.%s\",\"text\":\"%s\",\"title\":\"Title %d\","
                              "\"author\":\"A. Author\",\"license\":\"MIT\",\"source\":"
                              "\"purchased\",\"url\":\"https://example.org/%d\",\"extra\":[%d]}\n",
                              jsonl_text ? jsonl_text : "", i, ext, esc, i, i, i) > 0,
                     "oom");
            free(jsonl_text);
            jsonl_text = line;
            jn = strlen(line);
            free(esc);
        } else {
            FZ_CHECK(fz_write(paths[i], t, n) == 0, "cannot write %s", paths[i]);
        }
        free(t);
    }
    if (!sl->jsonl)
        return NULL;
    char *p;
    FZ_CHECK(asprintf(&p, "%s/%s.jsonl", dir, sl->name) > 0, "oom");
    FZ_CHECK(fz_write(p, jsonl_text, jn) == 0, "cannot write %s", p);
    free(jsonl_text);
    return p;
}

/* Builds the index of seed library sl in dir; returns its recite.idx bytes. */
static uint8_t *build_seed(const char *dir, const seed_lib *sl, size_t *len)
{
    char *paths[5] = {0}, *ix, *file;
    char *jsonl = write_lib(dir, sl, paths);
    FZ_CHECK(asprintf(&ix, "%s/%s.idx", dir, sl->name) > 0 &&
                 asprintf(&file, "%s/%s", ix, RC_INDEX_FILE) > 0,
             "oom");
    if (jsonl)
        fz_build(ix, (const char *const *)&jsonl, 1, sl->mode, sl->skip_cmi, NULL, 0);
    else
        fz_build(ix, (const char *const *)paths, (size_t)sl->ntexts, sl->mode, sl->skip_cmi,
                 sl->text_free ? fz_key : NULL, sl->text_free ? sizeof fz_key : 0);
    uint8_t *bytes = fz_read(file, len);
    FZ_CHECK(bytes, "cannot read %s", file);
    for (int i = 0; i < 5; i++)
        free(paths[i]);
    free(jsonl);
    free(ix);
    free(file);
    return bytes;
}

int fuzz_seeds(const char *out)
{
    char *dir = fz_tmpdir("index-seeds");
    int rc = 0;
    for (size_t s = 0; s < sizeof seed_libs / sizeof *seed_libs; s++) {
        const seed_lib *sl = &seed_libs[s];
        size_t n;
        uint8_t *bytes = build_seed(dir, sl, &n);
        uint8_t *seed = malloc(n + 1);
        FZ_CHECK(seed, "oom");
        memcpy(seed + 1, bytes, n);
        /* As built (checksums intact), and with a query per seed. */
        for (int q = 0; q < 2; q++) {
            seed[0] = (uint8_t)(((s + (size_t)q * 3) % NQUERIES) << 3 | (sl->text_free ? 4 : 0) |
                                (q ? 1 : 0));
            char name[64];
            snprintf(name, sizeof name, "seed-%s-%d", sl->name, q);
            rc |= fz_seed(out, name, seed, n + 1);
        }
        free(seed);
        free(bytes);
    }
    return rc;
}

/* ==== recipes: regression inputs that outlive format changes ====
 * A regression input made of bytes of one format version only tests the version check once the
 * format changes. A recipe names a seed library (seed_libs) and the damage, by field and
 * section names; the harness builds the seed's index with this recite and damages it:
 *   recite-fuzz-recipe 1 SEED CTL [compact]     CTL: byte 0 as for binary inputs, in hex
 *   header-u32 FIELD VALUE | header-u64 FIELD VALUE
 *   section-u32 SECTION OFFSET VALUE | section-u64 SECTION OFFSET VALUE
 *   work-id W same-as W2 | work-id W empty     (the id offset of work W)
 *   move-section SECTION MOD4                  (to the end of the file, at an offset = MOD4 mod 4)
 * `compact` compacts the result whatever its hash. */
#define RECIPE_MAGIC "recite-fuzz-recipe 1 "

static const struct {
    const char *name;
    unsigned off, size;
} header_fields[] = {
    {"version", RC_H_VERSION, 4},
    {"tokenizer", RC_H_TOKENIZER, 4},
    {"flags", RC_H_FLAGS, 8},
    {"file_size", RC_H_FILE_SIZE, 8},
    {"mode", RC_H_MODE, 4},
    {"nsections", RC_H_NSECTIONS, 4},
    {"nworks", RC_H_NWORKS, 8},
    {"nclusters", RC_H_NCLUSTERS, 8},
    {"ntokens", RC_H_NTOKENS, 8},
    {"text_bytes", RC_H_TEXT_BYTES, 8},
    {"block_size", RC_H_BLOCK_SIZE, 4},
    {"work_bytes", RC_H_WORK_BYTES, 8},
};

static const struct {
    const char *name;
    unsigned id;
} section_names[] = {
    {"text_data", RC_SEC_TEXT_DATA},
    {"text_blocks", RC_SEC_TEXT_BLOCKS},
    {"clusters", RC_SEC_CLUSTERS},
    {"works", RC_SEC_WORKS},
    {"members", RC_SEC_MEMBERS},
    {"strings", RC_SEC_STRINGS},
    {"checkpoints", RC_SEC_CHECKPOINTS},
    {"text_dict", RC_SEC_TEXT_DICT},
    {"channels", RC_SEC_CHANNELS},
    {"page_sums", RC_SEC_PAGE_SUMS},
    {"post_dir", RC_SEC_POST_DIR(RC_CH_PROSE)},
    {"post_key", RC_SEC_POST_KEY(RC_CH_PROSE)},
    {"post_pos", RC_SEC_POST_POS(RC_CH_PROSE)},
};

/* The table entry of section `id` in ix[0, n), or NULL. */
static uint8_t *section_entry(uint8_t *ix, size_t n, unsigned id)
{
    if (n < RC_DATA_OFFSET)
        return NULL;
    for (unsigned i = 0; i < RC_MAX_SECTIONS; i++) {
        uint8_t *e = ix + RC_SECTIONS_OFFSET + i * RC_SECTION_ENTRY_SIZE;
        if (rc_get_u32(e) == id)
            return e;
    }
    return NULL;
}

/* A condition a recipe must meet. Written by hand, a recipe that does not is a mistake to
 * stop at; under libFuzzer, recipes are mutated like any input, and a broken one is skipped. */
static bool recipe_ok(bool cond, const char *what, const char *arg)
{
#ifdef RECITE_LIBFUZZER
    (void)what;
    (void)arg;
    return cond;
#else
    FZ_CHECK(cond, "recipe: %s %s", what, arg ? arg : "");
    return true;
#endif
}

static unsigned section_id(const char *name)
{
    for (size_t i = 0; i < sizeof section_names / sizeof *section_names; i++)
        if (strcmp(name, section_names[i].name) == 0)
            return section_names[i].id;
    return 0;
}

/* The index file of seed library `name`, built once; NULL for an unknown name. */
static uint8_t *seed_index(const char *name, size_t *len)
{
    static uint8_t *built[sizeof seed_libs / sizeof *seed_libs];
    static size_t lens[sizeof seed_libs / sizeof *seed_libs];
    static char *dir;
    for (size_t s = 0; s < sizeof seed_libs / sizeof *seed_libs; s++) {
        if (strcmp(seed_libs[s].name, name) != 0)
            continue;
        if (!built[s]) {
            if (!dir)
                dir = fz_tmpdir("index-recipes");
            built[s] = build_seed(dir, &seed_libs[s], &lens[s]);
        }
        *len = lens[s];
        return built[s];
    }
    return NULL;
}

/* The index a recipe makes (malloc'd, *n bytes), or NULL when data is not a recipe; *skip when
 * it is one that cannot be followed. */
static uint8_t *recipe(const uint8_t *data, size_t size, size_t *n, uint8_t *ctl, bool *compact,
                       bool *skip)
{
    size_t ml = strlen(RECIPE_MAGIC);
    *skip = false;
    if (size <= ml || memcmp(data, RECIPE_MAGIC, ml) != 0)
        return NULL;
    char *text = malloc(size + 1), *save = NULL;
    FZ_CHECK(text, "oom");
    memcpy(text, data, size);
    text[size] = 0;
    char seed[64], flag[16] = "";
    unsigned c = 0;
    uint8_t *ix = NULL;
    size_t len = 0;
    const uint8_t *base = NULL;
    if (!recipe_ok(sscanf(text + ml, "%63s %x %15s", seed, &c, flag) >= 2, "bad first line",
                   NULL) ||
        !recipe_ok((base = seed_index(seed, &len)) != NULL, "unknown seed", seed))
        goto bad;
    *ctl = (uint8_t)c;
    *compact = strcmp(flag, "compact") == 0;
    ix = malloc(len);
    FZ_CHECK(ix, "oom");
    memcpy(ix, base, len);
    strtok_r(text, "\n", &save); /* the first line */
    for (char *line; (line = strtok_r(NULL, "\n", &save)) != NULL;) {
        char op[32], a[32], b[32], d[32] = "";
        int k = sscanf(line, "%31s %31s %31s %31s", op, a, b, d);
        if (k < 1 || op[0] == '#')
            continue;
        if (!recipe_ok(k >= 3, "too few words:", line))
            goto bad;
        if (strncmp(op, "header-", 7) == 0) {
            size_t f = 0;
            while (f < sizeof header_fields / sizeof *header_fields &&
                   strcmp(header_fields[f].name, a) != 0)
                f++;
            if (!recipe_ok(f < sizeof header_fields / sizeof *header_fields, "field", a))
                goto bad;
            uint64_t v = strtoull(b, NULL, 0);
            if (header_fields[f].size == 4)
                rc_put_u32(ix + header_fields[f].off, (uint32_t)v);
            else
                rc_put_u64(ix + header_fields[f].off, v);
        } else if (strncmp(op, "section-", 8) == 0) {
            unsigned id = section_id(a);
            uint8_t *e = id ? section_entry(ix, len, id) : NULL;
            if (!recipe_ok(e && k == 4, "no section, or no value:", line))
                goto bad;
            uint64_t at = rc_get_u64(e + 8) + strtoull(b, NULL, 0);
            bool wide = strcmp(op, "section-u64") == 0;
            if (!recipe_ok(at < len && len - at >= (wide ? 8u : 4u), "offset out of the file", b))
                goto bad;
            if (wide)
                rc_put_u64(ix + at, strtoull(d, NULL, 0));
            else
                rc_put_u32(ix + at, (uint32_t)strtoull(d, NULL, 0));
        } else if (strcmp(op, "work-id") == 0) {
            uint8_t *works = section_entry(ix, len, RC_SEC_WORKS);
            uint8_t *strs = section_entry(ix, len, RC_SEC_STRINGS);
            bool empty = strcmp(b, "empty") == 0;
            uint64_t w = strtoull(a, NULL, 0), w2 = empty ? 0 : strtoull(d, NULL, 0);
            uint64_t base_off = works ? rc_get_u64(works + 8) : len, v;
            if (!recipe_ok(works && strs && (empty || k == 4) && w < (1u << 20) &&
                               w2 < (1u << 20) && base_off <= len &&
                               (RC_MAX(w, w2) + 1) * RC_WORK_REC_SIZE <= len - base_off,
                           "no such works:", line))
                goto bad;
            if (empty) /* the string table's last byte, a NUL */
                v = rc_get_u64(strs + 16) - 1;
            else
                v = rc_get_u64(ix + base_off + w2 * RC_WORK_REC_SIZE);
            rc_put_u64(ix + base_off + w * RC_WORK_REC_SIZE, v);
        } else if (strcmp(op, "move-section") == 0) {
            unsigned id = section_id(a);
            uint8_t *e = id ? section_entry(ix, len, id) : NULL;
            uint64_t off = e ? rc_get_u64(e + 8) : 0, sl = e ? rc_get_u64(e + 16) : 0;
            if (!recipe_ok(e && off <= len && sl <= len - off, "no section", a))
                goto bad;
            size_t to = ((len + 3) & ~(size_t)3) + (size_t)(strtoull(b, NULL, 0) & 3);
            uint8_t *bigger = realloc(ix, to + sl);
            FZ_CHECK(bigger, "oom");
            ix = bigger;
            memset(ix + len, 0, to - len);
            memmove(ix + to, ix + off, sl);
            len = to + sl;
            rc_put_u64(section_entry(ix, len, id) + 8, to);
            /* The page checksums end the file: they move after it, sized for its new pages
             * (and are filled in by fixup). */
            uint8_t *ps = section_entry(ix, len, RC_SEC_PAGE_SUMS);
            if (ps && id != RC_SEC_PAGE_SUMS) {
                size_t at = (len + RC_SECTION_ALIGN - 1) & ~(size_t)(RC_SECTION_ALIGN - 1);
                size_t npages = (at - RC_DATA_OFFSET + RC_PAGE_SIZE - 1) / RC_PAGE_SIZE;
                bigger = realloc(ix, at + 8 * npages);
                FZ_CHECK(bigger, "oom");
                ix = bigger;
                memset(ix + len, 0, at + 8 * npages - len);
                len = at + 8 * npages;
                ps = section_entry(ix, len, RC_SEC_PAGE_SUMS);
                rc_put_u64(ps + 8, at);
                rc_put_u64(ps + 16, 8 * npages);
            }
        } else if (!recipe_ok(false, "unknown operation", op)) {
            goto bad;
        }
    }
    free(text);
    *n = len;
    return ix;
bad:
    free(text);
    free(ix);
    *skip = true;
    return NULL;
}

/* ==== structural damage (libFuzzer only) ==== */

#ifdef RECITE_LIBFUZZER
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);

static uint64_t interesting(fz_rng *r, uint64_t old, uint64_t n)
{
    static const uint64_t fixed[] = {0,          1,          2,          3,          0x7f,
                                     0x80,       0xff,       0x100,      0xffff,     0x10000,
                                     0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 1ull << 32,
                                     1ull << 63, UINT64_MAX};
    switch (fz_below(r, 6)) {
    case 0: return fixed[fz_below(r, sizeof fixed / sizeof *fixed)];
    case 1: return old + 1 + fz_below(r, 4);
    case 2: return old - 1 - fz_below(r, 4);
    case 3: return old * 2 + fz_below(r, 2);
    case 4: return n + fz_below(r, 3) - 1;
    default: return old ^ (1ull << fz_below(r, 40));
    }
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
    fz_rng r = {seed};
    if (size < 1 + RC_DATA_OFFSET || fz_below(&r, 4) == 0)
        return LLVMFuzzerMutate(data, size, max_size);
    uint8_t *ix = data + 1;
    size_t n = size - 1;
    if (fz_below(&r, 8))
        data[0] |= 1; /* repair the checksums after the damage */
    uint32_t nsec = rc_get_u32(ix + RC_H_NSECTIONS);
    if (nsec > RC_MAX_SECTIONS)
        nsec = RC_MAX_SECTIONS;
    uint8_t *entry =
        ix + RC_SECTIONS_OFFSET + fz_below(&r, nsec ? nsec : 1) * RC_SECTION_ENTRY_SIZE;
    uint64_t sec_off = rc_get_u64(entry + 8), sec_len = rc_get_u64(entry + 16);
    bool sec_ok = sec_off <= n && sec_len <= n - sec_off && sec_len >= 8;
    switch (fz_below(&r, 6)) {
    case 0: { /* a header count or size */
        static const unsigned u64s[] = {RC_H_FILE_SIZE, RC_H_NWORKS,     RC_H_NCLUSTERS,
                                        RC_H_NTOKENS,   RC_H_TEXT_BYTES, RC_H_WORK_BYTES,
                                        RC_H_FLAGS};
        static const unsigned u32s[] = {RC_H_NSECTIONS, RC_H_BLOCK_SIZE, RC_H_MODE};
        if (fz_below(&r, 2)) {
            unsigned f = u64s[fz_below(&r, sizeof u64s / sizeof *u64s)];
            rc_put_u64(ix + f, interesting(&r, rc_get_u64(ix + f), n));
        } else {
            unsigned f = u32s[fz_below(&r, sizeof u32s / sizeof *u32s)];
            rc_put_u32(ix + f, (uint32_t)interesting(&r, rc_get_u32(ix + f), n));
        }
        break;
    }
    case 1: /* a section's id, offset or length */
        switch (fz_below(&r, 3)) {
        case 0:
            rc_put_u32(entry, (uint32_t)interesting(&r, rc_get_u32(entry), RC_SEC_COUNT_));
            break;
        case 1: rc_put_u64(entry + 8, interesting(&r, sec_off, n)); break;
        default: rc_put_u64(entry + 16, interesting(&r, sec_len, n - sec_off)); break;
        }
        break;
    case 2: /* a record field inside a section */
        if (sec_ok) {
            uint8_t *p = ix + sec_off + 4 * fz_below(&r, (sec_len - 4) / 4 + 1);
            if (fz_below(&r, 2) && p + 8 <= ix + sec_off + sec_len)
                rc_put_u64(p, interesting(&r, rc_get_u64(p), n));
            else
                rc_put_u32(p, (uint32_t)interesting(&r, rc_get_u32(p), n));
        }
        break;
    case 3: /* truncation */ return 1 + (size_t)fz_below(&r, n);
    case 4: /* bits flipped inside a section */
        if (sec_ok)
            for (int k = 1 + (int)fz_below(&r, 4); k > 0; k--)
                ix[sec_off + fz_below(&r, sec_len)] ^= (uint8_t)(1u << fz_below(&r, 8));
        break;
    default: /* one part of a section copied over another */
        if (sec_ok) {
            size_t len = 1 + (size_t)fz_below(&r, sec_len < 64 ? sec_len : 64);
            size_t from = (size_t)fz_below(&r, sec_len - len + 1),
                   to = (size_t)fz_below(&r, sec_len - len + 1);
            memmove(ix + sec_off + to, ix + sec_off + from, len);
        }
        break;
    }
    return size;
}
#endif
