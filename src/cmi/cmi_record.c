/*
 * cmi_record.c — the CMI of a work as stored with it in the index, written by the builder and
 * read by the CMI verdicts and the reports, here next to each other. Two forms of one content:
 * a JSON object (the work string RC_WS_CMI, the public recite_work_info.cmi_json) {"notices":
 * [{text, holder, years: [min, max], start, end}], "spdx", "license": {id, score, from},
 * "rights_reserved", "title", "author"}, and the binary record checks read without parsing
 * (section CMI_DATA, docs/FORMAT.md):
 *     u8 version (1), u8 flags (bit 0: rights reserved), u8 license source, u8 notices
 *     u64 license score (IEEE 754 double)
 *     str license id, str spdx, str title, str author
 *     per notice: u16 first year, u16 last year, u64 start, u64 end, str text, str holder
 * where str is u16 length, the bytes, a NUL (so a view can hand out C strings).
 */
#include "rc_cmi.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#define RECORD_VERSION 1u

/* ==== JSON ==== */

static bool is_utf8(const char *s)
{
    return rc_utf8_count_invalid((const uint8_t *)s, strlen(s)) == 0;
}

/* o[key] = s; a string that is not UTF-8 is left out (JSON cannot hold it). RECITE_OK or
 * RECITE_ENOMEM: a field dropped for want of memory would change the record. */
static int set_str(json_t *o, const char *key, const char *s)
{
    if (!is_utf8(s))
        return RECITE_OK;
    return json_object_set_new(o, key, json_string(s)) == 0 ? RECITE_OK : RECITE_ENOMEM;
}

/* The record as a JSON object; NULL when out of memory. */
static json_t *record_json(const rc_cmi *cmi, const rc_license_id *id)
{
    json_t *o = json_object(), *ns = json_array();
    bool ok = o && ns;
    for (unsigned i = 0; i < cmi->nnotices && ok; i++) {
        const rc_notice *nt = &cmi->notices[i];
        if (!is_utf8(nt->text) || !is_utf8(nt->holder))
            continue; /* not UTF-8: left out */
        json_t *n = json_pack("{s:s, s:s, s:[i,i], s:I, s:I}", "text", nt->text, "holder",
                              nt->holder, "years", (int)nt->year_min, (int)nt->year_max, "start",
                              (json_int_t)nt->start, "end", (json_int_t)nt->end);
        ok = json_array_append_new(ns, n) == 0;
    }
    if (!ok || json_object_set_new(o, "notices", ns) != 0) {
        json_decref(ok ? NULL : ns); /* set_new released it when it failed */
        json_decref(o);
        return NULL;
    }
    if (cmi->spdx[0])
        ok = set_str(o, "spdx", cmi->spdx) == RECITE_OK;
    if (ok && id->id[0] && is_utf8(id->id))
        ok = json_object_set_new(o, "license",
                                 json_pack("{s:s, s:f, s:s}", "id", id->id, "score", id->score,
                                           "from", recite_info_source_name(id->from))) == 0;
    ok = ok && json_object_set_new(o, "rights_reserved", json_boolean(cmi->rights_reserved)) == 0;
    if (ok && cmi->title[0])
        ok = set_str(o, "title", cmi->title) == RECITE_OK;
    if (ok && cmi->author[0])
        ok = set_str(o, "author", cmi->author) == RECITE_OK;
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* What the JSON object holds, read back: the binary record holds exactly that (a string the
 * JSON could not take is left out of both). */
static void record_from_json(const json_t *root, rc_cmi *cmi, rc_license_id *id)
{
    memset(cmi, 0, sizeof *cmi);
    memset(id, 0, sizeof *id);
    json_t *l = json_object_get(root, "license");
    if (json_is_string(json_object_get(l, "id"))) {
        snprintf(id->id, sizeof id->id, "%s", json_string_value(json_object_get(l, "id")));
        id->score = json_number_value(json_object_get(l, "score"));
        id->from = rc_info_source_of(json_string_value(json_object_get(l, "from")));
    }
    json_t *ns = json_object_get(root, "notices");
    size_t k;
    json_t *n;
    json_array_foreach(ns, k, n)
    {
        if (cmi->nnotices >= RC_CMI_MAX_NOTICES)
            break;
        rc_notice *nt = &cmi->notices[cmi->nnotices++];
        const char *text = json_string_value(json_object_get(n, "text"));
        const char *holder = json_string_value(json_object_get(n, "holder"));
        snprintf(nt->text, sizeof nt->text, "%s", text ? text : "");
        snprintf(nt->holder, sizeof nt->holder, "%s", holder ? holder : "");
        json_t *y = json_object_get(n, "years");
        nt->year_min = (unsigned)json_integer_value(json_array_get(y, 0));
        nt->year_max = (unsigned)json_integer_value(json_array_get(y, 1));
        nt->start = (uint64_t)json_integer_value(json_object_get(n, "start"));
        nt->end = (uint64_t)json_integer_value(json_object_get(n, "end"));
    }
    const char *spdx = json_string_value(json_object_get(root, "spdx"));
    if (spdx)
        snprintf(cmi->spdx, sizeof cmi->spdx, "%s", spdx);
    cmi->rights_reserved = json_is_true(json_object_get(root, "rights_reserved"));
    const char *title = json_string_value(json_object_get(root, "title"));
    const char *author = json_string_value(json_object_get(root, "author"));
    if (title)
        snprintf(cmi->title, sizeof cmi->title, "%s", title);
    if (author)
        snprintf(cmi->author, sizeof cmi->author, "%s", author);
}

/* ==== binary ==== */

typedef RC_VEC(uint8_t) bytes;

static int put(bytes *b, const void *p, size_t n)
{
    if (RC_VEC_RESERVE(*b, b->n + n) != RECITE_OK)
        return RECITE_ENOMEM;
    memcpy(b->v + b->n, p, n);
    b->n += n;
    return RECITE_OK;
}

static int put_u16(bytes *b, unsigned v)
{
    uint8_t x[2];
    rc_put_u16(x, (uint16_t)(v > UINT16_MAX ? UINT16_MAX : v));
    return put(b, x, 2);
}

static int put_u64(bytes *b, uint64_t v)
{
    uint8_t x[8];
    rc_put_u64(x, v);
    return put(b, x, 8);
}

static int put_str(bytes *b, const char *s)
{
    size_t n = strlen(s);
    if (n > UINT16_MAX - 1)
        n = UINT16_MAX - 1;
    int rc = put_u16(b, (unsigned)n);
    if (rc == RECITE_OK)
        rc = put(b, s, n);
    return rc == RECITE_OK ? put(b, "", 1) : rc;
}

static int encode(bytes *b, const rc_cmi *cmi, const rc_license_id *id)
{
    uint64_t score;
    memcpy(&score, &id->score, sizeof score);
    uint8_t head[4] = {RECORD_VERSION, cmi->rights_reserved ? 1 : 0, (uint8_t)id->from,
                       (uint8_t)cmi->nnotices};
    int rc = put(b, head, 4);
    rc = rc ? rc : put_u64(b, score);
    rc = rc ? rc : put_str(b, id->id);
    rc = rc ? rc : put_str(b, cmi->spdx);
    rc = rc ? rc : put_str(b, cmi->title);
    rc = rc ? rc : put_str(b, cmi->author);
    for (unsigned i = 0; i < cmi->nnotices && rc == RECITE_OK; i++) {
        const rc_notice *nt = &cmi->notices[i];
        rc = put_u16(b, nt->year_min);
        rc = rc ? rc : put_u16(b, nt->year_max);
        rc = rc ? rc : put_u64(b, nt->start);
        rc = rc ? rc : put_u64(b, nt->end);
        rc = rc ? rc : put_str(b, nt->text);
        rc = rc ? rc : put_str(b, nt->holder);
    }
    return rc;
}

int rc_cmi_record_write(char **json, uint8_t **bin, size_t *bin_len, const rc_cmi *cmi,
                        const rc_license_id *id)
{
    *json = NULL;
    *bin = NULL;
    *bin_len = 0;
    if (!cmi->nnotices && !id->id[0] && !cmi->rights_reserved && !cmi->title[0] && !cmi->author[0])
        return RECITE_OK; /* nothing to record */
    json_t *o = record_json(cmi, id);
    if (!o)
        return RECITE_ENOMEM;
    *json = rc_json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
    rc_cmi *back = malloc(sizeof *back);
    rc_license_id back_id;
    bytes b = {0};
    int rc = *json && back ? RECITE_OK : RECITE_ENOMEM;
    if (rc == RECITE_OK) {
        record_from_json(o, back, &back_id);
        rc = encode(&b, back, &back_id);
    }
    json_decref(o);
    free(back);
    if (rc != RECITE_OK) {
        free(*json);
        *json = NULL;
        RC_VEC_FREE(b);
        return RECITE_ENOMEM;
    }
    *bin = b.v;
    *bin_len = b.n;
    return RECITE_OK;
}

/* ==== reading the binary record ==== */

typedef struct cursor {
    const uint8_t *p;
    size_t left;
    bool bad;
} cursor;

static const uint8_t *take(cursor *c, size_t n)
{
    if (c->bad || n > c->left) {
        c->bad = true;
        return NULL;
    }
    const uint8_t *p = c->p;
    c->p += n;
    c->left -= n;
    return p;
}

static unsigned get_u16(cursor *c)
{
    const uint8_t *p = take(c, 2);
    return p ? rc_get_u16(p) : 0;
}

static uint64_t get_u64(cursor *c)
{
    const uint8_t *p = take(c, 8);
    return p ? rc_get_u64(p) : 0;
}

static const char *get_str(cursor *c)
{
    size_t n = get_u16(c);
    const uint8_t *p = take(c, n + 1);
    if (!p || p[n] != 0 || memchr(p, 0, n)) {
        c->bad = true;
        return "";
    }
    return (const char *)p;
}

int rc_cmi_record_view(rc_cmi_view *v, const uint8_t *rec, size_t len)
{
    v->license = v->spdx = v->title = v->author = "";
    v->license_score = 0;
    v->license_from = RECITE_FROM_NONE;
    v->rights_reserved = false;
    v->nnotices = 0;
    if (!rec || !len)
        return RECITE_OK;
    cursor c = {rec, len, false};
    const uint8_t *head = take(&c, 4);
    if (!head || head[0] != RECORD_VERSION || head[3] > RC_CMI_MAX_NOTICES ||
        head[2] > RECITE_FROM_TEXT)
        return RECITE_EFORMAT;
    uint64_t score = get_u64(&c);
    memcpy(&v->license_score, &score, sizeof score);
    v->license = get_str(&c);
    v->spdx = get_str(&c);
    v->title = get_str(&c);
    v->author = get_str(&c);
    v->license_from = (recite_info_source)head[2];
    v->rights_reserved = head[1] & 1;
    for (unsigned i = 0; i < head[3] && !c.bad; i++) {
        rc_cmi_notice_view *n = &v->notices[i];
        n->year_min = get_u16(&c);
        n->year_max = get_u16(&c);
        n->start = get_u64(&c);
        n->end = get_u64(&c);
        n->text = get_str(&c);
        n->holder = get_str(&c);
    }
    if (c.bad || c.left) {
        rc_cmi_record_view(v, NULL, 0);
        return RECITE_EFORMAT;
    }
    v->nnotices = head[3];
    return RECITE_OK;
}
