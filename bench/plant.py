#!/usr/bin/python3
"""plant.py CORPUS OUT N [SEED] [--filler library|shuffled] — makes N model-like outputs with
planted recitations.

CORPUS holds lib/ (indexed works; ids are "lib/..." when indexed from CORPUS) and held/ (never
indexed). Each output is about 4 KB: filler with 1-3 planted spans copied from random works of
lib/. The filler comes from held/, in one of two ways:
  library   (default) passages of held-out files as they are. Held-out files share a lot of real
            text with the library (license boilerplate, man page translations, kernel headers):
            each output also holds some 50 genuine matches besides the planted spans.
  shuffled  words (whitespace-separated, at most 3 tokens each) drawn at random from held-out
            text, wrapped into lines of 40-100 characters: the vocabulary is kept, word n-grams
            are not, so the filler shares no 12-token run with the library except by rare chance.
The spans, their transforms and the layout (where the spans go, how much filler between them)
depend only on SEED, not on the filler: output i of both kinds holds the same planted spans at
comparable places. Spans are 12-300 tokens long (a length bucket is drawn uniformly from 12-19,
20-39, 40-99, 100-300, then a length in it). Half the spans are exact byte copies; the other
half get 1-3 of: case change, straight<->curly quotes, -- <-> em dash, reflowed whitespace, a
word hyphenated across a line break, line-number prefixes ("12  " on each line).

Writes OUT/outputs/NNNNN.txt, OUT/list.txt (their paths, one a line) and OUT/truth.json:
  [{"output": i, "file": path, "bytes": n,
    "spans": [{"work", "out_start", "out_end", "src_start", "src_end", "tokens", "kind",
               "transforms": [...], "bucket"}]}]
Token counting follows recite's prose tokenizer (words of letters/digits/marks; apostrophes
and hyphens inside words and hyphens across a line break join; a 1-3 digit number at the start
of a line is line-number furniture, not a token). Only the standard library.
"""
import json
import os
import random
import re
import sys
import unicodedata

# Ideographs and kana: one token each (as recite's tokenizer has them).
CJK_BMP = "\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
CJK_ASTRAL = "\U00020000-\U0003134f"
CJK = "[" + CJK_BMP + CJK_ASTRAL + "]"


def _marks():
    """The combining marks (categories Mn, Mc, Me) of the BMP as a character class body of
    ranges; Python's \\w leaves them out, recite counts them as word characters. (Marks beyond
    the BMP, of historic scripts, are left out: a class holding them makes every match slow.)"""
    out = []
    for c in range(0x300, 0x10000):
        if unicodedata.category(chr(c))[0] == "M":
            if out and out[-1][1] == c - 1:
                out[-1][1] = c
            else:
                out.append([c, c])
    return "".join(chr(a) if a == b else chr(a) + "-" + chr(b) for a, b in out)


# Word characters: letters and digits (not CJK, not U+02BC, an apostrophe to recite) and marks.
W = "(?:[^\\W_" + CJK_BMP + CJK_ASTRAL + "\u02bc]|[" + _marks() + "])"
APOS_HY = "['\u2018\u2019\u02bc\uff07\\-\u00ad\u2010\u2011]"
HY = "[\\-\u00ad\u2010\u2011]"
NL = "(?:\r\n|[\n\r\v\f\x85\u2028\u2029])"
TOKEN = re.compile(
    W + "+(?:(?:" + APOS_HY + "|" + HY + "[ \t]*" + NL + "[ \t]*(?:[0-9]{1,3}[ \t]+)?)" + W + "+)*|"
    + CJK)
SHORTNUM = re.compile(r"[0-9]{1,3}\Z")
BUCKETS = [(12, 19), (20, 39), (40, 99), (100, 300)]
OUTPUT_BYTES = 4096


def bucket_name(n):
    for lo, hi in BUCKETS:
        if lo <= n <= hi:
            return "%d-%d" % (lo, hi)
    return "other"


def tokens(s):
    """Token spans (start, end) of s (char offsets), s starting at a line start."""
    out = []
    for m in TOKEN.finditer(s):
        a, b = m.span()
        if b - a <= 3 and SHORTNUM.match(s, a, b):
            ls = max(s.rfind("\n", 0, a), s.rfind("\r", 0, a))
            if s[ls + 1:a].strip(" \t") == "" and (b == len(s) or s[b] in " \t\n\r\v\f"):
                continue  # line-number furniture
        out.append((a, b))
    return out


JOIN = re.compile(HY + "[ \t]*" + NL + "[ \t]*(?:[0-9]{1,3}[ \t]+)?|" + APOS_HY)


def norm_words(data, a, b):
    """The normalized words of the tokens that start in bytes [a, b) of a UTF-8 text, read the
    way recite's prose tokenizer reads them in context: the line containing `a` gives the
    line-start context, the text after `b` up to the end of the next line the context that can
    change the last token (a word hyphenated across a line break continues; a 1-3 digit number
    alone at the end of a line is line-number furniture, "3)" is not). Apostrophes, hyphens and
    line breaks inside words dropped, line-number furniture skipped, NFKD + case folding. Used to
    tell whether a planted copy is still a normalized copy, and whether a match is genuine."""
    ls = data.rfind(b"\n", 0, a) + 1
    e = data.find(b"\n", b)
    e = data.find(b"\n", e + 1) if e >= 0 else -1
    e = len(data) if e < 0 else e
    pre = len(data[ls:a].decode("utf-8", "replace"))
    end = len(data[ls:b].decode("utf-8", "replace"))
    s = data[ls:e].decode("utf-8", "replace")
    out = []
    for x, y in tokens(s):
        if x >= end:
            break
        if x >= pre:
            w = s[x:y]
            if not w.isalnum():
                w = JOIN.sub("", w)
            out.append(w.lower() if w.isascii() else unicodedata.normalize("NFKD", w).casefold())
    return out


class Files:
    def __init__(self, root, sub):
        self.root = root
        self.paths = []
        for dp, dn, fn in os.walk(os.path.join(root, sub)):
            dn.sort()
            for f in sorted(fn):
                self.paths.append(os.path.relpath(os.path.join(dp, f), root))
        self.cache = {}

    def text(self, rel):
        t = self.cache.get(rel)
        if t is None:
            with open(os.path.join(self.root, rel), "rb") as f:
                t = f.read().decode("utf-8")
            if len(self.cache) > 64:
                self.cache.clear()
            self.cache[rel] = t
        return t


def extracted(s, path):
    """Whether recite indexes the text extracted from this file rather than its bytes (an HTML
    page: src/build/extract.c's rule): a span of its markup is no span of the indexed text."""
    h = s[:4096].lstrip("\ufeff")
    while True:
        h = h.lstrip(" \t\r\n")
        for a, b in (("<!--", "-->"), ("<?xml", "?>")):
            if h.startswith(a) and b in h:
                h = h[h.index(b) + len(b):]
                break
        else:
            break
    low = h[:14].lower()
    return low.startswith("<!doctype html") or low.startswith("<html") or (
        h.startswith("<") and path.lower().endswith((".html", ".htm", ".xhtml")))


def pick_span(rng, lib, ntok):
    """Returns (work, src_start, src_end, text, at_line_start) of ntok tokens from a random work
    whose text recite indexes as it is."""
    for _ in range(10000):
        work = rng.choice(lib.paths)
        s = lib.text(work)
        if extracted(s, work):
            continue
        if len(s) < ntok * 3:
            continue
        off = rng.randrange(len(s))
        ws = s.rfind("\n", 0, off) + 1
        we = min(len(s), ws + max(20000, ntok * 60))
        if we < len(s):
            cut = s.rfind("\n", ws, we)
            if cut <= ws:
                continue
            we = cut + 1
        toks = tokens(s[ws:we])
        if len(toks) < ntok:
            continue
        i = rng.randrange(len(toks) - ntok + 1)
        a, b = ws + toks[i][0], ws + toks[i + ntok - 1][1]
        if b - a > max(400, 14 * ntok):
            continue  # tables of numbers, long identifiers: not the kind of text we want here
        text = s[a:b]
        if "\0" in text:
            continue
        src_start = len(s[:a].encode("utf-8"))
        src_end = src_start + len(text.encode("utf-8"))
        line_start = s[s.rfind("\n", 0, a) + 1:a].strip(" \t") == ""
        return work, src_start, src_end, text, line_start
    raise SystemExit("plant: could not find a span of %d tokens" % ntok)


def t_case(rng, s):
    return rng.choice([str.upper, str.lower, str.title])(s)


def t_quotes(rng, s):
    if any(c in s for c in "\u2018\u2019\u201c\u201d"):
        return (s.replace("\u2018", "'").replace("\u2019", "'")
                 .replace("\u201c", '"').replace("\u201d", '"'))
    s = s.replace("'", "\u2019")
    out, opening = [], True
    for c in s:
        if c == '"':
            out.append("\u201c" if opening else "\u201d")
            opening = not opening
        else:
            out.append(c)
    return "".join(out)


def t_dashes(rng, s):
    if "\u2014" in s:
        return s.replace("\u2014", "--")
    return s.replace("--", "\u2014")


def t_reflow(rng, s):
    words = s.split()
    width = rng.randint(40, 100)
    lines, cur = [], ""
    for w in words:
        if cur and len(cur) + 1 + len(w) > width:
            lines.append(cur)
            cur = w
        else:
            cur = cur + " " + w if cur else w
    lines.append(cur)
    return "\n".join(lines)


def t_hyphenate(rng, s):
    # a word of 6+ letters, not CJK (ideographs are one token each: nothing to hyphenate)
    cands = [m for m in re.finditer(r"(?<![\w'\u2019-])[^\W\d_\u3040-\u30ff\u3400-\u4dbf"
                                    r"\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]{6,}"
                                    r"(?![\w'\u2019-])", s)]
    if not cands:
        return s
    m = rng.choice(cands)
    k = rng.randint(3, len(m.group()) - 3)
    return s[:m.start() + k] + "-\n" + s[m.start() + k:]


def t_linenum(rng, s, first_at_line_start):
    n = rng.randint(1, 980)
    lines = s.split("\n")
    out = []
    for i, line in enumerate(lines):
        if i > 0 or first_at_line_start:
            out.append("%d  %s" % (n, line))
            n = n % 999 + 1
        else:
            out.append(line)
    return "\n".join(out)


TRANSFORMS = ["case", "quotes", "dashes", "reflow", "hyphenate", "linenum"]


def normalize(rng, text, at_line_start):
    """Applies 1-3 transforms that change the text; returns (new text, prefix chars, names)."""
    chosen = set(rng.sample(TRANSFORMS, rng.randint(1, 3)))
    for _ in range(10):
        out, applied = text, []
        for name in TRANSFORMS:  # fixed order: line numbers go last
            if name not in chosen:
                continue
            if name == "linenum":
                new = t_linenum(rng, out, at_line_start)
            else:
                new = {"case": t_case, "quotes": t_quotes, "dashes": t_dashes,
                       "reflow": t_reflow, "hyphenate": t_hyphenate}[name](rng, out)
            if new != out:
                applied.append(name)
            out = new
        if applied:
            prefix = 0
            if "linenum" in applied and at_line_start:
                prefix = out.index("  ") + 2  # the first line's number is not part of the span
            return out, prefix, applied
        chosen.add(rng.choice([t for t in TRANSFORMS if t not in chosen] or TRANSFORMS))
    out = t_linenum(rng, text, True)
    return out, out.index("  ") + 2, ["linenum"]


def filler(rng, held, nchars):
    """About nchars characters of held-out text, starting and ending at whitespace."""
    for _ in range(1000):
        s = held.text(rng.choice(held.paths))
        if len(s) < 200:
            continue
        off = rng.randrange(max(1, len(s) - nchars))
        m = re.compile(r"\s").search(s, off)
        if not m:
            continue
        a = m.end()
        b = min(len(s), a + nchars)
        while b > a and not s[b - 1].isspace() and b < len(s):
            b -= 1
        piece = s[a:b].strip()
        if len(piece) >= min(nchars // 2, 100):
            return piece
    return "lorem " * (nchars // 6)


def word_pool(rng, held, nwords=300000):
    """Words (runs of non-space) of held-out text, read from random places of random held-out
    files. A word of more than 3 tokens (a path, a URL, a dotted name) is left out: it could
    carry a run of library text by itself."""
    pool = []
    for _ in range(100000):
        if len(pool) >= nwords:
            break
        s = held.text(rng.choice(held.paths))
        off = rng.randrange(max(1, len(s) - 4000))
        words = s[off:off + 4000].split()[1:-1]  # the first and last may be cut
        pool.extend(w for w in words if len(w) <= 40 and w.isprintable() and
                    len(TOKEN.findall(w)) <= 3)
    if not pool:
        raise SystemExit("plant: no held-out words")
    return pool


def shuffled_filler(rng, pool, nchars):
    """About nchars characters of words drawn at random from the pool, in lines of 40-100."""
    out, line, n = [], [], 0
    width = rng.randint(40, 100)
    while n < nchars:
        w = rng.choice(pool)
        line.append(w)
        n += len(w) + 1
        if sum(len(x) + 1 for x in line) > width:
            out.append(" ".join(line))
            line = []
            width = rng.randint(40, 100)
    if line:
        out.append(" ".join(line))
    return "\n".join(out)


def no_join(s):
    """Filler that goes before a span: a hyphen (or apostrophe) ending it would join its last
    word with the span's first word across the line break ("foo-\\nBar" is one token)."""
    return re.sub(APOS_HY + "+$", "", s.rstrip()) or "filler"


def main():
    args, mode = sys.argv[1:], "library"
    if "--filler" in args:
        i = args.index("--filler")
        if i + 1 >= len(args) or args[i + 1] not in ("library", "shuffled"):
            raise SystemExit("plant: --filler library|shuffled")
        mode = args[i + 1]
        del args[i:i + 2]
    if len(args) not in (3, 4):
        raise SystemExit("usage: plant.py CORPUS OUT N [SEED] [--filler library|shuffled]")
    corpus, out, n = args[0], args[1], int(args[2])
    seed = int(args[3]) if len(args) > 3 else 7
    rng = random.Random(seed)  # spans and layout
    frng = random.Random(seed * 1000003 + 1)  # filler text
    lib, held = Files(corpus, "lib"), Files(corpus, "held")
    if mode == "shuffled":
        pool = word_pool(random.Random(seed * 1000003 + 2), held)
        make_filler = lambda nchars: shuffled_filler(frng, pool, nchars)
    else:
        make_filler = lambda nchars: filler(frng, held, nchars)
    os.makedirs(os.path.join(out, "outputs"), exist_ok=True)
    truth, paths = [], []
    for i in range(n):
        k = rng.randint(1, 3)
        spans = []
        span_bytes = 0
        for j in range(k):
            lo, hi = rng.choice(BUCKETS)
            ntok = rng.randint(lo, hi)
            work, ss, se, text, at_ls = pick_span(rng, lib, ntok)
            kind = "exact" if rng.random() < 0.5 else "normalized"
            prefix, applied = 0, []
            if kind == "normalized":
                text, prefix, applied = normalize(rng, text, at_ls)
            spans.append(dict(work=work, src_start=ss, src_end=se, tokens=ntok, kind=kind,
                              transforms=applied, bucket=bucket_name(ntok), text=text,
                              prefix=prefix, at_line_start=at_ls))
            span_bytes += len(text.encode("utf-8"))
            if span_bytes > 3000:
                break
        budget = max(OUTPUT_BYTES - span_bytes, 150 * (len(spans) + 1))
        cuts = sorted(rng.uniform(0, 1) for _ in range(len(spans)))
        shares = [b - a for a, b in zip([0.0] + cuts, cuts + [1.0])]
        buf = bytearray()
        for j, sp in enumerate(spans):
            buf += no_join(make_filler(max(60, int(budget * shares[j])))).encode("utf-8")
            # A span that starts a line in its work starts a line here too; one that starts
            # mid-line follows the filler on the same line (line-number furniture depends on it).
            buf += b"\n" if sp["at_line_start"] else b" "
            start = len(buf)
            body = sp.pop("text").encode("utf-8")
            buf += body
            sp["out_start"] = start + sp["prefix"]  # the prefix is ASCII
            sp["out_end"] = len(buf)
            del sp["prefix"], sp["at_line_start"]
            buf += b"\n" if rng.random() < 0.5 else b" "
        buf += make_filler(max(60, int(budget * shares[-1]))).encode("utf-8") + b"\n"
        path = os.path.join(out, "outputs", "%05d.txt" % i)
        with open(path, "wb") as f:
            f.write(buf)
        paths.append(path)
        truth.append({"output": i, "file": path, "bytes": len(buf), "spans": spans})
    with open(os.path.join(out, "list.txt"), "w") as f:
        f.write("".join(p + "\n" for p in paths))
    with open(os.path.join(out, "truth.json"), "w") as f:
        json.dump(truth, f, indent=0)
    nsp = sum(len(t["spans"]) for t in truth)
    print("planted %d spans in %d outputs (%.1f MB), %s filler" % (
        nsp, n, sum(t["bytes"] for t in truth) / 1e6, mode))


if __name__ == "__main__":
    main()
