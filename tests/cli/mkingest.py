#!/usr/bin/env python3
"""mkingest.py DIR — documents, archives and a git repository for the ingest tests (issue 10),
made at test time from texts Debian ships (/usr/share/common-licenses) and text written here:

  books/book.pdf      5 pages (groff -Tpdf), page N starts with "Page N marker", title/author
  books/scan.pdf      2 pages with drawings and no text layer
  books/locked.pdf    an encrypted PDF (a user password is needed)
  books/broken.pdf    a truncated PDF
  books/book.epub     EPUB 3: 3 chapters (nav toc), Dublin Core metadata with rights and ISBN
  books/old.epub      EPUB 2: 2 chapters, titles from the NCX
  books/broken.epub   a zip with the EPUB mimetype and no container
  books/page.html     an HTML page: title, author/copyright meta, nav and script to drop
  arch/texts.tar.gz   two texts; arch/nest.tar holds inner.zip holding deep.txt
  arch/texts.tar.xz   one text; arch/single.txt.gz a compressed file
  arch/trav.tar       a member named ../../escape.txt (an id, never a path written)
  arch/corrupt.tgz    a truncated tar.gz; arch/bomb.zip 64 MiB of zeros in 64 KiB
  arch/deep.zip       zips nested 6 levels deep
  repo/               a git repository: LICENSE (Apache-2.0), src/plain.c (no license),
                      src/tagged.c (SPDX MIT), a commit tagged v1
Prints, one per line, KEY=VALUE facts the tests use (spans to quote, their expected locators).
"""
import gzip
import io
import lzma
import os
import subprocess
import sys
import tarfile
import zipfile

D = sys.argv[1]
LIC = "/usr/share/common-licenses"


def paragraphs(name):
    text = open(os.path.join(LIC, name), encoding="utf-8").read()
    paras = [" ".join(p.split()) for p in text.split("\n\n")]
    return [p for p in paras if len(p.split()) >= 25]


def roff(text):
    out = []
    for line in text.split("\n"):
        line = line.replace("\\", "\\e")
        if line.startswith((".", "'")):
            line = "\\&" + line
        out.append(line)
    return "\n".join(out)


def run(*cmd, cwd=None, stdin=None):
    subprocess.run(cmd, cwd=cwd, input=stdin, check=True, stdout=subprocess.PIPE,
                   stderr=subprocess.PIPE)


def pdfs(facts):
    os.makedirs(f"{D}/books", exist_ok=True)
    gpl = paragraphs("GPL-3")
    src = [".pdfinfo /Title The Test Book of Licenses", ".pdfinfo /Author Test Writer"]
    for page in range(1, 6):
        if page > 1:
            src.append(".bp")
        para = gpl[10 + page]
        src.append(roff(f"Page {page} marker. {para}"))
        src.append(".sp")
        if page == 3:
            words = para.split()
            facts["PDF_P3_SPAN"] = " ".join(words[:20])
    run("sh", "-c", f"groff -Tpdf -mpdfmark > {D}/books/book.pdf",
        stdin="\n".join(src).encode())
    # Drawings only: pages without a text layer, as a scan without OCR.
    run("sh", "-c", f"groff -Tpdf > {D}/books/scan.pdf",
        stdin=b"\\D'l 3i 0'\n.bp\n\\D'l 2i 1i'\n")
    data = open(f"{D}/books/book.pdf", "rb").read()
    open(f"{D}/books/broken.pdf", "wb").write(data[: len(data) // 3])
    # Encrypted: the standard security handler with a user password (its hash does not
    # match the empty password), written by hand.
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
            b"<< /Filter /Standard /V 1 /R 2 /O <" + b"11" * 32 + b"> /U <" + b"22" * 32 +
            b"> /P -4 >>"]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offs = []
    for i, o in enumerate(objs, 1):
        offs.append(out.tell())
        out.write(b"%d 0 obj\n" % i + o + b"\nendobj\n")
    x = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    for o in offs:
        out.write(b"%010d 00000 n \n" % o)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R /Encrypt 4 0 R /ID [<%s><%s>] >>\n"
              % (len(objs) + 1, b"ab" * 16, b"ab" * 16))
    out.write(b"startxref\n%d\n%%%%EOF\n" % x)
    open(f"{D}/books/locked.pdf", "wb").write(out.getvalue())


def xhtml(title, paras):
    body = "".join(f"<p>{p}</p>\n" for p in paras)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml">'
            f"<head><title>{title}</title></head><body><h1>{title}</h1>\n{body}</body></html>")


CONTAINER = ('<?xml version="1.0"?><container version="1.0" '
             'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
             '<rootfile full-path="OEBPS/content.opf" '
             'media-type="application/oebps-package+xml"/></rootfiles></container>')


def epub(path, chapters, opf_meta, version, toc_titles):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        z.writestr("META-INF/container.xml", CONTAINER, compress_type=zipfile.ZIP_DEFLATED)
        items, spine = [], []
        for i, (name, title, paras) in enumerate(chapters, 1):
            z.writestr(f"OEBPS/text/{name}", xhtml(title, paras), compress_type=zipfile.ZIP_DEFLATED)
            items.append(f'<item id="c{i}" href="text/{name}" media-type="application/xhtml+xml"/>')
            spine.append(f'<itemref idref="c{i}"/>')
        if version == 3:
            links = "".join(f'<li><a href="text/{n}">{t}</a></li>'
                            for (n, _, _), t in zip(chapters, toc_titles))
            nav = ('<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml" '
                   'xmlns:epub="http://www.idpf.org/2007/ops"><body><nav epub:type="toc"><ol>'
                   f"{links}</ol></nav></body></html>")
            z.writestr("OEBPS/nav.xhtml", nav, compress_type=zipfile.ZIP_DEFLATED)
            items.append('<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" '
                         'properties="nav"/>')
            spine_attr = ""
        else:
            points = "".join(f'<navPoint id="p{i}"><navLabel><text>{t}</text></navLabel>'
                             f'<content src="text/{n}"/></navPoint>'
                             for i, ((n, _, _), t) in enumerate(zip(chapters, toc_titles), 1))
            z.writestr("OEBPS/toc.ncx", '<?xml version="1.0"?><ncx xmlns="http://www.daisy.org/'
                       f'z3986/2005/ncx/" version="2005-1"><navMap>{points}</navMap></ncx>',
                       compress_type=zipfile.ZIP_DEFLATED)
            items.append('<item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>')
            spine_attr = ' toc="ncx"'
        opf = ('<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" '
               f'version="{version}.0"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
               f'{opf_meta}</metadata><manifest>{"".join(items)}</manifest>'
               f'<spine{spine_attr}>{"".join(spine)}</spine></package>')
        z.writestr("OEBPS/content.opf", opf, compress_type=zipfile.ZIP_DEFLATED)


def epubs(facts):
    mpl = paragraphs("MPL-2.0")
    chapters = [("ch1.xhtml", "One", mpl[2:5]), ("ch2.xhtml", "Two", mpl[5:9]),
                ("ch3.xhtml", "Three", mpl[9:12])]
    meta = ("<dc:title>A Book of Public Licenses</dc:title><dc:creator>First Author</dc:creator>"
            "<dc:creator>Second Author</dc:creator>"
            "<dc:rights>Copyright \u00a9 2021 Example Press Ltd. All rights reserved.</dc:rights>"
            "<dc:identifier>urn:isbn:9780000000002</dc:identifier>"
            "<dc:publisher>Example Press</dc:publisher><dc:date>2021-05-01</dc:date>"
            "<dc:language>en</dc:language>")
    epub(f"{D}/books/book.epub", chapters, meta, 3,
         ["The Opening Chapter", "The Second Chapter", "The Last Chapter"])
    facts["EPUB_CH2_SPAN"] = " ".join(mpl[6].split()[:20])
    apache = paragraphs("Apache-2.0")
    epub(f"{D}/books/old.epub", [("a.xhtml", "A", apache[3:6]), ("b.xhtml", "B", apache[6:9])],
         "<dc:title>An Older Book</dc:title><dc:creator>Old Author</dc:creator>", 2,
         ["Part Alpha", "Part Beta"])
    facts["EPUB2_CH2_SPAN"] = " ".join(apache[7].split()[:20])
    with zipfile.ZipFile(f"{D}/books/broken.epub", "w") as z:
        z.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        z.writestr("OEBPS/x.xhtml", "<html/>")


def html(facts):
    lgpl = paragraphs("LGPL-2.1")
    body = "".join(f"<p>{p}</p>" for p in lgpl[3:7])
    page = ("<!DOCTYPE html><html lang=\"en\"><head><title>A Page &amp; Its Title</title>"
            '<meta name="author" content="Page Author">'
            '<meta name="copyright" content="Copyright 2020 Page Owner">'
            "<script>var hidden = 'scriptwordzzz';</script><style>p{color:red}</style></head>"
            "<body><nav>navwordzzz home about</nav>"
            f"<article>{body}</article><footer>footerwordzzz</footer></body></html>")
    open(f"{D}/books/page.html", "w", encoding="utf-8").write(page)
    facts["HTML_SPAN"] = " ".join(lgpl[4].split()[:20])


def add_bytes(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 1600000000
    tar.addfile(info, io.BytesIO(data))


def archives(facts):
    os.makedirs(f"{D}/arch", exist_ok=True)
    bsd = open(f"{LIC}/BSD", "rb").read()
    gpl2 = open(f"{LIC}/GPL-2", "rb").read()
    with tarfile.open(f"{D}/arch/texts.tar.gz", "w:gz") as t:
        add_bytes(t, "texts/bsd.txt", bsd)
        add_bytes(t, "texts/gpl2.txt", gpl2)
        add_bytes(t, "texts/.hidden.txt", b"hidden member text\n")
    lines = gpl2.decode().split("\n")
    facts["TAR_GPL2_LINE"] = "101"
    facts["TAR_GPL2_SPAN"] = " ".join(" ".join(lines[100:106]).split()[:18])
    inner = io.BytesIO()
    deep_text = open(f"{LIC}/Artistic", "rb").read()
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("docs/deep.txt", deep_text, compress_type=zipfile.ZIP_DEFLATED)
    with tarfile.open(f"{D}/arch/nest.tar", "w") as t:
        add_bytes(t, "inner.zip", inner.getvalue())
    facts["NEST_SPAN"] = " ".join(" ".join(deep_text.decode().split("\n")[20:26]).split()[:18])
    with tarfile.open(f"{D}/arch/texts.tar.xz", "w:xz") as t:
        add_bytes(t, "cc0.txt", open(f"{LIC}/CC0-1.0", "rb").read())
    open(f"{D}/arch/single.txt.gz", "wb").write(gzip.compress(open(f"{LIC}/MPL-1.1", "rb").read()))
    with tarfile.open(f"{D}/arch/trav.tar", "w") as t:
        add_bytes(t, "../../escape.txt", open(f"{LIC}/GFDL-1.3", "rb").read())
    good = open(f"{D}/arch/texts.tar.gz", "rb").read()
    open(f"{D}/arch/corrupt.tgz", "wb").write(good[: len(good) // 2])
    with zipfile.ZipFile(f"{D}/arch/bomb.zip", "w") as z:
        z.writestr("zeros.txt", b"0" * (64 << 20), compress_type=zipfile.ZIP_DEFLATED)
    level = b"the innermost text of nested zips, six levels down\n" * 20
    name = "level6.txt"
    for depth in range(6, 0, -1):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr(name, level, compress_type=zipfile.ZIP_DEFLATED)
        level, name = buf.getvalue(), f"level{depth}.zip"
    open(f"{D}/arch/deep.zip", "wb").write(level)


PLAIN_C = """#include <stdio.h>

/* Counts the words of standard input, as wc -w does, and prints how many it saw. */
static int count_words(FILE *in, unsigned long *words)
{
    int c, inword = 0;
    *words = 0;
    while ((c = getc(in)) != EOF) {
        int space = c == ' ' || c == '\\n' || c == '\\t' || c == '\\r';
        if (!space && !inword)
            (*words)++;
        inword = !space;
    }
    return ferror(in) ? -1 : 0;
}

int main(void)
{
    unsigned long words;
    if (count_words(stdin, &words) != 0) {
        fprintf(stderr, "read error\\n");
        return 1;
    }
    printf("%lu\\n", words);
    return 0;
}
"""


def repo(facts):
    r = f"{D}/repo"
    os.makedirs(f"{r}/src", exist_ok=True)
    open(f"{r}/LICENSE", "wb").write(open(f"{LIC}/Apache-2.0", "rb").read())
    open(f"{r}/src/plain.c", "w").write(PLAIN_C)
    open(f"{r}/src/tagged.c", "w").write("// SPDX-License-Identifier: MIT\n" +
                                         PLAIN_C.replace("count_words", "tally_words"))
    open(f"{r}/.gitignore", "w").write("*.o\n")
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.org",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.org",
               GIT_AUTHOR_DATE="2021-01-01T00:00:00Z", GIT_COMMITTER_DATE="2021-01-01T00:00:00Z")
    for cmd in (["git", "init", "-q", "-b", "main"], ["git", "add", "-A"],
                ["git", "commit", "-q", "-m", "first"], ["git", "tag", "v1"]):
        subprocess.run(cmd, cwd=r, env=env, check=True, stdout=subprocess.DEVNULL)
    # A later commit that v1 does not have.
    open(f"{r}/src/later.c", "w").write(PLAIN_C.replace("count_words", "later_words"))
    for cmd in (["git", "add", "-A"], ["git", "commit", "-q", "-m", "second"]):
        subprocess.run(cmd, cwd=r, env=env, check=True, stdout=subprocess.DEVNULL)
    facts["PLAIN_C"] = f"{r}/src/plain.c"


facts = {}
pdfs(facts)
epubs(facts)
html(facts)
archives(facts)
repo(facts)
for k, v in facts.items():
    print(f"{k}={v}")
