/*
 * winnow.c — k-gram hashes and robust winnowing. The index stores only what rc_winnow selects;
 * the guarantee that makes `--min-tokens` safe is proved by tests/unit/test_fingerprint.c
 * against a brute-force reference.
 */
#include "rc_fingerprint.h"

#include <xxhash.h>

int rc_fingerprint_params(unsigned min_tokens, unsigned *k, unsigned *w)
{
    if (min_tokens < 1 || min_tokens > RC_WINDOW_MAX + 5)
        return RECITE_EINVAL;
    /* Longer k-grams are rarer (fewer chance seeds from common phrases) but leave a smaller
     * window, hence a denser index: 6 words is where English k-grams become mostly unique. */
    unsigned kk = min_tokens / 2;
    if (kk > 6)
        kk = 6;
    if (kk < 1)
        kk = 1;
    *k = kk;
    *w = min_tokens - kk + 1;
    return RECITE_OK;
}

uint64_t rc_kgram_hash(const uint64_t *toks, unsigned k)
{
    return XXH3_64bits_withSeed(toks, (size_t)k * sizeof *toks, RC_KGRAM_SEED);
}

void rc_winnow_init(rc_winnow *wn, unsigned k, unsigned w)
{
    memset(wn, 0, sizeof *wn);
    wn->k = k;
    wn->w = w;
}

/* Position (k-gram index) of the rightmost minimum of the window ending at k-gram `last`. */
static uint64_t window_min(const rc_winnow *wn, uint64_t last, unsigned width)
{
    uint64_t best = last, bh = wn->win[last % wn->w];
    for (unsigned d = 1; d < width; d++) {
        uint64_t p = last - d;
        uint64_t h = wn->win[p % wn->w];
        if (h < bh) {
            bh = h;
            best = p;
        }
    }
    return best;
}

int rc_winnow_push(rc_winnow *wn, uint64_t token_hash, uint64_t *fp, uint64_t *pos)
{
    wn->tok[wn->ntok % wn->k] = token_hash;
    wn->ntok++;
    if (wn->ntok < wn->k)
        return 0;
    uint64_t g = wn->ntok - wn->k; /* index of the new k-gram */
    uint64_t buf[RC_KGRAM_MAX];
    for (unsigned j = 0; j < wn->k; j++)
        buf[j] = wn->tok[(g + j) % wn->k];
    wn->win[g % wn->w] = rc_kgram_hash(buf, wn->k);
    if (g + 1 < wn->w)
        return 0;
    uint64_t m = window_min(wn, g, wn->w);
    /* Robust winnowing: on a tie, keep the k-gram already selected while it is still in the
     * window, so that low-entropy text ("la la la ...") does not select every position. */
    if (wn->sel && wn->sel - 1 + wn->w > g && wn->win[(wn->sel - 1) % wn->w] == wn->win[m % wn->w])
        return 0;
    if (wn->sel == m + 1)
        return 0;
    wn->sel = m + 1;
    *fp = wn->win[m % wn->w];
    *pos = m;
    return 1;
}

int rc_winnow_finish(rc_winnow *wn, uint64_t *fp, uint64_t *pos)
{
    if (wn->ntok < wn->k)
        return 0;
    uint64_t nk = wn->ntok - wn->k + 1;
    if (nk >= wn->w)
        return 0; /* full windows were seen: already winnowed */
    uint64_t m = window_min(wn, nk - 1, (unsigned)nk);
    *fp = wn->win[m % wn->w];
    *pos = m;
    return 1;
}
