#!/bin/sh
# fuzz/run.sh SECONDS REPLAY_DIR LIBFUZZER_BUILD HARNESS... — runs each libFuzzer harness
# (LIBFUZZER_BUILD/libfuzzer/fuzz_H) for SECONDS under `nice -n 19`, one at a time (fuzzing is
# a background job on a shared machine). The corpus of H lives in LIBFUZZER_BUILD/corpus/H
# (seeded by REPLAY_DIR/fuzz_H --seeds, kept between runs so later runs build on earlier ones);
# fuzz/regress/H is read too. Crashes go to LIBFUZZER_BUILD/crashes/H/; each one must become a
# file of fuzz/regress/H/ (the input that reproduces it) and get fixed. One line per run is
# appended to LIBFUZZER_BUILD/fuzz-log.tsv: date, harness, seconds, CPU seconds, runs, result.
# FUZZ_CPU_SECONDS=N: runs of SECONDS are repeated until the harness has had N seconds of CPU
# (on a shared machine, nice 19 gets what others leave). Exit status: 0 when nothing crashed.
set -u
if [ $# -lt 4 ]; then
    echo "usage: $0 SECONDS REPLAY_DIR LIBFUZZER_BUILD HARNESS..." >&2
    exit 2
fi
secs=$1 replay=$2 lf=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
status=0
# CPU seconds (user + system) used by the children of this shell so far (`times` runs in this
# shell: in a command substitution it would report the subshell's children).
# The scratch files are per harness, so runners on different harnesses can share LIBFUZZER_BUILD.
child_cpu() {
    times >"$lf/times-$h.tmp"
    awk 'NR == 2 { n = split($0, f, " "); s = 0
        for (i = 1; i <= n; i++) { split(f[i], p, "m"); s += p[1] * 60 + p[2] } print s }' \
        "$lf/times-$h.tmp"
}
for h in "$@"; do
    corpus=$lf/corpus/$h crashes=$lf/crashes/$h
    mkdir -p "$corpus" "$crashes"
    bin=fuzz_$h
    case $h in ingest_*) bin=$h ;; esac # the document readers: BUILD/fuzz/ingest_H
    "$replay/$bin" --seeds "$corpus" || exit 2
    regress=""
    [ -d "$here/regress/$h" ] && regress=$here/regress/$h
    log=$lf/fuzz-$h.log
    spent=0
    while :; do
        child_cpu >"$lf/cpu0-$h.tmp"
        cpu0=$(cat "$lf/cpu0-$h.tmp")
        echo "fuzz: $h for ${secs}s (log: $log)"
        # shellcheck disable=SC2086
        ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=1" nice -n 19 "$lf/libfuzzer/$bin" \
            -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
            -artifact_prefix="$crashes/" "$corpus" $regress >"$log" 2>&1
        rc=$?
        child_cpu >"$lf/cpu1-$h.tmp"
        cpu=$(awk -v a="$cpu0" '{ printf "%.0f", $1 - a }' "$lf/cpu1-$h.tmp")
        spent=$((spent + cpu))
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
        result=ok
        if [ "$rc" -ne 0 ]; then
            result="CRASH (exit $rc): $(ls -t "$crashes" | head -1)"
            status=1
            grep -m5 -E 'ERROR|invariant failed|runtime error|SUMMARY' "$log" | sed 's/^/  /'
        fi
        echo "fuzz: $h: ${runs:-?} runs, ${cpu}s of CPU, $result"
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$h" "$secs" "$cpu" \
            "${runs:-?}" "$result" >>"$lf/fuzz-log.tsv"
        [ "$rc" -eq 0 ] && [ "$spent" -lt "${FUZZ_CPU_SECONDS:-0}" ] || break
    done
done
exit $status
