# shellcheck shell=bash
# tests/cli/t_shards.sh — sharded indexes: `recite index --shards N`, `--mpi` under mpirun (2 ranks
# on loopback), and the equivalence the issue asks for: the same library and inputs give the same
# report from one index, from 1, 2 and 5 shards, and from MPI runs. The library (mkshards.py) has
# common language only the whole library shows (12 unrelated works share a passage: no shard of
# five holds 8 of them, the library's common threshold) and a passage in 7 families that forks
# would push over 8 if families were counted per shard. Sourced by tests/cli/run.sh (after the
# main library is made).

SHARD_INPUTS=()

# mpirun for the tests: 2 ranks on this machine (oversubscribed on 2 cores), allowed as root.
# LeakSanitizer reports Open MPI's own allocations at exit: not ours, not checked here (every
# code path of the ranks runs without MPI in the other tests).
mpi_run() {
    local n=$1
    shift
    OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader \
        OMPI_MCA_plm_rsh_agent=false ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0" \
        timeout -s KILL 300 mpirun -n "$n" --oversubscribe "$BIN" "$@" </dev/null >"$OUT" 2>"$ERR"
    RC=$?
    check_crash "$@"
}

shards_setup() {
    [ -d sh ] && return 0
    "$PY" "$HERE/mkshards.py" lib sh || {
        bad "cannot make the sharded fixture"
        return 1
    }
    SHARD_INPUTS=(sh/in/boiler.txt sh/in/shared.txt sh/in/fork.txt sh/in/dup.txt sh/in/lib.txt
        sh/in/mix.txt sh/in/none.txt sh/in/big.txt sh/in/code.txt)
    run index --quiet --out sh-one lib meta.jsonl sh/lib
    expect_rc 0
    run check --json --index sh-one "${SHARD_INPUTS[@]}"
    expect_rc 1
    cp "$OUT" sh-one.json
    run check --index sh-one "${SHARD_INPUTS[@]}"
    cp "$OUT" sh-one.txt
    run check --json --all-works --index sh-one sh/in/mix.txt
    cp "$OUT" sh-one-all.json
}

# same_reports DIR NAME: the reports of DIR (JSON, text, --all-works) are those of one index.
same_reports() {
    local d=$1 name=$2
    run check --json --index "$d" "${SHARD_INPUTS[@]}"
    expect_rc 1 "$name"
    NASSERT=$((NASSERT + 1))
    cmp -s "$OUT" sh-one.json || bad "$name: JSON report differs from one index's: $(diff <(tr ',' '\n' <sh-one.json) <(tr ',' '\n' <"$OUT") | head -6 | tr '\n' ' ')"
    run check --index "$d" "${SHARD_INPUTS[@]}"
    NASSERT=$((NASSERT + 1))
    cmp -s "$OUT" sh-one.txt || bad "$name: text report differs from one index's"
    run check --json --all-works --index "$d" sh/in/mix.txt
    NASSERT=$((NASSERT + 1))
    cmp -s "$OUT" sh-one-all.json || bad "$name: --all-works report differs from one index's"
}

# The fixture means something: the boilerplate is common language (the whole library's count),
# the passage in 63 families is not, the duplicates are one cluster, works of lib/ are found.
t_shards_fixture() {
    shards_setup || return
    run stats --index sh-one --json
    expect_json "$OUT" 'r["common_texts"] == 8'
    expect_json sh-one.json \
        'r[0]["matches"] and all(m["common"] for m in r[0]["matches"]) and r[0]["common_others"] > 0' \
        'len(r[1]["works"]) == 36 and not any(m["common"] for m in r[1]["matches"])' \
        'sorted(r[3]["matches"][0]["also"]) == ["sh/lib/dup-m/copy.txt", "sh/lib/dup-z/copy.txt"]' \
        'r[4]["matches"] and all(m["work"].startswith("lib/") for m in r[4]["matches"])' \
        'r[6]["matches"] == []' 'len(r[7]["works"]) >= 100' \
        'sorted(m["work"] for m in r[8]["matches"]) == ["sh/lib/code/mod1.py", "sh/lib/code/mod4.py"]' \
        'all(m["unit"] == "words" for m in r[8]["matches"])'
}

t_shards_same_report() {
    shards_setup || return
    local n
    for n in 1 2 5; do
        run index --quiet --shards "$n" --out "sh-$n" lib meta.jsonl sh/lib
        expect_rc 0 "--shards $n"
        [ "$RC" -eq 0 ] || continue
        NASSERT=$((NASSERT + 1))
        [ "$(find "sh-$n" -maxdepth 1 -name 'shard-*' -type d | wc -l)" -eq "$n" ] ||
            bad "sh-$n does not hold $n shard directories"
        same_reports "sh-$n" "$n shards"
        run verify --index "sh-$n"
        expect_rc 0 "verify of $n shards"
        run stats --index "sh-$n" --json
        expect_json "$OUT" "r['works'] == $(jq_works sh-one) and r['shards'] == $n and r['common_texts'] == 8"
    done
    # Each shard is an ordinary index of its works; together they hold every work once.
    run stats --index sh-5/shard-0003 --json
    expect_rc 0
    expect_json "$OUT" 'r["shards"] == 0 and 0 < r["works"] < 180'
}

jq_works() { "$BIN" stats --index "$1" --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["works"])'; }

t_shards_mpi() {
    shards_setup || return
    NASSERT=$((NASSERT + 1))
    command -v mpirun >/dev/null || {
        bad "mpirun is missing (scripts/deps.sh installs openmpi-bin)"
        return
    }
    mpi_run 2 index --mpi --quiet --out sh-mpi lib meta.jsonl sh/lib
    expect_rc 0 "mpirun -n 2 recite index --mpi"
    same_reports sh-mpi "2 MPI ranks"
    # Fanned out: each rank opens its shards (2 shards: one each; 5 shards: 3 and 2), every
    # input is checked by both, rank 0 prints: one index's reports.
    local d
    for d in sh-mpi sh-5; do
        [ -d "$d" ] || run index --quiet --shards 5 --out "$d" lib meta.jsonl sh/lib
        mpi_run 2 check --mpi --json --index "$d" "${SHARD_INPUTS[@]}"
        expect_rc 1 "mpirun -n 2 recite check --mpi --index $d"
        NASSERT=$((NASSERT + 1))
        cmp -s "$OUT" sh-one.json || bad "check --mpi on $d: JSON report differs from one index's"
        mpi_run 2 check --mpi --index "$d" "${SHARD_INPUTS[@]}"
        NASSERT=$((NASSERT + 1))
        cmp -s "$OUT" sh-one.txt || bad "check --mpi on $d: text report differs from one index's"
    done
    # More ranks than shards: the third holds none and takes part all the same.
    mpi_run 3 check --mpi --json --all-works --index sh-mpi sh/in/mix.txt
    expect_rc 1 "mpirun -n 3 recite check --mpi --all-works"
    NASSERT=$((NASSERT + 1))
    cmp -s "$OUT" sh-one-all.json || bad "check --mpi on 3 ranks: --all-works report differs"
    # Scattered: the inputs shared out, each rank against the whole index (an ordinary index
    # always).
    mpi_run 2 check --mpi --scatter --json --index sh-mpi "${SHARD_INPUTS[@]}"
    expect_rc 1 "mpirun -n 2 recite check --mpi --scatter"
    NASSERT=$((NASSERT + 1))
    cmp -s "$OUT" sh-one.json || bad "check --mpi --scatter: JSON report differs from one index's"
    mpi_run 2 check --mpi --index sh-one "${SHARD_INPUTS[@]}"
    NASSERT=$((NASSERT + 1))
    cmp -s "$OUT" sh-one.txt || bad "check --mpi of one index: text report differs"
    # An input that cannot be read: every rank stops (no rank waits for another), status 2.
    mpi_run 2 check --mpi --json --index sh-mpi sh/in/boiler.txt no-such-input.txt
    expect_rc 2 "check --mpi with a missing input"
    expect_err 'no-such-input'
    run check --scatter --index sh-mpi sh/in/boiler.txt
    expect_rc 2
    expect_err 'goes with --mpi'

    # A build of 3 shards on 2 ranks is refused on every rank, leaving nothing behind.
    mpi_run 2 index --mpi --shards 3 --quiet --out sh-mpi3 lib
    expect_rc 2
    expect_err 'one shard per participant'
    expect_no_index sh-mpi3
}

# Deletion and compaction of a sharded index: the same as compacting one index.
t_shards_compact() {
    shards_setup || return
    local d
    rm -rf sh-one-c sh-5c
    run index --quiet --out sh-one-c lib meta.jsonl sh/lib
    run index --quiet --shards 5 --out sh-5c lib meta.jsonl sh/lib
    for d in sh-one-c sh-5c; do
        run catalog delete --index "$d" --work sh/lib/boiler/b003.txt --why "test"
        expect_rc 0
        run catalog delete --index "$d" --work sh/lib/dup-a/copy.txt --why "test"
        run compact --index "$d"
        expect_rc 0 "compact $d"
        run check --json --index "$d" "${SHARD_INPUTS[@]}"
        cp "$OUT" "$d.json"
    done
    NASSERT=$((NASSERT + 1))
    cmp -s sh-one-c.json sh-5c.json || bad "compacted shards report otherwise than a compacted index"
    expect_json sh-5c.json '"sh/lib/boiler/b003.txt" not in str(r)' \
        'r[3]["matches"][0]["work"] == "sh/lib/dup-m/copy.txt"'
    run verify --index sh-5c
    expect_rc 0
}

t_shards_textfree() {
    shards_setup || return
    # A random key each run (keyed hashes select other fingerprints, the seeds come in another
    # order): the key is printed when the reports differ, to reproduce it.
    head -c 32 /dev/urandom >sh.key
    run index --quiet --text-free --key sh.key --out sh-tf1 lib sh/lib
    run index --quiet --text-free --key sh.key --shards 3 --out sh-tf3 lib sh/lib
    expect_rc 0
    run check --json --key sh.key --index sh-tf1 "${SHARD_INPUTS[@]}"
    cp "$OUT" sh-tf1.json
    run check --json --key sh.key --index sh-tf3 "${SHARD_INPUTS[@]}"
    expect_rc 1
    NASSERT=$((NASSERT + 1))
    cmp -s "$OUT" sh-tf1.json ||
        bad "text-free shards report otherwise than one text-free index (key, hex: $(od -An -tx1 -v sh.key | tr -d ' \n'))"
    check_fails 'checking needs its key' --index sh-tf3 sh/in/boiler.txt
    # Fanned out over 2 ranks: the same report.
    mpi_run 2 check --mpi --json --key sh.key --index sh-tf3 "${SHARD_INPUTS[@]}"
    expect_rc 1 "check --mpi of text-free shards"
    NASSERT=$((NASSERT + 1))
    cmp -s "$OUT" sh-tf1.json ||
        bad "check --mpi of text-free shards differs (key, hex: $(od -An -tx1 -v sh.key | tr -d ' \n'))"
    # A key given to ordinary shards is refused, fanned out or not (every rank says so).
    [ -d sh-2 ] || run index --quiet --shards 2 --out sh-2 lib meta.jsonl sh/lib
    check_fails '^recite: --key: sh-2 is not a text-free index; it takes no key$' --key sh.key --index sh-2 sh/in/boiler.txt
    mpi_run 2 check --mpi --key sh.key --index sh-2 sh/in/boiler.txt
    expect_rc 2 "check --mpi --key of ordinary shards"
    expect_err '^recite: --key: sh-2 is not a text-free index; it takes no key$'
}

# A shard replaced, damaged or missing is found when the index opens (or by verify); a bad
# --shards is a usage error; a failed sharded build leaves no index behind.
t_shards_errors() {
    shards_setup || return
    [ -d sh-2 ] || run index --quiet --shards 2 --out sh-2 lib meta.jsonl sh/lib
    run index --quiet --shards 0 --out sh-bad lib
    expect_rc 2
    expect_err 'shards'
    run index --quiet --shards 2 --out sh-bad lib no-such-dir
    expect_rc 2
    expect_no_index sh-bad
    rm -rf sh-x && cp -r sh-2 sh-x
    cp sh-5/shard-0001/recite.idx sh-x/shard-0001/recite.idx
    check_fails 'not the one its head lists' --index sh-x sh/in/boiler.txt
    rm -rf sh-x && cp -r sh-2 sh-x && rm -r sh-x/shard-0000
    check_fails 'cannot open|not a recite index' --index sh-x sh/in/boiler.txt
    rm -rf sh-x && cp -r sh-2 sh-x
    # A byte of a shard's postings: the shard's page checksums find it.
    local f=sh-x/shard-0001/recite.idx size
    size=$(stat -c %s "$f")
    printf '\x5a' | dd of="$f" bs=1 seek=$((size / 2)) conv=notrunc status=none
    run verify --index sh-x
    expect_rc 2
    expect_err 'shard 1: corrupt index'
    rm -rf sh-x
}
