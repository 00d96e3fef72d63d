/*
 * tokrec.c — token records of text-free indexes: what is stored per token instead of the
 * text. A record is
 *     varint  start (checkpoint tokens) or start - end of the previous token (the others)
 *     varint  end - start
 *     u32     keyed hash of the normalized token (rc_key_tokens)
 *     u32     keyed hash of its shape (code only)
 *     u16     keyed hash of the token's bytes
 *     u8      keyed hash of the bytes between it and the next token
 *     u8      keyed hash of the punctuation signature of token and gap
 * Records are decoded in order from a checkpoint, like text is tokenized from one.
 */
#include "rc_format.h"

void rc_tokx_of(const rc_key *key, const uint8_t *text, size_t len, uint64_t start, uint64_t end,
                uint64_t next_start, uint8_t *sig, rc_tokx *x)
{
    if (next_start > len)
        next_start = len;
    if (end > next_start)
        end = next_start;
    x->xtok = (uint16_t)rc_key_bytes(key, RC_KD_TOKEN, text + start, (size_t)(end - start));
    x->xgap = (uint8_t)rc_key_bytes(key, RC_KD_GAP, text + end, (size_t)(next_start - end));
    size_t n =
        rc_punct_signature(text, len, (size_t)start, (size_t)next_start, sig, RC_TOKX_SIG_CAP);
    x->pgap = (uint8_t)rc_key_bytes(key, RC_KD_PUNCT, sig, n);
}

static size_t put_varint(uint8_t *out, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

/* Reads a varint; 0 when in[0, avail) ends inside it, SIZE_MAX when it is too long. */
static size_t get_varint(const uint8_t *in, size_t avail, uint64_t *v)
{
    *v = 0;
    for (size_t i = 0; i < 10; i++) {
        if (i >= avail)
            return 0;
        *v |= (uint64_t)(in[i] & 0x7f) << (7 * i);
        if (!(in[i] & 0x80))
            return i + 1;
    }
    return SIZE_MAX;
}

size_t rc_tokrec_encode(uint8_t *out, const rc_token *t, const rc_tokx *x, uint64_t prev_end,
                        bool checkpoint, bool code)
{
    size_t n = put_varint(out, checkpoint ? t->start : t->start - prev_end);
    n += put_varint(out + n, t->end - t->start);
    rc_put_u32(out + n, (uint32_t)t->hash);
    n += 4;
    if (code) {
        rc_put_u32(out + n, (uint32_t)t->shape);
        n += 4;
    }
    out[n++] = (uint8_t)x->xtok;
    out[n++] = (uint8_t)(x->xtok >> 8);
    out[n++] = x->xgap;
    out[n++] = x->pgap;
    return n;
}

size_t rc_tokrec_decode(const uint8_t *in, size_t avail, uint64_t prev_end, bool checkpoint,
                        bool code, rc_token *t, rc_tokx *x)
{
    uint64_t a, len;
    size_t n = get_varint(in, avail, &a), m;
    if (n == 0 || n == SIZE_MAX)
        return n;
    if ((m = get_varint(in + n, avail - n, &len)) == 0 || m == SIZE_MAX)
        return m;
    n += m;
    size_t fixed = code ? 12 : 8;
    if (avail - n < fixed)
        return 0;
    t->start = checkpoint ? a : prev_end + a;
    t->end = t->start + len;
    if (t->start < prev_end || t->end < t->start || len > UINT32_MAX)
        return SIZE_MAX;
    t->hash = rc_get_u32(in + n);
    n += 4;
    t->shape = t->hash;
    if (code) {
        t->shape = rc_get_u32(in + n);
        n += 4;
    }
    x->xtok = (uint16_t)(in[n] | in[n + 1] << 8);
    x->xgap = in[n + 2];
    x->pgap = in[n + 3];
    return n + 4;
}
