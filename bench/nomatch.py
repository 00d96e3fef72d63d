#!/usr/bin/python3
"""nomatch.py CORPUS OUT N [SEED] — N outputs of about 4 KB that share nothing with the library:
words of held-out text drawn at random (plant.py's unrelated filler, without planted spans),
in lines of 40-100 characters. Writes OUT/outputs/NNNNN.txt and OUT/list.txt. The throughput of
the checker on text with no matches (tokenize, hash and look up every k-gram; nothing to
verify). Only the standard library."""
import os
import random
import sys

sys.dont_write_bytecode = True  # no __pycache__ in bench/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from plant import Files, OUTPUT_BYTES, shuffled_filler, word_pool  # noqa: E402


def main():
    if len(sys.argv) not in (4, 5):
        raise SystemExit("usage: nomatch.py CORPUS OUT N [SEED]")
    corpus, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 13)
    pool = word_pool(rng, Files(corpus, "held"))
    os.makedirs(os.path.join(out, "outputs"), exist_ok=True)
    paths = []
    for i in range(n):
        p = os.path.join(out, "outputs", "%05d.txt" % i)
        with open(p, "w", encoding="utf-8") as f:
            f.write(shuffled_filler(rng, pool, OUTPUT_BYTES) + "\n")
        paths.append(os.path.abspath(p))
    with open(os.path.join(out, "list.txt.tmp"), "w") as f:
        f.write("".join(p + "\n" for p in paths))
    os.rename(os.path.join(out, "list.txt.tmp"), os.path.join(out, "list.txt"))
    print("%d outputs of about %d bytes with no planted span (held-out words at random)" % (
        n, OUTPUT_BYTES))


if __name__ == "__main__":
    main()
