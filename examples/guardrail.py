#!/usr/bin/python3
"""guardrail.py — recite as a guardrail in a Python serving loop.

A model's answer streams out in chunks; the guardrail feeds each chunk to a recite session and
releases text to the user only up to the session's `cleared` offset (text before it is settled:
any recitation starting there has been reported). When a span of a protected work shows up, the
policy's verdict decides: "block" stops the answer, anything else is redacted (the recited span
replaced by a notice). After the last chunk the whole answer is checked once more (near-verbatim
spans and common language are decided there) before the rest is released.

Run after `make demo` (from the repository):
    PYTHONPATH=python /usr/bin/python3 examples/guardrail.py demo-out/index
"""
import sys
from typing import Iterable, Iterator

import recite

NOTICE = "[redacted: reproduces {work}]"


def fake_model(answer: str, chunk: int = 24) -> Iterator[str]:
    """Stands in for a model streaming its answer."""
    for i in range(0, len(answer), chunk):
        yield answer[i:i + chunk]


class Guardrail:
    """Validates a stream of chunks: yields what may be shown, redacting or blocking."""

    def __init__(self, index: recite.Index, policy=None, mode: str = "redact"):
        self.index, self.policy, self.mode = index, policy, mode

    @staticmethod
    def redact(text: str, matches, start: int = 0) -> str:
        """text[start:] with every span of `matches` (offsets into text) replaced by a notice."""
        out, at = [], start
        for m in sorted(matches, key=lambda m: m.start):
            if m.end <= at:
                continue
            out.append(text[at:max(at, m.start)])
            out.append(NOTICE.format(work=m.work.title or m.work.id))
            at = m.end
        out.append(text[at:])
        return "".join(out)

    def stream(self, chunks: Iterable[str]) -> Iterator[str]:
        text, released, spans = "", 0, {}
        with self.index.session(self.policy) as s:
            for chunk in chunks:
                text += chunk
                for ev in s.feed(chunk):
                    if not ev.match.common:
                        spans[ev.span] = ev.match
                if spans and (self.mode == "block" or s.verdict == "block"):
                    yield "\n[answer withheld: it reproduces a protected work]\n"
                    return
                # Release what is settled, except anything a span reported so far covers.
                safe = s.cleared
                for m in spans.values():
                    if m.start < safe:
                        safe = m.start
                if safe > released:
                    yield text[released:safe]
                    released = safe
            final = s.result()
        found = [m for m in final.matches if not m.common]
        if found and (self.mode == "block" or final.verdict == "block"):
            yield "\n[answer withheld: it reproduces a protected work]\n"
            return
        yield self.redact(text, found, released)


def main(argv) -> int:
    index_dir = argv[1] if len(argv) > 1 else "demo-out/index"
    idx = recite.Index(index_dir)
    gpl = open("/usr/share/common-licenses/GPL-3", encoding="utf-8").read()
    para = gpl[gpl.index("  The licenses for most software"):]
    para = para[:para.index("\n\n")]
    answer = ("Here is a summary in my own words: free software licenses protect users.\n"
              "And here is the original text:\n" + para + "\nHope this helps!\n")
    for mode in ("redact", "block"):
        shown = "".join(Guardrail(idx, mode=mode).stream(fake_model(answer)))
        print(f"== {mode}\n{shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
