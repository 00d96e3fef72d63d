#!/usr/bin/python3
"""licensecheck_compare.py — the corpus and the comparison of bench/cmi.sh (issue 5): recite's
license identification (`recite license --json`) against Debian's licensecheck.

  licensecheck_compare.py sample OUT.tsv NAME=DIR:COUNT...
      a deterministic sample of COUNT text files under each DIR (regular, not empty, no NUL
      byte in the first 8000 bytes, at most 1 MB), as "NAME<TAB>path" lines
  licensecheck_compare.py compare FILES.tsv LICENSECHECK.txt RECITE.json [--show N]
      maps licensecheck's names (`-m --shortname-scheme=debian,spdx`: "GPL-2+", "Expat",
      "BSD-3-clause and/or GPL-2", "UNKNOWN", ...) to SPDX and prints how often the two agree,
      per source and overall, then the first N disagreements

Agreement classes: both unknown; same (the same set of licenses after normalization: case,
order, exceptions, deprecated ids, "GPL-2.0+" = "GPL-2.0-or-later"); same family (the same
licenses up to -only/-or-later or a version licensecheck does not give, "GPL" ~ "GPL-2.0");
partial (one names licenses the other does not, besides a common one: a dual license, or a
second license further down the file); recite only; licensecheck only; disagree.
"""
import hashlib
import json
import os
import re
import sys

# licensecheck's Debian short names (and the odd verbose one) -> SPDX. Names not listed here
# are taken as SPDX ids already (licensecheck falls back to its SPDX scheme).
DEBIAN_TO_SPDX = {
    "Expat": "MIT",
    "MIT/X11": "MIT",
    "BSD-2-clause": "BSD-2-Clause",
    "BSD-3-clause": "BSD-3-Clause",
    "BSD-4-clause": "BSD-4-Clause",
    "BSD-3-clause~Cisco": "BSD-3-Clause",
    "BSD-2-clause~FreeBSD": "BSD-2-Clause-FreeBSD",
    "BSD-3-clause~LBNL": "BSD-3-Clause-LBNL",
    "ISC": "ISC",
    "Zlib": "Zlib",
    "Apache-2.0": "Apache-2.0",
    "Apache-1.1": "Apache-1.1",
    "Artistic": "Artistic-1.0",
    "Artistic-2.0": "Artistic-2.0",
    "Perl": "Artistic-1.0-Perl OR GPL-1.0-or-later",
    "public-domain": "public-domain",  # no SPDX id; compared as a name
    "CC0-1.0": "CC0-1.0",
    "MPL-1.1": "MPL-1.1",
    "MPL-2.0": "MPL-2.0",
    "PSF-2.0": "PSF-2.0",
    "Python-2.0": "Python-2.0",
    "BSL-1.0": "BSL-1.0",
    "Unicode-DFS-2016": "Unicode-DFS-2016",
    "WTFPL": "WTFPL",
    "FSFAP": "FSFAP",
    "FSFUL": "FSFUL",
    "FSFULLR": "FSFULLR",
    "FTL": "FTL",
    "NTP": "NTP",
    "curl": "curl",
    "OpenSSL": "OpenSSL",
    "SSLeay": "SSLeay-standalone",
}

GNU = re.compile(r"^(A?GPL|LGPL|GFDL)(-(\d+(\.\d+)?))?(\+)?$")
DEPRECATED = {"GPL-1.0": "GPL-1.0-only", "GPL-2.0": "GPL-2.0-only", "GPL-3.0": "GPL-3.0-only",
              "LGPL-2.0": "LGPL-2.0-only", "LGPL-2.1": "LGPL-2.1-only",
              "LGPL-3.0": "LGPL-3.0-only", "AGPL-3.0": "AGPL-3.0-only",
              "GFDL-1.1": "GFDL-1.1-only", "GFDL-1.2": "GFDL-1.2-only",
              "GFDL-1.3": "GFDL-1.3-only"}


def gnu_spdx(name):
    """'GPL-2+' -> 'GPL-2.0-or-later', 'LGPL-2.1' -> 'LGPL-2.1-only', 'GPL' -> 'GPL'."""
    m = GNU.match(name)
    if not m:
        return None
    fam, ver, plus = m.group(1), m.group(3), m.group(5)
    if not ver:
        return fam  # no version: a family only
    if "." not in ver:
        ver += ".0"
    return f"{fam}-{ver}-{'or-later' if plus else 'only'}"


def one_license(name):
    """One licensecheck name (no and/or) as SPDX; None for unknown."""
    name = name.strip()
    if not name or "UNKNOWN" in name:
        return None
    if name in DEBIAN_TO_SPDX:
        return DEBIAN_TO_SPDX[name]
    # "GPL-2 with Linux-syscall-note exception" and the like: the exception is kept as WITH
    m = re.match(r"^(\S+) with (\S+?)(?: exception)?$", name)
    if m:
        base = one_license(m.group(1))
        return f"{base} WITH {m.group(2)}" if base else None
    return gnu_spdx(name) or name


def from_licensecheck(field):
    """licensecheck's field: 'A and/or B' lists several licenses found in the file; taken as
    an OR expression (of its known parts)."""
    field = field.replace("*No copyright*", "").strip()
    parts = [one_license(p) for p in re.split(r"\s+and/or\s+|\s+or\s+|\s+and\s+", field)]
    parts = [p for p in parts if p]
    return " OR ".join(dict.fromkeys(parts)) if parts else None


def ids_of(expr):
    """An SPDX expression as a set of normalized, case-folded license ids (WITH exceptions
    dropped; "GPL-2.0+" = "GPL-2.0-or-later"; deprecated "GPL-2.0" = "GPL-2.0-only")."""
    if not expr:
        return frozenset()
    out = set()
    for p in re.split(r"\s+(?:OR|AND)\s+", expr.replace("(", " ").replace(")", " "), flags=re.I):
        p = re.sub(r"\s+WITH\s+.*$", "", p.strip(), flags=re.I)
        if not p:
            continue
        if p.endswith("+"):
            p = p[:-1] + "-or-later"
        p = DEPRECATED.get(p, p)
        out.add(p.lower())
    return frozenset(out)


def family(lid):
    """'gpl-2.0-or-later' -> 'gpl-2.0'; 'gpl' -> 'gpl'; 'bsd-3-clause-hp' -> itself."""
    return re.sub(r"-(only|or-later)$", "", lid)


def loose(lid):
    """The family without a version: what licensecheck's "GPL" or "LGPL" names."""
    return re.sub(r"-\d+(\.\d+)*$", "", family(lid))


def related(x, y):
    """The same license up to -only/-or-later, or a version one of them does not give."""
    fx, fy = family(x), family(y)
    return fx == fy or (loose(x) == loose(y) and (fx == loose(x) or fy == loose(y)))


def classify(rc, lc):
    a, b = ids_of(rc), ids_of(lc)
    if not a and not b:
        return "both unknown"
    if not b:
        return "recite only"
    if not a:
        return "licensecheck only"
    if a == b:
        return "same"
    a_in_b = all(any(related(x, y) for y in b) for x in a)
    b_in_a = all(any(related(y, x) for x in a) for y in b)
    if a_in_b and b_in_a:
        return "same family"
    if any(related(x, y) for x in a for y in b):
        return "partial"
    return "disagree"


CLASSES = ["both unknown", "same", "same family", "partial", "recite only",
           "licensecheck only", "disagree"]


# ==== sample ====

def is_text(path):
    try:
        st = os.stat(path)
        if not os.path.isfile(path) or st.st_size == 0 or st.st_size > 1 << 20:
            return False
        with open(path, "rb") as f:
            return b"\0" not in f.read(8000)
    except OSError:
        return False


def sample(out, specs):
    rows = []
    for spec in specs:
        name, rest = spec.split("=", 1)
        d, count = rest.rsplit(":", 1)
        paths = []
        for root, dirs, files in os.walk(d):
            dirs[:] = sorted(x for x in dirs if not x.startswith(".") and x != "__pycache__")
            paths += [os.path.join(root, f) for f in files if not f.startswith(".")]
        # A hash order: deterministic, spread over the whole tree, and the same wherever the
        # tree is (the kernel sample is extracted under BENCH_DIR).
        paths.sort(key=lambda p: hashlib.sha1(
            os.path.relpath(p, d).encode("utf-8", "surrogateescape")).digest())
        got = 0
        for p in paths:
            if got >= int(count):
                break
            if "\t" in p or "\n" in p or not is_text(p):
                continue
            rows.append((name, p))
            got += 1
    with open(out, "w", encoding="utf-8", errors="surrogateescape") as f:
        for name, p in rows:
            f.write(f"{name}\t{p}\n")
    print(f"{len(rows)} files", file=sys.stderr)


# ==== compare ====

def spdx_lists():
    """The SPDX license and exception ids (the npm packages scripts/deps.sh installs)."""
    data = os.environ.get("RECITE_DATA", "/usr/local/share/recite")
    try:
        ids = set(json.load(open(f"{data}/spdx-license-ids/index.json")))
        old = set(json.load(open(f"{data}/spdx-license-ids/deprecated.json")))
        exc = set(json.load(open(f"{data}/spdx-exceptions/index.json")))
    except OSError:
        return None
    return ids, old, exc


def spdx_check(rows):
    """How many of recite's answers are expressions, and how many name an id that is not a
    current SPDX id (answers from an SPDX-License-Identifier tag, the file's own words, apart)."""
    lists = spdx_lists()
    if not lists:
        print("(no SPDX id lists: scripts/deps.sh installs them)")
        return
    ids, old, exc = lists
    exprs = bad = bad_tag = 0
    shown = []
    for _, p, _, rid, _, _, r in rows:
        if not rid:
            continue
        exprs += bool(re.search(r"\s(AND|OR|WITH)\s", rid))
        after_with = False
        for tok in re.split(r"[\s()]+", rid):
            if tok in ("AND", "OR"):
                after_with = False
            elif tok == "WITH":
                after_with = True
            elif tok and tok not in (exc if after_with else ids) and not tok.startswith(
                    "LicenseRef-"):
                if r.get("from") == "spdx":
                    bad_tag += tok not in old  # a deprecated id is still on the list
                else:
                    bad += 1
                    shown.append(f"{p}: {rid}")
                break
    print(f"\nrecite answers that are expressions (AND/OR/WITH): {exprs}")
    print(f"recite answers naming an id not on the SPDX list: {bad} made by recite, "
          f"{bad_tag} from SPDX tags as written")
    for s in shown[:10]:
        print(f"  {s}")


def compare(files_tsv, lc_txt, rc_json, show):
    files = [ln.rstrip("\n").split("\t", 1) for ln in open(files_tsv, encoding="utf-8",
                                                          errors="surrogateescape")]
    lc = {}
    for ln in open(lc_txt, encoding="utf-8", errors="surrogateescape"):
        if "\t" in ln:
            p, name = ln.rstrip("\n").split("\t", 1)
            lc[p] = name
    rc = {}
    text = open(rc_json, encoding="utf-8", errors="surrogateescape").read()
    dec, pos = json.JSONDecoder(), 0
    while pos < len(text):  # one array per `recite license` run (xargs may make several)
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos == len(text):
            break
        doc, pos = dec.raw_decode(text, pos)
        for r in doc if isinstance(doc, list) else [doc]:
            rc[r["file"]] = r
    counts = {}
    rows = []
    for src, p in files:
        lname = lc.get(p, "UNKNOWN")
        lspdx = from_licensecheck(lname)
        r = rc.get(p, {})
        rid = r.get("license")
        cls = classify(rid, lspdx)
        for key in (src, "all"):
            counts.setdefault(key, dict.fromkeys(CLASSES, 0))[cls] += 1
        rows.append((src, p, cls, rid, lname, lspdx, r))
    srcs = [s for s in dict.fromkeys(s for s, _ in files)] + ["all"]
    w = max(len(c) for c in CLASSES)
    print(f"{'':{w}}  " + "  ".join(f"{s:>8}" for s in srcs))
    for c in CLASSES:
        print(f"{c:{w}}  " + "  ".join(f"{counts[s][c]:>8}" for s in srcs))
    total = {s: sum(counts[s].values()) for s in srcs}
    print(f"{'files':{w}}  " + "  ".join(f"{total[s]:>8}" for s in srcs))
    agree = {s: counts[s]["both unknown"] + counts[s]["same"] + counts[s]["same family"]
             for s in srcs}
    print(f"{'agreement':{w}}  " + "  ".join(
        f"{100.0 * agree[s] / max(1, total[s]):>7.1f}%" for s in srcs))
    both = {s: total[s] - counts[s]["both unknown"] - counts[s]["recite only"]
            - counts[s]["licensecheck only"] for s in srcs}
    print(f"{'same|both known':{w}}  " + "  ".join(
        f"{100.0 * (counts[s]['same'] + counts[s]['same family']) / max(1, both[s]):>7.1f}%"
        for s in srcs))
    spdx_check(rows)
    for cls in ("disagree", "partial", "licensecheck only", "recite only", "same family"):
        sel = [x for x in rows if x[2] == cls]
        if not sel:
            continue
        print(f"\n{cls}: {len(sel)} (first {min(show, len(sel))})")
        for src, p, _, rid, lname, lspdx, r in sel[:show]:
            how = f"{r.get('from')} {r.get('score')}" if rid else ""
            print(f"  {p}\n      recite: {rid or '-'} ({how})   licensecheck: {lname}"
                  f"{'  = ' + lspdx if lspdx and lspdx != lname else ''}")


def main(argv):
    if len(argv) >= 3 and argv[1] == "sample":
        sample(argv[2], argv[3:])
    elif len(argv) >= 5 and argv[1] == "compare":
        show = 30
        if "--show" in argv:
            show = int(argv[argv.index("--show") + 1])
        compare(argv[2], argv[3], argv[4], show)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
