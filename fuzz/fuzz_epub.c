/*
 * fuzz_epub.c — the EPUB reader (src/build/extract_epub.c: the zip, container.xml, the OPF
 * package, spine, nav/NCX table of contents, XHTML chapters) on any bytes: missing or damaged
 * parts, hrefs with "..", "%" escapes and fragments, chapters that are not XML. Invariants:
 * ingest_fuzz.h.
 */
#include "ingest_fuzz.h"
#include "seeds_write.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if_run(RC_DOC_EPUB, data, size);
    return 0;
}

int fuzz_seeds(const char *dir)
{
    static unsigned char buf[32768];
    sw_member m[] = {
        {"mimetype", "application/epub+zip", 0},
        {"META-INF/container.xml",
         "<?xml version=\"1.0\"?><container><rootfiles><rootfile full-path=\"O/c.opf\" "
         "media-type=\"application/oebps-package+xml\"/></rootfiles></container>",
         0},
        {"O/c.opf",
         "<?xml version=\"1.0\"?><package xmlns=\"http://www.idpf.org/2007/opf\"><metadata "
         "xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><dc:title>Seed</dc:title><dc:creator>A"
         "</dc:creator><dc:rights>Copyright 2020 B</dc:rights><dc:identifier>urn:isbn:"
         "9780000000002</dc:identifier></metadata><manifest><item id=\"n\" href=\"nav.xhtml\" "
         "properties=\"nav\"/><item id=\"a\" href=\"t/a%20b.xhtml\"/><item id=\"b\" "
         "href=\"t/../t/b.xhtml#x\"/></manifest><spine><itemref idref=\"a\"/><itemref "
         "idref=\"b\"/><itemref idref=\"missing\"/></spine></package>",
         0},
        {"O/nav.xhtml",
         "<html><body><nav type=\"toc\"><ol><li><a href=\"t/a%20b.xhtml\">First</a></li><li><a "
         "href=\"t/b.xhtml#x\">Second</a></li></ol></nav></body></html>",
         0},
        {"O/t/a b.xhtml", "<html><body><h1>One</h1><p>The first chapter's text.</p></body></html>",
         0},
        {"O/t/b.xhtml", "<html><body><p>Not closed <p>HTML, not XML &nbsp; here", 0},
    };
    size_t n = sw_archive("zip", NULL, m, sizeof m / sizeof m[0], buf, sizeof buf);
    return n ? sw_file(dir, "book.epub", buf, n) : -1;
}
