#!/usr/bin/python3
"""report.py — the analysis half of bench/run.sh. Only the standard library.

  report.py select-sim TRUTH CORPUS RUN N_OUTPUTS N_OTHERS
      picks the sim_text subset: the first N_OUTPUTS outputs, the works of their planted spans
      and N_OTHERS other random works; writes RUN/sim_outputs.txt, RUN/sim_works.txt and
      RUN/sim_args.txt (sim_text -i input: outputs, "/", works).
  report.py report RUN TRUTH CORPUS [TRUTH_UNREL]
      reads what run.sh measured in RUN and prints every section and the summary table;
      also writes RUN/results.json. TRUTH is the library-filler set (filler from held-out files,
      which share real text with the library); TRUTH_UNREL, when given, the unrelated-filler set
      (the same spans in held-out words drawn at random), reported side by side.

Recall rules, for a planted span:
  attributed  some reported match has the planted work's cluster (recite reports the
              representative of a cluster of identical works) and its output range covers at
              least 90% of the planted span's output bytes. Complete attribution: what the
              all_works option (BENCH_ALL_WORKS=1) promises.
  detected    some reported match, of any work, covers at least 90% of the planted span's bytes
              and its source range (read from the corpus file) holds the words of the part of the
              span it covers (normalized: case, Unicode, words only). What the defaults promise:
              every span found, a passage of common language attributed to a few of the works
              holding it.
'In contract': the planted copy's words still equal the source's under recite's documented
normalization (a naive transform can change them: a reflow that splits a hyphenated word).
For sim_text, which reports line ranges: some reported run of that output against the planted
work whose output line range covers at least 90% of the planted span's lines.
"""
import bisect
import difflib
import json
import os
import random
import re
import statistics
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in bench/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from plant import norm_words  # noqa: E402

BUCKETS = ["12-19", "20-39", "40-99", "100-300"]
# A near match is genuine when the words matched (difflib, else the longest common subsequence)
# over the longer side reach this: recite's default min_similarity is 0.8, with its own alignment
# and its own tokens; a little slack for the differences.
NEAR_OK = 0.75
TRANSFORMS = ["case", "quotes", "dashes", "reflow", "hyphenate", "linenum"]


def load_truth(path):
    with open(path) as f:
        return json.load(f)


# ---------------------------------------------------------------- sim subset selection

def select_sim(truth_path, corpus, run, n_out, n_others):
    truth = load_truth(truth_path)[:n_out]
    planted = sorted({sp["work"] for t in truth for sp in t["spans"]})
    lib = []
    for dp, dn, fn in os.walk(os.path.join(corpus, "lib")):
        dn.sort()
        for f in sorted(fn):
            lib.append(os.path.relpath(os.path.join(dp, f), corpus))
    rng = random.Random(11)
    pset = set(planted)
    others = [w for w in rng.sample(lib, min(len(lib), n_others * 2)) if w not in pset][:n_others]
    works = planted + others
    outs = [t["file"] for t in truth]
    with open(os.path.join(run, "sim_outputs.txt"), "w") as f:
        f.write("".join(o + "\n" for o in outs))
    with open(os.path.join(run, "sim_works.txt"), "w") as f:
        f.write("".join(w + "\n" for w in works))
    with open(os.path.join(run, "sim_args.txt"), "w") as f:
        f.write("".join(o + "\n" for o in outs) + "/\n" + "".join(w + "\n" for w in works))
    size = sum(os.path.getsize(os.path.join(corpus, w)) for w in works)
    print("subset: %d outputs, %d works with planted spans + %d others (%.1f MB of works)" % (
        len(outs), len(planted), len(others), size / 1e6))


# ---------------------------------------------------------------- helpers

def rss_mb(path):
    """Peak RSS in MB from GNU time -v output."""
    with open(path) as f:
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", f.read())
    return int(m.group(1)) / 1024


def cpu_s(path):
    """User + system CPU seconds from GNU time -v output."""
    with open(path) as f:
        d = f.read()
    return sum(float(re.search(r"%s time \(seconds\): ([0-9.]+)" % k, d).group(1))
               for k in ("User", "System"))


def num(path):
    with open(path) as f:
        return float(f.read().strip())


def fmt(x, nd=2):
    if x is None:
        return "-"
    if isinstance(x, str):
        return x
    if abs(x) >= 100:
        return "%.0f" % x
    return ("%." + str(nd) + "f") % x


def overlap(a0, a1, b0, b1):
    return max(0, min(a1, b1) - max(a0, b0))


# ---------------------------------------------------------------- the report

class OutSet:
    """One set of generated outputs and what bench_check reported for it: RUN/check{S}.json,
    matches{S}.tsv, latency{S}.tsv and, with full attribution, the same with {S}_full, where
    S = "" for the library-filler set and "_unrel" for the unrelated-filler set."""

    def __init__(self, rep, key, label, truth_path, suffix):
        self.key, self.label, self.suffix = key, label, suffix
        self.truth = load_truth(truth_path)
        with open(rep.p("check%s.json" % suffix)) as f:
            self.check = json.load(f)
        self.full = None
        if os.path.exists(rep.p("check%s_full.json" % suffix)):
            with open(rep.p("check%s_full.json" % suffix)) as f:
                self.full = json.load(f)
        self.matches = rep.load_matches("matches%s.tsv" % suffix)
        self.matches_full = rep.load_matches("matches%s_full.tsv" % suffix) \
            if self.full is not None else None
        self.tally, self.fp = {}, {}
        # The outputs the full-attribution pass checked (it has a time limit: the first ones).
        self.full_outputs = None
        if self.full is not None:
            with open(rep.p("latency%s_full.tsv" % suffix)) as f:
                self.full_outputs = {int(line.split("\t")[0]) for line in f}

    def full_label(self):
        """The set's label, with the number of outputs when the full pass checked fewer."""
        n = len(self.full_outputs or ())
        return self.label + ("" if n == len(self.truth) else " (%d)" % n)


class Report:
    def __init__(self, run, truth_path, corpus, unrel_truth_path=None):
        self.run, self.corpus = run, corpus
        self.p = lambda name: os.path.join(run, name)
        with open(self.p("params.json")) as f:
            self.params = json.load(f)
        self.cluster, self.number = {}, {}
        with open(self.p("works.tsv"), encoding="utf-8", errors="surrogateescape") as f:
            for k, line in enumerate(f):
                wid, cl, rep = line.rstrip("\n").split("\t")
                self.cluster[wid] = int(cl)
                self.number[wid] = k  # works.tsv lists the works in index order
        self.texts = None  # bench/work_text, started on first use
        self.lib = OutSet(self, "lib", "library filler", truth_path, "")
        self.sets = [self.lib]
        if unrel_truth_path:
            self.sets.append(OutSet(self, "unrel", "unrelated filler", unrel_truth_path, "_unrel"))
        self.rows = []  # the summary table
        self.results = {}

    def load_matches(self, name):
        out = {}
        with open(self.p(name), encoding="utf-8", errors="surrogateescape") as f:
            for line in f:
                o, wid, cl, os_, oe, ss, se, tok, kind, sim, common = \
                    line.rstrip("\n").split("\t")
                out.setdefault(int(o), []).append(dict(
                    work=wid, cluster=int(cl), out_start=int(os_), out_end=int(oe),
                    src_start=int(ss), src_end=int(se), tokens=int(tok), kind=kind,
                    similarity=float(sim), common=common == "1"))
        return out

    def row(self, metric, recite, baseline="", ratio=None, target="", ok=None, outputs=""):
        self.rows.append((metric, outputs, recite, baseline, ratio, target, ok))

    # ---- build
    def build(self):
        zs = sorted(num(self.p("zstd%d.sec" % i)) for i in (1, 2, 3))
        z = statistics.median(zs)
        lib_bytes = int(open(self.p("lib.du")).read())
        with open(self.p("stats.json")) as f:
            st = json.load(f)
        text = st["text_bytes"]
        cat = os.path.getsize(os.path.join(self.corpus, "lib.cat"))
        runs = {}
        for cfg, names in (("default", ("idx", "idx_b")), ("jobs1", ("idx1", "idx1_b"))):
            runs[cfg] = sorted((num(self.p(n + ".sec")), cpu_s(self.p(n + ".time")),
                                rss_mb(self.p(n + ".time"))) for n in names
                               if os.path.exists(self.p(n + ".sec")))
        (t2, c2, r2), (t1, c1, r1) = runs["default"][0], runs["jobs1"][0]
        rz = rss_mb(self.p("zstd1.time"))
        cz = statistics.median(cpu_s(self.p("zstd%d.time" % i)) for i in (1, 2, 3))
        mb = cat / 1e6
        print("\n-- build: %.1f MB in %d files (lib/) -> index of %d works, %.1f MB distinct text" % (
            mb, st["works"], st["works"], text / 1e6))
        print("  %-32s %8s %8s %9s %8s %11s %11s" % ("(faster of 2 runs for recite)", "wall s",
                                                    "MB/s", "CPU s", "MB/CPU-s", "peak RSS",
                                                    "x zstd wall"))
        for label, (t, c, r), cfg in (("recite index (jobs=%d, default)" % self.params["nproc"],
                                       (t2, c2, r2), "default"),
                                      ("recite index --jobs 1", (t1, c1, r1), "jobs1")):
            print("  %-32s %8.2f %8.1f %9.2f %8.1f %8.0f MB %11.2f   (wall of runs: %s)" % (
                label, t, mb / t, c, mb / c, r, t / z,
                ", ".join("%.2f" % x[0] for x in runs[cfg])))
        print("  %-32s %8.2f %8.1f %9.2f %8.1f %8.0f MB %11s   (wall of runs: %s)" % (
            "zstd -3 -T1 (median of 3)", z, mb / z, cz, mb / cz, rz, "1.00",
            ", ".join("%.2f" % x for x in zs)))
        print("  parallel speed-up of the build, jobs=%d over jobs=1: %.2fx" % (
            self.params["nproc"], t1 / t2))
        self.row("build MB/s (jobs=%d)" % self.params["nproc"], "%.1f" % (mb / t2),
                 "zstd -3 -T1 %.1f" % (mb / z), (mb / t2) / (mb / z), "", None)
        self.row("build MB/s per core (jobs=1)", "%.1f" % (mb / t1), "zstd -3 -T1 %.1f" % (mb / z),
                 (mb / t1) / (mb / z), ">= 50 MB/s", mb / t1 >= 50)
        self.row("build time / zstd time (jobs=%d)" % self.params["nproc"], "%.2f s" % t2,
                 "%.2f s" % z, t2 / z, "<= 4x", t2 / z <= 4)
        self.row("build time / zstd time (jobs=1)", "%.2f s" % t1, "%.2f s" % z, t1 / z, "<= 4x",
                 t1 / z <= 4)
        self.row("build peak RSS (jobs=%d)" % self.params["nproc"], "%.0f MB" % r2,
                 "zstd %.0f MB" % rz, r2 / rz, "", None)
        self.row("build MB per CPU-second (jobs=1)", "%.1f" % (mb / c1),
                 "zstd -3 -T1 %.1f" % (mb / cz), (mb / c1) / (mb / cz), "", None)
        self.results["build"] = dict(mb=mb, runs=runs, zstd_seconds=zs, zstd_cpu_seconds=cz,
                                     zstd_rss_mb=rz)
        # index size
        b = st["bytes"]
        idx_du = int(open(self.p("idx.du")).read())
        print("\n-- index size: library %.1f MB (du -sb), distinct text %.1f MB (stats text_bytes)"
              % (lib_bytes / 1e6, text / 1e6))
        print("  index %.1f MB = postings %.1f + text %.1f + works %.1f + checkpoints %.1f MB;"
              " du -sb of the index dir %.1f MB" % (b["total"] / 1e6, b["postings"] / 1e6,
                                                     b["text"] / 1e6, b["works"] / 1e6,
                                                     b["checkpoints"] / 1e6, idx_du / 1e6))
        zsize = int(open(self.p("zstd.size")).read())
        print("  index / text_bytes %.3f; index / library (du) %.3f; for scale: zstd -3 of the"
              " library is %.1f MB (%.3f)" % (b["total"] / text, b["total"] / lib_bytes,
                                              zsize / 1e6, zsize / lib_bytes))
        print("  %d works, %d clusters, %d tokens, %d fingerprints (k=%d, w=%d, guarantee %d"
              " tokens)" % (st["works"], st["clusters"], st["tokens"], st["fingerprints"],
                            st["kgram"], st["window"], st["min_tokens"]))
        self.row("index size / library", "%.1f MB" % (b["total"] / 1e6),
                 "library %.1f MB" % (lib_bytes / 1e6), b["total"] / lib_bytes, "<= 0.8x",
                 b["total"] / lib_bytes <= 0.8)
        self.results["index"] = dict(stats=st, library_bytes=lib_bytes, index_du=idx_du)

    # ---- check speed
    def check_speed(self, st):
        c, s = st.check, st.suffix
        rss = rss_mb(self.p("check%s.time" % s))
        print("\n-- check, %s: %d outputs, %.2f MB, one thread, %d timed passes after a warm-up" % (
            st.label, c["outputs"], c["bytes"] / 1e6, c["passes"]))
        print("  throughput %.2f MB/s (sum of best times), %.2f MB/s (first timed pass), %.2f MB/s"
              " (warm-up pass, cold index pages)" % (c["mb_per_s"], c["mb_per_s_first_pass"],
                                                     c["mb_per_s_warmup"]))
        print("  latency per output, best of passes: p50 %.3f  p90 %.3f  p99 %.3f  max %.3f ms" % (
            c["p50_ms"], c["p90_ms"], c["p99_ms"], c["max_ms"]))
        print("  latency per output, first pass:     p50 %.3f  p90 %.3f  p99 %.3f  max %.3f ms" % (
            c["first_p50_ms"], c["first_p90_ms"], c["first_p99_ms"], c["first_max_ms"]))
        ncommon = sum(m["common"] for ms in st.matches.values() for m in ms)
        lat, others = [], 0
        with open(self.p("latency%s.tsv" % s)) as f:
            for line in f:
                i, n, first, best, nm, oth, trunc = line.split("\t")
                lat.append((int(n), float(best), int(nm)))
                others += int(oth)
        print("  %d matches reported (%d flagged common language), %d more works counted as"
              " sharing only common language (common_others, summed), %d results truncated;"
              " bench_check peak RSS %.0f MB" % (c["matches"], ncommon, others, c["truncated"], rss))
        print("  by matches reported per output (latency = best of passes):")
        print("    %-14s %8s %10s %10s %10s" % ("matches", "outputs", "MB/s", "p50 ms", "p99 ms"))
        for lo, hi in ((0, 3), (4, 20), (21, 100), (101, 1000), (1001, 10 ** 9)):
            g = [x for x in lat if lo <= x[2] <= hi]
            if not g:
                continue
            ms = sorted(x[1] for x in g)
            mbs = sum(x[0] for x in g) / 1e6 / (sum(ms) / 1e3) if sum(ms) else 0
            print("    %-14s %8d %10.2f %10.3f %10.3f" % (
                "%d-%s" % (lo, hi if hi < 10 ** 9 else ""), len(g), mbs,
                ms[len(ms) // 2], ms[min(len(ms) - 1, int(0.99 * (len(ms) - 1) + 0.5))]))
        clean = [x for x in lat if x[2] <= 3]
        if clean:
            cms = sorted(x[1] for x in clean)
            cmbs = sum(x[0] for x in clean) / 1e6 / (sum(cms) / 1e3) if sum(cms) else 0
            c["clean"] = dict(outputs=len(clean), mb_per_s=cmbs, p50_ms=cms[len(cms) // 2],
                              p99_ms=cms[min(len(cms) - 1, int(0.99 * (len(cms) - 1) + 0.5))])
        c["matches_common"], c["common_others"], c["rss_mb"] = ncommon, others, rss
        c["matches_per_output_median"] = sorted(x[2] for x in lat)[len(lat) // 2] if lat else 0
        if st.full is not None:
            cf = st.full
            print("  with full attribution (BENCH_ALL_WORKS=1, the all_works option, as `recite"
                  " check --all-works`: every work sharing a span is itemized, common language"
                  " included; one pass, no warm-up; the first %d of %d outputs%s):" % (
                      cf["outputs"], cf.get("outputs_listed", cf["outputs"]),
                      ", time limit" if cf["outputs"] < cf.get("outputs_listed", 0) else ""))
            print("    throughput %.3f MB/s, latency p50 %.3f  p90 %.3f  p99 %.3f  max %.3f ms,"
                  " %d matches, %d truncated" % (cf["mb_per_s"], cf["p50_ms"], cf["p90_ms"],
                                                 cf["p99_ms"], cf["max_ms"], cf["matches"],
                                                 cf["truncated"]))
        self.results["check" + s] = c
        if st.full is not None:
            self.results["check%s_full" % s] = st.full

    # ---- recall
    def found(self, t, sp, matches):
        """Attributed: a match of the planted work's cluster covers >= 90% of the span."""
        cl = self.cluster.get(sp["work"])
        need = 0.9 * (sp["out_end"] - sp["out_start"])
        best = None
        for m in matches:
            ov = overlap(m["out_start"], m["out_end"], sp["out_start"], sp["out_end"])
            if m["cluster"] == cl and ov >= need:
                return "found", m
            if m["cluster"] == cl and ov > 0:
                best = best or ("partial", m)
            elif ov >= need and best is None:
                best = ("other-work", m)
        return best if best else ("missed", None)

    def holds(self, data, sp, m, cache):
        """Does the source range of match m hold the words of the part of planted span sp that
        m covers (as a contiguous run, after normalization: case, Unicode, words only)?"""
        x0, x1 = max(m["out_start"], sp["out_start"]), min(m["out_end"], sp["out_end"])
        o = norm_words(data, x0, x1)
        s = norm_words(self.src_bytes(m["work"], cache), m["src_start"], m["src_end"])
        return bool(o) and ("\0" + "\0".join(o) + "\0") in ("\0" + "\0".join(s) + "\0")

    def detected(self, data, sp, matches, cache):
        """Detected: some match (of any work) covers >= 90% of the span and its source range
        really holds the span's words. Returns (status, match)."""
        cl = self.cluster.get(sp["work"])
        need = 0.9 * (sp["out_end"] - sp["out_start"])
        ovl = lambda m: overlap(m["out_start"], m["out_end"], sp["out_start"], sp["out_end"])
        cov = sorted((m for m in matches if ovl(m) >= need), key=lambda m: m["cluster"] != cl)
        for m in cov:
            if self.holds(data, sp, m, cache):
                return "detected", m
        if cov:
            return "covered, source differs", cov[0]
        part = [m for m in matches if ovl(m) > 0]
        if part:
            return "partial", max(part, key=ovl)
        return "missed", None

    DEFS = [("attributed", "attributed"), ("detected", "detected"),
            ("attributed_all", "attributed, all works"), ("detected_all", "detected, all works")]

    def recall(self, st):
        tally = {d: {} for d, _ in self.DEFS}
        misses = []   # attributed, default options
        dmisses = []  # detected, default options
        kinds = {}
        cache = {}
        outside = 0
        odd_kind = []
        full = st.matches_full is not None
        for t in st.truth:
            ms = st.matches.get(t["output"], [])
            in_full = full and t["output"] in st.full_outputs
            mf = st.matches_full.get(t["output"], []) if in_full else None
            data = self.out_bytes(t)
            for sp in t["spans"]:
                status, m = self.found(t, sp, ms)
                dstatus, dm = self.detected(data, sp, ms, cache)
                hit = {"attributed": status == "found", "detected": dstatus == "detected"}
                sp["found_full"] = sp["detected_full"] = None
                if in_full:
                    sp["found_full"] = hit["attributed_all"] = self.found(t, sp, mf)[0] == "found"
                    sp["detected_full"] = hit["detected_all"] = \
                        self.detected(data, sp, mf, cache)[0] == "detected"
                # Is the copy still a normalized copy under recite's documented rules? A naive
                # reflow can break a word hyphenated at a line end ("FIT-\nNESS" -> "FIT- NESS")
                # or move a 1-3 digit number to or from a line start (line-number furniture).
                sp["in_contract"] = norm_words(data, sp["out_start"], sp["out_end"]) == \
                    norm_words(self.file_bytes(sp["work"], cache), sp["src_start"], sp["src_end"])
                outside += not sp["in_contract"]
                keys = ["all", sp["kind"], "bucket " + sp["bucket"],
                        sp["kind"] + " " + sp["bucket"]]
                if sp["in_contract"]:
                    keys += ["in contract", sp["kind"] + " in contract"]
                keys += ["transform " + x for x in sp["transforms"]]
                if sp["kind"] == "normalized" and len(sp["transforms"]) == 1:
                    keys.append("only " + sp["transforms"][0])
                for d, ok in hit.items():
                    for k in keys:
                        a = tally[d].setdefault(k, [0, 0])
                        a[0] += ok
                        a[1] += 1
                if hit["attributed"]:
                    kinds.setdefault(sp["kind"], {}).setdefault(m["kind"], 0)
                    kinds[sp["kind"]][m["kind"]] += 1
                    if m["kind"] != sp["kind"]:
                        odd_kind.append((t, sp, m))
                else:
                    misses.append((t, sp, status, m))
                if not hit["detected"]:
                    dmisses.append((t, sp, dstatus, dm))
        st.tally = tally
        print("\n-- recall, %s (%d planted spans in %d outputs)" % (
            st.label, tally["attributed"]["all"][1], len(st.truth)))
        print("  attributed = a match of the planted work's cluster covers >= 90% of the span's"
              " bytes (complete attribution: what all_works promises);")
        print("  detected   = some match covers >= 90% of the span's bytes and its source range,"
              " read from the corpus, holds the span's words (what the defaults promise: every"
              " span found, common language attributed to a few of the works holding it)")
        defs = [(d, name) for d, name in self.DEFS if tally[d]]
        if full and len(st.full_outputs) < len(st.truth):
            print("  all works: the full-attribution pass checked the first %d of %d outputs (time"
                  " limit BENCH_FULL_SECONDS), %d planted spans" % (
                      len(st.full_outputs), len(st.truth), tally["attributed_all"]["all"][1]))
        print("  %-22s" % "" + "".join("  %21s" % name for _, name in defs))
        order = ["all", "exact", "normalized", "in contract", "exact in contract",
                 "normalized in contract"] + ["bucket " + b for b in BUCKETS] + \
            ["exact " + b for b in BUCKETS] + ["normalized " + b for b in BUCKETS] + \
            ["transform " + x for x in TRANSFORMS] + ["only " + x for x in TRANSFORMS]
        for k in order:
            if k in tally["attributed"]:
                print("  %-22s" % k + "".join(
                    "  %13s %7.4f" % ("%d/%d" % tuple(tally[d][k]),
                                      tally[d][k][0] / tally[d][k][1])
                    if k in tally[d] else "  %21s" % "-" for d, _ in defs))
        print("  kind reported for attributed spans: " + "; ".join(
            "planted %s -> %s" % (pk, ", ".join("%s %d" % kv for kv in sorted(v.items())))
            for pk, v in sorted(kinds.items())))
        for t, sp, m in odd_kind[:4]:
            print("    found as %s, planted %s (%s): output %d [%d, %d) match [%d, %d) %s [%d, %d)"
                  " similarity %.4f" % (m["kind"], sp["kind"], "+".join(sp["transforms"]) or "-",
                                        t["output"], sp["out_start"], sp["out_end"],
                                        m["out_start"], m["out_end"], m["work"], m["src_start"],
                                        m["src_end"], m["similarity"]))
        print("  'in contract': the copy's words still equal the source's under recite's documented"
              " normalization (%d of %d spans are not: the transform changed the words)" % (
                  outside, tally["attributed"]["all"][1]))
        by_status = {}
        for _, sp, status, _ in misses:
            status = status + ("" if sp["in_contract"] else " (words changed)") + \
                (" (found with all works)" if sp["found_full"] else "")
            by_status[status] = by_status.get(status, 0) + 1
        if misses:
            print("  not attributed %d: %s (partial = a match of the right work covers < 90%%;"
                  " other-work = the span is covered by a match of another work only)" % (
                      len(misses), ", ".join("%s %d" % kv for kv in sorted(by_status.items()))))
            for t, sp, status, m in misses[:6]:
                print("    output %d [%d, %d) %s %d tokens %s %s%s%s <- %s [%d, %d): %s" % (
                    t["output"], sp["out_start"], sp["out_end"], sp["kind"], sp["tokens"],
                    "+".join(sp["transforms"]) or "-", status,
                    "" if sp["in_contract"] else " (words changed)",
                    " (found with all works)" if sp["found_full"] else "", sp["work"],
                    sp["src_start"], sp["src_end"],
                    ("match [%d, %d) %s%s %s" % (m["out_start"], m["out_end"], m["kind"],
                                                 " common" if m["common"] else "", m["work"])
                     if m else "no match nearby")))
        # Not detected: with the defaults, a span of the contract that no match covers is a
        # miss of the guarantee (every shared run of 12+ tokens is reported), whatever the work.
        by_status = {}
        for _, sp, status, _ in dmisses:
            status = status + ("" if sp["in_contract"] else " (words changed)") + \
                (" (detected with all works)" if sp["detected_full"] else "")
            by_status[status] = by_status.get(status, 0) + 1
        dm_in = [x for x in dmisses if x[1]["in_contract"]]
        if dmisses:
            print("  not detected %d, %d of them in contract: %s (partial = matches cover < 90%%;"
                  " covered, source differs = a match covers the span but its source range does"
                  " not hold the span's words)" % (
                      len(dmisses), len(dm_in),
                      ", ".join("%s %d" % kv for kv in sorted(by_status.items()))))
            for t, sp, status, m in (dm_in + [x for x in dmisses if not x[1]["in_contract"]])[:12]:
                # what recite reported there: the matches overlapping the span most, then those
                # within 200 bytes of it
                near = sorted((x for x in st.matches.get(t["output"], [])
                               if overlap(x["out_start"], x["out_end"], sp["out_start"] - 200,
                                          sp["out_end"] + 200) > 0),
                              key=lambda x: -overlap(x["out_start"], x["out_end"],
                                                     sp["out_start"], sp["out_end"]))
                print("    %s output %d [%d, %d) %s %d tokens %s %s%s%s <- %s [%d, %d)" % (
                    t["file"], t["output"], sp["out_start"], sp["out_end"], sp["kind"],
                    sp["tokens"], "+".join(sp["transforms"]) or "-", status,
                    "" if sp["in_contract"] else " (words changed)",
                    " (detected with all works)" if sp["detected_full"] else "", sp["work"],
                    sp["src_start"], sp["src_end"]))
                for x in near[:4]:
                    print("        reported: [%d, %d) %s [%d, %d) %d tokens %s%s" % (
                        x["out_start"], x["out_end"], x["work"], x["src_start"], x["src_end"],
                        x["tokens"], x["kind"], " common" if x["common"] else ""))
                if not near:
                    print("        reported: nothing within 200 bytes")
        else:
            print("  every planted span detected")
        self.results["recall" + st.suffix] = {
            d: {k: dict(found=v[0], planted=v[1]) for k, v in tally[d].items()} for d in tally}
        self.results["not_attributed" + st.suffix] = [
            dict(output=t["output"], status=s, **sp) for t, sp, s, _ in misses]
        self.results["not_detected" + st.suffix] = [
            dict(output=t["output"], status=s, **sp) for t, sp, s, _ in dmisses]

    # ---- false positives
    def false_positives(self, st, verify_all):
        """Matches that correspond to no planted span (not the planted work's cluster over it).
        Verified (all of them, or a sample of 300): do the output's words over the reported range
        equal the work's words over its reported range?"""
        fps = []
        nmatch = 0
        for t in st.truth:
            spans = t["spans"]
            for m in st.matches.get(t["output"], []):
                nmatch += 1
                true = any(self.cluster.get(sp["work"]) == m["cluster"] and
                           overlap(m["out_start"], m["out_end"], sp["out_start"], sp["out_end"]) > 0
                           for sp in spans)
                if not true:
                    inside = any(overlap(m["out_start"], m["out_end"], sp["out_start"],
                                         sp["out_end"]) > 0 for sp in spans)
                    fps.append((t, m, inside))
        in_filler = sum(1 for _, _, inside in fps if not inside)
        outs = len({t["output"] for t, _, _ in fps})
        print("\n-- false positives, %s: %d of %d reported matches correspond to no planted span,"
              " in %d of %d outputs: %d lie in filler only, %d overlap a planted span but name"
              " another work (the same text is in several works)" % (
                  st.label, len(fps), nmatch, outs, len(st.truth), in_filler,
                  len(fps) - in_filler))
        rng = random.Random(5)
        sample = fps if verify_all else rng.sample(fps, min(300, len(fps)))
        same = similar = 0
        texts = {}
        unequal = []
        for t, m, _ in sample:
            v = self.verify(t, m, texts)
            same += v == "equal"
            similar += v == "similar"
            if v == "differ":
                unequal.append((t, m))
        if sample:
            print("  verified %s%d: in %d the output's words equal the work's words over the"
                  " reported ranges (genuine repeats of library text), in %d (near matches) they"
                  " are similar (matched words / longer side >= %.2f), in %d they differ" % (
                      "" if verify_all else "a random sample of ", len(sample), same, similar,
                      NEAR_OK, len(unequal)))
        works = {}
        for _, m, _ in fps:
            works[m["work"]] = works.get(m["work"], 0) + 1
        top = sorted(works.items(), key=lambda kv: -kv[1])[:5]
        if top:
            print("  works most often reported: " + ", ".join("%s (%d)" % kv for kv in top))
        shown = 0
        seen_outputs = set()
        for t, m, inside in fps:
            if shown == 3 or inside or t["output"] in seen_outputs:
                continue
            seen_outputs.add(t["output"])
            shown += 1
            self.show_match("in filler %d" % shown, t, m, texts)
        for k, (t, m) in enumerate(unequal[:3]):
            self.show_match("words differ %d" % (k + 1), t, m, texts)
        st.fp = dict(count=len(fps), in_filler=in_filler, matches=nmatch, verified=len(sample),
                     verified_all=verify_all, words_equal=same, words_similar=similar)
        self.results["false_positives" + st.suffix] = st.fp

    # ---- the two sets side by side
    def compare(self):
        sets = self.sets
        print("\n-- side by side: the same planted spans in library filler (held-out files, which"
              " share real text with the library) and in unrelated filler (held-out words drawn at"
              " random); library defaults unless 'all works'")
        print("  %-40s" % "" + "".join(" %22s" % st.label for st in sets))
        def line(name, f):
            print("  %-40s" % name + "".join(" %22s" % f(st) for st in sets))
        line("outputs, MB", lambda st: "%d, %.2f" % (st.check["outputs"], st.check["bytes"] / 1e6))
        line("check MB/s (1 thread)", lambda st: "%.2f" % st.check["mb_per_s"])
        line("latency ms p50 / p90", lambda st: "%.3f / %.3f" % (st.check["p50_ms"],
                                                                 st.check["p90_ms"]))
        line("latency ms p99 / max", lambda st: "%.3f / %.3f" % (st.check["p99_ms"],
                                                                 st.check["max_ms"]))
        line("latency ms p99, first pass", lambda st: "%.3f" % st.check["first_p99_ms"])
        line("matches per output, median", lambda st: "%d" % st.check["matches_per_output_median"])
        line("matches (flagged common)", lambda st: "%d (%d)" % (st.check["matches"],
                                                                 st.check["matches_common"]))
        line("results truncated", lambda st: "%d" % st.check["truncated"])
        if all(st.full is not None for st in sets):
            line("all works: outputs checked (time limit)", lambda st: "%d of %d" % (
                st.full["outputs"], len(st.truth)))
            line("all works: MB/s", lambda st: "%.3f" % st.full["mb_per_s"])
            line("all works: latency ms p50 / p99", lambda st: "%.3f / %.3f" % (
                st.full["p50_ms"], st.full["p99_ms"]))
            line("all works: latency ms max", lambda st: "%.1f" % st.full["max_ms"])
        for d, name in self.DEFS:
            if not all(st.tally[d] for st in sets):
                continue
            for k in ["all", "exact", "normalized", "in contract"] + ["bucket " + b
                                                                       for b in BUCKETS]:
                line("recall %s, %s" % (name, k.replace("bucket ", "")), lambda st: "%d/%d %.4f" % (
                    st.tally[d][k][0], st.tally[d][k][1], st.tally[d][k][0] / st.tally[d][k][1])
                    if k in st.tally[d] else "-")
        line("false positives (no planted span)", lambda st: "%d of %d" % (st.fp["count"],
                                                                             st.fp["matches"]))
        line("  of which in filler only", lambda st: "%d" % st.fp["in_filler"])
        line("  verified: words equal (near: similar)", lambda st: "%d of %d%s" % (
            st.fp["words_equal"] + st.fp["words_similar"], st.fp["verified"],
            "" if st.fp["verified_all"] else " (sample)"))

    def check_rows(self):
        """Summary rows, each metric for both sets in turn."""
        sets = self.sets
        def rows(metric, val, target="", ok=None, only=None):
            for st in sets:
                if only and st.key != only:
                    continue
                v = val(st)
                if v is None:
                    continue
                self.row(metric, v[0], "", None, target(st) if callable(target) else target,
                         ok(v[1]) if ok else None,
                         st.full_label() if "all works" in metric else st.label)
        c = lambda k: lambda st: ("%.3f ms" % st.check[k], st.check[k])
        rows("check MB/s (1 thread)", lambda st: ("%.2f" % st.check["mb_per_s"],
                                                  st.check["mb_per_s"]),
             ">= 50 MB/s", lambda v: v >= 50)
        rows("check p50 latency / 4 KB", c("p50_ms"))
        rows("check p90 latency / 4 KB", c("p90_ms"))
        rows("check p99 latency / 4 KB", c("p99_ms"), "<= 2 ms", lambda v: v <= 2)
        rows("check max latency / 4 KB", c("max_ms"))
        rows("check p99 latency, 1st pass", c("first_p99_ms"), "<= 2 ms", lambda v: v <= 2)
        cl = lambda k, f: lambda st: (f % st.check["clean"][k], st.check["clean"][k]) \
            if "clean" in st.check else None
        rows("check MB/s, outputs <= 3 matches", cl("mb_per_s", "%.2f"), ">= 50 MB/s",
             lambda v: v >= 50, only="lib")
        rows("check p99, outputs <= 3 matches", cl("p99_ms", "%.3f ms"), "<= 2 ms",
             lambda v: v <= 2, only="lib")
        fl = lambda k, f: lambda st: (f % st.full[k], st.full[k]) if st.full else None
        rows("check MB/s, all works", fl("mb_per_s", "%.3f"), ">= 50 MB/s", lambda v: v >= 50)
        rows("check p99, all works", fl("p99_ms", "%.3f ms"), "<= 2 ms", lambda v: v <= 2)
        full_keys = ["all", "exact", "normalized", "in contract"] + ["bucket " + b
                                                                     for b in BUCKETS]
        for d, name, keys in (("detected", "detected", full_keys),
                              ("attributed", "attributed", ["all", "in contract"]),
                              ("attributed_all", "attributed, all works", full_keys),
                              ("detected_all", "detected, all works", ["all", "in contract"])):
            for k in keys:
                r = lambda st, d=d, k=k: ("%.4f" % (st.tally[d][k][0] / st.tally[d][k][1]),
                                          st.tally[d][k][0] == st.tally[d][k][1]) \
                    if st.tally[d].get(k) else None
                rows("recall %s, %s" % (name, k.replace("bucket ", "") +
                                        (" tokens" if k.startswith("bucket") else "")),
                     r, "1.0" if d != "attributed" else "(not promised)",
                     (lambda v: v) if d != "attributed" else None)
        rows("false positives (matches)", lambda st: ("%d" % st.fp["count"], None),
             lambda st: "(of %d matches)" % st.fp["matches"])
        rows("matches, words differ from the source",
             lambda st: ("%d of %d%s" % (st.fp["verified"] - st.fp["words_equal"] -
                                         st.fp["words_similar"], st.fp["verified"],
                                         "" if st.fp["verified_all"] else " sampled"),
                         st.fp["verified"] == st.fp["words_equal"] + st.fp["words_similar"]),
             "0", lambda v: v)

    def out_bytes(self, t):
        with open(t["file"], "rb") as f:
            return f.read()

    def file_bytes(self, work, cache):
        """The work's file as bench/plant.py read it: a planted span's offsets are in it."""
        key = ("file", work)
        d = cache.get(key)
        if d is None:
            if len(cache) > 256:
                cache.clear()
            with open(os.path.join(self.corpus, work), "rb") as f:
                d = cache[key] = f.read()
        return d

    def src_bytes(self, work, cache):
        """The work's text as the index holds it (bench/work_text): source offsets are offsets
        in it, which for an extracted file (HTML) are not offsets in the file's bytes."""
        d = cache.get(work)
        if d is None:
            if len(cache) > 256:
                cache.clear()
            if self.texts is None:
                self.texts = subprocess.Popen([self.p("work_text"), self.p("idx")],
                                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            self.texts.stdin.write(b"%d\n" % self.number[work])
            self.texts.stdin.flush()
            n = int(self.texts.stdout.readline())
            d = cache[work] = self.texts.stdout.read(n) if n else b""
            if len(d) != n:
                raise RuntimeError("work_text: short read for %s" % work)
        return d

    def verify(self, t, m, cache):
        """"equal" when the output's words over the match equal the work's words over it;
        for a near match (near-verbatim: words may be edited) "similar" when the words matched
        by difflib over the longer side reach NEAR_OK; else "differ"."""
        o = norm_words(self.out_bytes(t), m["out_start"], m["out_end"])
        s = norm_words(self.src_bytes(m["work"], cache), m["src_start"], m["src_end"])
        if o == s:
            return "equal"
        if m["kind"] == "near" and o and s:
            sm = difflib.SequenceMatcher(None, o, s, autojunk=False)
            if sum(b.size for b in sm.get_matching_blocks()) / max(len(o), len(s)) >= NEAR_OK:
                return "similar"
            if len(o) * len(s) <= 4000000 and lcs(o, s) / max(len(o), len(s)) >= NEAR_OK:
                return "similar"  # difflib's matching is greedy; the LCS is the optimum
        return "differ"

    def show_match(self, label, t, m, cache):
        out = self.out_bytes(t)[m["out_start"]:m["out_end"]].decode("utf-8", "replace")
        src = self.src_bytes(m["work"], cache)[m["src_start"]:m["src_end"]].decode("utf-8",
                                                                                 "replace")
        print("  %s: output %d [%d, %d) = %s [%d, %d), %d tokens, %s; words: %s" % (
            label, t["output"], m["out_start"], m["out_end"], m["work"], m["src_start"],
            m["src_end"], m["tokens"], m["kind"], self.verify(t, m, cache)))
        print("      output: %s" % clip(out))
        print("      source: %s" % clip(src))

    # ---- sim_text baseline
    def baseline(self):
        outs = [l.rstrip("\n") for l in open(self.p("sim_outputs.txt"))]
        works = [l.rstrip("\n") for l in open(self.p("sim_works.txt"))]
        truth = {t["file"]: t for t in self.lib.truth}
        sub = [truth[o] for o in outs]
        sim_t = num(self.p("sim.sec"))
        ridx_t, rchk_t = num(self.p("simidx.sec")), num(self.p("simcheck.sec"))
        # sim_text runs
        pat = re.compile(r"^(.*): line (\d+)-(\d+)\s*\|(.*): line (\d+)-(\d+)\s*\[(\d+)\]\s*$")
        runs = {}
        with open(self.p("sim.out"), encoding="utf-8", errors="replace") as f:
            for line in f:
                m = pat.match(line.rstrip("\n"))
                if m:
                    runs.setdefault(m.group(1), []).append(
                        (int(m.group(2)), int(m.group(3)), m.group(4)))
        # recite on the subset index, from its JSON
        with open(self.p("sim_recite.json")) as f:
            rj = json.load(f)
        if isinstance(rj, dict):
            rj = [rj]
        rmatch = {r["input"]: r["matches"] for r in rj}
        tallies = {"sim_text": {}, "sim_text, lenient": {}, "recite (subset index)": {},
                   "recite (full index)": {}}
        for t in sub:
            with open(t["file"], "rb") as f:
                data = f.read()
            nl = [i for i, b in enumerate(data) if b == 10]
            line_of = lambda off: bisect.bisect_right(nl, off - 1) + 1 if off > 0 else 1
            for sp in t["spans"]:
                a, b = line_of(sp["out_start"]), line_of(sp["out_end"] - 1)
                nlines = b - a + 1
                hit_sim = any(w == sp["work"] and (min(b, e) - max(a, s) + 1) >= 0.9 * nlines
                              for s, e, w in runs.get(t["file"], []))
                # lenient: any run of the output touching the span's lines, against any work
                hit_sim_any = any(min(b, e) >= max(a, s) for s, e, w in runs.get(t["file"], []))
                need = 0.9 * (sp["out_end"] - sp["out_start"])
                hit_rs = any((m["work"] == sp["work"] or sp["work"] in m.get("also", [])) and
                             overlap(m["output"]["start"], m["output"]["end"], sp["out_start"],
                                     sp["out_end"]) >= need
                             for m in rmatch.get(t["file"], []))
                hit_rf = self.found(t, sp, self.lib.matches.get(t["output"], []))[0] == "found"
                for name, hit in (("sim_text", hit_sim), ("sim_text, lenient", hit_sim_any),
                                  ("recite (subset index)", hit_rs),
                                  ("recite (full index)", hit_rf)):
                    for k in ("all", sp["kind"], "bucket " + sp["bucket"]):
                        a_ = tallies[name].setdefault(k, [0, 0])
                        a_[0] += hit
                        a_[1] += 1
        size = sum(os.path.getsize(os.path.join(self.corpus, w)) for w in works)
        nsp = tallies["sim_text"]["all"][1]
        print("\n-- baseline: sim_text -r 12 -S -n (outputs / works) on %d outputs with %d planted"
              " spans, against %d works (%.1f MB)" % (len(sub), nsp, len(works), size / 1e6))
        print("  recite (subset index) = recite index of just those works + recite check --json"
              " of those outputs (CLI, from scratch); recite (full index) = the bench_check"
              " results on the full index for the same outputs")
        cols = ["all", "exact", "normalized"] + ["bucket " + b for b in BUCKETS]
        print("  %-24s %9s" % ("recall", "seconds") + "".join(" %11s" % c.replace("bucket ", "")
                                                              for c in cols))
        def rr(name, k):
            v = tallies[name].get(k)
            return "%d/%d" % (v[0], v[1]) if v else "-"
        print("  %-24s %9.2f" % ("sim_text", sim_t) + "".join(" %11s" % rr("sim_text", c)
                                                             for c in cols))
        print("  %-24s %9s" % ("sim_text, lenient", "") +
              "".join(" %11s" % rr("sim_text, lenient", c) for c in cols))
        print("  %-24s %9.2f" % ("recite (subset index)", ridx_t + rchk_t) +
              "".join(" %11s" % rr("recite (subset index)", c) for c in cols))
        print("  %-24s %9s" % ("recite (full index)", "-") +
              "".join(" %11s" % rr("recite (full index)", c) for c in cols))
        print("  recite subset time = index %.2f s + check %.2f s. sim_text, lenient = any run of"
              " the output touching the span's lines, against any work" % (ridx_t, rchk_t))
        rec = lambda name, k: (tallies[name][k][0] / tallies[name][k][1]
                               if tallies[name].get(k) and tallies[name][k][1] else 0)
        rs, ss = rec("recite (subset index)", "all"), rec("sim_text", "all")
        sub = "library filler"
        self.row("subset recall, all (attributed)", "%.4f" % rs, "sim_text %.4f" % ss,
                 rs / ss if ss else None, "", None, sub)
        self.row("subset recall, exact", "%.4f" % rec("recite (subset index)", "exact"),
                 "sim_text %.4f" % rec("sim_text", "exact"), None, "", None, sub)
        self.row("subset recall, normalized", "%.4f" % rec("recite (subset index)", "normalized"),
                 "sim_text %.4f" % rec("sim_text", "normalized"), None, "", None, sub)
        self.row("subset wall time (index+check)", "%.2f s" % (ridx_t + rchk_t),
                 "sim_text %.2f s" % sim_t, (ridx_t + rchk_t) / sim_t if sim_t else None, "",
                 None, sub)
        self.results["baseline"] = dict(sim_seconds=sim_t, recite_index_seconds=ridx_t,
                                        recite_check_seconds=rchk_t,
                                        tallies={k: {kk: dict(found=vv[0], planted=vv[1])
                                                     for kk, vv in v.items()}
                                                 for k, v in tallies.items()})

    def summary(self):
        print("\n== summary (ratio = recite / baseline; for times lower is better, for rates"
              " higher is better)")
        fmt_row = "%-44s %-21s %-15s %-22s %5s  %-15s %s"
        print(fmt_row % ("metric", "outputs", "recite", "baseline", "ratio", "target", "met"))
        for metric, outputs, rec, base, ratio, target, ok in self.rows:
            print((fmt_row % (
                metric, outputs, rec, base, "%.2f" % ratio if ratio is not None else "", target,
                {True: "yes", False: "NO", None: ""}[ok])).rstrip())
        with open(self.p("results.json"), "w") as f:
            json.dump(dict(params=self.params, results=self.results,
                           table=[dict(metric=r[0], outputs=r[1], recite=r[2], baseline=r[3],
                                       ratio=r[4], target=r[5], met=r[6]) for r in self.rows]),
                      f, indent=1)


class Speed:
    """The speed table of issue 14: this tree ("after") and the baseline revision ("before"),
    measured in the same run (run.sh: builds with and without CMI on one core, the three sets of
    outputs, the JSON report's share, opening the index)."""

    def __init__(self, rep):
        self.rep, self.p = rep, rep.p
        self.rows = []

    def load(self, name):
        path = self.p(name)
        if not os.path.exists(path):
            return None
        with open(path) as f:
            return json.load(f)

    def build_best(self, names):
        """(seconds, CPU seconds) of the faster of the runs that exist, or None."""
        runs = sorted((num(self.p(n + ".sec")), cpu_s(self.p(n + ".time"))) for n in names
                      if os.path.exists(self.p(n + ".sec")))
        return runs[0] if runs else None

    def same_matches(self, suffix):
        a, b = self.p("matches%s.tsv" % suffix), self.p("base_matches%s.tsv" % suffix)
        if not (os.path.exists(a) and os.path.exists(b)):
            return None
        with open(a, "rb") as fa, open(b, "rb") as fb:
            return fa.read() == fb.read()

    def row(self, metric, before, after, goal="", ok=None, ratio=None, fmt_="%.2f"):
        def f(x):
            return "-" if x is None else (fmt_ % x if not isinstance(x, str) else x)
        if ratio is None and isinstance(before, (int, float)) and isinstance(after, (int, float)) \
                and before:
            ratio = after / before
        self.rows.append((metric, f(before), f(after), "%.2fx" % ratio if ratio else "", goal,
                          {True: "yes", False: "NO", None: ""}[ok]))

    def table(self):
        P = self.rep.params
        zs = statistics.median(num(self.p("zstd%d.sec" % i)) for i in (1, 2, 3))
        cat = os.path.getsize(os.path.join(self.rep.corpus, "lib.cat"))
        mb = cat / 1e6
        sets = (("", "library-heavy outputs (library filler)", 15, 5),
                ("_unrel", "unrelated outputs with planted spans", 50, None),
                ("_nomatch", "text without matches", 150, None),
                ("_code", "held-out code (no goal)", None, None))
        for suffix, label, goal_mbs, goal_p99 in sets:
            a, b = self.load("check%s.json" % suffix), self.load("base_check%s.json" % suffix)
            if not a:
                continue
            am, bm = a["mb_per_s"], b["mb_per_s"] if b else None
            goal = ">= %d MB/s" % goal_mbs + (", 10x" if suffix == "" else "") if goal_mbs else ""
            ok = None if goal_mbs is None else \
                am >= goal_mbs and (suffix != "" or (bm is not None and am >= 10 * bm))
            self.row("%s, MB/s (1 thread)" % label, bm, am, goal, ok)
            self.row("  latency p50 / 4 KB, ms", b["p50_ms"] if b else None, a["p50_ms"],
                     fmt_="%.3f")
            self.row("  latency p99 / 4 KB, ms", b["p99_ms"] if b else None, a["p99_ms"],
                     "<= %d ms" % goal_p99 if goal_p99 else "",
                     a["p99_ms"] <= goal_p99 if goal_p99 else None, fmt_="%.3f")
            self.row("  MB/s, first pass after the warm-up", b["mb_per_s_first_pass"] if b else None,
                     a["mb_per_s_first_pass"])
            self.row("  MB/s, warm-up pass (cold caches)", b["mb_per_s_warmup"] if b else None,
                     a["mb_per_s_warmup"])
            same = self.same_matches(suffix)
            if same is not None:
                self.row("  same matches as the baseline", "", "yes" if same else "NO",
                         "identical", same)
        a, b = self.load("check.json"), self.load("base_check.json")
        if a and "json_share" in a:
            self.row("JSON report / check time (library-heavy)",
                     "%.0f%%" % (100 * b["json_share"]) if b and "json_share" in b else None,
                     "%.1f%%" % (100 * a["json_share"]), "<= 10%", a["json_share"] <= 0.10)
        a, b = self.load("open.json"), self.load("base_open.json")
        if a:
            self.row("recite_index_open + close, median ms", b["open_median_ms"] if b else None,
                     a["open_median_ms"], "<= 1 ms", a["open_median_ms"] <= 1, fmt_="%.3f")
            self.row("  first open in the process, ms", b["open_first_ms"] if b else None,
                     a["open_first_ms"], fmt_="%.3f")
            self.row("open + check a 20-word text + close, median ms",
                     b["tiny_check_median_ms"] if b else None, a["tiny_check_median_ms"],
                     fmt_="%.3f")
        for cfg, after, before in (("CMI on", ("idx1", "idx1_b"), ("base_idx1", "base_idx1_b")),
                                   ("--no-cmi", ("nocmi1", "nocmi1_b"),
                                    ("base_nocmi1", "base_nocmi1_b"))):
            a, b = self.build_best(after), self.build_best(before)
            if not a:
                continue
            self.row("build %s, jobs 1: MB/s (faster of 2)" % cfg, mb / b[0] if b else None,
                     mb / a[0], ">= 50 MB/s" if cfg == "CMI on" else "",
                     mb / a[0] >= 50 if cfg == "CMI on" else None, fmt_="%.1f")
            self.row("  time / zstd -3 -T1 time", b[0] / zs if b else None, a[0] / zs,
                     "<= 4x" if cfg == "CMI on" else "", a[0] / zs <= 4 if cfg == "CMI on" else None,
                     ratio=(a[0] / b[0]) if b else None)
            self.row("  MB per CPU-second", mb / b[1] if b else None, mb / a[1], fmt_="%.1f")
        st = self.rep.results.get("index", {}).get("stats")
        if st:
            lib = self.rep.results["index"]["library_bytes"]
            self.row("index size / library", None, st["bytes"]["total"] / lib, "<= 0.8x",
                     st["bytes"]["total"] / lib <= 0.8)
        print("\n== speed (issue 14): before = revision %s, after = this tree; same run, same"
              " machine, %s MB library, zstd -3 -T1 %.2f s (median of 3)" % (
                  P.get("baseline", "-"), P["bench_mb"], zs))
        f = "%-46s %12s %12s %8s  %-18s %s"
        print(f % ("workload", "before", "after", "ratio", "goal", "met"))
        for r in self.rows:
            print((f % r).rstrip())
        self.rep.results["speed"] = [dict(metric=r[0], before=r[1], after=r[2], ratio=r[3],
                                          goal=r[4], met=r[5]) for r in self.rows]
        self.phases()

    def phases(self):
        """Where a check's time goes, per set (bench_phases: the matcher's profile, this tree)."""
        sets = (("", "library-heavy"), ("_unrel", "unrelated"), ("_nomatch", "no matches"),
                ("_code", "held-out code"))
        got = [(label, self.load("phases%s.json" % suffix)) for suffix, label in sets]
        got = [(label, p) for label, p in got if p]
        if not got:
            return
        names = ["tokenize", "lookup", "select", "exact", "near", "merge", "cmi"]
        what = {"tokenize": "tokenizing the output (words, lexemes)",
                "lookup": "looking its k-grams up (3 channels)",
                "select": "choosing the works to verify",
                "exact": "exact runs (stored text decoded, re-tokenized)",
                "near": "near spans (chaining, alignment)",
                "merge": "merging, per-work figures",
                "cmi": "CMI verdicts"}
        print("\n== where a check's time goes (after; share of the checks' wall time, one"
              " profiled pass after a warm-up, filters of posting keys made)")
        f = "%-48s" + " %14s" * len(got)
        print(f % (("phase",) + tuple(label for label, _ in got)))
        for n in names:
            print(f % ((what[n],) + tuple("%.1f%%" % (100 * p["phases_s"][n] / p["check_s"])
                                            for _, p in got)))
        rest = tuple("%.1f%%" % (100 * (1 - sum(p["phases_s"].values()) / p["check_s"]))
                     for _, p in got)
        print(f % (("the rest (the checker's own steps)",) + rest))
        print(f % (("MB/s over the profiled pass",) + tuple(
            "%.2f" % (p["bytes"] * p["passes"] / 1e6 / p["check_s"]) for _, p in got)))
        print(f % (("JSON report / check time",) + tuple(
            "%.1f%%" % (100 * p["json_s_last_pass"] * p["passes"] / p["check_s"]) for _, p in got)))
        # What verification skipped, per check (match_verify.c seed_alone, match_near.c).
        rows = (("exact seeds left alone (no run can pass)", ("seeds_alone",)),
                ("code chains aligned", ("code_chains_aligned",)),
                ("code chains skipped: no shared name", ("code_chains_unkept",)),
                ("code chains skipped: inside a span", ("code_chains_inside",)))
        if all("skipped" in p for _, p in got):
            for what_row, keys in rows:
                print(f % ((what_row,) + tuple(
                    "%.1f" % (sum(p["skipped"][k] for k in keys) / (p["outputs"] * p["passes"]))
                    for _, p in got)))
        self.rep.results["phases"] = {label: p for label, p in got}


def lcs(a, b):
    """Length of the longest common subsequence of two word lists."""
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def clip(s, n=150):
    s = " ".join(s.split())
    return json.dumps(s if len(s) <= n else s[: n // 2] + " … " + s[-n // 2:], ensure_ascii=False)


def main():
    if sys.argv[1] == "select-sim":
        select_sim(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6]))
        return
    rep = Report(sys.argv[2], sys.argv[3], sys.argv[4],
                 sys.argv[5] if len(sys.argv) > 5 else None)
    with open(os.path.join(sys.argv[4], "corpus.json")) as f:
        man = json.load(f)
    print("corpus: %.1f MB indexed in %d files + %.1f MB held out in %d files (filler); %s" % (
        man["lib_bytes"] / 1e6, man["lib_files"], man["held_bytes"] / 1e6, man["held_files"],
        ", ".join("%s %.1f MB" % (s, v["lib"][0] / 1e6) for s, v in sorted(man["sources"].items()))))
    rep.build()
    for st in rep.sets:
        rep.check_speed(st)
        rep.recall(st)
        # every match of the unrelated-filler set is verified; a sample of the library set's
        rep.false_positives(st, verify_all=st.key != "lib")
    if len(rep.sets) > 1:
        rep.compare()
    rep.check_rows()
    rep.baseline()
    Speed(rep).table()
    rep.summary()


if __name__ == "__main__":
    main()
