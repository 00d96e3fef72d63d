#!/usr/bin/env bash
# demo.sh RECITE — the main job end to end, on a library made at run time from texts Debian
# ships: builds an index, checks a few sample "model outputs" made from it, prints the reports.
# Everything is written under demo-out/ (or $DEMO_DIR), which is recreated each run.
set -euo pipefail

RECITE=${1:-build/recite}
OUT=${DEMO_DIR:-demo-out}
PY=/usr/bin/python3

rm -rf "$OUT"
mkdir -p "$OUT/lib/licenses" "$OUT/lib/docs" "$OUT/lib/code" "$OUT/outputs"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# ---- 1. the library -------------------------------------------------------------------------
say "Building a library from texts Debian ships"
cp -L /usr/share/common-licenses/* "$OUT/lib/licenses/"
# Package documentation: README/changelog-style prose, decompressed; a few hundred files.
n=0
while IFS= read -r f; do
    base=$(echo "${f#/usr/share/doc/}" | tr '/' '_')
    case "$f" in
        *.gz) zcat -- "$f" > "$OUT/lib/docs/${base%.gz}.txt" 2>/dev/null || rm -f "$OUT/lib/docs/${base%.gz}.txt" ;;
        *) cp -- "$f" "$OUT/lib/docs/$base.txt" ;;
    esac
    n=$((n + 1))
done < <(find /usr/share/doc -type f \( -iname 'README*' -o -iname 'NEWS*' -o -iname 'copyright' \) \
           -size +2k -size -400k 2>/dev/null | LC_ALL=C sort | head -n 400)
# Source code: C headers with their license notices (code mode by extension: --auto).
cp /usr/include/stdio.h /usr/include/stdlib.h /usr/include/string.h "$OUT/lib/code/"
# A JSONL file of "books" with catalogue metadata (title, author, license, source).
"$PY" - "$OUT/lib/books.jsonl" <<'PYEOF'
import json, sys, pathlib
books = [
    ("GPL-2", "GNU General Public License, version 2", "Free Software Foundation", "GPL-2.0-only", "licensed"),
    ("Apache-2.0", "Apache License 2.0", "The Apache Software Foundation", "Apache-2.0", "licensed"),
    ("MPL-2.0", "Mozilla Public License 2.0", "Mozilla Foundation", "MPL-2.0", "public-domain"),
]
with open(sys.argv[1], "w") as out:
    for name, title, author, lic, source in books:
        text = pathlib.Path("/usr/share/common-licenses", name).read_text(encoding="utf-8")
        # A "second edition": same text with a different first line, so it is a distinct work.
        text = f"{title}\nSecond printing.\n\n" + text
        out.write(json.dumps({"id": f"book:{name}", "text": text, "title": title,
                              "author": author, "license": lic, "source": source,
                              "url": f"file:///usr/share/common-licenses/{name}"}) + "\n")
PYEOF
du -sh "$OUT/lib" | sed 's/^/library size: /'

# ---- 2. the index ---------------------------------------------------------------------------
say "recite index --auto --out $OUT/index $OUT/lib"
"$RECITE" index --auto --out "$OUT/index" "$OUT/lib" 2> "$OUT/index-notes.txt"
if [ -s "$OUT/index-notes.txt" ]; then
    echo "($(wc -l < "$OUT/index-notes.txt") notes about skipped or re-decoded inputs in $OUT/index-notes.txt)"
fi
say "recite stats --index $OUT/index"
"$RECITE" stats --index "$OUT/index"

# ---- 3. sample outputs ----------------------------------------------------------------------
say "Making sample model outputs"
"$PY" - "$OUT" <<'PYEOF'
import pathlib, sys, re
out = pathlib.Path(sys.argv[1])
gpl3 = pathlib.Path("/usr/share/common-licenses/GPL-3").read_text()
apache = pathlib.Path("/usr/share/common-licenses/Apache-2.0").read_text()
# (a) a verbatim paragraph of GPL-3 inside an answer
para = gpl3[gpl3.index("  The licenses for most software"):]
para = para[:para.index("\n\n")]
(out / "outputs/verbatim.txt").write_text(
    "Sure! Here is what the preamble says:\n\n" + para + "\n\nLet me know if you need more.\n")
# (b) the same kind of copy, normalized: reflowed, upper-cased words, curly quotes, numbered lines
sec = apache[apache.index("Derivative Works\" shall mean"):]
sec = sec[:800]
sec = " ".join(sec.split()).replace('"', "\u201c", 1).replace('"', "\u201d", 1)
words = sec.split(" ")
lines, cur = [], []
for w in words:
    cur.append(w)
    if len(" ".join(cur)) > 60:
        lines.append(" ".join(cur)); cur = []
lines.append(" ".join(cur))
numbered = "\n".join(f"{i+1:>2}  {l}" for i, l in enumerate(lines))
(out / "outputs/normalized.txt").write_text("As quoted in the filing:\n" + numbered.upper()[:400] + numbered[400:] + "\n")
# (d) near-verbatim: a GPL-3 passage with a few words changed
near = gpl3[gpl3.index("  When we speak of free software"):]
near = near[:near.index("\n\n")]
for a, b in (("freedom", "liberty"), ("charge", "bill"), ("pieces", "parts")):
    near = near.replace(a, b, 1)
(out / "outputs/near.txt").write_text("Paraphrasing a little:\n" + near + "\n")
# (e) code: a stretch of stdio.h without its license header, then with another one
stdio = pathlib.Path("/usr/include/stdio.h").read_text()
body = stdio[stdio.index("/* Open a file and create a new stream for it."):]
body = body[:2500]
(out / "outputs/code-no-notice.txt").write_text("Here is the declaration you asked for:\n\n" + body)
(out / "outputs/code-other-notice.txt").write_text(
    "/* Copyright (C) 2024 Example Widgets Corp.\n   SPDX-License-Identifier: MIT */\n" + body)
# (c) original text: no recitation
(out / "outputs/original.txt").write_text(
    "Recitation checkers compare generated text against a library of protected works.\n"
    "This paragraph was written for the demo and appears in no indexed work, so the\n"
    "checker should report that nothing was found and exit with status zero.\n")
PYEOF
ls -l "$OUT/outputs"

# ---- 4. checks ------------------------------------------------------------------------------
set +e
for f in verbatim normalized near code-no-notice code-other-notice original; do
    say "recite check --index $OUT/index $OUT/outputs/$f.txt"
    "$RECITE" check --index "$OUT/index" "$OUT/outputs/$f.txt"
    echo "(exit status $?)"
done
say "recite check --json (one output, pretty-printed)"
"$RECITE" check --index "$OUT/index" --json "$OUT/outputs/normalized.txt" | "$PY" -m json.tool

say "recite check --policy examples/policy.json (verdicts by license, source and CMI)"
"$RECITE" check --index "$OUT/index" --policy examples/policy.json "$OUT/outputs/code-no-notice.txt" \
    "$OUT/outputs/verbatim.txt"
echo "(exit status $?)"
say "recite catalog list --index $OUT/index --source licensed (the provenance catalogue)"
"$RECITE" catalog list --index "$OUT/index" --source licensed
set -e

# ---- 5. documents, archives and a git repository ---------------------------------------------
say "Documents, archives and a git repository (PDF, EPUB, HTML, tar.gz, tar > zip, --git)"
mkdir -p "$OUT/docs-src" "$OUT/docs"
"$PY" tests/cli/mkingest.py "$OUT/docs-src" > "$OUT/docs-src/facts.txt"
fact() { grep "^$1=" "$OUT/docs-src/facts.txt" | cut -d= -f2-; }
cp "$OUT/docs-src/books/book.pdf" "$OUT/docs-src/books/book.epub" "$OUT/docs-src/books/page.html" \
   "$OUT/docs-src/arch/texts.tar.gz" "$OUT/docs-src/arch/nest.tar" "$OUT/docs/"
ls -l "$OUT/docs"
say "recite index --auto --out $OUT/index-docs $OUT/docs --git $OUT/docs-src/repo@v1"
"$RECITE" index --auto --out "$OUT/index-docs" "$OUT/docs" --git "$OUT/docs-src/repo@v1" \
    2> "$OUT/index-docs-notes.txt"
"$RECITE" catalog list --index "$OUT/index-docs"
{
    echo "A model answer quoting several sources:"
    fact PDF_P3_SPAN
    echo "and from the book:"
    fact EPUB_CH2_SPAN
    echo "and from the nested archive:"
    fact NEST_SPAN
    echo "and a function:"
    cat "$OUT/docs-src/repo/src/plain.c"
} > "$OUT/outputs/documents.txt"
set +e
say "recite check --index $OUT/index-docs $OUT/outputs/documents.txt (locators: page, chapter, member, line)"
"$RECITE" check --index "$OUT/index-docs" "$OUT/outputs/documents.txt"
echo "(exit status $?)"
say "the same as JSON: source.locator of each match"
"$RECITE" check --index "$OUT/index-docs" --json "$OUT/outputs/documents.txt" |
    "$PY" -c 'import json, sys
r = json.load(sys.stdin)
for m in r["matches"]:
    print(m["work"], json.dumps(m["source"]["locator"]))
for w in r["works"]:
    print(w["work"], "license:", w["license"], "(" + w["license_from"] + ")", "title:", w["title"])'
set -e

say "Done"
echo "Library, index and outputs are in $OUT/. Try: $RECITE check --index $OUT/index FILE"
