/*
 * winnow.c — k-gram hashes and robust winnowing. The index stores only what rc_winnow selects;
 * the guarantee that makes `--min-tokens` safe is proved by tests/unit/test_fingerprint.c
 * against a brute-force reference.
 */
#include "rc_fingerprint.h"

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

int rc_fingerprint_params_code(unsigned min_tokens, unsigned *k, unsigned *w)
{
    if (min_tokens < 1 || min_tokens > RC_WINDOW_MAX + RC_KGRAM_MAX - 1)
        return RECITE_EINVAL;
    unsigned kk = min_tokens / 4;
    if (kk > RC_KGRAM_MAX)
        kk = RC_KGRAM_MAX;
    if (kk < 1)
        kk = 1;
    *k = kk;
    *w = min_tokens - kk + 1;
    return *w <= RC_WINDOW_MAX ? RECITE_OK : RECITE_EINVAL;
}

void rc_winnow_init(rc_winnow *wn, unsigned k, unsigned w)
{
    memset(wn, 0, sizeof *wn);
    wn->k = k;
    wn->w = w;
    wn->tslot = k - 1; /* the first token goes to slot 0 */
    wn->base_k1 = 1;
    for (unsigned j = 1; j < k; j++)
        wn->base_k1 *= RC_KGRAM_BASE;
}

int rc_winnow_finish(rc_winnow *wn, uint64_t *fp, uint64_t *pos)
{
    if (wn->ntok < wn->k)
        return 0;
    uint64_t nk = wn->ntok - wn->k + 1;
    if (nk >= wn->w)
        return 0; /* full windows were seen: already winnowed */
    /* Nothing has left the window yet: its minimum is the rightmost minimum of all. */
    *fp = wn->min_hash;
    *pos = wn->min_pos;
    return 1;
}
