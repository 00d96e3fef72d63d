/*
 * rc_keyed.h — keyed token hashes for text-free indexes. A text-free index stores no text of
 * its works: only, per token, a keyed hash of the token's normalized form (and of its shape, for
 * code), short keyed hashes of its bytes and of the gap after it, and its byte offsets. Without
 * the key none of these can be computed for a guessed text, so the index cannot be probed.
 *
 * The key is derived from a secret of at least 16 bytes (a key file) with BLAKE2b; the hashes
 * are SipHash-2-4 (libsodium's crypto_shorthash), a pseudorandom function of its key.
 */
#ifndef RC_KEYED_H
#define RC_KEYED_H

#include "rc_text.h"

#define RC_KEY_MIN_SECRET RECITE_KEY_MIN_BYTES /* bytes of secret a key must be made from */

typedef struct rc_key {
    uint8_t tok[16];   /* SipHash key of token hashes */
    uint8_t bytes[16]; /* SipHash key of byte strings (tokens, gaps, punctuation) */
    uint64_t check;    /* stored in the index: tells a wrong key from the right one */
} rc_key;

/* Derives a key from secret[0, len); RECITE_EINVAL when len < RC_KEY_MIN_SECRET. */
int rc_key_derive(rc_key *key, const void *secret, size_t len);

/* Replaces the hash and shape of tokens t[0, n) by their keyed hashes (32 bits, which is what
 * a text-free index stores). Equal inputs stay equal; nothing else can be told from them. */
void rc_key_tokens(const rc_key *key, rc_token *t, size_t n);

/* The keyed hash of one shape hash (as rc_key_tokens makes it for a token's shape). */
uint64_t rc_key_shape(const rc_key *key, uint64_t shape);

/* Keyed hash of a byte string (domain separates the uses: token bytes, gap bytes, punctuation
 * signature). */
uint64_t rc_key_bytes(const rc_key *key, uint8_t domain, const uint8_t *s, size_t len);

#endif /* RC_KEYED_H */
