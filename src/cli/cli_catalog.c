/*
 * cli_catalog.c — `recite catalog list|runs|delete|audit`: the provenance catalogue of an index
 * directory as an aligned table, CSV (RFC 4180) or JSON, and deletions with their audit entry.
 * Uses only include/recite.h; main.c dispatches `recite catalog ...` here. Exit status 0, or 2
 * with one `recite: ...` line on stderr.
 */
#include "cli.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char catalog_usage[] =
    "usage:\n"
    "  recite catalog list --index DIR [--source S] [--license L] [--run R] [--deleted]\n"
    "                      [--format table|csv|json]\n"
    "  recite catalog runs --index DIR [--format table|csv|json]\n"
    "  recite catalog delete --index DIR --work ID --why TEXT [--who NAME]\n"
    "  recite catalog audit --index DIR [--format table|csv|json]\n"
    "\n"
    "list    the works of the index with their provenance, in index order; --source (purchased,\n"
    "        scanned, licensed, public-domain, shadow-library, unknown), --license (SPDX id,\n"
    "        any case) and --run (a training run) filter; deleted works only with --deleted\n"
    "runs    the training runs and how many works (not deleted) each used\n"
    "delete  mark a work deleted (its stored text is purged at the next compaction) and append\n"
    "        who (default: $USER), when and why to the audit log\n"
    "audit   the audit log, oldest first\n"
    "\n"
    "--json is short for --format json. exit status: 0 done, 2 error\n";

typedef enum { FMT_TABLE, FMT_CSV, FMT_JSON } out_format;

/* ==== messages ==== */

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cli_error("catalog: %s (see recite catalog --help)", msg);
    return EXIT_USAGE;
}

/* ==== UTF-8 ==== */

/* Columns a character takes on a terminal: 2 for East Asian wide ones, 0 for combining marks. */
static size_t char_width(unsigned cp)
{
    if ((cp >= 0x300 && cp <= 0x36f) || (cp >= 0x200b && cp <= 0x200f))
        return 0;
    if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf && cp != 0x303f) ||
        (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
        (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
        (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1f64f) ||
        (cp >= 0x20000 && cp <= 0x3fffd))
        return 2;
    return 1;
}

/* Columns a string takes (an invalid byte counts one). */
static size_t display_width(const char *s)
{
    size_t w = 0, n = strlen(s);
    for (size_t i = 0; i < n;) {
        unsigned cp;
        size_t len = cli_utf8_seq((const unsigned char *)s + i, n - i, &cp);
        w += len ? char_width(cp) : 1;
        i += len ? len : 1;
    }
    return w;
}

/* ==== JSON and CSV ==== */

/* One CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF; quotes doubled.
 * NULL is an empty field. */
static void csv_field(FILE *f, const char *s, bool last)
{
    if (s && s[strcspn(s, ",\"\r\n")]) {
        fputc('"', f);
        for (; *s; s++) {
            if (*s == '"')
                fputc('"', f);
            fputc(*s, f);
        }
        fputc('"', f);
    } else if (s) {
        fputs(s, f);
    }
    fputc(last ? '\n' : ',', f);
}

static void csv_row(FILE *f, const char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        csv_field(f, v[i], i + 1 == n);
}

/* ==== aligned tables ==== */

typedef struct table {
    size_t ncol;
    const char *const *head;
    const size_t *cap; /* widest a column may be (0 = no limit); longer cells are cut with … */
    char **cells;      /* nrows * ncol */
    size_t nrows, size;
    bool oom;
} table;

/* A copy for display: NULL and "" become "-", control characters a space, and a cell wider
 * than `cap` columns is cut at a character boundary and ends with "…". */
static char *cell(const char *s, size_t cap)
{
    if (!s || !*s)
        s = "-";
    size_t n = strlen(s), w = 0, o = 0;
    bool cut = cap && display_width(s) > cap;
    char *out = malloc(n + 4);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n;) {
        unsigned cp;
        size_t len = cli_utf8_seq((const unsigned char *)s + i, n - i, &cp);
        size_t cw = len ? char_width(cp) : 1;
        if (cut && w + cw > cap - 1)
            break;
        if (len == 0)
            len = 1;
        if (len == 1 && ((unsigned char)s[i] < 0x20 || s[i] == 0x7f))
            out[o++] = ' ';
        else
            memcpy(out + o, s + i, len), o += len;
        i += len;
        w += cw;
    }
    if (cut) {
        memcpy(out + o, "\xe2\x80\xa6", 3);
        o += 3;
    }
    out[o] = 0;
    return out;
}

static void table_add(table *t, const char *const *v)
{
    if (t->oom)
        return;
    if ((t->nrows + 1) * t->ncol > t->size) {
        size_t size = t->size ? t->size * 2 : 64 * t->ncol;
        char **p = realloc(t->cells, size * sizeof *p);
        if (!p) {
            t->oom = true;
            return;
        }
        t->cells = p;
        t->size = size;
    }
    char **row = t->cells + t->nrows * t->ncol;
    for (size_t c = 0; c < t->ncol; c++) {
        row[c] = cell(v[c], t->cap[c]);
        if (!row[c]) {
            t->oom = true;
            for (size_t k = 0; k < c; k++)
                free(row[k]);
            return;
        }
    }
    t->nrows++;
}

static void table_print(const table *t, FILE *f)
{
    size_t width[16] = {0};
    for (size_t c = 0; c < t->ncol && c < 16; c++) {
        width[c] = display_width(t->head[c]);
        for (size_t r = 0; r < t->nrows; r++) {
            size_t w = display_width(t->cells[r * t->ncol + c]);
            if (w > width[c])
                width[c] = w;
        }
    }
    for (size_t r = 0; r <= t->nrows; r++) {
        for (size_t c = 0; c < t->ncol; c++) {
            const char *s = r == 0 ? t->head[c] : t->cells[(r - 1) * t->ncol + c];
            fputs(s, f);
            if (c + 1 < t->ncol)
                fprintf(f, "%*s", (int)(width[c] - display_width(s) + 2), "");
        }
        fputc('\n', f);
    }
}

static void table_free(table *t)
{
    for (size_t i = 0; i < t->nrows * t->ncol; i++)
        free(t->cells[i]);
    free(t->cells);
}

/* ==== subcommands ==== */

typedef struct args {
    const char *index, *work, *who, *why;
    recite_catalog_filter filter;
    out_format format;
} args;

typedef struct sink {
    out_format format;
    table tab;
    size_t rows;
} sink;

static void json_sep(sink *s)
{
    fputs(s->rows++ ? ",\n" : "[\n", stdout);
}

static void json_end(sink *s)
{
    fputs(s->rows ? "\n]\n" : "[]\n", stdout);
}

static void json_runs_array(const char *runs)
{
    fputc('[', stdout);
    for (const char *p = runs; p && *p;) {
        size_t n = strcspn(p, ",");
        if (p != runs)
            fputc(',', stdout);
        cli_json_mem(stdout, p, n);
        p += n + (p[n] == ',');
    }
    fputc(']', stdout);
}

static int on_work(const recite_catalog_work *w, void *user)
{
    sink *s = user;
    char bytes[24], tokens[24], cluster[16];
    snprintf(bytes, sizeof bytes, "%llu", (unsigned long long)w->bytes);
    snprintf(tokens, sizeof tokens, "%llu", (unsigned long long)w->tokens);
    snprintf(cluster, sizeof cluster, "%u", w->cluster);
    switch (s->format) {
    case FMT_TABLE: {
        const char *v[] = {w->id, w->source, w->license, w->title, w->runs, w->deleted_at};
        table_add(&s->tab, v);
        return s->tab.oom;
    }
    case FMT_CSV: {
        const char *v[] = {w->id,           w->title, w->author,     w->license,    w->copyright,
                           w->source,       w->url,   bytes,         tokens,        cluster,
                           w->content_hash, w->runs,  w->deleted_at, w->deleted_by, w->deleted_why};
        csv_row(stdout, v, sizeof v / sizeof *v);
        return 0;
    }
    case FMT_JSON: {
        json_sep(s);
        const char *keys[] = {"id", "title", "author", "license", "copyright", "source", "url"};
        const char *vals[] = {w->id,        w->title,  w->author, w->license,
                              w->copyright, w->source, w->url};
        for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
            printf(i ? ",\"%s\":" : "{\"%s\":", keys[i]);
            cli_json_str(stdout, vals[i]);
        }
        printf(",\"content_hash\":");
        cli_json_str(stdout, w->content_hash);
        printf(",\"bytes\":%s,\"tokens\":%s,\"cluster\":%s,\"runs\":", bytes, tokens, cluster);
        json_runs_array(w->runs);
        printf(",\"deleted\":%s,\"deleted_at\":", w->deleted_at ? "true" : "false");
        cli_json_str(stdout, w->deleted_at);
        printf(",\"deleted_by\":");
        cli_json_str(stdout, w->deleted_by);
        printf(",\"deleted_why\":");
        cli_json_str(stdout, w->deleted_why);
        putchar('}');
        return 0;
    }
    }
    return 0;
}

static int on_run(const char *run, uint64_t works, void *user)
{
    sink *s = user;
    char n[24];
    snprintf(n, sizeof n, "%llu", (unsigned long long)works);
    const char *v[] = {run, n};
    switch (s->format) {
    case FMT_TABLE: table_add(&s->tab, v); return s->tab.oom;
    case FMT_CSV: csv_row(stdout, v, 2); return 0;
    case FMT_JSON:
        json_sep(s);
        fputs("{\"run\":", stdout);
        cli_json_str(stdout, run);
        printf(",\"works\":%s}", n);
        return 0;
    }
    return 0;
}

static int on_audit(const char *at, const char *who, const char *action, const char *work_id,
                    const char *why, void *user)
{
    sink *s = user;
    const char *v[] = {at, who, action, work_id, why};
    switch (s->format) {
    case FMT_TABLE: table_add(&s->tab, v); return s->tab.oom;
    case FMT_CSV: csv_row(stdout, v, 5); return 0;
    case FMT_JSON: {
        static const char *const keys[] = {"at", "who", "action", "work", "why"};
        json_sep(s);
        for (size_t i = 0; i < 5; i++) {
            printf(i ? ",\"%s\":" : "{\"%s\":", keys[i]);
            cli_json_str(stdout, v[i]);
        }
        putchar('}');
        return 0;
    }
    }
    return 0;
}

typedef enum { SUB_LIST, SUB_RUNS, SUB_DELETE, SUB_AUDIT } subcommand;

static int run_query(subcommand sub, const args *a)
{
    static const char *const list_head[] = {"id", "source", "license", "title", "runs", "deleted"};
    static const size_t list_cap[] = {60, 14, 24, 40, 32, 0};
    static const char *const list_csv[] = {"id",         "title",      "author",       "license",
                                           "copyright",  "source",     "url",          "bytes",
                                           "tokens",     "cluster",    "content_hash", "runs",
                                           "deleted_at", "deleted_by", "deleted_why"};
    static const char *const runs_head[] = {"run", "works"};
    static const size_t runs_cap[] = {0, 0};
    static const char *const audit_head[] = {"at", "who", "action", "work", "why"};
    static const size_t audit_cap[] = {0, 32, 0, 60, 0};

    sink s = {a->format, {0}, 0};
    if (sub == SUB_LIST)
        s.tab = (table){6, list_head, list_cap, NULL, 0, 0, false};
    else if (sub == SUB_RUNS)
        s.tab = (table){2, runs_head, runs_cap, NULL, 0, 0, false};
    else
        s.tab = (table){5, audit_head, audit_cap, NULL, 0, 0, false};

    recite_catalog *cat;
    recite_error err = {0};
    if (cli_catalog_open(&cat, a->index, 0, &err) != RECITE_OK)
        return cli_fail(&err);
    if (a->format == FMT_CSV)
        csv_row(stdout, sub == SUB_LIST ? list_csv : s.tab.head,
                sub == SUB_LIST ? sizeof list_csv / sizeof *list_csv : s.tab.ncol);
    int rc = sub == SUB_LIST   ? recite_catalog_list(cat, &a->filter, on_work, &s, &err)
             : sub == SUB_RUNS ? recite_catalog_runs(cat, on_run, &s, &err)
                               : recite_catalog_audit(cat, on_audit, &s, &err);
    recite_catalog_close(cat);
    int status = 0;
    if (rc != RECITE_OK) {
        fflush(stdout);
        status = cli_fail(&err);
    } else if (s.tab.oom) {
        fprintf(stderr, "recite: out of memory\n");
        status = EXIT_USAGE;
    } else {
        if (a->format == FMT_TABLE)
            table_print(&s.tab, stdout);
        else if (a->format == FMT_JSON)
            json_end(&s);
        status = cli_finish_output();
    }
    table_free(&s.tab);
    return status;
}

int cli_catalog_open(recite_catalog **cat, const char *dir, int writable, recite_error *err)
{
    int rc = recite_catalog_open(cat, dir, writable, err), current = 1;
    if (rc == RECITE_OK && (rc = recite_catalog_current(*cat, dir, &current, err)) == RECITE_OK &&
        !current) {
        recite_catalog_close(*cat);
        *cat = NULL;
        if ((rc = recite_catalog_build(dir, err)) == RECITE_OK) {
            fprintf(stderr,
                    "recite: %s: the catalogue was made for an earlier index (a build stopped "
                    "after publishing this one): remade, its deletions and audit log kept\n",
                    dir);
            rc = recite_catalog_open(cat, dir, writable, err);
        } else { /* a read-only directory, a full disk: say what is wrong first */
            char why[sizeof err->message];
            snprintf(why, sizeof why, "%s", err->message);
            snprintf(
                err->message, sizeof err->message,
                "%.200s: the catalogue was made for an earlier index and cannot be remade (%.230s)",
                dir, why);
        }
    }
    if (rc != RECITE_OK) {
        recite_catalog_close(*cat);
        *cat = NULL;
    }
    return rc;
}

static int run_delete(const args *a)
{
    const char *who = a->who;
    if (!who) {
        who = getenv("USER");
        if (!who || !*who)
            who = "unknown";
    }
    recite_catalog *cat;
    recite_error err = {0};
    if (cli_catalog_open(&cat, a->index, 1, &err) != RECITE_OK)
        return cli_fail(&err);
    int rc = recite_catalog_delete(cat, a->work, who, a->why, &err);
    recite_catalog_close(cat);
    if (rc != RECITE_OK)
        return cli_fail(&err);
    printf("deleted %s (by %s)\n", a->work, who);
    return cli_finish_output();
}

/* ==== arguments ==== */

enum {
    OPT_INDEX = 'i',
    OPT_HELP = 'h',
    OPT_SOURCE = 256,
    OPT_LICENSE,
    OPT_RUN,
    OPT_DELETED,
    OPT_FORMAT,
    OPT_JSON,
    OPT_WORK,
    OPT_WHY,
    OPT_WHO
};

/* Which options each subcommand takes (bit = option - OPT_SOURCE). */
#define BIT(o) (1u << ((o)-OPT_SOURCE))
static const unsigned allowed[] = {
    [SUB_LIST] = BIT(OPT_SOURCE) | BIT(OPT_LICENSE) | BIT(OPT_RUN) | BIT(OPT_DELETED) |
                 BIT(OPT_FORMAT) | BIT(OPT_JSON),
    [SUB_RUNS] = BIT(OPT_FORMAT) | BIT(OPT_JSON),
    [SUB_DELETE] = BIT(OPT_WORK) | BIT(OPT_WHY) | BIT(OPT_WHO),
    [SUB_AUDIT] = BIT(OPT_FORMAT) | BIT(OPT_JSON),
};

int cli_catalog(int argc, char **argv)
{
    static const char *const names[] = {"list", "runs", "delete", "audit"};
    static const struct option opts[] = {{"index", required_argument, 0, OPT_INDEX},
                                         {"source", required_argument, 0, OPT_SOURCE},
                                         {"license", required_argument, 0, OPT_LICENSE},
                                         {"run", required_argument, 0, OPT_RUN},
                                         {"deleted", no_argument, 0, OPT_DELETED},
                                         {"format", required_argument, 0, OPT_FORMAT},
                                         {"json", no_argument, 0, OPT_JSON},
                                         {"work", required_argument, 0, OPT_WORK},
                                         {"why", required_argument, 0, OPT_WHY},
                                         {"who", required_argument, 0, OPT_WHO},
                                         {"help", no_argument, 0, OPT_HELP},
                                         {0, 0, 0, 0}};
    if (argc < 2)
        return usage_error("missing subcommand: list, runs, delete or audit");
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
        fputs(catalog_usage, stdout);
        return 0;
    }
    int sub = -1;
    for (int i = 0; i < 4; i++)
        if (strcmp(name, names[i]) == 0)
            sub = i;
    if (sub < 0)
        return usage_error(name[0] == '-'
                               ? "expected a subcommand before '%s'"
                               : "unknown subcommand '%s'; expected list, runs, delete or audit",
                           name);

    args a = {0};
    a.format = FMT_TABLE;
    int sargc = argc - 1;
    char **sargv = argv + 1;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(sargc, sargv, ":i:h", opts, NULL)) != -1) {
        if (c == '?' || c == ':') {
            const char *arg = sargv[optind - 1];
            if (c == ':')
                return usage_error("option '%s' needs a value", arg);
            if (optopt && strncmp(arg, "--", 2) != 0)
                return usage_error("%s: unknown option '-%c'", name, optopt);
            return usage_error("%s: unknown option '%.*s'", name, (int)strcspn(arg, "="), arg);
        }
        if (c >= OPT_SOURCE && !(allowed[sub] & BIT(c))) {
            const char *arg = sargv[optind - 1];
            if (optarg && arg == optarg && optind >= 2)
                arg = sargv[optind - 2];
            return usage_error("%s does not take '%.*s'", name, (int)strcspn(arg, "="), arg);
        }
        switch (c) {
        case OPT_INDEX: a.index = optarg; break;
        case OPT_HELP: fputs(catalog_usage, stdout); return 0;
        case OPT_SOURCE: a.filter.source = optarg; break;
        case OPT_LICENSE: a.filter.license = optarg; break;
        case OPT_RUN: a.filter.run = optarg; break;
        case OPT_DELETED: a.filter.include_deleted = 1; break;
        case OPT_JSON: a.format = FMT_JSON; break;
        case OPT_FORMAT:
            if (!strcmp(optarg, "table"))
                a.format = FMT_TABLE;
            else if (!strcmp(optarg, "csv"))
                a.format = FMT_CSV;
            else if (!strcmp(optarg, "json"))
                a.format = FMT_JSON;
            else
                return usage_error("--format expects table, csv or json, not '%s'", optarg);
            break;
        case OPT_WORK: a.work = optarg; break;
        case OPT_WHY: a.why = optarg; break;
        case OPT_WHO: a.who = optarg; break;
        default: return usage_error("%s: unexpected option", name);
        }
    }
    if (optind < sargc)
        return usage_error("%s: unexpected argument '%s'", name, sargv[optind]);
    if (!a.index)
        return usage_error("%s: --index DIR is required", name);
    if (sub == SUB_DELETE) {
        if (!a.work || !*a.work)
            return usage_error("delete: --work ID is required");
        if (!a.why || !a.why[strspn(a.why, " \t\r\n")])
            return usage_error("delete: --why TEXT is required (the reason goes to the audit log)");
        if (a.who && !a.who[strspn(a.who, " \t\r\n")])
            return usage_error("delete: --who must not be empty");
        return run_delete(&a);
    }
    return run_query((subcommand)sub, &a);
}
