#!/usr/bin/python3
"""png_colours.py FILE.png MIN_WIDTH MIN_HEIGHT [RRGGBB:MIN_PIXELS]...

Decodes a PNG screenshot (8-bit RGB or RGBA, not interlaced: what Chromium writes) with zlib
alone, and checks its size and that each colour given covers at least MIN_PIXELS pixels: the
report's highlights were rendered, not just written. Prints the size and the counts; exits 1
with a line per problem.
"""
import struct
import sys
import zlib


def decode(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    pos, idat, w = 8, [], None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or ctype not in (2, 6) or interlace:
                raise ValueError(f"unsupported PNG: depth {depth}, colour type {ctype}")
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + n
    raw = zlib.decompress(b"".join(idat))
    stride = w * bpp
    prev = bytearray(stride)
    counts = {}
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[x] = (line[x] + pr) & 255
        for x in range(0, stride, bpp):
            key = bytes(line[x:x + 3])
            counts[key] = counts.get(key, 0) + 1
        prev = line
    return w, h, counts


def main():
    path, min_w, min_h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    w, h, counts = decode(path)
    problems = []
    if w < min_w or h < min_h:
        problems.append(f"{w}x{h}, expected at least {min_w}x{min_h}")
    print(f"{path}: {w}x{h}, {len(counts)} colours")
    for spec in sys.argv[4:]:
        hexrgb, need = spec.split(":")
        got = counts.get(bytes.fromhex(hexrgb), 0)
        print(f"  #{hexrgb}: {got} pixels")
        if got < int(need):
            problems.append(f"#{hexrgb} covers {got} pixels, expected at least {need}")
    for p in problems:
        print(f"{path}: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
