/*
 * rc_license.h — licenses (layer 5, above the matcher): the license library (Debian's and the
 * SPDX list's texts, license_library.c), identification of a text's license by matching it
 * against the license index with the core matcher (license_identify.c; the index is built by
 * src/build and handed in), and license families (license_family.c).
 */
#ifndef RC_LICENSE_H
#define RC_LICENSE_H

#include "../match/rc_match.h"

#define RC_LICENSE_MAX_ALT 8

typedef struct rc_license_id {
    char id[64];  /* SPDX id; "" when unknown */
    double score; /* share of the text's words that are the license's (1.0 for an SPDX tag) */
    recite_info_source from; /* SPDX, HEADER or TEXT; NONE when unknown */
    bool full_text;          /* the text is the license itself, not a notice pointing to it */
    uint64_t start, end;     /* bytes of the text that are the license's (its matches) */
    /* Licenses the text fits nearly as well (variants sharing the matched words: GFDL 1.2 and
     * 1.3, BSD and MIT variants), the chosen one included: a text consistent with any of them
     * does not contradict it. */
    char alt[RC_LICENSE_MAX_ALT][64];
    unsigned nalt;
} rc_license_id;

/* Where the license texts are and what building their index may use (the fields of
 * recite_license_options; NULL directories are the defaults of recite.h). */
typedef struct rc_license_src {
    const char *debian_dir; /* Debian's common-licenses */
    const char *spdx_dir;   /* the SPDX license list: one JSON per license */
    const char *cache_dir;  /* built license indexes kept for the next build; NULL = none */
    const char *tmp_dir;    /* NULL = /tmp */
    unsigned jobs;
} rc_license_src;

/* The directory of the SPDX list src names (its default when NULL). */
const char *rc_license_spdx_dir(const rc_license_src *src);

/* Writes a JSONL of the license texts of src (Debian's common-licenses under their SPDX ids,
 * then the SPDX list without aliases and -or-later twins); *count of them. */
int rc_license_library_write(const rc_license_src *src, const char *jsonl_path, size_t *count,
                             recite_error *err);

/* A key of the library rc_license_library_write would write now, from the names, sizes and
 * modification times of its sources (not their bytes, ~600 files): the key of the cached
 * license index. */
uint64_t rc_license_library_key(const rc_license_src *src);

/* The SPDX ids of the list in src's SPDX directory, sorted (case-insensitively), in *ids (each
 * and the array malloc'd; free with rc_license_ids_free). *missing is set when the directory
 * cannot be read (ids then empty). */
int rc_license_spdx_ids(const rc_license_src *src, char ***ids, size_t *n, bool *missing);
void rc_license_ids_free(char **ids, size_t n);

/* ==== identification (license_identify.c) ==== */

/* A matcher of the license index `lic` set up for identification (every license itemized). */
int rc_license_matcher_create(rc_matcher **out, const recite_index *lic, recite_error *err);

/* Identifies the license of text[0, len) with m, a matcher of the license index `lic` (from
 * rc_license_matcher_create). out->id is "" when unknown. */
int rc_license_identify(rc_license_id *out, const recite_index *lic, rc_matcher *m,
                        const char *text, size_t len, recite_error *err);

/* ==== families (license_family.c) ==== */

/* Whether id is of the GNU family whose versions take -only / -or-later. */
bool rc_license_gpl_family(const char *id);

/* "GPL-2.0-only" -> "GPL-2.0" in out. */
void rc_license_family_of(const char *id, char *out, size_t cap);

/* Whether two SPDX ids name the same license family ("GPL-2.0-only" ~ "GPL-2.0-or-later" ~
 * "GPL-2.0+"). */
bool rc_license_same_family(const char *a, const char *b);

/* Whether id, or one of its alternatives, is of the family of `license`. */
bool rc_license_consistent(const rc_license_id *id, const char *license);

/* A lower-cased copy of text[0, len) with runs of whitespace and comment markers (*, #) made
 * one space, at most cap - 1 bytes; returns its length. For matching phrases across lines. */
size_t rc_license_collapse(const char *text, size_t len, char *out, size_t cap);

/* Whether the text says "or (at your option) any later version" (GPL family wording). */
bool rc_license_or_later(const uint8_t *text, size_t len);

#endif /* RC_LICENSE_H */
