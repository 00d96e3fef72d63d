#!/usr/bin/python3
"""near_plant.py — the library, the outputs and the report of bench/near.sh (near-verbatim
recall per edit rate and span length, prose and code; precision on unrelated text; sim_c).

  near_plant.py library OUT CORPUS PROSE_MB CODE_MB
      OUT/lib/prose/...: a sample of the bench corpus's prose (doc, man, licenses, kernel
      Documentation; files recite --auto reads as prose), about PROSE_MB MB; OUT/lib/code/...:
      C/C++ headers of /usr/include and Python files of /usr/lib/python3*, about CODE_MB MB
      (60% C, 40% Python), 1-64 KB each, valid UTF-8, no duplicates, none of the corpus's
      held-out files, no file of a package Debian does not ship. Writes OUT/lib.json.
  near_plant.py plant OUT CORPUS DIR SPANS PREC [SEED]
      DIR/{prose,code}/NNNNN.txt: one planted span per output, for every span length (20, 40,
      80, 160 tokens: words of prose, lexemes of code) x edit rate (0, 1/40, 1/20, 1/10, 1/5
      edits per token), SPANS outputs per cell, in filler of random words of the corpus's
      held-out prose (it shares no run with the library). DIR/unrel/NNNNN.txt: PREC outputs of
      pure filler, PREC of prose works and PREC of code works shuffled at word level. Lists
      DIR/list_{prose,code,unrel}.txt; truth DIR/truth.json, written last.
  near_plant.py sim-select DIR LIBROOT RUN N OTHERS
      the sim_c subset: N C/C++ code outputs spread over the cells, the works they came from and
      OTHERS other C/C++ works; writes RUN/sim_{outputs,works,args}.txt.
  near_plant.py report DIR RUN
      the tables, from RUN (bench_check TSVs and JSON, sim_c's output, timings).

Edits. Prose: a word substituted (a random held-out word), a word inserted after a word, a
word deleted; never the first or last word. Code: an identifier renamed everywhere in the span
(one edit, all its occurrences), a literal changed (a number or a string), a statement (line)
inserted (`name = other + N;`, `;` left out in Python), a line deleted; never the first or last
line or lexeme. The number of edits of a span is rate x length, the fraction rounded at random
(so the mean is exact). Only the standard library.
"""
import bisect
import hashlib
import json
import os
import random
import re
import shutil
import statistics
import sys
import unicodedata

sys.dont_write_bytecode = True  # no __pycache__ in bench/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from plant import Files, no_join, pick_span, shuffled_filler, tokens, word_pool  # noqa: E402

LENGTHS = [20, 40, 80, 160]
RATES = [(0, "0"), (1 / 40, "1/40"), (1 / 20, "1/20"), (1 / 10, "1/10"), (1 / 5, "1/5")]
FLAVOURS = {"rl": ["rename", "literal"], "mix": ["rename", "literal", "insert", "delete"]}
GROUPS = [("prose", "PROSE", "words"),
          ("code-rl", "CODE, identifiers renamed and literals changed", "lexemes"),
          ("code-mix", "CODE, renames, literals, lines inserted and deleted", "lexemes")]
COVER = 0.8  # recall: one match of the planted work covers this share of the span's bytes
C_EXT = {"h", "hh", "hpp", "hxx", "c", "cc", "cpp", "cxx", "h++", "c++"}
CODE_EXT = C_EXT | {
    "cs", "java", "js", "jsx", "mjs", "cjs", "ts", "tsx", "go", "rs", "py", "pyi", "pyx", "rb",
    "pl", "pm", "php", "sh", "bash", "zsh", "ksh", "swift", "kt", "kts", "scala", "m", "mm",
    "lua", "r", "sql", "css", "scss", "less", "vue", "dart", "groovy", "gradle", "cmake", "mk",
    "el", "clj", "hs", "ml", "mli", "f90", "f", "for", "jl", "zig", "nim", "v", "sv", "vhd",
    "asm", "s", "S", "awk", "tcl", "ps1", "bat", "y", "l", "proto", "thrift"}


def is_code_path(path):
    """recite index --auto's rule (src/index/index_work.c rc_mode_of_path)."""
    base = os.path.basename(path)
    if base in ("Makefile", "makefile", "CMakeLists.txt", "Dockerfile"):
        return True
    dot = base.rfind(".")
    return dot > 0 and base[dot + 1:] in CODE_EXT


def lang_of(path):
    return "c" if path.rsplit(".", 1)[-1] in C_EXT else "py"


# ---------------------------------------------------------------- the code lexer (a port)

KEYWORDS = set("""abstract and as async auto await bool boolean break byte case catch chan char
class const continue def default defer del delete do done double elif else enum esac except
export extends extern false fi final finally float fn for foreach from func function global go
goto if impl implements import in inline instanceof int interface is lambda let local long loop
map match mod mut namespace new nil None nonlocal not null or package pass private protected pub
public raise range register return select short signed sizeof static struct super switch
template then this throw throws trait True true False try type typedef typename typeof union
unsafe unsigned use using var virtual void volatile where while with yield
define include ifdef ifndef endif undef pragma""".split())
SPACE = set(" \t\n\r\v\f\u00a0\ufeff\u2028\u2029")


def _ident_start(c):
    if c < "\x80":
        return c.isalpha() or c in "_$"
    return c.isalnum() or unicodedata.category(c)[0] == "M"


def _ident_part(c):
    return _ident_start(c) or "0" <= c <= "9"


def _macro_name(rest):
    m = re.match(r"[A-Za-z_][A-Za-z0-9_]*", rest)
    if not m:
        return False
    name, after = m.group(), rest[m.end():]
    if not name.islower() or not name.isalpha() or after == "" or after[0] == "(":
        return True
    r = after.lstrip(" \t")
    return r == "" or not ("a" <= r[0] <= "z")


def preprocessor_line(line):
    """Whether a line `#` + blanks + ... is a C preprocessor directive (lex_code.c's
    preprocessor_line): the directive, then what it takes."""
    m = re.match(r"#[ \t]+([A-Za-z0-9_]{2,12})(?=$|[ \t\r(<\"/])[ \t]*", line)
    if not m:
        return False
    kw, r = m.group(1), line[m.end():]
    end = r in ("", "\r") or r.startswith("/*") or r.startswith("//")
    if kw in ("define", "undef", "ifdef", "ifndef"):
        return _macro_name(r)
    if kw in ("include", "include_next", "import"):
        return r[:1] in ("<", '"')
    if kw in ("if", "elif"):
        return r != "" and (r[0] in "!(_" or r[0].isupper() and r[0] < "\x80" or
                            "0" <= r[0] <= "9" or r.startswith("defined"))
    if kw in ("else", "endif"):
        return end
    if kw == "pragma":
        return r != "" and (r[0] == "_" or r[0] < "\x80" and r[0].isalpha())
    if kw in ("error", "warning"):
        return r != "" and (r[0] == '"' or "A" <= r[0] <= "Z")
    if kw == "line":
        return r != "" and "0" <= r[0] <= "9"
    return False


POD_COMMANDS = {"pod", "head1", "head2", "head3", "head4", "head5", "head6", "over", "item",
                "back", "begin", "end", "for", "encoding", "cut"}
INCLUDE_LINE = re.compile(r"[ \t]*#[ \t]*(include|include_next|import)[ \t]*$")


def _block_close(s, start, close):
    """The start of the first line from `start` that begins with `close` (a word) or is a
    Markdown fence; (position, closed) or (None, False)."""
    p = start
    while p < len(s):
        e = s.find("\n", p)
        e = len(s) if e < 0 else e
        line = s[p:e]
        after = line[len(close):len(close) + 1] if close else ""
        if close and line.startswith(close) and not (after and _ident_part(after)):
            return p, True
        if line[:3] in ("```", "~~~"):
            return p, False
        p = e + 1
    return None, False


def _skip_pod(s, i):
    """lex_code.c's pod_end: the end of the POD block opened at s[i] (a line's first byte), or
    None."""
    m = re.match(r"=([A-Za-z0-9_]+)(?=[ \t\r\n]|$)", s[i:i + 12])
    if not m or m.group(1) not in POD_COMMANDS:
        return None
    eol = s.find("\n", i)
    if m.group(1) == "cut":
        return len(s) if eol < 0 else eol
    if eol < 0:
        return None
    ruby = m.group(1) == "begin" and s[i + 6:eol].strip(" \t\r") == ""
    p, closed = _block_close(s, eol + 1, "=end" if ruby else "=cut")
    if p is None:
        return None
    if not closed:
        return p
    e = s.find("\n", p)
    return len(s) if e < 0 else e


def lex_code(s):
    """Lexemes of s as recite's code lexer has them (src/text/lex_code.c, the whole text at
    once): [(start, end, cls)] in characters, cls I (identifier), K (keyword), N, S, P."""
    out, i, n = [], 0, len(s)
    while i < n:
        c = s[i]
        if c in SPACE:
            i += 1
            continue
        at_line = i == 0 or s[i - 1] in "\n\r"
        if c == "=" and at_line:
            e = _skip_pod(s, i)
            if e is not None:
                i = e
                continue
        if c == "<" and INCLUDE_LINE.match(s[s.rfind("\n", 0, i) + 1:i]):
            e = s.find(">", i)
            nl = min((x for x in (s.find("\n", i), s.find("\r", i)) if x >= 0), default=n)
            if 0 <= e < nl:
                out.append((i, e + 1, "S"))
                i = e + 1
                continue
        if c == "_" and at_line and (s.startswith("__END__", i) or s.startswith("__DATA__", i)):
            word = "__DATA__" if s.startswith("__DATA__", i) else "__END__"
            eol = s.find("\n", i)
            eol = n if eol < 0 else eol
            if s[i + len(word):eol].strip(" \t\r") == "":
                p, _ = _block_close(s, eol + 1, None) if eol < n else (None, False)
                i = n if p is None else p
                continue
        if c in "`~":  # a Markdown fence is a comment
            k = i
            while k < n and s[k] == c:
                k += 1
            if k - i >= 3:
                e = s.find("\n", k)
                i = n if e < 0 else e
                continue
        if c == "/" and i + 1 < n:
            if s[i + 1] == "/":
                e = s.find("\n", i)
                i = n if e < 0 else e
                continue
            if s[i + 1] == "*":
                e = s.find("*/", i + 2)
                if e >= 0:
                    i = e + 2
                    continue
        if c == "#" and (i + 1 >= n or s[i + 1] in " \t!#\n\r"):
            e = s.find("\n", i)
            e = n if e < 0 else e
            if not (s[i + 1:i + 2] in (" ", "\t") and s[s.rfind("\n", 0, i) + 1:i].strip(" \t")
                    == "" and preprocessor_line(s[i:e])):
                i = e
                continue
        if _ident_start(c):
            e = i + 1
            while e < n and _ident_part(s[e]):
                e += 1
            out.append((i, e, "K" if s[i:e] in KEYWORDS else "I"))
        elif "0" <= c <= "9":
            e = i + 1
            while e < n and ((s[e] < "\x80" and _ident_part(s[e])) or
                             (s[e] == "." and e + 1 < n and "0" <= s[e + 1] <= "9")):
                e += 1
            out.append((i, e, "N"))
        elif c in "\"'`":
            e = 0
            if c != "`" and s.startswith(c * 3, i):
                f = s.find(c * 3, i + 3)
                e = f + 3 if f >= 0 else 0
            else:
                k = i + 1
                while k < n:
                    if s[k] == "\\":
                        k += 2
                        continue
                    if s[k] == c:
                        e = k + 1
                        break
                    if s[k] in "\n\r" and c != "`":
                        break
                    k += 1
            if e:
                out.append((i, e, "S"))
            else:
                e = i + 1
                out.append((i, e, "P"))
        else:
            e = i + 1
            out.append((i, e, "P"))
        i = e
    return out


# ---------------------------------------------------------------- library

def library(out, corpus, prose_mb, code_mb):
    from corpus import foreign_files, to_text  # noqa: E402  (bench/corpus.py)
    rng = random.Random(4040)
    tmp = out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    works = []
    seen = set()
    for dp, dn, fn in os.walk(os.path.join(corpus, "held")):
        for f in fn:
            with open(os.path.join(dp, f), "rb") as fh:
                seen.add(hashlib.sha1(fh.read()).digest())
    # prose: the corpus's prose sources
    cands = []
    lib = os.path.join(corpus, "lib")
    for dp, dn, fn in os.walk(lib):
        dn.sort()
        for f in sorted(fn):
            rel = os.path.relpath(os.path.join(dp, f), lib)
            src = rel.split("/", 1)[0]
            if is_code_path(rel):
                continue
            if src in ("doc", "man", "licenses") or (src == "kernel" and "/Documentation/" in rel):
                cands.append(rel)
    rng.shuffle(cands)
    total = 0
    for rel in cands:
        if total >= prose_mb * 1e6:
            break
        with open(os.path.join(lib, rel), "rb") as f:
            data = f.read()
        h = hashlib.sha1(data).digest()
        if h in seen:
            continue
        seen.add(h)
        dest = os.path.join(tmp, "lib", "prose", rel)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with open(dest, "wb") as f:
            f.write(data)
        total += len(data)
        works.append({"id": "lib/prose/" + rel, "mode": "prose", "lang": "text",
                      "bytes": len(data)})
    prose_total = total
    # code: C/C++ headers and Python files Debian ships
    foreign, _ = foreign_files()
    budget = {"c": code_mb * 1e6 * 0.6, "py": code_mb * 1e6 * 0.4}
    cands = []
    for base, exts, name in (("/usr/include", C_EXT, "include"), ("/usr/lib", {"py"}, "python")):
        for dp, dn, fn in os.walk(base):
            dn[:] = sorted(d for d in dn if not d.startswith(".") and
                           (base != "/usr/lib" or dp != base or d.startswith("python3")))
            for f in sorted(fn):
                p = os.path.join(dp, f)
                if f.startswith(".") or f.rsplit(".", 1)[-1] not in exts or p in foreign:
                    continue
                if os.path.islink(p) or not os.path.isfile(p):
                    continue
                if not 1024 <= os.path.getsize(p) <= 65536:
                    continue
                cands.append((name, os.path.relpath(p, base if name == "include" else "/usr/lib")))
    rng.shuffle(cands)
    got = {"c": 0, "py": 0}
    for name, rel in cands:
        lang = lang_of(rel)
        if got[lang] >= budget[lang]:
            if all(got[x] >= budget[x] for x in got):
                break
            continue
        p = os.path.join("/usr/include" if name == "include" else "/usr/lib", rel)
        with open(p, "rb") as f:
            data = f.read()
        if b"\0" in data:
            continue
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if to_text(data) != data:  # control characters, minified lines
            continue
        h = hashlib.sha1(data).digest()
        if h in seen:
            continue
        seen.add(h)
        dest = os.path.join(tmp, "lib", "code", name, rel)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with open(dest, "wb") as f:
            f.write(data)
        got[lang] += len(data)
        works.append({"id": "lib/code/%s/%s" % (name, rel), "mode": "code", "lang": lang,
                      "bytes": len(data)})
    with open(os.path.join(tmp, "lib.json"), "w") as f:
        json.dump({"works": works}, f, indent=0)
    shutil.rmtree(out, ignore_errors=True)
    os.rename(tmp, out)
    cnt = lambda m: sum(1 for w in works if w["lang"] == m)
    print("library: prose %.1f MB in %d files, code C/C++ %.1f MB in %d files, Python %.1f MB "
          "in %d files" % (prose_total / 1e6, cnt("text"), got["c"] / 1e6, cnt("c"),
                           got["py"] / 1e6, cnt("py")))


# ---------------------------------------------------------------- edits

def n_edits(rng, rate, n):
    x = rate * n
    return int(x) + (rng.random() < x - int(x))


def apply_ops(text, ops):
    """ops: non-overlapping (start, end, replacement); applied from the end."""
    for a, b, r in sorted(ops, key=lambda o: (o[0], o[1]), reverse=True):
        text = text[:a] + r + text[b:]
    return text


def edit_prose(rng, text, e, words):
    toks = tokens(text)
    n = len(toks)
    ops, kinds = [], []
    for i in sorted(rng.sample(range(1, n - 1), min(e, n - 2))):
        a, b = toks[i]
        kind = rng.choice(["sub", "ins", "del"])
        if kind == "sub":
            w = rng.choice(words)
            while w == text[a:b].lower():
                w = rng.choice(words)
            ops.append((a, b, w))
        elif kind == "ins":
            ops.append((b, b, " " + rng.choice(words)))
        else:
            ops.append((a, toks[i + 1][0], ""))
        kinds.append(kind)
    return apply_ops(text, ops), kinds


def edit_code(rng, text, e, lang, words, kinds_allowed):
    """Returns (new text, edit kinds, lexemes changed); edits of the kinds allowed (of rename,
    literal, insert, delete)."""
    lx = lex_code(text)
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
    line_of = lambda pos: bisect.bisect_right(line_starts, pos) - 1
    nlines = len(line_starts)
    lex_line = [line_of(a) for a, _, _ in lx]
    per_line = {}
    for k, ln in enumerate(lex_line):
        per_line.setdefault(ln, []).append(k)
    first_line, last_line = lex_line[0], lex_line[-1]
    lex_starts = {a for a, _, _ in lx}

    def plain_line(ln):
        """A line that starts with a lexeme and opens or closes no multi-line comment or
        string: inserting before it or deleting it leaves the other lines' lexemes alone."""
        ls = line_starts[ln]
        le = line_starts[ln + 1] if ln + 1 < nlines else len(text)
        body = text[ls:le]
        return (ls + len(body) - len(body.lstrip(" \t")) in lex_starts and
                not any(x in body for x in ("/*", "*/", '"""', "'''", "\\\n")))

    deleted, inserted, renamed, changed_lit = set(), set(), set(), set()
    ops, kinds, changed = [], [], 0
    order = list(kinds_allowed)

    def newname():
        while True:
            w = rng.choice(words)
            if rng.random() < 0.5:
                w += "_" + rng.choice(words)
            if w not in KEYWORDS:
                return w

    def try_edit(kind):
        nonlocal changed
        if kind == "delete":
            cands = [ln for ln in per_line if first_line < ln < last_line and ln not in deleted
                     and ln not in inserted and plain_line(ln)]
            if not cands:
                return False
            ln = rng.choice(cands)
            deleted.add(ln)
            end = line_starts[ln + 1] if ln + 1 < nlines else len(text)
            ops.append((line_starts[ln], end, ""))
            changed += len(per_line[ln])
            return True
        if kind == "insert":
            cands = [ln for ln in range(first_line + 1, last_line + 1)
                     if ln not in deleted and ln not in inserted and plain_line(ln)]
            if not cands:
                return False
            ln = rng.choice(cands)
            inserted.add(ln)
            ls = line_starts[ln]
            indent = re.match(r"[ \t]*", text[ls:]).group()
            stmt = "%s = %s + %d%s\n" % (newname(), rng.choice(words), rng.randint(2, 999),
                                         ";" if lang == "c" else "")
            ops.append((ls, ls, indent + stmt))
            changed += 5 + (lang == "c")
            return True
        if kind == "rename":
            # Not the headers of #include lines: whoever renames a program's variables does
            # not rename the files it includes (recite lexes `<linux/slab.h>` as one string).
            names = {}
            for k, (a, b, c) in enumerate(lx):
                ls = line_starts[lex_line[k]]
                le = line_starts[lex_line[k] + 1] if lex_line[k] + 1 < nlines else len(text)
                if c == "I" and lex_line[k] not in deleted and not (
                        k > 0 and text[lx[k - 1][0]:lx[k - 1][1]] == "#") and not re.match(
                        r"[ \t]*#[ \t]*(include|include_next|import)\b", text[ls:le]):
                    names.setdefault(text[a:b], []).append(k)
            cands = sorted(x for x in names if x not in renamed)
            if not cands:
                return False
            name = rng.choice(cands)
            renamed.add(name)
            new = newname()
            for k in names[name]:
                ops.append((lx[k][0], lx[k][1], new))
            changed += len(names[name])
            return True
        if kind == "literal":
            cands = [k for k, (a, b, c) in enumerate(lx) if c in "NS" and
                     lex_line[k] not in deleted and k not in changed_lit]
            if not cands:
                return False
            k = rng.choice(cands)
            changed_lit.add(k)
            a, b, c = lx[k]
            old = text[a:b]
            if c == "N":
                new = str(rng.randint(0, 99999))
                while new == old:
                    new = str(rng.randint(0, 99999))
            else:
                q = old[0] * (3 if old.startswith(old[0] * 3) and len(old) >= 6 else 1)
                new = q + rng.choice(words) + " " + rng.choice(words) + q
            ops.append((a, b, new))
            changed += 1
            return True

    for _ in range(e):
        kind = rng.choice(order)
        for kd in [kind] + [x for x in order if x != kind]:
            if try_edit(kd):
                kinds.append(kd)
                break
    # An edit may touch another's lexemes (a rename inside an inserted line cannot: inserted
    # text is new; a deleted line is excluded from later renames, not from earlier ones).
    ops.sort()
    clean, last_end = [], -1
    for a, b, r in ops:
        if a < last_end:
            continue
        clean.append((a, b, r))
        last_end = max(last_end, b)
    return apply_ops(text, clean), kinds, changed


def pick_code_span(rng, works, cache, root, n):
    for _ in range(20000):
        w = rng.choice(works)
        if w["id"] not in cache:
            with open(os.path.join(root, w["id"]), "rb") as f:
                s = f.read().decode("utf-8")
            if len(cache) > 256:
                cache.clear()
            cache[w["id"]] = (s, lex_code(s))
        s, lx = cache[w["id"]]
        if len(lx) < n + 2:
            continue
        starts = [k for k in range(len(lx) - n + 1)
                  if s[s.rfind("\n", 0, lx[k][0]) + 1:lx[k][0]].strip(" \t") == ""]
        if not starts:
            continue
        k = rng.choice(starts)
        a, b = lx[k][0], lx[k + n - 1][1]
        if b - a > max(600, 20 * n) or "\0" in s[a:b]:
            continue
        if sum(1 for x in lx[k:k + n] if x[2] == "N") > 0.4 * n:
            continue  # tables of numbers
        if sum(1 for x in lx[k:k + n] if x[2] in "IK") < 0.2 * n:
            continue
        src_start = len(s[:a].encode("utf-8"))
        return w, src_start, src_start + len(s[a:b].encode("utf-8")), s[a:b]
    raise SystemExit("near_plant: no code span of %d lexemes" % n)


# ---------------------------------------------------------------- outputs

def plant(out, corpus, d, nspans, nprec, seed):
    with open(os.path.join(out, "lib.json")) as f:
        works = json.load(f)["works"]
    rng = random.Random(seed)
    held = Files(corpus, "held")
    held.paths = [p for p in held.paths if not is_code_path(p)
                  and p.split("/")[1] in ("doc", "man", "licenses", "kernel")]
    pool = word_pool(random.Random(seed + 1), held, 200000)
    words = sorted({w.lower() for w in pool if w.isascii() and w.isalpha() and 3 <= len(w) <= 10})
    frng = random.Random(seed + 2)
    fill = lambda nch: shuffled_filler(frng, pool, nch)
    # Around code, no word that opens a comment or a string: a lone `/*` before the span would
    # run to the span's first `*/` (a multi-line backquote string likewise) and hide its start.
    code_pool = [w for w in pool if not any(c in w for c in "\"'`/*#~\\")]
    code_fill = lambda nch: shuffled_filler(frng, code_pool, nch)
    prose_lib = Files(out, "lib/prose")
    code_works = {"c": [w for w in works if w["lang"] == "c"],
                  "py": [w for w in works if w["lang"] == "py"]}
    cache = {}
    shutil.rmtree(d, ignore_errors=True)
    for sub in ("prose", "code", "unrel"):
        os.makedirs(os.path.join(d, sub))
    truth = {"prose": [], "code": [], "unrel": []}

    def write(sub, buf, rec):
        path = os.path.join(d, sub, "%05d.txt" % len(truth[sub]))
        with open(path, "wb") as f:
            f.write(buf)
        rec.update(output=len(truth[sub]), file=path, bytes=len(buf))
        truth[sub].append(rec)

    for mode in ("prose", "code"):
        for n in LENGTHS:
            for ri, (rate, rname) in enumerate(RATES):
                for j in range(nspans):
                    e = n_edits(rng, rate, n)
                    if mode == "prose":
                        work, ss, se, text, at_ls = pick_span(rng, prose_lib, n)  # lib/prose/...
                        new, kinds = edit_prose(rng, text, e, words)
                        lang, changed = "text", len(kinds)
                        sep_before = "\n" if at_ls else " "
                        sep_after = "\n" if rng.random() < 0.5 else " "
                    else:
                        lang = "c" if j % 2 == 0 else "py"
                        flavour = "rl" if j % 4 < 2 else "mix"
                        w, ss, se, text = pick_code_span(rng, code_works[lang], cache, out, n)
                        work = w["id"]
                        new, kinds, changed = edit_code(rng, text, e, lang, words,
                                                        FLAVOURS[flavour])
                        sep_before, sep_after = "\n\n```\n", "\n```\n\n"
                    ff = fill if mode == "prose" else code_fill
                    before = no_join(ff(rng.randint(300, 1500))) + sep_before
                    after = sep_after + ff(rng.randint(300, 1500)) + "\n"
                    b0 = len(before.encode("utf-8"))
                    body = new.encode("utf-8")
                    buf = before.encode("utf-8") + body + after.encode("utf-8")
                    ntok = len(tokens(new)) if mode == "prose" else len(lex_code(new))
                    write(mode, buf, {"mode": mode, "lang": lang, "len": n, "rate": rname,
                                      "group": mode if mode == "prose" else "code-" + flavour,
                                      "span": {"work": work, "out_start": b0,
                                               "out_end": b0 + len(body), "src_start": ss,
                                               "src_end": se, "tokens": n,
                                               "out_tokens": ntok, "edits": kinds,
                                               "changed": changed}})
    # unrelated text: pure filler; library works shuffled at word level
    for j in range(nprec):
        write("unrel", fill(rng.randint(1500, 4000)).encode("utf-8") + b"\n",
              {"set": "filler"})
    for kind in ("prose", "code"):
        pool_w = [w for w in works if w["mode"] == kind]
        for j in range(nprec):
            while True:
                w = rng.choice(pool_w)
                with open(os.path.join(out, w["id"]), "rb") as f:
                    s = f.read().decode("utf-8")
                a = rng.randrange(max(1, len(s) - 3000))
                ws = s[a:a + 3000].split()[1:-1]
                ws = [x for x in ws if len(tokens(x)) <= 3 and len(lex_code(x)) <= 20]
                if len(ws) >= 100:
                    break
            rng.shuffle(ws)
            lines, cur = [], []
            for x in ws:
                cur.append(x)
                if sum(len(y) + 1 for y in cur) > 72:
                    lines.append(" ".join(cur))
                    cur = []
            lines.append(" ".join(cur))
            write("unrel", ("\n".join(lines) + "\n").encode("utf-8"),
                  {"set": "shuffled " + kind, "work": w["id"]})
    for sub in truth:
        with open(os.path.join(d, "list_%s.txt" % sub), "w") as f:
            f.write("".join(t["file"] + "\n" for t in truth[sub]))
    with open(os.path.join(d, "truth.json"), "w") as f:
        json.dump(truth, f, indent=0)
    print("planted: %d prose and %d code outputs (%d per cell), %d unrelated; %.1f MB" % (
        len(truth["prose"]), len(truth["code"]), nspans, len(truth["unrel"]),
        sum(t["bytes"] for v in truth.values() for t in v) / 1e6))


# ---------------------------------------------------------------- sim_c subset

def sim_select(d, libroot, run, n, others):
    with open(os.path.join(d, "truth.json")) as f:
        truth = json.load(f)["code"]
    with open(os.path.join(libroot, "lib.json")) as f:
        works = json.load(f)["works"]
    cells = {}
    for t in truth:
        if t["lang"] == "c":
            cells.setdefault((t["len"], t["rate"]), []).append(t)
    per = max(1, n // max(1, len(cells)))
    sub = [t for k in sorted(cells) for t in cells[k][:per]]
    planted = sorted({t["span"]["work"] for t in sub})
    pset = set(planted)
    rng = random.Random(11)
    cw = [w["id"] for w in works if w["lang"] == "c" and w["id"] not in pset]
    rest = sorted(rng.sample(cw, min(len(cw), others)))
    with open(os.path.join(run, "sim_outputs.txt"), "w") as f:
        f.write("".join(os.path.abspath(t["file"]) + "\n" for t in sub))
    with open(os.path.join(run, "sim_works.txt"), "w") as f:
        f.write("".join(w + "\n" for w in planted + rest))
    with open(os.path.join(run, "sim_args.txt"), "w") as f:
        f.write("".join(os.path.abspath(t["file"]) + "\n" for t in sub) + "/\n" +
                "".join(w + "\n" for w in planted + rest))
    size = sum(os.path.getsize(os.path.join(libroot, w)) for w in planted + rest)
    print("sim subset: %d C/C++ outputs (%d per cell), %d works with their spans + %d others "
          "(%.1f MB)" % (len(sub), per, len(planted), len(rest), size / 1e6))


# ---------------------------------------------------------------- report

def overlap(a, b, c, e):
    return max(0, min(b, e) - max(a, c))


def load_matches(path):
    ms = {}
    for line in open(path, encoding="utf-8", errors="surrogateescape"):
        f = line.rstrip("\n").split("\t")
        ms.setdefault(int(f[0]), []).append(dict(
            work=f[1], cluster=f[2], start=int(f[3]), end=int(f[4]), tokens=int(f[7]),
            kind=f[8], sim=float(f[9]), common=f[10] == "1"))
    return ms


def load_clusters(path):
    cl = {}
    for line in open(path, encoding="utf-8", errors="surrogateescape"):
        wid, c, _ = line.rstrip("\n").split("\t")
        cl[wid] = c
    return cl


def judge(sp, ms, cl):
    """(recalled, overlapping, similarity of the covering match, its kind, union covers): the
    planted work's matches (its cluster) against the span."""
    c0 = cl.get(sp["work"], "?")
    a, b = sp["out_start"], sp["out_end"]
    need = COVER * (b - a)
    mine = [m for m in ms if m["cluster"] == c0 and overlap(m["start"], m["end"], a, b) > 0]
    cover = [m for m in mine if overlap(m["start"], m["end"], a, b) >= need]
    best = max(cover, key=lambda m: overlap(m["start"], m["end"], a, b)) if cover else None
    covered, end = 0, a
    for m in sorted(mine, key=lambda m: m["start"]):
        lo, hi = max(m["start"], end), min(m["end"], b)
        if hi > lo:
            covered += hi - lo
            end = hi
    return (bool(cover), bool(mine), best["sim"] if best else None,
            best["kind"] if best else None, covered >= need)


def report(d, run):
    with open(os.path.join(d, "truth.json")) as f:
        truth = json.load(f)
    cl = load_clusters(os.path.join(run, "works.tsv"))

    def cj(name):
        """The faster of the runs of a check (the machine may be shared)."""
        runs = [json.load(open(os.path.join(run, f))) for f in sorted(os.listdir(run))
                if re.fullmatch("c_%s_[0-9]+\\.json" % name, f)]
        return max(runs, key=lambda c: c["mb_per_s"])

    with open(os.path.join(d, "..", "lib.json")) as f:
        lw = json.load(f)["works"]
    print("\nlibrary: " + ", ".join("%s %.1f MB in %d files" % (
        name, sum(w["bytes"] for w in lw if w["lang"] == lang) / 1e6,
        sum(1 for w in lw if w["lang"] == lang))
        for lang, name in (("text", "prose"), ("c", "C/C++"), ("py", "Python"))))
    rnames = [r for _, r in RATES]
    res = {}
    for sub in ("prose", "code"):
        for nm in ("on", "off"):
            ms = load_matches(os.path.join(run, "m_%s_%s.tsv" % (sub, nm)))
            for t in truth[sub]:
                key = (t["group"], nm, t["len"], t["rate"])
                r = res.setdefault(key, dict(n=0, rec=0, ovl=0, uni=0, sims=[], kinds={}, edits=0,
                                             changed=0, toks=0, spur=0, lang={}))
                sp = t["span"]
                rec, ovl, sim, kind, uni = judge(sp, ms.get(t["output"], []), cl)
                r["n"] += 1
                r["rec"] += rec
                r["ovl"] += ovl
                r["uni"] += uni
                if sim is not None:
                    r["sims"].append(sim)
                    r["kinds"][kind] = r["kinds"].get(kind, 0) + 1
                lr = r["lang"].setdefault(t["lang"], [0, 0])
                lr[0] += rec
                lr[1] += 1
                r["edits"] += len(sp["edits"])
                r["changed"] += sp["changed"]
                r["toks"] += sp["tokens"]
                r["spur"] += sum(1 for m in ms.get(t["output"], []) if overlap(
                    m["start"], m["end"], sp["out_start"], sp["out_end"]) == 0)
    print("\nrecall: one span per ~1-4 KB output in unrelated filler, %d spans per cell (prose), "
          "%d (code, each kind of edits); a cell is near on / near off (--exact-only)" % (
              res[("prose", "on", LENGTHS[0], "0")]["n"],
              res[("code-rl", "on", LENGTHS[0], "0")]["n"]))
    grids = [("recall: one match of the planted work covers >= %d%% of the span's bytes"
              % (COVER * 100), lambda x: "%.2f" % (x["rec"] / x["n"])),
             ("the union of the planted work's matches covers >= %d%%" % (COVER * 100),
              lambda x: "%.2f" % (x["uni"] / x["n"])),
             ("a match of the planted work overlaps the span",
              lambda x: "%.2f" % (x["ovl"] / x["n"]))]
    for grp, gname, unit in GROUPS:
        print("\n%s" % gname)
        for gi, (title, f) in enumerate(grids):
            print("  %-12s" % (unit if gi == 0 else "") + "".join(
                "%12s" % ("rate " + r) for r in rnames) + ("   " + title if gi else "   " + title))
            for n in LENGTHS:
                print("  %-12d" % n + "".join("%12s" % (f(res[(grp, "on", n, r)]) + "/" + f(
                    res[(grp, "off", n, r)])) for r in rnames))
        print("  %-12s" % "" + "".join("%12s" % ("rate " + r) for r in rnames) +
              "   mean similarity of the covering matches, near on (exact/normalized: 1)")
        for n in LENGTHS:
            print("  %-12d" % n + "".join("%12s" % ("%.3f" % statistics.mean(
                res[(grp, "on", n, r)]["sims"]) if res[(grp, "on", n, r)]["sims"] else "--")
                for r in rnames))
        xs = lambda r: [res[(grp, "on", n, r)] for n in LENGTHS]
        print("  %-12s" % "edits/token" + "".join("%12s" % ("%.3f" % (
            sum(x["edits"] for x in xs(r)) / sum(x["toks"] for x in xs(r)))) for r in rnames) +
            "   done, all lengths" + ("" if grp == "prose" else "; a rename is one edit"))
        if grp != "prose":
            print("  %-12s" % "lexemes chg" + "".join("%12s" % ("%.3f" % (
                sum(x["changed"] for x in xs(r)) / sum(x["toks"] for x in xs(r)))) for r in rnames)
                + "   lexemes changed, inserted or deleted per lexeme")
            line = "  %-12s" % "C/C++ | Py"
            for r in rnames:
                big = [res[(grp, "on", n, r)] for n in LENGTHS if n >= 65]
                v = {lang: [sum(x["lang"].get(lang, [0, 0])[i] for x in big) for i in (0, 1)]
                     for lang in ("c", "py")}
                line += "%12s" % "/".join("%.2f" % (v[l][0] / v[l][1]) if v[l][1] else "-"
                                          for l in ("c", "py"))
            print(line + "   recall near on, 80+160 lexemes, C/C++ / Python")
    kinds = {}
    for (grp, nm, n, r), x in res.items():
        if nm == "on" and r != "0":
            for k, v in x["kinds"].items():
                kinds.setdefault(grp, {}).setdefault(k, 0)
                kinds[grp][k] += v
    print("\nkinds of the covering matches of edited spans, near on: " + "; ".join(
        "%s %s" % (g, ", ".join("%s %d" % kv for kv in sorted(kinds.get(g, {}).items())))
        for g, _, _ in GROUPS))

    # precision
    print("\nfalse matches on unrelated text    outputs      MB    near on: matches (outputs, "
          "near kind)    near off: matches (outputs)")
    sets = {}
    for i, t in enumerate(truth["unrel"]):
        sets.setdefault(t["set"], []).append(i)
    mon = load_matches(os.path.join(run, "m_unrel_on.tsv"))
    moff = load_matches(os.path.join(run, "m_unrel_off.tsv"))
    for name in ("filler", "shuffled prose", "shuffled code"):
        ids = sets.get(name, [])
        mb = sum(truth["unrel"][i]["bytes"] for i in ids) / 1e6
        cnt = lambda ms, pred=lambda m: True: (
            sum(1 for i in ids for m in ms.get(i, []) if pred(m)),
            sum(1 for i in ids if any(pred(m) for m in ms.get(i, []))))
        a, b = cnt(mon)
        nn, _ = cnt(mon, lambda m: m["kind"] == "near")
        c, e = cnt(moff)
        label = {"filler": "filler (held-out words)", "shuffled prose": "prose works, shuffled",
                 "shuffled code": "code works, shuffled"}[name]
        print("  %-32s %7d %7.2f    %8d (%d, %d near)%s %8d (%d)" % (
            label, len(ids), mb, a, b, nn, " " * 12, c, e))
    for sub in ("prose", "code"):
        s_on, s_off = (sum(x["spur"] for (g, nm, n, r), x in res.items()
                           if g.startswith(sub) and nm == which) for which in ("on", "off"))
        print("  %-32s %7d %7.2f    %8d%s %8d" % (
            "planted %s, outside the span" % sub, len(truth[sub]),
            sum(t["bytes"] for t in truth[sub]) / 1e6, s_on, " " * 23, s_off))

    # cost
    print("\ncheck cost, 1 thread (best of 2 runs)      MB/s on  MB/s off  off/on   p50 ms on/off"
          "     p99 ms on/off")
    for sub in ("prose", "code", "unrel"):
        on, off = cj(sub + "_on"), cj(sub + "_off")
        print("  %-38s %8.2f  %8.2f  %6.2f   %6.2f / %-6.2f  %7.2f / %-7.2f" % (
            {"prose": "planted prose", "code": "planted code", "unrel": "unrelated text"}[sub]
            + " (%d outputs, %.1f MB)" % (on["outputs"], on["bytes"] / 1e6),
            on["mb_per_s"], off["mb_per_s"], off["mb_per_s"] / on["mb_per_s"]
            if on["mb_per_s"] else 0, on["p50_ms"], off["p50_ms"], on["p99_ms"], off["p99_ms"]))

    # sim_c
    if not os.path.exists(os.path.join(run, "sim.out")):
        return
    outs = [l.rstrip("\n") for l in open(os.path.join(run, "sim_outputs.txt"))]
    works = [l.rstrip("\n") for l in open(os.path.join(run, "sim_works.txt"))]
    byfile = {os.path.abspath(t["file"]): t for t in truth["code"]}
    sub = [byfile[o] for o in outs]
    pat = re.compile(r"^(.*): line (\d+)-(\d+)\s*\|(.*): line (\d+)-(\d+)\s*\[(\d+)\]\s*$")
    runs = {}
    for line in open(os.path.join(run, "sim.out"), encoding="utf-8", errors="replace"):
        m = pat.match(line.rstrip("\n"))
        if m:
            runs.setdefault(m.group(1).strip(), []).append(
                (int(m.group(2)), int(m.group(3)), m.group(4).strip()))
    rj = json.load(open(os.path.join(run, "sim_recite.json")))
    rj = [rj] if isinstance(rj, dict) else rj
    rmatch = {os.path.abspath(r["input"]): r["matches"] for r in rj}
    rj = json.load(open(os.path.join(run, "sim_recite_r.json")))
    rj = [rj] if isinstance(rj, dict) else rj
    rmatch_r = {os.path.abspath(r["input"]): r["matches"] for r in rj}
    simrun = open(os.path.join(run, "sim.run")).read().strip()
    mon = load_matches(os.path.join(run, "m_code_on.tsv"))
    moff = load_matches(os.path.join(run, "m_code_off.tsv"))
    names = ["sim_c (one run >= 80%)", "sim_c (runs' union >= 80%)", "sim_c (any run overlaps)",
             "recite, subset index", "recite, subset, code-min " + simrun,
             "recite, full index, near on", "recite, full index, near off"]
    tal = {k: {} for k in names}
    for t in sub:
        with open(t["file"], "rb") as f:
            data = f.read()
        starts = [0] + [i + 1 for i, c in enumerate(data) if c == 10]
        lb = lambda ln: (starts[ln - 1], starts[ln] if ln < len(starts) else len(data))
        sp = t["span"]
        a, b = sp["out_start"], sp["out_end"]
        need = COVER * (b - a)
        fn = os.path.abspath(t["file"])
        mine = [lb(s)[0:1] + lb(e)[1:2] for s, e, w in runs.get(fn, []) if w == sp["work"]]
        one = any(overlap(x, y, a, b) >= need for x, y in mine)
        cov = set()
        for x, y in mine:
            cov.update(range(max(x, a), min(y, b)))
        uni = len(cov) >= need
        anyr = any(overlap(x, y, a, b) > 0 for x, y in mine)
        hit = lambda rm: any((m["work"] == sp["work"] or sp["work"] in m.get("also", [])) and
                             overlap(m["output"]["start"], m["output"]["end"], a, b) >= need
                             for m in rm.get(fn, []))
        rs, rs_r = hit(rmatch), hit(rmatch_r)
        fon = judge(sp, mon.get(t["output"], []), cl)[0]
        foff = judge(sp, moff.get(t["output"], []), cl)[0]
        for k, h in zip(names, (one, uni, anyr, rs, rs_r, fon, foff)):
            keys = ["all", "r" + t["rate"], "n%d" % t["len"]]
            if t["rate"] != "0":
                keys.append("g" + t["group"])
            for key in keys:
                v = tal[k].setdefault(key, [0, 0])
                v[0] += h
                v[1] += 1
    sec = lambda n: float(open(os.path.join(run, n)).read())
    t_sim = sec("sim.sec")
    t_ri, t_rc = sec("simidx.sec"), sec("simcheck.sec")
    t_ri2, t_rc2 = sec("simidx_r.sec"), sec("simcheck_r.sec")
    mb = sum(os.path.getsize(os.path.join(d, "..", w)) for w in works) / 1e6
    print("\nbaseline on code: sim_c -r %s -S -n (outputs / works), %d C/C++ outputs (%d per "
          "cell), %d works (%.1f MB: the planted ones + others)" % (
              simrun, len(sub), len(sub) // 20, len(works), mb))
    cols = ["all"] + ["r" + r for r in rnames] + ["n%d" % n for n in LENGTHS] + [
        "gcode-rl", "gcode-mix"]
    print("  %-30s %7s" % ("recall", "seconds") + "".join(
        "%6s" % (c[1:] if c[0] in "nr" else c[6:] if c[0] == "g" else c) for c in cols) +
        "   (by rate | by length | edited spans: renames+literals, with lines ins/del)")
    for k in names:
        s = {names[0]: "%.2f" % t_sim, names[3]: "%.2f" % (t_ri + t_rc),
             names[4]: "%.2f" % (t_ri2 + t_rc2)}.get(k, "")
        print("  %-30s %7s" % (k, s) + "".join(
            "%6s" % ("%.2f" % (tal[k][c][0] / tal[k][c][1]) if c in tal[k] else "-") for c in cols))
    print("  time: sim_c %.2f s; recite index %.2f s + check %.2f s = %.2f s (sim_c / recite = "
          "%.2f); with code-min %s: %.2f + %.2f s" % (
              t_sim, t_ri, t_rc, t_ri + t_rc, t_sim / (t_ri + t_rc) if t_ri + t_rc else 0,
              simrun, t_ri2, t_rc2))


def main():
    a = sys.argv[1:]
    if a[:1] == ["library"] and len(a) == 5:
        library(a[1], a[2], float(a[3]), float(a[4]))
    elif a[:1] == ["plant"] and len(a) in (6, 7):
        plant(a[1], a[2], a[3], int(a[4]), int(a[5]), int(a[6]) if len(a) > 6 else 7)
    elif a[:1] == ["sim-select"] and len(a) == 6:
        sim_select(a[1], a[2], a[3], int(a[4]), int(a[5]))
    elif a[:1] == ["report"] and len(a) == 3:
        report(a[1], a[2])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
