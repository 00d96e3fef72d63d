/*
 * cli_license.c — `recite license [--json] [--mode prose|code|auto] FILE...`: the license and
 * copyright notices of each file, as `recite index` records them for a work (an SPDX tag, else
 * the license its header states or is). Uses only include/recite.h; main.c dispatches here.
 * Exit status 0, or 2 with one `recite: ...` line on stderr (nothing printed on stdout).
 */
#include "recite.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int recite_cli_license(int argc, char **argv);

#define EXIT_USAGE 2

static const char license_usage[] =
    "usage: recite license [--json] [--mode prose|code|auto] FILE|-...\n"
    "\n"
    "The license of each FILE as `recite index` identifies it: its SPDX-License-Identifier\n"
    "tag, else the license its header states (or the license text it is), matched against\n"
    "the license texts of this machine, with a score (the share of the header's words that\n"
    "are the license's); and its copyright notices. --mode: how to find the header (code: the\n"
    "leading comments; prose: the start of the text; auto, the default: by file extension).\n"
    "\n"
    "exit status: 0 done, 2 error\n";

typedef struct lic_input {
    const char *name;
    char *data;
    size_t len;
} lic_input;

static int usage_error(const char *msg, const char *arg)
{
    fprintf(stderr, "recite: license: %s%s%s (see recite license --help)\n", msg, arg ? " " : "",
            arg ? arg : "");
    return EXIT_USAGE;
}

/* Reads a whole regular file (or standard input for "-"); false with a message on stderr for
 * a missing, unreadable, non-regular or binary one. */
static bool read_one(const char *name, lic_input *in)
{
    bool std_in = strcmp(name, "-") == 0;
    FILE *f = std_in ? stdin : fopen(name, "rb");
    in->name = name;
    in->data = NULL;
    in->len = 0;
    if (!f) {
        fprintf(stderr, "recite: %s: cannot open: %s\n", name, strerror(errno));
        return false;
    }
    struct stat st;
    if (!std_in && (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode))) {
        int e = errno;
        fprintf(stderr, "recite: %s: %s\n", name,
                fstat(fileno(f), &st) != 0 ? strerror(e)
                : S_ISDIR(st.st_mode)      ? "is a directory"
                                           : "not a regular file");
        fclose(f);
        return false;
    }
    size_t cap = 0;
    bool ok = true;
    for (;;) {
        if (in->len + 65536 + 1 > cap) {
            size_t ncap = cap ? cap * 2 : 131072;
            char *p = realloc(in->data, ncap);
            if (!p) {
                fprintf(stderr, "recite: %s: out of memory\n", name);
                ok = false;
                break;
            }
            in->data = p;
            cap = ncap;
        }
        size_t got = fread(in->data + in->len, 1, cap - in->len - 1, f);
        in->len += got;
        if (got == 0)
            break;
    }
    if (ok && ferror(f)) {
        fprintf(stderr, "recite: %s: read error: %s\n", name, strerror(errno));
        ok = false;
    }
    if (!std_in)
        fclose(f);
    if (ok && memchr(in->data, 0, in->len < 8000 ? in->len : 8000)) {
        fprintf(stderr, "recite: %s: binary input (contains NUL bytes); recite reads text\n", name);
        ok = false;
    }
    if (ok)
        in->data[in->len] = 0;
    return ok;
}

/* ==== output ==== */

/* Length of the valid UTF-8 sequence at p (0 when invalid) and its code point. */
static size_t utf8_seq(const unsigned char *p, size_t n, unsigned *cp)
{
    *cp = p[0];
    if (p[0] < 0x80)
        return 1;
    size_t len = p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
    if (p[0] > 0xf4 || len == 0 || len > n)
        return 0;
    unsigned v = p[0] & (0x7fu >> len);
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        v = v << 6 | (p[i] & 0x3fu);
    }
    if ((len == 3 && (v < 0x800 || (v >= 0xd800 && v <= 0xdfff))) ||
        (len == 4 && (v < 0x10000 || v > 0x10ffff)))
        return 0;
    *cp = v;
    return len;
}

/* A byte that is not UTF-8, read as Windows-1252 (as the library reads such text). */
static unsigned cp1252(unsigned char b)
{
    static const unsigned short c1[32] = {
        0x20ac, 0x81,   0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160,
        0x2039, 0x0152, 0x8d,   0x017d, 0x8f,   0x90,   0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
        0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x9d,   0x017e, 0x0178};
    return b >= 0x80 && b < 0xa0 ? c1[b - 0x80] : b;
}

static void json_str(const char *s)
{
    if (!s) {
        fputs("null", stdout);
        return;
    }
    size_t n = strlen(s);
    putchar('"');
    for (size_t i = 0; i < n;) {
        const unsigned char *p = (const unsigned char *)s + i;
        unsigned cp;
        size_t len = utf8_seq(p, n - i, &cp);
        if (len == 0) {
            printf("\\u%04x", cp1252(*p));
            i++;
            continue;
        }
        if (cp == '"' || cp == '\\')
            printf("\\%c", (char)cp);
        else if (cp == '\n')
            fputs("\\n", stdout);
        else if (cp == '\t')
            fputs("\\t", stdout);
        else if (cp < 0x20 || cp == 0x7f)
            printf("\\u%04x", cp);
        else
            fwrite(p, 1, len, stdout);
        i += len;
    }
    putchar('"');
}

static const char *from_name(recite_info_source from)
{
    switch (from) {
    case RECITE_FROM_SPDX: return "spdx";
    case RECITE_FROM_HEADER: return "header";
    case RECITE_FROM_TEXT: return "text";
    case RECITE_FROM_METADATA: return "metadata";
    default: return NULL;
    }
}

static void print_json(const char *name, const recite_license_info *li)
{
    bool known = li->license[0] != 0;
    fputs("{\"file\":", stdout);
    json_str(name);
    fputs(",\"license\":", stdout);
    json_str(known ? li->license : NULL);
    if (known)
        printf(",\"score\":%.4f,\"from\":", li->score);
    else
        fputs(",\"score\":null,\"from\":", stdout);
    json_str(known ? from_name(li->from) : NULL);
    printf(",\"full_text\":%s,\"copyright\":[", li->full_text ? "true" : "false");
    for (unsigned i = 0; i < li->ncopyright; i++) {
        if (i)
            putchar(',');
        json_str(li->copyright[i]);
    }
    fputs("],\"spdx_tag\":", stdout);
    json_str(li->spdx_tag[0] ? li->spdx_tag : NULL);
    putchar('}');
}

static void print_text(const char *name, const recite_license_info *li)
{
    if (li->license[0])
        printf("%s: %s (score %.2f, from %s)", name, li->license, li->score,
               from_name(li->from) ? from_name(li->from) : "?");
    else
        printf("%s: unknown", name);
    for (unsigned i = 0; i < li->ncopyright; i++)
        printf("%s%s", i ? "; " : "  ", li->copyright[i]);
    putchar('\n');
}

/* ==== the command ==== */

int recite_cli_license(int argc, char **argv)
{
    static const struct option opts[] = {{"json", no_argument, 0, 'J'},
                                         {"mode", required_argument, 0, 'M'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    bool json = false;
    recite_mode mode = RECITE_MODE_AUTO;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'J': json = true; break;
        case 'M':
            if (strcmp(optarg, "prose") == 0)
                mode = RECITE_MODE_PROSE;
            else if (strcmp(optarg, "code") == 0)
                mode = RECITE_MODE_CODE;
            else if (strcmp(optarg, "auto") == 0)
                mode = RECITE_MODE_AUTO;
            else
                return usage_error("--mode expects prose, code or auto, not", optarg);
            break;
        case 'h': fputs(license_usage, stdout); return 0;
        case ':': return usage_error("option needs a value:", argv[optind - 1]);
        default: return usage_error("unknown option", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return usage_error("no FILE", NULL);

    size_t n = (size_t)(argc - optind);
    lic_input *in = calloc(n, sizeof *in);
    recite_license_info *li = malloc(sizeof *li);
    recite_license_checker *lc = NULL;
    recite_error err = {0};
    int status = EXIT_USAGE;
    if (!in || !li) {
        fprintf(stderr, "recite: out of memory\n");
        goto done;
    }
    /* Every input is read first: a bad one fails the run before anything is printed. */
    for (size_t i = 0; i < n; i++)
        if (!read_one(argv[optind + (int)i], &in[i]))
            goto done;
    if (recite_license_checker_create(&lc, 0, &err) != RECITE_OK) {
        fprintf(stderr, "recite: %s\n", err.message[0] ? err.message : recite_strerror(err.code));
        goto done;
    }
    if (json && n > 1)
        putchar('[');
    for (size_t i = 0; i < n; i++) {
        if (recite_license_identify(lc, strcmp(in[i].name, "-") == 0 ? NULL : in[i].name,
                                    in[i].data, in[i].len, mode, li, &err) != RECITE_OK) {
            fflush(stdout);
            fprintf(stderr, "recite: %s\n",
                    err.message[0] ? err.message : recite_strerror(err.code));
            goto done;
        }
        if (json) {
            if (i)
                putchar(',');
            print_json(in[i].name, li);
        } else {
            print_text(in[i].name, li);
        }
        free(in[i].data); /* done with it: long lists need not stay in memory */
        in[i].data = NULL;
    }
    if (json)
        fputs(n > 1 ? "]\n" : "\n", stdout);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "recite: cannot write the output: %s\n", strerror(errno));
        goto done;
    }
    status = 0;
done:
    for (size_t i = 0; in && i < n; i++)
        free(in[i].data);
    free(in);
    free(li);
    recite_license_checker_free(lc);
    return status;
}
