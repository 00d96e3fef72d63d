#!/usr/bin/python3
"""report.py — the analysis half of bench/run.sh. Only the standard library.

  report.py select-sim TRUTH CORPUS RUN N_OUTPUTS N_OTHERS
      picks the sim_text subset: the first N_OUTPUTS outputs, the works of their planted spans
      and N_OTHERS other random works; writes RUN/sim_outputs.txt, RUN/sim_works.txt and
      RUN/sim_args.txt (sim_text -i input: outputs, "/", works).
  report.py report RUN TRUTH CORPUS
      reads what run.sh measured in RUN and prints every section and the summary table;
      also writes RUN/results.json.

Recall rule: a planted span is found when some reported match has the planted work's cluster
(recite reports the representative of a cluster of identical works) and its output range covers
at least 90% of the planted span's output bytes. For sim_text, which reports line ranges: some
reported run of that output against the planted work whose output line range covers at least 90%
of the planted span's lines.
"""
import bisect
import json
import os
import random
import re
import statistics
import sys

sys.dont_write_bytecode = True  # no __pycache__ in bench/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from plant import norm_words  # noqa: E402

BUCKETS = ["12-19", "20-39", "40-99", "100-300"]
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

class Report:
    def __init__(self, run, truth_path, corpus):
        self.run, self.corpus = run, corpus
        self.truth = load_truth(truth_path)
        self.p = lambda name: os.path.join(run, name)
        with open(self.p("params.json")) as f:
            self.params = json.load(f)
        self.cluster = {}
        with open(self.p("works.tsv"), encoding="utf-8", errors="surrogateescape") as f:
            for line in f:
                wid, cl, rep = line.rstrip("\n").split("\t")
                self.cluster[wid] = int(cl)
        self.matches = self.load_matches("matches.tsv")
        self.matches_full = self.load_matches("matches_full.tsv") \
            if os.path.exists(self.p("check_full.json")) else None
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

    def row(self, metric, recite, baseline="", ratio=None, target="", ok=None):
        self.rows.append((metric, recite, baseline, ratio, target, ok))

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
    def check_speed(self):
        with open(self.p("check.json")) as f:
            c = json.load(f)
        rss = rss_mb(self.p("check.time"))
        print("\n-- check: %d outputs, %.2f MB, one thread, %d timed passes after a warm-up" % (
            c["outputs"], c["bytes"] / 1e6, c["passes"]))
        print("  throughput %.2f MB/s (sum of best times), %.2f MB/s (first timed pass), %.2f MB/s"
              " (warm-up pass, cold index pages)" % (c["mb_per_s"], c["mb_per_s_first_pass"],
                                                     c["mb_per_s_warmup"]))
        print("  latency per output, best of passes: p50 %.3f  p90 %.3f  p99 %.3f  max %.3f ms" % (
            c["p50_ms"], c["p90_ms"], c["p99_ms"], c["max_ms"]))
        print("  latency per output, first pass:     p50 %.3f  p90 %.3f  p99 %.3f  max %.3f ms" % (
            c["first_p50_ms"], c["first_p90_ms"], c["first_p99_ms"], c["first_max_ms"]))
        ncommon = sum(m["common"] for ms in self.matches.values() for m in ms)
        others = 0
        with open(self.p("latency.tsv")) as f:
            for line in f:
                others += int(line.split("\t")[5])
        print("  %d matches reported (%d flagged common language), %d more works counted as"
              " sharing only common language (common_others, summed), %d results truncated;"
              " bench_check peak RSS %.0f MB" % (c["matches"], ncommon, others, c["truncated"], rss))
        lat = []
        with open(self.p("latency.tsv")) as f:
            for line in f:
                i, n, first, best, nm, others, trunc = line.split("\t")
                lat.append((int(n), float(best), int(nm)))
        print("  by matches reported per output (latency = best of passes):")
        print("    %-14s %8s %10s %10s %10s" % ("matches", "outputs", "MB/s", "p50 ms", "p99 ms"))
        for lo, hi in ((0, 3), (4, 20), (21, 100), (101, 1000), (1001, 10 ** 9)):
            g = [x for x in lat if lo <= x[2] <= hi]
            if not g:
                continue
            ms = sorted(x[1] for x in g)
            mbs = sum(x[0] for x in g) / 1e6 / (sum(ms) / 1e3) if sum(ms) else 0
            print("    %-14s %8d %10.2f %10.3f %10.3f" % (
                "%d-%s" % (lo, hi if hi < 10 ** 9 else "") if True else "", len(g), mbs,
                ms[len(ms) // 2], ms[min(len(ms) - 1, int(0.99 * (len(ms) - 1) + 0.5))]))
        clean = [x for x in lat if x[2] <= 3]
        if clean:
            cms = sorted(x[1] for x in clean)
            cmbs = sum(x[0] for x in clean) / 1e6 / (sum(cms) / 1e3)
            c["clean"] = dict(outputs=len(clean), mb_per_s=cmbs, p50_ms=cms[len(cms) // 2],
                              p99_ms=cms[min(len(cms) - 1, int(0.99 * (len(cms) - 1) + 0.5))])
        self.row("check MB/s (1 thread)", "%.2f" % c["mb_per_s"], "", None, ">= 50 MB/s",
                 c["mb_per_s"] >= 50)
        if clean:
            self.row("check MB/s, outputs <= 3 matches", "%.2f" % c["clean"]["mb_per_s"],
                     "", None, ">= 50 MB/s", c["clean"]["mb_per_s"] >= 50)
            self.row("check p99, outputs <= 3 matches", "%.3f ms" % c["clean"]["p99_ms"],
                     "", None, "<= 2 ms", c["clean"]["p99_ms"] <= 2)
        self.row("check p50 latency / 4 KB", "%.3f ms" % c["p50_ms"], "", None, "", None)
        self.row("check p99 latency / 4 KB", "%.3f ms" % c["p99_ms"], "", None, "<= 2 ms",
                 c["p99_ms"] <= 2)
        self.row("check p99 latency, 1st pass", "%.3f ms" % c["first_p99_ms"], "", None,
                 "<= 2 ms", c["first_p99_ms"] <= 2)
        self.results["check"] = c
        if self.matches_full is not None:
            with open(self.p("check_full.json")) as f:
                cf = json.load(f)
            print("  with full attribution (BENCH_COMMON_SAMPLE and BENCH_MAX_CANDIDATES = 10^6:"
                  " every work sharing a span is itemized; one pass, no warm-up):")
            print("    throughput %.2f MB/s, latency p50 %.3f  p90 %.3f  p99 %.3f  max %.3f ms,"
                  " %d matches, %d truncated" % (cf["mb_per_s"], cf["p50_ms"], cf["p90_ms"],
                                                 cf["p99_ms"], cf["max_ms"], cf["matches"],
                                                 cf["truncated"]))
            self.row("check MB/s, full attribution", "%.2f" % cf["mb_per_s"], "", None,
                     ">= 50 MB/s", cf["mb_per_s"] >= 50)
            self.row("check p99, full attribution", "%.3f ms" % cf["p99_ms"], "", None,
                     "<= 2 ms", cf["p99_ms"] <= 2)
            self.results["check_full"] = cf

    # ---- recall
    def found(self, t, sp, matches):
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

    def recall(self):
        tally = {}
        misses = []
        kinds = {}
        cache = {}
        outside = 0
        odd_kind = []
        full_tally = {}
        for t in self.truth:
            ms = self.matches.get(t["output"], [])
            data = self.out_bytes(t)
            for sp in t["spans"]:
                status, m = self.found(t, sp, ms)
                ok = status == "found"
                sp["found_full"] = None
                if self.matches_full is not None:
                    sp["found_full"] = self.found(
                        t, sp, self.matches_full.get(t["output"], []))[0] == "found"
                # Is the copy still a normalized copy under recite's documented rules? A naive
                # reflow can break a word hyphenated at a line end ("FIT-\nNESS" -> "FIT- NESS")
                # or move a 1-3 digit number to or from a line start (line-number furniture).
                sp["in_contract"] = norm_words(data, sp["out_start"], sp["out_end"]) == \
                    norm_words(self.src_bytes(sp["work"], cache), sp["src_start"], sp["src_end"])
                outside += not sp["in_contract"]
                keys = ["all", sp["kind"], "bucket " + sp["bucket"],
                        sp["kind"] + " " + sp["bucket"]]
                if sp["in_contract"]:
                    keys += ["in contract", sp["kind"] + " in contract"]
                keys += ["transform " + x for x in sp["transforms"]]
                if sp["kind"] == "normalized" and len(sp["transforms"]) == 1:
                    keys.append("only " + sp["transforms"][0])
                for k in keys:
                    a = tally.setdefault(k, [0, 0])
                    a[0] += ok
                    a[1] += 1
                    if sp["found_full"] is not None:
                        a = full_tally.setdefault(k, [0, 0])
                        a[0] += sp["found_full"]
                        a[1] += 1
                if ok:
                    kinds.setdefault(sp["kind"], {}).setdefault(m["kind"], 0)
                    kinds[sp["kind"]][m["kind"]] += 1
                    if m["kind"] != sp["kind"]:
                        odd_kind.append((t, sp, m))
                else:
                    misses.append((t, sp, status, m))
        r = lambda k: tally[k][0] / tally[k][1] if k in tally and tally[k][1] else None
        print("\n-- recall (a planted span is found when a match of its work's cluster covers"
              " >= 90% of its bytes)")
        full = bool(full_tally)
        print("  %-22s %8s %8s %8s" % ("", "found", "planted", "recall") +
              ("   %8s %8s" % ("found", "recall") + "  <- with full attribution" if full else ""))
        order = ["all", "exact", "normalized", "in contract", "exact in contract",
                 "normalized in contract"] + ["bucket " + b for b in BUCKETS] + \
            ["exact " + b for b in BUCKETS] + ["normalized " + b for b in BUCKETS] + \
            ["transform " + x for x in TRANSFORMS] + ["only " + x for x in TRANSFORMS]
        for k in order:
            if k in tally:
                print("  %-22s %8d %8d %8.4f" % (k, tally[k][0], tally[k][1], r(k)) +
                      ("   %8d %8.4f" % (full_tally[k][0], full_tally[k][0] / full_tally[k][1])
                       if full else ""))
        print("  kind reported for found spans: " + "; ".join(
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
                  outside, tally["all"][1]))
        by_status = {}
        for _, sp, status, _ in misses:
            status = status + ("" if sp["in_contract"] else " (words changed)") + \
                (" (found with full attribution)" if sp["found_full"] else "")
            by_status[status] = by_status.get(status, 0) + 1
        if misses:
            print("  missed %d: %s (partial = a match of the right work covers < 90%%;"
                  " other-work = the span is covered by a match of another work only)" % (
                      len(misses), ", ".join("%s %d" % kv for kv in sorted(by_status.items()))))
            for t, sp, status, m in misses[:8]:
                print("    output %d [%d, %d) %s %d tokens %s %s%s%s <- %s [%d, %d): %s" % (
                    t["output"], sp["out_start"], sp["out_end"], sp["kind"], sp["tokens"],
                    "+".join(sp["transforms"]) or "-", status,
                    "" if sp["in_contract"] else " (words changed)",
                    " (found with full attribution)" if sp["found_full"] else "", sp["work"],
                    sp["src_start"], sp["src_end"],
                    ("match [%d, %d) %s%s %s" % (m["out_start"], m["out_end"], m["kind"],
                                                 " common" if m["common"] else "", m["work"])
                     if m else "no match nearby")))
        self.row("recall, all", "%.4f" % r("all"), "", None, "1.0", r("all") == 1.0)
        self.row("recall, exact spans", "%.4f" % r("exact"), "", None, "1.0", r("exact") == 1.0)
        self.row("recall, normalized spans", "%.4f" % (r("normalized") or 0), "", None, "1.0",
                 r("normalized") == 1.0)
        self.row("recall, in contract", "%.4f" % (r("in contract") or 0), "", None, "1.0",
                 r("in contract") == 1.0)
        for b in BUCKETS:
            self.row("recall, %s tokens" % b, "%.4f" % r("bucket " + b), "", None, "1.0",
                     r("bucket " + b) == 1.0)
        if full:
            rf = lambda k: full_tally[k][0] / full_tally[k][1]
            self.row("recall, all, full attribution", "%.4f" % rf("all"), "", None, "1.0",
                     rf("all") == 1.0)
            self.row("recall, in contract, full attr.", "%.4f" % rf("in contract"), "", None,
                     "1.0", rf("in contract") == 1.0)
            self.results["recall_full"] = {k: dict(found=v[0], planted=v[1])
                                           for k, v in full_tally.items()}
        self.results["recall"] = {k: dict(found=v[0], planted=v[1]) for k, v in tally.items()}
        self.results["missed"] = [dict(output=t["output"], status=s, **sp)
                                  for t, sp, s, _ in misses]

    # ---- false positives
    def false_positives(self):
        fps = []
        nmatch = 0
        for t in self.truth:
            spans = t["spans"]
            for m in self.matches.get(t["output"], []):
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
        print("\n-- false positives: %d of %d reported matches correspond to no planted span, in"
              " %d of %d outputs: %d lie in filler (held-out text that also occurs in the library)"
              ", %d overlap a planted span but name another work (the same text is in several"
              " works)" % (len(fps), nmatch, outs, len(self.truth), in_filler,
                           len(fps) - in_filler))
        # verify a sample: do the words of the output range equal those of the source range?
        rng = random.Random(5)
        sample = rng.sample(fps, min(300, len(fps)))
        same = 0
        texts = {}
        unequal = []
        for t, m, _ in sample:
            eq = self.words_equal(t, m, texts)
            same += eq
            if not eq:
                unequal.append((t, m))
        if sample:
            print("  verified %d sampled at random: in %d the output's words equal the work's words"
                  " over the reported ranges (genuine repeats of library text, e.g. license"
                  " boilerplate)" % (len(sample), same))
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
            self.show_match("example %d" % shown, t, m, texts)
        for k, (t, m) in enumerate(unequal[:3]):
            self.show_match("words differ %d" % (k + 1), t, m, texts)
        self.row("false positives (matches)", "%d" % len(fps), "", None,
                 "(of %d matches)" % nmatch, None)
        self.results["false_positives"] = dict(count=len(fps), in_filler=in_filler,
                                               matches=nmatch, sample=len(sample),
                                               sample_words_equal=same)

    def out_bytes(self, t):
        with open(t["file"], "rb") as f:
            return f.read()

    def src_bytes(self, work, cache):
        d = cache.get(work)
        if d is None:
            if len(cache) > 256:
                cache.clear()
            with open(os.path.join(self.corpus, work), "rb") as f:
                d = cache[work] = f.read()
        return d

    def words_equal(self, t, m, cache):
        return norm_words(self.out_bytes(t), m["out_start"], m["out_end"]) == \
            norm_words(self.src_bytes(m["work"], cache), m["src_start"], m["src_end"])

    def show_match(self, label, t, m, cache):
        out = self.out_bytes(t)[m["out_start"]:m["out_end"]].decode("utf-8", "replace")
        src = self.src_bytes(m["work"], cache)[m["src_start"]:m["src_end"]].decode("utf-8",
                                                                                 "replace")
        print("  %s: output %d [%d, %d) = %s [%d, %d), %d tokens, %s; words equal: %s" % (
            label, t["output"], m["out_start"], m["out_end"], m["work"], m["src_start"],
            m["src_end"], m["tokens"], m["kind"], self.words_equal(t, m, cache)))
        print("      output: %s" % clip(out))
        print("      source: %s" % clip(src))

    # ---- sim_text baseline
    def baseline(self):
        outs = [l.rstrip("\n") for l in open(self.p("sim_outputs.txt"))]
        works = [l.rstrip("\n") for l in open(self.p("sim_works.txt"))]
        truth = {t["file"]: t for t in self.truth}
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
                hit_rf = self.found(t, sp, self.matches.get(t["output"], []))[0] == "found"
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
        self.row("subset recall, all", "%.4f" % rs, "sim_text %.4f" % ss,
                 rs / ss if ss else None, "", None)
        self.row("subset recall, exact", "%.4f" % rec("recite (subset index)", "exact"),
                 "sim_text %.4f" % rec("sim_text", "exact"), None, "", None)
        self.row("subset recall, normalized", "%.4f" % rec("recite (subset index)", "normalized"),
                 "sim_text %.4f" % rec("sim_text", "normalized"), None, "", None)
        self.row("subset wall time (index+check)", "%.2f s" % (ridx_t + rchk_t),
                 "sim_text %.2f s" % sim_t, (ridx_t + rchk_t) / sim_t if sim_t else None, "",
                 None)
        self.results["baseline"] = dict(sim_seconds=sim_t, recite_index_seconds=ridx_t,
                                        recite_check_seconds=rchk_t,
                                        tallies={k: {kk: dict(found=vv[0], planted=vv[1])
                                                     for kk, vv in v.items()}
                                                 for k, v in tallies.items()})

    def summary(self):
        print("\n== summary (ratio = recite / baseline; for times lower is better, for rates"
              " higher is better)")
        print("%-34s %-16s %-22s %8s  %-14s %s" % ("metric", "recite", "baseline", "ratio",
                                                   "target", "met"))
        for metric, rec, base, ratio, target, ok in self.rows:
            print("%-34s %-16s %-22s %8s  %-14s %s" % (
                metric, rec, base, "%.2f" % ratio if ratio is not None else "", target,
                {True: "yes", False: "NO", None: ""}[ok]))
        with open(self.p("results.json"), "w") as f:
            json.dump(dict(params=self.params, results=self.results,
                           table=[dict(metric=r[0], recite=r[1], baseline=r[2], ratio=r[3],
                                       target=r[4], met=r[5]) for r in self.rows]), f, indent=1)


def clip(s, n=150):
    s = " ".join(s.split())
    return json.dumps(s if len(s) <= n else s[: n // 2] + " … " + s[-n // 2:], ensure_ascii=False)


def main():
    if sys.argv[1] == "select-sim":
        select_sim(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6]))
        return
    rep = Report(sys.argv[2], sys.argv[3], sys.argv[4])
    with open(os.path.join(sys.argv[4], "corpus.json")) as f:
        man = json.load(f)
    print("corpus: %.1f MB indexed in %d files + %.1f MB held out in %d files (filler); %s" % (
        man["lib_bytes"] / 1e6, man["lib_files"], man["held_bytes"] / 1e6, man["held_files"],
        ", ".join("%s %.1f MB" % (s, v["lib"][0] / 1e6) for s, v in sorted(man["sources"].items()))))
    rep.build()
    rep.check_speed()
    rep.recall()
    rep.false_positives()
    rep.baseline()
    rep.summary()


if __name__ == "__main__":
    main()
