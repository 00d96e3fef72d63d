#!/usr/bin/env bash
# bench/cmi.sh RECITE — the license identification benchmark (issue 5): a benchmark, not a test
# (it exits non-zero only when something could not be run).
#
#   (a) agreement with Debian's licensecheck on real source files of this machine: a fixed
#       sample of /usr/include, the Perl modules, the Python standard library and, when the
#       linux-source package is installed, a sample of the kernel sources (extracted once);
#       licensecheck's names are mapped to SPDX by bench/licensecheck_compare.py, which prints
#       the agreement classes per source and the first disagreements
#   (b) identification time: `recite license` over the same files (files/s, ms/file), and the
#       license index alone: built into an empty cache, and loaded from the cache
#   (c) the CMI overhead of `recite index`: the same corpus (/usr/include and the Perl modules)
#       built with and without --no-cmi, CMI_RUNS times each, alternating; median ratios
#
#   CMI_FILES=1200       files of the (a)/(b) sample (shared out over the sources)
#   CMI_RUNS=3           builds of each kind in (c)
#   CMI_INDEX_PATHS      what (c) indexes (default: /usr/include and /usr/share/perl/5.*)
#   CMI_SHOW=30          disagreements listed
#   BENCH_DIR            work directory (default bench/out); results in $BENCH_DIR/cmi
set -euo pipefail

RECITE=${1:?usage: bench/cmi.sh path/to/recite}
RECITE=$(realpath "$RECITE")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-$ROOT/bench/out}
W=$BENCH_DIR/cmi
CMI_FILES=${CMI_FILES:-1200}
CMI_RUNS=${CMI_RUNS:-3}
CMI_SHOW=${CMI_SHOW:-30}
PY=/usr/bin/python3
CMP=$ROOT/bench/licensecheck_compare.py
JOBS=$(nproc)
export LC_ALL=C PYTHONDONTWRITEBYTECODE=1

"$ROOT/scripts/deps.sh" bench
for tool in "$PY" licensecheck /usr/bin/time xz tar; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is missing (scripts/deps.sh bench)" >&2; exit 2; }
done
mkdir -p "$W"
W=$(realpath "$W")
say() { printf '\n== %s\n' "$*"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# ---- corpus ----
first_dir() { for d in "$@"; do [ -d "$d" ] && { echo "$d"; return; }; done; }
PYLIB=$(dirname "$(ls /usr/lib/python3.*/os.py 2>/dev/null | sort -V | tail -1 || true)")
PERLMOD=$(first_dir /usr/share/perl/5.*)
PERLBASE=$(first_dir /usr/lib/*/perl-base)
LINUX_TAR=$(ls /usr/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -1 || true)
if [ -n "$LINUX_TAR" ] && [ ! -f "$W/linux/.done" ]; then
    say "extracting a sample of $LINUX_TAR (once)"
    rm -rf "$W/linux" && mkdir -p "$W/linux"
    top=$(basename "$LINUX_TAR" .tar.xz)
    xz -T"$JOBS" -dc "$LINUX_TAR" | tar -x -C "$W/linux" --wildcards \
        "$top/lib/*" "$top/kernel/*" "$top/crypto/*" "$top/sound/pci/*" \
        "$top/drivers/net/ethernet/*"
    touch "$W/linux/.done"
fi
specs=("include=/usr/include:$((CMI_FILES / 3))")
[ -n "$PERLMOD" ] && specs+=("perl=$PERLMOD:$((CMI_FILES / 8))")
[ -n "$PERLBASE" ] && specs+=("perl-base=$PERLBASE:$((CMI_FILES / 12))")
[ -n "$PYLIB" ] && specs+=("python=$PYLIB:$((CMI_FILES / 5))")
[ -f "$W/linux/.done" ] && specs+=("linux=$W/linux:$((CMI_FILES / 4))")
say "sample: ${specs[*]}"
"$PY" "$CMP" sample "$W/files.tsv" "${specs[@]}"
cut -f2 "$W/files.tsv" >"$W/paths.txt"
NFILES=$(wc -l <"$W/paths.txt")

# ---- (a) licensecheck, one process per core on its share of the files ----
say "licensecheck on $NFILES files ($JOBS processes)"
rm -f "$W"/part.* "$W"/lc.part.*
split -n "l/$JOBS" -d "$W/paths.txt" "$W/part."
t0=$(now)
for part in "$W"/part.*; do
    xargs -a "$part" -d '\n' licensecheck -m --check . --shortname-scheme=debian,spdx \
        >"$W/lc.${part##*/}" 2>/dev/null &
done
wait
t1=$(now)
cat "$W"/lc.part.* >"$W/licensecheck.txt"
LC_S=$(elapsed "$t0" "$t1")

# ---- (b) recite license: the license index, then the files ----
say "recite license"
cache=$(mktemp -d)
probe=$W/probe.txt
echo "Licensed under the MIT license." >"$probe"
t0=$(now)
RECITE_CACHE=$cache "$RECITE" license "$probe" >/dev/null
t1=$(now)
RECITE_CACHE=$cache "$RECITE" license "$probe" >/dev/null
t2=$(now)
rm -rf "$cache"
LIB_BUILD_S=$(elapsed "$t0" "$t1")
LIB_LOAD_S=$(elapsed "$t1" "$t2")
t0=$(now)
xargs -a "$W/paths.txt" -d '\n' "$RECITE" license --json >"$W/recite.json"
t1=$(now)
RC_S=$(elapsed "$t0" "$t1")

say "agreement with licensecheck ($NFILES files)"
"$PY" "$CMP" compare "$W/files.tsv" "$W/licensecheck.txt" "$W/recite.json" --show "$CMI_SHOW" |
    tee "$W/compare.txt"

# ---- (c) index build with and without CMI ----
if [ -n "${CMI_INDEX_PATHS:-}" ]; then
    read -r -a ipaths <<<"$CMI_INDEX_PATHS"
else
    ipaths=(/usr/include)
    [ -n "$PERLMOD" ] && ipaths+=("$PERLMOD")
fi
MB=$(du -scLm "${ipaths[@]}" 2>/dev/null | tail -1 | cut -f1)
say "index build of ${ipaths[*]} (~$MB MB): $CMI_RUNS runs with CMI and with --no-cmi, alternating"
: >"$W/build.times"
for ((i = 1; i <= CMI_RUNS; i++)); do
    for kind in cmi nocmi; do
        rm -rf "$W/idx-$kind"
        flag=()
        [ "$kind" = nocmi ] && flag=(--no-cmi)
        /usr/bin/time -f "$kind %e %U %S" -o "$W/time.one" \
            "$RECITE" index --auto --quiet "${flag[@]}" --out "$W/idx-$kind" "${ipaths[@]}"
        cat "$W/time.one" | tee -a "$W/build.times"
    done
done
rm -rf "$W/idx-cmi" "$W/idx-nocmi"

# ---- summary ----
say "summary"
"$PY" - "$W/build.times" "$NFILES" "$LC_S" "$RC_S" "$LIB_BUILD_S" "$LIB_LOAD_S" "$MB" \
    "$W/compare.txt" <<'PY'
import statistics, sys
times, n, lc_s, rc_s, lib_build, lib_load, mb, cmp = sys.argv[1:9]
n, lc_s, rc_s, lib_build, lib_load = int(n), float(lc_s), float(rc_s), float(lib_build), float(lib_load)
runs = {"cmi": [], "nocmi": []}
for line in open(times):
    kind, wall, user, sys_ = line.split()
    runs[kind].append((float(wall), float(user) + float(sys_)))
med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
       for k, v in runs.items()}
rows = [
    ("licensecheck", f"{n / lc_s:.0f} files/s", f"{1000 * lc_s / n:.1f} ms/file", "all cores"),
    ("recite license", f"{n / rc_s:.0f} files/s", f"{1000 * (rc_s - lib_load) / n:.2f} ms/file",
     "one thread, license index load included"),
    ("license index", f"build {lib_build:.2f} s", f"load {lib_load:.2f} s",
     "empty cache / cached (per run)"),
    (f"index {mb} MB, CMI", f"{med['cmi'][0]:.2f} s wall", f"{med['cmi'][1]:.2f} s CPU",
     "median"),
    (f"index {mb} MB, --no-cmi", f"{med['nocmi'][0]:.2f} s wall", f"{med['nocmi'][1]:.2f} s CPU",
     "median"),
    ("CMI overhead", f"{100 * (med['cmi'][0] / med['nocmi'][0] - 1):+.1f} % wall",
     f"{100 * (med['cmi'][1] / med['nocmi'][1] - 1):+.1f} % CPU", "target <= 10 %"),
]
for line in open(cmp):
    if line.startswith("agreement") or line.startswith("same|both known"):
        rows.append((line[:20].strip() + " (all)", line.split()[-1], "", "vs licensecheck"))
w = [max(len(r[i]) for r in rows) for i in range(4)]
for r in rows:
    print("  ".join(c.ljust(w[i]) for i, c in enumerate(r)).rstrip())
PY
