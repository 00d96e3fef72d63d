#!/usr/bin/python3
"""check_json.py — assertions on recite's JSON output (stdlib only).

  check_json.py FILE EXPR...

FILE is parsed as JSON (a parse error fails). Each EXPR is a Python expression evaluated with
`r` bound to the parsed value and the helpers below; it fails when it is false or raises. Every
failure is printed on one line; the exit status is 1 if any EXPR failed (2 if FILE is not JSON).
"""
import json
import re
import sys

CONTRACT_MATCH = {"work", "output", "source", "tokens", "kind", "similarity", "common", "also"}
CONTRACT_WORK = {"work", "title", "author", "license", "copyright", "cmi", "source", "coverage",
                 "longest_tokens"}
CONTRACT_TOP = {"input", "verdict", "tokens", "matches", "works", "truncated"}
KINDS = {"exact", "normalized", "near"}
VERDICTS = {"pass", "cite", "flag", "block"}
CMI = {"present", "absent", "altered", "none"}
SOURCES = {"purchased", "scanned", "licensed", "public-domain", "shadow-library", "unknown"}


class Fail(Exception):
    pass


def need(cond, msg):
    if not cond:
        raise Fail(msg)
    return True


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def data(path):
    with open(path, "rb") as f:
        return f.read()


def count_words(path, encoding="utf-8"):
    """Words of a file as a prose tokenizer would count them (apostrophes and hyphens inside
    words join; numbers are words)."""
    with open(path, encoding=encoding, errors="replace") as f:
        return len(re.findall(r"[^\W_]+(?:['\u2019-][^\W_]+)*", f.read()))


def matches_for(r, work):
    return [m for m in r["matches"] if m["work"] == work]


def work_entry(r, work):
    ws = [w for w in r["works"] if w["work"] == work]
    need(len(ws) == 1, f"works[] has {len(ws)} entries for {work!r}: "
                       f"{[w['work'] for w in r['works']]}")
    return ws[0]


def shape(r):
    """Every field the contract names is present with the right type and range."""
    need(isinstance(r, dict), "report is not an object")
    need(CONTRACT_TOP <= set(r), f"missing top-level fields {CONTRACT_TOP - set(r)}")
    need(isinstance(r["input"], str), "input is not a string")
    need(r["verdict"] in VERDICTS, f"verdict {r['verdict']!r}")
    need(isinstance(r["tokens"], int) and r["tokens"] >= 0, "tokens")
    need(isinstance(r["truncated"], bool), "truncated is not a boolean")
    for m in r["matches"]:
        need(CONTRACT_MATCH <= set(m), f"match lacks {CONTRACT_MATCH - set(m)}")
        for k in ("output", "source"):
            need(isinstance(m[k]["start"], int) and isinstance(m[k]["end"], int)
                 and 0 <= m[k]["start"] < m[k]["end"], f"bad {k} range {m[k]}")
        need(m["kind"] in KINDS, f"kind {m['kind']!r}")
        need(isinstance(m["similarity"], (int, float)) and 0 <= m["similarity"] <= 1,
             f"similarity {m['similarity']!r}")
        need(isinstance(m["common"], bool), "common is not a boolean")
        need(isinstance(m["also"], list) and all(isinstance(a, str) for a in m["also"]),
             "also is not a list of strings")
        need(isinstance(m["tokens"], int) and m["tokens"] > 0, "match tokens")
    for w in r["works"]:
        need(CONTRACT_WORK <= set(w), f"work entry lacks {CONTRACT_WORK - set(w)}")
        need(w["source"] in SOURCES, f"works[].source {w['source']!r}")
        need(isinstance(w["coverage"], (int, float)) and 0 <= w["coverage"] <= 1, "coverage")
    need(set(m["work"] for m in r["matches"]) == set(w["work"] for w in r["works"]),
         "works[] does not list exactly the matched works")
    need(r["matches"] or r["verdict"] == "pass",
         f"verdict {r['verdict']} with {len(r['matches'])} matches")
    # The verdict is the most severe action of the works (allow is "pass"), under any policy.
    severity = ["allow", "cite", "flag", "block"]
    actions = [w.get("action") for w in r["works"]]
    need(all(a in severity for a in actions), f"works[].action {actions}")
    worst = max((severity.index(a) for a in actions), default=0)
    need(r["verdict"] == ("pass" if worst == 0 else severity[worst]),
         f"verdict {r['verdict']} with works[].action {actions}")
    return True


def cmi_valid(r):
    """works[].cmi takes one of the contract's values (checked apart from shape())."""
    for w in r["works"]:
        need(w["cmi"] in CMI, f"works[].cmi of {w['work']!r} is {w['cmi']!r}; "
                              f"the contract allows {sorted(CMI)}")
    return True


def planted(r, meta_path, work, kind, out_path, src_path=None):
    """The span described by META (from mkfix.py plant) is reported for `work`, exactly."""
    meta = load(meta_path)
    ms = matches_for(r, work)
    need(ms, f"no match for {work!r}; matches: "
             f"{[(m['work'], m['output'], m['tokens']) for m in r['matches']]}")
    want_out = (meta["out_start"], meta["out_end"])
    hit = [m for m in ms if m["output"]["start"] <= want_out[0] < m["output"]["end"]]
    need(hit, f"no match of {work!r} covers output byte {want_out[0]}: "
              f"{[m['output'] for m in ms]}")
    m = hit[0]
    got_out = (m["output"]["start"], m["output"]["end"])
    got_src = (m["source"]["start"], m["source"]["end"])
    want_src = (meta["src_start"], meta["src_end"])
    out = data(out_path)
    need(got_out == want_out, f"output offsets {got_out}, expected {want_out} "
                              f"(got {out[got_out[0]:got_out[1]][:60]!r}...)")
    need(got_src == want_src, f"source offsets {got_src}, expected {want_src}")
    if src_path:
        src = data(src_path)
        region = src[got_src[0]:got_src[1]]
        enc = meta.get("encoding", "utf-8")
        need(region.startswith(meta["first_word"].encode(enc)) and
             region.endswith(meta["last_word"].encode(enc)),
             f"source bytes {region[:30]!r}...{region[-30:]!r} do not hold the copied region")
    need(m["kind"] == kind, f"kind {m['kind']!r}, expected {kind!r}")
    if kind in ("exact", "normalized"):
        need(m["similarity"] == 1.0, f"similarity {m['similarity']} for {kind}")
    else:
        need(0 < m["similarity"] < 1.0, f"similarity {m['similarity']} for {kind}")
    need(m["tokens"] == meta["tokens"], f"tokens {m['tokens']}, expected {meta['tokens']}")
    return True


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    try:
        r = load(sys.argv[1])
    except (OSError, ValueError) as e:
        print(f"output is not valid JSON: {e}")
        sys.exit(2)
    env = {k: v for k, v in globals().items() if not k.startswith("__")}
    env["r"] = r
    failed = 0
    for expr in sys.argv[2:]:
        try:
            ok = eval(expr, env)
            if not ok:
                print(f"[{expr}] is false")
                failed += 1
        except Fail as e:
            print(f"[{expr}]: {e}")
            failed += 1
        except Exception as e:  # noqa: BLE001 - a broken expression is a failure too
            print(f"[{expr}] raised {type(e).__name__}: {e}")
            failed += 1
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
