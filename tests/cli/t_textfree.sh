# shellcheck shell=bash
# tests/cli/t_textfree.sh — text-free indexes: `recite index --text-free --key`, `recite check --key`.
# Sourced by tests/cli/run.sh, which runs the tests in its TESTS order (later tests use the
# index and fixtures earlier ones make); the helpers are in tests/cli/lib.sh.

# ==== text-free indexes ====

# The same planted span is found at the same offsets with the same kind as in idx, the report
# says the works' text is not available, and the index file holds none of the span's words.
t_textfree_same_report() {
    head -c 32 /dev/urandom >tf.key
    run index --quiet --text-free --key tf.key --out tfidx lib meta.jsonl
    expect_rc 0
    run stats --index tfidx --json
    expect_json "$OUT" 'r["text_free"] is True'
    plant tf lib/licenses/apache.txt --ntok 60 --at 0.4 "${UNIQ[@]}"
    run check --index idx --json p/tf.txt
    cp "$OUT" p/tf.plain
    run check --index tfidx --key tf.key --json p/tf.txt
    expect_rc 1
    expect_json "$OUT" 'shape(r)' "planted(r, 'p/tf.json', 'lib/licenses/apache.txt', 'exact', 'p/tf.txt')" \
        'r["source_text"].startswith("not available")'
    # The same spans (a text-free index keeps no text to count lines in: no line locator).
    expect_json "$OUT" "[(m['work'], m['output'], m['source']['start'], m['source']['end'], m['kind']) for m in r['matches']] == [(m['work'], m['output'], m['source']['start'], m['source']['end'], m['kind']) for m in load('p/tf.plain')['matches']]" \
        "all('line' not in m['source'].get('locator', {}) for m in r['matches'])"
    NASSERT=$((NASSERT + 1))
    local w
    for w in $(tr -cs 'A-Za-z' '\n' <p/tf.txt | awk 'length($0) >= 8' | sort -u | head -20); do
        if grep -qaF -- "$w" tfidx/recite.idx; then bad "the word '$w' is in the text-free index file"; fi
    done
}
t_textfree_key_errors() {
    [ -d tfidx ] || run index --quiet --text-free --key tf.key --out tfidx lib meta.jsonl
    check_fails 'text-free.*--key' --index tfidx p/tf.txt
    head -c 32 /dev/urandom >tf-other.key
    check_fails 'wrong key' --index tfidx --key tf-other.key p/tf.txt
    head -c 8 /dev/urandom >tf-short.key
    check_fails 'too short' --index tfidx --key tf-short.key p/tf.txt
    check_fails 'cannot read the key' --index tfidx --key no-such.key p/tf.txt
    head -c 4097 /dev/urandom >tf-long.key
    check_fails '^recite: tf-long\.key: key too long: at most 4096 bytes$' --index tfidx --key tf-long.key p/tf.txt
    check_fails '^recite: lib: cannot read the key: a directory, not a file$' --index tfidx --key lib p/tf.txt
    # A key given to an index that takes none: the wrong index, or the wrong flag (the library
    # would ignore it). The key is read first: a bad key file is still named as such.
    check_fails '^recite: --key: idx is not a text-free index; it takes no key$' --index idx --key tf.key p/tf.txt
    check_fails 'tf-short\.key: key too short' --index idx --key tf-short.key p/tf.txt
    run index --quiet --text-free --out tf-bad lib
    expect_rc 2
    expect_err 'needs --key'
    expect_no_index tf-bad
    run index --quiet --key tf.key --out tf-bad lib
    expect_rc 2
    expect_err 'only for --text-free'
    run index --quiet --text-free --key tf-short.key --out tf-bad lib
    expect_rc 2
    expect_err 'too short'
    expect_no_index tf-bad
    run index --quiet --text-free --key lib --out tf-bad lib
    expect_rc 2
    expect_one_error_line
    expect_err '^recite: lib: cannot read the key: a directory, not a file$'
    expect_no_index tf-bad
}
