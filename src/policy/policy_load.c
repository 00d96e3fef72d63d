/*
 * policy_load.c — reading policy files (docs/POLICY.md): JSON parsed with jansson, every key,
 * type and value validated, license ids checked against the groups and the SPDX list
 * (src/license), rules that can never apply refused (conflicts), and every error placed at the
 * line and column of the offending value in the file.
 */
#include "policy_rules.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_POLICY_BYTES (1u << 20) /* a policy file is small; anything bigger is a mistake */
#define MAX_RULES 256               /* conflicts are checked pairwise */
#define MAX_VALUES 64               /* per list in a rule */

/* ==== positions in the policy text ====
 * jansson gives positions for syntax errors only; errors in a well-formed file are located by
 * walking its text again (it parsed, so a simple scanner suffices). Keys are compared as
 * written: a key spelt with escapes is not found, and the enclosing value is named instead. */

typedef struct scanner {
    const char *s;
    size_t n, i;
} scanner;

static void skip_ws(scanner *sc)
{
    while (sc->i < sc->n && (sc->s[sc->i] == ' ' || sc->s[sc->i] == '\t' || sc->s[sc->i] == '\n' ||
                             sc->s[sc->i] == '\r'))
        sc->i++;
}

static bool at(scanner *sc, char c)
{
    skip_ws(sc);
    return sc->i < sc->n && sc->s[sc->i] == c;
}

static void skip_string(scanner *sc)
{
    for (sc->i++; sc->i < sc->n && sc->s[sc->i] != '"'; sc->i++)
        if (sc->s[sc->i] == '\\')
            sc->i++;
    if (sc->i < sc->n)
        sc->i++;
}

static void skip_value(scanner *sc)
{
    skip_ws(sc);
    if (sc->i >= sc->n)
        return;
    char c = sc->s[sc->i];
    if (c == '"') {
        skip_string(sc);
    } else if (c == '{' || c == '[') {
        int depth = 0;
        while (sc->i < sc->n) {
            c = sc->s[sc->i];
            if (c == '"') {
                skip_string(sc);
                continue;
            }
            sc->i++;
            if (c == '{' || c == '[')
                depth++;
            else if ((c == '}' || c == ']') && --depth == 0)
                return;
        }
    } else {
        while (sc->i < sc->n && !memchr(",]} \t\r\n", sc->s[sc->i], 7))
            sc->i++;
    }
}

/* At an object: moves to the value of `key`; *key_at receives the key's position. */
static bool find_key(scanner *sc, const char *key, size_t *key_at)
{
    if (!at(sc, '{'))
        return false;
    sc->i++;
    size_t klen = strlen(key);
    for (;;) {
        if (!at(sc, '"'))
            return false;
        size_t start = sc->i;
        skip_string(sc);
        bool same = sc->i - start == klen + 2 && memcmp(sc->s + start + 1, key, klen) == 0;
        if (!at(sc, ':'))
            return false;
        sc->i++;
        skip_ws(sc);
        if (same) {
            *key_at = start;
            return true;
        }
        skip_value(sc);
        if (!at(sc, ','))
            return false;
        sc->i++;
    }
}

/* At an array: moves to its element `item` (0-based). */
static bool find_item(scanner *sc, size_t item)
{
    if (!at(sc, '['))
        return false;
    sc->i++;
    for (size_t k = 0;; k++) {
        if (at(sc, ']') || sc->i >= sc->n)
            return false;
        if (k == item)
            return true;
        skip_value(sc);
        if (!at(sc, ','))
            return false;
        sc->i++;
    }
}

/* A place in a policy: the root; or its key `top`; or rule `rule` (0-based, in "rules"); or
 * that rule's key `key`; or element `item` of that key's list. `at_key`: the innermost key
 * rather than its value. */
typedef struct place {
    const char *top;
    long rule;
    const char *key;
    long item;
    bool at_key;
} place;

/* Byte offset of a place, or of the innermost enclosing part found. */
static size_t locate(const char *s, size_t n, place pl)
{
    scanner sc = {s, n, 0};
    skip_ws(&sc);
    size_t pos = sc.i, key_at;
    if (!pl.top)
        return pos;
    if (!find_key(&sc, pl.top, &key_at))
        return pos;
    pos = pl.at_key && pl.rule < 0 ? key_at : sc.i;
    if (pl.rule < 0 || !find_item(&sc, (size_t)pl.rule))
        return pos;
    pos = sc.i;
    if (!pl.key || !find_key(&sc, pl.key, &key_at))
        return pos;
    pos = pl.at_key ? key_at : sc.i;
    if (pl.item < 0 || !find_item(&sc, (size_t)pl.item))
        return pos;
    return sc.i;
}

/* 1-based line and column (in characters, as jansson counts them) of byte offset `off`. */
static void line_col(const char *s, size_t n, size_t off, unsigned *line, unsigned *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off && i < n; i++) {
        if (s[i] == '\n') {
            ++*line;
            *col = 1;
        } else if (((unsigned char)s[i] & 0xc0) != 0x80) {
            ++*col;
        }
    }
}

/* ==== loading ==== */

typedef struct parser {
    const char *text;
    size_t len;
    const char *name;
    recite_error *err;
    const char *spdx_dir; /* the SPDX license list (its file names are the ids) */
    int spdx_state;       /* 0 not read yet, 1 read, -1 the directory is missing */
    char **spdx;          /* ids of the SPDX license list, sorted (src/license) */
    size_t nspdx;
} parser;

static int fail_at(parser *ps, int code, place pl, const char *fmt, ...) RC_PRINTF(4, 5);
static int fail_at(parser *ps, int code, place pl, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    unsigned line, col;
    line_col(ps->text, ps->len, locate(ps->text, ps->len, pl), &line, &col);
    return rc_error_set(ps->err, code, "%s:%u:%u: %s", ps->name, line, col, msg);
}

static place at_root(void)
{
    return (place){NULL, -1, NULL, -1, false};
}
static place at_top(const char *key, bool at_key)
{
    return (place){key, -1, NULL, -1, at_key};
}
static place at_rule(long r, const char *key, long item, bool at_key)
{
    return (place){"rules", r, key, item, at_key};
}

static unsigned rule_line(parser *ps, long r)
{
    unsigned line, col;
    line_col(ps->text, ps->len, locate(ps->text, ps->len, at_rule(r, NULL, -1, false)), &line,
             &col);
    return line;
}

static int index_of(const char *s, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return (int)i;
    return -1;
}

/* "a, b or c" */
static void join_names(char *out, size_t cap, const char *const *names, size_t n)
{
    size_t m = 0;
    out[0] = 0;
    for (size_t i = 0; i < n && m < cap; i++)
        m += (size_t)snprintf(out + m, cap - m, "%s%s",
                              i == 0       ? ""
                              : i + 1 == n ? " or "
                                           : ", ",
                              names[i]);
}

static int parse_action(parser *ps, json_t *v, place pl, const char *what, recite_action *out)
{
    char expected[64];
    join_names(expected, sizeof expected, rc_action_names, RC_ARRAY_LEN(rc_action_names));
    int a = json_is_string(v)
                ? index_of(json_string_value(v), rc_action_names, RC_ARRAY_LEN(rc_action_names))
                : -1;
    if (a < 0)
        return fail_at(ps, RECITE_EFORMAT, pl, "%s must be %s", what, expected);
    *out = (recite_action)a;
    return RECITE_OK;
}

/* The strings of a value that is a string or a non-empty list of strings. */
static int strings_of(parser *ps, long r, const char *key, json_t *v, const char **out, size_t *n,
                      bool *listed)
{
    *n = 0;
    *listed = json_is_array(v);
    if (json_is_string(v)) {
        out[(*n)++] = json_string_value(v);
        return RECITE_OK;
    }
    if (!json_is_array(v))
        return fail_at(ps, RECITE_EFORMAT, at_rule(r, key, -1, false),
                       "rule %ld: \"%s\" must be a string or a list of strings", r + 1, key);
    if (json_array_size(v) == 0)
        return fail_at(ps, RECITE_EFORMAT, at_rule(r, key, -1, false),
                       "rule %ld: \"%s\" is an empty list, which nothing matches", r + 1, key);
    if (json_array_size(v) > MAX_VALUES)
        return fail_at(ps, RECITE_ELIMIT, at_rule(r, key, -1, false),
                       "rule %ld: \"%s\" lists more than %d values", r + 1, key, MAX_VALUES);
    for (size_t i = 0; i < json_array_size(v); i++) {
        json_t *s = json_array_get(v, i);
        if (!json_is_string(s))
            return fail_at(ps, RECITE_EFORMAT, at_rule(r, key, (long)i, false),
                           "rule %ld: \"%s\" must be a string or a list of strings", r + 1, key);
        out[(*n)++] = json_string_value(s);
    }
    return RECITE_OK;
}

/* A set of named values (source, cmi, kind, extent) as bits of `names`. */
static int parse_set(parser *ps, long r, const char *key, json_t *v, const char *const *names,
                     size_t nnames, unsigned *out)
{
    const char *strs[MAX_VALUES];
    size_t n;
    bool listed;
    int rc = strings_of(ps, r, key, v, strs, &n, &listed);
    if (rc != RECITE_OK)
        return rc;
    *out = 0;
    for (size_t i = 0; i < n; i++) {
        int k = index_of(strs[i], names, nnames);
        if (k < 0) {
            char expected[160];
            join_names(expected, sizeof expected, names, nnames);
            return fail_at(ps, RECITE_EFORMAT, at_rule(r, key, listed ? (long)i : -1, false),
                           "rule %ld: unknown %s '%.64s' (expected %s)", r + 1, key, strs[i],
                           expected);
        }
        *out |= 1u << k;
    }
    return RECITE_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcasecmp(*(char *const *)a, *(char *const *)b);
}

/* Reads the ids of the SPDX license list once. */
static void spdx_read(parser *ps)
{
    if (ps->spdx_state)
        return;
    rc_license_src src = {.spdx_dir = ps->spdx_dir};
    bool missing;
    if (rc_license_spdx_ids(&src, &ps->spdx, &ps->nspdx, &missing) != RECITE_OK)
        missing = true; /* out of memory: treated as no list (ids then need the groups) */
    ps->spdx_state = missing ? -1 : 1;
}

static bool spdx_has(parser *ps, const char *id)
{
    spdx_read(ps);
    return ps->nspdx && bsearch(&id, ps->spdx, ps->nspdx, sizeof *ps->spdx, cmp_str);
}

/* Whether `id` names a license: an id of the groups above (by family), an SPDX id of the list
 * on this machine (case-insensitive), such an id with -only, -or-later or + added or dropped,
 * or a LicenseRef-... of one's own. */
static bool license_known(parser *ps, const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n >= sizeof((license_term *)0)->id)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(id[i] >= 'a' && id[i] <= 'z') && !(id[i] >= 'A' && id[i] <= 'Z') &&
            !(id[i] >= '0' && id[i] <= '9') && id[i] != '-' && id[i] != '.' && id[i] != '+')
            return false;
    if (strncmp(id, "LicenseRef-", 11) == 0 && n > 11)
        return true;
    if (rc_policy_grouped(id))
        return true;
    if (spdx_has(ps, id))
        return true;
    char base[64];
    snprintf(base, sizeof base, "%s", id);
    if (n > 5 && strcmp(base + n - 5, "-only") == 0)
        base[n - 5] = 0;
    else if (n > 9 && strcmp(base + n - 9, "-or-later") == 0)
        base[n - 9] = 0;
    else if (base[n - 1] == '+')
        base[n - 1] = 0;
    else
        return false;
    char only[80];
    snprintf(only, sizeof only, "%s-only", base);
    return spdx_has(ps, base) || spdx_has(ps, only);
}

static int parse_licenses(parser *ps, long r, json_t *v, rule *out)
{
    const char *strs[MAX_VALUES];
    size_t n;
    bool listed;
    int rc = strings_of(ps, r, "license", v, strs, &n, &listed);
    if (rc != RECITE_OK)
        return rc;
    license_term *terms = calloc(n, sizeof *terms);
    if (!terms)
        return rc_error_set(ps->err, RECITE_ENOMEM, "%s: out of memory", ps->name);
    out->licenses = terms;
    out->nlicenses = n;
    for (size_t i = 0; i < n; i++) {
        terms[i].group = index_of(strs[i], rc_group_names, RC_ARRAY_LEN(rc_group_names));
        if (terms[i].group == GROUP_ID && !license_known(ps, strs[i])) {
            place pl = at_rule(r, "license", listed ? (long)i : -1, false);
            if (ps->spdx_state < 0)
                return fail_at(ps, RECITE_EFORMAT, pl,
                               "rule %ld: unknown license id '%.64s' (the SPDX license list "
                               "is not installed at %.120s; known: the ids of the groups in "
                               "docs/POLICY.md and LicenseRef-*)",
                               r + 1, strs[i], ps->spdx_dir);
            return fail_at(ps, RECITE_EFORMAT, pl,
                           "rule %ld: unknown license id '%.64s' (not an SPDX license id, "
                           "LicenseRef-*, nor one of the groups permissive, copyleft, "
                           "public-domain, unknown)",
                           r + 1, strs[i]);
        }
        snprintf(terms[i].id, sizeof terms[i].id, "%s", strs[i]);
    }
    return RECITE_OK;
}

static void put_set(FILE *f, bool *first, const char *key, unsigned set, const char *const *names,
                    size_t n)
{
    if (!set)
        return;
    fprintf(f, "%s%s ", *first ? "" : ", ", key);
    *first = false;
    bool bar = false;
    for (size_t i = 0; i < n; i++)
        if (set & (1u << i)) {
            fprintf(f, "%s%s", bar ? "|" : "", names[i]);
            bar = true;
        }
}

/* The conditions of a rule in words: "license permissive, cmi present". */
static char *describe(const rule *r)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f)
        return NULL;
    bool first = true;
    for (size_t i = 0; i < r->nlicenses; i++) {
        fprintf(f, "%s%s", i ? "|" : "license ", r->licenses[i].id);
        first = false;
    }
    put_set(f, &first, "source", r->sources, rc_source_names, RC_ARRAY_LEN(rc_source_names));
    put_set(f, &first, "cmi", r->cmis, rc_cmi_names, RC_ARRAY_LEN(rc_cmi_names));
    put_set(f, &first, "kind", r->kinds, rc_kind_names, RC_ARRAY_LEN(rc_kind_names));
    put_set(f, &first, "extent", r->extents, rc_extent_names, RC_ARRAY_LEN(rc_extent_names));
    if (r->common >= 0) {
        fprintf(f, "%s%s", first ? "" : ", ", r->common ? "common" : "not common");
        first = false;
    }
    if (r->min_tokens) {
        fprintf(f, "%smin_tokens %u", first ? "" : ", ", r->min_tokens);
        first = false;
    }
    if (r->min_coverage > 0) {
        fprintf(f, "%smin_coverage %g", first ? "" : ", ", r->min_coverage);
        first = false;
    }
    if (first)
        fputs("any work", f);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static const char *const rule_keys[] = {"license", "source", "cmi",        "kind",
                                        "common",  "extent", "min_tokens", "min_coverage",
                                        "action",  "comment"};

static int parse_rule(parser *ps, long r, json_t *o, rule *out)
{
    out->common = -1;
    out->line = rule_line(ps, r);
    if (!json_is_object(o))
        return fail_at(ps, RECITE_EFORMAT, at_rule(r, NULL, -1, false),
                       "rule %ld must be an object {\"action\": ..., conditions...}", r + 1);
    const char *key;
    json_t *v;
    int rc = RECITE_OK;
    json_object_foreach(o, key, v)
    {
        place pl = at_rule(r, key, -1, false);
        if (strcmp(key, "license") == 0) {
            rc = parse_licenses(ps, r, v, out);
        } else if (strcmp(key, "source") == 0) {
            rc = parse_set(ps, r, key, v, rc_source_names, RC_ARRAY_LEN(rc_source_names),
                           &out->sources);
        } else if (strcmp(key, "cmi") == 0) {
            rc = parse_set(ps, r, key, v, rc_cmi_names, RC_ARRAY_LEN(rc_cmi_names), &out->cmis);
        } else if (strcmp(key, "kind") == 0) {
            rc = parse_set(ps, r, key, v, rc_kind_names, RC_ARRAY_LEN(rc_kind_names), &out->kinds);
        } else if (strcmp(key, "extent") == 0) {
            rc = parse_set(ps, r, key, v, rc_extent_names, RC_ARRAY_LEN(rc_extent_names),
                           &out->extents);
        } else if (strcmp(key, "common") == 0) {
            if (!json_is_boolean(v))
                return fail_at(ps, RECITE_EFORMAT, pl, "rule %ld: \"common\" must be true or false",
                               r + 1);
            out->common = json_is_true(v);
        } else if (strcmp(key, "min_tokens") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 0 ||
                json_integer_value(v) > (json_int_t)UINT32_MAX)
                return fail_at(ps, RECITE_EFORMAT, pl,
                               "rule %ld: \"min_tokens\" must be a whole number from 0 to %u",
                               r + 1, UINT32_MAX);
            out->min_tokens = (uint32_t)json_integer_value(v);
        } else if (strcmp(key, "min_coverage") == 0) {
            if (!json_is_number(v) || !(json_number_value(v) >= 0 && json_number_value(v) <= 1))
                return fail_at(ps, RECITE_EFORMAT, pl,
                               "rule %ld: \"min_coverage\" must be a number from 0 to 1", r + 1);
            out->min_coverage = json_number_value(v);
        } else if (strcmp(key, "action") == 0) {
            char what[64];
            snprintf(what, sizeof what, "rule %ld: \"action\"", r + 1);
            rc = parse_action(ps, v, pl, what, &out->action);
        } else if (strcmp(key, "comment") == 0) {
            if (!json_is_string(v))
                return fail_at(ps, RECITE_EFORMAT, pl, "rule %ld: \"comment\" must be a string",
                               r + 1);
        } else {
            char expected[160];
            join_names(expected, sizeof expected, rule_keys, RC_ARRAY_LEN(rule_keys));
            return fail_at(ps, RECITE_EFORMAT, at_rule(r, key, -1, true),
                           "rule %ld: unknown key \"%.64s\" (expected %s)", r + 1, key, expected);
        }
        if (rc != RECITE_OK)
            return rc;
    }
    if (!json_object_get(o, "action"))
        return fail_at(ps, RECITE_EFORMAT, at_rule(r, NULL, -1, false),
                       "rule %ld has no \"action\" (allow, cite, flag or block)", r + 1);
    out->text = describe(out);
    if (!out->text)
        return rc_error_set(ps->err, RECITE_ENOMEM, "%s: out of memory", ps->name);
    return RECITE_OK;
}

/* ==== conflicts ==== */

static bool set_covers(unsigned e, unsigned l)
{
    return e == 0 || (l != 0 && (l & ~e) == 0);
}

/* Whether some license term of e matches every work term t matches. */
static bool term_covered(const rule *e, const license_term *t)
{
    for (size_t i = 0; i < e->nlicenses; i++) {
        const license_term *x = &e->licenses[i];
        if (t->group != GROUP_ID ? x->group == t->group
                                 : (x->group == GROUP_ID ? rc_license_same_family(x->id, t->id)
                                                         : rc_policy_in_group(x->group, t->id)))
            return true;
    }
    return false;
}

/* Whether rule e matches every work rule l matches (judged condition by condition, so a
 * conflict is never reported where there is none; some subtler ones may go unnoticed). */
static bool covers(const rule *e, const rule *l)
{
    if (!set_covers(e->sources, l->sources) || !set_covers(e->cmis, l->cmis) ||
        !set_covers(e->kinds, l->kinds) || !set_covers(e->extents, l->extents) ||
        (e->common >= 0 && e->common != l->common) || e->min_tokens > l->min_tokens ||
        e->min_coverage > l->min_coverage)
        return false;
    if (!e->nlicenses)
        return true;
    if (!l->nlicenses)
        return false;
    for (size_t i = 0; i < l->nlicenses; i++)
        if (!term_covered(e, &l->licenses[i]))
            return false;
    return true;
}

static int check_conflicts(parser *ps, const rule *rules, size_t n)
{
    for (size_t j = 1; j < n; j++)
        for (size_t i = 0; i < j; i++) {
            if (!covers(&rules[i], &rules[j]))
                continue;
            place pl = at_rule((long)j, NULL, -1, false);
            if (rules[i].action != rules[j].action)
                return fail_at(ps, RECITE_EFORMAT, pl,
                               "rule %zu can never apply: rule %zu (line %u) matches everything "
                               "it matches with another action",
                               j + 1, i + 1, rules[i].line);
            if (covers(&rules[j], &rules[i]))
                return fail_at(ps, RECITE_EFORMAT, pl, "rule %zu duplicates rule %zu (line %u)",
                               j + 1, i + 1, rules[i].line);
        }
    return RECITE_OK;
}

/* ==== entry points ==== */

static int parse_root(parser *ps, json_t *root, recite_policy *p, rule **rules_out)
{
    if (!json_is_object(root))
        return fail_at(ps, RECITE_EFORMAT, at_root(),
                       "a policy is a JSON object {\"version\": 1, \"default\": ..., "
                       "\"rules\": [...]}");
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        if (strcmp(key, "version") != 0 && strcmp(key, "default") != 0 &&
            strcmp(key, "rules") != 0 && strcmp(key, "comment") != 0)
            return fail_at(ps, RECITE_EFORMAT, at_top(key, true),
                           "unknown key \"%.64s\" (expected version, default, rules or comment)",
                           key);
    }
    json_t *version = json_object_get(root, "version");
    if (!version)
        return fail_at(ps, RECITE_EFORMAT, at_root(), "missing \"version\": %d", POLICY_VERSION);
    if (!json_is_integer(version) || json_integer_value(version) != POLICY_VERSION)
        return fail_at(ps, RECITE_EFORMAT, at_top("version", false),
                       "unsupported policy version (this recite reads version %d)", POLICY_VERSION);
    json_t *comment = json_object_get(root, "comment");
    if (comment && !json_is_string(comment))
        return fail_at(ps, RECITE_EFORMAT, at_top("comment", false),
                       "\"comment\" must be a string");
    p->fallback = RECITE_ACTION_FLAG;
    json_t *dflt = json_object_get(root, "default");
    int rc;
    if (dflt && (rc = parse_action(ps, dflt, at_top("default", false), "\"default\"",
                                   &p->fallback)) != RECITE_OK)
        return rc;
    json_t *rules = json_object_get(root, "rules");
    if (!rules)
        return RECITE_OK;
    if (!json_is_array(rules))
        return fail_at(ps, RECITE_EFORMAT, at_top("rules", false),
                       "\"rules\" must be a list of rules");
    size_t n = json_array_size(rules);
    if (n > MAX_RULES)
        return fail_at(ps, RECITE_ELIMIT, at_top("rules", false), "more than %d rules", MAX_RULES);
    rule *rs = calloc(n ? n : 1, sizeof *rs);
    if (!rs)
        return rc_error_set(ps->err, RECITE_ENOMEM, "%s: out of memory", ps->name);
    *rules_out = rs;
    for (size_t i = 0; i < n; i++) {
        p->nrules = i + 1; /* freed with the policy from here on */
        if ((rc = parse_rule(ps, (long)i, json_array_get(rules, i), &rs[i])) != RECITE_OK)
            return rc;
        p->uses_kind |= rs[i].kinds != 0;
    }
    return check_conflicts(ps, rs, n);
}

int recite_policy_parse(recite_policy **out, const char *json, size_t len, const char *name,
                        const char *spdx_dir, recite_error *err)
{
    *out = NULL;
    parser ps = {.text = json,
                 .len = len,
                 .name = name ? name : "policy",
                 .err = err,
                 .spdx_dir = spdx_dir ? spdx_dir : RECITE_DEFAULT_SPDX_DIR};
    if (len > MAX_POLICY_BYTES)
        return rc_error_set(err, RECITE_ELIMIT, "%s: a policy file is at most 1 MiB", ps.name);
    const char *nul = memchr(json, 0, len);
    if (nul) {
        unsigned line, col;
        line_col(json, len, (size_t)(nul - json), &line, &col);
        return rc_error_set(err, RECITE_EFORMAT,
                            "%s:%u:%u: binary data (a NUL byte); a policy is a JSON text", ps.name,
                            line, col);
    }
    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root && rc_json_refused_for_memory(&jerr, json, len, false))
        return rc_error_set(err, RECITE_ENOMEM, "%s: out of memory", ps.name);
    if (!root)
        return rc_error_set(err, RECITE_EFORMAT, "%s:%d:%d: invalid JSON: %s", ps.name,
                            jerr.line > 0 ? jerr.line : 1, jerr.column > 0 ? jerr.column : 1,
                            jerr.text);
    recite_policy *p = calloc(1, sizeof *p);
    char *pname = strdup(ps.name);
    rule *rules = NULL;
    int rc;
    if (!p || !pname) {
        rc = rc_error_set(err, RECITE_ENOMEM, "%s: out of memory", ps.name);
        free(pname);
        free(p);
        goto done;
    }
    p->name = pname;
    rc = parse_root(&ps, root, p, &rules);
    p->rules = rules;
    if (rc != RECITE_OK)
        recite_policy_free(p);
    else
        *out = p;
done:
    json_decref(root);
    rc_license_ids_free(ps.spdx, ps.nspdx);
    return rc;
}

int recite_policy_load(recite_policy **out, const char *path, const char *spdx_dir,
                       recite_error *err)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return rc_error_errno(err, RECITE_EIO, errno, "%s: cannot open the policy file", path);
    struct stat st;
    int fst = fstat(fd, &st);
    if (fst != 0 || S_ISDIR(st.st_mode)) {
        int e = fst != 0 ? errno : EISDIR;
        close(fd);
        return rc_error_errno(err, RECITE_EIO, e, "%s: cannot read the policy file", path);
    }
    if (S_ISREG(st.st_mode) && st.st_size > (off_t)MAX_POLICY_BYTES) {
        close(fd);
        return rc_error_set(err, RECITE_ELIMIT, "%s: a policy file is at most 1 MiB", path);
    }
    char *buf = NULL;
    size_t n = 0, cap = 0;
    int rc = RECITE_OK;
    for (;;) {
        if (n == cap && rc_grow((void **)&buf, &cap, n + 4096, 1) != RECITE_OK) {
            rc = rc_error_set(err, RECITE_ENOMEM, "%s: out of memory", path);
            break;
        }
        ssize_t got = read(fd, buf + n, cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc = rc_error_errno(err, RECITE_EIO, errno, "%s: cannot read the policy file", path);
            break;
        }
        if (got == 0)
            break;
        n += (size_t)got;
        if (n > MAX_POLICY_BYTES) {
            rc = rc_error_set(err, RECITE_ELIMIT, "%s: a policy file is at most 1 MiB", path);
            break;
        }
    }
    close(fd);
    if (rc == RECITE_OK)
        rc = recite_policy_parse(out, buf ? buf : "", n, path, spdx_dir, err);
    free(buf);
    return rc;
}
