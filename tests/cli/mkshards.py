#!/usr/bin/python3
"""mkshards.py — the fixture of the sharded-index tests (tests/cli/t_shards.sh; stdlib only).

  mkshards.py LIB OUT    writes OUT/lib/... (works) and OUT/in/*.txt (check inputs)

The works are made of generated words, so that what depends on the whole library shows:
  boiler/   80 unrelated works, 12 of them sharing a passage B: common language for the library
            (its common threshold is 8 families: 1% of its families, at least 8), though no
            shard of five holds 8 of them
  shared/   62 unrelated works, 6 of them sharing a passage P, and forks/: 30 forks of one text
            holding P (one family of near-duplicates): P is in 7 families, not common language;
            counted per shard the forks would be up to five families and P common
  code/     6 Python works whose comments are 40 generated words (found by their views)
  dup-*/    the same text three times, far apart in input order (one cluster: "also")
The inputs quote B, P, a fork with an edit, the duplicated text, and spans of LIB (the main
fixture library's works), alone and mixed; big.txt is 102 works whole (verified in threads).
"""
import os
import random
import sys


def words(seed, n):
    rng = random.Random(seed)
    return " ".join("".join(rng.choice("bcdfghjklmnprstvw") + rng.choice("aeiou")
                            for _ in range(rng.randint(2, 4))) for _ in range(n))


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def main():
    lib, out = sys.argv[1], sys.argv[2]
    B = words("boilerplate", 70)
    P = words("shared passage", 60)
    base = words("fork base", 200) + "\n\n" + P + "\n\n" + words("fork tail", 200)
    for i in range(80):
        write(f"{out}/lib/boiler/b{i:03d}.txt",
              words(f"b{i}", 180) + "\n\n" + (B if i < 12 else words(f"b{i} mid", 70)) +
              "\n\n" + words(f"b{i} end", 120) + "\n")
    for i in range(62):
        write(f"{out}/lib/shared/s{i:02d}.txt",
              words(f"s{i}", 160) + "\n\n" + (P if i < 6 else words(f"s{i} mid", 60)) +
              "\n\n" + words(f"s{i} end", 140) + "\n")
    toks = base.split(" ")
    for i in range(30):
        t = list(toks)
        t[20 + 7 * i] = "forkedit" + str(i)
        write(f"{out}/lib/forks/f{i:02d}.txt", " ".join(t) + "\n")
    # Code works (indexed as code by extension), found by the words of their comments too: the
    # views of the shards. Several, so that they land in several shards.
    code = {}
    for i in range(6):
        doc = words(f"code comment {i}", 40)
        code[i] = doc
        body = "\n".join(f"    total_{j} = item_{j} * {j + i} + offset_{i}" for j in range(30))
        write(f"{out}/lib/code/mod{i}.py",
              f"# {doc}\n\n\ndef compute_{i}(items):\n{body}\n    return total_0\n")
    dup = words("duplicated", 150) + "\n"
    for d in ("dup-a", "dup-m", "dup-z"):
        write(f"{out}/lib/{d}/copy.txt", dup)

    def span(path, at, n):
        with open(path, encoding="utf-8", errors="replace") as f:
            w = f.read().split()
        i = int(len(w) * at)
        return " ".join(w[i:i + n])

    fill = words("filler of the inputs", 40)
    libworks = sorted(os.path.join(r, f) for r, _, fs in os.walk(lib) for f in fs)
    write(f"{out}/in/boiler.txt", fill + "\n" + B + "\n" + fill + "\n")
    write(f"{out}/in/shared.txt", fill + "\n" + P + "\n" + fill + "\n")
    fork = list(toks[:120])
    fork[60] = "changed"
    write(f"{out}/in/fork.txt", " ".join(fork) + "\n")
    write(f"{out}/in/dup.txt", fill + " " + dup)
    write(f"{out}/in/lib.txt", "\n\n".join(span(p, 0.3, 40) for p in libworks[:6]) + "\n")
    write(f"{out}/in/mix.txt", "\n".join([span(libworks[0], 0.5, 30), B, " ".join(fork[:80]),
                                          fill, P[:200], dup, span(libworks[-1], 0.1, 25)]) + "\n")
    write(f"{out}/in/none.txt", fill + "\n")
    write(f"{out}/in/code.txt", fill + "\n" + "\n".join(code[i][:160] for i in (1, 4)) + "\n")
    # Whole works, many of them: enough to verify for a sharded index to do it in threads.
    big = []
    for i in range(40):
        with open(f"{out}/lib/boiler/b{i:03d}.txt", encoding="utf-8") as f:
            big.append(f.read())
    for i in range(62):
        with open(f"{out}/lib/shared/s{i:02d}.txt", encoding="utf-8") as f:
            big.append(f.read())
    write(f"{out}/in/big.txt", "\n".join(big))


if __name__ == "__main__":
    main()
