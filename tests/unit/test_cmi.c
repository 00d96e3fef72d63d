/*
 * test_cmi.c — copyright-management information: notice and SPDX extraction (src/cmi/
 * cmi_extract.c), holder comparison, license identification against the license index on every
 * license text Debian ships and on the headers of installed libraries (src/cmi/cmi_license.c),
 * the identification `recite index` and `recite license` make (recite_license_identify, in
 * src/cmi/cmi_text.c) of installed Python standard library and Perl modules,
 * and the CMI verdict of a check (src/match/match_cmi.c): the same span of code with its header,
 * without it, with another holder's notice, with changed years, with another license.
 */
#include "test_util.h"

#include <glob.h>

#include "cmi/rc_cmi.h"
#include "cmi/rc_cmi.h"
#include "index/rc_index.h"

#define LICENSES "/usr/share/common-licenses"

static rc_cmi extract(const char *s)
{
    rc_cmi c;
    rc_cmi_extract((const uint8_t *)s, strlen(s), &c);
    return c;
}

/* ==== extraction ==== */

/* "All rights reserved" and an SPDX tag are found wherever they start in a line, in any case,
 * a line of any length (the scan takes sixteen positions at a time, then the rest); a word one
 * letter short is not. */
static void test_marks_anywhere(void **state)
{
    (void)state;
    rng r = rng_seeded(53);
    static const char *const rights[] = {"All Rights Reserved", "all rights reserved",
                                         "ALL RIGHTS RESERVED"};
    char line[256];
    for (size_t pos = 0; pos < 70; pos++)
        for (size_t after = 0; after < 40; after += 3) {
            char fill[128];
            for (size_t k = 0; k < pos + after; k++) /* letters and spaces: never a keyword */
                fill[k] = "xyz bqw"[rng_below(&r, 7)];
            const char *w = rights[(pos + after) % 3];
            snprintf(line, sizeof line, "%.*s%s%.*s\n", (int)pos, fill, w, (int)after, fill + pos);
            assert_true(extract(line).rights_reserved);
            snprintf(line, sizeof line, "%.*sAll rights reserve%.*s\n", (int)pos, fill, (int)after,
                     fill + pos);
            assert_false(extract(line).rights_reserved);
            snprintf(line, sizeof line, "%.*sSPDX-License-Identifier: MIT\n%.*s", (int)pos, fill,
                     (int)after, fill + pos);
            rc_cmi c = extract(line);
            assert_string_equal(c.spdx, "MIT");
            assert_int_equal(c.spdx_end - c.spdx_start, 3);
        }
}

static void test_extract_notices(void **state)
{
    (void)state;
    const char *c_file = "/* hello.c -- greets.\n"
                         "   Copyright (C) 1998-2004, 2011 Ada Example Labs, Inc.\n"
                         "   This file is part of hello. */\n#include <stdio.h>\n";
    rc_cmi c = extract(c_file);
    assert_int_equal(c.nnotices, 1);
    assert_true(rc_cmi_same_holder(c.notices[0].holder, "Ada Example Labs, Inc."));
    assert_int_equal(c.notices[0].year_min, 1998);
    assert_int_equal(c.notices[0].year_max, 2011);
    /* Offsets point at the notice in the text. */
    assert_int_equal(c.notices[0].start, (uint64_t)(strstr(c_file, "Copyright") - c_file));
    assert_true(c.notices[0].end > c.notices[0].start);
    assert_memory_equal(c_file + c.notices[0].start, "Copyright", 9);
    assert_non_null(strstr(c.notices[0].text, "Ada Example Labs"));
    assert_null(strstr(c.notices[0].text, "*/"));

    /* The copyright sign, a year list and an e-mail address; a shell comment marker. */
    c = extract("#!/bin/sh\n# \xc2\xa9 2019, 2021 Jane Q. Sample <jane@example.org>\necho hi\n");
    assert_int_equal(c.nnotices, 1);
    assert_non_null(strstr(c.notices[0].holder, "Jane Q. Sample"));
    assert_int_equal(c.notices[0].year_min, 2019);
    assert_int_equal(c.notices[0].year_max, 2021);

    /* Two holders, two notices. */
    c = extract(
        "// Copyright 2020 First Holder Ltd\n// Copyright (c) 2022 Second Holder\nint x;\n");
    assert_int_equal(c.nnotices, 2);
    assert_true(rc_cmi_same_holder(c.notices[0].holder, "First Holder Ltd"));
    assert_true(rc_cmi_same_holder(c.notices[1].holder, "Second Holder"));

    /* Templates in license texts are not notices. */
    c = extract("    Copyright (C) <year>  <name of author>\n");
    assert_int_equal(c.nnotices, 0);
    c = extract("Copyright [yyyy] [name of copyright owner]\n");
    assert_int_equal(c.nnotices, 0);

    /* Words about copyright are not notices. */
    c = extract("The copyright holders disclaim all warranties. Copyright law applies.\n");
    assert_int_equal(c.nnotices, 0);
    c = extract("Plain text with no rights information at all.\n");
    assert_int_equal(c.nnotices, 0);
    assert_string_equal(c.spdx, "");
    assert_false(c.rights_reserved);
}

static void test_extract_spdx_and_rights(void **state)
{
    (void)state;
    const char *s = "// SPDX-License-Identifier: GPL-2.0-or-later OR MIT\n"
                    "// Copyright 2001 Example Org. All rights reserved.\nint y;\n";
    rc_cmi c = extract(s);
    assert_string_equal(c.spdx, "GPL-2.0-or-later OR MIT");
    assert_true(c.spdx_end > c.spdx_start);
    assert_non_null(strstr(s + c.spdx_start, "GPL-2.0-or-later"));
    assert_true(c.rights_reserved);
    assert_int_equal(c.nnotices, 1);
    /* "All rights reserved." is not part of the holder. */
    assert_true(rc_cmi_same_holder(c.notices[0].holder, "Example Org."));
}

static void test_extract_regions(void **state)
{
    (void)state;
    /* A notice at the end of a long text is found; one buried in the middle of it is not (only
     * the first 64 KiB and the last 16 KiB are read, where notices are). */
    size_t n = 300 * 1024;
    char *s = malloc(n + 1);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        s[i] = (i % 61 == 60) ? '\n' : "lorem ipsum dolor "[i % 18];
    const char *mid = "\nCopyright 1999 Middle Holder\n";
    memcpy(s + n / 2, mid, strlen(mid));
    const char *end = "\nCopyright 2005 Tail Holder\n";
    memcpy(s + n - strlen(end), end, strlen(end));
    s[n] = 0;
    rc_cmi c = extract(s);
    assert_int_equal(c.nnotices, 1);
    assert_true(rc_cmi_same_holder(c.notices[0].holder, "Tail Holder"));
    assert_int_equal(c.notices[0].start, n - strlen(end) + 1);
    free(s);
}

static void test_same_holder(void **state)
{
    (void)state;
    assert_true(
        rc_cmi_same_holder("Free Software Foundation, Inc.", "free software foundation inc"));
    assert_true(rc_cmi_same_holder("Jane Doe and contributors", "Jane Doe"));
    assert_true(rc_cmi_same_holder("Acme Ltd.", "ACME Ltd"));
    assert_false(rc_cmi_same_holder("Jane Doe", "John Roe"));
    assert_false(rc_cmi_same_holder("Free Software Foundation, Inc.", "Example Corp."));
    assert_false(rc_cmi_same_holder("", "Example Corp."));
    /* Words of 5+ letters one typo apart: a letter dropped, added or changed. */
    assert_true(rc_cmi_same_holder("Example Laboratories", "Exmple Laboratories"));
    assert_true(rc_cmi_same_holder("Example Laboratories", "Examples Laboratories"));
    assert_true(rc_cmi_same_holder("Example Laboratories", "Exbmple Laboratories"));
    /* Two typos in a word, or one in a word under 5 letters: another word. */
    assert_false(rc_cmi_same_holder("Example Laboratories", "Exmpl Laboratoris"));
    assert_false(rc_cmi_same_holder("Example Laboratories", "Exampleses Laboratoriesss"));
    assert_false(rc_cmi_same_holder("Ada Lab", "Adb Lab"));
    /* Every legal-form word is dropped, in any case. */
    static const char *const forms[] = {
        "inc", "ltd",          "llc",     "corp",         "corporation", "co",   "the",
        "and", "contributors", "authors", "et",           "al",          "gmbh", "ag",
        "sa",  "limited",      "company", "incorporated", "by"};
    for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) {
        char name[64];
        snprintf(name, sizeof name, "Example %s", forms[i]);
        assert_true(rc_cmi_same_holder(name, "EXAMPLE"));
        rc_holder_key key;
        rc_holder_key_of(name, &key);
        assert_int_equal(key.n, 1);
    }
    /* Names of legal forms only have no words: equal to each other, to nothing else. */
    assert_true(rc_cmi_same_holder("Inc.", "Ltd"));
    assert_false(rc_cmi_same_holder("Inc.", "Example"));
}

static void test_or_later(void **state)
{
    (void)state;
    const char *a = "either version 2 of the License, or\n (at your option) any later version.";
    const char *b = "version 2 of the License only, as published";
    assert_true(rc_license_or_later((const uint8_t *)a, strlen(a)));
    assert_false(rc_license_or_later((const uint8_t *)b, strlen(b)));
    assert_true(rc_license_same_family("GPL-2.0-only", "GPL-2.0-or-later"));
    assert_true(rc_license_same_family("GPL-2.0+", "GPL-2.0-only"));
    assert_false(rc_license_same_family("GPL-2.0-only", "GPL-3.0-only"));
    assert_false(rc_license_same_family("LGPL-2.1-only", "GPL-2.0-only"));
}

/* ==== identification (a license index built from this machine's license texts) ==== */

typedef struct lic_fixture {
    char *dir, *lib, *idx;
    recite_index *index;
    rc_license_matcher *lm; /* of the license index */
} lic_fixture;

static int lic_setup(void **state)
{
    lic_fixture *f = calloc(1, sizeof *f);
    test_dirs_make(&f->dir, &f->lib, &f->idx);
    char *w = path_join(f->lib, "work.txt");
    write_str(w, "A work of a single sentence, long enough to be indexed by the library builder "
                 "without complaint about its size or its content, and nothing more than that.\n");
    free(w);
    test_build(f->lib, f->idx, NULL);
    recite_error err = {0};
    assert_int_equal(recite_index_open(&f->index, f->idx, &err), RECITE_OK);
    assert_non_null(f->index->licenses); /* built from /usr/share/common-licenses at least */
    assert_int_equal(rc_license_matcher_create(&f->lm, f->index->licenses, &err), RECITE_OK);
    *state = f;
    return 0;
}

static int lic_teardown(void **state)
{
    lic_fixture *f = *state;
    rc_license_matcher_free(f->lm);
    recite_index_close(f->index);
    test_dirs_free(f->dir, f->lib, f->idx);
    free(f);
    return 0;
}

static rc_license_id identify(lic_fixture *f, const char *text, size_t len)
{
    rc_license_id id;
    recite_error err = {0};
    assert_int_equal(rc_license_identify(&id, f->lm, text, len, &err), RECITE_OK);
    return id;
}

/* Every license text Debian ships (symlinks resolve to the version they point to) is identified
 * as itself, as a full text. */
static void test_identify_debian_texts(void **state)
{
    lic_fixture *f = *state;
    static const struct {
        const char *file, *id;
    } expect[] = {
        {"Apache-2.0", "Apache-2.0"},  {"Artistic", "Artistic-1.0-Perl"},
        {"BSD", "BSD-3-Clause"},       {"CC0-1.0", "CC0-1.0"},
        {"GFDL", "GFDL-1.3-only"},     {"GFDL-1.2", "GFDL-1.2-only"},
        {"GFDL-1.3", "GFDL-1.3-only"}, {"GPL", "GPL-3.0-only"},
        {"GPL-1", "GPL-1.0-only"},     {"GPL-2", "GPL-2.0-only"},
        {"GPL-3", "GPL-3.0-only"},     {"LGPL", "LGPL-3.0-only"},
        {"LGPL-2", "LGPL-2.0-only"},   {"LGPL-2.1", "LGPL-2.1-only"},
        {"LGPL-3", "LGPL-3.0-only"},   {"MPL-1.1", "MPL-1.1"},
        {"MPL-2.0", "MPL-2.0"},
    };
    size_t tested = 0;
    DIR *d = opendir(LICENSES);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        const char *want = NULL;
        for (size_t i = 0; i < RC_ARRAY_LEN(expect); i++)
            if (strcmp(expect[i].file, e->d_name) == 0)
                want = expect[i].id;
        if (!want) /* a license this test does not know: it must still be identified */
            fprintf(stderr, "# %s/%s: no expected id in this test\n", LICENSES, e->d_name);
        char *p = path_join(LICENSES, e->d_name);
        size_t len = 0;
        char *text = read_file(p, &len);
        assert_non_null(text);
        rc_license_id id = identify(f, text, len);
        if (!want || strcmp(id.id, want) != 0)
            fail_msg("%s identified as \"%s\", expected \"%s\"", p, id.id, want ? want : "?");
        assert_true(id.full_text);
        assert_true(id.score > 0.9);
        free(text);
        free(p);
        tested++;
    }
    closedir(d);
    assert_true(tested >= RC_ARRAY_LEN(expect));
}

/* The first comment of an installed header, as the header extractor gives it. */
static char *header_of(const char *path, size_t *n)
{
    size_t len = 0;
    char *text = read_file(path, &len);
    if (!text)
        fail_msg("%s is missing (scripts/deps.sh installs it)", path);
    char *h = malloc(64 * 1024);
    assert_non_null(h);
    *n = rc_cmi_header((const uint8_t *)text, len, RECITE_MODE_CODE, h, 64 * 1024);
    free(text);
    return h;
}

/* License notices in the headers of libraries recite builds with (installed by deps.sh). */
static void test_identify_installed_headers(void **state)
{
    lic_fixture *f = *state;
    static const struct {
        const char *path, *id;
    } expect[] = {
        {"/usr/include/stdio.h", "LGPL-2.1-or-later"}, /* notice: "either version 2.1 ..." */
        {"/usr/include/xxhash.h", "BSD-2-Clause"},     /* the license text in the header */
        {"/usr/include/utf8proc.h", "MIT"},            /* the license text in the header */
        {"/usr/include/cmocka.h", "Apache-2.0"},       /* notice naming the Apache License */
        {"/usr/include/jansson.h", "MIT"},             /* "under the terms of the MIT license" */
    };
    for (size_t i = 0; i < RC_ARRAY_LEN(expect); i++) {
        size_t n = 0;
        char *h = header_of(expect[i].path, &n);
        assert_true(n > 0);
        rc_license_id id = identify(f, h, n);
        if (strcmp(id.id, expect[i].id) != 0)
            fail_msg("%s: identified \"%s\", expected \"%s\"", expect[i].path, id.id, expect[i].id);
        assert_false(id.full_text && strstr(expect[i].id, "GPL"));
        free(h);
    }
    /* Text that is not a license is unknown. */
    const char *plain = "The quick brown fox jumps over the lazy dog, again and again, while the "
                        "farmer counts his sheep and the miller grinds the corn into flour.";
    assert_string_equal(identify(f, plain, strlen(plain)).id, "");
}

/* ==== identification as `recite index` does it, on installed Python and Perl modules ==== */

static int lc_setup(void **state)
{
    recite_license_checker *lc = NULL;
    recite_error err = {0};
    if (recite_license_checker_create(&lc, 0, &err) != RECITE_OK)
        fail_msg("recite_license_checker_create: %s", err.message);
    *state = lc;
    return 0;
}

static int lc_teardown(void **state)
{
    recite_license_checker_free(*state);
    return 0;
}

typedef struct expected_license {
    const char *path, *id;
    recite_info_source from;
} expected_license;

static void expect_licenses(recite_license_checker *lc, const char *dir,
                            const expected_license *expect, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *p = path_join(dir, expect[i].path);
        size_t len = 0;
        char *text = read_file(p, &len);
        if (!text)
            fail_msg("%s is missing (its package comes with python3 / perl-base)", p);
        recite_license_info li;
        recite_error err = {0};
        assert_int_equal(recite_license_identify(&li, lc, p, text, len, RECITE_MODE_AUTO, &err),
                         RECITE_OK);
        if (strcmp(li.license, expect[i].id) != 0 || li.from != expect[i].from)
            fail_msg("%s: identified \"%s\" (from %d), expected \"%s\" (from %d)", p, li.license,
                     (int)li.from, expect[i].id, (int)expect[i].from);
        free(text);
        free(p);
    }
}

/* The Python standard library of this machine (libpython3.X-minimal and -stdlib, which python3
 * depends on): /usr/lib/python3.X, the one that has os.py. */
static char *python_stdlib(void)
{
    DIR *d = opendir("/usr/lib");
    assert_non_null(d);
    struct dirent *e;
    char *found = NULL;
    while (!found && (e = readdir(d)) != NULL) {
        unsigned minor;
        char rest;
        if (sscanf(e->d_name, "python3.%u%c", &minor, &rest) != 1)
            continue;
        char *dir = path_join("/usr/lib", e->d_name), *os = path_join(dir, "os.py");
        if (access(os, R_OK) == 0)
            found = dir;
        else
            free(dir);
        free(os);
    }
    closedir(d);
    if (!found)
        fail_msg("no /usr/lib/python3.X/os.py: python3 is a test dependency (scripts/deps.sh)");
    return found;
}

static void test_identify_python_stdlib(void **state)
{
    static const expected_license expect[] = {
        /* the zlib license, whole, in the leading comment */
        {"sqlite3/__init__.py", "Zlib", RECITE_FROM_TEXT},
        /* the permission notice SPDX lists under the name of this very file's holders */
        {"trace.py", "HPND-SMC", RECITE_FROM_TEXT},
        /* "under the same terms as Python itself", in the docstring */
        {"unittest/__init__.py", "PSF-2.0", RECITE_FROM_HEADER},
        /* no license statement at all */
        {"json/__init__.py", "", RECITE_FROM_NONE},
    };
    char *dir = python_stdlib();
    expect_licenses(*state, dir, expect, RC_ARRAY_LEN(expect));
    free(dir);
}

/* perl-base is Essential on Debian: always installed, in /usr/lib/<triplet>/perl-base. */
static void test_identify_perl_modules(void **state)
{
    glob_t g;
    if (glob("/usr/lib/*/perl-base/strict.pm", 0, NULL, &g) != 0 || g.gl_pathc == 0)
        fail_msg("no /usr/lib/*/perl-base (Debian's perl-base is essential)");
    char *dir = strndup(g.gl_pathv[0], strlen(g.gl_pathv[0]) - strlen("/strict.pm"));
    globfree(&g);
    static const expected_license expect[] = {
        /* "This program is free software; you can redistribute it and/or modify it under the
         * same terms as Perl itself": the GPL's first words, but Perl's terms */
        {"List/Util.pm", "Artistic-1.0-Perl OR GPL-1.0-or-later", RECITE_FROM_HEADER},
        {"IO/Select.pm", "Artistic-1.0-Perl OR GPL-1.0-or-later", RECITE_FROM_HEADER},
        /* "under the terms of either the GNU General Public License or the Artistic License
         * (the same terms as Perl itself)" */
        {"IO/Socket/IP.pm", "Artistic-1.0-Perl OR GPL-1.0-or-later", RECITE_FROM_HEADER},
        {"strict.pm", "", RECITE_FROM_NONE},
    };
    expect_licenses(*state, dir, expect, RC_ARRAY_LEN(expect));
    free(dir);
}

/* ==== the verdict of a check ==== */

typedef struct verdict_fixture {
    char *dir, *lib, *idx;
    recite_index *index;
    recite_checker *chk;
    char *hdr, *body; /* stdio.h's leading comment (as in the file) and a span of its code */
    size_t hdr_len, body_len;
} verdict_fixture;

static int verdict_setup(void **state)
{
    verdict_fixture *f = calloc(1, sizeof *f);
    test_dirs_make(&f->dir, &f->lib, &f->idx);
    size_t len = 0;
    char *text = read_file("/usr/include/stdio.h", &len);
    assert_non_null(text);
    char *dst = path_join(f->lib, "stdio.h");
    write_file(dst, text, len);
    free(dst);
    /* A work without any CMI, to see "none". */
    char *plain = path_join(f->lib, "plain.txt");
    write_str(plain, "Seven small boats sailed past the lighthouse at dawn, their red sails "
                     "bright against the grey water, while gulls circled the harbour wall and a "
                     "boy on the pier counted them twice to be sure none was missing that day.\n");
    free(plain);
    /* The header: from the start to the end of the first comment. */
    const char *close = strstr(text, "*/");
    assert_non_null(close);
    f->hdr_len = (size_t)(close + 2 - text) + 1;
    f->hdr = strndup(text, f->hdr_len);
    f->hdr[f->hdr_len - 1] = '\n';
    /* The body: 3000 bytes from the middle, cut at line starts. */
    const char *b = strchr(text + len / 2, '\n') + 1;
    const char *e = strchr(b + 3000, '\n') + 1;
    f->body_len = (size_t)(e - b);
    f->body = strndup(b, f->body_len);
    free(text);
    recite_build_options bo = test_opts();
    bo.mode = RECITE_MODE_AUTO;
    test_build(f->lib, f->idx, &bo);
    test_open(f->idx, &f->index, &f->chk, NULL);
    *state = f;
    return 0;
}

static int verdict_teardown(void **state)
{
    verdict_fixture *f = *state;
    recite_checker_free(f->chk);
    recite_index_close(f->index);
    test_dirs_free(f->dir, f->lib, f->idx);
    free(f->hdr);
    free(f->body);
    free(f);
    return 0;
}

/* Checks prefix + body and returns the hit of stdio.h (which must be found). */
static const recite_work_hit *check_with(verdict_fixture *f, const char *prefix)
{
    size_t n = strlen(prefix) + f->body_len;
    char *s = malloc(n + 1);
    assert_non_null(s);
    memcpy(s, prefix, strlen(prefix));
    memcpy(s + strlen(prefix), f->body, f->body_len);
    const recite_result *res;
    recite_error err = {0};
    assert_int_equal(recite_check_text(&res, f->chk, s, n, &err), RECITE_OK);
    free(s);
    for (size_t i = 0; i < res->nworks; i++) {
        recite_work_info wi;
        assert_int_equal(recite_index_work(&wi, f->index, res->works[i].work), RECITE_OK);
        if (strstr(wi.id, "stdio.h"))
            return &res->works[i];
    }
    fail_msg("stdio.h not found in the checked text");
    return NULL;
}

static void test_verdict_code_span(void **state)
{
    verdict_fixture *f = *state;
    /* Without its header: absent, and what was expected is the work's notice and license. */
    const recite_work_hit *h = check_with(f, "");
    assert_int_equal(h->cmi, RECITE_CMI_ABSENT);
    assert_string_equal(h->license, "LGPL-2.1-or-later");
    assert_non_null(strstr(h->copyright, "Free Software Foundation"));
    assert_string_equal(h->cmi_found, "");

    /* With it: present, with the notice's offsets in the output. */
    h = check_with(f, f->hdr);
    assert_int_equal(h->cmi, RECITE_CMI_PRESENT);
    assert_non_null(strstr(h->cmi_found, "Free Software Foundation"));
    assert_memory_equal(f->hdr + h->cmi_found_start, "Copyright", 9);

    /* Another holder's notice and another license: altered, pointing at the replacement. */
    const char *other = "/* Copyright (C) 2023 Example Widgets Corp.\n"
                        "   SPDX-License-Identifier: MIT */\n";
    h = check_with(f, other);
    assert_int_equal(h->cmi, RECITE_CMI_ALTERED);
    assert_non_null(strstr(h->cmi_found, "Example Widgets"));
    assert_int_equal(h->cmi_found_start, (uint64_t)(strstr(other, "Copyright") - other));

    /* The right holder with other years: altered. */
    char *years = strdup(f->hdr);
    char *c = strstr(years, "Copyright (C) 1991-");
    assert_non_null(c);
    memcpy(c + strlen("Copyright (C) "), "1997", 4);
    h = check_with(f, years);
    assert_int_equal(h->cmi, RECITE_CMI_ALTERED);
    assert_non_null(strstr(h->cmi_found, "1997-"));
    free(years);

    /* The right notice with an MIT license tag instead of the LGPL: altered. */
    char *lic;
    assert_true(asprintf(&lic, "// SPDX-License-Identifier: MIT\n%s", f->hdr) > 0);
    char *notice_end = strstr(lic, "Inc.");
    assert_non_null(notice_end);
    notice_end[4] = 0; /* the notice line alone: no LGPL wording after it */
    assert_true(asprintf(&c, "%s\n */\n", lic) > 0);
    h = check_with(f, c);
    assert_int_equal(h->cmi, RECITE_CMI_ALTERED);
    assert_string_equal(h->cmi_found, "MIT");
    free(lic);
    free(c);
}

static void test_verdict_none(void **state)
{
    verdict_fixture *f = *state;
    const char *s = "Seven small boats sailed past the lighthouse at dawn, their red sails bright "
                    "against the grey water, while gulls circled the harbour wall.";
    const recite_result *res;
    recite_error err = {0};
    assert_int_equal(recite_check_text(&res, f->chk, s, strlen(s), &err), RECITE_OK);
    assert_int_equal(res->nworks, 1);
    assert_int_equal(res->works[0].cmi, RECITE_CMI_NONE);
    assert_string_equal(res->works[0].license, "");

    /* The output's license is identified only when a matched work has one to compare with:
     * with the license-free work alone, no license matcher is even made. */
    const recite_work_hit plain = res->works[0];
    recite_work_hit hit = plain;
    const char *lic = "Licensed under the MIT license. Permission is hereby granted, free of "
                      "charge, to any person obtaining a copy of this software.";
    rc_license_matcher *lm = NULL;
    assert_int_equal(
        rc_cmi_verdicts(f->index, &lm, (const uint8_t *)lic, strlen(lic), &hit, 1, &err),
        RECITE_OK);
    assert_null(lm);
    assert_int_equal(hit.cmi, RECITE_CMI_NONE);
    /* ... and with stdio.h (LGPL) among the works, it is: MIT is another license. */
    const recite_work_hit *h = check_with(f, "");
    recite_work_hit two[2] = {plain, *h};
    assert_int_equal(
        rc_cmi_verdicts(f->index, &lm, (const uint8_t *)lic, strlen(lic), two, 2, &err), RECITE_OK);
    assert_non_null(lm);
    assert_int_equal(two[1].cmi, RECITE_CMI_ALTERED);
    assert_string_equal(two[1].cmi_found, "MIT");
    rc_license_matcher_free(lm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_marks_anywhere),
        cmocka_unit_test(test_extract_notices),
        cmocka_unit_test(test_extract_spdx_and_rights),
        cmocka_unit_test(test_extract_regions),
        cmocka_unit_test(test_same_holder),
        cmocka_unit_test(test_or_later),
        cmocka_unit_test_setup_teardown(test_identify_debian_texts, lic_setup, lic_teardown),
        cmocka_unit_test_setup_teardown(test_identify_installed_headers, lic_setup, lic_teardown),
        cmocka_unit_test_setup_teardown(test_identify_python_stdlib, lc_setup, lc_teardown),
        cmocka_unit_test_setup_teardown(test_identify_perl_modules, lc_setup, lc_teardown),
        cmocka_unit_test_setup_teardown(test_verdict_code_span, verdict_setup, verdict_teardown),
        cmocka_unit_test_setup_teardown(test_verdict_none, verdict_setup, verdict_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
