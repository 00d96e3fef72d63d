#!/usr/bin/python3
"""code_plant.py — the LLM-style code answers and the report of bench/code.sh (issue 13): recall
of copied code by transformation and length, and wrong works per answer of fresh code, for
recite and sim_c side by side.

  code_plant.py plant CORPUS DIR N [SEED]
      CORPUS is a bench corpus (bench/corpus.py): lib/ is the library (a mixed one, as an
      operator would index it: documentation, man pages, C/C++ headers, kernel sources, Python,
      Perl), held/ is never indexed. Writes DIR/answers/NNNNN.md: Markdown answers, prose (words
      of held-out text drawn at random) around one fenced code block, for every transformation
      x length (TRANSFORMS x LENGTHS lexemes), N answers per cell, 3 in 4 of C/C++ and 1 in 4
      of Python; and 2N answers of fresh code per length (held-out code that shares no
      16-lexeme run and no 12-word run with the library). Lists DIR/list.txt (all answers),
      DIR/sim_answers.txt (the C/C++ answers) and DIR/sim_lib.txt (the library's C/C++ files,
      for sim_c); truth DIR/truth.json, written last.
  code_plant.py report DIR RUN LABEL...
      the tables: for each LABEL, RUN/LABEL.json (recite check --json of DIR/list.txt) and
      RUN/LABEL.sec; sim_c's RUN/sim.out and RUN/sim.sec.

Transformations of a span of n lexemes (starting at a line start) of a library file:
  verbatim     the bytes as they are
  reindent     every line's indentation changed (tabs to spaces, two more spaces)
  nocomment    comments removed, and the lines they leave empty (spans holding a comment)
  renamed      2 in 5 of its distinct identifiers renamed everywhere in it
  renamed+ed   renamed, and one line inserted or deleted per 40 lexemes (at least one)
  literals     half of its numbers and strings changed (at least one)
  fresh        (no transformation) code of held-out files that is in no work
Recall: the matches of the planted work (or of a work with the same text: `also`) cover, in
their union, COVER of the code's non-blank bytes in the answer. A wrong work: a work reported
(not common language, for recite) for an answer of fresh code. Only the standard library.
"""
import hashlib
import json
import os
import random
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in bench/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from near_plant import KEYWORDS, edit_code, lex_code  # noqa: E402
from plant import Files, shuffled_filler, tokens, word_pool  # noqa: E402

LENGTHS = [20, 25, 30, 40, 60, 90, 150, 250, 400]
TRANSFORMS = ["verbatim", "reindent", "nocomment", "renamed", "renamed+ed", "literals"]
COVER = 0.7
C_EXT = {"h", "hh", "hpp", "hxx", "c", "cc", "cpp", "cxx", "h++", "c++"}
FRESH_LEX = 16   # a fresh span shares no run of this many lexemes with the library ...
FRESH_WORDS = 12  # ... and no run of this many words


def lang_of(path):
    ext = path.rsplit(".", 1)[-1] if "." in os.path.basename(path) else ""
    return "c" if ext in C_EXT else "py" if ext == "py" else None


def code_files(files):
    out = {"c": [], "py": []}
    for p in files.paths:
        lang = lang_of(p)
        if lang:
            out[lang].append(p)
    return out


def hashes(seq, k):
    """Hashes of the k-grams of a sequence of strings."""
    hs = [hash(x) for x in seq]
    return {hash(tuple(hs[i:i + k])) for i in range(len(hs) - k + 1)}


def lexemes_of(s):
    return [s[a:b] for a, b, _ in lex_code(s)]


def words_of(s):
    return [s[a:b].lower() for a, b in tokens(s)]


def pick_span(rng, files, paths, n, want=None, tries=4000):
    """A span of n lexemes starting at a line start (and ending at the end of a lexeme) of a
    random file of `paths`: (path, start, end, text) with byte offsets; `want(text, lexemes)`
    may ask for more (a comment, literals)."""
    for _ in range(tries):
        p = rng.choice(paths)
        try:
            s = files.text(p)
        except UnicodeDecodeError:
            continue
        lx = lex_code(s)
        if len(lx) < n + 2:
            continue
        for _ in range(8):
            k = rng.randrange(len(lx) - n + 1)
            a, b = lx[k][0], lx[k + n - 1][1]
            if s[s.rfind("\n", 0, a) + 1:a].strip(" \t") != "":
                continue
            text = s[a:b]
            if b - a > max(800, 25 * n) or "\0" in text or "```" in text:
                continue
            kinds = [c for _, _, c in lx[k:k + n]]
            if kinds.count("N") > 0.4 * n or sum(c in "IK" for c in kinds) < 0.2 * n:
                continue  # tables of numbers, runs of punctuation
            if want and not want(text, lx[k:k + n], a):
                continue
            start = len(s[:a].encode("utf-8"))
            return p, start, start + len(text.encode("utf-8")), text
    return None


def has_comment(text, lx, a):
    prev = a
    for x, y, _ in lx:
        if text[prev - a:x - a].strip():
            return True
        prev = y
    return False


def reindent(text):
    out = []
    for i, line in enumerate(text.split("\n")):
        body = line.lstrip(" \t")
        ind = line[:len(line) - len(body)].replace("\t", "    ")
        out.append(line if i == 0 else "  " + ind + body)
    return "\n".join(out)


def strip_comments(text):
    """The text without its comments (what lies between lexemes and is not blank), and without
    the lines that only held them."""
    lx = lex_code(text)
    out, prev = [], 0
    for a, b, _ in lx:
        gap = text[prev:a]
        if gap.strip():  # a comment: keep a line break and the next line's indentation
            tail = gap.rsplit("\n", 1)[1] if "\n" in gap else None
            gap = " " if tail is None else "\n" + tail[:len(tail) - len(tail.lstrip(" \t"))]
        out.append(gap)
        out.append(text[a:b])
        prev = b
    return "".join(out)


def transform(rng, kind, text, lang, words):
    lx = lex_code(text)
    idents = sorted({text[a:b] for a, b, c in lx if c == "I"})
    if kind == "verbatim":
        return text
    if kind == "reindent":
        return reindent(text)
    if kind == "nocomment":
        return strip_comments(text)
    if kind in ("renamed", "renamed+ed"):
        new, _, _ = edit_code(rng, text, max(1, round(0.4 * len(idents))), lang, words,
                              ["rename"])
        if kind == "renamed+ed":
            n = len(lex_code(new))
            new, _, _ = edit_code(rng, new, max(1, n // 40), lang, words, ["insert", "delete"])
        return new
    if kind == "literals":
        nlit = sum(1 for _, _, c in lx if c in "NS")
        new, _, _ = edit_code(rng, text, max(1, round(0.5 * nlit)), lang, words, ["literal"])
        return new
    raise ValueError(kind)


def answer(frng, pool, lang, code):
    before = shuffled_filler(frng, pool, frng.randint(150, 400))
    after = shuffled_filler(frng, pool, frng.randint(80, 300))
    head = before + "\n\n```" + ("c" if lang == "c" else "python") + "\n"
    body = head + code + "\n```\n\n" + after + "\n"
    a = len(head.encode("utf-8"))
    return body.encode("utf-8"), a, a + len(code.encode("utf-8"))


def plant(corpus, d, n, seed):
    rng = random.Random(seed)
    frng = random.Random(seed * 1000003 + 1)
    lib, held = Files(corpus, "lib"), Files(corpus, "held")
    pool = [w for w in word_pool(random.Random(seed * 1000003 + 2), held)
            if not any(c in w for c in "\"'`/*#~\\")]
    names = [w for w in (re.sub(r"[^a-z]", "", x.lower()) for x in pool[:20000])
             if len(w) >= 3 and w not in KEYWORDS]
    libc = code_files(lib)
    heldc = code_files(held)
    os.makedirs(os.path.join(d, "answers"), exist_ok=True)
    truth, paths = [], []

    def write(rec, data):
        i = len(truth)
        path = os.path.join(d, "answers", "%05d.md" % i)
        with open(path, "wb") as f:
            f.write(data)
        rec["answer"] = i
        rec["file"] = path
        truth.append(rec)
        paths.append(path)

    for kind in TRANSFORMS:
        for length in LENGTHS:
            for i in range(n):
                lang = "py" if i % 4 == 3 else "c"
                want = None
                if kind == "nocomment":
                    want = has_comment
                elif kind == "literals":
                    want = lambda t, lx, a: any(c in "NS" for _, _, c in lx)
                got = pick_span(rng, lib, libc[lang], length, want)
                if got is None:
                    got = pick_span(rng, lib, libc[lang], length)
                if got is None:
                    continue
                p, ss, se, text = got
                code = transform(rng, kind, text, lang, names)
                data, a, b = answer(frng, pool, lang, code)
                write({"kind": kind, "len": length, "lang": lang, "work": p,
                       "src_start": ss, "src_end": se, "out_start": a, "out_end": b,
                       "lexemes": len(lex_code(code))}, data)
    # Fresh code: held-out spans that share no FRESH_LEX-lexeme and no FRESH_WORDS-word run
    # with the library.
    lexh, wordh = set(), set()
    for p in lib.paths:
        try:
            s = lib.text(p)
        except UnicodeDecodeError:
            continue
        if lang_of(p):
            lexh |= hashes(lexemes_of(s), FRESH_LEX)
        wordh |= hashes(words_of(s), FRESH_WORDS)
    fresh = 0
    for length in LENGTHS:
        got_n = 0
        for _ in range(60 * n):
            if got_n >= 2 * n:
                break
            lang = "py" if got_n % 4 == 3 else "c"
            got = pick_span(rng, held, heldc[lang], length, tries=50)
            if got is None:
                continue
            p, ss, se, text = got
            if hashes(lexemes_of(text), FRESH_LEX) & lexh or \
                    hashes(words_of(text), FRESH_WORDS) & wordh:
                continue
            data, a, b = answer(frng, pool, lang, text)
            write({"kind": "fresh", "len": length, "lang": lang, "work": None,
                   "src_start": ss, "src_end": se, "out_start": a, "out_end": b,
                   "lexemes": len(lex_code(text))}, data)
            got_n += 1
            fresh += 1
    with open(os.path.join(d, "list.txt"), "w") as f:
        f.write("".join(os.path.abspath(p) + "\n" for p in paths))
    with open(os.path.join(d, "sim_answers.txt"), "w") as f:
        f.write("".join(os.path.abspath(t["file"]) + "\n" for t in truth if t["lang"] == "c"))
    with open(os.path.join(d, "sim_lib.txt"), "w") as f:
        f.write("".join(os.path.abspath(os.path.join(corpus, p)) + "\n" for p in libc["c"]))
    with open(os.path.join(d, "truth.json.tmp"), "w") as f:
        json.dump({"answers": truth, "n": n}, f)
    os.replace(os.path.join(d, "truth.json.tmp"), os.path.join(d, "truth.json"))
    print("planted: %d answers (%d per cell), %d of fresh code; sim_c: %d C/C++ answers, %d "
          "C/C++ library files" % (len(truth), n, fresh, sum(t["lang"] == "c" for t in truth),
                                   len(libc["c"])))


# ---------------------------------------------------------------- report

def nonblank(data, a, b):
    return {i for i in range(a, b) if data[i] not in b" \t\r\n"}


def covered(data, a, b, spans):
    want = nonblank(data, a, b)
    got = set()
    for x, y in spans:
        got |= {i for i in range(max(a, x), min(b, y))}
    return len(want & got) / max(1, len(want))


def load_recite(path):
    rj = json.load(open(path))
    rj = [rj] if isinstance(rj, dict) else rj
    return {os.path.abspath(r["input"]): r for r in rj}


def load_sim(path, corpus):
    pat = re.compile(r"^(.*): line (\d+)-(\d+)\s*\|(.*): line (\d+)-(\d+)\s*\[(\d+)\]\s*$")
    runs = {}
    for line in open(path, encoding="utf-8", errors="replace"):
        m = pat.match(line.rstrip("\n"))
        if m:
            work = os.path.relpath(os.path.abspath(m.group(4).strip()), corpus)
            runs.setdefault(os.path.abspath(m.group(1).strip()), []).append(
                (int(m.group(2)), int(m.group(3)), work))
    return runs


def report(d, run, labels):
    truth = json.load(open(os.path.join(d, "truth.json")))["answers"]
    corpus = os.path.abspath(os.path.join(d, ".."))
    tools = []
    for lb in labels:
        tools.append((lb, load_recite(os.path.join(run, lb + ".json"))))
    sim = None
    if os.path.exists(os.path.join(run, "sim.out")):
        sim = load_sim(os.path.join(run, "sim.out"), corpus)
    simrun = open(os.path.join(run, "sim.run")).read().strip() if sim is not None else "-"

    def recite_judge(res, t, data):
        ms = res.get("matches", []) if res else []
        if t["work"] is None:
            wrong = {m["work"] for m in ms if not m.get("common")}
            allw = {m["work"] for m in ms}
            return None, len(wrong), len(allw)
        mine = [(m["output"]["start"], m["output"]["end"]) for m in ms
                if m["work"] == t["work"] or t["work"] in m.get("also", [])]
        return covered(data, t["out_start"], t["out_end"], mine) >= COVER, 0, 0

    same = {}  # a library file -> the first file with the same bytes (sim_c names either)
    if sim is not None:
        first = {}
        for line in open(os.path.join(d, "sim_lib.txt")):
            path = line.rstrip("\n")
            with open(path, "rb") as f:
                h = hashlib.md5(f.read()).hexdigest()
            rel = os.path.relpath(path, corpus)
            same[rel] = first.setdefault(h, rel)

    def sim_judge(t, data):
        rs = sim.get(os.path.abspath(t["file"]), [])
        if t["work"] is None:
            w = {same.get(r[2], r[2]) for r in rs}
            return None, len(w), len(w)
        starts = [0] + [i + 1 for i, c in enumerate(data) if c == 10]
        lb = lambda ln: (starts[ln - 1], starts[ln] if ln < len(starts) else len(data))
        want = same.get(t["work"], t["work"])
        mine = [(lb(s)[0], lb(e)[1]) for s, e, w in rs if same.get(w, w) == want]
        return covered(data, t["out_start"], t["out_end"], mine) >= COVER, 0, 0

    rows = [(lb, lambda t, data, res=res: recite_judge(res.get(os.path.abspath(t["file"])), t,
                                                       data)) for lb, res in tools]
    if sim is not None:
        rows.append(("sim_c -r " + simrun, lambda t, data: sim_judge(t, data)))
    tal = {}
    for t in truth:
        with open(t["file"], "rb") as f:
            data = f.read()
        for name, judge in rows:
            if name.startswith("sim_c") and t["lang"] != "c":
                continue
            hit, wrong, allw = judge(t, data)
            for lang in (t["lang"], "all"):
                key = (name, lang, t["kind"], t["len"])
                v = tal.setdefault(key, [0, 0, 0, 0])
                v[0] += bool(hit)
                v[1] += wrong
                v[2] += allw
                v[3] += 1
    print("\nrecall: the planted work's matches cover >= %.0f%% of the code's non-blank bytes "
          "(%d answers; C/C++ answers for sim_c, which reads no Python)" % (100 * COVER,
                                                                          len(truth)))
    for lang, title in (("c", "C/C++ answers"), ("py", "Python answers (recite only)")):
        print("\n  %s" % title)
        print("  %-12s %-26s" % ("transform", "tool") + "".join("%6d" % n for n in LENGTHS) +
              "   (lexemes)")
        for kind in TRANSFORMS:
            for name, _ in rows:
                if name.startswith("sim_c") and lang != "c":
                    continue
                cells = []
                for n in LENGTHS:
                    v = tal.get((name, lang, kind, n))
                    cells.append("%6.2f" % (v[0] / v[3]) if v and v[3] else "%6s" % "-")
                print("  %-12s %-26s" % (kind, name) + "".join(cells))
    print("\n  wrong works per answer of fresh code (recite: works with a match that is not common "
          "language; in brackets with common language; sim_c: works it reports)")
    print("  %-12s %-26s" % ("answers", "tool") + "".join("%10d" % n for n in LENGTHS) + "   all")
    for lang in ("c", "py", "all"):
        for name, _ in rows:
            if name.startswith("sim_c") and lang != "c":
                continue
            cells, tw, ta, tn = [], 0, 0, 0
            for n in LENGTHS:
                v = tal.get((name, lang, "fresh", n))
                if v and v[3]:
                    cells.append("%10s" % ("%.2f" % (v[1] / v[3]) + (
                        "(%.2f)" % (v[2] / v[3]) if not name.startswith("sim_c") else "")))
                    tw, ta, tn = tw + v[1], ta + v[2], tn + v[3]
                else:
                    cells.append("%10s" % "-")
            print("  %-12s %-26s" % ({"c": "C/C++", "py": "Python", "all": "all"}[lang], name) +
                  "".join(cells) + "  %.3f" % (tw / tn if tn else 0))
    print("\n  time (wall, one run on a shared machine: indicative only)")
    for lb, _ in tools:
        print("  %-26s %s" % (lb, open(os.path.join(run, lb + ".sec")).read().strip()))
    if sim is not None:
        print("  %-26s %s s" % ("sim_c -r " + simrun, open(os.path.join(run, "sim.sec")).read().strip()))


def main():
    a = sys.argv[1:]
    if a[:1] == ["plant"] and len(a) in (4, 5):
        plant(a[1], a[2], int(a[3]), int(a[4]) if len(a) > 4 else 13)
    elif a[:1] == ["report"] and len(a) >= 4:
        report(a[1], a[2], a[3:])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
