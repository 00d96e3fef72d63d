#!/usr/bin/python3
"""check_html.py REPORT.html INPUT JSON [--dom] [--expect TEXT]... [--forbid TEXT]...

Checks an HTML evidence report of `recite check --html` against the checked input and the JSON
report of the same check, with Python's own HTML parser:

- the document is well formed: every element closed in order (void elements excepted), known
  elements only, no <script>, <link>, <img>, <iframe>, <object>, no event-handler attributes,
  no URL but a fragment (#id) anywhere: nothing is loaded from elsewhere;
- the checked text in <pre id="output"> accounts for every byte of INPUT: text characters are
  their own UTF-8 bytes, <span class="raw" data-bytes="N"> stands for N bytes; the bytes shown
  as text are the input's;
- every highlighted element sits at the byte offsets its data-start/data-end give, and every
  match of the JSON report is covered exactly, from its start to its end, by highlighted
  elements that list it in data-matches; every evidence block (id mN) carries the JSON's
  output and source offsets;
- --dom: the file is Chromium's --dump-dom output (the document as the browser built it);
- --expect/--forbid: text that must / must not occur in the visible text of the document.
Exits 1 with one line per problem.
"""
import json
import sys
from html.parser import HTMLParser

VOID = {"meta", "br", "hr", "wbr", "col", "img", "input", "link", "area", "base", "source"}
ALLOWED = {"html", "head", "meta", "title", "style", "body", "header", "footer", "section",
           "h1", "h2", "h3", "h4", "p", "div", "span", "a", "mark", "pre", "code", "q", "b",
           "dl", "dt", "dd", "table", "thead", "tbody", "tr", "th", "td", "ul", "li", "br"}


class Report(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems = []
        self.stack = []
        self.ids = set()
        self.visible = []
        self.out_depth = None   # stack depth of <pre id="output">
        self.out_bytes = bytearray()
        self.out_raw = []       # (position, nbytes) of raw spans
        self.raw_depth = None
        self.segments = []      # [attrs, start position, end position]
        self.seg_stack = []
        self.evidence = {}
        self.in_style = False

    def bad(self, msg):
        self.problems.append(msg)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag not in ALLOWED:
            self.bad(f"element <{tag}> is not expected in the report")
        for k, v in attrs:
            if k.startswith("on"):
                self.bad(f"event handler attribute {k} on <{tag}>")
            if k in ("href", "src", "action", "srcset", "poster", "data") and v is not None \
                    and not v.startswith("#"):
                self.bad(f"<{tag} {k}={v!r}>: a resource outside the document")
            if k == "style" and v and "url(" in v:
                self.bad(f"<{tag} style> loads a URL")
        if "id" in a:
            if a["id"] in self.ids:
                self.bad(f"duplicate id {a['id']}")
            self.ids.add(a["id"])
        if tag == "style":
            self.in_style = True
        if tag not in VOID:
            self.stack.append(tag)
        if tag == "pre" and a.get("id") == "output":
            self.out_depth = len(self.stack)
        if self.out_depth is not None:
            if tag == "span" and "raw" in (a.get("class") or "").split():
                if self.raw_depth is None:
                    n = int(a.get("data-bytes", "0"))
                    self.out_raw.append((len(self.out_bytes), n))
                    self.out_bytes.extend(b"\0" * n)
                    self.raw_depth = len(self.stack)
            if tag == "a" and "hl" in (a.get("class") or "").split():
                seg = [a, len(self.out_bytes), None]
                self.segments.append(seg)
                self.seg_stack.append((len(self.stack), seg))
        if tag == "div" and "ev" in (a.get("class") or "").split():
            self.evidence[a.get("id")] = a

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.bad(f"</{tag}> does not close <{self.stack[-1] if self.stack else '-'}>")
            if tag in self.stack:
                while self.stack and self.stack.pop() != tag:
                    pass
            return
        depth = len(self.stack)
        if self.seg_stack and self.seg_stack[-1][0] == depth:
            self.seg_stack.pop()[1][2] = len(self.out_bytes)
        if self.raw_depth == depth:
            self.raw_depth = None
        if self.out_depth == depth:
            self.out_depth = None
            self.out_done = True
        if tag == "style":
            self.in_style = False
        self.stack.pop()

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_data(self, data):
        if not self.in_style:
            self.visible.append(data)
        if self.out_depth is not None and self.raw_depth is None:
            self.out_bytes.extend(data.encode("utf-8"))


def main():
    args = sys.argv[1:]
    dom = "--dom" in args
    args = [a for a in args if a != "--dom"]
    expect, forbid, pos = [], [], []
    i = 0
    while i < len(args):
        if args[i] in ("--expect", "--forbid"):
            (expect if args[i] == "--expect" else forbid).append(args[i + 1])
            i += 2
        else:
            pos.append(args[i])
            i += 1
    html_path, input_path, json_path = pos
    raw = open(html_path, "rb").read()
    data = open(input_path, "rb").read()
    rep = json.load(open(json_path))
    p = Report()
    try:
        doc = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        print(f"{html_path}: the document is not UTF-8: {e}")
        return 1
    if not dom and not doc.startswith("<!DOCTYPE html>"):
        p.bad("no <!DOCTYPE html> first")
    p.feed(doc)
    p.close()
    if p.stack:
        p.bad(f"elements left open at the end: {p.stack}")
    if "<script" in doc.lower():
        p.bad("a <script> element (or unescaped '<script') in the document")

    # The checked text: every byte accounted for, in order.
    shown = p.out_bytes
    if len(shown) != len(data):
        p.bad(f"the checked text shows {len(shown)} bytes, the input has {len(data)}")
    else:
        masked = bytearray(data)
        for at, n in p.out_raw:
            masked[at:at + n] = b"\0" * n
        if bytes(masked) != bytes(shown):
            k = next(i for i in range(len(data)) if masked[i] != shown[i])
            p.bad(f"the checked text differs from the input at byte {k}: "
                  f"{bytes(shown[k:k + 20])!r} vs {bytes(masked[k:k + 20])!r}")

    # Highlighted elements sit where their data attributes say.
    covered = {}
    for a, start, end in p.segments:
        ds, de = int(a["data-start"]), int(a["data-end"])
        if (ds, de) != (start, end):
            p.bad(f"highlight data-start/end {ds}-{de} sits at bytes {start}-{end}")
        for m in (a.get("data-matches") or "").split():
            covered.setdefault(int(m), []).append((start, end))
    matches = rep["matches"]
    for k, m in enumerate(matches):
        s, e = m["output"]["start"], m["output"]["end"]
        segs = sorted(covered.get(k, []))
        ok = bool(segs) and segs[0][0] == s and segs[-1][1] == e and \
            all(segs[i][1] == segs[i + 1][0] for i in range(len(segs) - 1))
        if not ok:
            p.bad(f"match {k} ({m['work']} {s}-{e}) is not highlighted exactly: {segs[:4]}")
        ev = p.evidence.get(f"m{k}")
        if ev is None:
            p.bad(f"no evidence block for match {k}")
        elif (int(ev["data-start"]), int(ev["data-end"]), int(ev["data-src-start"]),
              int(ev["data-src-end"]), ev["data-kind"]) != \
                (s, e, m["source"]["start"], m["source"]["end"], m["kind"]):
            p.bad(f"evidence block of match {k} has other offsets or kind: {ev}")
    if len(covered) > len(matches):
        p.bad(f"highlights name {len(covered)} matches, the JSON has {len(matches)}")
    if not matches and p.segments:
        p.bad("highlights in a report without matches")

    text = "".join(p.visible)
    for t in expect:
        if t not in text:
            p.bad(f"the visible text lacks {t!r}")
    for t in forbid:
        if t in text:
            p.bad(f"the visible text holds {t!r}")
    for msg in p.problems:
        print(f"{html_path}: {msg}")
    return 1 if p.problems else 0


if __name__ == "__main__":
    sys.exit(main())
