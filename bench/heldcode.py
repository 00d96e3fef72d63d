#!/usr/bin/python3
"""heldcode.py CORPUS OUT N — N outputs of at most 4 KB cut from the held-out code of the bench
corpus (CORPUS/held: files of the same packages that are in no work of the library), at line
breaks, one piece per file in turn so that every file and language is in the set. What a code
assistant writes most of the time: code that is in no work, shaped like the library's code (its
shapes are everywhere in a library of code), with now and then a license header or an idiom
that is. Writes OUT/outputs/NNNNN.txt and OUT/list.txt. Only the standard library."""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in bench/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from plant import OUTPUT_BYTES  # noqa: E402

CODE = (".c", ".h", ".cc", ".cpp", ".hpp", ".py", ".pl", ".pm", ".sh", ".js", ".rs", ".go")


def pieces(path):
    """The file's text cut at line breaks into pieces of at most OUTPUT_BYTES (UTF-8 only)."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (UnicodeDecodeError, OSError):
        return []
    out, cur = [], ""
    for line in text.splitlines(keepends=True):
        if len((cur + line).encode()) > OUTPUT_BYTES:
            if len(cur.encode()) >= OUTPUT_BYTES // 2:
                out.append(cur)
            cur = ""
            if len(line.encode()) > OUTPUT_BYTES:
                continue
        cur += line
    if len(cur.encode()) >= OUTPUT_BYTES // 2:
        out.append(cur)
    return out


def main():
    if len(sys.argv) != 4:
        raise SystemExit("usage: heldcode.py CORPUS OUT N")
    corpus, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    files = sorted(os.path.join(d, f) for d, _, fs in os.walk(os.path.join(corpus, "held"))
                   for f in fs if f.endswith(CODE))
    cut = [p for p in (pieces(f) for f in files) if p]
    if not cut:
        raise SystemExit("heldcode.py: no held-out code in %s" % corpus)
    os.makedirs(os.path.join(out, "outputs"), exist_ok=True)
    paths, rnd = [], 0
    while len(paths) < n and any(rnd < len(p) for p in cut):
        for p in cut:
            if len(paths) == n:
                break
            if rnd < len(p):
                path = os.path.join(out, "outputs", "%05d.txt" % len(paths))
                with open(path, "w", encoding="utf-8") as f:
                    f.write(p[rnd])
                paths.append(os.path.abspath(path))
        rnd += 1
    with open(os.path.join(out, "list.txt.tmp"), "w") as f:
        f.write("".join(p + "\n" for p in paths))
    os.rename(os.path.join(out, "list.txt.tmp"), os.path.join(out, "list.txt"))
    print("%d outputs of at most %d bytes cut from %d held-out code files" % (
        len(paths), OUTPUT_BYTES, len(cut)))


if __name__ == "__main__":
    main()
