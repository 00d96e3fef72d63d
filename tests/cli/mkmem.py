#!/usr/bin/python3
"""mkmem.py DIR MB — a library of about MB megabytes for tests/cli/membudget.sh, from text Debian
ships: /usr/share/doc (plain and .gz), /usr/share/common-licenses, /usr/share/man (.gz troff)
and /usr/include headers, in sorted order, each file at most 256 KiB, distinct, valid UTF-8 or
decoded as Latin-1. Writes DIR/lib/ (the works) and DIR/big.txt (4 MiB: one large work made of
the first files). Prints the bytes written; exits 1 when the machine has too little text."""
import gzip
import hashlib
import os
import sys

ROOTS = ["/usr/share/common-licenses", "/usr/share/doc", "/usr/include", "/usr/share/man"]
MAX_FILE = 256 << 10
BIG = 4 << 20


def texts():
    for root in ROOTS:
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
    big = open(os.path.join(out, "big.txt"), "wb")
    big_len = 0
    for data in texts():
        h = hashlib.sha256(data).digest()
        if h in seen:
            continue
        seen.add(h)
        if big_len < BIG:
            take = data[: BIG - big_len]
            big.write(take)
            big_len += len(take)
        with open(os.path.join(lib, "t%05d.txt" % n), "wb") as f:
            f.write(data)
        n += 1
        got += len(data)
        if got >= want:
            break
    big.close()
    print(got)
    sys.exit(0 if got >= want else 1)


if __name__ == "__main__":
    main()
