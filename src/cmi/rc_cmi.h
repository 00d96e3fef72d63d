/*
 * rc_cmi.h — copyright-management information (CMI): the copyright notices, SPDX tags and
 * licenses a text carries. Extracted from every work at index time and from the checked text
 * at check time; their comparison is the CMI verdict (present / absent / altered / none).
 */
#ifndef RC_CMI_H
#define RC_CMI_H

#include "../common/rc_common.h"

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
    char w[RC_HOLDER_WORDS][32]; /* lower-cased words, legal-form words dropped */
    unsigned n;
} rc_holder_key;
void rc_holder_key_of(const char *holder, rc_holder_key *k);
bool rc_holder_key_same(const rc_holder_key *a, const rc_holder_key *b);

/* A lower-cased copy of text[0, len) with runs of whitespace and comment markers (*, #) made
 * one space, at most cap - 1 bytes; returns its length. For matching phrases across lines. */
size_t rc_cmi_collapse(const char *text, size_t len, char *out, size_t cap);

/* Whether the text says "or (at your option) any later version" (GPL family wording). */
bool rc_cmi_or_later(const uint8_t *text, size_t len);

#endif /* RC_CMI_H */
