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

/* The same for code lexemes: longer k-grams (a lexeme carries less than a word: `(`, `;`), up to
 * RC_KGRAM_MAX. */
int rc_fingerprint_params_code(unsigned min_tokens, unsigned *k, unsigned *w);

/* Hash of the k token hashes starting at `toks`: a polynomial in an odd constant over the
 * (already uniformly random) token hashes, mod 2^64, then a bijective mixer. Being a polynomial,
 * it can be updated in O(1) as the k-gram slides (rc_winnow does); this direct form is what the
 * checker uses, and tests check both agree. */
#define RC_KGRAM_BASE 0x9e3779b97f4a7c15ULL

static inline uint64_t rc_kgram_hash(const uint64_t *toks, unsigned k)
{
    uint64_t h = 0;
    for (unsigned j = 0; j < k; j++)
        h = h * RC_KGRAM_BASE + toks[j];
    return rc_mix64(h ^ RC_KGRAM_SEED);
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
/* The last k token hashes are kept in a mirrored ring (each written at slot i and i + k) so the
 * k-gram is always contiguous. The window's rightmost minimum comes from a queue of two parts
 * (the two-stack queue; van Herk, Gil and Werman): the older k-grams [lo, b) with, for each, the
 * rightmost minimum from it to b - 1, and the newer ones [b, g] with their running minimum. When
 * the older part runs out, the newer one (w k-grams) becomes it, its minima computed from the
 * newest back: at most two comparisons per k-gram, whatever the hashes, and all but one of them
 * predictable. */
#define RC_WINDOW_RING RC_WINDOW_MAX /* a power of two, >= w */
typedef struct rc_winnow {
    unsigned k, w;
    unsigned tslot;                 /* slot of the newest token */
    uint64_t ntok;                  /* tokens pushed */
    uint64_t tok[2 * RC_KGRAM_MAX]; /* last k token hashes: tok[tslot + 1 .. tslot + k] */
    uint64_t wh[RC_WINDOW_RING];    /* at g % RC_WINDOW_RING: the hash of k-gram g (newer
                                       part), or the minimum from g to b - 1 (older part) */
    uint64_t wp[RC_WINDOW_RING];    /* older part: the k-gram of that minimum */
    uint64_t b;                     /* first k-gram of the newer part */
    uint64_t in_hash, in_pos;       /* the newer part's rightmost minimum */
    uint64_t min_hash, min_pos;     /* the window's, after the last push */
    uint64_t sel;                   /* number of the last selected k-gram + 1 (0 = none) */
    uint64_t sel_hash;
    uint64_t poly;    /* polynomial of the last k tokens (see rc_kgram_hash) */
    uint64_t base_k1; /* RC_KGRAM_BASE^(k-1) */
} rc_winnow;

void rc_winnow_init(rc_winnow *wn, unsigned k, unsigned w);

/* Pushes one token hash. Returns 1 and fills (*fp, *pos) when a fingerprint is selected.
 * Inline: the builder pushes every token of the library through it. */
static inline int rc_winnow_push(rc_winnow *wn, uint64_t token_hash, uint64_t *fp, uint64_t *pos)
{
    unsigned k = wn->k, w = wn->w;
    wn->tslot = wn->tslot + 1 == k ? 0 : wn->tslot + 1;
    /* Slide the polynomial: drop the token leaving the k-gram (in the slot being overwritten). */
    if (wn->ntok >= k)
        wn->poly -= wn->tok[wn->tslot] * wn->base_k1;
    wn->poly = wn->poly * RC_KGRAM_BASE + token_hash;
    wn->tok[wn->tslot] = wn->tok[wn->tslot + k] = token_hash;
    if (++wn->ntok < k)
        return 0;
    uint64_t g = wn->ntok - k; /* number of the new k-gram */
    uint64_t h = rc_mix64(wn->poly ^ RC_KGRAM_SEED);
    uint64_t lo = g + 1 >= w ? g + 1 - w : 0; /* the window is [lo, g] */
    wn->wh[g & (RC_WINDOW_RING - 1)] = h;
    if (lo >= wn->b) {
        /* The older part is empty: the newer one, [b, g] (w k-grams, or the first one), becomes
         * it, each with the rightmost minimum from it on (ties keep the later one). */
        uint64_t mh = h, mp = g;
        for (uint64_t p = g + 1; p-- > wn->b;) {
            unsigned s = (unsigned)(p & (RC_WINDOW_RING - 1));
            if (wn->wh[s] < mh)
                mh = wn->wh[s], mp = p;
            wn->wh[s] = mh;
            wn->wp[s] = mp;
        }
        wn->b = g + 1;
        wn->min_hash = mh;
        wn->min_pos = mp;
    } else {
        if (g == wn->b || h <= wn->in_hash)
            wn->in_hash = h, wn->in_pos = g;
        unsigned s = (unsigned)(lo & (RC_WINDOW_RING - 1));
        bool newer = wn->in_hash <= wn->wh[s]; /* a tie goes to the later k-gram */
        wn->min_hash = newer ? wn->in_hash : wn->wh[s];
        wn->min_pos = newer ? wn->in_pos : wn->wp[s];
    }
    if (g + 1 < w)
        return 0;
    uint64_t m = wn->min_pos, mh = wn->min_hash;
    /* Robust winnowing: on a tie, keep the k-gram already selected while it is still in the
     * window, so that low-entropy text ("la la la ...") does not select every position. */
    if (wn->sel && wn->sel - 1 + w > g && wn->sel_hash == mh)
        return 0;
    if (wn->sel == m + 1)
        return 0;
    wn->sel = m + 1;
    wn->sel_hash = mh;
    *fp = mh;
    *pos = m;
    return 1;
}

/* Ends the text: a text with at least k but fewer than w + k - 1 tokens has no full window; its
 * smallest k-gram is selected so short works are still findable. Returns 1 with a fingerprint. */
int rc_winnow_finish(rc_winnow *wn, uint64_t *fp, uint64_t *pos);

#endif /* RC_FINGERPRINT_H */
