/*
 * errors.c — status strings, recite_error formatting, the growable-array helper and the
 * xxHash wrappers. Everything in src/ reports failures through these; nothing here prints.
 */
#include "rc_common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <xxhash.h>

const char *recite_strerror(int code)
{
    switch (code) {
    case RECITE_OK: return "success";
    case RECITE_ENOMEM: return "out of memory";
    case RECITE_EIO: return "input/output error";
    case RECITE_EFORMAT: return "malformed input or corrupt index";
    case RECITE_EVERSION: return "incompatible index format version";
    case RECITE_EINVAL: return "invalid argument";
    case RECITE_ELIMIT: return "size limit exceeded";
    case RECITE_EEMPTY: return "nothing to index";
    case RECITE_EKEY: return "missing or wrong key of a text-free index";
    case RECITE_ENOTEXT: return "the index stores no text (text-free)";
    default: return "unknown error";
    }
}

const char *recite_info_source_name(recite_info_source from)
{
    switch (from) {
    case RECITE_FROM_METADATA: return "metadata";
    case RECITE_FROM_SPDX: return "spdx";
    case RECITE_FROM_HEADER: return "header";
    case RECITE_FROM_TEXT: return "text";
    default: return "none";
    }
}

recite_info_source rc_info_source_of(const char *name)
{
    for (int f = RECITE_FROM_METADATA; f <= RECITE_FROM_TEXT; f++)
        if (name && strcmp(name, recite_info_source_name((recite_info_source)f)) == 0)
            return (recite_info_source)f;
    return RECITE_FROM_NONE;
}

const char *recite_version(void)
{
    return RECITE_VERSION_STRING;
}

RC_PRINTF(3, 0) static void vset(recite_error *err, int code, const char *fmt, va_list ap)
{
    err->code = code;
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    /* Messages are one line: a path or a JSON snippet may carry a newline. */
    for (char *p = err->message; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
}

int rc_error_set(recite_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vset(err, code, fmt, ap);
        va_end(ap);
    }
    return code;
}

int rc_error_errno(recite_error *err, int code, int errnum, const char *fmt, ...)
{
    /* A call that failed for want of memory (a map, a FILE or DIR) is out of memory, not I/O. */
    if (errnum == ENOMEM)
        code = RECITE_ENOMEM;
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vset(err, code, fmt, ap);
        va_end(ap);
        size_t n = strlen(err->message);
        snprintf(err->message + n, sizeof err->message - n, ": %s", strerror(errnum));
    }
    return code;
}

int rc_grow(void **ptr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return RECITE_OK;
    size_t ncap = *cap ? *cap : 16;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            return RECITE_ENOMEM;
        ncap *= 2;
    }
    size_t bytes;
    if (rc_mul_overflows(ncap, elem, &bytes))
        return RECITE_ENOMEM;
    void *p = realloc(*ptr, bytes);
    if (!p)
        return RECITE_ENOMEM;
    *ptr = p;
    *cap = ncap;
    return RECITE_OK;
}

uint64_t rc_hash64(const void *data, size_t len, uint64_t seed)
{
    return XXH3_64bits_withSeed(data, len, seed);
}

rc_hash128 rc_hash128_of(const void *data, size_t len)
{
    XXH128_hash_t h = XXH3_128bits(data, len);
    return (rc_hash128){h.low64, h.high64};
}
