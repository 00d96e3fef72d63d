/*
 * keyed.c — keyed hashes of text-free indexes (see rc_keyed.h).
 */
#include "rc_keyed.h"

#include <sodium.h>

int rc_key_derive(rc_key *key, const void *secret, size_t len)
{
    memset(key, 0, sizeof *key);
    if (len < RC_KEY_MIN_SECRET)
        return RECITE_EINVAL;
    uint8_t master[32], check[8];
    static const char tok[] = "recite text-free token hashes";
    static const char bytes[] = "recite text-free byte hashes";
    static const char chk[] = "recite text-free key check";
    if (crypto_generichash(master, sizeof master, secret, len, NULL, 0) != 0 ||
        crypto_generichash(key->tok, sizeof key->tok, (const uint8_t *)tok, sizeof tok - 1, master,
                           sizeof master) != 0 ||
        crypto_generichash(key->bytes, sizeof key->bytes, (const uint8_t *)bytes, sizeof bytes - 1,
                           master, sizeof master) != 0 ||
        crypto_generichash(check, sizeof check, (const uint8_t *)chk, sizeof chk - 1, master,
                           sizeof master) != 0)
        return RECITE_EINVAL;
    key->check = rc_get_u64(check);
    sodium_memzero(master, sizeof master);
    return RECITE_OK;
}

static uint64_t keyed_u64(const uint8_t k[16], uint64_t v)
{
    uint8_t in[8], out[8];
    rc_put_u64(in, v);
    crypto_shorthash(out, in, sizeof in, k);
    return rc_get_u64(out);
}

void rc_key_tokens(const rc_key *key, rc_token *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        bool same = t[i].shape == t[i].hash;
        t[i].hash = keyed_u64(key->tok, t[i].hash) & 0xffffffffu;
        t[i].shape = same ? t[i].hash : keyed_u64(key->tok, t[i].shape) & 0xffffffffu;
    }
}

uint64_t rc_key_shape(const rc_key *key, uint64_t shape)
{
    return keyed_u64(key->tok, shape) & 0xffffffffu;
}

uint64_t rc_key_bytes(const rc_key *key, uint8_t domain, const uint8_t *s, size_t len)
{
    /* One key per domain, so that a token's hash never equals a gap's of the same bytes. */
    uint8_t k[16], out[8];
    memcpy(k, key->bytes, sizeof k);
    k[15] ^= domain;
    crypto_shorthash(out, s, len, k);
    return rc_get_u64(out);
}
