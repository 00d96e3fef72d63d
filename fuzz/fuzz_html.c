/*
 * fuzz_html.c — the HTML reader (src/build/extract_html.c: libxml2's HTML parser, the text of a
 * page without scripts, styles and navigation, its title and meta) on any bytes: unclosed and
 * misnested tags, entities, encodings, deep nesting. Invariants: ingest_fuzz.h.
 */
#include "ingest_fuzz.h"
#include "seeds_write.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if_run(RC_DOC_HTML, data, size);
    return 0;
}

int fuzz_seeds(const char *dir)
{
    static const char page[] =
        "<!DOCTYPE html><html lang=en><head><title>T &amp; t</title><meta name=author "
        "content=A><script>x=1</script></head><body><nav>n</nav><p>One paragraph of text "
        "<b>bold</b> &eacute;<br>line<ul><li>item</li></ul><pre> kept\n  as is</pre>"
        "<table><tr><td>a<td>b</table></body></html>";
    static const char frag[] = "<div><p>a fragment<p>without a body &#x41;&#65; &unknown;";
    return sw_file(dir, "page.html", page, sizeof page - 1) |
           sw_file(dir, "fragment.html", frag, sizeof frag - 1);
}
