#!/usr/bin/python3
"""mkmem.py DIR MB — a library of about MB megabytes for tests/cli/membudget.sh, from text Debian
ships, mixed prose and code as libraries are: prose from /usr/share/common-licenses,
/usr/share/doc (plain and .gz) and /usr/share/man (.gz troff), written as .txt; a third of the
bytes C headers from /usr/include, written as .h (indexed as code, and by their words: views).
Each file at most 256 KiB, distinct, valid UTF-8 or decoded as Latin-1, in sorted order. Writes
DIR/lib/ (the works), DIR/big.txt (4 MiB of prose: one large work made of the first prose
files) and DIR/big.h (the same of the first headers: a large code work, with its view). Prints the bytes written; exits 1 when the machine has too little text."""
import gzip
import hashlib
import os
import sys

PROSE = ["/usr/share/common-licenses", "/usr/share/doc", "/usr/share/man"]
CODE = ["/usr/include"]
CODE_SHARE = 1 / 3
MAX_FILE = 256 << 10
BIG = 4 << 20


def texts(roots):
    for root in roots:
        for d, dirs, files in os.walk(root):
            dirs.sort()
            for f in sorted(files):
                p = os.path.join(d, f)
                if os.path.islink(p) or not os.path.isfile(p):
                    continue
                try:
                    if f.endswith(".gz"):
                        with gzip.open(p, "rb") as g:
                            data = g.read(MAX_FILE + 1)
                    elif "." not in f or f.endswith((".txt", ".h", ".md", ".rst", ".html")) \
                            or f in ("README", "NEWS", "copyright", "changelog"):
                        with open(p, "rb") as g:
                            data = g.read(MAX_FILE + 1)
                    else:
                        continue
                except (OSError, EOFError, gzip.BadGzipFile):
                    continue
                data = data[:MAX_FILE]
                if len(data) < 256 or b"\0" in data:
                    continue
                if data.lstrip()[:1] == b"<" or data[:4] in (b"%PDF", b"PK\x03\x04"):
                    continue  # read by content as HTML, PDF or an archive: plain text only
                try:
                    data.decode("utf-8")
                except UnicodeDecodeError:
                    data = data.decode("latin-1").encode("utf-8")
                yield data


def main():
    out, mb = sys.argv[1], float(sys.argv[2])
    want = int(mb * (1 << 20))
    lib = os.path.join(out, "lib")
    os.makedirs(lib, exist_ok=True)
    seen, got, n = set(), 0, 0
    got_code = 0
    prose, code = texts(PROSE), texts(CODE)
    big = {False: open(os.path.join(out, "big.txt"), "wb"), True: open(os.path.join(out, "big.h"), "wb")}
    big_len = {False: 0, True: 0}
    while got < want:
        # Code while it is short of its share of the bytes so far, prose otherwise.
        is_code = code is not None and got_code < CODE_SHARE * (got + 1)
        data = next(code if is_code else prose, None)
        if data is None:
            if not is_code:
                break
            code = None  # no more headers: prose only
            continue
        h = hashlib.sha256(data).digest()
        if h in seen:
            continue
        seen.add(h)
        if big_len[is_code] < BIG:
            take = data[: BIG - big_len[is_code]]
            big[is_code].write(take)
            big_len[is_code] += len(take)
        name = "t%05d.%s" % (n, "h" if is_code else "txt")
        with open(os.path.join(lib, name), "wb") as f:
            f.write(data)
        n += 1
        got += len(data)
        got_code += len(data) if is_code else 0
    for f in big.values():
        f.close()
    print(got)
    sys.exit(0 if got >= want else 1)


if __name__ == "__main__":
    main()
