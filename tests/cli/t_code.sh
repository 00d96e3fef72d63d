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
    # The text report of a code work found only in its comments (no lexemes covered) says so,
    # with the span's length in words, not "0 of N lexemes, longest 0".
    run check --index codeidx2 p/cw-comment.md
    expect_rc 1
    expect_out 'codelib2/stdio\.h  1 span in its comments, longest [1-9][0-9]* words \(0 of [0-9]+ lexemes\), portion'
    run check --index codeidx2 --html cw-comment.html p/cw-comment.md
    expect_grep cw-comment.html 'in 1 span of its comments \(words, no code\)'
    expect_grep cw-comment.html '<dt>Longest span</dt><dd>[1-9][0-9]* words</dd>'
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

# Boilerplate is no evidence of copying one work (point 5): fresh code of the same template as
# some works of the library, each answer built to need one rule (it was reported before them):
# a lexer's table of patterns whose shapes a dozen lexers share, keeping the common names but one
# pattern of twelve (more distinct names kept when the shapes are boilerplate), another project's
# rules keeping every name but none of their strings (a span of strings keeps one), a chain of
# `defined(...)` keeping only `defined` (distinct names count once), and a new header's guard and
# includes, 15 words with the guard renamed (edited spans of a code work's words are held to the
# code guarantee). A comment quoted with a word changed (19 words) is still found, as is a
# renamed copy of one lexer's table, and only in its own lexer.
t_code_boilerplate_not_copies() {
    mkdir -p codelib5
    "$PY" - codelib5 p <<'PYEOF'
import random, sys, os
lib, out = sys.argv[1], sys.argv[2]
rng = random.Random(29)
syl = ["ka", "lo", "mi", "nu", "pe", "ra", "si", "to", "vu", "ze", "bo", "da", "fi", "gu"]
def name(n):
    return "".join(rng.choice(syl) for _ in range(n))
def regex():
    parts = [r"[0-9a-fA-F]{1,%d}" % rng.randint(2, 6), r"\d+", r"[+-]?", r"\.", r"(?<=\b)",
             r"[eE]", r"0[xX]", r"[%s]" % name(1), r"(?=\b)", r"_?"]
    return "".join(rng.choice(parts) for _ in range(rng.randint(3, 6)))
KINDS = ["Hex", "Float", "Integer", "Oct", "Bin"] * 2
HEX = r"0[xX][0-9a-fA-F]+"
def table(first):  # a lexer's rules: the kinds in the usual order, the first pattern everyone's
    return "".join("            (r'%s', Number.%s),\n" % (HEX if i == 0 and first else regex(), k)
                   for i, k in enumerate(KINDS + KINDS[:2]))
def states():  # another project's rules: a pattern, a token, a priority
    return "".join("    (r'%s', Token.%s, %d),\n" % (regex(), k, i) for i, k in enumerate(KINDS))
def helper():
    v = [name(2) for _ in range(4)]
    return ("    def %s(self, %s):\n        %s = []\n        for %s in %s:\n"
            "            if %s.%s(%s):\n                %s.append(%s * %d)\n        return %s\n" %
            (name(3), v[0], v[1], v[2], v[0], v[2], name(2), v[3], v[1], v[2], rng.randint(2, 99),
             v[1]))
def lexer():
    c = name(3).capitalize()
    return ("from pygments.lexer import RegexLexer\nfrom pygments.token import Number\n\n\n"
            "class %sLexer(RegexLexer):\n    name = '%s'\n\n%s\n%s\n    tokens = {\n"
            "        'numbers': [\n%s        ],\n    }\n" % (c, c, helper(), helper(), table(True)))
def rules():
    return "import re\n\n\nclass %s:\n%s\n%s\nRULES = [\n%s]\n" % (
        name(3).capitalize(), helper(), helper(), states())
def header(i):
    c = name(3).capitalize()
    guard = "PKG_%s_H" % c.upper()
    incl = "".join('#include "pkg/%s"\n' % h for h in INCLUDES)
    note = ("/* Counts the live entries of the routing table and returns a negative number "
            "when another thread holds its lock. */\n") if i == 5 else ""
    members = "".join("  %s %s(%s %s);\n" % (rng.choice(["int", "bool", "void"]), name(3),
                                             rng.choice(["int", "char *", "long"]), name(2))
                      for _ in range(4))
    return ("#ifndef %s\n#define %s\n\n%s\nnamespace pkg {\n\n%sclass %sPass : public "
            "PassInfoMixin<%sPass> {\npublic:\n  PreservedAnalyses run(Function &F);\n%s};\n\n"
            "} // namespace pkg\n\n#endif\n" % (guard, guard, incl, note, c, c, members))
INCLUDES = ["ir/PassManager.h", "support/Compiler.h", "adt/StringRef.h", "ir/Function.h"]
def chain(prefix):
    return ("#if " + " || \\\n    ".join("defined(%s_%s)" % (prefix, name(3).upper())
                                        for _ in range(14)) + '\n#error "%s"\n#endif\n' % name(4))
for d in ("lexers", "rules", "include"):
    os.makedirs(os.path.join(lib, d), exist_ok=True)
for i in range(12):
    open("%s/lexers/lex%02d.py" % (lib, i), "w").write(lexer())
    open("%s/include/pass%02d.h" % (lib, i), "w").write(header(i))
for i in range(4):
    open("%s/rules/rules%d.py" % (lib, i), "w").write(rules())
open(lib + "/include/config.h", "w").write("/* checks */\n" + chain("CFG_HAVE") + "\nint %s;\n" % name(3))
def md(p, lang, code, intro):
    open(os.path.join(out, p), "w").write("%s\n```%s\n%s```\nThat is all.\n" % (intro, lang, code))
md("bp-boiler.md", "python", "        'numbers': [\n" + table(True) + "        ],\n", "Number rules:")
md("bp-strings.md", "python", "RULES = [\n" + states() + "]\n", "The rules:")
md("bp-defined.md", "c", chain("ARCH"), "The 64-bit check:")
md("bp-guard.md", "cpp", "#ifndef PKG_NEWNAME_H\n#define PKG_NEWNAME_H\n\n" +
   "".join('#include "pkg/%s"\n' % h for h in INCLUDES[:2]) + "\nstruct Newname;\n\n#endif\n",
   "A new header:")
hdr = open(lib + "/include/pass05.h").read()
a = hdr.index("/* Counts")
md("bp-comment.md", "c", hdr[a:hdr.index("*/", a) + 2].replace("routing", "lookup") +
   "\nint count(void);\n", "Its comment:")
src = open(lib + "/lexers/lex03.py").read()
md("bp-renamed.md", "python", src[src.index("        'numbers'"):].replace("Number.", "Num."),
   "Renamed:")
PYEOF
    run index --out codeidx5 codelib5
    expect_rc 0
    run check --index codeidx5 --json p/bp-boiler.md p/bp-strings.md p/bp-defined.md p/bp-guard.md
    expect_rc 0 "boilerplate of the library's works is not a copy of one"
    expect_json "$OUT" 'need(all(x["matches"] == [] for x in r), "matches: %r" % [(x["input"].rsplit("/", 1)[-1], [(m["work"], m["kind"], m["unit"], m["tokens"], m["similarity"]) for m in x["matches"]]) for x in r])'
    run check --index codeidx5 --json p/bp-comment.md p/bp-renamed.md
    expect_rc 1
    expect_json "$OUT" 'need([(m["work"], m["kind"], m["unit"]) for m in r[0]["matches"]] == [("codelib5/include/pass05.h", "near", "words")] and r[0]["matches"][0]["tokens"] < 20, "the comment: %r" % [(m["work"], m["kind"], m["unit"], m["tokens"]) for m in r[0]["matches"]])' \
        'need(any(m["work"] == "codelib5/lexers/lex03.py" for m in r[1]["matches"]) and all(m["work"] == "codelib5/lexers/lex03.py" for m in r[1]["matches"]), "the renamed table: %r" % [(m["work"], m["kind"], m["unit"], m["tokens"]) for m in r[1]["matches"]])'
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
