/*
 * fuzz_archive.c — the archive reader (src/build/extract_archive.c: libarchive, every format
 * and filter, members streamed, nested archives, limits) on any bytes: corrupt headers and
 * checksums, truncated streams, names with "../", nested and recursive archives. Invariants:
 * ingest_fuzz.h.
 */
#include "ingest_fuzz.h"
#include "seeds_write.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if_run(RC_DOC_ARCHIVE, data, size);
    return 0;
}

int fuzz_seeds(const char *dir)
{
    static unsigned char inner[8192], outer[32768];
    sw_member in[] = {{"docs/a.txt", "A member of a zip inside a tar, with some words.\n", 0}};
    size_t ni = sw_archive("zip", NULL, in, 1, inner, sizeof inner);
    sw_member out[] = {{"x.txt", "The first member, plain text.\n", 0},
                       {"../up.txt", "A name that climbs out (an id only).\n", 0},
                       {"inner.zip", (const char *)inner, ni}};
    int rc = 0;
    size_t n = sw_archive("tar", NULL, out, 3, outer, sizeof outer);
    rc |= n ? sw_file(dir, "nested.tar", outer, n) : -1;
    n = sw_archive("tar", "gzip", out, 2, outer, sizeof outer);
    rc |= n ? sw_file(dir, "plain.tar.gz", outer, n) : -1;
    n = sw_archive("zip", NULL, out, 3, outer, sizeof outer);
    rc |= n ? sw_file(dir, "nested.zip", outer, n) : -1;
    return rc;
}
