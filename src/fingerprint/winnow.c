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

static inline unsigned dq_slot(const rc_winnow *wn, unsigned i)
{
    unsigned s = wn->dq_head + i;
    return s >= wn->w ? s - wn->w : s;
}

int rc_winnow_push(rc_winnow *wn, uint64_t token_hash, uint64_t *fp, uint64_t *pos)
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
    /* Deque: drop the oldest if it leaves the window, drop k-grams not smaller than the new
     * one (so the rightmost minimum wins ties), append it. At most w entries. */
    if (wn->dq_len && wn->dq_pos[wn->dq_head] + w <= g) {
        wn->dq_head = wn->dq_head + 1 == w ? 0 : wn->dq_head + 1;
        wn->dq_len--;
    }
    while (wn->dq_len && wn->dq_hash[dq_slot(wn, wn->dq_len - 1)] >= h)
        wn->dq_len--;
    unsigned tail = dq_slot(wn, wn->dq_len++);
    wn->dq_hash[tail] = h;
    wn->dq_pos[tail] = g;
    if (g + 1 < w)
        return 0;
    uint64_t m = wn->dq_pos[wn->dq_head], mh = wn->dq_hash[wn->dq_head];
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

int rc_winnow_finish(rc_winnow *wn, uint64_t *fp, uint64_t *pos)
{
    if (wn->ntok < wn->k)
        return 0;
    uint64_t nk = wn->ntok - wn->k + 1;
    if (nk >= wn->w)
        return 0; /* full windows were seen: already winnowed */
    /* Nothing has left the window yet: the deque's front is the rightmost minimum of all. */
    *fp = wn->dq_hash[wn->dq_head];
    *pos = wn->dq_pos[wn->dq_head];
    return 1;
}
