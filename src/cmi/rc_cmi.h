/*
 * rc_cmi.h — copyright-management information (CMI, layer 6): the copyright notices, SPDX tags
 * and licenses a text carries. Extracted from every work at index time (cmi_extract.c,
 * cmi_text.c; stored as a CMI record, cmi_record.c) and from the checked text at check time;
 * their comparison is the CMI verdict (cmi_verdict.c: present / absent / altered / none).
 * License identification is src/license's.
 */
#ifndef RC_CMI_H
#define RC_CMI_H

#include "../license/rc_license.h"

#define RC_CMI_MAX_NOTICES 16
#define RC_CMI_TEXT_MAX 256

typedef struct rc_notice {
    char text[RC_CMI_TEXT_MAX];   /* the notice as written (comment markers stripped) */
    char holder[RC_CMI_TEXT_MAX]; /* who: "Free Software Foundation, Inc." */
    unsigned year_min, year_max;  /* 0 when the notice gives no year */
    uint64_t start, end;          /* byte offsets of the notice in its text */
} rc_notice;

typedef struct rc_cmi {
    rc_notice notices[RC_CMI_MAX_NOTICES];
    unsigned nnotices;
    char spdx[128]; /* SPDX-License-Identifier expression, "" when none */
    uint64_t spdx_start, spdx_end;
    bool rights_reserved;                                 /* "All rights reserved" */
    char title[RC_CMI_TEXT_MAX], author[RC_CMI_TEXT_MAX]; /* "Title:" / "Author:" lines */
} rc_cmi;

/* Extracts the CMI of text[0, len): copyright lines ("Copyright", "(C)", "©", with years and a
 * holder; templates like "<year> <name of author>" are ignored), SPDX tags, "All rights
 * reserved", and "Title:"/"Author:" lines. Looks at the first 64 KiB and the last 16 KiB. */
void rc_cmi_extract(const uint8_t *text, size_t len, rc_cmi *out);

/* The header of a text, where a license notice would be: for code, its leading comments as
 * plain text (comment markers removed); for prose, its first 64 KiB. Writes at most cap bytes to
 * out and returns the length. */
size_t rc_cmi_header(const uint8_t *text, size_t len, int mode, char *out, size_t cap);

/* Whether two holders name the same party, allowing typographical variation (case,
 * punctuation, "Inc."/"Inc", "Ltd", "and contributors", word order). */
bool rc_cmi_same_holder(const char *a, const char *b);

/* The same comparison with the names split into words once (a check compares every notice of
 * the output with every holder of every matched work). */
#define RC_HOLDER_WORDS 16
typedef struct rc_holder_key {
    char w[RC_HOLDER_WORDS][32];  /* lower-cased words, legal-form words dropped */
    uint8_t len[RC_HOLDER_WORDS]; /* their lengths */
    unsigned n;
} rc_holder_key;
void rc_holder_key_of(const char *holder, rc_holder_key *k);
bool rc_holder_key_same(const rc_holder_key *a, const rc_holder_key *b);

/* ==== the CMI of a text (cmi_text.c) ==== */

/* What identifying the license of texts needs: the license index (NULL: none, only notices
 * and SPDX tags), a matcher of it, a cache of identified license parts, scratch for a header.
 * One per thread. */
typedef struct rc_cmi_ctx {
    const recite_index *lic;
    rc_license_matcher *m;
    struct rc_cmi_cache *cache;
    char *header;
} rc_cmi_ctx;

int rc_cmi_ctx_init(rc_cmi_ctx *ctx, const recite_index *lic);
void rc_cmi_ctx_free(rc_cmi_ctx *ctx); /* also of a zeroed or half-made ctx */

/* The CMI of text[0, len) as recorded for a work: its notices in *cmi, and in *id its SPDX tag,
 * else the license identified from its header (mode: RECITE_MODE_PROSE or _CODE), else from
 * its last 16 KiB (code whose license is at the end). */
int rc_cmi_of_text(rc_cmi_ctx *ctx, const uint8_t *text, size_t len, int mode, rc_cmi *cmi,
                   rc_license_id *id);

/* The detector of license language, one line at a time: RC_LINE_NOTICE (a copyright notice or
 * SPDX tag), RC_LINE_LICENSE (license language), RC_LINE_GRANT (words only licenses use). */
enum { RC_LINE_NOTICE = 1, RC_LINE_LICENSE = 2, RC_LINE_GRANT = 4 };
unsigned rc_cmi_line_kind(const char *line, size_t n);

/* The lines of license language in s[0, len) with two neighbours on either side, copied to out
 * (at most cap - 1 bytes, NUL-terminated); *first is the offset of the first line taken
 * (UINT64_MAX when none). Returns the length. */
size_t rc_cmi_license_region(const uint8_t *s, size_t len, char *out, size_t cap, uint64_t *first);

/* ==== the CMI record of a work (cmi_record.c) ==== */

/* The record of cmi and id in its two forms: JSON in *json (the work's public cmi_json) and
 * binary in *bin (*bin_len bytes; what checks read), both malloc'd, both NULL when there is
 * nothing to record. They hold the same content. */
int rc_cmi_record_write(char **json, uint8_t **bin, size_t *bin_len, const rc_cmi *cmi,
                        const rc_license_id *id);

/* A binary record read in place: strings point into the record (NUL-terminated, "" when
 * absent). */
typedef struct rc_cmi_notice_view {
    const char *text, *holder;
    unsigned year_min, year_max; /* 0 when the notice gives no year */
    uint64_t start, end;
} rc_cmi_notice_view;

typedef struct rc_cmi_view {
    const char *license; /* identified license (SPDX id), "" when none */
    double license_score;
    recite_info_source license_from;
    const char *spdx, *title, *author;
    bool rights_reserved;
    unsigned nnotices;
    rc_cmi_notice_view notices[RC_CMI_MAX_NOTICES];
} rc_cmi_view;

/* Reads the binary record rec[0, len) (NULL or empty: a work without CMI). RECITE_EFORMAT when
 * it is malformed; *v is then empty. */
int rc_cmi_record_view(rc_cmi_view *v, const uint8_t *rec, size_t len);

/* ==== verdicts (cmi_verdict.c) ==== */

/* Sets the CMI verdict, license and copyright of works[0, n) matched in text[0, len) of index
 * idx. The output's license is identified, when some matched work has a license, with *lic, a
 * license matcher of idx's license index made on first use (free it with
 * rc_license_matcher_free). */
int rc_cmi_verdicts(const recite_index *idx, rc_license_matcher **lic, const uint8_t *text,
                    size_t len, recite_work_hit *works, size_t n, recite_error *err);

#endif /* RC_CMI_H */
