/*
 * test_license.c — license identification (src/license, through recite_license_identify as
 * `recite license` and `recite index` use it), issue 13 points 11 to 15: full texts win over a
 * name they mention, near variants (replaced holders, bullets, distinctive clauses), SPDX
 * expressions (OR, AND, WITH an exception), notices in their many phrasings, and only ids of the
 * SPDX lists. Fixtures are the SPDX list's texts as scripts/deps.sh installs them, changed here,
 * files Debian ships, and notices written for this test.
 */
#include "test_util.h"

#include <jansson.h>

#include "license/rc_license.h"

#define SPDX_DATA "/usr/local/share/recite"
#define SPDX_TEXTS SPDX_DATA "/spdx-license-list/licenses"

/* ==== fixtures ==== */

static recite_license_checker *g_lc;
static json_t *g_ids, *g_deprecated, *g_exceptions; /* the SPDX lists (deps.sh) */

static json_t *load_list(const char *pkg, const char *file)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s/%s", SPDX_DATA, pkg, file);
    json_t *j = json_load_file(path, 0, NULL);
    if (!json_is_array(j))
        fail_msg("%s: missing or not a list (scripts/deps.sh installs it)", path);
    return j;
}

static int group_setup(void **state)
{
    (void)state;
    recite_error err = {0};
    if (recite_license_checker_create(&g_lc, NULL, &err) != RECITE_OK)
        fail_msg("recite_license_checker_create: %s", err.message);
    g_ids = load_list("spdx-license-ids", "index.json");
    g_deprecated = load_list("spdx-license-ids", "deprecated.json");
    g_exceptions = load_list("spdx-exceptions", "index.json");
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    recite_license_checker_free(g_lc);
    json_decref(g_ids);
    json_decref(g_deprecated);
    json_decref(g_exceptions);
    return 0;
}

/* The text of an SPDX license as the SPDX list has it (malloc'd). */
static char *spdx_text(const char *id)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.json", SPDX_TEXTS, id);
    json_t *o = json_load_file(path, 0, NULL);
    const char *t = json_string_value(json_object_get(o, "licenseText"));
    if (!t)
        fail_msg("%s: no licenseText (scripts/deps.sh installs the SPDX list)", path);
    char *s = strdup(t);
    json_decref(o);
    return s;
}

/* s with every `from` replaced by `to` (malloc'd; s is freed). */
static char *replace(char *s, const char *from, const char *to)
{
    size_t nf = strlen(from), nt = strlen(to), n = 0;
    for (const char *p = strstr(s, from); p; p = strstr(p + nf, from))
        n++;
    char *out = malloc(strlen(s) + n * nt + 1), *o = out;
    const char *p = s, *q;
    while ((q = strstr(p, from)) != NULL) {
        memcpy(o, p, (size_t)(q - p));
        o += q - p;
        memcpy(o, to, nt);
        o += nt;
        p = q + nf;
    }
    strcpy(o, p);
    free(s);
    return out;
}

static char *prepend(char *s, const char *head)
{
    char *out;
    assert_true(asprintf(&out, "%s%s", head, s) > 0);
    free(s);
    return out;
}

/* What `recite license` says of text (mode prose unless the name says otherwise). */
static recite_license_info identify_as(const char *name, const char *text, size_t len)
{
    recite_license_info li;
    recite_error err = {0};
    assert_int_equal(recite_license_identify(&li, g_lc, name, text, len, RECITE_MODE_AUTO, &err),
                     RECITE_OK);
    return li;
}

static recite_license_info identify_str(const char *text)
{
    return identify_as("text.txt", text, strlen(text));
}

/* ==== valid ids (point 15) ==== */

static bool in_list(const json_t *list, const char *id, size_t n)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        const char *s = json_string_value(v);
        if (s && strlen(s) == n && strncmp(s, id, n) == 0)
            return true;
    }
    return false;
}

/* Whether every id of the SPDX expression is a current (not deprecated) license id of the
 * SPDX list, and every exception after WITH an exception id; *why names the first bad one. */
static bool valid_expression(const char *expr, char *why, size_t cap)
{
    bool after_with = false;
    for (const char *p = expr; *p;) {
        while (*p == ' ' || *p == '(' || *p == ')')
            p++;
        if (!*p)
            break;
        size_t n = strcspn(p, " ()");
        if ((n == 3 && (strncmp(p, "AND", 3) == 0)) || (n == 2 && strncmp(p, "OR", 2) == 0)) {
            after_with = false;
        } else if (n == 4 && strncmp(p, "WITH", 4) == 0) {
            after_with = true;
        } else if (!(after_with ? in_list(g_exceptions, p, n) : in_list(g_ids, p, n))) {
            snprintf(why, cap, "\"%.*s\" is not a%s SPDX %s id", (int)n, p,
                     in_list(g_deprecated, p, n) ? " current" : "n",
                     after_with ? "exception" : "license");
            return false;
        }
        p += n;
    }
    return true;
}

static void expect_valid(const char *what, const recite_license_info *li)
{
    char why[256];
    if (li->license[0] && li->from != RECITE_FROM_SPDX &&
        !valid_expression(li->license, why, sizeof why))
        fail_msg("%s: identified as \"%s\": %s", what, li->license, why);
}

static void expect_id(const char *what, const recite_license_info *li, const char *want)
{
    if (strcmp(li->license, want) != 0)
        fail_msg("%s: identified as \"%s\", expected \"%s\"", what, li->license, want);
    expect_valid(what, li);
}

/* The library's table of deprecated ids is the SPDX list's, and what it reports instead is
 * valid; so are the exceptions the wording recognises. */
static void test_tables_valid(void **state)
{
    (void)state;
    const char *dep[64], *now[64];
    size_t nd = rc_license_deprecated(dep, now, 64);
    assert_int_equal(nd, json_array_size(g_deprecated));
    for (size_t i = 0; i < nd; i++) {
        if (!in_list(g_deprecated, dep[i], strlen(dep[i])))
            fail_msg("%s is not a deprecated SPDX id", dep[i]);
        char why[256];
        if (now[i] && !valid_expression(now[i], why, sizeof why))
            fail_msg("%s -> %s: %s", dep[i], now[i], why);
    }
    const char *exc[64];
    size_t ne = rc_license_exception_ids(exc, 64);
    assert_true(ne > 10);
    for (size_t i = 0; i < ne; i++)
        if (!in_list(g_exceptions, exc[i], strlen(exc[i])))
            fail_msg("%s is not an SPDX exception id", exc[i]);
}

/* ==== full texts win over a name they mention (point 11) ==== */

static void test_full_text_beats_name(void **state)
{
    (void)state;
    static const char *const ids[] = {
        "EPL-1.0", "EPL-2.0", "AGPL-1.0-only", "AGPL-3.0-only", "Python-2.0",    "PSF-2.0",
        "MPL-1.1", "MPL-2.0", "Apache-1.1",    "Apache-2.0",    "LGPL-2.1-only", "CDDL-1.0",
    };
    for (size_t i = 0; i < RC_ARRAY_LEN(ids); i++) {
        char *t = prepend(spdx_text(ids[i]), "Copyright (c) 2019 Jane Q. Example\n\n");
        recite_license_info li = identify_str(t);
        expect_id(ids[i], &li, ids[i]);
        assert_true(li.full_text);
        assert_int_equal(li.from, RECITE_FROM_TEXT);
        free(t);
    }
}

/* Every text of the SPDX list is identified as itself or as a license whose text is the same
 * (the list holds a few identical texts under two ids): the share of exact answers is printed,
 * and must stay above 95 %. */
static void test_spdx_list_sweep(void **state)
{
    (void)state;
    DIR *d = opendir(SPDX_TEXTS);
    assert_non_null(d);
    struct dirent *e;
    size_t n = 0, right = 0, step = getenv("RECITE_TEST_QUICK") ? 7 : 1, k = 0;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0 || k++ % step)
            continue;
        char id[256];
        snprintf(id, sizeof id, "%.*s", (int)(len - 5), e->d_name);
        /* A deprecated id is reported as what replaces it ("GPL-2.0-with-classpath-exception"
         * as "GPL-2.0-only WITH Classpath-exception-2.0"), or as the id with the same text. */
        const char *dep[64], *now[64];
        size_t nd = rc_license_deprecated(dep, now, 64);
        const char *replaced = NULL;
        bool deprecated = false;
        for (size_t i = 0; i < nd; i++)
            if (strcmp(dep[i], id) == 0)
                deprecated = true, replaced = now[i];
        char *t = spdx_text(id);
        recite_license_info li = identify_str(t);
        expect_valid(id, &li);
        if (deprecated && !replaced) { /* another id's text: not counted */
            free(t);
            continue;
        }
        /* Deprecated ids and -or-later twins carry the text of their current -only id. */
        char want[300];
        snprintf(want, sizeof want, "%s", id);
        size_t w = strlen(want);
        if (w > 1 && want[w - 1] == '+')
            want[w - 1] = 0;
        if (w > 9 && strcmp(want + w - 9, "-or-later") == 0)
            want[w - 9] = 0;
        char only[320];
        snprintf(only, sizeof only, "%s-only", want);
        bool ok = strcmp(li.license, id) == 0 || strcmp(li.license, want) == 0 ||
                  strcmp(li.license, only) == 0 || (replaced && strcmp(li.license, replaced) == 0);
        if (!ok) {
            /* the same text under another id */
            char *o = li.license[0] && !strchr(li.license, ' ') ? spdx_text(li.license) : NULL;
            ok = o && strcmp(o, t) == 0;
            free(o);
        }
        if (!ok && getenv("RECITE_TEST_VERBOSE"))
            fprintf(stderr, "# %s -> %s\n", id, li.license);
        right += ok;
        n++;
        free(t);
    }
    closedir(d);
    fprintf(stderr, "# SPDX list sweep: %zu of %zu texts identified as themselves (%.1f %%)\n",
            right, n, 100.0 * (double)right / (double)n);
    assert_true(n > 50);
    assert_true((double)right >= 0.95 * (double)n);
}

/* ==== near variants (point 12) ==== */

static void test_near_variants(void **state)
{
    (void)state;
    /* BSD-3-Clause naming "THE AUTHOR" (HP's variant says THE AUTHOR too, but has a patent
     * clause this text lacks) */
    char *t = spdx_text("BSD-3-Clause");
    t = replace(t, "Copyright (c) <year> <owner>.", "Copyright (c) 2004 Jane Q. Example");
    t = replace(t, "THE COPYRIGHT HOLDERS AND CONTRIBUTORS", "THE AUTHOR");
    t = replace(t, "THE COPYRIGHT HOLDER OR CONTRIBUTORS", "THE AUTHOR");
    t = replace(t, "the copyright holder", "the author");
    recite_license_info li = identify_str(t);
    expect_id("BSD-3-Clause naming THE AUTHOR", &li, "BSD-3-Clause");
    free(t);

    /* ... with bullets instead of numbers, and "the Regents" */
    t = spdx_text("BSD-3-Clause");
    t = replace(t, "Copyright (c) <year> <owner>.", "Copyright (c) 1994 The Regents.");
    t = replace(t, "\n1. ", "\n * ");
    t = replace(t, "\n2. ", "\n * ");
    t = replace(t, "\n3. ", "\n * ");
    t = replace(t, "THE COPYRIGHT HOLDERS AND CONTRIBUTORS", "THE REGENTS AND CONTRIBUTORS");
    t = replace(t, "THE COPYRIGHT HOLDER OR CONTRIBUTORS", "THE REGENTS OR CONTRIBUTORS");
    li = identify_str(t);
    expect_id("BSD-3-Clause with bullets, the Regents", &li, "BSD-3-Clause");
    free(t);

    /* HP's own text, with its patent clause, stays HP's */
    t = spdx_text("BSD-3-Clause-HP");
    li = identify_str(t);
    expect_id("BSD-3-Clause-HP", &li, "BSD-3-Clause-HP");
    free(t);

    /* BSD-2-Clause naming "THE AUTHOR AND CONTRIBUTORS", clauses lettered */
    t = spdx_text("BSD-2-Clause");
    t = replace(t, "THE COPYRIGHT HOLDERS AND CONTRIBUTORS", "THE AUTHOR AND CONTRIBUTORS");
    t = replace(t, "THE COPYRIGHT HOLDER OR CONTRIBUTORS", "THE AUTHOR OR CONTRIBUTORS");
    t = replace(t, "\n1. ", "\n(a) ");
    t = replace(t, "\n2. ", "\n(b) ");
    li = identify_str(t);
    expect_id("BSD-2-Clause naming THE AUTHOR", &li, "BSD-2-Clause");
    free(t);

    /* X11 with another consortium keeps its non-endorsement clause; MIT has none */
    t = spdx_text("X11");
    t = replace(t, "X Consortium", "Example Widget Group");
    li = identify_str(t);
    expect_id("X11 with another holder", &li, "X11");
    free(t);
    t = prepend(spdx_text("MIT"), "Copyright 2020 Jane Q. Example\n");
    li = identify_str(t);
    expect_id("MIT", &li, "MIT");
    free(t);

    /* Apache-1.1 naming another foundation is still Apache-1.1, not Entessa (Apache 1.1 with
     * Entessa's names) */
    t = spdx_text("Apache-1.1");
    t = replace(t, "Apache Software Foundation", "Example Software Foundation");
    li = identify_str(t);
    expect_id("Apache-1.1 with another foundation", &li, "Apache-1.1");
    free(t);
    t = spdx_text("Entessa");
    li = identify_str(t);
    expect_id("Entessa", &li, "Entessa");
    free(t);

    /* ShareAlike texts have their ShareAlike section; the Attribution text has none */
    static const char *const cc[] = {"CC-BY-SA-4.0", "CC-BY-4.0", "CC-BY-SA-3.0", "CC-BY-3.0"};
    for (size_t i = 0; i < RC_ARRAY_LEN(cc); i++) {
        t = replace(spdx_text(cc[i]), "\n\n", "\n");
        li = identify_str(t);
        expect_id(cc[i], &li, cc[i]);
        free(t);
    }
}

/* ==== expressions (point 13) ==== */

static void test_expressions(void **state)
{
    (void)state;
    recite_license_info li = identify_str(
        "Copyright 2021 Jane Q. Example\n\n"
        "This project is dual-licensed: you may use it under the terms of the MIT license or\n"
        "under the Apache License, Version 2.0, at your option.\n");
    expect_id("dual MIT / Apache notice", &li, "MIT OR Apache-2.0");

    /* Two license texts one after the other: both apply */
    char *mit = spdx_text("MIT"), *zlib = spdx_text("Zlib"), *t;
    assert_true(asprintf(&t,
                         "Copyright 2020 Jane Q. Example\n\n%s\n\n"
                         "The bundled inflate code is under this license instead:\n\n%s\n",
                         mit, zlib) > 0);
    li = identify_str(t);
    expect_id("MIT text and zlib text", &li, "MIT AND Zlib");
    free(t);

    /* A text that offers the choice between two full licenses */
    char *bsd = spdx_text("BSD-2-Clause");
    assert_true(asprintf(&t,
                         "Copyright 2020 Jane Q. Example\n\nThis software is dual licensed. You "
                         "may choose either of the following licenses.\n\n%s\n\nAlternatively, "
                         "this software may be distributed under the terms of the following "
                         "license:\n\n%s\n",
                         bsd, mit) > 0);
    li = identify_str(t);
    expect_id("BSD-2-Clause or MIT texts", &li, "BSD-2-Clause OR MIT");
    free(t);

    /* A license text, and two names offered as alternatives for other files */
    assert_true(asprintf(&t,
                         "Copyright 2020 Jane Q. Example\n\n%s\n\nThe files in lib/ are free "
                         "software: you can redistribute them under the terms of either the GNU "
                         "Lesser General Public License, version 3 or later, or the GNU General "
                         "Public License, version 2 or later.\n",
                         mit) > 0);
    li = identify_str(t);
    expect_id("MIT text, LGPL or GPL names", &li,
              "MIT AND (LGPL-3.0-or-later OR GPL-2.0-or-later)");
    free(t);
    li = identify_str("Copyright (C) 2000 Jane Q. Example\n\nYou can choose between two licenses "
                      "when using this package:\n1) GNU GPLv2\n2) PSF license for Python 2.2\n");
    expect_id("a choice between two names", &li, "GPL-2.0-only OR PSF-2.0");
    free(mit);
    free(zlib);
    free(bsd);

    /* Exceptions, by their wording: GCC's runtime library exception (libstdc++'s headers) */
    size_t len = 0;
    char *f = read_file("/usr/include/c++/12/limits", &len);
    if (!f) /* another GCC version */
        fail_msg("/usr/include/c++/12/limits is missing (g++ / libstdc++-12-dev)");
    li = identify_as("limits.h", f, len);
    expect_id("libstdc++ <limits>", &li, "GPL-3.0-or-later WITH GCC-exception-3.1");
    free(f);
    /* autoconf's generic exception (pkg-config's pkg.m4) */
    f = read_file("/usr/share/aclocal/pkg.m4", &len);
    assert_non_null(f);
    li = identify_as("pkg.m4", f, len);
    expect_id("pkg.m4", &li, "GPL-2.0-or-later WITH Autoconf-exception-generic");
    free(f);

    static const struct {
        const char *text, *id;
    } notes[] = {
        {"/*\n * This code is free software; you can redistribute it and/or modify it\n"
         " * under the terms of the GNU General Public License version 2 only, as\n"
         " * published by the Free Software Foundation.  Example Corp designates this\n"
         " * particular file as subject to the \"Classpath\" exception as provided\n"
         " * by Example Corp in the LICENSE file that accompanied this code.\n */\n",
         "GPL-2.0-only WITH Classpath-exception-2.0"},
        {"# This library is free software; you can redistribute it and/or modify it under\n"
         "# the terms of the GNU General Public License as published by the Free Software\n"
         "# Foundation; either version 2 of the License, or (at your option) any later version.\n"
         "#\n# Linking this library statically or dynamically with other modules is making a\n"
         "# combined work based on this library. As a special exception, the copyright\n"
         "# holders of this library give you permission to link this library with\n"
         "# independent modules to produce an executable, regardless of the license terms\n"
         "# of these independent modules.\n",
         "GPL-2.0-or-later WITH Classpath-exception-2.0"},
        {"   This program is free software: you can redistribute it and/or modify\n"
         "   it under the terms of the GNU General Public License as published by\n"
         "   the Free Software Foundation, either version 3 of the License, or\n"
         "   (at your option) any later version.\n\n"
         "   As a special exception, you may create a larger work that contains\n"
         "   part or all of the Bison parser skeleton and distribute that work\n"
         "   under terms of your choice.\n",
         "GPL-3.0-or-later WITH Bison-exception-2.2"},
        {"# This file is free software; you can redistribute it and/or modify it\n"
         "# under the terms of the GNU General Public License as published by the\n"
         "# Free Software Foundation; either version 2 of the License, or (at your\n"
         "# option) any later version.\n#\n"
         "# As a special exception to the GNU General Public License, if you\n"
         "# distribute this file as part of a program or library that is built\n"
         "# using GNU Libtool, you may include this file under the same\n"
         "# distribution terms that you use for the rest of that program.\n",
         "GPL-2.0-or-later WITH Libtool-exception"},
        {"Licensed under the Apache License v2.0 with LLVM Exceptions.\n"
         "See https://llvm.org/LICENSE.txt for license information.\n",
         "Apache-2.0 WITH LLVM-exception"},
    };
    for (size_t i = 0; i < RC_ARRAY_LEN(notes); i++) {
        li = identify_as("notice.c", notes[i].text, strlen(notes[i].text));
        expect_id(notes[i].text, &li, notes[i].id);
    }
}

/* ==== notices in their many phrasings (point 14) ==== */

static const struct {
    const char *text, *id;
} notices[] = {
    {"This program is released under the GPL.", "GPL-1.0-or-later"},
    {"Released under the GNU General Public License.", "GPL-1.0-or-later"},
    {"This file may be distributed under the terms of version 2 of the GNU General Public "
     "License.",
     "GPL-2.0-only"},
    {"You can redistribute it and/or modify it under version 2 of the GNU General Public "
     "License, or (at your option) any later version.",
     "GPL-2.0-or-later"},
    {"Distributed under the GNU GPL v2 or later.", "GPL-2.0-or-later"},
    {"License: GPLv3+", "GPL-3.0-or-later"},
    {"This code is licensed under the GPLv2.", "GPL-2.0-only"},
    {"Licensed under the GPL-2 or any later version.", "GPL-2.0-or-later"},
    {"This library is distributed under the terms of the GNU Lesser General Public License "
     "version 2.1.",
     "LGPL-2.1-only"},
    {"Licensed under the LGPL v3 or later.", "LGPL-3.0-or-later"},
    {"This library is free software; you can redistribute it under the terms of the GNU "
     "Library General Public License as published by the Free Software Foundation; either "
     "version 2 of the License, or (at your option) any later version.",
     "LGPL-2.0-or-later"},
    {"This program is free software: you can redistribute it under the terms of the GNU "
     "Affero General Public License as published by the Free Software Foundation, version 3.",
     "AGPL-3.0-only"},
    {"Licensed under the Apache License, Version 2 (the \"License\"); you may not use this "
     "file except in compliance with the License.",
     "Apache-2.0"},
    {"Licensed under the Apache License 2.0.", "Apache-2.0"},
    {"SPDX: none. This module is available under the Apache 2.0 license.", "Apache-2.0"},
    {"This Source Code Form is subject to the terms of the Mozilla Public License, Version 2.0.",
     "MPL-2.0"},
    {"The contents of this file are subject to the Mozilla Public License Version 1.1 (the "
     "\"License\"); you may not use this file except in compliance with the License.",
     "MPL-1.1"},
    {"Use of this source code is governed by the MIT license.", "MIT"},
    {"Released under the MIT License. See LICENSE for details.", "MIT"},
    {"This library is MIT licensed.", "MIT"},
    {"Distributed under the Boost Software License, Version 1.0.", "BSL-1.0"},
    {"This software is released under the 3-clause BSD license.", "BSD-3-Clause"},
    {"Licensed under the new BSD license.", "BSD-3-Clause"},
    {"Use is subject to the simplified BSD license.", "BSD-2-Clause"},
    {"This work is licensed under the Creative Commons Attribution 4.0 International License.",
     "CC-BY-4.0"},
    {"This work is licensed under a Creative Commons Attribution-ShareAlike 3.0 Unported "
     "License.",
     "CC-BY-SA-3.0"},
    {"This program and the accompanying materials are made available under the terms of the "
     "Eclipse Public License v1.0.",
     "EPL-1.0"},
    {"This program and the accompanying materials are made available under the terms of the "
     "Eclipse Public License 2.0.",
     "EPL-2.0"},
    {"Licensed under the ISC license.", "ISC"},
    {"This is free and unencumbered software released into the public domain (the "
     "Unlicense).",
     "Unlicense"},
    {"Licensed under the zlib license.", "Zlib"},
    {"Distributed under the Artistic License 2.0.", "Artistic-2.0"},
    {"Licensed under the Common Development and Distribution License, Version 1.0 only.",
     "CDDL-1.0"},
    /* short permissive texts with no license keyword */
    {"Copying and distribution of this file, with or without modification, are permitted in "
     "any medium without royalty provided the copyright notice and this notice are preserved. "
     "This file is offered as-is, without any warranty.",
     "FSFAP"},
    {"This file is free software; the Free Software Foundation gives unlimited permission to "
     "copy and/or distribute it, with or without modifications, as long as this notice is "
     "preserved.",
     "FSFULLR"},
    {"This configure script is free software; the Free Software Foundation gives unlimited "
     "permission to copy, distribute and modify it.",
     "FSFUL"},
};

static void test_notices(void **state)
{
    (void)state;
    size_t right = 0;
    for (size_t i = 0; i < RC_ARRAY_LEN(notices); i++) {
        char *t;
        assert_true(asprintf(&t, "/*\n * Copyright (C) 2012 Jane Q. Example\n *\n * %s\n */\n",
                             notices[i].text) > 0);
        recite_license_info li = identify_as("notice.c", t, strlen(t));
        expect_valid(notices[i].text, &li);
        if (strcmp(li.license, notices[i].id) == 0)
            right++;
        else
            fprintf(stderr, "# \"%s\" -> \"%s\", expected \"%s\"\n", notices[i].text, li.license,
                    notices[i].id);
        free(t);
    }
    fprintf(stderr, "# notices: %zu of %zu right\n", right, RC_ARRAY_LEN(notices));
    assert_int_equal(right, RC_ARRAY_LEN(notices));

    /* A quotation of the GPL 3's preamble names "the GNU General Public License" without a
     * version: its words are the GPL 3's, not any GPL (GPL-1.0-or-later). */
    size_t len = 0;
    char *gpl = read_file("/usr/share/common-licenses/GPL-3", &len);
    assert_non_null(gpl);
    char *a = strstr(gpl, "  The licenses for most software");
    assert_non_null(a);
    char *e = strstr(a, "\n\n");
    assert_non_null(e);
    recite_license_info li = identify_as("quote.txt", a, (size_t)(e - a));
    if (strncmp(li.license, "GPL-3.0", 7) != 0)
        fail_msg("the GPL 3 preamble identified as \"%s\"", li.license);
    free(gpl);
}

/* ==== every id printed is on the SPDX lists (point 15): headers of this machine ==== */

static void test_installed_headers_valid(void **state)
{
    (void)state;
    static const char *const dirs[] = {"/usr/include", "/usr/include/linux", "/usr/include/c++/12",
                                       "/usr/share/aclocal"};
    size_t n = 0, known = 0;
    for (size_t k = 0; k < RC_ARRAY_LEN(dirs); k++) {
        DIR *d = opendir(dirs[k]);
        if (!d)
            continue;
        struct dirent *e;
        size_t taken = 0, limit = getenv("RECITE_TEST_QUICK") ? 15 : 120;
        while ((e = readdir(d)) != NULL && taken < limit) {
            if (e->d_name[0] == '.')
                continue;
            char *p = path_join(dirs[k], e->d_name);
            struct stat sb;
            size_t len = 0;
            char *text = stat(p, &sb) == 0 && S_ISREG(sb.st_mode) ? read_file(p, &len) : NULL;
            if (text && !memchr(text, 0, len)) {
                recite_license_info li = identify_as(p, text, len);
                expect_valid(p, &li);
                known += li.license[0] != 0;
                n++;
                taken++;
            }
            free(text);
            free(p);
        }
        closedir(d);
    }
    fprintf(stderr, "# installed files: %zu of %zu with a license, every id valid\n", known, n);
    assert_true(n > 40 && known > 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables_valid),    cmocka_unit_test(test_full_text_beats_name),
        cmocka_unit_test(test_near_variants),   cmocka_unit_test(test_expressions),
        cmocka_unit_test(test_notices),         cmocka_unit_test(test_installed_headers_valid),
        cmocka_unit_test(test_spdx_list_sweep),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
