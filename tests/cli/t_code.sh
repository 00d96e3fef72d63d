# shellcheck shell=bash
# tests/cli/t_code.sh — code in a mixed library (issue 13): code works found by their words
# too, precise shape matches, the shortest code found. Sourced by run.sh.

# The code library of these tests: a C header with a long license comment, a Python module with
# docstrings and comments, a license text (prose).
make_codelib2() {
    [ -d codelib2 ] && return 0
    mkdir -p codelib2
    cp /usr/include/stdio.h codelib2/stdio.h
    cp /usr/lib/python3*/textwrap.py codelib2/textwrap.py
    cp lib/licenses/apache.txt codelib2/apache.txt
    # A header of comments only: no lexemes, only words.
    { echo "/*"; sed -n '1,12p' lib/licenses/apache.txt | sed 's/^/ * /'; echo " */"; } >codelib2/notes.h
}

# code_quote NAME WHAT: p/NAME.md, an answer quoting WHAT of the code library (see below).
code_quote() {
    "$PY" - "$2" codelib2/stdio.h codelib2/textwrap.py >"p/$1.md" <<'PYEOF'
import re, sys
what, stdio, tw = sys.argv[1], open(sys.argv[2]).read(), open(sys.argv[3]).read()
if what == "comment":    # a paragraph of the header's license comment, reflowed as prose
    a = stdio.index("The GNU C Library is distributed")
    quote = " ".join(stdio[a:stdio.index("more details.", a) + 13].split())
    print("The header says:\n\n> " + quote + "\n\nThat is the usual notice.")
elif what == "docstring":  # the docstring of textwrap.dedent, as prose
    a = tw.index('"""Remove any common leading whitespace')
    quote = " ".join(tw[a + 3:tw.index('"""', a + 3)].split())
    print("From the documentation: " + quote)
elif what == "long":     # textwrap.dedent whole, comments included: found by lexemes and words
    a = tw.index("def dedent(text):")
    print("Here:\n```python\n" + tw[a:tw.index("\ndef ", a + 10)].rstrip() + "\n```\nDone.")
elif what == "short":    # 35 lexemes of dedent's code (under the 40-lexeme code guarantee)
    a = tw.index("    margin = None\n")
    b = tw.index("            margin = indent\n", a) + len("            margin = indent")
    print("Here:\n```python\n" + tw[a:b] + "\n```\nDone.")
PYEOF
}

# Code works are also indexed by their words: a comment, a docstring and code shorter than the
# code guarantee are found (in code mode alone, comments are skipped and short code missed).
t_code_found_by_words() {
    make_codelib2
    run index --out codeidx2 codelib2
    expect_rc 0
    run verify --index codeidx2
    expect_rc 0 "an index with word views verifies"
    local q
    for q in comment docstring short long; do
        code_quote "cw-$q" "$q"
    done
    run check --index codeidx2 --json p/cw-comment.md p/cw-docstring.md p/cw-short.md
    expect_rc 1
    expect_json "$OUT" 'need([len(x["matches"]) for x in r] == [1, 1, 1], "matches: %r" % [[(m["work"], m["tokens"], m["kind"]) for m in x["matches"]] for x in r])' \
        'need([x["matches"][0]["work"] for x in r] == ["codelib2/stdio.h", "codelib2/textwrap.py", "codelib2/textwrap.py"], "works: %r" % [[m["work"] for m in x["matches"]] for x in r])' \
        'need(all(x["matches"][0]["unit"] == "words" and x["matches"][0]["kind"] in ("exact", "normalized") for x in r), "units and kinds: %r" % [[(m["unit"], m["kind"]) for m in x["matches"]] for x in r])' \
        'need(all(work_entry(x, x["matches"][0]["work"])["mode"] == "code" for x in r), "not code works")' \
        'need(r[0]["matches"][0]["tokens"] >= 30 and r[2]["matches"][0]["tokens"] >= 15, "tokens: %r" % [x["matches"][0]["tokens"] for x in r])'
    # The source offsets are those of the quoted bytes in the work.
    expect_json "$OUT" 'need(data("codelib2/stdio.h")[r[0]["matches"][0]["source"]["start"]:r[0]["matches"][0]["source"]["end"]].startswith(b"The GNU C Library is distributed"), "source offsets")'
    # Found by its lexemes and by its words, a passage is reported once (by its lexemes), and
    # the work's figures count lexemes.
    run check --index codeidx2 --json p/cw-long.md
    expect_rc 1
    expect_json "$OUT" 'need(len(r["matches"]) == 1 and r["matches"][0]["unit"] == "lexemes" and r["matches"][0]["kind"] == "exact", "matches: %r" % [(m["unit"], m["kind"], m["tokens"]) for m in r["matches"]])' \
        'need(len(r["works"]) == 1 and r["works"][0]["tokens_covered"] == r["matches"][0]["tokens"] == r["works"][0]["longest_tokens"], "works: %r" % r["works"])'
    # The header of comments only (a code work without lexemes) is found by its words.
    sed -n '3,10p' lib/licenses/apache.txt >p/cw-notes.txt
    run check --index codeidx2 --json p/cw-notes.txt
    expect_json "$OUT" 'need(any(w["work"] == "codelib2/notes.h" and w["mode"] == "code" and w["coverage"] > 0.3 for w in r["works"]), "works: %r" % [(w["work"], w["mode"], w["coverage"]) for w in r["works"]])'
    # A text-free index finds the same spans.
    head -c 32 /dev/urandom >cw.key
    run index --quiet --text-free --key cw.key --out codeidx2-tf codelib2
    expect_rc 0
    run verify --index codeidx2-tf
    expect_rc 0 "a text-free index with word views verifies"
    run check --index codeidx2 --json p/cw-comment.md p/cw-short.md
    cp "$OUT" cw-plain.json
    run check --index codeidx2-tf --key cw.key --json p/cw-comment.md p/cw-short.md
    expect_rc 1
    expect_json "$OUT" 'need([[(m["work"], m["output"], m["source"]["start"], m["source"]["end"], m["tokens"], m["kind"]) for m in x["matches"]] for x in r] == [[(m["work"], m["output"], m["source"]["start"], m["source"]["end"], m["tokens"], m["kind"]) for m in x["matches"]] for x in load("cw-plain.json")], "text-free differs: %r" % [[(m["work"], m["output"], m["kind"]) for m in x["matches"]] for x in r])'
}

# Shape matches must be the work's code (point 5): a table of constants and a list of
# declarations with other names and values have the same shapes as the library's, but are no
# copies of it; a renamed copy of a function still is.
t_code_shapes_precise() {
    mkdir -p codelib3
    "$PY" - codelib3 p <<'PYEOF'
import random, sys
lib, out = sys.argv[1], sys.argv[2]
rng = random.Random(13)
syl = ["ka", "lo", "mi", "nu", "pe", "ra", "si", "to", "vu", "ze", "bo", "da"]
def name(n):
    return "".join(rng.choice(syl) for _ in range(n))
def table(prefix):
    return "".join("#define %s_%s 0x%08xUL\n" % (prefix, name(3).upper(), rng.getrandbits(32))
                   for _ in range(120))
def decls(tag):
    types = ["__u8", "__u16", "__u32", "size_t", "uint64_t", "struct %s *" % name(2),
             "XXH32_hash_t", "unsigned", "char *"]
    body = "".join("    %s %s;\n" % (rng.choice(types), name(2) + "_" + name(2)) for _ in range(80))
    return "struct %s {\n%s};\n" % (tag, body)
open(lib + "/consts.h", "w").write("/* constants */\n" + table("NET"))
open(lib + "/decls.h", "w").write("/* a state */\n" + decls("state"))
open(out + "/shape-table.md", "w").write("Here are the codes:\n```c\n" + table("DEV") + "```\n")
open(out + "/shape-decls.md", "w").write("The struct:\n```c\n" + decls("ctx") + "```\n")
PYEOF
    cp /usr/lib/python3*/textwrap.py codelib3/textwrap.py
    run index --out codeidx3 codelib3
    expect_rc 0
    run check --index codeidx3 --json p/shape-table.md p/shape-decls.md
    expect_rc 0 "tables and declarations of the same shapes are not copies"
    expect_json "$OUT" 'need(all(x["matches"] == [] for x in r), "matches: %r" % [[(m["work"], m["kind"], m["tokens"], m["similarity"]) for m in x["matches"]] for x in r])'
    [ -s p/renamed.md ] || t_code_renamed_function >/dev/null
    run check --index codeidx3 --json p/renamed.md
    expect_rc 1
    expect_json "$OUT" 'need(any(m["work"] == "codelib3/textwrap.py" and m["kind"] == "near" and m["tokens"] >= 300 and m["similarity"] >= 0.8 for m in r["matches"]), "the renamed copy: %r" % [(m["work"], m["kind"], m["tokens"], m["similarity"]) for m in r["matches"]])'
}

# ==== common language relative to the library (point 7) ====

# A library of 120 works, 15 of which share a 25-word disclaimer: in a library this size, a
# passage held by 15 unrelated works is common language (the threshold is 1% of the families,
# at least 8), so it does not raise the verdict, is attributed to a few works and the others
# are counted; --all-works itemizes them all.
t_common_relative_to_library() {
    mkdir -p commonlib
    "$PY" - commonlib p/common-disclaimer.txt <<'PYEOF'
import random, sys
lib, out = sys.argv[1], sys.argv[2]
rng = random.Random(7)
def word():
    return "".join(rng.choice("bcdfghjklmnpqrstvwxz") + rng.choice("aeiou") for _ in range(3))
def words(n):
    return " ".join(word() for _ in range(n))
disclaimer = words(25)
for i in range(120):
    text = words(120) + ". " + (disclaimer + ". " if i % 8 == 0 else "") + words(80) + ".\n"
    open("%s/w%03d.txt" % (lib, i), "w").write(text)
open(out, "w").write(words(20) + " " + disclaimer + " " + words(20) + "\n")
PYEOF
    run index --out commonidx commonlib
    expect_rc 0
    run stats --index commonidx --json
    expect_json "$OUT" 'need(r["common_texts"] == 8, "common_texts: %r" % r.get("common_texts"))'
    run check --index commonidx --json p/common-disclaimer.txt
    expect_rc 1
    expect_json "$OUT" 'need(r["verdict"] == "pass" and r["matches"] and all(m["common"] for m in r["matches"]), "matches: %r" % [(m["work"], m["common"]) for m in r["matches"]])' \
        'need(len(r["works"]) <= 3 and r["common_others"] >= 10, "works %d, others %r" % (len(r["works"]), r.get("common_others")))' \
        'need(len(r["matches"]) == 1 and r["matches"][0]["shared_by"] >= 15 and len(r["matches"][0]["sample_works"]) == len(r["works"]), "the passage once: %r" % [(m["work"], m.get("shared_by"), m.get("sample_works")) for m in r["matches"]])'
    run check --index commonidx p/common-disclaimer.txt
    expect_out 'common \(in ~1[5-9] works\)'
    run check --index commonidx --json --all-works p/common-disclaimer.txt
    expect_json "$OUT" 'need(len({m["work"] for m in r["matches"]}) == 15 and not any("shared_by" in m for m in r["matches"]), "--all-works itemizes %d works" % len({m["work"] for m in r["matches"]}))'
}

# ==== the shortest code found by default (point 4) ====

# 63 lexemes of textwrap.dedent with two names renamed (under the former 65-lexeme guarantee,
# at the 40-lexeme one): found by its shapes with a default index.
t_code_short_renamed() {
    make_codelib2
    [ -d codeidx2 ] || run index --out codeidx2 codelib2
    "$PY" - codelib2/textwrap.py >p/short-renamed.md <<'PYEOF'
import re, sys
tw = open(sys.argv[1]).read()
a = tw.index("        if margin is None:\n")
b = tw.index("                    break\n", a) + len("                    break")
code = re.sub(r"#.*\n", "\n", tw[a:b])
code = re.sub(r"\bmargin\b", "widest", code)
code = re.sub(r"\bi\b", "k", code)
print("Like this:\n```python\n" + code + "\n```\nThat finds the common prefix.")
PYEOF
    run stats --index codeidx2 --json
    expect_json "$OUT" 'need(r["code_min_tokens"] == 40, "code_min_tokens: %r" % r["code_min_tokens"])'
    run check --index codeidx2 --json p/short-renamed.md
    expect_rc 1
    expect_json "$OUT" 'need(any(m["work"] == "codelib2/textwrap.py" and m["kind"] == "near" and m["unit"] == "lexemes" and 40 <= m["tokens"] < 65 for m in r["matches"]), "matches: %r" % [(m["work"], m["kind"], m["unit"], m["tokens"], m["similarity"]) for m in r["matches"]])'
}

# ==== the right version first (point 8) ====

# A Debian copyright paragraph quoting GPL-2's notice (with the newer URL ending, which only
# GPL-3's text has) matches GPL-1, GPL-2, GPL-3 and the LGPLs; the work whose text it
# reproduces best (GPL-2: every word of its span) comes first, not the longer near match. And a
# quotation of GPL-3 with one typo still puts GPL-3 first.
t_right_version_first() {
    mkdir -p gpllib
    local l
    for l in GPL-1 GPL-2 GPL-3 LGPL-2 LGPL-2.1 LGPL-3; do
        cp "/usr/share/common-licenses/$l" "gpllib/$l"
    done
    run index --out gplidx gpllib
    expect_rc 0
    cat >p/notice-gpl2.txt <<'EOF'
Files: *
Copyright: 2003-2011 Some Author <author@example.org>
License: GPL-2+
 This program is free software; you can redistribute it and/or modify
 it under the terms of the GNU General Public License as published by
 the Free Software Foundation; either version 2 of the License, or
 (at your option) any later version.
 .
 This program is distributed in the hope that it will be useful,
 but WITHOUT ANY WARRANTY; without even the implied warranty of
 MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
 GNU General Public License for more details.
 .
 You should have received a copy of the GNU General Public License
 along with this program.  If not, see <https://www.gnu.org/licenses/>
EOF
    "$PY" - /usr/share/common-licenses/GPL-3 >p/quote-gpl3.txt <<'PYEOF'
import sys
s = open(sys.argv[1]).read()
a = s.index("This program is free software: you can redistribute it")
q = " ".join(s[a:s.index("<https://www.gnu.org/licenses/>.", a)].split())
print("As the license says: " + q.replace("implied warranty", "implied waranty") + " Thanks.")
PYEOF
    run check --index gplidx --json p/notice-gpl2.txt p/quote-gpl3.txt
    expect_rc 1
    expect_json "$OUT" 'need(r[0]["works"][0]["work"] == "gpllib/GPL-2", "the GPL-2 notice: %r" % [(w["work"], w["tokens_covered"], w["similarity"]) for w in r[0]["works"]])' \
        'need(r[1]["works"][0]["work"] == "gpllib/GPL-3", "the GPL-3 quotation: %r" % [(w["work"], w["tokens_covered"], w["similarity"]) for w in r[1]["works"]])'
}

# ==== renamed code with lines inserted and deleted (point 6) ====

# 85 lexemes of textwrap.dedent, two names renamed, a line inserted and another deleted: the
# runs of equal shapes between the edits are shorter than the guarantee, and the span is found
# by chaining their seeds (denser shape fingerprints) and aligning across the edits (affine gaps).
t_code_renamed_edited() {
    make_codelib2
    [ -d codeidx2 ] || run index --out codeidx2 codelib2
    "$PY" - codelib2/textwrap.py >p/renamed-edited.md <<'PYEOF'
import re, sys
tw = open(sys.argv[1]).read()
a = tw.index("    margin = None\n")
b = tw.index("                    break\n", a) + len("                    break")
lines = [l for l in re.sub(r"#.*\n", "\n", tw[a:b]).split("\n") if l.strip()]
lines.insert(6, "            seen += 1")
del lines[10]
code = re.sub(r"\bmargin\b", "widest", "\n".join(lines))
print("Like this:\n```python\n" + re.sub(r"\bx\b", "p", code) + "\n```\nDone.")
PYEOF
    run check --index codeidx2 --json p/renamed-edited.md
    expect_rc 1
    expect_json "$OUT" 'need(any(m["work"] == "codelib2/textwrap.py" and m["kind"] == "near" and m["unit"] == "lexemes" and m["tokens"] >= 75 and m["similarity"] >= 0.8 for m in r["matches"]), "matches: %r" % [(m["work"], m["kind"], m["unit"], m["tokens"], m["similarity"]) for m in r["matches"]])'
}
