/*
 * build_family.c — families of near-duplicate texts (forks, vendored copies, editions), so that
 * document frequency counts a text and its forks once: a passage is common language when many
 * unrelated texts hold it, not when one file was copied a hundred times. Each text gets a
 * MinHash signature of its fingerprints (one-permutation hashing: 32 bins by the top bits,
 * empty bins filled from their right neighbour); texts whose signatures collide in one of 8
 * bands of 4 values (LSH) and agree on at least 70% of the values (estimated Jaccard
 * similarity >= 0.7) are joined (union-find). Runs in the builder after all texts are in.
 */
#include "rc_build.h"

#include <stdlib.h>

#define BANDS 8
#define ROWS (RC_MINHASH / BANDS)
#define MIN_AGREE ((RC_MINHASH * 7 + 9) / 10) /* 70% of the signature */
#define MIN_FINGERPRINTS 8 /* fewer: too little to tell; the text stays its own family */

void rc_minhash_init(rc_minhash_state *m)
{
    for (unsigned i = 0; i < RC_MINHASH; i++)
        m->sig[i] = UINT32_MAX;
    m->used = 0;
}

void rc_minhash_add(rc_minhash_state *m, const rc_fp *fps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (fps[i].channel == RC_CH_SHAPE)
            continue; /* the words or the lexemes themselves, not their shapes */
        uint64_t h = rc_mix64(fps[i].hash);
        unsigned bin = (unsigned)(h >> 59); /* 32 bins */
        uint32_t v = (uint32_t)(h >> 16);
        if (v < m->sig[bin])
            m->sig[bin] = v;
        m->used++;
    }
}

void rc_minhash_finish(rc_minhash_state *m, uint32_t *sig, bool *usable)
{
    *usable = m->used >= MIN_FINGERPRINTS;
    /* Densification: an empty bin takes the value of the next non-empty one to its right,
     * offset by the distance, so that similar texts still agree on it. */
    for (unsigned i = 0; i < RC_MINHASH; i++) {
        sig[i] = m->sig[i];
        for (unsigned d = 1; sig[i] == UINT32_MAX && d < RC_MINHASH; d++) {
            uint32_t nb = m->sig[(i + d) % RC_MINHASH];
            if (nb != UINT32_MAX)
                sig[i] = (uint32_t)rc_mix64((uint64_t)nb + d);
        }
    }
}

/* ==== union-find ==== */

static uint32_t find(uint32_t *parent, uint32_t x)
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

static void unite(uint32_t *parent, uint32_t a, uint32_t b)
{
    a = find(parent, a);
    b = find(parent, b);
    if (a == b)
        return;
    /* The smaller number becomes the root: the family is named by its first text. */
    if (a < b)
        parent[b] = a;
    else
        parent[a] = b;
}

static unsigned agreement(const uint32_t *x, const uint32_t *y)
{
    unsigned same = 0;
    for (unsigned i = 0; i < RC_MINHASH; i++)
        same += x[i] == y[i];
    return same;
}

typedef struct band_entry {
    uint64_t key;
    uint32_t cluster;
} band_entry;

static int cmp_band(const void *a, const void *b)
{
    const band_entry *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->cluster > y->cluster) - (x->cluster < y->cluster);
}

#define SIG_WORDS (RC_MINHASH + 1) /* a signature in the spool, and its "usable" */

static int read_sig(const rc_spool *sigs, uint32_t i, uint32_t *sig, recite_error *err)
{
    return rc_spool_read(sigs, (uint64_t)i * SIG_WORDS * 4, sig, SIG_WORDS * 4, err);
}

int rc_families(const rc_spool *sigs, uint32_t n, uint32_t *family, recite_error *err)
{
    for (uint32_t i = 0; i < n; i++)
        family[i] = i;
    band_entry *e = malloc((size_t)n * sizeof *e + 1);
    if (!e)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    int rc = RECITE_OK;
    for (unsigned b = 0; b < BANDS && rc == RECITE_OK; b++) {
        size_t m = 0;
        rc_spool_iter it;
        if ((rc = rc_spool_iter_init(&it, sigs, err)) != RECITE_OK)
            break;
        uint32_t sig[SIG_WORDS], other[SIG_WORDS];
        for (uint32_t i = 0; i < n && rc == RECITE_OK; i++)
            if ((rc = rc_spool_iter_read(&it, sig, sizeof sig, err)) == RECITE_OK &&
                sig[RC_MINHASH])
                e[m++] = (band_entry){rc_hash64(sig + b * ROWS, ROWS * sizeof *sig, b), i};
        rc_spool_iter_free(&it);
        if (rc != RECITE_OK)
            break;
        rc_sort(e, m, sizeof *e, cmp_band);
        /* Within a bucket, join each text to the bucket's first one it agrees with enough. */
        for (size_t s = 0; s < m && rc == RECITE_OK;) {
            size_t t = s + 1;
            while (t < m && e[t].key == e[s].key)
                t++;
            if (t > s + 1)
                rc = read_sig(sigs, e[s].cluster, sig, err);
            for (size_t k = s + 1; k < t && k < s + 1024 && rc == RECITE_OK;
                 k++) /* cap pathological buckets */
                if ((rc = read_sig(sigs, e[k].cluster, other, err)) == RECITE_OK &&
                    agreement(sig, other) >= MIN_AGREE)
                    unite(family, e[s].cluster, e[k].cluster);
            s = t;
        }
    }
    free(e);
    for (uint32_t i = 0; i < n; i++)
        family[i] = find(family, i);
    return rc;
}
