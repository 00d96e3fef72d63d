#!/usr/bin/python3
"""mkfix.py — fixture generator for tests/cli/run.sh (stdlib only).

Every fixture is made at run time from text Debian ships (/usr/share/common-licenses,
/usr/include) or from words generated here; nothing third-party is committed.

  mkfix.py library DIR            the main library: DIR/lib/... and DIR/meta.jsonl
  mkfix.py plant WORK OUT META --ntok N [--at F] [--transform T] [--encoding E]
                 [--jsonl FILE --id ID] [--uniq DIR]... [--junk 1]
                 [--need TEXT] [--bare 1]
                                  copies an N-token span of WORK (starting near fraction F of
                                  its words) into OUT between filler words, transformed by T;
                                  META (JSON) receives the expected offsets; --junk puts
                                  invalid UTF-8 bytes before the span; --need: the
                                  span must contain TEXT; --bare: no filler around it
  mkfix.py join OUT A B           OUT.txt = A.txt + B.txt, with OUT.a.json and OUT.b.json
  mkfix.py own DIR                a work of generated words, DIR/own.txt (for threshold tests)
  mkfix.py speclib DIR MB         a library of about MB megabytes of headers from /usr/include
  mkfix.py big FILE MB SPAN META  a single-line file of MB megabytes of license sentences with a
                                  unique generated sentence planted in the middle; SPAN receives
                                  a check input holding it, META its expected offsets
"""
import json
import os
import random
import re
import sys
import textwrap
import unicodedata

LICENSES = "/usr/share/common-licenses"
WORD = re.compile(r"[^\W\d_]+")
# A prose token: letters or digits, joined across inner apostrophes and hyphens.
TOKEN = re.compile(r"[^\W_]+(?:['\u2019-][^\W_]+)*")
GAP_OK = set(" \t\n,.;:()\"")


def read_license(name):
    with open(os.path.join(LICENSES, name), encoding="utf-8") as f:
        return f.read()


def write(path, data, mode="w", encoding="utf-8"):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    if "b" in mode:
        with open(path, mode) as f:
            f.write(data)
    else:
        with open(path, mode, encoding=encoding, newline="") as f:
            f.write(data)


def filler(seed, n=30):
    """Nonsense words that occur in no indexed work."""
    rng = random.Random(seed)
    return " ".join("zq" + "".join(rng.choice("bcdfghjklmnpvwx") for _ in range(6))
                    for _ in range(n))


# ==== the main library ====

def dashed(text):
    """GPL-2 with its ', ' turned into ' -- ' (a work that uses double-hyphen dashes)."""
    return text.replace(", ", " -- ")


LATIN1_PREFACE = (
    "Caf\u00e9 na\u00efve r\u00e9sum\u00e9 d\u00e9j\u00e0 vu: the fa\u00e7ade of the "
    "entr\u00e9e,\ncr\u00e8me br\u00fbl\u00e9e \u00e0 la carte; the se\u00f1or and his "
    "fianc\u00e9e at the soir\u00e9e\nof the prot\u00e9g\u00e9 ate a jalape\u00f1o "
    "pi\u00f1ata near the \u00fcber sm\u00f6rg\u00e5sbord while\nthe d\u00e9butante read "
    "her r\u00e9sum\u00e9 aloud in the caf\u00e9 of the ch\u00e2teau.\n\n")


def latin1_work():
    return LATIN1_PREFACE + read_license("MPL-1.1")


def jsonl_two_text():
    return ("\u00dcn\u00efc\u00f6d\u00e9 \u201cquoted\u201d preface \u2014 with escapes\t"
            "and a backslash \\ here.\n\n" + read_license("LGPL-2.1"))


def cmd_library(d):
    lib = os.path.join(d, "lib")
    # Written in reverse order so that directory order differs from sorted order.
    write(f"{lib}/gpl/b-gpl3-fork.txt", read_license("GPL-3"))
    write(f"{lib}/gpl/a-gpl3.txt", read_license("GPL-3"))
    write(f"{lib}/licenses/apache.txt", read_license("Apache-2.0"))
    write(f"{lib}/licenses/mpl2.txt", read_license("MPL-2.0"))
    write(f"{lib}/deep/er/artistic.txt", read_license("Artistic"))
    write(f"{lib}/dashes/gpl2-dashed.txt", dashed(read_license("GPL-2")))
    write(f"{lib}/latin1/mpl11.txt", latin1_work(), encoding="latin-1")
    write(f"{lib}/.hidden/bsd.txt", read_license("BSD"))
    write(f"{lib}/.cc0.txt", read_license("CC0-1.0"))
    write(f"{lib}/binary.dat", b"\x7fELF\x00\x01" + read_license("GPL-1").encode(), "wb")
    write(f"{lib}/empty.txt", "")
    one = {"id": "jsonl/one", "text": read_license("GFDL-1.3"), "title": "The GFDL",
           "author": "Free Software Foundation", "license": "GFDL-1.3-only",
           "copyright": "Copyright (C) 2000, 2001, 2002, 2007, 2008 Free Software Foundation, Inc.",
           "source": "licensed", "url": "https://example.invalid/gfdl"}
    two = {"id": "jsonl/two", "text": jsonl_two_text()}
    with open(os.path.join(d, "meta.jsonl"), "w", encoding="ascii") as f:
        f.write("\n")
        f.write(json.dumps(one, ensure_ascii=True) + "\n\n   \n")
        f.write(json.dumps(two, ensure_ascii=True) + "\n")


# ==== planting spans ====

def words_key(text):
    return " ".join(w.lower() for w in WORD.findall(text))


def lib_keys(dirs):
    keys = []
    for d in dirs:
        for root, _, files in os.walk(d):
            for fn in files:
                with open(os.path.join(root, fn), "rb") as f:
                    keys.append(" " + words_key(f.read().decode("utf-8", "replace")) + " ")
    return sorted(set(keys))  # identical copies of a work count once


def unique(span, keys, n=12):
    """No run of n words of the span occurs twice in the library (or in two works)."""
    ws = [w.lower() for w in WORD.findall(span)]
    for i in range(max(1, len(ws) - n + 1)):
        k = " " + " ".join(ws[i:i + n]) + " "
        if sum(x.count(k) for x in keys) > 1:
            return False
    return True


def gap_ok(gap, kind):
    return (set(gap) <= GAP_OK or (kind == "emdash" and gap == " -- ")
            or (kind == "apostrophe" and gap == "'"))


def whole_word_edge(text, i):
    """No word continues across position i (letters, digits, inner hyphens or apostrophes)."""
    return not (0 < i < len(text) and (text[i - 1].isalnum() or text[i - 1] in "-'\u2019")
                and (text[i].isalnum() or text[i] in "-'\u2019"))


def pick_span(text, ntok, at, need, keys, kind="exact", must=""):
    """(start, end) char offsets of ntok plain words starting near fraction `at`."""
    ws = [(m.start(), m.end()) for m in WORD.finditer(text)]
    first = int(len(ws) * at)
    for i in list(range(first, len(ws) - ntok)) + list(range(0, first)):
        span = ws[i:i + ntok]
        if any(not gap_ok(text[a[1]:b[0]], kind) for a, b in zip(span, span[1:])):
            continue
        s, e = span[0][0], span[-1][1]
        if not (whole_word_edge(text, s) and whole_word_edge(text, e)):
            continue
        if must not in text[s:e] or not need(text[s:e], [text[a:b] for a, b in span]):
            continue
        if keys is not None and not unique(text[s:e], keys):
            continue
        return s, e
    sys.exit(f"mkfix: no span of {ntok} tokens found for this transform")


def longest_inner(words):
    return max(words[1:-1], key=len)


NEEDS = {
    "exact": lambda s, w: True,
    "upper": lambda s, w: True,
    "curly": lambda s, w: s.count('"') >= 2,
    "emdash": lambda s, w: "--" in s,
    "reflow": lambda s, w: s.count("\n") >= 2,
    "hyphen": lambda s, w: len(longest_inner(w)) >= 7,
    "lineno": lambda s, w: s.count("\n") >= 2,
    "nocomma": lambda s, w: s.count(",") >= 2,
    "crlf": lambda s, w: s.count("\n") >= 2,
    "nfd": lambda s, w: any(ord(ch) > 127 for ch in s),
    "ligature": lambda s, w: "fi" in s,
    "apostrophe": lambda s, w: "'" in s,
}


def transform(kind, s, words):
    if kind in ("exact",):
        return s
    if kind == "upper":
        return s.upper()
    if kind == "curly":
        out, opening = [], True
        for ch in s:
            if ch == '"':
                out.append("\u201c" if opening else "\u201d")
                opening = not opening
            else:
                out.append(ch)
        return "".join(out)
    if kind == "emdash":
        return s.replace(" -- ", "\u2014")
    if kind == "reflow":
        t = textwrap.fill(" ".join(s.split()), width=37)
        assert t != s
        return t
    if kind == "hyphen":
        w = longest_inner(words)
        i = s.index(" " + w) + 1 if (" " + w) in s else s.index(w)
        h = len(w) // 2
        return s[:i + h] + "-\n" + s[i + h:]
    if kind == "lineno":
        lines = textwrap.wrap(" ".join(s.split()), width=50)
        return "\n".join(f"{98 + n}  {line}" for n, line in enumerate(lines))
    if kind == "nocomma":
        return s.replace(",", "")
    if kind == "crlf":
        return s.replace("\n", "\r\n")
    if kind == "nfd":
        t = unicodedata.normalize("NFD", s)
        assert t != s
        return t
    if kind == "ligature":  # U+FB01 LATIN SMALL LIGATURE FI, a compatibility character
        return s.replace("fi", "\ufb01")
    if kind == "apostrophe":
        return s.replace("'", "\u2019")
    sys.exit(f"mkfix: unknown transform {kind}")


def cmd_plant(args):
    work, out, meta = args.pop(0), args.pop(0), args.pop(0)
    opts = {"--ntok": "40", "--at": "0.5", "--transform": "exact", "--encoding": "utf-8",
            "--jsonl": None, "--id": None, "--junk": None, "--need": "", "--bare": None}
    uniq = []
    while args:
        k = args.pop(0)
        if k == "--uniq":
            uniq.append(args.pop(0))
        elif k in opts:
            opts[k] = args.pop(0)
        else:
            sys.exit(f"mkfix: unknown option {k}")
    enc = opts["--encoding"]
    if opts["--jsonl"]:
        with open(opts["--jsonl"], encoding="utf-8") as f:
            objs = [json.loads(line) for line in f if line.strip()]
        text = next(o["text"] for o in objs if o["id"] == opts["--id"])
        enc = "utf-8"
    else:
        with open(work, encoding=enc, newline="") as f:
            text = f.read()
    ntok, kind = int(opts["--ntok"]), opts["--transform"]
    s, e = pick_span(text, ntok, float(opts["--at"]), NEEDS[kind],
                     lib_keys(uniq) if uniq else None, kind, opts["--need"])
    span = text[s:e]
    t = transform(kind, span, WORD.findall(span))
    sep = "\n" if kind == "lineno" else " "
    prefix = filler(ntok * 7 + 1) + "." + sep
    suffix = " " + filler(ntok * 7 + 2) + ".\n"
    if opts["--bare"]:  # the span alone: it starts at byte 0 and ends the input
        prefix = suffix = ""
    if opts["--junk"]:  # invalid UTF-8 before the span: \xff \xfe, a lone continuation byte
        prefix = "\udcff\udcfe\udc80 " + prefix
    data = prefix + t + suffix
    write(out, data.encode("utf-8", "surrogateescape"), "wb")
    first = next(i for i, ch in enumerate(t) if ch.isalpha())
    last = max(i for i, ch in enumerate(t) if ch.isalpha()) + 1
    blen = lambda x: len(x.encode("utf-8", "surrogateescape"))
    m = {
        "out_start": blen(prefix + t[:first]), "out_end": blen(prefix + t[:last]),
        "src_start": len(text[:s].encode(enc)), "src_end": len(text[:e].encode(enc)),
        "tokens": len(TOKEN.findall(span)), "first_word": WORD.findall(span)[0], "last_word": WORD.findall(span)[-1],
        "transform": kind, "encoding": enc,
    }
    write(meta, json.dumps(m))


# ==== other fixtures ====

VOCAB = ("amber basil cedar dune ember fjord glade heron iris juniper kestrel lagoon meadow "
         "nectar orchid pebble quarry raven sorrel thistle umber violet willow yarrow zephyr "
         "alder birch clover dahlia elm fern gorse hazel ivy jasmine kelp lichen moss nettle "
         "oak poppy reed sage tansy vetch wren").split()


def cmd_own(d):
    rng = random.Random(12)
    words = [rng.choice(VOCAB) for _ in range(400)]
    lines = [" ".join(words[i:i + 10]) + "." for i in range(0, len(words), 10)]
    write(os.path.join(d, "own.txt"), "\n".join(lines) + "\n")


def cmd_speclib(d, mb):
    limit, total = int(float(mb) * 1e6), 0
    paths = []
    for root, dirs, files in os.walk("/usr/include"):
        dirs.sort()
        paths += [os.path.join(root, f) for f in sorted(files) if f.endswith(".h")]
    for p in sorted(paths):
        if total >= limit:
            break
        if os.path.islink(p) or not os.path.isfile(p):
            continue
        with open(p, "rb") as f:
            data = f.read()
        if not data or b"\0" in data[:8000]:
            continue
        rel = os.path.relpath(p, "/usr/include").replace("/", "__")
        write(os.path.join(d, rel), data, "wb")
        total += len(data)
    if total < limit:
        sys.exit(f"mkfix: /usr/include holds only {total} bytes of headers")


def cmd_join(out, a, b):
    """OUT.txt = A.txt + B.txt; OUT.a.json and OUT.b.json: their spans' offsets in OUT.txt."""
    with open(a + ".txt", "rb") as f:
        da = f.read()
    with open(b + ".txt", "rb") as f:
        db = f.read()
    write(out + ".txt", da + db, "wb")
    ma, mb = load_json(a + ".json"), load_json(b + ".json")
    mb["out_start"] += len(da)
    mb["out_end"] += len(da)
    write(out + ".a.json", json.dumps(ma))
    write(out + ".b.json", json.dumps(mb))


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def cmd_big(path, mb, span_path, meta):
    sentences = []
    for name in sorted(os.listdir(LICENSES)):
        text = read_license(name)
        sentences += [" ".join(s.split()) for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]
    rng = random.Random(200)
    planted = " ".join(rng.choice(VOCAB) for _ in range(40))
    target = int(float(mb) * 1024 * 1024)
    chunk = " ".join(sentences) + " "
    with open(path, "w", encoding="utf-8") as f:
        n = 0
        half = target // 2
        while n + len(chunk) <= half:
            f.write(chunk)
            n += len(chunk)
        f.write(chunk[:half - n])
        n = half
        # Start the planted sentence at a word boundary.
        f.write(" The planted sentence reads " + planted + " and that is all. ")
        src_start = n + len(" The planted sentence reads ")
        n += len(" The planted sentence reads " + planted + " and that is all. ")
        while n + len(chunk) <= target:
            f.write(chunk)
            n += len(chunk)
        f.write(chunk[:target - n].rstrip() + ".")
    prefix = filler(991) + " "
    write(span_path, prefix + planted + " " + filler(992) + "\n")
    write(meta, json.dumps({"out_start": len(prefix), "out_end": len(prefix) + len(planted),
                            "src_start": src_start, "src_end": src_start + len(planted),
                            "tokens": 40, "first_word": planted.split()[0],
                            "last_word": planted.split()[-1], "transform": "exact"}))


def main():
    a = sys.argv[1:]
    if not a:
        sys.exit(__doc__)
    cmd = a.pop(0)
    if cmd == "library":
        cmd_library(*a)
    elif cmd == "plant":
        cmd_plant(a)
    elif cmd == "join":
        cmd_join(*a)
    elif cmd == "own":
        cmd_own(*a)
    elif cmd == "speclib":
        cmd_speclib(*a)
    elif cmd == "big":
        cmd_big(*a)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
