#!/usr/bin/env bash
# bench/ingest.sh RECITE — extraction of documents and archives (issue 10): a benchmark, not a
# test. From texts Debian ships (/usr/share/doc, /usr/share/common-licenses) it makes the same
# text as plain files, a tar.gz, a zip, EPUBs, HTML pages, PDFs (groff) and a git repository,
# then measures, in the same run (the machine is shared: compare ratios, not absolute figures):
#   1. extraction alone, one thread (bench/bench_extract.c: the builder's readers, text counted
#      and dropped), MB/s of input and of text, next to the command-line tools a user would
#      otherwise run on the same files: pdftotext (poppler-utils), bsdtar -xO, unzip -p, git
#      archive | bsdtar -xO, and Python's html.parser for HTML;
#   2. `recite index` (--no-cmi, INGEST_JOBS threads) MB/s of text from each form, against the
#      plain files: the build's speed with and without extraction.
#   INGEST_MB=24 (text), INGEST_PASSES=3 (best of), INGEST_JOBS=2, BENCH_DIR (default bench/out)
set -euo pipefail

RECITE=$(realpath "${1:?usage: bench/ingest.sh path/to/recite}")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=$(dirname "$RECITE")
MB=${INGEST_MB:-24}
PASSES=${INGEST_PASSES:-3}
JOBS=${INGEST_JOBS:-2}
OUT=${BENCH_DIR:-$ROOT/bench/out}/ingest-$MB
PY=/usr/bin/python3
export LC_ALL=C PYTHONDONTWRITEBYTECODE=1

"$ROOT/scripts/deps.sh" bench
for tool in pdftotext bsdtar unzip groff git; do
    command -v "$tool" >/dev/null || { echo "ingest: $tool is missing (scripts/deps.sh bench)" >&2; exit 2; }
done
mkdir -p "$OUT"
now() { date +%s.%N; }

# ---- corpus (cached per INGEST_MB) ----
if [ ! -f "$OUT/.done" ]; then
    rm -rf "${OUT:?}"/*
    echo "== making the corpus: $MB MB of text in every form (cached in $OUT)"
    "$PY" - "$OUT" "$MB" <<'PYEOF'
import gzip, html, io, os, subprocess, sys, tarfile, zipfile
out, mb = sys.argv[1], int(sys.argv[2])
texts, total = [], 0
cands = []
for d, _, fs in os.walk("/usr/share/doc"):
    for f in fs:
        if f.startswith(("README", "NEWS", "changelog")):
            cands.append(os.path.join(d, f))
cands.sort()
cands += sorted(os.path.join("/usr/share/common-licenses", f)
                for f in os.listdir("/usr/share/common-licenses"))
for p in cands:
    if total >= mb << 20:
        break
    try:
        raw = gzip.open(p).read() if p.endswith(".gz") else open(p, "rb").read()
        t = raw.decode("utf-8")
    except Exception:
        continue
    if len(t) < 2048 or "\0" in t:
        continue
    texts.append((p.replace("/", "_").lstrip("_").replace(".gz", "") + ".txt", t))
    total += len(raw)
os.makedirs(f"{out}/plain", exist_ok=True)
for name, t in texts:
    open(f"{out}/plain/{name}", "w", encoding="utf-8").write(t)
with tarfile.open(f"{out}/all.tar.gz", "w:gz") as tf:
    tf.add(f"{out}/plain", arcname="plain")
with zipfile.ZipFile(f"{out}/all.zip", "w", zipfile.ZIP_DEFLATED) as z:
    for name, t in texts:
        z.writestr(f"plain/{name}", t)
# EPUBs: books of ~1 MB, one chapter per text.
os.makedirs(f"{out}/epub", exist_ok=True)
book, size, nb = [], 0, 0
def write_book(book, nb):
    path = f"{out}/epub/book{nb:03d}.epub"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        z.writestr("META-INF/container.xml", '<?xml version="1.0"?><container><rootfiles>'
                   '<rootfile full-path="c.opf" media-type="application/oebps-package+xml"/>'
                   "</rootfiles></container>")
        items, spine = [], []
        for i, (name, t) in enumerate(book):
            paras = "".join(f"<p>{html.escape(p)}</p>\n" for p in t.split("\n\n"))
            z.writestr(f"c{i}.xhtml", '<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/'
                       f'xhtml"><head><title>{html.escape(name)}</title></head><body><h1>'
                       f"{html.escape(name)}</h1>{paras}</body></html>")
            items.append(f'<item id="c{i}" href="c{i}.xhtml" media-type="application/xhtml+xml"/>')
            spine.append(f'<itemref idref="c{i}"/>')
        z.writestr("c.opf", '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf">'
                   '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Book '
                   f'{nb}</dc:title></metadata><manifest>{"".join(items)}</manifest><spine>'
                   f'{"".join(spine)}</spine></package>')
for name, t in texts:
    book.append((name, t)); size += len(t)
    if size >= 1 << 20:
        write_book(book, nb); nb += 1; book, size = [], 0
if book:
    write_book(book, nb)
# HTML pages, one per text.
os.makedirs(f"{out}/html", exist_ok=True)
for name, t in texts:
    paras = "".join(f"<p>{html.escape(p)}</p>\n" for p in t.split("\n\n"))
    open(f"{out}/html/{name}.html", "w", encoding="utf-8").write(
        f"<!DOCTYPE html><html><head><title>{html.escape(name)}</title><script>var x=1;</script>"
        f"</head><body><nav>home</nav><article>{paras}</article></body></html>")
# PDFs (groff is slow: an eighth of the text, in books of ~256 KB).
os.makedirs(f"{out}/pdf", exist_ok=True)
chunk, size, npdf, budget = [], 0, 0, (mb << 20) // 8
def roff(t):
    return "\n".join(("\\&" + l if l.startswith((".", "'")) else l)
                     for l in t.replace("\\", "\\e").split("\n"))
def write_pdf(chunk, n):
    src = "\n.bp\n".join(roff(t) for t in chunk).encode()
    with open(f"{out}/pdf/doc{n:03d}.pdf", "wb") as f:
        subprocess.run(["groff", "-Tpdf"], input=src, stdout=f, stderr=subprocess.DEVNULL,
                       check=True)
for name, t in texts:
    if budget <= 0:
        break
    chunk.append(t); size += len(t); budget -= len(t)
    if size >= 256 << 10:
        write_pdf(chunk, npdf); npdf += 1; chunk, size = [], 0
if chunk:
    write_pdf(chunk, npdf)
print(f"{len(texts)} texts, {total / 1e6:.1f} MB; {nb + 1} EPUBs; {npdf + 1} PDFs")
PYEOF
    git -C "$OUT" init -q repo
    cp -r "$OUT/plain" "$OUT/repo/"
    git -C "$OUT/repo" add -A
    git -C "$OUT/repo" -c user.name=b -c user.email=b@example.org commit -q -m corpus
    touch "$OUT/.done"
fi

# ---- 1. extraction alone ----
BE=$OUT/bench_extract
cc -O2 -std=c17 -D_GNU_SOURCE -I"$ROOT/include" -I"$ROOT/src" \
    $(pkg-config --cflags libxxhash libutf8proc libzstd jansson libarchive libxml-2.0 poppler-glib libgit2) \
    -o "$BE" "$ROOT/bench/bench_extract.c" "$BUILD_DIR/librecite.a" \
    $(pkg-config --libs libxxhash libutf8proc libzstd jansson sqlite3 libsodium) \
    -lpthread -lm # libarchive, libxml2, poppler-glib, libgit2: loaded when needed (src/common/dl.c)

# best_of N CMD...: the best wall time of N runs of CMD (output discarded), in seconds.
best_of() {
    local n=$1 best="" t0 t
    shift
    for _ in $(seq "$n"); do
        t0=$(now)
        "$@" >/dev/null 2>&1
        t=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.4f", b - a }')
        best=$(awk -v a="$best" -v b="$t" 'BEGIN { print (a == "" || b < a) ? b : a }')
    done
    echo "$best"
}
pdftotext_all() { for f in "$OUT"/pdf/*.pdf; do pdftotext -q "$f" -; done; }
unzip_all() { for f in "$OUT"/epub/*.epub; do unzip -p "$f"; done; }
html_py() {
    "$PY" -c 'import sys, html.parser
class P(html.parser.HTMLParser):
    skip = 0
    def handle_starttag(self, t, a): self.skip += t in ("script", "style", "nav")
    def handle_endtag(self, t): self.skip -= t in ("script", "style", "nav")
    def handle_data(self, d):
        if not self.skip: sys.stdout.write(d)
for f in sys.argv[1:]:
    p = P(); p.feed(open(f, encoding="utf-8").read())' "$OUT"/html/*.html
}
git_archive() { git -C "$OUT/repo" archive HEAD | bsdtar -xOf -; }

printf '\n== extraction alone, one thread, best of %s (input MB/s; text MB/s)\n' "$PASSES"
printf '%-8s %9s %9s %8s %9s %9s   %-30s %9s %8s\n' format "input MB" "text MB" seconds \
    "in MB/s" "text MB/s" "baseline (same files)" seconds ratio
row() { # format, bench_extract args..., then -- baseline name and command
    local fmt=$1
    shift
    local args=()
    while [ "$1" != "--" ]; do args+=("$1"); shift; done
    shift
    local bname=$1
    shift
    read -r t inb textb works < <("$BE" "$PASSES" "${args[@]}")
    local bt
    bt=$(best_of "$PASSES" "$@")
    awk -v f="$fmt" -v t="$t" -v i="$inb" -v x="$textb" -v bn="$bname" -v bt="$bt" 'BEGIN {
        printf "%-8s %9.1f %9.1f %8.3f %9.1f %9.1f   %-30s %9.3f %7.2fx\n", f, i / 1e6, x / 1e6,
               t, i / 1e6 / t, x / 1e6 / t, bn, bt, bt / t }'
}
row pdf "$OUT"/pdf/*.pdf -- "pdftotext FILE -" pdftotext_all
row tar.gz "$OUT/all.tar.gz" -- "bsdtar -xOf" bsdtar -xOf "$OUT/all.tar.gz"
row zip "$OUT/all.zip" -- "unzip -p" unzip -p "$OUT/all.zip"
row zip "$OUT/all.zip" -- "bsdtar -xOf" bsdtar -xOf "$OUT/all.zip"
row epub "$OUT"/epub/*.epub -- "unzip -p (no XHTML to text)" unzip_all
row html "$OUT"/html/*.html -- "python3 html.parser" html_py
row git --git "$OUT/repo" -- "git archive | bsdtar -xO" git_archive
echo "(ratio: the baseline's time over recite's extraction time; above 1, recite extracts faster)"

# ---- 2. the build with and without extraction ----
printf '\n== recite index --no-cmi --jobs %s, best of %s: MB of text per second\n' "$JOBS" "$PASSES"
text_mb=$(du -sb "$OUT/plain" | awk '{ print $1 / 1e6 }')
build() { # name, args...
    local name=$1
    shift
    local t
    t=$(best_of "$PASSES" "$RECITE" index --no-cmi --quiet --jobs "$JOBS" --out "$OUT/idx-$name" "$@")
    echo "$name $t $(stat -c %s "$OUT/idx-$name/recite.idx")"
}
{
    build plain "$OUT/plain"
    build tar.gz "$OUT/all.tar.gz"
    build zip "$OUT/all.zip"
    build epub "$OUT/epub"
    build html "$OUT/html"
    build git --git "$OUT/repo"
} >"$OUT/builds.txt"
base=$(awk '$1 == "plain" { print $2 }' "$OUT/builds.txt")
printf '%-8s %9s %9s %10s %9s\n' input seconds "text MB/s" "vs plain" "index MB"
awk -v mb="$text_mb" -v base="$base" '{
    printf "%-8s %9.3f %9.1f %9.2fx %9.1f\n", $1, $2, mb / $2, base / $2, $3 / 1e6 }' "$OUT/builds.txt"
echo "(each form holds the same $text_mb MB of text; HTML and EPUB add markup; vs plain: the plain"
echo " files' build time over this one's. The zstd dictionary of the text blocks is trained on"
echo " samples of the inputs' bytes, which archives and EPUBs do not give: their indexes are built"
echo " without one, which saves the training time and costs index size)"
