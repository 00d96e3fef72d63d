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

void rc_winnow_init(rc_winnow *wn, unsigned k, unsigned w)
{
    memset(wn, 0, sizeof *wn);
    wn->k = k;
    wn->w = w;
    wn->tslot = k - 1; /* the first token goes to slot 0 */
    wn->wslot = w - 1;
}

int rc_winnow_push(rc_winnow *wn, uint64_t token_hash, uint64_t *fp, uint64_t *pos)
{
    unsigned k = wn->k, w = wn->w;
    wn->tslot = wn->tslot + 1 == k ? 0 : wn->tslot + 1;
    wn->tok[wn->tslot] = wn->tok[wn->tslot + k] = token_hash;
    if (++wn->ntok < k)
        return 0;
    uint64_t g = wn->ntok - k; /* number of the new k-gram */
    uint64_t h = rc_kgram_hash(&wn->tok[wn->tslot + 1], k);
    wn->wslot = wn->wslot + 1 == w ? 0 : wn->wslot + 1;
    wn->win[wn->wslot] = wn->win[wn->wslot + w] = h;
    if (g + 1 < w)
        return 0;
    /* Rightmost minimum of the window, oldest to newest. */
    const uint64_t *v = &wn->win[wn->wslot + 1];
    unsigned best = 0;
    for (unsigned j = 1; j < w; j++)
        if (v[j] <= v[best])
            best = j;
    uint64_t m = g - (w - 1) + best;
    /* Robust winnowing: on a tie, keep the k-gram already selected while it is still in the
     * window, so that low-entropy text ("la la la ...") does not select every position. */
    if (wn->sel && wn->sel - 1 + w > g && wn->sel_hash == v[best])
        return 0;
    if (wn->sel == m + 1)
        return 0;
    wn->sel = m + 1;
    wn->sel_hash = v[best];
    *fp = v[best];
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
    /* k-grams 0 .. nk-1 sit in slots 0 .. nk-1. */
    unsigned best = 0;
    for (unsigned j = 1; j < nk; j++)
        if (wn->win[j] <= wn->win[best])
            best = j;
    *fp = wn->win[best];
    *pos = best;
    return 1;
}
