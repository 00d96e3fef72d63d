#!/usr/bin/python3
"""plant.py CORPUS OUT N [SEED] — makes N model-like outputs with planted recitations.

CORPUS holds lib/ (indexed works; ids are "lib/..." when indexed from CORPUS) and held/ (never
indexed). Each output is about 4 KB: filler drawn from held/ with 1-3 planted spans copied from
random works of lib/, each 12-300 tokens long (a length bucket is drawn uniformly from 12-19,
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

W = r"(?:[^\W_]|[\u0300-\u036f])"
APOS_HY = "['\u2018\u2019\u02bc\uff07\\-\u00ad\u2010\u2011]"
HY = "[\\-\u00ad\u2010\u2011]"
NL = "(?:\r\n|[\n\r\v\f\x85\u2028\u2029])"
TOKEN = re.compile(
    W + "+(?:(?:" + APOS_HY + "|" + HY + "[ \t]*" + NL + "[ \t]*(?:[0-9]{1,3}[ \t]+)?)" + W + "+)*")
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
        a, b = m.start(), m.end()
        if SHORTNUM.match(m.group()):
            ls = max(s.rfind("\n", 0, a), s.rfind("\r", 0, a))
            if s[ls + 1:a].strip(" \t") == "" and (b == len(s) or s[b] in " \t\n\r\v\f"):
                continue  # line-number furniture
        out.append((a, b))
    return out


JOIN = re.compile(HY + "[ \t]*" + NL + "[ \t]*(?:[0-9]{1,3}[ \t]+)?|" + APOS_HY)


def norm_words(data, a, b):
    """The normalized words of bytes [a, b) of a UTF-8 text, read the way recite's prose
    tokenizer reads them (the line containing `a` gives the line-start context): apostrophes,
    hyphens and line breaks inside words dropped, line-number furniture skipped, NFKD +
    case folding. Used to tell whether a planted copy is still a normalized copy."""
    ls = data.rfind(b"\n", 0, a) + 1
    pre = len(data[ls:a].decode("utf-8", "replace"))
    s = data[ls:b].decode("utf-8", "replace")
    out = []
    for x, y in tokens(s):
        if x >= pre:
            w = JOIN.sub("", s[x:y])
            out.append(unicodedata.normalize("NFKD", w).casefold())
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


def pick_span(rng, lib, ntok):
    """Returns (work, src_start, src_end, text, at_line_start) of ntok tokens from a random work."""
    for _ in range(10000):
        work = rng.choice(lib.paths)
        s = lib.text(work)
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


def main():
    corpus, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 7
    rng = random.Random(seed)
    lib, held = Files(corpus, "lib"), Files(corpus, "held")
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
            buf += filler(rng, held, max(60, int(budget * shares[j]))).encode("utf-8")
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
        buf += filler(rng, held, max(60, int(budget * shares[-1]))).encode("utf-8") + b"\n"
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
    print("planted %d spans in %d outputs (%.1f MB)" % (
        nsp, n, sum(t["bytes"] for t in truth) / 1e6))


if __name__ == "__main__":
    main()
