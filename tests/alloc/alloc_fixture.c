/*
 * alloc_fixture.c — the fixture of the allocation-failure test, made with no failures: a small
 * library (two of Debian's license texts, a prose text, a C file and a tar archive written
 * here, two JSONL works with metadata and training runs), its index and catalogue, a previous index
 * for the build to replace, license texts and a cache of their index, a policy, and a checked
 * output.
 */
#include "test_alloc.h"

#include "index/rc_index.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char prose_text[] =
    "The keeper of the northern light climbed the tower every evening at dusk, carrying a can "
    "of oil in one hand and a lantern in the other. He counted the steps as he went, one "
    "hundred and twelve of them, worn smooth in the middle by the boots of the men who had "
    "kept the light before him. At the top he trimmed the wicks, polished the great lens with "
    "a soft cloth, and wrote the hour and the weather in the log that lay open on the shelf. "
    "Ships he never saw passed in the dark beyond the reef, and he liked to think that each of "
    "them carried someone who looked up, saw the slow turn of his beam across the water, and "
    "knew where they were. In winter the storms came in from the west and shook the glass in "
    "its frames; in summer the fog lay so thick on the sea that he rang the bell every minute "
    "until morning, his arms aching and his ears full of its single dull note.\n";

static const char prose2_text[] =
    "A small market town sat where the river bent twice before reaching the sea. On market "
    "days the square filled with carts of turnips, cages of hens and bolts of cloth dyed the "
    "colours of the hills, and the bakers sold bread from the backs of their wagons until the "
    "church bell rang noon and everyone went home for the long afternoon rest.\n";

static const char code_text[] = "/*\n"
                                " * ring.c - a ring buffer of bytes.\n"
                                " * SPDX-License-Identifier: MIT\n"
                                " * Copyright (c) 2021 Example Holder <holder@example.invalid>\n"
                                " */\n"
                                "#include <stddef.h>\n"
                                "#include <string.h>\n"
                                "\n"
                                "struct ring {\n"
                                "    unsigned char *data;\n"
                                "    size_t cap, head, tail, used;\n"
                                "};\n"
                                "\n"
                                "size_t ring_write(struct ring *r, const void *src, size_t len)\n"
                                "{\n"
                                "    const unsigned char *p = src;\n"
                                "    size_t done = 0;\n"
                                "    while (done < len && r->used < r->cap) {\n"
                                "        size_t room = r->cap - r->used;\n"
                                "        size_t run = r->cap - r->head;\n"
                                "        size_t n = len - done;\n"
                                "        if (n > room)\n"
                                "            n = room;\n"
                                "        if (n > run)\n"
                                "            n = run;\n"
                                "        memcpy(r->data + r->head, p + done, n);\n"
                                "        r->head = (r->head + n) % r->cap;\n"
                                "        r->used += n;\n"
                                "        done += n;\n"
                                "    }\n"
                                "    return done;\n"
                                "}\n"
                                "\n"
                                "size_t ring_read(struct ring *r, void *dst, size_t len)\n"
                                "{\n"
                                "    unsigned char *p = dst;\n"
                                "    size_t done = 0;\n"
                                "    while (done < len && r->used > 0) {\n"
                                "        size_t run = r->cap - r->tail;\n"
                                "        size_t n = len - done;\n"
                                "        if (n > r->used)\n"
                                "            n = r->used;\n"
                                "        if (n > run)\n"
                                "            n = run;\n"
                                "        memcpy(p + done, r->data + r->tail, n);\n"
                                "        r->tail = (r->tail + n) % r->cap;\n"
                                "        r->used -= n;\n"
                                "        done += n;\n"
                                "    }\n"
                                "    return done;\n"
                                "}\n";

static const char tale_one[] =
    "Once there was a clockmaker who built a clock that ran backwards, and every hour it struck "
    "the townsfolk grew a little younger, until the mayor forbade anyone to wind it again.";
static const char tale_two[] =
    "The river pilot knew every sandbar by its sound, and on moonless nights he steered the "
    "barges home by listening to the water murmur against the hull.";

/* A member of a tar archive: its spans are located by member and line. */
static const char member_text[] =
    "The orchard behind the mill\n"
    "had forty trees of apples and pears, planted in rows by the miller's grandfather when\n"
    "the mill still ground corn for three villages. Every autumn the children of the lane\n"
    "were paid a penny a basket to gather the windfalls before the wasps found them, and\n"
    "the cider press in the barn ran from morning until the lamps were lit, filling the\n"
    "yard with a sweet sharp smell that stayed in the stones until the first frost came.\n";

/* A ustar archive holding `name` with text[0, len): a header, the data padded to 512 bytes,
 * two empty blocks. */
static char *tar_of(const char *name, const char *text, size_t len, size_t *out_len)
{
    size_t data = (len + 511) / 512 * 512, n = 512 + data + 1024;
    char *t = calloc(1, n);
    TA_CHECK(t, "out of memory");
    snprintf(t, 100, "%s", name);
    memcpy(t + 100, "0000644", 8);
    memcpy(t + 108, "0000000", 8);
    memcpy(t + 116, "0000000", 8);
    snprintf(t + 124, 12, "%011o", (unsigned)len);
    snprintf(t + 136, 12, "%011o", 1700000000u);
    memset(t + 148, ' ', 8);
    t[156] = '0';
    memcpy(t + 257, "ustar", 6);
    memcpy(t + 263, "00", 2);
    unsigned sum = 0;
    for (size_t i = 0; i < 512; i++)
        sum += (unsigned char)t[i];
    snprintf(t + 148, 8, "%06o", sum);
    t[155] = ' ';
    memcpy(t + 512, text, len);
    *out_len = n;
    return t;
}

/* Our own permissive notice, as the SPDX list's MIT entry of the test's small list. */
static const char mit_json[] =
    "{\"name\": \"MIT License\", \"licenseText\": \"Permission is hereby granted to anyone who "
    "receives this test text to use, copy, change and share it for any purpose, provided that "
    "this notice stays with every copy. The text is given as it is, without any promise that it "
    "works or fits a purpose.\"}\n";

static const char policy_json[] =
    "{\"version\": 1, \"default\": \"flag\", \"rules\": [\n"
    " {\"common\": true, \"action\": \"allow\"},\n"
    " {\"source\": \"shadow-library\", \"action\": \"block\"},\n"
    " {\"license\": [\"MIT\"], \"cmi\": \"present\", \"action\": \"allow\"},\n"
    " {\"license\": \"BSD-3-Clause\", \"min_tokens\": 20, \"action\": \"cite\"},\n"
    " {\"license\": [\"permissive\", \"unknown\"], \"min_coverage\": 0.5, \"action\": "
    "\"block\"}]}\n";

const char ta_key[TA_KEY_LEN + 1] = "alloc-test key: 32 bytes of it..";

char *ta_policy_text(void)
{
    return strdup(policy_json);
}

recite_build_options ta_build_options(void)
{
    recite_build_options opt = RECITE_BUILD_OPTIONS_INIT;
    opt.jobs = 1;
    opt.created_unix = 1700000000;
    opt.license_cache_dir = fx.cache;
    opt.debian_licenses_dir = fx.debian;
    opt.spdx_dir = fx.spdx;
    return opt;
}

static void build(const char *const *paths, size_t n, const char *out)
{
    recite_build_options opt = ta_build_options();
    recite_error err = {0};
    int rc = recite_index_build(NULL, out, paths, n, &opt, &err);
    TA_CHECK(rc == RECITE_OK, "build of %s: %s", out, err.message);
    rc = recite_catalog_build(out, &err);
    TA_CHECK(rc == RECITE_OK, "catalogue of %s: %s", out, err.message);
}

static char *mkdir_in(const char *name)
{
    char *p = ta_join(fx.root, name);
    TA_CHECK(mkdir(p, 0755) == 0, "%s: mkdir: %s", p, strerror(errno));
    return p;
}

static void put(const char *dir, const char *name, const char *text, size_t len)
{
    char *p = ta_join(dir, name);
    ta_write(p, text, len);
    free(p);
}

/* Debian's license text NAME, copied to dir/as. Returns its text. */
static char *put_debian(const char *dir, const char *name, const char *as, size_t *len)
{
    char *src = ta_join("/usr/share/common-licenses", name);
    char *text = ta_read(src, len);
    TA_CHECK(text, "%s is missing (base-files ships it)", src);
    put(dir, as, text, *len);
    free(src);
    return text;
}

static const char *tmp_base(void)
{
    const char *t = getenv("TMPDIR");
    if (t && *t)
        return t;
    /* Builds sync their files: on tmpfs that costs nothing. */
    return access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
}

void ta_fixture_make(void)
{
    char *tmpl = ta_join(tmp_base(), "recite-alloc-XXXXXX");
    TA_CHECK(mkdtemp(tmpl), "%s: mkdtemp: %s", tmpl, strerror(errno));
    fx.root = tmpl;
    fx.debian = mkdir_in("debian");
    fx.spdx = mkdir_in("spdx");
    fx.cache = mkdir_in("cache");
    fx.cache2 = mkdir_in("cache2");
    fx.tmp = mkdir_in("tmp");
    fx.lib = mkdir_in("lib");
    fx.lib2 = mkdir_in("lib2");
    fx.idx = ta_join(fx.root, "idx");
    fx.target = ta_join(fx.root, "target");
    fx.saved = ta_join(fx.root, "saved");
    fx.catdir = ta_join(fx.root, "catdir");
    fx.catsaved = ta_join(fx.root, "catalog.saved");
    fx.jsonl = ta_join(fx.root, "works.jsonl");
    fx.policy = ta_join(fx.root, "policy.json");
    fx.tfidx = ta_join(fx.root, "textfree");
    fx.tfkey = ta_join(fx.root, "textfree.key");
    fx.compacted = ta_join(fx.root, "compacted");

    size_t bsd_len, art_len;
    free(put_debian(fx.debian, "BSD", "BSD", &bsd_len));
    free(put_debian(fx.debian, "Artistic", "Artistic", &art_len));
    put(fx.spdx, "MIT.json", mit_json, strlen(mit_json));

    char *bsd = put_debian(fx.lib, "BSD", "bsd-license.txt", &bsd_len);
    free(put_debian(fx.lib, "Artistic", "artistic.txt", &art_len));
    put(fx.lib, "keeper.txt", prose_text, strlen(prose_text));
    put(fx.lib, "ring.c", code_text, strlen(code_text));
    put(fx.lib2, "market.txt", prose2_text, strlen(prose2_text));
    size_t tar_len;
    char *tar = tar_of("orchard.txt", member_text, strlen(member_text), &tar_len);
    put(fx.lib, "bundle.tar", tar, tar_len);
    free(tar);
    char *jsonl;
    TA_CHECK(asprintf(&jsonl,
                      "{\"id\":\"tale/one\",\"text\":\"%s\",\"title\":\"The Clock\",\"author\":"
                      "\"A. Writer\",\"license\":\"MIT\",\"copyright\":\"(C) 1901 A. Writer\","
                      "\"source\":\"purchased\",\"runs\":[\"r1\",\"r2\"]}\n"
                      "{\"id\":\"tale/two\",\"text\":\"%s\",\"title\":\"The Pilot\",\"source\":"
                      "\"shadow-library\",\"runs\":\"r2\"}\n",
                      tale_one, tale_two) >= 0,
             "out of memory");
    ta_write(fx.jsonl, jsonl, strlen(jsonl));
    free(jsonl);
    ta_write(fx.policy, policy_json, strlen(policy_json));
    ta_write(fx.tfkey, ta_key, TA_KEY_LEN);

    /* The index (which fills the license cache), the previous index of the build operation,
     * and an index directory whose catalogue records a deletion. */
    const char *paths[] = {fx.lib, fx.jsonl};
    build(paths, 2, fx.idx);
    const char *paths2[] = {fx.lib2};
    build(paths2, 1, fx.saved);
    recite_build_options tf = ta_build_options();
    tf.text_free_key = ta_key;
    tf.text_free_key_len = TA_KEY_LEN;
    recite_error berr = {0};
    TA_CHECK(recite_index_build(NULL, fx.tfidx, paths, 2, &tf, &berr) == RECITE_OK,
             "text-free build: %s", berr.message);
    ta_copy_dir(fx.idx, fx.catdir);
    recite_error err = {0};
    recite_catalog *cat;
    int rc = recite_catalog_open(&cat, fx.catdir, 1, &err);
    TA_CHECK(rc == RECITE_OK, "catalogue: %s", err.message);
    rc = recite_catalog_delete(cat, "tale/two", "tester", "a test deletion", &err);
    TA_CHECK(rc == RECITE_OK, "catalogue delete: %s", err.message);
    recite_catalog_close(cat);
    char *catfile = ta_join(fx.catdir, "catalog.sqlite");
    ta_copy(catfile, fx.catsaved);
    free(catfile);

    /* The output: passages of the BSD license, the prose, the code and a JSONL work, with a
     * few words changed here and there. */
    const char *tail = bsd + bsd_len - 700;
    char *out;
    TA_CHECK(asprintf(&out,
                      "Here is what I found.\n\n%.*s\n\nA story: %.*s -- and %.*s\n\n"
                      "Some code:\n%.*s\nAnd a tale: %s\nFrom the archive: %s\nThe end.\n",
                      600, tail, 420, prose_text, 300, prose_text + 500, 900, code_text + 150,
                      tale_one, member_text + 120) >= 0,
             "out of memory");
    fx.output = out;
    fx.output_len = strlen(out);
    free(bsd);

    rc = recite_index_open(&fx.index, fx.idx, &err);
    TA_CHECK(rc == RECITE_OK, "open: %s", err.message);
    /* The filters of posting keys live as long as the index (src/index/index_filter.c): made
     * here, before the armed runs, as a server makes them once; a check that made one would
     * leave it to the index by design (its license index's too). The open run makes them
     * under failures. */
    for (recite_index *ix = fx.index; ix; ix = ix == fx.index ? ix->licenses : NULL)
        for (unsigned c = 0; c < RC_CHANNELS; c++)
            TA_CHECK(!ix->ch[c].npostings || rc_index_filter_make(ix, c) == RECITE_OK,
                     "the filter of channel %u", c);
    rc = recite_checker_create(&fx.checker, fx.index, NULL, &err);
    TA_CHECK(rc == RECITE_OK, "checker: %s", err.message);
    rc = recite_check_text(&fx.result, fx.checker, fx.output, fx.output_len, &err);
    TA_CHECK(rc == RECITE_OK, "check: %s", err.message);
    rc = recite_policy_load(&fx.pol, fx.policy, fx.spdx, &err);
    TA_CHECK(rc == RECITE_OK, "policy: %s", err.message);
    TA_CHECK(fx.result->nworks >= 5, "the output matches %zu works, not 5 or more",
             fx.result->nworks);
    printf("fixture: %u works, the output %zu bytes matching %zu spans of %zu works, in %s\n",
           recite_index_work_count(fx.index), fx.output_len, fx.result->nmatches, fx.result->nworks,
           fx.root);
}

void ta_fixture_free(void)
{
    recite_policy_free(fx.pol);
    recite_checker_free(fx.checker);
    recite_index_close(fx.index);
    ta_rm_rf(fx.root);
    char **paths[] = {&fx.root,  &fx.debian, &fx.spdx,   &fx.cache,   &fx.cache2, &fx.tmp,
                      &fx.lib,   &fx.lib2,   &fx.idx,    &fx.target,  &fx.saved,  &fx.catdir,
                      &fx.jsonl, &fx.policy, &fx.output, &fx.catsaved};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        free(*paths[i]);
        *paths[i] = NULL;
    }
}
