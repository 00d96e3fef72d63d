/*
 * rc_fingerprint.h — k-gram hashing over token hashes and winnowing (Schleimer, Wilkerson,
 * Aiken 2003). The builder keeps one k-gram per window of w consecutive k-grams (the rightmost
 * minimum), so any run of at least w + k - 1 shared tokens shares at least one fingerprint at
 * the same relative offset; the checker hashes every k-gram of its input (dense) and looks
 * each one up.
 */
#ifndef RC_FINGERPRINT_H
#define RC_FINGERPRINT_H

#include "../common/rc_common.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#define RC_KGRAM_MAX 16
#define RC_WINDOW_MAX 256
#define RC_KGRAM_SEED 0x6b6772616d2d3031ULL

/* Chooses k and w for a guaranteed detection length of `min_tokens` tokens
 * (w + k - 1 == min_tokens). Returns RECITE_EINVAL when min_tokens is out of range. */
int rc_fingerprint_params(unsigned min_tokens, unsigned *k, unsigned *w);

/* Hash of the k token hashes starting at `toks` (inlined: it runs once per token). */
static inline uint64_t rc_kgram_hash(const uint64_t *toks, unsigned k)
{
    return XXH3_64bits_withSeed(toks, (size_t)k * sizeof *toks, RC_KGRAM_SEED);
}

/* ==== context hashes ====
 * A run of at least w + k - 1 shared tokens extends at least w - 1 tokens beyond any k-gram of
 * it, so at least rc_context_len(w) tokens on one side. Each posting keeps an 8-bit hash of the
 * up-to-that-many tokens before and after its k-gram (fewer at the ends of a text); a seed whose
 * two context hashes both differ from the checked text's cannot lie in such a run and is
 * dropped before any stored text is read. */
#define RC_CONTEXT_SEED 0x636f6e7465787431ULL

static inline unsigned rc_context_len(unsigned w)
{
    return w / 2; /* = ceil((w - 1) / 2) */
}

static inline unsigned rc_context8(const uint64_t *toks, unsigned n)
{
    return (unsigned)(XXH3_64bits_withSeed(toks, (size_t)n * sizeof *toks, RC_CONTEXT_SEED) >> 56);
}

/* Streaming winnower: push token hashes one at a time; fingerprints come out as (hash, position
 * of the k-gram's first token). */
/* The rings are mirrored (each value written at slot i and i + size) so that the last k tokens
 * and the last w k-grams are always contiguous, oldest first, without modulo arithmetic. */
typedef struct rc_winnow {
    unsigned k, w;
    unsigned tslot, wslot;           /* slot of the newest token / k-gram */
    uint64_t ntok;                   /* tokens pushed */
    uint64_t tok[2 * RC_KGRAM_MAX];  /* last k token hashes: tok[tslot + 1 .. tslot + k] */
    uint64_t win[2 * RC_WINDOW_MAX]; /* last w k-gram hashes: win[wslot + 1 .. wslot + w] */
    uint64_t sel;                    /* number of the last selected k-gram + 1 (0 = none) */
    uint64_t sel_hash;
} rc_winnow;

void rc_winnow_init(rc_winnow *wn, unsigned k, unsigned w);

/* Pushes one token hash. Returns 1 and fills (*fp, *pos) when a fingerprint is selected. */
int rc_winnow_push(rc_winnow *wn, uint64_t token_hash, uint64_t *fp, uint64_t *pos);

/* Ends the text: a text with at least k but fewer than w + k - 1 tokens has no full window; its
 * smallest k-gram is selected so short works are still findable. Returns 1 with a fingerprint. */
int rc_winnow_finish(rc_winnow *wn, uint64_t *fp, uint64_t *pos);

#endif /* RC_FINGERPRINT_H */
