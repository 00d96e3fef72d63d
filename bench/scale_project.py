#!/usr/bin/python3
"""scale_project.py DIR — the 10 TB / 64 node projection of docs/SCALE.md, from what
bench/scale.sh measured in DIR (summary.json, mpi2.stats.json, fanout_mpi2.json).

Every figure is a measured ratio times a stated assumption (the constants below); change them
and run again. Prints a table (and DIR/projection.json). Only the standard library.
"""
import json
import math
import os
import sys

TARGET = 10e12        # bytes of text: 10 TB of the same mix as the bench library
NODES = 64
CORES = 32            # per node
RAM = 256e9           # per node
NET = 25e9 / 8        # bytes/s per node (25 Gb/s)
STORE = 2e9           # bytes/s one node reads from the shared file system holding the inputs
RTT = 100e-6          # seconds, a round trip between two nodes
POSTING_REC = 16      # bytes a seed or ranked posting takes on the wire (position, k-gram, flags)
RUN_REC = 64          # bytes of a verified run on the wire
WORK_META = 1024      # bytes of a reported work's metadata, CMI record and locators
SIG_REC = 137         # bytes per text in the families exchange (build_shards.c)
DF_REC = 12           # bytes per (fingerprint, family) in the document-frequency exchange


def main():
    d = sys.argv[1]
    s = json.load(open(os.path.join(d, "summary.json")))
    st = json.load(open(os.path.join(d, "mpi2.stats.json")))
    fo = json.load(open(os.path.join(d, "fanout_mpi2.json")))
    L = s["library_bytes"]
    x = TARGET / L
    works, tokens = s["works"] * x, s["tokens"] * x
    postings = (st["fingerprints"] + st["code_fingerprints"] + st["shape_fingerprints"]) * x
    ib = s["index_bytes"]
    p = {}
    # ---- layout ----
    shards = max(math.ceil(tokens / 2**32), NODES)
    per_node = 2 ** math.ceil(math.log2(math.ceil(shards / NODES)))
    p["shards"] = per_node * NODES
    p["shards_per_node"] = per_node
    p["text_per_node"] = TARGET / NODES
    p["index_per_node"] = ib["sharded"] * x / NODES
    p["postings_per_node"] = ib["postings"] * x / NODES
    p["head_tables"] = 16 * works  # WORK_MAP, SHARD_WORKS, MEMBERS: on every node that reports
    p["ram_resident_per_node"] = p["postings_per_node"] + p["head_tables"] + \
        ib["works"] * x / NODES
    # ---- build ----
    b = s["build"]
    rate_core = L / (b["mpi2_s"] * 2)  # 2 ranks, one worker each, on 2 shared cores
    p["build_rate_per_core"] = rate_core
    p["build_pipeline_s"] = TARGET / NODES / (rate_core * CORES)
    p["build_read_all_inputs_s"] = TARGET / STORE  # every rank reads every input (this version)
    p["build_read_aggregate"] = NODES * STORE
    p["families_bytes_per_node"] = SIG_REC * works  # allgather: every node receives all
    p["families_s"] = p["families_bytes_per_node"] / NET
    p["df_bytes_per_node"] = DF_REC * postings / NODES  # at most: one record per posting
    p["df_s"] = 2 * p["df_bytes_per_node"] / NET
    p["build_rank_rss_measured"] = max(b["mpi2_rank_rss"])
    # ---- a fanned-out check of a 4 KB output ----
    out_bytes = fo["bytes"]["mean"]
    seeds, common, runs = fo["seeds"]["mean"], fo["common_kgrams"]["mean"], fo["runs"]["mean"]
    cands = fo["candidate_texts"]["mean"]
    # Broadcast the output; every node returns, per common k-gram, its first 16 postings'
    # ranks (the coordinator keeps the library's first 16), and its other seeds; the
    # coordinator returns the kept candidates; the owners return their runs and the reported
    # works' metadata. Seeds beyond common language grow with the copies of a passage: taken
    # as the bench's (a library of distinct texts, like the bench's, keeps that count).
    net = {"broadcast": out_bytes * (NODES - 1),
           "common_ranks": common * 16 * NODES * POSTING_REC,
           "seeds": seeds * POSTING_REC,
           "candidates": cands * 8,
           "runs": runs * RUN_REC,
           "metadata": fo["candidate_texts"]["mean"] * WORK_META}
    p["check_net_bytes"] = net
    p["check_net_total"] = sum(net.values())
    lookup_per_shard = fo["lookup_ms"]["p99"] / fo["shards"]
    p["check_lookup_node_p99_ms"] = lookup_per_shard * per_node / min(per_node, CORES)
    p["check_verify_p99_ms"] = fo["verify_ms"]["p99"]
    p["check_fanout_p99_ms"] = (2 * RTT * 1e3 + p["check_lookup_node_p99_ms"] +
                                p["check_verify_p99_ms"] + p["check_net_total"] / NET * 1e3)
    json.dump(p, open(os.path.join(d, "projection.json"), "w"), indent=1)

    def gb(v):
        return "%.1f GB" % (v / 1e9)
    print("projection: %.0f TB on %d nodes (%d cores, %s RAM, %.0f Gb/s each), from %.0f MB measured"
          % (TARGET / 1e12, NODES, CORES, gb(RAM), NET * 8 / 1e9, L / 1e6))
    print("  works %.3g, tokens %.3g, postings %.3g" % (works, tokens, postings))
    print("  shards %d (%d per node; <= 2^32 tokens each)" % (p["shards"], per_node))
    print("  per node: text %s, index %s, postings %s; head tables %s"
          % (gb(p["text_per_node"]), gb(p["index_per_node"]), gb(p["postings_per_node"]),
             gb(p["head_tables"])))
    print("  RAM to keep postings and work tables resident: %s per node"
          % gb(p["ram_resident_per_node"]))
    print("  build: %.2f MB/s per core measured -> %.1f h of indexing per node; reading every"
          " input on every rank %.1f h (%.0f GB/s from storage in all)"
          % (rate_core / 1e6, p["build_pipeline_s"] / 3600, p["build_read_all_inputs_s"] / 3600,
             p["build_read_aggregate"] / 1e9))
    print("  build exchanges: families %s to every node (%.0f s), document frequency %s per node"
          " each way (%.0f s)" % (gb(p["families_bytes_per_node"]), p["families_s"],
                                  gb(p["df_bytes_per_node"]), p["df_s"]))
    print("  check of a %.0f-byte output, fanned out: %.0f KB on the network (%s)"
          % (out_bytes, p["check_net_total"] / 1e3,
             ", ".join("%s %.0f KB" % (k, v / 1e3) for k, v in net.items())))
    print("  fan-out p99 ~ %.1f ms (2 RTT + lookups of %d shards %.2f ms + verification %.1f ms"
          " + transfer)" % (p["check_fanout_p99_ms"], per_node, p["check_lookup_node_p99_ms"],
                            p["check_verify_p99_ms"]))


if __name__ == "__main__":
    main()
