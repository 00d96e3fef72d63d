# shellcheck shell=bash
# tests/cli/t_check.sh — `recite check`: exact, normalized and near spans, coverage, inputs, errors, policies, CMI.
# Sourced by tests/cli/run.sh, which runs the tests in its TESTS order (later tests use the
# index and fixtures earlier ones make); the helpers are in tests/cli/lib.sh.

# ==== check: exact and normalized spans ====

t_check_exact_json() {
    plant exact lib/licenses/apache.txt --ntok 40 --at 0.35 "${UNIQ[@]}"
    check_planted exact lib/licenses/apache.txt exact lib/licenses/apache.txt
    expect_json p/exact.report 'r["input"] == "p/exact.txt"' 'r["tokens"] == 40 + 60' \
        'r["truncated"] is False' 'matches_for(r, "lib/licenses/apache.txt")[0]["common"] is False'
}
t_check_text_report() {
    plant text lib/licenses/mpl2.txt --ntok 40 --at 0.4 "${UNIQ[@]}"
    run check --index idx p/text.txt
    expect_rc 1
    local os oe ss se
    read -r os oe ss se < <("$PY" -c 'import json,sys; m=json.load(open(sys.argv[1])); print(m["out_start"], m["out_end"], m["src_start"], m["src_end"])' p/text.json)
    expect_out "^p/text\.txt:$os-$oe  lib/licenses/mpl2\.txt:$ss-$se  40 tokens  exact  \".+\"$"
    expect_out '^p/text\.txt: lib/licenses/mpl2\.txt  '
    expect_out '^p/text\.txt: flag  '
}
t_check_pass() {
    printf 'Nothing here resembles any indexed work at all, zqxv plorb wendigo.\n' >p/pass.txt
    run check --index idx p/pass.txt
    expect_rc 0
    expect_out '^p/pass\.txt: pass  no recitation found; '
    run check --index idx --json p/pass.txt
    expect_rc 0
    expect_json "$OUT" 'shape(r)' 'r["verdict"] == "pass"' 'r["matches"] == [] and r["works"] == []' \
        'r["tokens"] == 11'
}
t_norm_case() {
    plant upper lib/licenses/apache.txt --ntok 40 --at 0.6 --transform upper "${UNIQ[@]}"
    check_planted upper lib/licenses/apache.txt normalized lib/licenses/apache.txt
}
t_norm_curly_quotes() {
    plant curly lib/gpl/a-gpl3.txt --ntok 30 --at 0.1 --transform curly "${UNIQ[@]}"
    check_planted curly lib/gpl/a-gpl3.txt normalized lib/gpl/a-gpl3.txt
}
t_norm_em_dash() {
    plant emdash lib/dashes/gpl2-dashed.txt --ntok 30 --at 0.5 --transform emdash "${UNIQ[@]}"
    check_planted emdash lib/dashes/gpl2-dashed.txt normalized lib/dashes/gpl2-dashed.txt
}
t_norm_reflow() {
    plant reflow lib/licenses/mpl2.txt --ntok 40 --at 0.7 --transform reflow "${UNIQ[@]}"
    check_planted reflow lib/licenses/mpl2.txt normalized lib/licenses/mpl2.txt
}
t_norm_hyphenation() {
    plant hyphen lib/licenses/apache.txt --ntok 30 --at 0.8 --transform hyphen "${UNIQ[@]}"
    check_planted hyphen lib/licenses/apache.txt normalized lib/licenses/apache.txt
}
t_norm_line_numbers() {
    plant lineno lib/deep/er/artistic.txt --ntok 40 --at 0.5 --transform lineno "${UNIQ[@]}"
    check_planted lineno lib/deep/er/artistic.txt normalized lib/deep/er/artistic.txt
}
t_norm_latin1_work() {
    plant latin1 lib/latin1/mpl11.txt --encoding latin-1 --ntok 30 --at 0 --need $'\u00e9' "${UNIQ[@]}"
    check_planted latin1 lib/latin1/mpl11.txt normalized lib/latin1/mpl11.txt
}
t_norm_crlf() {
    plant crlf lib/licenses/mpl2.txt --ntok 40 --at 0.25 --transform crlf "${UNIQ[@]}"
    check_planted crlf lib/licenses/mpl2.txt normalized lib/licenses/mpl2.txt
}
t_norm_unicode_nfd() {
    # Decomposed accents (e + U+0301) against the precomposed letters of the work.
    plant nfd lib/latin1/mpl11.txt --encoding latin-1 --ntok 30 --at 0 --transform nfd "${UNIQ[@]}"
    check_planted nfd lib/latin1/mpl11.txt normalized lib/latin1/mpl11.txt
}
t_norm_ligature() {
    plant lig lib/licenses/apache.txt --ntok 40 --at 0.15 --transform ligature "${UNIQ[@]}"
    check_planted lig lib/licenses/apache.txt normalized lib/licenses/apache.txt
}
t_norm_curly_apostrophe() {
    plant apos lib/gpl/a-gpl3.txt --ntok 30 --at 0.3 --transform apostrophe "${UNIQ[@]}"
    check_planted apos lib/gpl/a-gpl3.txt normalized lib/gpl/a-gpl3.txt
}
t_near_commas_removed() {
    plant nocomma lib/licenses/apache.txt --ntok 40 --at 0.45 --transform nocomma "${UNIQ[@]}"
    check_planted nocomma lib/licenses/apache.txt near lib/licenses/apache.txt
}

t_check_span_is_whole_input() {
    # No filler: the span starts at byte 0 and its last word ends the input (no newline).
    plant bare lib/licenses/mpl2.txt --ntok 30 --at 0.85 --bare 1 "${UNIQ[@]}"
    check_planted bare lib/licenses/mpl2.txt exact lib/licenses/mpl2.txt
}
t_check_two_works_in_one_input() {
    plant two-a lib/deep/er/artistic.txt --ntok 30 --at 0.2 "${UNIQ[@]}"
    plant two-b lib/licenses/apache.txt --ntok 30 --at 0.9 "${UNIQ[@]}"
    "${MKFIX[@]}" join p/two p/two-a p/two-b || bad "cannot join fixtures"
    run check --index idx --json p/two.txt
    expect_rc 1
    expect_json "$OUT" 'shape(r)' \
        "planted(r, 'p/two.a.json', 'lib/deep/er/artistic.txt', 'exact', 'p/two.txt', 'lib/deep/er/artistic.txt')" \
        "planted(r, 'p/two.b.json', 'lib/licenses/apache.txt', 'exact', 'p/two.txt', 'lib/licenses/apache.txt')" \
        'len(r["works"]) == 2' \
        '[m["output"]["start"] for m in r["matches"]] == sorted(m["output"]["start"] for m in r["matches"])'
}

t_json_non_utf8_names() {
    # A work file and an input whose names are Latin-1 bytes, not UTF-8: the JSON report must
    # still be produced (exit 1, valid JSON), however the names are represented.
    local work input
    work=$(printf 'names/caf\xe9.txt')
    input=$(printf 'p/input-\xff.txt')
    mkdir -p names
    cp lib/licenses/mpl2.txt "$work"
    run index --out namesidx names
    expect_rc 0
    plant names lib/licenses/mpl2.txt --ntok 30 --at 0.5 "${UNIQ[@]}"
    run check --index namesidx --json p/names.txt
    expect_rc 1 "a work id that is not UTF-8"
    expect_json "$OUT" 'shape(r)' 'len(r["matches"]) == 1' 'r["matches"][0]["work"].startswith("names/caf")'
    cp p/names.txt "$input"
    run check --index idx --json "$input"
    expect_rc 1 "an input name that is not UTF-8"
    expect_json "$OUT" 'shape(r)' 'r["input"].startswith("p/input-")'
}

# ==== check: coverage, thresholds ====

t_coverage_portion() {
    plant cov lib/licenses/apache.txt --ntok 60 --at 0.5 "${UNIQ[@]}"
    run check --index idx --json p/cov.txt
    expect_rc 1
    expect_json "$OUT" 'work_entry(r, "lib/licenses/apache.txt")["longest_tokens"] == 60' \
        'abs(work_entry(r, "lib/licenses/apache.txt")["coverage"] - 60 / count_words("lib/licenses/apache.txt")) < 0.05 * 60 / count_words("lib/licenses/apache.txt")' \
        'work_entry(r, "lib/licenses/apache.txt").get("extent") == "portion"'
}
t_coverage_whole_work() {
    cp lib/licenses/apache.txt p/whole.txt
    run check --index idx --json p/whole.txt
    expect_rc 1
    expect_json "$OUT" 'shape(r)' 'work_entry(r, "lib/licenses/apache.txt")["coverage"] >= 0.9' \
        'work_entry(r, "lib/licenses/apache.txt").get("extent") == "whole"' \
        'all(m["kind"] == "exact" for m in matches_for(r, "lib/licenses/apache.txt"))'
}
t_threshold_12_found_11_not() {
    run index --out ownidx own/own.txt
    expect_rc 0
    plant own12 own/own.txt --ntok 12 --at 0.5
    plant own11 own/own.txt --ntok 11 --at 0.3
    run check --index ownidx --json p/own12.txt
    expect_rc 1 "a 12-token span must be found"
    expect_json "$OUT" "planted(r, 'p/own12.json', 'own/own.txt', 'exact', 'p/own12.txt', 'own/own.txt')"
    run check --index ownidx --json p/own11.txt
    expect_rc 0 "an 11-token span is below the guarantee"
}
t_index_min_tokens_20() {
    run index --min-tokens 20 --out own20 own/own.txt
    expect_rc 0
    run stats --index own20 --json
    expect_json "$OUT" 'r["min_tokens"] == 20'
    plant own22 own/own.txt --ntok 22 --at 0.6
    run check --index own20 --min-tokens 12 p/own22.txt
    expect_rc 2
    expect_one_error_line
    expect_err "below this index's guarantee"
    run check --index own20 p/own22.txt
    expect_rc 1 "a 22-token span is above the index's guarantee of 20"
    run check --index own20 --min-tokens 25 p/own22.txt
    expect_rc 0 "--min-tokens 25 must not report a 22-token span"
}

# ==== check: inputs ====

t_check_empty_input() {
    : >p/empty.txt
    run check --index idx --json p/empty.txt
    expect_rc 0
    expect_json "$OUT" 'shape(r)' 'r["tokens"] == 0' 'r["verdict"] == "pass"'
    run --in p/empty.txt check --index idx
    expect_rc 0
}
t_check_stdin() {
    plant stdin lib/licenses/mpl2.txt --ntok 30 --at 0.3 "${UNIQ[@]}"
    run --in p/stdin.txt check --index idx --json
    expect_rc 1
    expect_json "$OUT" 'r["input"] == "-"' "planted(r, 'p/stdin.json', 'lib/licenses/mpl2.txt', 'exact', 'p/stdin.txt')"
    run --in p/stdin.txt check --index idx --json -
    expect_rc 1
    expect_json "$OUT" "planted(r, 'p/stdin.json', 'lib/licenses/mpl2.txt', 'exact', 'p/stdin.txt')"
}
t_check_several_inputs() {
    plant multi lib/licenses/mpl2.txt --ntok 30 --at 0.5 "${UNIQ[@]}"
    printf 'plain words of no consequence\n' >p/multi-pass.txt
    run check --index idx --json p/multi-pass.txt p/multi.txt
    expect_rc 1
    expect_json "$OUT" 'isinstance(r, list) and len(r) == 2' \
        '[x["input"] for x in r] == ["p/multi-pass.txt", "p/multi.txt"]' \
        '[x["verdict"] for x in r] == ["pass", "flag"]' 'all(shape(x) for x in r)'
    run check --index idx --json p/multi-pass.txt p/multi-pass.txt
    expect_rc 0
    expect_json "$OUT" 'isinstance(r, list) and len(r) == 2'
}
t_check_invalid_utf8_input() {
    plant junk lib/licenses/mpl2.txt --ntok 30 --at 0.6 --junk 1 "${UNIQ[@]}"
    run check --index idx p/junk.txt
    expect_rc 1
    run check --index idx --json p/junk.txt
    expect_rc 1
    expect_json "$OUT" "planted(r, 'p/junk.json', 'lib/licenses/mpl2.txt', 'exact', 'p/junk.txt')"
    head -c 3000 /dev/urandom | tr -d '\000' >p/noise.txt
    run check --index idx p/noise.txt
    NASSERT=$((NASSERT + 1))
    [ "$RC" -le 1 ] || bad "random bytes: exit $RC"
}

# ==== check: errors ====

check_fails() {
    local re=$1
    shift
    run check "$@"
    expect_rc 2
    expect_one_error_line
    expect_err "$re"
}
t_check_error_missing_input() { check_fails 'no-such-file' --index idx p/no-such-file.txt; }
t_check_error_binary_input() {
    printf 'text\0more' >p/nul.txt
    check_fails 'p/nul\.txt' --index idx p/nul.txt
}
t_check_error_directory_input() { check_fails '^recite: lib' --index idx lib; }
t_check_error_index_is_a_file() { check_fails '^recite: ' --index idx/recite.idx p/pass.txt; }
t_check_error_missing_index() { check_fails '^recite: ' --index no-such-index p/pass.txt; }
t_check_error_missing_index_option() { check_fails '--index' p/pass.txt; }
t_check_error_below_guarantee() { check_fails "below this index's guarantee" --index idx --min-tokens 11 p/pass.txt; }

# ==== check --policy (docs/POLICY.md) ====

# policy_input: p/pol.txt holds 40 tokens of jsonl/one (GFDL-1.3-only, source "licensed").
policy_input() {
    [ -s p/pol.txt ] || plant pol - --jsonl meta.jsonl --id jsonl/one --ntok 40 --at 0.3 "${UNIQ[@]}"
}
t_policy_blocks() {
    policy_input
    cat >pol-block.json <<'JSON'
{"version": 1, "default": "allow",
 "rules": [
   {"common": true, "action": "allow"},
   {"source": "licensed", "min_tokens": 12, "action": "block"}]}
JSON
    run check --index idx --json --policy pol-block.json p/pol.txt
    expect_rc 1 "a recitation was found"
    expect_json "$OUT" 'shape(r)' 'r["verdict"] == "block"' 'r["policy"] == "pol-block.json"' \
        'work_entry(r, "jsonl/one")["action"] == "block"' 'work_entry(r, "jsonl/one")["rule"] == 2'
    run check --index idx --policy pol-block.json p/pol.txt
    expect_rc 1
    expect_out '^p/pol\.txt: jsonl/one  .*; block by rule 2 \(source licensed, min_tokens 12\)$'
    expect_out '^p/pol\.txt: block  1 match in 1 work; [0-9]+ tokens checked; policy pol-block\.json$'
}
t_policy_allows() {
    policy_input
    printf '%s\n' '{"version": 1, "rules": [{"license": "copyleft", "action": "allow"}]}' >pol-allow.json
    run check --index idx --json --policy pol-allow.json p/pol.txt
    expect_rc 1 "a recitation was found, even if allowed"
    expect_json "$OUT" 'shape(r)' 'r["verdict"] == "pass"' \
        'work_entry(r, "jsonl/one")["action"] == "allow"' 'work_entry(r, "jsonl/one")["rule"] == 1'
    run check --index idx --policy pol-allow.json p/pol.txt
    expect_out '^p/pol\.txt: pass  1 match in 1 work; '
}
t_policy_cite_by_family_and_default() {
    policy_input
    plant polmpl lib/licenses/mpl2.txt --ntok 30 --at 0.5 "${UNIQ[@]}"
    # jsonl/one is GFDL-1.3-only: "GFDL-1.3-or-later" is the same license family.
    printf '%s\n' '{"version": 1, "default": "cite", "rules": [{"license": "GFDL-1.3-or-later", "source": "licensed", "action": "cite"}, {"source": "unknown", "action": "flag"}]}' >pol-cite.json
    run check --index idx --json --policy pol-cite.json p/pol.txt p/polmpl.txt
    expect_rc 1
    expect_json "$OUT" '[x["verdict"] for x in r] == ["cite", "flag"]' \
        'work_entry(r[0], "jsonl/one")["action"] == "cite"' \
        'work_entry(r[1], "lib/licenses/mpl2.txt")["action"] == "flag"' \
        'work_entry(r[1], "lib/licenses/mpl2.txt")["rule"] == 2'
    # Without --policy: the default policy (common language passes, anything else is flagged).
    run check --index idx --json p/pol.txt
    expect_json "$OUT" 'r["verdict"] == "flag"' 'r["policy"] == "default"' \
        'work_entry(r, "jsonl/one")["action"] == "flag"' '"rule" not in work_entry(r, "jsonl/one")'
}
t_policy_example_file() {
    policy_input
    run check --index idx --json --policy "$HERE/../../examples/policy.json" p/pol.txt
    expect_rc 1
    expect_json "$OUT" 'shape(r)' 'work_entry(r, "jsonl/one")["action"] in ("allow", "cite", "flag", "block")'
}
# policy_fails REGEX POLICY_FILE: check exits 2 with one matching line and prints nothing.
policy_fails() {
    policy_input
    check_fails "$1" --index idx --json --policy "$2" p/pol.txt
    NASSERT=$((NASSERT + 1))
    [ ! -s "$OUT" ] || bad "stdout is not empty: $(snippet "$OUT")"
}
t_policy_error_malformed() {
    printf '{"version": 1,\n "rules": [\n  {"action": "allow"},\n]}\n' >pol-syntax.json
    policy_fails '^recite: pol-syntax\.json:4:1: invalid JSON: ' pol-syntax.json
    printf '{"version": 1,\n "rules": [\n  {"action": "allow",\n   "sorce": "scanned"}]}\n' >pol-key.json
    policy_fails '^recite: pol-key\.json:4:4: rule 1: unknown key "sorce"' pol-key.json
    printf '{"version": 1,\n "rules": [{"source": "stolen", "action": "deny"}]}\n' >pol-value.json
    policy_fails '^recite: pol-value\.json:2:[0-9]+: rule 1: ' pol-value.json
    printf '{"version": 1, "rules": [{"min_tokens": "12", "action": "block"}]}' >pol-type.json
    policy_fails '^recite: pol-type\.json:1:41: rule 1: "min_tokens" must be a whole number' pol-type.json
    printf '{"version": 1\0}' >pol-nul.json
    policy_fails '^recite: pol-nul\.json:1:14: binary data' pol-nul.json
}
t_policy_error_conflict() {
    cat >pol-conflict.json <<'JSON'
{"version": 1,
 "rules": [
   {"source": "shadow-library", "action": "block"},
   {"license": "permissive", "action": "allow"},
   {"source": "shadow-library", "min_tokens": 40, "action": "flag"}]}
JSON
    policy_fails '^recite: pol-conflict\.json:5:4: rule 3 can never apply: rule 1 \(line 3\) matches everything it matches with another action$' pol-conflict.json
    printf '{"version": 1, "rules": [\n {"cmi": "absent", "action": "cite"},\n {"cmi": "absent", "action": "cite"}]}' >pol-dup.json
    policy_fails '^recite: pol-dup\.json:3:2: rule 2 duplicates rule 1 \(line 2\)$' pol-dup.json
}
t_policy_error_unknown_license() {
    printf '{"version": 1, "rules": [\n {"license": ["MIT",\n   "GPL-9.0-only"], "action": "cite"}]}' >pol-lic.json
    policy_fails "^recite: pol-lic\.json:3:4: rule 1: unknown license id 'GPL-9\.0-only'" pol-lic.json
}
t_policy_error_files() {
    policy_fails '^recite: no-such-policy\.json: cannot open the policy file: No such file' no-such-policy.json
    mkdir -p pol-dir
    policy_fails '^recite: pol-dir: cannot read the policy file: Is a directory' pol-dir
    head -c 1100000 /dev/zero | tr '\0' ' ' >pol-huge.json
    policy_fails '^recite: pol-huge\.json: a policy file is at most 1 MiB' pol-huge.json
    : >pol-empty.json
    policy_fails '^recite: pol-empty\.json:1:1: invalid JSON' pol-empty.json
}

# ==== CMI (INTERFACE.md: works[].cmi is present | absent | altered | none) ====

t_cmi_values() {
    plant cmi lib/licenses/apache.txt --ntok 40 --at 0.3 "${UNIQ[@]}"
    run check --index idx --json p/cmi.txt
    expect_json "$OUT" 'cmi_valid(r)'
}
t_cmi_absent_and_present() {
    # jsonl/one carries a copyright notice in its metadata; p/gfdl.txt does not reproduce it.
    plant gfdl - --jsonl meta.jsonl --id jsonl/one --ntok 40 --at 0.5 "${UNIQ[@]}"
    run check --index idx --json p/gfdl.txt
    expect_json "$OUT" 'need(work_entry(r, "jsonl/one")["cmi"] == "absent", "cmi is %r without the notice" % work_entry(r, "jsonl/one")["cmi"])'
    {
        echo "Copyright (C) 2000, 2001, 2002, 2007, 2008 Free Software Foundation, Inc."
        cat p/gfdl.txt
    } >p/gfdl-cmi.txt
    run check --index idx --json p/gfdl-cmi.txt
    expect_json "$OUT" 'need(work_entry(r, "jsonl/one")["cmi"] == "present", "cmi is %r with the notice" % work_entry(r, "jsonl/one")["cmi"])'
}
