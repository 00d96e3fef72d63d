/*
 * rc_wire.h — messages between the participants of a distributed check (wire.c): a writer of
 * little-endian fields into a growable buffer, a reader that checks every field against the end
 * of what it reads, and the exchange of one message per participant (allgather) with the
 * sender's status in front, so that a failure anywhere fails the step everywhere.
 */
#ifndef RC_WIRE_H
#define RC_WIRE_H

#include "rc_common.h"

typedef struct rc_wire {
    RC_VEC(uint8_t) b;
    bool oom;
} rc_wire;

static inline void rc_wire_bytes(rc_wire *w, const void *p, size_t n)
{
    if (w->oom || RC_VEC_RESERVE(w->b, w->b.n + n + 1) != RECITE_OK) {
        w->oom = true;
        return;
    }
    if (n)
        memcpy(w->b.v + w->b.n, p, n);
    w->b.n += n;
}

static inline void rc_wire_u8(rc_wire *w, uint8_t v)
{
    rc_wire_bytes(w, &v, 1);
}

static inline void rc_wire_u32(rc_wire *w, uint32_t v)
{
    uint8_t b[4];
    rc_put_u32(b, v);
    rc_wire_bytes(w, b, 4);
}

static inline void rc_wire_u64(rc_wire *w, uint64_t v)
{
    uint8_t b[8];
    rc_put_u64(b, v);
    rc_wire_bytes(w, b, 8);
}

static inline void rc_wire_f64(rc_wire *w, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    rc_wire_u64(w, u);
}

/* A string that may be NULL: its length + 1 (0 for NULL), then its bytes. */
static inline void rc_wire_str(rc_wire *w, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    rc_wire_u32(w, s ? (uint32_t)n + 1 : 0);
    rc_wire_bytes(w, s, n);
}

/* Reads a message; `bad` once a field went past its end (every later field reads 0). */
typedef struct rc_rd {
    const uint8_t *p, *end;
    bool bad;
} rc_rd;

static inline const uint8_t *rc_rd_take(rc_rd *r, size_t n)
{
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = true;
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    return p;
}

static inline uint8_t rc_rd_u8(rc_rd *r)
{
    const uint8_t *p = rc_rd_take(r, 1);
    return p ? *p : 0;
}

static inline uint32_t rc_rd_u32(rc_rd *r)
{
    const uint8_t *p = rc_rd_take(r, 4);
    return p ? rc_get_u32(p) : 0;
}

static inline uint64_t rc_rd_u64(rc_rd *r)
{
    const uint8_t *p = rc_rd_take(r, 8);
    return p ? rc_get_u64(p) : 0;
}

static inline double rc_rd_f64(rc_rd *r)
{
    uint64_t u = rc_rd_u64(r);
    double v;
    memcpy(&v, &u, 8);
    return v;
}

/* A string written by rc_wire_str, copied into a malloc'd buffer in *out (NULL for NULL);
 * false when out of memory (then `bad` is not set). */
static inline bool rc_rd_str(rc_rd *r, char **out)
{
    *out = NULL;
    uint32_t n = rc_rd_u32(r);
    const uint8_t *p = n ? rc_rd_take(r, n - 1) : NULL;
    if (!p)
        return true;
    if (!(*out = malloc(n)))
        return false;
    memcpy(*out, p, n - 1);
    (*out)[n - 1] = 0;
    return true;
}

/* A count of records of at least `each` bytes: 0 and `bad` when the message cannot hold them. */
static inline uint32_t rc_rd_count(rc_rd *r, size_t each)
{
    uint32_t n = rc_rd_u32(r);
    if (!r->bad && each && n > (size_t)(r->end - r->p) / each) {
        r->bad = true;
        return 0;
    }
    return n;
}

/* What every participant sent in one exchange: a reader per participant (in rank order) over
 * one buffer. */
typedef struct rc_exchange {
    void *buf;
    rc_rd *from;
    unsigned n;
} rc_exchange;

/* One collective step: every participant sends its message (w; or, when rc is not RECITE_OK,
 * its failure and err's message) and receives everyone's. RECITE_OK when every participant
 * succeeded (in->from[r] reads participant r's message); else every participant returns the
 * same failure: its own, or the first other participant's ("participant R: ..."), and `in` is
 * empty. Free `in` with rc_exchange_free. */
int rc_exchange_step(const recite_comm *comm, int rc, recite_error *err, const rc_wire *w,
                     rc_exchange *in);
void rc_exchange_free(rc_exchange *in);

#endif /* RC_WIRE_H */
