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
    double text_share; /* share of the text's words some license text explains, whatever was
                          decided (a document mentioning licenses has little) */
} rc_license_id;

/* Where the license texts are and what building their index may use (the fields of
 * recite_license_options; NULL directories are the defaults of recite.h). */
typedef struct rc_license_src {
    const char *debian_dir; /* Debian's common-licenses */
    const char *spdx_dir;   /* the SPDX license list: one JSON per license */
    const char *cache_dir;  /* built license indexes kept for the next build; NULL = none */
    const char *tmp_dir;    /* NULL = /tmp */
    unsigned jobs;
    uint64_t mem; /* memory budget of the build (0: the default) */
} rc_license_src;

/* The directory of the SPDX list src names (its default when NULL). */
const char *rc_license_spdx_dir(const rc_license_src *src);

/* Writes a JSONL of the license texts of src (Debian's common-licenses under their SPDX ids,
 * then the SPDX list without aliases and -or-later twins); *count of them. */
int rc_license_library_write(const rc_license_src *src, const char *jsonl_path, size_t *count,
                             recite_error *err);

/* A key of the library rc_license_library_write would write now, from the names, sizes and
 * modification times of its sources (not their bytes, ~600 files): the key of the cached
 * license index. RECITE_OK or RECITE_ENOMEM (then no key: a key of some of the names would
 * name another library). */
int rc_license_library_key(uint64_t *key, const rc_license_src *src);

/* The deprecated ids of the SPDX list the library knows, and what it reports for their texts
 * (NULL: the text is another id's); *n entries in ids and now, at most cap. */
size_t rc_license_deprecated(const char **ids, const char **now, size_t cap);

/* The SPDX ids of the list in src's SPDX directory, sorted (case-insensitively), in *ids (each
 * and the array malloc'd; free with rc_license_ids_free). *missing is set when the directory
 * cannot be read (ids then empty). */
int rc_license_spdx_ids(const rc_license_src *src, char ***ids, size_t *n, bool *missing);
void rc_license_ids_free(char **ids, size_t n);

/* ==== the comparison with the license texts (license_match.c) ==== */

/* A license matcher: the license index `lic`, a matcher of it for the vote, and the license
 * texts tokenized on first use. One per thread. */
typedef struct rc_license_matcher rc_license_matcher;
int rc_license_matcher_create(rc_license_matcher **out, const recite_index *lic, recite_error *err);
void rc_license_matcher_free(rc_license_matcher *lm); /* accepts NULL */

/* License texts tokenized once for all the matchers of a build's workers (thread-safe: each
 * text is made by the first matcher that needs it and kept until freed), up to max_bytes; past
 * that, each matcher tokenizes the others into its own bounded cache. */
typedef struct rc_license_shared rc_license_shared;
int rc_license_shared_create(rc_license_shared **out, const recite_index *lic, size_t max_bytes);
void rc_license_shared_free(rc_license_shared *sh); /* accepts NULL; after its matchers */
/* Makes lm (of the same license index; NULL: nothing done) use the shared texts of sh. */
void rc_license_matcher_share(rc_license_matcher *lm, rc_license_shared *sh);

/* Compares at most `candidates` license texts per vote (0: no limit below the caller's): a
 * checker identifying an output's license for the CMI verdict needs the family, not the
 * variant, and tokenizes fewer license texts. */
void rc_license_matcher_limit(rc_license_matcher *lm, unsigned candidates);

/* Tokenizes text[0, len) and looks its k-grams up in the license index. */
int rc_license_lookup(rc_license_matcher *lm, const char *text, size_t len, recite_error *err);
/* The tokens of the text looked up last. */
const rc_token *rc_license_tokens(const rc_license_matcher *lm, size_t *n);
/* The license texts (clusters of the license index) with the most k-grams in common with the
 * tokens of the text that qmask marks (NULL: all), most first, at most cap in out; *n_out of
 * them. RECITE_ENOMEM when out of memory (a vote short of candidates would change the result). */
int rc_license_vote(size_t *n_out, rc_license_matcher *lm, const uint8_t *qmask, uint32_t *out,
                    size_t cap);

/* How the text looked up last and the license text of cluster `cluster` compare. */
typedef struct rc_license_fit {
    uint32_t cluster;
    uint32_t matched;        /* tokens of the text found in the license (in k-grams of 3) */
    uint32_t covered;        /* tokens of the license found in the text */
    uint32_t missing;        /* tokens of the license not in the text, replaceable ones aside
                                (holder names, "THE AUTHOR", its title) */
    uint32_t license_tokens; /* of the license text */
    uint32_t license_fixed;  /* of them, not replaceable */
    uint32_t jumps;          /* times the text's words jump to another place of the license
                                (paragraphs in another order) */
    uint32_t unexplained;    /* tokens of the text not found in the license, replaceable
                                words aside */
    uint32_t fresh;          /* the caller's: of matched, those not explained before */
    uint64_t start, end;     /* bytes of the text from its first to its last token found */
} rc_license_fit;

/* Compares the tokens of the text that qmask marks (NULL: all) with license text `cluster`:
 * *fit, and in qcov (one byte per token of the text, +1) which tokens the license explains. */
int rc_license_compare(rc_license_matcher *lm, uint32_t cluster, const uint8_t *qmask,
                       uint8_t *qcov, rc_license_fit *fit, recite_error *err);

/* Whether id (one license id, "GPL-2.0-or-later" too) is a license of the license index. */
bool rc_license_known(const rc_license_matcher *lm, const char *id, size_t n);
/* The license index of lm. */
const recite_index *rc_license_index(const rc_license_matcher *lm);

/* ==== what the words say (license_names.c) ==== */

/* text[0, len) as lower-case words: comment furniture at line starts (markers, "dnl") dropped,
 * whitespace made single spaces; at most cap - 1 bytes. Returns the length. */
size_t rc_license_words(const char *text, size_t len, char *out, size_t cap);

typedef struct rc_license_mention {
    char id[64];    /* SPDX id, or an expression ("Artistic-1.0-Perl OR GPL-1.0-or-later") */
    size_t pos;     /* in the words */
    bool versioned; /* the version was written (not "the GPL" alone) */
} rc_license_mention;

/* The licenses the words name, in order, one per license. */
size_t rc_license_mentions(const char *words, rc_license_mention *out, size_t cap);

/* Whether the words offer a choice between licenses ("dual licensed", "at your choice"...). */
bool rc_license_dual(const char *words);
/* Whether the names m[0, n) of the words are offered as alternatives ("under the MIT license
 * or the Apache License 2.0", "either the GNU LGPL ... or the GNU GPL"). */
bool rc_license_names_or(const char *words, const rc_license_mention *m, size_t n);

typedef struct rc_license_exception {
    const char *id;   /* SPDX exception id */
    const char *base; /* the license family it modifies: "GPL" (the GNU family), "Apache" */
} rc_license_exception;

/* The exceptions the words grant, recognised by their characteristic wording. */
size_t rc_license_exceptions(const char *words, rc_license_exception *out, size_t cap);
/* Every exception id rc_license_exceptions may give (for tests). */
size_t rc_license_exception_ids(const char **out, size_t cap);

/* ==== identification (license_identify.c) ==== */

/* Identifies the license of text[0, len) with lm: an SPDX expression in out->id ("" when
 * unknown) — full license texts first (several: AND, or OR when the text offers the choice),
 * else the licenses the text names, else the license whose notice it holds — with the
 * exceptions its wording grants (WITH). */
int rc_license_identify(rc_license_id *out, rc_license_matcher *lm, const char *text, size_t len,
                        recite_error *err);

/* ==== families (license_family.c) ==== */

/* Whether id is of the GNU family whose versions take -only / -or-later. */
bool rc_license_gpl_family(const char *id);

/* "GPL-2.0-only" -> "GPL-2.0" in out. */
void rc_license_family_of(const char *id, char *out, size_t cap);

/* The i-th license id of an SPDX expression (exceptions, operators and parentheses skipped) in
 * out; false when there is none. */
bool rc_license_term(const char *expr, size_t i, char *out, size_t cap);

/* Whether some license of expression a and some of expression b are one family. */
bool rc_license_share_family(const char *a, const char *b);

/* Whether two SPDX ids name the same license family ("GPL-2.0-only" ~ "GPL-2.0-or-later" ~
 * "GPL-2.0+"); of an expression, its first license counts. */
bool rc_license_same_family(const char *a, const char *b);

/* Whether id, or one of its alternatives, shares a license family with `license` (SPDX
 * expressions: any of their licenses, exceptions aside). */
bool rc_license_consistent(const rc_license_id *id, const char *license);

/* A lower-cased copy of text[0, len) with runs of whitespace and comment markers (*, #) made
 * one space, at most cap - 1 bytes; returns its length. For matching phrases across lines. */
size_t rc_license_collapse(const char *text, size_t len, char *out, size_t cap);

/* Whether the text says "or (at your option) any later version" (GPL family wording). */
bool rc_license_or_later(const uint8_t *text, size_t len);

#endif /* RC_LICENSE_H */
