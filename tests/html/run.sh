#!/usr/bin/env bash
# tests/html/run.sh BINARY [--browser] — tests of the HTML evidence report (`recite check --html`).
#
# Fixtures are made at run time from texts Debian ships. Every report is checked by
# check_html.py against the input and the JSON report of the same check (well formed, nothing
# external, every byte of the input accounted for, highlights at the JSON's offsets). With
# --browser, headless Chromium (Debian's `chromium`) also loads the reports: its DOM is checked
# the same way, and the demo's near-verbatim report is rendered to PNG and its highlight colours
# counted. Prints `ok - NAME` / `FAIL - NAME: reasons` and a count; exits 1 if anything failed.
set -u

if [ $# -lt 1 ]; then
    echo "usage: $0 BINARY [--browser]" >&2
    exit 2
fi
BIN=$(realpath -- "$1" 2>/dev/null)
BROWSER=${2:-}
if [ -z "$BIN" ] || [ ! -x "$BIN" ]; then
    echo "$0: $1 is not an executable file" >&2
    exit 2
fi
HERE=$(cd -- "$(dirname -- "$0")" && pwd)
ROOT=$(cd -- "$HERE/../.." && pwd)
PY=/usr/bin/python3
CHECK=("$PY" "$HERE/check_html.py")
export ASAN_OPTIONS="exitcode=86:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="exitcode=86:print_stacktrace=1:${UBSAN_OPTIONS:-}"
export PYTHONDONTWRITEBYTECODE=1
T=$(mktemp -d "${TMPDIR:-/tmp}/recite-html.XXXXXX") || exit 2
trap 'rm -rf -- "$T"' EXIT
cd "$T" || exit 2

NTESTS=0
NFAILED=0
REASONS=()
bad() { REASONS+=("$*"); }
test_case() {
    REASONS=()
    "t_$1"
    NTESTS=$((NTESTS + 1))
    if [ "${#REASONS[@]}" -eq 0 ]; then
        echo "ok - $1"
    else
        NFAILED=$((NFAILED + 1))
        local IFS=';'
        echo "FAIL - $1: ${REASONS[*]}"
    fi
}

# expect_status WANT CMD...: runs CMD, output in run.out/run.err, fails the test on another
# status (a sanitizer report exits 86).
expect_status() {
    local want=$1 rc
    shift
    "$@" >run.out 2>run.err
    rc=$?
    if [ "$rc" -ne "$want" ]; then
        bad "$(basename "$1") ${*:2:3}...: exit $rc, expected $want: $(head -c 400 run.err | tr '\n' '|')"
        return 1
    fi
}

# checked HTML INPUT JSON [check_html options]: the report passes check_html.py.
checked() {
    if ! "${CHECK[@]}" "$@" >check.out 2>&1; then
        bad "check_html $1: $(head -c 1500 check.out | tr '\n' '|')"
    fi
}

# ==== fixtures ====

mkdir -p lib/licenses lib/code lib/py
cp /usr/share/common-licenses/GPL-3 /usr/share/common-licenses/Apache-2.0 lib/licenses/
cp /usr/include/stdio.h lib/code/
cp /usr/lib/python3*/textwrap.py lib/py/
# A work whose text and metadata are hostile to HTML: markup, quotes, CDATA ends.
"$PY" - <<'PYEOF'
import json
evil = ('The lawyer wrote <script>alert("owned")</script> and then </textarea> and ]]> '
        'before "quoted" and \'single\' words & ampersands <b>bold</b> <!-- comment --> '
        'so that every piece of markup in this sentence must show as plain text in the report.')
with open("lib/evil.jsonl", "w") as f:
    f.write(json.dumps({"id": 'evil<"work">&\'', "text": evil + "\n",
                        "title": "<script>alert(1)</script>", "author": "A & B \"C\"",
                        "source": "licensed"}) + "\n")
with open("evil.txt", "wb") as f:
    f.write(b"Model says: <script>document.write('x')</script>\r\n")
    f.write(evil.encode() + b"\r\n")
    f.write(b"bad bytes \xff\xfe\xc3 here, a control \x01 and a DEL \x7f, a C1 \xc2\x85 end.\r\n")
gpl = open("lib/licenses/GPL-3").read()
para = gpl[gpl.index("  The licenses for most software"):]
para = para[:para.index("\n\n")]
near = gpl[gpl.index("  When we speak of free software"):]
near = near[:near.index("\n\n")]
for a, b in (("freedom", "liberty"), ("charge", "bill"), ("pieces", "parts")):
    near = near.replace(a, b, 1)
open("mixed.txt", "w").write("Intro </pre> text.\n" + para + "\n\nAnd then:\n" + near + "\n")
PYEOF
"$PY" - lib/py/textwrap.py >renamed.md <<'PYEOF'
import re, sys
src = open(sys.argv[1]).read()
a = src.index("    def _wrap_chunks(self, chunks):")
f = src[a:src.index("    def _split_chunks", a)]
f = re.sub(r'"""[\s\S]*?"""', "", f, count=1)
f = re.sub(r"#.*", "", f)
for old, new in [("chunks", "pieces"), ("lines", "out"), ("cur_line", "current"),
                 ("cur_len", "clen"), ("width", "w"), ("indent", "ind")]:
    f = re.sub(r"\b%s\b" % old, new, f)
print("Here is a line wrapper:\n```python\n" + f + "```\n")
PYEOF
printf 'Nothing here is from any work: a plain original sentence.\n' >miss.txt
head -c 32 /dev/urandom >tf.key
"$BIN" index --quiet --auto --out idx lib >index.log 2>&1 || {
    echo "FAIL - fixtures: recite index failed: $(head -c 400 index.log)"
    exit 1
}
"$BIN" index --quiet --auto --text-free --key tf.key --out tfidx lib >>index.log 2>&1 || {
    echo "FAIL - fixtures: recite index --text-free failed: $(head -c 400 index.log)"
    exit 1
}

# ==== the report ====

t_hostile_text_shows_as_text() {
    expect_status 1 "$BIN" check --index idx --json --html evil.html evil.txt || return
    cp run.out evil.json
    checked evil.html evil.txt evil.json --expect '<script>alert("owned")</script>' \
        --expect '</textarea>' --expect ']]>' --expect '<!-- comment -->' \
        --expect '<script>document.write' --expect 'evil<"work">&'"'" \
        --expect 'A & B "C"'
    grep -q 'data-bytes="1" title="byte 0xFF' evil.html || bad "the invalid byte 0xFF is not marked"
    grep -q 'title="U+0085"' evil.html || bad "the C1 control U+0085 is not marked"
    "$PY" -c 'import json,sys; r=json.load(open("evil.json")); sys.exit(0 if any(m["kind"]=="exact" for m in r["matches"]) else 1)' ||
        bad "the hostile span was not found as exact"
}

t_prose_exact_and_near() {
    expect_status 1 "$BIN" check --index idx --json --html mixed.html mixed.txt || return
    cp run.out mixed.json
    checked mixed.html mixed.txt mixed.json --expect 'Word-level differences: 3 substituted, 2 inserted, 0 dropped' \
        --expect 'Intro </pre> text.'
    for w in liberty bill parts; do
        grep -q "<span class=\"d-sub\" title=\"substituted: the work has [a-z]*\">$w</span>" mixed.html ||
            bad "the substituted word '$w' is not marked"
    done
    # The two paragraphs are adjacent in the work: one near span, "And then" inserted.
    for w in And then; do
        grep -q "<span class=\"d-ins\" title=\"inserted: not in the work\">$w</span>" mixed.html ||
            bad "the inserted word '$w' is not marked"
    done
    grep -q 'class="verdict v-flag"' mixed.html || bad "no flag verdict"
    grep -q 'CMI</dt><dd class="cmi">absent' mixed.html || bad "no CMI absent"
    grep -q 'Policy</dt><dd class="action"><b>flag</b>, by the policy' mixed.html || bad "no policy reason"
}

t_code_renames() {
    expect_status 1 "$BIN" check --index idx --json --html code.html renamed.md || return
    cp run.out code.json
    checked code.html renamed.md code.json --expect 'Renamed or changed:'
    for pair in 'chunks</code>&nbsp;&rarr;&nbsp;<code>pieces' 'width</code>&nbsp;&rarr;&nbsp;<code>w<'; do
        grep -qF "$pair" code.html || bad "rename '$pair' not listed"
    done
    grep -q 'class="d-ren" title="renamed: the work has cur_line">current<' code.html ||
        bad "renamed identifier not marked in the output pane"
}

t_text_free_shows_offsets() {
    expect_status 1 "$BIN" check --index tfidx --key tf.key --json --html tf.html mixed.txt || return
    cp run.out tf.json
    checked tf.html mixed.txt tf.json --expect 'The index is text-free' \
        --expect 'the work'"'"'s side cannot be shown'
    # No pane of work text: the words around the span in the work are nowhere.
    grep -q 'TERMS AND CONDITIONS' tf.html && bad "text of the work shown from a text-free index"
    grep -c '<div class="pane-h">Work <span' tf.html | grep -qx 0 || bad "a work pane in a text-free report"
}

t_no_match_report() {
    expect_status 0 "$BIN" check --index idx --json --html miss.html miss.txt || return
    cp run.out miss.json
    checked miss.html miss.txt miss.json --expect 'No recitation was found.'
    grep -q 'class="verdict v-pass"' miss.html || bad "no pass verdict"
}

t_several_inputs_numbered_files() {
    expect_status 1 "$BIN" check --index idx --html multi.html miss.txt mixed.txt || return
    [ -s multi-1.html ] && [ -s multi-2.html ] || bad "multi-1.html and multi-2.html not written"
    [ -e multi.html ] && bad "multi.html written for several inputs"
    grep -q 'No recitation was found' multi-1.html || bad "multi-1.html is not the first input's"
    expect_status 1 "$BIN" check --index idx --json mixed.txt && cp run.out m2.json
    checked multi-2.html mixed.txt m2.json
}

t_policy_and_header_facts() {
    expect_status 1 "$BIN" check --index idx --policy "$ROOT/examples/policy.json" --min-tokens 14 \
        --html pol.html mixed.txt || return
    grep -q 'examples/policy.json' pol.html || bad "policy file not named"
    grep -q 'min tokens 14' pol.html || bad "options not shown"
    grep -q '<dt>Index</dt><dd>idx</dd>' pol.html || bad "index not named"
    grep -q 'format version 6' pol.html || bad "format version not shown"
    grep -q '@media print' pol.html || bad "no print stylesheet"
}

t_unwritable_html_file() {
    expect_status 2 "$BIN" check --index idx --html no/such/dir/r.html mixed.txt
    [ "$(wc -l <run.err)" -eq 1 ] && grep -q 'no/such/dir/r.html: cannot write the HTML report' run.err ||
        bad "error line: $(cat run.err)"
}

# ==== in a browser ====

CHROME=(chromium --headless --no-sandbox --disable-gpu --disable-background-networking
    --disable-component-update --disable-sync --no-first-run --hide-scrollbars
    --user-data-dir="$T/chrome-profile")

t_browser_dom() {
    for r in evil mixed code; do
        timeout 60 "${CHROME[@]}" --dump-dom "file://$T/$r.html" >"$r.dom" 2>chrome.err ||
            { bad "chromium --dump-dom $r.html failed: $(tail -c 300 chrome.err)"; continue; }
        local input=$r.txt
        [ "$r" = code ] && input=renamed.md
        checked "$r.dom" "$input" "$r.json" --dom --expect 'Recitation evidence report'
    done
    grep -q '<script' evil.dom && bad "the browser built a script element"
}

t_browser_screenshot_of_demo() {
    DEMO_DIR=demo "$ROOT/scripts/demo.sh" "$BIN" >demo.log 2>&1
    [ -f demo/outputs/near.txt ] || {
        bad "the demo made no outputs: $(tail -c 300 demo.log)"
        return
    }
    expect_status 1 "$BIN" check --index demo/index --policy "$ROOT/examples/policy.json" \
        --json --html demo-near.html demo/outputs/near.txt || return
    cp run.out demo-near.json
    checked demo-near.html demo/outputs/near.txt demo-near.json
    # GPL-2 "(and charge for this service if": one of its words is dropped in the output.
    grep -q '<span class="d-del" title="dropped: in the work, not in the output">\(this\|service\)</span>' \
        demo-near.html || bad "the dropped word of GPL-2 is not marked"
    timeout 60 "${CHROME[@]}" --window-size=1280,1500 --screenshot="$T/demo-near.png" \
        "file://$T/demo-near.html" >chrome.out 2>&1 || bad "chromium --screenshot failed"
    # Work 0's swatch (#ffe082), substituted words (#ffcc80), near spans (#fff3cd) are drawn.
    "$PY" "$HERE/png_colours.py" demo-near.png 1280 1500 ffe082:100 ffcc80:1000 fff3cd:5000 \
        >png.out 2>&1 || bad "screenshot: $(tr '\n' '|' <png.out)"
    if [ -n "${RECITE_SCREENSHOT_OUT:-}" ]; then cp demo-near.png "$RECITE_SCREENSHOT_OUT"; fi
}

TESTS=(hostile_text_shows_as_text prose_exact_and_near code_renames text_free_shows_offsets
    no_match_report several_inputs_numbered_files policy_and_header_facts unwritable_html_file)
if [ "$BROWSER" = --browser ]; then
    if ! command -v chromium >/dev/null; then
        echo "FAIL - browser: chromium is not installed (scripts/deps.sh installs it)"
        exit 1
    fi
    TESTS+=(browser_dom browser_screenshot_of_demo)
fi
for t in "${TESTS[@]}"; do test_case "$t"; done
echo "# $((NTESTS - NFAILED)) of $NTESTS HTML report tests passed, $NFAILED failed"
[ "$NFAILED" -eq 0 ]
