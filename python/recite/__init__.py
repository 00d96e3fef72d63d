"""recite — which spans of a text reproduce which protected work.

The Python binding of the recite C library (include/recite.h)::

    import recite
    idx = recite.Index("idx")                       # or recite.build(paths, "idx", mode="auto")
    res = idx.check(text, policy="policy.json")     # the GIL is released while checking
    res.verdict, res.matches[0].start, res.matches[0].work.title, res.works[0].cmi
    with idx.session() as s:                        # streaming
        for chunk in stream:
            events = s.feed(chunk)
    recite.license(open("f.py").read(), name="f.py")

Offsets: ``Match.start``/``end`` index the checked text as given — ``str`` indices (code
points) for a ``str``, byte offsets for ``bytes`` — and ``byte_start``/``byte_end`` are always
offsets into its UTF-8 bytes (what the JSON report and the C API say). One ``Index`` may be
used from any number of threads: each call borrows a checker of its own. Errors are
``recite.Error`` subclasses carrying the library's one-line message.
"""
from __future__ import annotations

import json as _json
import os
import threading
from dataclasses import dataclass, field
from typing import Iterable, List, Optional, Sequence, Tuple, Union

from . import _recite
from ._recite import (EmptyError, Error, FileError, FormatError, InvalidArgumentError,
                      KeyMismatchError, LimitError, NoTextError, OutOfMemoryError, VersionError)

__all__ = ["Index", "Session", "Policy", "Result", "Match", "Work", "SpanEvent", "LicenseInfo",
           "build", "license", "version", "Error", "OutOfMemoryError", "FileError", "FormatError",
           "VersionError", "InvalidArgumentError", "LimitError", "EmptyError",
           "KeyMismatchError", "NoTextError"]
__version__ = "0.1.0"

Text = Union[str, bytes, bytearray, memoryview]


def version() -> str:
    """The version of the C library, e.g. "0.1.0"."""
    return _recite.version()


# ==== results ====

@dataclass(eq=False, slots=True)
class Work:
    """A work of the index, with what a check found about it (``None``/0 outside a result).

    ``action`` and ``rule`` are the policy's decision (rule 0: the policy's default);
    ``cmi`` is "present", "absent", "altered", "none" or None (index built without CMI)."""
    id: str
    title: Optional[str] = None
    author: Optional[str] = None
    license: Optional[str] = None
    copyright: Optional[str] = None
    source: str = "unknown"
    url: Optional[str] = None
    mode: str = "prose"
    work_tokens: int = 0
    work_bytes: int = 0
    content_hash: Optional[str] = None
    also: Tuple[str, ...] = ()
    index: int = 0
    spans: int = 0
    tokens_covered: int = 0
    longest_tokens: int = 0
    coverage: float = 0.0
    extent: str = "portion"
    common: bool = False
    similarity: float = 1.0
    cmi: Optional[str] = None
    license_score: float = 0.0
    license_from: str = "none"
    copyright_from: str = "none"
    cmi_found: Optional[str] = None
    cmi_found_start: int = 0
    cmi_found_end: int = 0
    cmi_found_byte_start: int = 0
    cmi_found_byte_end: int = 0
    action: str = "allow"
    rule: int = 0
    score: float = 0.0


@dataclass(eq=False, slots=True)
class Match:
    """A span of the checked text that reproduces a work. ``start``/``end`` index the text as
    given (str: code points; bytes: bytes), ``byte_start``/``byte_end`` its UTF-8 bytes,
    ``source_start``/``source_end`` the work's bytes; all end-exclusive. ``tokens`` and
    ``source_token`` count ``unit``s: "words" or "lexemes" (code). A passage of common language
    is reported once: ``shared_by`` estimates how many works hold it (0 for other matches) and
    ``sample_works`` names the works sampled for it (this match's work first)."""
    work: Work
    start: int
    end: int
    byte_start: int
    byte_end: int
    source_start: int
    source_end: int
    tokens: int
    kind: str  # "exact", "normalized" or "near"
    similarity: float
    common: bool
    source_token: int = 0
    unit: str = "words"
    passage: int = field(default=0, repr=False)  # internal: folds a passage's samples
    shared_by: int = 0
    sample_works: Tuple["Work", ...] = ()


@dataclass(eq=False, slots=True)
class Result:
    """The result of a check: the policy's verdict ("pass", "cite", "flag" or "block"), the
    matches sorted by position, the works by decreasing coverage."""
    verdict: str
    matches: List[Match]
    works: List[Work]
    tokens: int
    code_tokens: int
    bytes: int
    truncated: bool
    invalid_utf8: int
    common_others: int
    text_free: bool
    text: Text = field(repr=False, default="")

    def __bool__(self) -> bool:
        """True when something was found."""
        return bool(self.matches)

    def quote(self, match: Match) -> Text:
        """The checked text of a match (what ``text[match.start:match.end]`` gives)."""
        return self.text[match.start:match.end]


@dataclass(eq=False, slots=True)
class SpanEvent:
    """A span found while streaming: ``span`` numbers it within the session (a later event with
    the same number reports it grown); ``growing`` while it reaches the last token checked."""
    span: int
    growing: bool
    match: Match


@dataclass(eq=False, slots=True)
class LicenseInfo:
    """The license and notices of a text, as ``recite index`` records them for a work."""
    license: Optional[str]
    score: float
    source: str  # how it was found: "spdx", "header", "text" or "none"
    full_text: bool
    spdx_tag: Optional[str]
    copyrights: List[str]


def _work_of(meta, index: int = 0, **found) -> Work:
    (wid, title, author, lic, copyright_, source, url, mode, tokens, nbytes, cmi_json, chash,
     also) = meta
    if (title is None or author is None) and cmi_json:
        try:
            cmi = _json.loads(cmi_json)
        except ValueError:
            cmi = {}
        title = title if title is not None else cmi.get("title")
        author = author if author is not None else cmi.get("author")
    return Work(wid, title, author, found.pop("license", lic),
                found.pop("copyright", copyright_), source or "unknown", url, mode, tokens,
                nbytes, chash, tuple(also), index, **found)


def _result(raw, text: Text) -> Result:
    (verdict, tokens, code_tokens, nbytes, truncated, invalid, common_others, text_free,
     raw_matches, raw_works) = raw
    works, by_index = [], {}
    for (widx, meta, spans, covered, longest, coverage, similarity, common, cmi, lic, score,
         lic_from, copyright_, copyright_from, found, fs, fe, fbs, fbe, action, rule,
         wscore) in raw_works:
        w = _work_of(meta, widx, spans=spans, tokens_covered=covered, longest_tokens=longest,
                     coverage=coverage, extent="whole" if coverage >= 0.9 else "portion",
                     common=common, similarity=similarity, cmi=cmi, license=lic,
                     license_score=score, license_from=lic_from, copyright=copyright_,
                     copyright_from=copyright_from, cmi_found=found, cmi_found_start=fs,
                     cmi_found_end=fe, cmi_found_byte_start=fbs, cmi_found_byte_end=fbe,
                     action=action, rule=rule, score=wscore)
        works.append(w)
        by_index[widx] = w
    matches = [Match(by_index.get(m[0]) or Work(id="?", index=m[0]), *m[1:]) for m in raw_matches]
    # A passage of common language is reported once, as in the CLI's report: its first match
    # names the works sampled for it, the others are folded into it.
    for i, m in enumerate(matches):
        if m.shared_by and m.passage == i:
            m.sample_works = tuple(o.work for o in matches[i:] if o.passage == i)
    matches = [m for i, m in enumerate(matches) if not m.shared_by or m.passage == i]
    return Result(verdict, matches, works, tokens, code_tokens, nbytes, truncated, invalid,
                  common_others, text_free, text)


# ==== policies ====

class Policy:
    """A policy file (JSON, docs/POLICY.md) that decides verdicts; immutable, thread-safe.

    ``Policy(path)`` loads a file, ``Policy(json=text, name=...)`` parses a string. License ids
    are checked against the SPDX license list in ``spdx_dir`` (default: $RECITE_SPDX_DIR, else
    the library's default). Raises FormatError (with file, line and column), FileError."""

    def __init__(self, path: Union[str, os.PathLike, None] = None, *, json: Optional[str] = None,
                 name: Optional[str] = None, spdx_dir: Optional[str] = None):
        spdx_dir = spdx_dir or os.environ.get("RECITE_SPDX_DIR")
        self.name = os.fspath(path) if path is not None else (name or "policy")
        self._p = _recite.Policy(os.fspath(path) if path is not None else None,
                                 json.encode() if json is not None else None, name, spdx_dir)

    def __repr__(self) -> str:
        return f"recite.Policy({self.name!r})"


_policies: dict = {}
_policies_lock = threading.Lock()


def _policy(policy) -> Optional[object]:
    """A Policy, a path (loaded once per path and modification time) or None."""
    if policy is None:
        return None
    if isinstance(policy, Policy):
        return policy._p
    path = os.fspath(policy)
    st = os.stat(path)
    key = (path, st.st_mtime_ns, st.st_size)
    with _policies_lock:
        p = _policies.get(key)
    if p is None:
        p = Policy(path)
        with _policies_lock:
            _policies[key] = p
    return p._p


def _options(min_tokens=0, code_min_tokens=0, exact_only=False, min_similarity=0.0,
             all_works=False, common_sample=0, skip_cmi=False, max_matches=0):
    if not 0.0 <= min_similarity <= 1.0:
        raise InvalidArgumentError(f"min_similarity must be in [0, 1], not {min_similarity}")
    return (int(min_tokens), int(code_min_tokens), bool(exact_only), float(min_similarity),
            bool(all_works), int(common_sample), bool(skip_cmi), int(max_matches))


def _bytes(text: Text) -> Tuple[bytes, bool]:
    if isinstance(text, str):
        return text.encode("utf-8", "surrogateescape"), True
    if isinstance(text, (bytes, bytearray, memoryview)):
        return bytes(text), False
    raise TypeError(f"text must be str or bytes, not {type(text).__name__}")


# ==== indexes ====

def _read_key(key) -> Optional[bytes]:
    if key is None or isinstance(key, (bytes, bytearray)):
        return bytes(key) if key is not None else None
    return _recite.key_read(key)  # a path: the key file, read as `recite check --key FILE` does


class Index:
    """A loaded index (``recite_index_open``): immutable, memory-mapped, shared by threads.

    ``key``: for a text-free index, its key — bytes, or the path of the key file (16 to 4096
    bytes of a regular file, as ``recite check --key`` takes it).
    Raises FileError, FormatError, VersionError, KeyMismatchError, InvalidArgumentError."""

    def __init__(self, path: Union[str, os.PathLike], key: Union[bytes, str, os.PathLike,
                                                                 None] = None):
        self.path = os.fspath(path)
        self._idx = _recite.Index(self.path, _read_key(key))

    def __repr__(self) -> str:
        return f"recite.Index({self.path!r})"

    def __enter__(self) -> "Index":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Releases the index (an Error while checks or sessions are running)."""
        self._idx.close()

    def __len__(self) -> int:
        return self._idx.work_count()

    @property
    def stats(self) -> dict:
        """Figures of the index: works, clusters, tokens, min_tokens, created_unix, ..."""
        return self._idx.stats()

    def work(self, number: int) -> Work:
        """The metadata of work ``number`` (0 .. len(index) - 1)."""
        return _work_of(self._idx.work(number), number)

    def work_text(self, number: int, start: int = 0, end: Optional[int] = None) -> bytes:
        """Bytes [start, end) of a work's text (NoTextError for a text-free index)."""
        if end is None:
            end = self._idx.work(number)[9]
        return self._idx.work_text(number, start, end)

    def check(self, text: Text, policy: Union[Policy, str, os.PathLike, None] = None, *,
              min_tokens: int = 0, code_min_tokens: int = 0, exact_only: bool = False,
              min_similarity: float = 0.0, all_works: bool = False, common_sample: int = 0,
              skip_cmi: bool = False, max_matches: int = 0) -> Result:
        """Checks ``text`` (str or bytes) and returns a Result; the GIL is released meanwhile.

        ``policy``: a Policy, the path of a policy file, or None (the default policy: common
        language passes, anything else is flagged). The options are those of
        ``recite check`` (0 / False: the index's or the library's default)."""
        data, is_str = _bytes(text)
        opts = _options(min_tokens, code_min_tokens, exact_only, min_similarity, all_works,
                        common_sample, skip_cmi, max_matches)
        return _result(self._idx.check(data, _policy(policy), opts, is_str), text)

    def report(self, text: Text, format: str = "html", policy=None, *, name: str = "-",
               **options) -> str:
        """Checks ``text`` and renders a report: "json" (the contract of INTERFACE.md),
        "text" (grep-like lines) or "html" (the self-contained evidence report)."""
        data, _ = _bytes(text)
        return self._idx.report(data, format, _policy(policy), _options(**options), name,
                                self.path)

    def session(self, policy=None, **options) -> "Session":
        """A streaming session with a checker of its own (use it from one thread at a time)::

            with idx.session() as s:
                for chunk in stream:
                    for event in s.feed(chunk): ...   # spans as they are found
                result = s.result()                     # the whole text, as a batch check
        """
        return Session(self, self._idx.session(_policy(policy), _options(**options)))


class Session:
    """A streaming check (``recite_checker_feed`` / ``_poll`` / ``_finish``).

    After each ``feed``: ``cleared`` (str index, or bytes for bytes chunks) and
    ``cleared_bytes`` — text before it is settled: every span of at least min_tokens that
    reproduces a work (exact or normalized, not common language) and starts there has been
    reported (see ``leak_bound``); ``verdict`` is the policy's verdict so far; ``truncated``
    says a limit was reached (the bound no longer holds). Near-verbatim spans and common
    language come with ``result()``."""

    def __init__(self, index: Index, raw):
        self.index = index
        self._s = raw
        self._is_str: Optional[bool] = None
        self._parts: List[Text] = []
        self.cleared = 0
        self.cleared_bytes = 0
        self.tokens = 0
        self.truncated = False
        self.verdict = "pass"

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def feed(self, chunk: Text) -> List[SpanEvent]:
        """Feeds a piece of text (UTF-8 may be split anywhere between bytes chunks) and returns
        the span events it settles: spans new, grown, or no longer growing."""
        data, is_str = _bytes(chunk)
        if self._is_str is None:
            self._is_str = is_str
        elif self._is_str != is_str:
            raise TypeError("feed str or bytes chunks to a session, not both")
        events, self.cleared_bytes, self.cleared, self.tokens, self.truncated, self.verdict = \
            self._s.feed(data, is_str)
        self._parts.append(chunk)
        return [SpanEvent(span, growing, Match(_work_of(meta, m[0]), *m[1:]))
                for span, growing, m, meta in events]

    def leak_bound(self, code: bool = False) -> int:
        """How many complete tokens (words; lexemes with code=True) ``cleared`` trails the text
        at most."""
        return self._s.leak_bound(code)

    def result(self) -> Result:
        """Finishes the text: the same Result as a batch check of everything fed. The session
        then starts a new text."""
        is_str = bool(self._is_str)
        text = ("" if is_str else b"").join(bytes(p) if not is_str else p for p in self._parts)
        raw = self._s.finish(is_str)
        self._parts, self._is_str = [], None
        self.cleared = self.cleared_bytes = self.tokens = 0
        return _result(raw, text)

    def close(self) -> None:
        """Releases the session's checker (the text fed is dropped)."""
        self._s.release()


# ==== building ====

_MODES = {"auto": 0, "prose": 1, "code": 2}


def _cache_dir() -> Optional[str]:
    """Where license indexes are cached, as the `recite` command decides it."""
    if os.environ.get("RECITE_CACHE"):
        return os.environ["RECITE_CACHE"]
    if os.environ.get("XDG_CACHE_HOME"):
        return os.path.join(os.environ["XDG_CACHE_HOME"], "recite")
    if os.environ.get("HOME"):
        return os.path.join(os.environ["HOME"], ".cache", "recite")
    return None


def build(paths: Union[str, os.PathLike, Iterable[Union[str, os.PathLike]]],
          out: Union[str, os.PathLike], mode: str = "auto", *, min_tokens: int = 0,
          code_min_tokens: int = 0, jobs: int = 0, skip_cmi: bool = False,
          text_free_key: Optional[bytes] = None, created_unix: int = 0,
          notes: Optional[list] = None) -> dict:
    """Builds an index of the works under ``paths`` (files, directories, .jsonl files) and
    publishes it atomically at ``out`` with its catalogue, as ``recite index`` does; returns
    its figures (works, clusters, bytes, tokens, fingerprints, index_bytes, seconds). The GIL
    is released while building. ``mode``: "auto" (code by file extension), "prose" or "code".
    ``notes``, when a list, receives (kind, path, detail) for each input skipped or flagged.
    Raises EmptyError when no works were found, FileError, FormatError."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    if mode not in _MODES:
        raise InvalidArgumentError(f"mode must be 'auto', 'prose' or 'code', not {mode!r}")
    plist = [os.fspath(p) for p in paths]
    stats, raw_notes = _recite.build(
        plist, os.fspath(out), _MODES[mode], min_tokens, code_min_tokens, jobs, skip_cmi,
        text_free_key, _cache_dir() if not skip_cmi else None, os.environ.get("RECITE_SPDX_DIR"),
        created_unix or int(os.environ.get("SOURCE_DATE_EPOCH", "0") or 0))
    if notes is not None:
        notes.extend(tuple(n.split("\t", 2)) for n in raw_notes)
    return stats


# ==== license identification ====

_license_checkers: list = []  # idle checkers, one borrowed per call


def license(text: Text, name: Optional[str] = None, mode: str = "auto") -> LicenseInfo:
    """The license (SPDX id) and copyright notices of a text, as ``recite license`` finds them.
    ``name`` (a file name) decides code or prose with mode="auto". The GIL is released; the
    first call in a process loads (or builds and caches) the license index."""
    if mode not in _MODES:
        raise InvalidArgumentError(f"mode must be 'auto', 'prose' or 'code', not {mode!r}")
    data, _ = _bytes(text)
    try:
        lc = _license_checkers.pop()
    except IndexError:
        lc = _recite.LicenseChecker(_cache_dir(), None, os.environ.get("RECITE_SPDX_DIR"))
    try:
        lic, score, source, full, tag, copyrights = lc.identify(data, name, _MODES[mode])
    finally:
        _license_checkers.append(lc)
    return LicenseInfo(lic, score, source, full, tag, copyrights)
