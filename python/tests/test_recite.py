"""Tests of the recite Python binding (python/recite): checks against the demo index compared
with the CLI's JSON report, offsets in str indices and UTF-8 bytes on non-ASCII text, policies,
errors, one Index from many threads, the GIL released during a check, streaming sessions,
building, license identification, reports, the README example and examples/guardrail.py."""
import json
import os
import pathlib
import random
import re
import subprocess
import sys
import threading
import time

import pytest

import recite
from conftest import BIN, ROOT, cli_json


def read(demo, name):
    return (demo / "demo-out" / "outputs" / name).read_text(encoding="utf-8")


# ==== checks ====

def test_check_matches_the_cli_json(demo, index):
    for name in ("verbatim.txt", "near.txt", "normalized.txt", "code-no-notice.txt"):
        text = read(demo, name)
        res = index.check(text)
        want = cli_json(demo, "--index", "demo-out/index", f"demo-out/outputs/{name}")
        assert res.verdict == want["verdict"]
        got = [(m.work.id, m.byte_start, m.byte_end, m.source_start, m.source_end, m.tokens,
                m.kind, m.unit) for m in res.matches]
        exp = [(m["work"], m["output"]["start"], m["output"]["end"], m["source"]["start"],
                m["source"]["end"], m["tokens"], m["kind"], m["unit"]) for m in want["matches"]]
        assert got == exp, name
        assert [(w.id, w.cmi, w.license, w.source, round(w.coverage, 5)) for w in res.works] == \
            [(w["work"], w["cmi"], w["license"], w["source"], round(w["coverage"], 5))
             for w in want["works"]]
        assert [w.score for w in res.works] == \
            pytest.approx([w["score"] for w in want["works"]], rel=1e-4)
        assert res.tokens == want["tokens"]


def test_result_fields(demo, index):
    res = index.check(read(demo, "near.txt"), policy=demo / "examples" / "policy.json")
    assert res and res.verdict == "flag"
    m = res.matches[0]
    assert m.kind == "near" and 0.8 <= m.similarity < 1
    book = next(w for w in res.works if w.id == "book:GPL-2")
    assert book.title == "GNU General Public License, version 2"
    assert book.author == "Free Software Foundation" and book.source == "licensed"
    assert book.license == "GPL-2.0-only" and book.license_from == "metadata"
    assert book.cmi == "absent" and book.extent == "portion" and book.action == "flag"
    assert any(m.work is book for m in res.matches)
    assert not index.check("An original sentence, in no work at all.")


def test_common_passage_reported_once_with_its_sample(tmp_path):
    """A passage that many works share is one match with shared_by and sample_works, as in the
    CLI's JSON report; the code works' matches count lexemes."""
    words = pathlib.Path("/usr/share/common-licenses/GPL-3").read_text().split()
    shared = " ".join(words[2000:2040])
    lib = tmp_path / "lib"
    lib.mkdir()
    for i in range(12):  # 12 works hold the passage: common language (the threshold is 8)
        own = " ".join(words[3000 + 300 * i:3000 + 300 * i + 200])
        (lib / f"w{i:02}.txt").write_text(f"{own}\n\n{shared}\n")
    recite.build([lib], tmp_path / "idx")
    idx = recite.Index(tmp_path / "idx")
    out = tmp_path / "out.txt"
    out.write_text(f"As the text says: {shared} That is all.\n")
    res = idx.check(out.read_text())
    want = cli_json(tmp_path, "--index", "idx", "out.txt")
    firsts = [m for m in res.matches if m.shared_by]
    assert len(firsts) == 1 and firsts[0].shared_by >= 8 and firsts[0].common
    exp = [m for m in want["matches"] if m.get("shared_by")]
    assert [(m.shared_by, [w.id for w in m.sample_works]) for m in firsts] == \
        [(m["shared_by"], m["sample_works"]) for m in exp]
    assert firsts[0].sample_works[0] is firsts[0].work and len(firsts[0].sample_works) > 1
    assert all(m.unit == "words" for m in res.matches)


def test_offsets_str_and_bytes_on_non_ascii(demo, index):
    body = read(demo, "verbatim.txt")
    text = "Ünïcödé — “quoted” 😀 日本語のテキスト\n" + body
    res = index.check(text)
    data = text.encode("utf-8")
    assert res.matches
    for m in res.matches:
        assert text[m.start:m.end] == data[m.byte_start:m.byte_end].decode("utf-8")
        assert m.byte_start > m.start  # multi-byte characters come first
        assert res.quote(m) == text[m.start:m.end]
    first = min(res.matches, key=lambda m: m.start)
    assert text[first.start:first.end].startswith("The licenses for most software")
    # bytes in, byte offsets out
    resb = index.check(data)
    assert [(m.start, m.end) for m in resb.matches] == \
        [(m.byte_start, m.byte_end) for m in res.matches]
    # CMI found offsets are str indices too
    other = read(demo, "code-other-notice.txt")
    pre = "é" * 10
    w = index.check(pre + other).works[0]
    assert w.cmi == "altered" and w.cmi_found
    assert w.cmi_found_byte_start - w.cmi_found_start == 10


def test_invalid_utf8_bytes(index, demo):
    data = b"\xff\xfe broken \xc3 " + read(demo, "verbatim.txt").encode()
    res = index.check(data)
    assert res.invalid_utf8 >= 3 and res.matches


def test_options(demo, index):
    text = read(demo, "near.txt")
    # Near-verbatim alignment bridges the substituted words; exact_only keeps the runs between.
    assert max(m.end - m.start for m in index.check(text).matches) > 350
    assert max(m.end - m.start for m in index.check(text, exact_only=True).matches) < 200
    with pytest.raises(recite.InvalidArgumentError, match="min_tokens|guarantee"):
        index.check(text, min_tokens=3)


# ==== policies and errors ====

def test_policy_objects_and_paths(demo, index):
    text = read(demo, "code-no-notice.txt")
    path = demo / "examples" / "policy.json"
    by_path = index.check(text, policy=str(path))
    by_obj = index.check(text, policy=recite.Policy(path))
    assert by_path.verdict == by_obj.verdict == "block"
    assert by_path.works[0].rule > 0 and by_path.works[0].action == "block"
    allow = recite.Policy(json='{"version": 1, "default": "allow", "rules": []}', name="inline")
    assert index.check(text, policy=allow).verdict == "pass"


def test_errors_carry_the_library_message(tmp_path, demo):
    with pytest.raises(recite.FileError) as e:
        recite.Index(tmp_path / "missing")
    assert "missing" in str(e.value) and e.value.code == -2
    assert isinstance(e.value, recite.Error)
    bad = tmp_path / "bad.json"
    bad.write_text('{"version": 1, "rules": [ {"action": "nope"} ]}')
    with pytest.raises(recite.FormatError, match=r"bad\.json:1:\d+: rule 1: \"action\""):
        recite.Policy(bad)
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    src = (demo / "demo-out" / "index" / "recite.idx").read_bytes()
    (corrupt / "recite.idx").write_bytes(src[:len(src) // 2])
    with pytest.raises(recite.FormatError):
        recite.Index(corrupt)
    with pytest.raises(recite.EmptyError):
        (tmp_path / "empty").mkdir()
        recite.build(tmp_path / "empty", tmp_path / "out")
    with pytest.raises(TypeError):
        recite.Index(demo / "demo-out" / "index").check(12)


# ==== threads ====

def test_one_index_many_threads(demo, index):
    texts = [read(demo, n) for n in ("verbatim.txt", "near.txt", "normalized.txt",
                                     "code-no-notice.txt", "original.txt")]
    want = [[(m.work.id, m.start, m.end, m.kind) for m in index.check(t).matches]
            for t in texts]
    errors = []

    def worker(seed):
        rnd = random.Random(seed)
        try:
            for _ in range(25):
                k = rnd.randrange(len(texts))
                got = [(m.work.id, m.start, m.end, m.kind) for m in index.check(texts[k]).matches]
                if got != want[k]:
                    errors.append((k, got))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_gil_released_during_check(demo, index):
    """While one thread checks a long text, another runs Python code."""
    unit = read(demo, "verbatim.txt") + read(demo, "near.txt") + "filler words " * 50
    # Grow the text until one check takes long enough to measure: the speed of the
    # machine (and of recite) decides how much text that is, not this test.
    reps, alone = 400, 0.0
    while reps <= 400 * 64:
        big = unit * reps
        t0 = time.perf_counter()
        index.check(big)
        alone = time.perf_counter() - t0
        if alone > 0.1:
            break
        reps *= 2
    assert alone > 0.1, "even %d copies check too fast to measure" % reps
    ticks = 0
    done = threading.Event()

    def check():
        index.check(big)
        done.set()

    old = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)
    try:
        t = threading.Thread(target=check)
        t.start()
        while not done.is_set():
            ticks += 1
        t.join()
    finally:
        sys.setswitchinterval(old)
    # Held for the whole check, the GIL would leave a handful of switch intervals at most.
    assert ticks > 10000, ticks


# ==== streaming ====

def test_session_events_and_result_equal_batch(demo, index):
    text = "Ünïcödé prefix. " + read(demo, "verbatim.txt") + read(demo, "near.txt")
    batch = index.check(text)
    rnd = random.Random(7)
    with index.session() as s:
        events, cleared = [], 0
        i = 0
        while i < len(text):
            j = i + rnd.randint(1, 40)
            events += s.feed(text[i:j])
            assert s.cleared >= cleared and s.cleared <= j
            cleared = s.cleared
            i = j
        res = s.result()
    assert events, "no span reported while streaming"
    first = events[0].match
    assert text[first.start:first.end] in text and first.kind in ("exact", "normalized")
    assert [(m.work.id, m.start, m.end, m.kind) for m in res.matches] == \
        [(m.work.id, m.start, m.end, m.kind) for m in batch.matches]
    assert res.verdict == batch.verdict == "flag"


def test_session_bytes_split_inside_characters(demo, index):
    data = ("é" * 5 + read(demo, "verbatim.txt")).encode()
    with index.session() as s:
        for k in range(0, len(data), 7):
            s.feed(data[k:k + 7])
        assert s.leak_bound() > 0
        res = s.result()
    assert [(m.byte_start, m.byte_end) for m in res.matches] == \
        [(m.byte_start, m.byte_end) for m in index.check(data).matches]
    with pytest.raises(recite.Error, match="closed"):
        s.feed(b"more")


def test_close_refused_while_a_session_is_open(demo):
    idx = recite.Index(demo / "demo-out" / "index")
    s = idx.session()
    with pytest.raises(recite.Error, match="in use"):
        idx.close()
    s.close()
    idx.close()
    with pytest.raises(recite.Error, match="closed"):
        idx.check("text")


# ==== building, licenses, reports ====

def test_build(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "mit.txt").write_text(pathlib.Path("/usr/share/common-licenses/Apache-2.0").read_text())
    (lib / "stdio.h").write_text(pathlib.Path("/usr/include/stdio.h").read_text())
    (lib / ".hidden").write_text("hidden")
    notes = []
    stats = recite.build([lib], tmp_path / "idx", mode="auto", notes=notes)
    assert stats["works"] == 2 and stats["index_bytes"] > 0
    assert any(kind == "hidden" for kind, path, detail in notes)
    idx = recite.Index(tmp_path / "idx")
    assert sorted(idx.work(i).mode for i in range(len(idx))) == ["code", "prose"]
    assert (tmp_path / "idx" / "catalog.sqlite").exists()
    assert idx.work_text(0, 0, 10)
    key = os.urandom(32)
    recite.build(lib, tmp_path / "tf", text_free_key=key)
    with pytest.raises(recite.KeyMismatchError):
        recite.Index(tmp_path / "tf", key=os.urandom(32))
    tf = recite.Index(tmp_path / "tf", key=key)
    assert tf.stats["text_free"]
    # A key file is read as `recite check --key` reads it (recite_key_read).
    (tmp_path / "tf.key").write_bytes(key)
    assert recite.Index(tmp_path / "tf", key=tmp_path / "tf.key").stats["text_free"]
    (tmp_path / "short.key").write_bytes(key[:15])
    with pytest.raises(recite.InvalidArgumentError, match="short.key: key too short"):
        recite.Index(tmp_path / "tf", key=tmp_path / "short.key")
    with pytest.raises(recite.FileError, match="a directory, not a file"):
        recite.Index(tmp_path / "tf", key=lib)
    os.mkfifo(tmp_path / "fifo.key")  # refused at once, not waited on
    with pytest.raises(recite.FileError, match="fifo.key: cannot read the key: not a regular"):
        recite.Index(tmp_path / "tf", key=str(tmp_path / "fifo.key"))
    with pytest.raises(recite.NoTextError):
        tf.work_text(0, 0, 10)


def test_license():
    info = recite.license(pathlib.Path("/usr/include/stdio.h").read_text(), name="stdio.h")
    assert info.license == "LGPL-2.1-or-later" and info.source == "header"
    assert any("Free Software Foundation" in c for c in info.copyrights)
    tag = recite.license("# SPDX-License-Identifier: MIT\nprint(1)\n", name="x.py")
    assert tag.license == "MIT" and tag.spdx_tag == "MIT"


def test_reports(demo, index):
    text = read(demo, "near.txt")
    html = index.report(text, "html", name="near.txt")
    assert html.startswith("<!DOCTYPE html>") and "Recitation evidence report" in html
    rep = json.loads(index.report(text, "json", name="near.txt"))
    assert [m["output"]["start"] for m in rep["matches"]] == \
        [m.byte_start for m in index.check(text).matches]
    assert "near.txt:" in index.report(text, "text", name="near.txt")
    with pytest.raises(ValueError):
        index.report(text, "pdf")


# ==== documentation ====

def test_readme_python_example_runs_as_written(demo):
    readme = (ROOT / "README.md").read_text()
    m = re.search(r"<!-- python-example -->\s*```python\n(.*?)```", readme, re.S)
    assert m, "no python example in the README"
    code = m.group(1)
    assert len(code.strip().splitlines()) <= 5
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"))
    run = subprocess.run([sys.executable, "-c", code], cwd=demo, env=env, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "flag" in run.stdout and "GNU General Public License, version 2" in run.stdout


def test_guardrail_example(demo):
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"))
    run = subprocess.run([sys.executable, str(ROOT / "examples" / "guardrail.py"),
                          "demo-out/index"], cwd=demo, env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    redacted, blocked = run.stdout.split("== block")
    assert "[redacted: reproduces" in redacted and "Hope this helps!" in redacted
    assert "The licenses for most software" not in redacted
    assert "answer withheld" in blocked and "The licenses for most software" not in blocked


def test_stubs_cover_the_public_api():
    stub = (ROOT / "python" / "recite" / "__init__.pyi").read_text()
    for name in recite.__all__:
        assert re.search(rf"^(class|def) {name}\b", stub, re.M), name
    for name in ("check", "report", "session", "feed", "result", "leak_bound"):
        assert f"def {name}(" in stub
    assert recite.Index.check.__doc__ and recite.build.__doc__ and recite.Session.feed.__doc__
