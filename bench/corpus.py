#!/usr/bin/python3
"""corpus.py DIR TARGET_MB — builds the benchmark library from text Debian ships.

Writes DIR/lib/ (the works to index, about TARGET_MB MB) and DIR/held/ (about a ninth of that,
never indexed: the filler of the generated outputs). Files are assigned to lib or held by a hash
of their path (about 90% / 10%), so both halves draw from every source. Every file is valid
UTF-8 (a file that is not is decoded as Windows-1252, falling back to Latin-1), text-like (no
NUL, few control characters, no minified one-line blobs), at most MAX_FILE bytes (cut at a line
end), and distinct from every other file byte for byte.

Only files of packages the Debian archive ships: files of packages apt marks as local (installed
from a vendor's repository) are left out. Sources, visited in a shuffled order (fixed seed) so that any size gets the same mix:
  licenses  /usr/share/common-licenses
  doc       /usr/share/doc/**            (.gz decompressed)
  man       /usr/share/man/**            (troff source, .gz decompressed; every language)
  include   /usr/include/**
  python    /usr/lib/python3*/**/*.py
  perl      /usr/share/perl*/**, /usr/lib/*/perl*/**  (*.pm, *.pl, *.pod)
  kernel    /usr/src/linux-source-*.tar.xz (package linux-source), when installed: a quarter of
            the corpus, half Documentation/ (prose) and half *.c, *.h (a sample by name hash);
            all of it if the sources above run short

Writes DIR/corpus.json with the bytes and files per source and half. Only the standard library.
"""
import glob
import gzip
import hashlib
import json
import os
import random
import subprocess
import sys
import tarfile

MAX_FILE = 2 << 20
MIN_FILE = 64
MAX_FILES = 100000
SEED = 20240601
VERSION = 4

SKIP_EXT = {
    ".png", ".jpg", ".jpeg", ".gif", ".ico", ".bmp", ".xpm", ".pdf", ".ps", ".eps", ".dvi",
    ".svg", ".svgz", ".tar", ".tgz", ".zip", ".jar", ".xz", ".bz2", ".zst", ".lz", ".7z",
    ".pyc", ".pyo", ".mo", ".gmo", ".so", ".a", ".o", ".woff", ".woff2", ".ttf", ".otf",
    ".bin", ".db", ".sqlite", ".wasm", ".class", ".gz", ".deb", ".mp3", ".ogg", ".wav",
}


def foreign_files():
    """Files of installed packages that the Debian archive does not ship (apt marks them
    [installed,local]: e.g. google-cloud-cli, nodejs from a vendor's repository)."""
    try:
        out = subprocess.run(["apt", "list", "--installed"], capture_output=True, text=True,
                             check=False).stdout
        pkgs = [l.split("/")[0] for l in out.splitlines() if "[installed,local]" in l]
        if not pkgs:
            return set(), []
        out = subprocess.run(["dpkg-query", "-L"] + pkgs, capture_output=True, text=True,
                             check=False).stdout
        return set(out.splitlines()), pkgs
    except OSError:
        return set(), []


def candidates():
    """Yields (source, base, path) for every regular file of every source."""
    def walk(source, bases, exts=None):
        for base in bases:
            if not os.path.isdir(base):
                continue
            for dirpath, dirnames, filenames in os.walk(base):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                for f in sorted(filenames):
                    if f.startswith("."):
                        continue
                    if exts and os.path.splitext(f)[1] not in exts:
                        continue
                    p = os.path.join(dirpath, f)
                    if os.path.islink(p) or not os.path.isfile(p):
                        continue
                    yield (source, base, p)

    yield from walk("licenses", ["/usr/share/common-licenses"])
    yield from walk("doc", ["/usr/share/doc"])
    yield from walk("man", ["/usr/share/man"])
    yield from walk("include", ["/usr/include"])
    yield from walk("python", sorted(glob.glob("/usr/lib/python3*")), {".py"})
    yield from walk("perl", sorted(glob.glob("/usr/share/perl*") +
                                   glob.glob("/usr/lib/*/perl*")), {".pm", ".pl", ".pod"})


def to_text(data):
    """Returns the UTF-8 bytes of a text-like file, or None."""
    if b"\0" in data:
        return None
    try:
        s = data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            s = data.decode("cp1252")
        except UnicodeDecodeError:
            s = data.decode("latin-1")
    if len(s) > MAX_FILE:
        cut = s.rfind("\n", 0, MAX_FILE)
        s = s[: cut + 1 if cut > 0 else MAX_FILE]
    ctrl = sum(1 for ch in s if (ord(ch) < 32 and ch not in "\t\n\r\f\v") or ord(ch) == 127)
    if ctrl > len(s) // 200:
        return None
    lines = s.count("\n") + 1
    if len(s) / lines > 1000:  # minified or encoded blobs
        return None
    out = s.encode("utf-8")
    if len(out) > MAX_FILE:
        out = out[:MAX_FILE]
        cut = out.rfind(b"\n")
        out = out[: cut + 1] if cut > 0 else out
        out = out.decode("utf-8", "ignore").encode("utf-8")
    return out if len(out) >= MIN_FILE else None


def clean_rel(rel):
    if any(c in rel for c in "\t\n\r\\") or any(ord(c) < 32 for c in rel):
        return None
    if any(part.startswith(".") for part in rel.split("/")):
        return None
    return rel


def kernel_candidates(p_doc, p_code):
    """Yields (relpath, bytes) from an installed linux-source tarball: Documentation/ files and
    *.c, *.h, *.rst, *.txt elsewhere, each kept with the given probability (by a hash of its
    name, so the choice is stable)."""
    for tb in sorted(glob.glob("/usr/src/linux-source-*.tar.xz")):
        with tarfile.open(tb, "r:xz") as t:
            for m in t:
                if not m.isfile():
                    continue
                name = m.name
                u = int(hashlib.md5(name.encode()).hexdigest()[:8], 16) / 2**32
                if "/Documentation/" in name:
                    if u >= p_doc:
                        continue
                elif name.endswith((".c", ".h", ".rst", ".txt")):
                    if u >= p_code:
                        continue
                else:
                    continue
                f = t.extractfile(m)
                if f is None:
                    continue
                yield name, f.read()


def main():
    out_dir, target_mb = sys.argv[1], float(sys.argv[2])
    lib_target = int(target_mb * 1e6)
    held_target = lib_target // 9
    rng = random.Random(SEED)
    foreign, foreign_pkgs = foreign_files()
    cands = [c for c in candidates() if c[2] not in foreign]
    if foreign_pkgs:
        print("corpus: leaving out %d files of %d packages not from Debian (%s)" % (
            len(foreign), len(foreign_pkgs), " ".join(sorted(foreign_pkgs))))
    rng.shuffle(cands)

    tmp = out_dir + ".tmp"
    os.system("rm -rf '%s'" % tmp)
    os.makedirs(tmp)
    seen = set()
    stats = {}
    totals = {"lib": [0, 0], "held": [0, 0]}
    targets = {"lib": lib_target, "held": held_target}
    nfiles = 0

    def add(source, rel, data):
        nonlocal nfiles
        rel = clean_rel(rel)
        if rel is None:
            return
        half = "held" if int(hashlib.md5(rel.encode()).hexdigest(), 16) % 10 == 0 else "lib"
        if totals[half][0] >= targets[half]:
            return
        text = to_text(data)
        if text is None:
            return
        h = hashlib.sha1(text).digest()
        if h in seen:
            return
        dest = os.path.join(tmp, half, source, rel)
        if os.path.exists(dest):
            return
        seen.add(h)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with open(dest, "wb") as f:
            f.write(text)
        totals[half][0] += len(text)
        totals[half][1] += 1
        st = stats.setdefault(source, {"lib": [0, 0], "held": [0, 0]})
        st[half][0] += len(text)
        st[half][1] += 1
        nfiles += 1

    def full():
        return all(totals[h][0] >= targets[h] for h in totals) or nfiles >= MAX_FILES

    kernel_quota = (lib_target + held_target) // 4
    kernel_avail = glob.glob("/usr/src/linux-source-*.tar.xz")
    if kernel_avail:
        p_doc = min(1.0, kernel_quota / 2 / 43e6)
        p_code = min(1.0, (kernel_quota - p_doc * 43e6) / 1255e6 * 1.2)
        for rel, data in kernel_candidates(p_doc, p_code):
            if full() or stats.get("kernel", {"lib": [0]})["lib"][0] >= kernel_quota * 0.9:
                break
            add("kernel", rel, data)

    for source, base, path in cands:
        if full():
            break
        rel = os.path.relpath(path, base)
        if source in ("python", "perl"):
            rel = os.path.join(os.path.basename(base), rel)
        try:
            if path.endswith(".gz"):
                rel = rel[:-3]
                if os.path.splitext(rel)[1] in SKIP_EXT:
                    continue
                with gzip.open(path, "rb") as f:
                    data = f.read(4 * MAX_FILE)
            else:
                if os.path.splitext(rel)[1] in SKIP_EXT:
                    continue
                with open(path, "rb") as f:
                    data = f.read(4 * MAX_FILE)
        except (OSError, EOFError, gzip.BadGzipFile):
            continue
        add(source, rel, data)

    if not full() and kernel_avail:
        for rel, data in kernel_candidates(1.0, 1.0):
            if full():
                break
            add("kernel", rel, data)

    short = {h: targets[h] - totals[h][0] for h in totals if totals[h][0] < targets[h]}
    manifest = {"version": VERSION, "target_mb": target_mb, "sources": stats,
                "lib_bytes": totals["lib"][0], "lib_files": totals["lib"][1],
                "held_bytes": totals["held"][0], "held_files": totals["held"][1],
                "short": short}
    with open(os.path.join(tmp, "corpus.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    os.system("rm -rf '%s'" % out_dir)
    os.rename(tmp, out_dir)
    print("corpus: lib %.1f MB in %d files, held %.1f MB in %d files" % (
        totals["lib"][0] / 1e6, totals["lib"][1], totals["held"][0] / 1e6, totals["held"][1]))
    if short:
        print("corpus: the sources ran out %s MB short (install linux-source-* for more)" %
              {h: round(v / 1e6, 1) for h, v in short.items()}, file=sys.stderr)
        sys.exit(3)


if __name__ == "__main__":
    main()
