#!/usr/bin/env bash
# tests/fuzz_ingest.sh BUILD — the document and archive readers on bad input, in every test tier:
# each ingest fuzz harness (fuzz/fuzz_{archive,epub,pdf,html}.c, built as BUILD/fuzz/ingest_*
# with fuzz/ingest_replay.c) runs on its own seeds, on the fixtures of tests/cli/mkingest.py
# (corrupt, truncated, encrypted, nested, a zip bomb) and on 40 deterministic mutations of each.
# A failed invariant or a sanitizer report fails. Prints one line per harness.
set -euo pipefail
B=${1:?usage: tests/fuzz_ingest.sh BUILD}
HERE=$(cd -- "$(dirname -- "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/recite-fuzz-ingest.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 "$HERE/cli/mkingest.py" "$tmp/fx" >/dev/null
for h in archive epub pdf html; do
    "$B/fuzz/ingest_$h" --seeds "$tmp/seeds-$h"
done
M=${RECITE_FUZZ_MUTATIONS:-40}
"$B/fuzz/ingest_archive" -m "$M" "$tmp"/seeds-archive/* "$tmp"/fx/arch/{texts.tar.gz,nest.tar,texts.tar.xz,single.txt.gz,trav.tar,corrupt.tgz,deep.zip}
"$B/fuzz/ingest_archive" "$tmp/fx/arch/bomb.zip"
"$B/fuzz/ingest_epub" -m "$M" "$tmp"/seeds-epub/* "$tmp"/fx/books/*.epub
"$B/fuzz/ingest_pdf" -m "$M" "$tmp"/seeds-pdf/* "$tmp"/fx/books/*.pdf
"$B/fuzz/ingest_html" -m "$M" "$tmp"/seeds-html/* "$tmp"/fx/books/page.html
