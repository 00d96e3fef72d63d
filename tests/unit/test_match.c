/*
 * test_match.c — the checker (src/match/): exact, normalized and punctuation-near matches with
 * byte offsets on both sides, the min-tokens guarantee and its refusal, streaming equals batch,
 * coverage, truncation; and the property test: on random texts and on the license texts Debian
 * ships, with planted spans of random lengths and random normalizations, the checker reports
 * exactly the maximal shared runs a brute-force reference finds (after the documented merge of
 * runs contained in a longer run of the same work).
 */
#include "test_util.h"

#include "build/rc_build.h"
#include "check/rc_checker.h"

#include <ctype.h>

typedef struct fixture {
    char *dir, *lib, *idx;
    recite_index *index;
    recite_checker *chk;   /* default options */
    recite_checker *exact; /* exact_only: what the brute-force reference finds */
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
    recite_checker_free(f->chk);
    recite_checker_free(f->exact);
    recite_index_close(f->index);
    test_dirs_free(f->dir, f->lib, f->idx);
    free(f);
    return 0;
}

static void put(const fixture *f, const char *name, const char *text, size_t len)
{
    test_put(f->lib, name, text, len);
}

/* Copies files this machine ships into the library, by their base names. */
static void put_files(const fixture *f, const char *const *files, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        char *text = read_file(files[i], &len);
        assert_non_null(text); /* base-files and the -dev packages the build needs */
        put(f, strrchr(files[i], '/') + 1, text, len);
        free(text);
    }
}

static void open_index_with(fixture *f, unsigned min_tokens, unsigned common_texts)
{
    recite_build_options opt = test_opts();
    opt.min_tokens = min_tokens;
    opt.common_texts = common_texts;
    opt.jobs = 2;
    test_build(f->lib, f->idx, &opt);
    recite_error err = {0};
    recite_checker_free(f->chk);
    recite_checker_free(f->exact);
    recite_index_close(f->index);
    f->chk = f->exact = NULL;
    test_open(f->idx, &f->index, &f->chk, NULL);
    recite_check_options eopt = RECITE_CHECK_OPTIONS_INIT;
    eopt.exact_only = 1;
    assert_int_equal(recite_checker_create(&f->exact, f->index, &eopt, &err), RECITE_OK);
}

static void open_index(fixture *f, unsigned min_tokens)
{
    open_index_with(f, min_tokens, 0);
}

/* The index with a common threshold of common_texts texts (the library's 1% otherwise). */
static void open_index_common(fixture *f, unsigned common_texts)
{
    open_index_with(f, 0, common_texts);
}

static const recite_result *check(fixture *f, const char *text)
{
    const recite_result *res;
    recite_error err = {0};
    if (recite_check_text(&res, f->chk, text, strlen(text), &err) != RECITE_OK)
        fail_msg("check: %s", err.message);
    return res;
}

static const char *work_id(const fixture *f, uint32_t w)
{
    recite_work_info info;
    assert_int_equal(recite_index_work(&info, f->index, w), RECITE_OK);
    return info.id;
}

static const char *SONNET =
    "Shall I compare thee to a summer's day? Thou art more lovely and more temperate: Rough "
    "winds do shake the darling buds of May, And summer's lease hath all too short a date; "
    "Sometime too hot the eye of heaven shines, And often is his gold complexion dimm'd.\n";

/* ==== basic behaviour ==== */

static void test_exact_span_offsets(void **state)
{
    fixture *f = *state;
    put(f, "sonnet.txt", SONNET, strlen(SONNET));
    put(f, "other.txt", "An unrelated text about the weather in the city today.\n", 55);
    open_index(f, 0);
    const char *span = "Rough winds do shake the darling buds of May, And summer's lease hath";
    char out[512];
    snprintf(out, sizeof out, "As the poet wrote: %s. Nice.", span);
    const recite_result *res = check(f, out);
    assert_int_equal(res->nmatches, 1);
    const recite_match *m = &res->matches[0];
    assert_int_equal(m->kind, RECITE_KIND_EXACT);
    assert_int_equal(m->tokens, 13);
    assert_int_equal(m->out_start, strlen("As the poet wrote: "));
    assert_int_equal(m->out_end, m->out_start + strlen(span));
    const char *at = strstr(SONNET, "Rough");
    assert_int_equal(m->src_start, (uint64_t)(at - SONNET));
    assert_int_equal(m->src_end, m->src_start + strlen(span));
    assert_true(m->similarity == 1.0);
    assert_non_null(strstr(work_id(f, m->work), "sonnet.txt"));
    assert_int_equal(res->nworks, 1);
    assert_int_equal(res->works[0].longest_tokens, 13);
    assert_false(res->truncated);
}

static void test_threshold_is_exact(void **state)
{
    fixture *f = *state;
    put(f, "sonnet.txt", SONNET, strlen(SONNET));
    open_index(f, 0);
    /* 12 tokens: found; 11 tokens: not. */
    assert_int_equal(
        check(f, "x Shall I compare thee to a summer's day? Thou art more lovely y")->nmatches, 1);
    assert_int_equal(
        check(f, "x Shall I compare thee to a summer's day? Thou art more y")->nmatches, 0);
    assert_int_equal(check(f, "")->nmatches, 0);
    assert_int_equal(check(f, "")->tokens, 0);
}

static void test_normalized_and_near(void **state)
{
    fixture *f = *state;
    put(f, "sonnet.txt", SONNET, strlen(SONNET));
    open_index(f, 0);
    const recite_result *res =
        check(f, "1  SHALL I COMPARE THEE TO A SUMMER\xe2\x80\x99S DAY? Thou art more\n"
                 "2  lovely and more tem-\n3  perate: Rough winds");
    assert_int_equal(res->nmatches, 1);
    assert_int_equal(res->matches[0].kind, RECITE_KIND_NORMALIZED);
    assert_int_equal(res->matches[0].tokens, 17);
    assert_true(res->matches[0].similarity == 1.0);
    assert_int_equal(res->matches[0].out_start, 3);
    /* Commas and colon dropped: same words, different punctuation. */
    res = check(f, "Thou art more lovely and more temperate Rough winds do shake the darling buds");
    assert_int_equal(res->nmatches, 1);
    assert_int_equal(res->matches[0].kind, RECITE_KIND_NEAR);
    assert_true(res->matches[0].similarity < 1.0 && res->matches[0].similarity > 0.8);
}

static void test_min_tokens_guarantee(void **state)
{
    fixture *f = *state;
    put(f, "sonnet.txt", SONNET, strlen(SONNET));
    open_index(f, 20);
    recite_checker *c = NULL;
    recite_error err = {0};
    recite_check_options opt = RECITE_CHECK_OPTIONS_INIT;
    opt.min_tokens = 12;
    assert_int_equal(recite_checker_create(&c, f->index, &opt, &err), RECITE_EINVAL);
    assert_non_null(strstr(err.message, "below this index's guarantee of 20"));
    assert_null(c);
    opt.min_tokens = 25;
    assert_int_equal(recite_checker_create(&c, f->index, &opt, &err), RECITE_OK);
    const char *t22 = "Shall I compare thee to a summer's day? Thou art more lovely and more "
                      "temperate: Rough winds do shake the darling buds";
    const char *t26 = "Shall I compare thee to a summer's day? Thou art more lovely and more "
                      "temperate: Rough winds do shake the darling buds of May, And summer's";
    const recite_result *res;
    assert_int_equal(recite_check_text(&res, c, t22, strlen(t22), &err), RECITE_OK);
    assert_int_equal(res->nmatches, 0);
    assert_int_equal(recite_check_text(&res, c, t26, strlen(t26), &err), RECITE_OK);
    assert_int_equal(res->nmatches, 1);
    assert_int_equal(res->matches[0].tokens, 26);
    recite_checker_free(c);
}

static void test_whole_work_coverage_and_clusters(void **state)
{
    fixture *f = *state;
    put(f, "a.txt", SONNET, strlen(SONNET));
    put(f, "b.txt", SONNET, strlen(SONNET));
    open_index(f, 0);
    const recite_result *res = check(f, SONNET);
    assert_int_equal(res->nmatches, 1); /* once per cluster of identical works */
    assert_int_equal(res->nworks, 1);
    assert_true(res->works[0].coverage == 1.0);
    recite_work_info info;
    recite_index_work(&info, f->index, res->matches[0].work);
    uint32_t n;
    recite_index_cluster_members(f->index, info.cluster, &n);
    assert_int_equal(n, 2);
}

static void test_repetitive_text_is_bounded(void **state)
{
    fixture *f = *state;
    size_t n = 4000;
    char *rep = malloc(n * 3 + 1);
    for (size_t i = 0; i < n; i++)
        memcpy(rep + 3 * i, "la ", 3);
    rep[3 * n] = 0;
    put(f, "la.txt", rep, strlen(rep));
    open_index(f, 0);
    const recite_result *res = check(f, rep);
    /* One run covers the output; shifted copies of it are contained and merged away. */
    assert_true(res->nmatches >= 1);
    assert_int_equal(res->matches[0].tokens, n);
    recite_checker *c;
    recite_error err = {0};
    recite_check_options opt = RECITE_CHECK_OPTIONS_INIT;
    opt.max_postings = 100;
    assert_int_equal(recite_checker_create(&c, f->index, &opt, &err), RECITE_OK);
    assert_int_equal(recite_check_text(&res, c, rep, strlen(rep), &err), RECITE_OK);
    assert_true(res->truncated);
    /* Once the quota is spent, a lookup of the repeated k-gram is answered by the channel's
     * memo of its first scan (every posting of it was scanned again for every k-gram of the
     * text: quadratic, 14 minutes for 50 MB), with what scanning gives. */
    recite_checker *every;
    assert_int_equal(recite_checker_create(&every, f->index, &opt, &err), RECITE_OK);
    every->m->lookup_every_posting = true;
    uint64_t hits = c->m->lookup_memo_hits;
    assert_int_equal(recite_check_text(&res, c, rep, strlen(rep), &err), RECITE_OK);
    assert_true(c->m->lookup_memo_hits - hits > n / 2);
    const recite_result *scanned;
    assert_int_equal(recite_check_text(&scanned, every, rep, strlen(rep), &err), RECITE_OK);
    assert_int_equal(every->m->lookup_memo_hits, 0);
    assert_same_matches(res, scanned);
    assert_int_equal(res->truncated, scanned->truncated);
    recite_checker_free(every);
    recite_checker_free(c);
    free(rep);
}

/* A header shared by 100 works is common language: it does not raise the verdict, a sample of
 * the works holding it is itemized and the rest counted; the work whose own body is copied is
 * reported as a specific match. */
static void test_boilerplate_fanout(void **state)
{
    fixture *f = *state;
    const char *header = "This file is part of the example library. It is distributed in the "
                         "hope that it will be useful, but without any warranty; without even "
                         "the implied warranty of merchantability or fitness for a purpose.\n";
    char body[1024], name[32], *target = NULL;
    for (int i = 0; i < 100; i++) {
        /* The header is a minor part of each work (coverage < 0.5 when only it is copied). */
        snprintf(body, sizeof body,
                 "%sThe body of file %d computes value%d from input%d using "
                 "method%d and reports result%d to caller%d with flag%d set. Then it frees "
                 "buffer%d, closes handle%d, logs event%d, updates counter%d and returns "
                 "status%d to its caller%d, which retries operation%d at most limit%d times "
                 "before giving up on request%d for good.\n",
                 header, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i);
        snprintf(name, sizeof name, "f%03d.c", i);
        put(f, name, body, strlen(body));
        if (i == 42)
            target = strdup(body);
    }
    open_index(f, 0);
    const recite_result *res = check(f, header);
    assert_true(res->nmatches >= 1);
    for (size_t i = 0; i < res->nmatches; i++)
        assert_true(res->matches[i].common);
    assert_int_equal(res->nworks, 3);         /* the passage is attributed to 3 works ... */
    assert_int_equal(res->common_others, 97); /* ... and the 97 others are counted */
    assert_false(res->truncated);

    /* Complete attribution on request. */
    recite_checker *all;
    recite_error err = {0};
    recite_check_options opt = RECITE_CHECK_OPTIONS_INIT;
    opt.all_works = 1;
    assert_int_equal(recite_checker_create(&all, f->index, &opt, &err), RECITE_OK);
    assert_int_equal(recite_check_text(&res, all, header, strlen(header), &err), RECITE_OK);
    assert_int_equal(res->nworks, 100);
    assert_int_equal(res->common_others, 0);
    recite_checker_free(all);

    res = check(f, target);
    bool specific = false;
    for (size_t i = 0; i < res->nmatches; i++) {
        const recite_match *m = &res->matches[i];
        if (!m->common) {
            specific = true;
            assert_non_null(strstr(work_id(f, m->work), "f042.c"));
            assert_int_equal(m->out_start, 0);
            assert_int_equal(m->out_end, strlen(target) - 2); /* up to "good" */
        }
    }
    assert_true(specific);
    assert_true(res->works[0].coverage == 1.0);
    assert_false(res->works[0].common);
    free(target);
}

/* A license header is common language with its own title line, years and holder in it (each
 * a few words no other work has, between common words), and with a variant clause held by
 * fewer texts than the common threshold; a sentence of the work's own inside it (a stretch of
 * 12 words no k-gram of many texts covers) is not. */
static void test_header_with_own_title_is_common(void **state)
{
    fixture *f = *state;
    const char *notice_a =
        "This library is free software; you can redistribute it and/or modify it under the "
        "terms of the license. ";
    const char *variant = "You may also choose the terms of the amber tower license, version "
                          "two or later, for this file. ";
    const char *notice_b =
        "This library is distributed in the hope that it will be useful, but without any "
        "warranty.\n";
    char work[2048], name[32], head[1024], sentence[1024];
    for (int i = 0; i < 100; i++) {
        /* Works 0-19 hold the variant: 20 texts, under the threshold of 50 (class 2). */
        snprintf(work, sizeof work,
                 "Widget%d table -*- C -*-\n"
                 "Copyright (C) 2001-2022 Holder%d Incorporated\n%s%s%s"
                 "The body of file %d computes value%d from input%d using method%d and reports "
                 "result%d to caller%d with flag%d set, then frees buffer%d, closes handle%d, "
                 "logs event%d, updates counter%d and returns status%d to its caller%d. The "
                 "header is a minor part of the work (coverage below one half when only it is "
                 "copied): widget%d keeps its rows in bucket%d, sorted by key%d, and rebuilds "
                 "index%d whenever table%d grows past limit%d, then writes journal%d to disk%d "
                 "and wakes sleeper%d on queue%d.\n",
                 i, i, notice_a, i < 20 ? variant : "", notice_b, i, i, i, i, i, i, i, i, i, i, i,
                 i, i, i, i, i, i, i, i, i, i, i, i);
        snprintf(name, sizeof name, "w%03d.txt", i);
        put(f, name, work, strlen(work));
    }
    /* Work 100: the notice with a sentence of its own in the middle. */
    snprintf(sentence, sizeof sentence,
             "%sOur crimson lighthouse keepers count seventeen herons before every dawn "
             "patrol begins near the harbor. %s",
             notice_a, notice_b);
    snprintf(work, sizeof work,
             "%sThe rest of this file is a long list of unrelated remarks about nothing in "
             "particular, written only to make the header a small part of it: the garden gate "
             "squeaks, seven blue kettles whistle at noon, an old violin rests on the piano, "
             "marbles roll under the cupboard, the ferry leaves at nine, lanterns swing in the "
             "orchard, a clockmaker sorts brass gears by size, and the baker counts loaves twice "
             "before the market opens on rainy mornings in late autumn.\n",
             sentence);
    put(f, "own.txt", work, strlen(work));
    open_index_common(f, 50);

    /* Work 7's header: a match against work 7, common language. */
    snprintf(head, sizeof head,
             "Widget7 table -*- C -*-\n"
             "Copyright (C) 2001-2022 Holder7 Incorporated\n%s%s%s",
             notice_a, variant, notice_b);
    const recite_result *res = check(f, head);
    bool found = false;
    for (size_t i = 0; i < res->nmatches; i++) {
        const recite_match *m = &res->matches[i];
        if (strstr(work_id(f, m->work), "w007.txt")) {
            found = true;
            assert_true(m->common);
            assert_int_equal(m->out_start, 0);              /* with its title line */
            assert_int_equal(m->out_end, strlen(head) - 2); /* and the variant: up to "warranty" */
        }
    }
    assert_true(found);
    for (size_t i = 0; i < res->nworks; i++)
        assert_true(res->works[i].common);

    /* The variant alone, held by 20 texts and holding no common language: not common. */
    res = check(f, variant);
    assert_true(res->nmatches >= 3);
    for (size_t i = 0; i < res->nmatches; i++)
        assert_false(res->matches[i].common);

    /* The notice with the work's own sentence: that work's match is not common language. */
    res = check(f, sentence);
    found = false;
    for (size_t i = 0; i < res->nmatches; i++) {
        const recite_match *m = &res->matches[i];
        if (strstr(work_id(f, m->work), "own.txt")) {
            found = true;
            assert_false(m->common);
        }
    }
    assert_true(found);
}

/* Include and import lines are recognized as such, and nothing else is. */
static void test_import_line(void **state)
{
    (void)state;
    static const char *const yes[] = {
        "#include <stdio.h>",        "  #  include \"widget.h\"",
        "#include_next <limits.h>",  "#import <Foundation/Foundation.h>",
        "\t#include<sys/types.h>",   "import os, sys",
        "import java.util.List;",    "from collections import OrderedDict",
        "from .. import fixer_base", "from a.b import (c, d)"};
    static const char *const no[] = {"#includes are listed below",
                                     "#define INCLUDE 1",
                                     "important changes",
                                     "Import duties apply",
                                     "import",
                                     "from here to eternity",
                                     "from a-b import c",
                                     "we import os here",
                                     "# include the header",
                                     "#include MACRO"};
    for (size_t i = 0; i < RC_ARRAY_LEN(yes); i++)
        assert_true(rc_import_line((const uint8_t *)yes[i], strlen(yes[i])));
    for (size_t i = 0; i < RC_ARRAY_LEN(no); i++)
        assert_false(rc_import_line((const uint8_t *)no[i], strlen(no[i])));
}

/* Include and import lists are no evidence of copying a work: a run of words counts only its
 * words on other lines towards min_tokens, in a check and in a stream. A comment copied with
 * them is still found. */
static void test_import_lists_are_no_copy(void **state)
{
    fixture *f = *state;
    const char *comment = "/* Widget registry: keeps every widget the toolkit knows, sorted by "
                          "the name its maker gave it. */\n";
    const char *includes = "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n"
                           "#include <errno.h>\n#include <unistd.h>\n";
    /* Continued lines too: after a backslash, inside an import's brackets. */
    const char *imports = "import os\nimport sys\nfrom os.path import join, \\\n    dirname\n"
                          "from typing import (\n    Any,\n    Callable,\n    Dict,\n    "
                          "Iterable,\n    List,\n    Mapping,\n    Optional,\n    Sequence,\n"
                          "    Set,\n    Tuple,\n    Union,\n)\n";
    char work[1024];
    snprintf(work, sizeof work,
             "%s%s\nstatic int widgets_known;\n\nint widget_count(void)\n{\n    return "
             "widgets_known;\n}\n",
             comment, includes);
    put(f, "registry.c", work, strlen(work));
    snprintf(work, sizeof work, "%s\n\ndef main():\n    print(json.dumps(sys.argv))\n", imports);
    put(f, "tool.py", work, strlen(work));
    open_index(f, 0);

    char out[1024];
    snprintf(out, sizeof out, "%s\nint main(void)\n{\n    puts(\"hi\");\n    return 0;\n}\n",
             includes);
    char py[1024];
    snprintf(py, sizeof py, "%s\nprint(dirname(join(os.sep, sys.argv[0])))\n", imports);
    const char *lists[] = {out, py};
    for (size_t l = 0; l < 2; l++) {
        /* 15 and 23 words of include and import lines: no match. */
        const recite_result *res = check(f, lists[l]);
        assert_int_equal(res->nmatches, 0);
        /* Streamed in pieces of 5 bytes, polled after each: no event either. */
        recite_checker *c;
        recite_error err = {0};
        assert_int_equal(recite_checker_create(&c, f->index, NULL, &err), RECITE_OK);
        recite_poll p;
        for (size_t at = 0, n = strlen(lists[l]); at < n; at += 5) {
            assert_int_equal(recite_checker_feed(c, lists[l] + at, RC_MIN((size_t)5, n - at), &err),
                             RECITE_OK);
            assert_int_equal(recite_checker_poll(&p, c, &err), RECITE_OK);
            assert_int_equal(p.nevents, 0);
        }
        assert_int_equal(recite_checker_finish(&res, c, &err), RECITE_OK);
        assert_int_equal(res->nmatches, 0);
        recite_checker_free(c);
    }

    /* With the comment: found, by its words, include lines and all. */
    snprintf(out, sizeof out, "%s%s", comment, includes);
    const recite_result *res = check(f, out);
    assert_int_equal(res->nmatches, 1);
    assert_non_null(strstr(work_id(f, res->matches[0].work), "registry.c"));
    assert_int_equal(res->matches[0].out_start, 3);           /* from "Widget" */
    assert_true(res->matches[0].out_end >= strlen(out) - 10); /* through the include lines */
}

/* 100 forks of one text (a few words changed each) are one family: their shared text is not
 * common language, and reproducing it is flagged, against the forks, not sampled away. */
static void test_forks_are_not_common(void **state)
{
    fixture *f = *state;
    size_t len = 0;
    char *mpl = read_file("/usr/share/common-licenses/MPL-2.0", &len);
    assert_non_null(mpl);
    rng r = rng_seeded(33);
    for (int i = 0; i < 100; i++) {
        char *fork = malloc(len + 64), name[32];
        memcpy(fork, mpl, len);
        /* Change a few words (letters in place), as a fork would. */
        for (int e = 0; e < 5; e++) {
            size_t at = rng_below(&r, len);
            while (at < len && !isalpha((unsigned char)fork[at]))
                at++;
            if (at < len)
                fork[at] = (char)('a' + (fork[at] - 'a' + 1 + i) % 26);
        }
        snprintf(name, sizeof name, "fork%03d", i);
        char *dir = path_join(f->lib, name);
        mkdir(dir, 0755);
        free(dir);
        snprintf(name, sizeof name, "fork%03d/LICENSE", i);
        put(f, name, fork, len);
        free(fork);
    }
    open_index(f, 0);
    /* Every text is in the family of the first fork. */
    for (uint32_t c = 0; c < f->index->nclusters; c++) {
        rc_cluster cl;
        rc_index_cluster(f->index, c, &cl);
        assert_int_equal(cl.family, 0);
    }
    /* A passage of the license: specific language, reported against many forks. */
    const char *passage = strstr(mpl, "Each Contributor hereby grants");
    assert_non_null(passage);
    char out[800];
    snprintf(out, sizeof out, "The license says: %.600s", passage);
    const recite_result *res = check(f, out);
    assert_true(res->nmatches > 3);
    for (size_t i = 0; i < res->nmatches; i++)
        assert_false(res->matches[i].common);
    free(mpl);
}

/* With a background index of public text, a span also found there is common language. */
static void test_background_marks_common(void **state)
{
    fixture *f = *state;
    put(f, "sonnet.txt", SONNET, strlen(SONNET));
    const char *other = "The quick brown fox jumps over the lazy dog while the cat sleeps on "
                        "the warm windowsill and the rain keeps falling on the old tin roof.\n";
    put(f, "fox.txt", other, strlen(other));
    open_index(f, 0);
    /* The background holds the sonnet only. */
    char *bgdir = path_join(f->dir, "bg"), *bglib = path_join(f->dir, "bglib");
    mkdir(bglib, 0755);
    char *p = path_join(bglib, "public.txt");
    write_file(p, SONNET, strlen(SONNET));
    const char *paths[] = {bglib};
    recite_error err = {0};
    recite_build_options bgopt = test_opts();
    assert_int_equal(recite_index_build(NULL, bgdir, paths, 1, &bgopt, &err), RECITE_OK);
    recite_index *bg;
    assert_int_equal(recite_index_open(&bg, bgdir, &err), RECITE_OK);
    recite_check_options opt = RECITE_CHECK_OPTIONS_INIT;
    opt.background = bg;
    recite_checker *c;
    assert_int_equal(recite_checker_create(&c, f->index, &opt, &err), RECITE_OK);
    char text[1024];
    snprintf(text, sizeof text, "%s\n%s", SONNET, other);
    const recite_result *res;
    assert_int_equal(recite_check_text(&res, c, text, strlen(text), &err), RECITE_OK);
    assert_int_equal(res->nmatches, 2);
    for (size_t i = 0; i < res->nmatches; i++) {
        bool is_sonnet = strstr(work_id(f, res->matches[i].work), "sonnet") != NULL;
        assert_int_equal(res->matches[i].common, is_sonnet);
    }
    /* Without the background, neither is common. */
    res = check(f, text);
    for (size_t i = 0; i < res->nmatches; i++)
        assert_false(res->matches[i].common);
    recite_checker_free(c);
    recite_index_close(bg);
    free(p);
    free(bgdir);
    free(bglib);
}

/* ==== the brute-force reference ==== */

typedef struct run {
    uint32_t work; /* representative */
    uint64_t q0, s0, len;
} run;

typedef struct runs {
    run *v;
    size_t n, cap;
} runs;

static void runs_push(runs *r, run x)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 64;
        r->v = realloc(r->v, r->cap * sizeof *r->v);
    }
    r->v[r->n++] = x;
}

typedef struct hp {
    uint64_t hash, pos;
} hp;

static int cmp_hp(const void *a, const void *b)
{
    const hp *x = a, *y = b;
    if (x->hash != y->hash)
        return x->hash < y->hash ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

static int cmp_run(const void *a, const void *b)
{
    const run *x = a, *y = b;
    if (x->work != y->work)
        return x->work < y->work ? -1 : 1;
    if (x->q0 != y->q0)
        return x->q0 < y->q0 ? -1 : 1;
    if (x->len != y->len)
        return x->len > y->len ? -1 : 1;
    return (x->s0 > y->s0) - (x->s0 < y->s0);
}

/* Every maximal run of equal tokens of length >= min between out and work. */
static void brute_force(const toklist *out, const toklist *work, uint32_t work_id, uint64_t min,
                        runs *r)
{
    hp *idx = malloc((work->n + 1) * sizeof *idx);
    for (size_t j = 0; j < work->n; j++)
        idx[j] = (hp){work->v[j].hash, j};
    rc_sort(idx, work->n, sizeof *idx, cmp_hp);
    for (size_t i = 0; i < out->n; i++) {
        size_t lo = 0, hi = work->n;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (idx[mid].hash < out->v[i].hash)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (size_t k = lo; k < work->n && idx[k].hash == out->v[i].hash; k++) {
            size_t j = idx[k].pos;
            if (i > 0 && j > 0 && out->v[i - 1].hash == work->v[j - 1].hash)
                continue; /* not left-maximal */
            uint64_t L = 0;
            while (i + L < out->n && j + L < work->n && out->v[i + L].hash == work->v[j + L].hash)
                L++;
            if (L >= min)
                runs_push(r, (run){work_id, i, j, L});
        }
    }
    free(idx);
}

/* The checker's documented merge: per work, drop runs contained (in the output) in a run that
 * sorts before them (longer, or equal and earlier in the work). */
static void drop_contained(runs *r)
{
    rc_sort(r->v, r->n, sizeof *r->v, cmp_run);
    size_t keep = 0;
    uint32_t w = UINT32_MAX;
    uint64_t reach = 0;
    for (size_t i = 0; i < r->n; i++) {
        if (r->v[i].work != w) {
            w = r->v[i].work;
            reach = 0;
        }
        if (r->v[i].q0 + r->v[i].len <= reach)
            continue;
        reach = r->v[i].q0 + r->v[i].len;
        r->v[keep++] = r->v[i];
    }
    r->n = keep;
}

/* A library of texts held in memory alongside the index. */
typedef struct lib {
    char **ids, **texts;
    size_t *lens;
    size_t n;
} lib;

static void lib_add(lib *l, const char *id, const char *text, size_t len)
{
    l->ids = realloc(l->ids, (l->n + 1) * sizeof *l->ids);
    l->texts = realloc(l->texts, (l->n + 1) * sizeof *l->texts);
    l->lens = realloc(l->lens, (l->n + 1) * sizeof *l->lens);
    l->ids[l->n] = strdup(id);
    l->texts[l->n] = malloc(len + 1);
    memcpy(l->texts[l->n], text, len);
    l->texts[l->n][len] = 0;
    l->lens[l->n] = len;
    l->n++;
}

static void lib_free(lib *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->ids[i]);
        free(l->texts[i]);
    }
    free(l->ids);
    free(l->texts);
    free(l->lens);
}

/* ==== building outputs with planted, normalized spans ==== */

typedef struct sbuf {
    char *s;
    size_t n, cap;
} sbuf;

static void sb_add(sbuf *b, const char *p, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->s = realloc(b->s, b->cap);
    }
    memcpy(b->s + b->n, p, n);
    b->n += n;
    b->s[b->n] = 0;
}

static void sb_str(sbuf *b, const char *p)
{
    sb_add(b, p, strlen(p));
}

/* Appends text[a, b) transformed by one random normalization (or none). Each transformation
 * keeps the token sequence: that is what "normalized" means. */
static void add_normalized(rng *r, sbuf *out, const char *text, size_t a, size_t b)
{
    int mode = (int)rng_below(r, 7);
    bool line_start = true;
    for (size_t i = a; i < b; i++) {
        unsigned char ch = (unsigned char)text[i];
        switch (mode) {
        case 1: /* upper case */ ch = (unsigned char)toupper(ch); break;
        case 2: /* reflow: spaces become line breaks and runs of spaces */
            if (ch == ' ' || ch == '\n') {
                sb_str(out, rng_below(r, 3) ? "\n" : "   ");
                continue;
            }
            break;
        case 3: /* curly quotes and apostrophes, em dashes */
            if (ch == '\'') {
                sb_str(out, "\xe2\x80\x99");
                continue;
            }
            if (ch == '"') {
                sb_str(out, rng_below(r, 2) ? "\xe2\x80\x9c" : "\xe2\x80\x9d");
                continue;
            }
            if (ch == '-' && i + 1 < b && text[i + 1] == '-') {
                sb_str(out, "\xe2\x80\x94");
                i++;
                continue;
            }
            break;
        case 4: /* numbered lines, as in court filings */
            if (line_start) {
                char num[16];
                snprintf(num, sizeof num, "%u  ", (unsigned)(1 + rng_below(r, 999)));
                sb_str(out, num);
            }
            line_start = ch == '\n';
            if (ch == ' ' && !rng_below(r, 8)) {
                sb_str(out, "\n");
                line_start = true;
                continue;
            }
            break;
        case 5: /* hyphenate a long word across a line break */
            if (isalpha(ch) && i + 2 < b && isalpha((unsigned char)text[i + 1]) &&
                isalpha((unsigned char)text[i + 2]) && i > a &&
                isalpha((unsigned char)text[i - 1]) && !rng_below(r, 15)) {
                sb_add(out, (const char *)&ch, 1);
                sb_str(out, "-\n");
                continue;
            }
            break;
        case 6: /* title case */
            if (i == a || text[i - 1] == ' ')
                ch = (unsigned char)toupper(ch);
            break;
        default: break;
        }
        sb_add(out, (const char *)&ch, 1);
    }
}

/* Runs `exact` (an exact_only checker of f's index with this min_tokens) on `text` and
 * compares with the brute force over every distinct work. */
static void compare_with_reference(fixture *f, recite_checker *exact, const lib *l,
                                   const char *text, size_t len, unsigned min_tokens, rng *r)
{
    toklist out = tokenize_all(text, len);
    runs want = {0};
    for (uint32_t w = 0; w < recite_index_work_count(f->index); w++) {
        recite_work_info info;
        recite_index_work(&info, f->index, w);
        if (info.representative != w)
            continue; /* identical texts are reported once, under the first work */
        size_t k = 0;
        while (k < l->n && strcmp(l->ids[k], info.id) != 0)
            k++;
        assert_true(k < l->n);
        toklist wt = tokenize_all(l->texts[k], l->lens[k]);
        assert_int_equal(wt.n, info.tokens);
        brute_force(&out, &wt, w, min_tokens, &want);
        free(wt.v);
    }
    drop_contained(&want);

    /* Batch and streamed (random pieces) must agree with the reference. */
    for (int pass = 0; pass < 2; pass++) {
        const recite_result *res;
        recite_error err = {0};
        if (pass == 0) {
            assert_int_equal(recite_check_text(&res, exact, text, len, &err), RECITE_OK);
        } else {
            size_t at = 0;
            while (at < len) {
                size_t n = 1 + rng_below(r, 300);
                if (n > len - at)
                    n = len - at;
                assert_int_equal(recite_checker_feed(exact, text + at, n, &err), RECITE_OK);
                at += n;
            }
            assert_int_equal(recite_checker_finish(&res, exact, &err), RECITE_OK);
        }
        assert_false(res->truncated);
        if (res->nmatches != want.n)
            fail_msg("checker found %zu runs, reference %zu (pass %d)", res->nmatches, want.n,
                     pass);
        for (size_t i = 0; i < want.n; i++) {
            const run *x = &want.v[i];
            uint64_t ob = out.v[x->q0].start, oe = out.v[x->q0 + x->len - 1].end;
            bool hit = false;
            for (size_t k = 0; k < res->nmatches && !hit; k++) {
                const recite_match *m = &res->matches[k];
                hit = m->work == x->work && m->out_start == ob && m->out_end == oe &&
                      m->src_token == x->s0 && m->tokens == x->len;
            }
            if (!hit)
                fail_msg("missed run: work %u out %llu-%llu src token %llu, %llu tokens", x->work,
                         (unsigned long long)ob, (unsigned long long)oe, (unsigned long long)x->s0,
                         (unsigned long long)x->len);
        }
        /* Kind: exact iff the bytes are identical. */
        for (size_t k = 0; k < res->nmatches; k++) {
            const recite_match *m = &res->matches[k];
            char *src;
            size_t sl;
            assert_int_equal(recite_index_work_text(&src, &sl, f->index, m->work, m->src_start,
                                                    m->src_end, &err),
                             RECITE_OK);
            bool same =
                sl == m->out_end - m->out_start && memcmp(src, text + m->out_start, sl) == 0;
            assert_int_equal(same, m->kind == RECITE_KIND_EXACT);
            assert_true(m->kind == RECITE_KIND_NEAR || m->similarity == 1.0);
            free(src);
        }
    }
    free(want.v);
    free(out.v);
}

/* An exact_only checker of f's index that reports runs of min_tokens, above the index's
 * guarantee: with min_tokens - k + 1 >= 2 w its seeds that no run of min_tokens can pass through
 * are not extended (seed_alone in match_verify.c), which the reference checks. */
static recite_checker *raised_checker(const fixture *f, unsigned min_tokens)
{
    recite_check_options opt = RECITE_CHECK_OPTIONS_INIT;
    opt.exact_only = 1;
    opt.min_tokens = min_tokens;
    recite_checker *c = NULL;
    recite_error err = {0};
    assert_int_equal(recite_checker_create(&c, f->index, &opt, &err), RECITE_OK);
    return c;
}

/* Makes the filters of the posting keys now (lookups then go through them). */
static void make_filters(const fixture *f)
{
    for (unsigned c = 0; c < RC_CHANNELS; c++)
        if (f->index->ch[c].npostings)
            assert_int_equal(rc_index_filter_make(f->index, c), RECITE_OK);
}

/* Output: filler words and planted spans of the works, some normalized. */
static char *make_output(rng *r, const lib *l, const char *const *filler, size_t nfiller,
                         size_t *len)
{
    sbuf out = {0};
    int parts = 1 + (int)rng_below(r, 6);
    for (int p = 0; p < parts; p++) {
        size_t nf = rng_below(r, 40);
        for (size_t i = 0; i < nf; i++) {
            sb_str(&out, filler[rng_below(r, nfiller)]);
            sb_str(&out, " ");
        }
        size_t w = rng_below(r, l->n);
        toklist wt = tokenize_all(l->texts[w], l->lens[w]);
        if (wt.n < 2) {
            free(wt.v);
            continue;
        }
        size_t ntok = 1 + rng_below(r, wt.n < 80 ? wt.n : 80);
        size_t start = rng_below(r, wt.n - ntok + 1);
        add_normalized(r, &out, l->texts[w], wt.v[start].start, wt.v[start + ntok - 1].end);
        sb_str(&out, rng_below(r, 2) ? " " : "\n");
        free(wt.v);
    }
    *len = out.n;
    if (!out.s)
        out.s = strdup("");
    return out.s;
}

static const char *const filler_words[] = {"alpha",   "bravo",  "charlie", "delta",    "echo",
                                           "foxtrot", "golf",   "hotel",   "india",    "juliet",
                                           "kilo",    "lima",   "mike",    "november", "oscar",
                                           "papa",    "quebec", "romeo",   "sierra",   "tango"};

static void test_property_random_texts(void **state)
{
    fixture *f = *state;
    rng r = rng_seeded(31);
    lib l = {0};
    /* Works over a small vocabulary, so that short coincidental runs are common too. */
    for (int w = 0; w < 40; w++) {
        sbuf t = {0};
        size_t n = 5 + rng_below(&r, 600);
        for (size_t i = 0; i < n; i++) {
            sb_str(&t, filler_words[rng_below(&r, 8)]);
            sb_str(&t, rng_below(&r, 10) ? " " : (rng_below(&r, 2) ? ", \"it's\" " : ".\n"));
        }
        char id[64];
        snprintf(id, sizeof id, "w%02d.txt", w);
        put(f, id, t.s, t.n);
        char *full = path_join(f->lib, id);
        lib_add(&l, full, t.s, t.n);
        if (w == 7) { /* an identical copy: reported once, under the first */
            put(f, "w07-copy.txt", t.s, t.n);
            char *cp = path_join(f->lib, "w07-copy.txt");
            lib_add(&l, cp, t.s, t.n);
            free(cp);
        }
        free(full);
        free(t.s);
    }
    for (unsigned min_tokens = 12; min_tokens <= 13; min_tokens++) {
        open_index(f, min_tokens);
        /* Runs of 24 words from an index of 12 (k = 6, w = 7: 19 k-grams >= 2 w): seeds are
         * left alone, no run is lost. */
        recite_checker *raised = min_tokens == 12 ? raised_checker(f, 24) : NULL;
        for (int it = 0; it < iterations(150); it++) {
            if (it == iterations(150) / 2) /* the second half through the key filters */
                make_filters(f);
            size_t len;
            char *out = make_output(&r, &l, filler_words, 20, &len);
            compare_with_reference(f, f->exact, &l, out, len, min_tokens, &r);
            if (raised)
                compare_with_reference(f, raised, &l, out, len, 24, &r);
            free(out);
        }
        if (raised)
            assert_true(raised->m->seeds_alone > 0);
        assert_int_equal(f->exact->m->seeds_alone, 0); /* 7 k-grams < 2 w: it cannot tell */
        recite_checker_free(raised);
    }
    lib_free(&l);
}

static void test_property_debian_licenses(void **state)
{
    fixture *f = *state;
    rng r = rng_seeded(32);
    lib l = {0};
    const char *dir = "/usr/share/common-licenses";
    DIR *d = opendir(dir);
    assert_non_null(d); /* base-files ships these on every Debian system */
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *src = path_join(dir, e->d_name);
        size_t len;
        char *text = read_file(src, &len);
        free(src);
        if (!text || len == 0) {
            free(text);
            continue;
        }
        put(f, e->d_name, text, len);
        char *id = path_join(f->lib, e->d_name);
        lib_add(&l, id, text, len);
        free(id);
        free(text);
    }
    closedir(d);
    assert_true(l.n >= 10);
    open_index(f, 0);
    static const char *const prose[] = {"the", "model",   "said", "that", "in",      "summary",
                                        "and", "however", "we",   "note", "license", "terms"};
    recite_checker *raised = raised_checker(f, 30); /* 25 k-grams >= 2 w */
    for (int it = 0; it < iterations(60); it++) {
        if (it == iterations(60) / 2) /* the second half through the key filters */
            make_filters(f);
        size_t len;
        char *out = make_output(&r, &l, prose, 12, &len);
        compare_with_reference(f, f->exact, &l, out, len, 12, &r);
        compare_with_reference(f, raised, &l, out, len, 30, &r);
        free(out);
    }
    assert_true(raised->m->seeds_alone > 0);
    recite_checker_free(raised);
    lib_free(&l);
}

/* Seeds no run of min_tokens can pass through are not extended (seed_alone in match_verify.c)
 * -- but a k-gram whose postings did not all make seeds (common language past the first
 * RC_COMMON_POSTINGS) may hide a run's other seeds: 60 unrelated works share a passage (common
 * language), each with words of its own before it; text copied across the seam of a late work
 * has a seed of that work only in its own words, and its run goes on through the passage. Same
 * matches as extending every seed, and seeds were left alone. */
static void test_seeds_alone_across_common(void **state)
{
    fixture *f = *state;
    size_t plen = 0;
    char *gpl = read_file("/usr/share/common-licenses/GPL-3", &plen);
    assert_non_null(gpl); /* base-files ships it on every Debian system */
    const char *passage = strstr(gpl, "The licenses for most software");
    assert_non_null(passage);
    size_t pn = 1500; /* about 250 words of the preamble */
    rng r = rng_seeded(41);
    char **texts = calloc(60, sizeof *texts);
    assert_non_null(texts);
    for (int w = 0; w < 60; w++) {
        sbuf t = {0};
        for (int i = 0; i < 400; i++) { /* words of its own: unrelated works, not forks */
            char word[32];
            snprintf(word, sizeof word, "%s%llu ", filler_words[rng_below(&r, 20)],
                     (unsigned long long)rng_below(&r, 100000));
            sb_str(&t, word);
        }
        sb_add(&t, passage, pn);
        char id[32];
        snprintf(id, sizeof id, "w%02d.txt", w);
        put(f, id, t.s, t.n);
        texts[w] = t.s;
    }
    open_index(f, 0);
    recite_checker *chk = raised_checker(f, 24), *every = raised_checker(f, 24);
    every->m->extend_every_seed = true;
    recite_error err = {0};
    bool cut = false;
    for (int it = 0; it < iterations(120); it++) {
        /* A late work's own words (8-20 of them) and on into the passage. */
        const char *t = texts[20 + rng_below(&r, 40)];
        const char *seam = strstr(t, "The licenses"), *from = seam - 1;
        for (uint64_t words = 8 + rng_below(&r, 13); from > t && words > 0;)
            words -= *--from == ' ';
        from += *from == ' ';
        size_t n = (size_t)(seam - from) + 200 + rng_below(&r, 800);
        /* Then 10-18 words of another work's own (a run too short to report: seeds that are
         * alone) and words no work has. */
        sbuf out = {0};
        sb_add(&out, from, n);
        sb_str(&out, " ");
        const char *o = texts[rng_below(&r, 60)];
        for (uint64_t skip = rng_below(&r, 300); skip > 0; o++)
            skip -= *o == ' ';
        const char *oe = o;
        for (uint64_t words = 10 + rng_below(&r, 9); words > 0; oe++)
            words -= *oe == ' ';
        sb_add(&out, o, (size_t)(oe - o));
        for (int i = 0; i < 20; i++) {
            char word[32];
            snprintf(word, sizeof word, "zulu%llu ", (unsigned long long)rng_below(&r, 100000));
            sb_str(&out, word);
        }
        const recite_result *a, *b;
        assert_int_equal(recite_check_text(&a, chk, out.s, out.n, &err), RECITE_OK);
        assert_int_equal(recite_check_text(&b, every, out.s, out.n, &err), RECITE_OK);
        free(out.s);
        assert_same_matches(a, b);
        for (size_t q = 0; q < chk->m->chans[RC_CH_PROSE].kgram_cut.n; q++)
            cut |= chk->m->chans[RC_CH_PROSE].kgram_cut.v[q];
    }
    assert_true(cut);                     /* common k-grams' postings were cut */
    assert_true(chk->m->seeds_alone > 0); /* and seeds were left alone */
    assert_int_equal(every->m->seeds_alone, 0);
    recite_checker_free(chk);
    recite_checker_free(every);
    for (int w = 0; w < 60; w++)
        free(texts[w]);
    free(texts);
    free(gpl);
}

/* The filter of posting keys (index_filter.c): made by itself once a channel has answered a
 * quarter of its postings' worth of lookups, never false for a key the index holds, and "may"
 * for few keys it does not. */
static void test_key_filter(void **state)
{
    fixture *f = *state;
    const char *const files[] = {"/usr/share/common-licenses/GPL-3",
                                 "/usr/share/common-licenses/Apache-2.0", "/usr/include/zstd.h",
                                 "/usr/include/xxhash.h"};
    put_files(f, files, sizeof files / sizeof *files);
    /* By file type (the others here are all words): the headers give lexemes and shapes. */
    recite_build_options bo = test_opts();
    bo.mode = RECITE_MODE_AUTO;
    test_build(f->lib, f->idx, &bo);
    test_open(f->idx, &f->index, &f->chk, NULL);
    recite_index *idx = f->index;
    for (unsigned c = 0; c < RC_CHANNELS; c++)
        assert_true(idx->ch[c].npostings > 0);
    for (unsigned c = 0; c < RC_CHANNELS; c++)
        assert_null(atomic_load(&idx->filter[c])); /* a fresh index has none */
    /* Text the library does not hold, checked until the prose channel's filter is made. */
    rng r = rng_seeded(77);
    sbuf t = {0};
    for (int i = 0; i < 400; i++) {
        sb_str(&t, filler_words[rng_below(&r, 20)]);
        sb_str(&t, i % 9 == 8 ? " (x + y);\n" : " ");
    }
    uint64_t mark = RC_MAX((uint64_t)4096, idx->ch[RC_CH_PROSE].npostings / 4);
    uint64_t checks = 0, per = 0; /* prose k-grams looked up per check */
    while (!atomic_load(&idx->filter[RC_CH_PROSE]) && checks < 1000) {
        const recite_result *res = check(f, t.s);
        assert_int_equal(res->nmatches, 0);
        per = res->tokens - idx->ch[RC_CH_PROSE].kgram + 1;
        checks++;
    }
    assert_non_null(atomic_load(&idx->filter[RC_CH_PROSE]));
    /* Made in the check whose lookups crossed the mark. */
    uint64_t lookups = atomic_load(&idx->filter_lookups[RC_CH_PROSE]);
    assert_true(per > 100 && lookups >= mark && lookups < mark + per);
    assert_true((checks - 1) * per < mark && checks * per >= mark);
    free(t.s);
    make_filters(f);
    for (unsigned c = 0; c < RC_CHANNELS; c++) {
        const rc_channel_info *ch = &idx->ch[c];
        const rc_kfilter *flt = atomic_load(&idx->filter[c]);
        if (!ch->npostings) {
            assert_null(flt);
            continue;
        }
        assert_non_null(flt);
        uint64_t nb = ch->bucket_bits ? 1ULL << ch->bucket_bits : 1;
        /* Every key the index holds passes. */
        for (uint64_t b = 0; b < nb; b++)
            for (uint64_t i = rc_get_u32(ch->dir + 4 * b); i < rc_get_u32(ch->dir + 4 * (b + 1));
                 i++)
                assert_true(rc_kfilter_may(
                    flt, rc_kfilter_hash(b, rc_get_u32(ch->key + 4 * i) & RC_KEY_HASH_MASK)));
        /* Random hashes: a "may" without a posting of that key is rare. */
        unsigned wrong = 0, absent = 0;
        for (int i = 0; i < 100000; i++) {
            uint64_t h = rng_next(&r), b = ch->bucket_bits ? h >> (64 - ch->bucket_bits) : 0;
            uint32_t want = rc_posting_key(h, ch->bucket_bits, 0, 0, 0);
            bool held = false;
            for (uint64_t k = rc_get_u32(ch->dir + 4 * b); k < rc_get_u32(ch->dir + 4 * (b + 1));
                 k++)
                held |= (rc_get_u32(ch->key + 4 * k) & RC_KEY_HASH_MASK) == want;
            if (held)
                continue;
            absent++;
            wrong += rc_kfilter_may(flt, rc_kfilter_hash(b, want));
        }
        if (wrong * 100 > absent)
            fail_msg("channel %u: %u of %u absent keys pass the filter", c, wrong, absent);
    }
    /* recite_index_prepare makes them at once (its license index's too, when it has one). */
    recite_index *fresh;
    recite_error err = {0};
    assert_int_equal(recite_index_open(&fresh, f->idx, &err), RECITE_OK);
    recite_index_prepare(fresh);
    unsigned made = 0;
    for (const recite_index *ix = fresh; ix; ix = ix == fresh ? ix->licenses : NULL)
        for (unsigned c = 0; c < RC_CHANNELS; c++) {
            assert_true(!ix->ch[c].npostings == !atomic_load(&ix->filter[c]));
            made += ix->ch[c].npostings > 0;
        }
    assert_true(made >= RC_CHANNELS); /* words, lexemes, shapes (and the licenses' words) */
    recite_index_close(fresh);
}

/* rc_match_token_at_byte (which starts at the chunk the checkpoints name) against a scan of
 * the tokens, for every byte of works of words and of code, both ways of asking: bytes before
 * the first token, between tokens, inside one, on chunk boundaries and past the end. */
static void test_token_at_byte(void **state)
{
    fixture *f = *state;
    const char *const files[] = {"/usr/share/common-licenses/GPL-2", "/usr/include/zstd.h"};
    put_files(f, files, sizeof files / sizeof *files);
    put(f, "short.txt", "  Two words.\n", 13); /* one chunk, space before its first token */
    recite_build_options bo = test_opts();
    bo.mode = RECITE_MODE_AUTO;
    test_build(f->lib, f->idx, &bo);
    test_open(f->idx, &f->index, &f->chk, NULL);
    rc_matcher *m = f->chk->m;
    recite_error err = {0};
    uint64_t probed = 0;
    for (uint32_t cl = 0; cl < f->index->nclusters; cl++) {
        rc_cluster info;
        rc_index_cluster(f->index, cl, &info);
        assert_true(info.ntokens > 0);
        uint64_t n = info.ntokens;
        for (int by_start = 0; by_start <= 1; by_start++) {
            uint64_t want = 0; /* the scan's answer, moved up as byte grows */
            for (uint64_t byte = 0; byte <= info.text_len + 1; byte++) {
                for (;;) {
                    const rc_token *t = NULL;
                    if (want < n)
                        assert_int_equal(rc_match_src_tok(m, cl, want, &t, NULL, &err), RECITE_OK);
                    if (want == n || (by_start ? t->start >= byte : t->end > byte))
                        break;
                    want++;
                }
                uint64_t got = UINT64_MAX;
                assert_int_equal(rc_match_token_at_byte(m, cl, n, byte, by_start, &got, &err),
                                 RECITE_OK);
                if (got != want)
                    fail_msg("cluster %u byte %llu by_start %d: %llu, the scan %llu", cl,
                             (unsigned long long)byte, by_start, (unsigned long long)got,
                             (unsigned long long)want);
                probed++;
            }
        }
    }
    assert_true(f->index->nclusters == 3 && probed > 2 * 20000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_exact_span_offsets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threshold_is_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_normalized_and_near, setup, teardown),
        cmocka_unit_test_setup_teardown(test_min_tokens_guarantee, setup, teardown),
        cmocka_unit_test_setup_teardown(test_whole_work_coverage_and_clusters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repetitive_text_is_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_boilerplate_fanout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_header_with_own_title_is_common, setup, teardown),
        cmocka_unit_test(test_import_line),
        cmocka_unit_test_setup_teardown(test_import_lists_are_no_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forks_are_not_common, setup, teardown),
        cmocka_unit_test_setup_teardown(test_background_marks_common, setup, teardown),
        cmocka_unit_test_setup_teardown(test_property_random_texts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_property_debian_licenses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seeds_alone_across_common, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_filter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_at_byte, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
