# shellcheck shell=bash
# tests/cli/t_ingest.sh — `recite index` on documents, archives and git repositories (issue 10):
# PDF pages, EPUB chapters and metadata, HTML, nested archives, a repository's license, locators
# in the JSON and text reports, and broken inputs (notes, exit 3, the build goes on).
# Sourced by tests/cli/run.sh; the fixtures are made by tests/cli/mkingest.py.

# fact KEY: a fact printed by mkingest.py (a span to quote, an expected value).
fact() { grep "^$1=" ing.facts | cut -d= -f2-; }

# ing_query NAME KEY: p/NAME.txt holds the span of fact KEY inside some prose of its own.
ing_query() {
    { echo "An answer that quotes:"; fact "$2"; echo "and ends here."; } >"p/$1.txt"
}

t_ingest_index() {
    "$PY" "$HERE/mkingest.py" ing >ing.facts 2>"$T/mkingest.err" || bad "mkingest.py: $(cat "$T/mkingest.err")"
    run index --auto --out ing-idx ing/books ing/arch --git ing/repo@v1
    cp "$ERR" ing.stderr
    expect_rc 3 "inputs that cannot be read make the exit status 3"
    expect_out '^indexed 13 works \(13 distinct texts'
    expect_out '^[0-9]+ of them could not be read .*exit status 3$'
    expect "ing-idx/recite.idx is missing" test -s ing-idx/recite.idx
    expect_no_tmp ing-idx
    run stats --index ing-idx --json
    expect_json "$OUT" 'r["works"] == 13' 'r["format_version"] == 6'
}
t_ingest_pdf_page() {
    ing_query pdf PDF_P3_SPAN
    run check --index ing-idx --json p/pdf.txt
    expect_rc 1 "the PDF span must be found"
    # shellcheck disable=SC2016
    expect_json "$OUT" 'shape(r)' 'r["matches"][0]["work"] == "ing/books/book.pdf"' \
        'r["matches"][0]["source"]["locator"]["page"] == 3' \
        '"page_end" not in r["matches"][0]["source"]["locator"]' \
        'r["works"][0]["title"] == "The Test Book of Licenses"' \
        'r["works"][0]["author"] == "Test Writer"'
    run check --index ing-idx p/pdf.txt
    expect_out '^p/pdf\.txt:[0-9]+-[0-9]+  ing/books/book\.pdf:[0-9]+-[0-9]+ p\.3  20 tokens'
}
t_ingest_pdf_broken() {
    expect_grep ing.stderr '^recite: skipped: ing/books/scan\.pdf \(no text layer in its 2 pages'
    expect_grep ing.stderr '^recite: skipped: ing/books/locked\.pdf \(encrypted PDF'
    expect_grep ing.stderr '^recite: skipped: ing/books/broken\.pdf \(unreadable PDF'
    run index --out ing-none ing/books/broken.pdf
    expect_rc 2 "nothing readable at all is an empty build"
    expect_no_index ing-none
}
t_ingest_epub_chapter() {
    ing_query epub EPUB_CH2_SPAN
    run check --index ing-idx --json p/epub.txt
    expect_rc 1 "the EPUB span must be found"
    # shellcheck disable=SC2016
    expect_json "$OUT" 'r["matches"][0]["work"] == "ing/books/book.epub"' \
        'r["matches"][0]["source"]["locator"]["chapter"] == 2' \
        'r["matches"][0]["source"]["locator"]["chapter_title"] == "The Second Chapter"' \
        'r["matches"][0]["source"]["locator"]["chapter_file"] == "OEBPS/text/ch2.xhtml"' \
        'r["works"][0]["title"] == "A Book of Public Licenses"' \
        'r["works"][0]["author"] == "First Author; Second Author"' \
        'r["works"][0]["copyright"].startswith("Copyright \u00a9 2021 Example Press")' \
        'r["works"][0]["copyright_from"] == "metadata"'
    run check --index ing-idx p/epub.txt
    expect_out 'ing/books/book\.epub:[0-9]+-[0-9]+ #ch02 "The Second Chapter"  20 tokens'
    ing_query epub2 EPUB2_CH2_SPAN
    run check --index ing-idx --json p/epub2.txt
    expect_json "$OUT" 'r["matches"][0]["work"] == "ing/books/old.epub"' \
        'r["matches"][0]["source"]["locator"]["chapter_title"] == "Part Beta"'
    expect_grep ing.stderr '^recite: skipped: ing/books/broken\.epub \(not a readable EPUB'
}
t_ingest_html() {
    ing_query html HTML_SPAN
    run check --index ing-idx --json p/html.txt
    expect_rc 1 "the HTML span must be found"
    expect_json "$OUT" 'r["matches"][0]["work"] == "ing/books/page.html"' \
        'r["works"][0]["title"] == "A Page & Its Title"' \
        'r["works"][0]["author"] == "Page Author"' \
        'r["works"][0]["copyright"] == "Copyright 2020 Page Owner"'
}
t_ingest_archives() {
    ing_query nest NEST_SPAN
    run check --index ing-idx --json p/nest.txt
    expect_rc 1 "the span of a zip inside a tar must be found"
    expect_json "$OUT" 'r["matches"][0]["work"] == "ing/arch/nest.tar!inner.zip!docs/deep.txt"' \
        'r["matches"][0]["source"]["locator"]["member"] == "inner.zip!docs/deep.txt"' \
        'r["matches"][0]["source"]["locator"]["line"] == 22'
    ing_query tar TAR_GPL2_SPAN
    run check --index ing-idx --json p/tar.txt
    expect_json "$OUT" 'r["matches"][0]["work"] == "ing/arch/texts.tar.gz!texts/gpl2.txt"' \
        "r['matches'][0]['source']['locator']['line'] == $(fact TAR_GPL2_LINE)"
    run check --index ing-idx p/tar.txt
    expect_out "ing/arch/texts\.tar\.gz!texts/gpl2\.txt:[0-9]+-[0-9]+ line $(fact TAR_GPL2_LINE)  "
    run catalog list --index ing-idx --format csv
    expect_out '^ing/arch/texts\.tar\.xz!cc0\.txt,'
    expect_out '^ing/arch/single\.txt\.gz!single\.txt,'
}
t_ingest_archive_broken() {
    expect_grep ing.stderr '^recite: skipped: ing/arch/corrupt\.tgz \(.*(truncated|corrupt|readable).*\)$'
    expect_grep ing.stderr '^recite: skipped: ing/arch/bomb\.zip \(extraction stopped .*zip bomb'
    expect_grep ing.stderr '^recite: skipped: ing/arch/deep\.zip!level2\.zip!level3\.zip!level4\.zip!level5\.zip \(an archive nested deeper than 4 levels'
    expect_grep ing.stderr '^recite: skipped: ing/arch/texts\.tar\.gz!texts/\.hidden\.txt \(hidden entry\)$'
    # A member named ../../escape.txt is an id; nothing is written anywhere.
    run catalog list --index ing-idx --format csv
    expect_out '^ing/arch/trav\.tar!\.\./\.\./escape\.txt,'
    expect "a member was written to disk" test ! -e "$T/../escape.txt" -a ! -e "$T/escape.txt"
    # Limits from the command line.
    run index --out ing-lim --max-expand 10K ing/arch/texts.tar.gz
    expect_rc 3 "a limit reached is an input not fully read"
    expect_err '^recite: skipped: ing/arch/texts\.tar\.gz \(extraction stopped after [0-9]+ bytes: over the limit of 10240 bytes'
    run index --out ing-lim --archive-depth 1 ing/arch/nest.tar ing/arch/texts.tar.xz
    expect_rc 3
    expect_err '^recite: skipped: ing/arch/nest\.tar!inner\.zip \(an archive nested deeper than 1 levels'
    run index --out ing-lim --archive-depth 0 ing/arch/nest.tar
    expect_rc 2 "--archive-depth 0 is a usage error"
}
t_ingest_git_license() {
    cp ing/repo/src/plain.c p/plain.c
    run check --index ing-idx --json p/plain.c
    expect_rc 1 "the code file must be found"
    expect_json "$OUT" 'r["works"][0]["work"] == "ing/repo@v1:src/plain.c"' \
        'r["works"][0]["license"] == "Apache-2.0"' \
        '[w for w in r["works"] if w["work"] == "ing/repo@v1:src/tagged.c"][0]["license"] == "MIT"' \
        'r["matches"][0]["source"]["locator"]["line"] == 1'
    run catalog list --index ing-idx --format csv
    expect_out '^ing/repo@v1:src/plain\.c,,,Apache-2\.0,'
    expect_out '^ing/repo@v1:LICENSE,'
    NASSERT=$((NASSERT + 1))
    ! grep -q 'later\.c' "$OUT" || bad "a file of a later commit was indexed at v1"
    expect_grep ing.stderr '^recite: skipped: ing/repo@v1:\.gitignore \(hidden entry\)$'
    # HEAD has the later file; the revision is part of the id.
    run index --auto --out ing-git --git ing/repo
    expect_rc 0
    run catalog list --index ing-git --format csv
    expect_out '^ing/repo@HEAD:src/later\.c,'
    run index --out ing-git2 --git ing/nosuchrepo
    expect_rc 2
    expect_one_error_line
    expect_err 'not a git repository'
    run index --out ing-git2 --git ing/repo@nosuchrev
    expect_rc 2
    expect_err "no commit 'nosuchrev'"
    expect_no_index ing-git2
}
t_ingest_clean_exit_zero() {
    run index --out ing-ok ing/books/book.pdf ing/books/book.epub ing/arch/nest.tar
    expect_rc 0 "readable documents and archives alone exit 0"
    expect_out '^indexed 3 works'
}
t_ingest_compact_keeps_locators() {
    cp -r ing-idx ing-cmp
    run catalog delete --index ing-cmp --work ing/books/page.html --why "test"
    expect_rc 0
    run compact --index ing-cmp
    expect_rc 0
    run check --index ing-cmp --json p/pdf.txt
    expect_rc 1
    expect_json "$OUT" 'r["matches"][0]["source"]["locator"]["page"] == 3'
    run check --index ing-cmp --json p/epub.txt
    expect_json "$OUT" 'r["matches"][0]["source"]["locator"]["chapter_title"] == "The Second Chapter"'
    run check --index ing-cmp --json p/nest.txt
    expect_json "$OUT" 'r["matches"][0]["source"]["locator"]["member"] == "inner.zip!docs/deep.txt"'
}
t_ingest_html_report_locators() {
    cat p/pdf.txt p/epub.txt p/nest.txt >p/docs3.txt
    run check --index ing-idx --html ing-report.html p/docs3.txt
    expect_rc 1
    expect_grep ing-report.html '<span class="tag">page 3 of 5</span>'
    expect_grep ing-report.html '<span class="tag">chapter 2: The Second Chapter</span>'
    expect_grep ing-report.html '<span class="tag">member inner\.zip!docs/deep\.txt</span>'
}
t_ingest_html_kept_as_code() {
    run index --code --code-min-tokens 20 --out ing-code ing/books/page.html
    expect_rc 0
    printf '%s\n' "<script>var hidden = 'scriptwordzzz';</script><style>p{color:red}</style></head><body><nav>navwordzzz home about</nav>" >p/markup.txt
    run check --index ing-code --json p/markup.txt
    expect_rc 1 "with --code, the markup itself is the indexed text"
}
