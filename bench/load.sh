#!/usr/bin/env bash
# bench/load.sh RECITE — load and soak of `recite serve` with wrk, on 127.0.0.1 only, every run
# bounded in time. A benchmark, not a test. Uses the corpus of bench/run.sh (made from texts
# Debian ships) at BENCH_MB and three sets of 4 KB texts to check:
#   clean    no recitation: words of the held-out text shuffled (most model output);
#   planted  1-3 recited spans in such words (bench/plant.py --filler shuffled);
#   library  1-3 recited spans in held-out passages as they are (bench/plant.py --filler
#            library): some 45 genuine matches each (boilerplate, translations) — a worst case.
#   1. POST /v1/check of each set at 100 and 1,000 requests/s (each connection paced by wrk's
#      delay) and closed-loop at 4 and 16 connections (the maximum sustainable rate): rate,
#      errors, p50/p99/p99.9 latency, the server's RSS;
#   2. a soak at 1,000 requests/s for LOAD_SOAK seconds of a mix (9 clean : 1 planted), the
#      server's RSS every 10 s;
#   3. session churn: LOAD_SESSIONS sessions opened, appended (4 KB, planted), closed;
#   4. the proxy's overhead: the upstream stub (tests/http/stub_upstream.py) answering 4 KB
#      called directly and through `recite serve --proxy`, streamed and whole, one connection.
# Goals (issue 8): 1,000 checks/s of 4 KB with p99 <= 10 ms on 2 cores, zero errors; the proxy
# adds <= 1 ms per response. Results: $BENCH_DIR/load/results.jsonl and a table.
#   BENCH_MB=50, LOAD_OUTPUTS=300, LOAD_STEP=20 (seconds per run), LOAD_SOAK=600,
#   LOAD_SESSIONS=100000, LOAD_PROXY_SECONDS=15, LOAD_SETS="clean planted library",
#   BENCH_DIR (default bench/out)
set -euo pipefail
RECITE=$(realpath "${1:?usage: bench/load.sh path/to/recite}")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-$ROOT/bench/out}
BENCH_MB=${BENCH_MB:-50}
N=${LOAD_OUTPUTS:-300}
STEP=${LOAD_STEP:-20}
SOAK=${LOAD_SOAK:-600}
SESSIONS=${LOAD_SESSIONS:-100000}
PROXY_SECONDS=${LOAD_PROXY_SECONDS:-15}
SETS=${LOAD_SETS:-clean planted library}
PY=/usr/bin/python3
export LC_ALL=C PYTHONDONTWRITEBYTECODE=1
command -v wrk >/dev/null || "$ROOT/scripts/deps.sh" bench
mkdir -p "$BENCH_DIR"
BENCH_DIR=$(realpath "$BENCH_DIR")
CVER=$(sed -n 's/^VERSION = //p' "$ROOT/bench/corpus.py")
CORPUS=$BENCH_DIR/corpus-v$CVER-$BENCH_MB
[ -f "$CORPUS/corpus.json" ] || "$PY" "$ROOT/bench/corpus.py" "$CORPUS" "$BENCH_MB"
PMD5=$(md5sum < "$ROOT/bench/plant.py" | cut -c1-8)
LIBRARY=$CORPUS/plant-stream-$N-$PMD5
SHUFFLED=$CORPUS/plant-shuffled-$N-$PMD5
[ -f "$LIBRARY/truth.json" ] || "$PY" "$ROOT/bench/plant.py" "$CORPUS" "$LIBRARY" "$N" --filler library
[ -f "$SHUFFLED/truth.json" ] || "$PY" "$ROOT/bench/plant.py" "$CORPUS" "$SHUFFLED" "$N" --filler shuffled
R=$BENCH_DIR/load
mkdir -p "$R"
if [ ! -f "$R/idx/recite.idx" ] || [ "$R/idx/recite.idx" -ot "$CORPUS/corpus.json" ]; then
    echo "== index of the $BENCH_MB MB library"
    (cd "$CORPUS" && "$RECITE" index --quiet --out "$R/idx" lib)
fi
# The request bodies, one {"text": ...} a line per set; and a 4 KB answer of the upstream stub.
"$PY" - "$LIBRARY/list.txt" "$SHUFFLED/list.txt" "$R" <<'EOF'
import json, os, random, sys
def texts(listing):
    return [open(p.strip(), encoding="utf-8", errors="replace").read()
            for p in open(listing) if p.strip()]
library, planted = texts(sys.argv[1]), texts(sys.argv[2])
words = " ".join(planted).split()
random.Random(7).shuffle(words)  # no 12-word run of any work survives
clean, at = [], 0
for _ in planted:
    out, n = [], 0
    while n < 4096:
        w = words[at % len(words)]
        out.append(w)
        n, at = n + len(w) + 1, at + 1
    clean.append(" ".join(out))
out = sys.argv[3]
sets = {"clean": clean, "planted": planted, "library": library,
        "mixed": [planted[i // 10] if i % 10 == 0 else clean[i] for i in range(len(clean))]}
for name, ts in sets.items():
    with open(os.path.join(out, "bodies-%s.jsonl" % name), "w") as f:
        for t in ts:
            f.write(json.dumps({"text": t}) + "\n")
os.makedirs(os.path.join(out, "models"), exist_ok=True)
with open(os.path.join(out, "models", "load.txt"), "w") as f:
    f.write(clean[0])
EOF

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# start_server LOG ARGS...: starts recite serve on a free port; sets PORT and SPID.
start_server() {
    local log=$1
    shift
    "$RECITE" serve --listen 127.0.0.1:0 "$@" 2>"$log" &
    SPID=$!
    PIDS+=("$SPID")
    for _ in $(seq 200); do
        PORT=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log")
        [ -n "$PORT" ] && return 0
        sleep 0.05
    done
    echo "bench: recite serve did not start: $(cat "$log")" >&2
    exit 2
}
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
OUT=$R/results.jsonl
: >"$OUT"
# check NAME THREADS CONNECTIONS SECONDS DELAY_MS [PATH] — one wrk run, a JSON line in $OUT.
check() {
    local name=$1 t=$2 c=$3 secs=$4 delay=$5 path=${6:-/v1/check}
    local line cpu0 cpu1 n
    cpu0=$(cpu_ticks "$SPID")
    line=$(LOAD_DELAY_MS=$delay LOAD_PATH=$path wrk -t"$t" -c"$c" -d"${secs}s" --timeout 10s \
        -s "$ROOT/bench/load_check.lua" "http://127.0.0.1:$PORT" -- "$BODIES" | tail -n 1)
    cpu1=$(cpu_ticks "$SPID")
    n=$(echo "$line" | sed 's/.*"requests":\([0-9]*\).*/\1/')
    # The server's CPU time (user + system) per request, ms (recite serve's; 0 for the runs
    # against the stub directly).
    echo "{\"run\":\"$name\",\"connections\":$c,\"delay_ms\":$delay,\"rss_kb\":$(rss_kb "$SPID"),\"server_cpu_ms\":$(awk -v a="$cpu0" -v b="$cpu1" -v n="$n" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.3f", n ? (b - a) * 1000 / hz / n : 0}'),${line#\{}" |
        tee -a "$OUT"
}

echo "== 1. POST /v1/check, 4 KB, $STEP s per run"
start_server "$R/serve.log" --index "$R/idx" --max-sessions 1000
for set in $SETS; do
    BODIES=$R/bodies-$set.jsonl
    check warmup 2 4 3 0 >/dev/null
    check "$set-100" 2 10 "$STEP" 100
    # 20 connections each sending every 19 ms (+ its latency): about 1,000 requests/s.
    check "$set-1000" 2 20 "$STEP" 19
    check "$set-max-c4" 2 4 "$STEP" 0
    check "$set-max-c16" 2 16 "$STEP" 0
done

echo "== 2. soak: 1,000 requests/s (9 clean : 1 planted) for $SOAK s, RSS every 10 s"
RSS=$R/rss.jsonl
: >"$RSS"
(
    t=0
    while kill -0 "$SPID" 2>/dev/null && [ "$t" -le "$SOAK" ]; do
        echo "{\"t\":$t,\"rss_kb\":$(rss_kb "$SPID")}" >>"$RSS"
        sleep 10
        t=$((t + 10))
    done
) &
SAMPLER=$!
BODIES=$R/bodies-mixed.jsonl
check soak 2 20 "$SOAK" 19
wait "$SAMPLER" 2>/dev/null || true
"$PY" - "$RSS" <<'EOF'
import json, sys
s = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print("rss (KB) every 10 s:", " ".join(str(x["rss_kb"]) for x in s))
warm = [x for x in s if x["t"] >= 60] or s
print("from 60 s to the end: %d -> %d KB (%+.1f%%)" % (warm[0]["rss_kb"], warm[-1]["rss_kb"],
      100.0 * (warm[-1]["rss_kb"] - warm[0]["rss_kb"]) / warm[0]["rss_kb"]))
EOF

echo "== 3. session churn: $SESSIONS sessions opened, appended, closed"
BODIES=$R/bodies-planted.jsonl
before=$(rss_kb "$SPID")
metric() { curl -s "http://127.0.0.1:$PORT/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
created0=$(metric recite_sessions_created_total)
# wrk runs until stopped: each thread stops itself after its share, then SIGINT ends wrk.
LOAD_SESSIONS=$SESSIONS wrk -t2 -c2 -d3600s --timeout 10s -s "$ROOT/bench/load_sessions.lua" \
    "http://127.0.0.1:$PORT" -- "$BODIES" 2 >"$R/sessions.out" &
WRK=$!
t0=$(date +%s)
while kill -0 "$WRK" 2>/dev/null; do
    made=$(($(metric recite_sessions_created_total) - created0))
    [ "$made" -ge "$SESSIONS" ] && break
    [ $(($(date +%s) - t0)) -gt 3000 ] && break
    sleep 1
done
sleep 0.5
kill -INT "$WRK" 2>/dev/null || true
wait "$WRK" || true
line=$(tail -n 1 "$R/sessions.out")
echo "{\"run\":\"sessions\",\"sessions_created\":$(($(metric recite_sessions_created_total) - created0)),\"sessions_open_after\":$(metric recite_sessions_open),\"rss_kb_before\":$before,\"rss_kb_after\":$(rss_kb "$SPID"),${line#\{}" |
    tee -a "$OUT"
kill "$SPID"
wait "$SPID" 2>/dev/null || true

echo "== 4. proxy overhead: 4 KB answers, one connection, $PROXY_SECONDS s each"
"$PY" "$ROOT/tests/http/stub_upstream.py" "$R/models" >"$R/stub.out" &
PIDS+=($!)
for _ in $(seq 100); do
    UP=$(awk '/^port/ {print $2}' "$R/stub.out")
    [ -n "$UP" ] && break
    sleep 0.05
done
start_server "$R/proxy.log" --index "$R/idx" --proxy "http://127.0.0.1:$UP/v1"
PROXY_PORT=$PORT
printf '%s\n' '{"model":"load","stream":true,"messages":[{"role":"user","content":"go"}]}' >"$R/chat-stream.jsonl"
printf '%s\n' '{"model":"load","messages":[{"role":"user","content":"go"}]}' >"$R/chat-whole.jsonl"
for kind in stream whole; do
    BODIES=$R/chat-$kind.jsonl
    PORT=$UP
    check "direct-$kind" 1 1 "$PROXY_SECONDS" 0 /v1/chat/completions
    PORT=$PROXY_PORT
    check "proxy-$kind" 1 1 "$PROXY_SECONDS" 0 /v1/chat/completions
done

echo "== summary ($OUT)"
"$PY" - "$OUT" <<'EOF'
import json, sys
rows = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    rows[r["run"]] = r
print("%-18s %9s %8s %8s %8s %8s %7s %7s %8s" % ("run", "req/s", "p50 ms", "p99 ms",
      "p99.9 ms", "max ms", "errors", "rss MB", "cpu ms"))
for name, r in rows.items():
    err = r["errors"] + r["non2xx_or_3xx"]
    rss = r.get("rss_kb", r.get("rss_kb_after", 0)) / 1024
    print("%-18s %9.1f %8.3f %8.3f %8.3f %8.3f %7d %7.1f %8.3f" % (name, r["rate"], r["p50_ms"],
          r["p99_ms"], r["p999_ms"], r["max_ms"], err, rss, r.get("server_cpu_ms", 0)))
for kind in ("stream", "whole"):
    d, p = rows.get("direct-" + kind), rows.get("proxy-" + kind)
    if d and p:
        print("proxy overhead (%s): p50 %+.3f ms, p99 %+.3f ms, mean %+.3f ms" % (
            kind, p["p50_ms"] - d["p50_ms"], p["p99_ms"] - d["p99_ms"],
            p["mean_ms"] - d["mean_ms"]))
s = rows.get("sessions")
if s:
    print("sessions: %d created, %d open after the churn, %.0f sessions/s, RSS %d -> %d KB" % (
        s["sessions_created"], s["sessions_open_after"], s["rate"] / 3, s["rss_kb_before"],
        s["rss_kb_after"]))
EOF
