/*
 * fuzz_pdf.c — the PDF reader (src/build/extract_pdf.c: poppler's text layer page by page,
 * document information, XMP rights) on any bytes: damaged cross-reference tables and streams,
 * encryption dictionaries, pages without text. Invariants: ingest_fuzz.h.
 */
#include "ingest_fuzz.h"
#include "seeds_write.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if_run(RC_DOC_PDF, data, size);
    return 0;
}

int fuzz_seeds(const char *dir)
{
    char buf[4096];
    size_t n = sw_pdf("A seed page of text for the fuzzer to break", buf, sizeof buf);
    return n ? sw_file(dir, "page.pdf", buf, n) : -1;
}
