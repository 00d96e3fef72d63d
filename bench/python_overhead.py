#!/usr/bin/python3
"""python_overhead.py [INDEX_DIR] — per-call overhead of the Python binding against the C API.

On 4 KB outputs made from the demo library (half of them hold a recited passage of 200-1200
bytes, half are original words), times `recite.Index.check` (check, verdict, Result with str
offsets) and the same calls through the C API (bench/python_overhead.c: recite_check_text +
recite_policy_decide), one thread each, alternating, ROUNDS times; reports the best mean per
call of each and the overhead. Goal: at most 5 %. Needs `make demo` (demo-out/index) and
`make python`. A benchmark, not a test: it never fails on the goal.
Environment: BENCH_OUTPUTS (default 400), BENCH_ROUNDS (default 7)."""
import os
import pathlib
import random
import statistics
import struct
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))
import recite  # noqa: E402


def outputs(index_dir, n):
    idx = recite.Index(index_dir)
    rnd = random.Random(11)
    words = pathlib.Path("/usr/share/dict/words").read_text().split() \
        if pathlib.Path("/usr/share/dict/words").exists() else \
        [f"w{rnd.randrange(10**6)}" for _ in range(20000)]
    texts = []
    for i in range(n):
        filler = " ".join(rnd.choice(words) for _ in range(900))
        if i % 2:
            w = rnd.randrange(len(idx))
            info = idx.work(w)
            if info.work_bytes > 2000:
                a = rnd.randrange(info.work_bytes - 1500)
                span = idx.work_text(w, a, a + rnd.randint(200, 1200)).decode("utf-8", "replace")
                cut = rnd.randrange(1000)
                filler = filler[:cut] + " " + span + " " + filler[cut:]
        texts.append(filler.encode("utf-8")[:4096].decode("utf-8", "ignore"))
    return idx, texts


def main():
    index_dir = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "demo-out" / "index")
    n = int(os.environ.get("BENCH_OUTPUTS", "400"))
    rounds = int(os.environ.get("BENCH_ROUNDS", "7"))
    idx, texts = outputs(index_dir, n)
    with tempfile.TemporaryDirectory() as tmp:
        exe = os.path.join(tmp, "python_overhead")
        libs = subprocess.run(["pkg-config", "--libs", "libxxhash", "libutf8proc", "libzstd",
                               "jansson", "sqlite3", "libsodium"], capture_output=True,
                              text=True, check=True).stdout.split()
        subprocess.run(["cc", "-std=c17", "-O2", "-D_GNU_SOURCE", "-I", str(ROOT / "include"),
                        str(ROOT / "bench" / "python_overhead.c"),
                        str(ROOT / "build" / "librecite.a"), *libs, "-lpthread", "-lm", "-o",
                        exe], check=True)
        inputs = os.path.join(tmp, "inputs")
        with open(inputs, "wb") as f:
            for t in texts:
                b = t.encode()
                f.write(struct.pack("<I", len(b)) + b)
        matched = sum(1 for t in texts if idx.check(t).matches)
        c_ns, py_ns = [], []
        for _ in range(3):
            out = subprocess.run([exe, index_dir, inputs, str(rounds)], capture_output=True,
                                 text=True, check=True).stdout.split()
            c_ns.append(float(out[0]))
            best = 1e30
            for _ in range(rounds):
                t0 = time.perf_counter_ns()
                for t in texts:
                    idx.check(t)
                best = min(best, (time.perf_counter_ns() - t0) / len(texts))
            py_ns.append(best)
    c, py = min(c_ns), min(py_ns)
    print(f"outputs: {len(texts)} of ~4 KB ({matched} with matches), index {index_dir}")
    print(f"C API (recite_check_text + recite_policy_decide): {c / 1000:8.1f} us per call "
          f"(runs: {', '.join(f'{x / 1000:.1f}' for x in c_ns)})")
    print(f"Python (recite.Index.check -> Result):            {py / 1000:8.1f} us per call "
          f"(runs: {', '.join(f'{x / 1000:.1f}' for x in py_ns)})")
    print(f"overhead: {py - c:.0f} ns per call, {100 * (py - c) / c:.1f} % (goal: <= 5 %); "
          f"median-based {100 * (statistics.median(py_ns) - statistics.median(c_ns)) / statistics.median(c_ns):.1f} %")


if __name__ == "__main__":
    main()
