/*
 * wire.c — one collective step of a distributed check (rc_wire.h): each participant's message
 * goes to all behind its status (u32 code, then a message when it failed), so that every
 * participant knows, after each step, whether all succeeded — and none waits for a step that
 * another skipped.
 */
#include "rc_wire.h"

#include <stdio.h>

#define FAIL_MSG 480

int rc_exchange_step(const recite_comm *comm, int rc, recite_error *err, const rc_wire *w,
                     rc_exchange *in)
{
    memset(in, 0, sizeof *in);
    if (rc == RECITE_OK && w->oom)
        rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
    rc_wire head = {0};
    rc_wire_u32(&head, (uint32_t)(int32_t)rc);
    if (rc != RECITE_OK) {
        char msg[FAIL_MSG + 1];
        snprintf(msg, sizeof msg, "%.480s", err ? err->message : recite_strerror(rc));
        rc_wire_str(&head, msg);
    } else if (w->b.n) {
        rc_wire_bytes(&head, w->b.v, w->b.n);
    }
    const uint8_t *send = head.b.v;
    size_t len = head.b.n;
    uint8_t nomem[4];
    if (head.oom) { /* not even the failure can be said in full: say it in four bytes */
        rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
        rc_put_u32(nomem, (uint32_t)(int32_t)RECITE_ENOMEM);
        send = nomem;
        len = 4;
    }
    size_t *lens = calloc(comm->size + 1, sizeof *lens);
    void *all = NULL;
    int crc = lens ? comm->allgather(comm->user, send, len, &all, lens) : RECITE_ENOMEM;
    RC_VEC_FREE(head.b);
    if (crc != RECITE_OK) {
        free(lens);
        free(all);
        return rc != RECITE_OK ? rc
                               : rc_error_set(err, crc, "the participants could not exchange (%s)",
                                              recite_strerror(crc));
    }
    rc_rd *from = calloc(comm->size + 1, sizeof *from);
    const uint8_t *p = all;
    int out = rc;
    for (unsigned r = 0; r < comm->size; r++) {
        rc_rd rd = {p, p + lens[r], false};
        p += lens[r];
        int code = (int)(int32_t)rc_rd_u32(&rd);
        if (rd.bad)
            code = RECITE_EFORMAT;
        if (from)
            from[r] = rd;
        if (code != RECITE_OK && out == RECITE_OK) {
            rc_rd m = rd;
            uint32_t n = rc_rd_u32(&m);
            const uint8_t *s = n ? rc_rd_take(&m, n - 1) : NULL;
            out = rc_error_set(err, code, "participant %u: %.*s", r, s ? (int)(n - 1) : 0,
                               s ? (const char *)s : "");
        }
    }
    free(lens);
    if (out == RECITE_OK && !from)
        out = rc_error_set(err, RECITE_ENOMEM, "out of memory");
    if (out != RECITE_OK) {
        free(all);
        free(from);
        return out;
    }
    *in = (rc_exchange){all, from, comm->size};
    return RECITE_OK;
}

void rc_exchange_free(rc_exchange *in)
{
    free(in->buf);
    free(in->from);
    memset(in, 0, sizeof *in);
}
