#!/usr/bin/env bash
# tests/cli/run.sh BINARY — black-box tests of the `recite` command (INTERFACE.md).
#
# Every test prints `ok - NAME` or `FAIL - NAME: reasons`; the script prints a count and exits 1
# if anything failed. Fixtures are made at run time in a temporary directory (removed at exit)
# from text Debian ships, by tests/cli/mkfix.py. JSON is checked by tests/cli/check_json.py.
# Any run of BINARY that crashes (signal, sanitizer report) fails the test it belongs to.
#
# Environment: RECITE_TEST_BIG_MB (default 200) sizes the single-line big-file fixture; CLI_TESTS
# names a subset of the tests to run.
set -u

if [ $# -ne 1 ]; then
    echo "usage: $0 BINARY" >&2
    exit 2
fi
BIN=$(realpath -- "$1" 2>/dev/null)
if [ -z "$BIN" ] || [ ! -f "$BIN" ] || [ ! -x "$BIN" ]; then
    echo "$0: $1 is not an executable file" >&2
    exit 2
fi
HERE=$(cd -- "$(dirname -- "$0")" && pwd)
GIVEN_BIN=$BIN
PY=/usr/bin/python3
MKFIX=("$PY" "$HERE/mkfix.py")
BIG_MB=${RECITE_TEST_BIG_MB:-200}

# Sanitizer reports exit 86, so they cannot pass for "1 = recitation found".
export ASAN_OPTIONS="exitcode=86:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="exitcode=86:print_stacktrace=1:${UBSAN_OPTIONS:-}"
export LSAN_OPTIONS="exitcode=86:${LSAN_OPTIONS:-}"
unset SOURCE_DATE_EPOCH
export PYTHONDONTWRITEBYTECODE=1

T=$(mktemp -d "${TMPDIR:-/tmp}/recite-cli.XXXXXX") || exit 2
BG_PID=""
cleanup() {
    if [ -n "$BG_PID" ]; then kill -9 "$BG_PID" 2>/dev/null; fi
    rm -rf -- "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cd "$T" || exit 2
# A private copy, so that a concurrent `make` cannot swap the binary under the tests.
cp -- "$GIVEN_BIN" "$T/recite" && BIN=$T/recite || exit 2
mkdir p # planted check inputs and their expectations

OUT=$T/stdout
ERR=$T/stderr
RC=0

# The harness and the tests, by command.
for part in lib t_general t_index t_check t_code t_stats t_license t_catalog t_textfree t_ingest t_shards; do
    # shellcheck source=/dev/null
    . "$HERE/$part.sh"
done

# ==== main ====

setup_library
TESTS=(
    version help no_arguments unknown_command serve_unavailable
    index_library index_skips_hidden index_skips_binary_and_empty index_skips_unreadable
    index_notes_invalid_utf8
    work_id_is_path_as_reached dir_walk_sorted_and_also jsonl_work_and_metadata
    jsonl_offsets_into_utf8_text jsonl_source_outside_contract
    index_error_missing_path index_error_empty_file index_error_binary_file
    index_error_jsonl_invalid index_error_jsonl_missing_id index_error_jsonl_missing_text
    index_error_duplicate_id index_error_jsonl_mode index_error_min_tokens_zero
    index_error_unknown_option index_error_missing_out index_error_nothing_to_index
    index_refuses_foreign_directory index_refuses_regular_file_as_out index_into_empty_directory index_error_keeps_existing
    rebuild_replaces index_quiet index_progress_on_terminal index_special_entries index_mode_options
    check_exact_json check_text_report check_pass
    norm_case norm_curly_quotes norm_em_dash norm_reflow norm_hyphenation norm_line_numbers
    norm_latin1_work norm_crlf norm_unicode_nfd norm_ligature norm_curly_apostrophe
    near_commas_removed check_span_is_whole_input check_two_works_in_one_input
    json_non_utf8_names
    coverage_portion coverage_whole_work threshold_12_found_11_not index_min_tokens_20
    check_empty_input check_stdin check_several_inputs check_invalid_utf8_input
    check_error_missing_input check_error_binary_input check_error_directory_input
    check_error_index_is_a_file check_error_missing_index
    check_error_missing_index_option check_error_below_guarantee
    policy_blocks policy_allows policy_cite_by_family_and_default policy_example_file
    policy_error_malformed policy_error_conflict policy_error_unknown_license policy_error_files
    stats_text stats_json stats_errors bad_input_edges
    corrupt_flipped_byte corrupt_flip_anywhere_never_crashes corrupt_truncated
    corrupt_format_version corrupt_no_index_file corrupt_empty_index_file
    code_renamed_function code_found_by_words code_shapes_precise code_short_renamed
    code_renamed_edited code_boilerplate_not_copies
    common_relative_to_library right_version_first
    cmi_values cmi_absent_and_present
    license_text license_json license_mode license_errors license_binary license_expressions
    index_no_cmi
    textfree_same_report textfree_key_errors compact_purges_deleted compact_errors
    catalog_built_by_index catalog_list_table catalog_list_csv catalog_list_json
    catalog_list_filters catalog_runs catalog_delete_and_audit catalog_errors
    catalog_corrupt_unchanged catalog_locked_unchanged catalog_reindex_keeps_audit
    catalog_stale_remade
    reproducible_jobs reproducible_mem
    big_single_line_file interrupted_rebuild_keeps_index
    ingest_index ingest_pdf_page ingest_pdf_broken ingest_epub_chapter ingest_html
    ingest_archives ingest_archive_broken ingest_git_license ingest_clean_exit_zero
    ingest_compact_keeps_locators ingest_html_report_locators ingest_html_kept_as_code
    shards_fixture shards_same_report shards_mpi shards_compact shards_textfree shards_errors
)
# CLI_TESTS="a b ...": only these (while developing; later tests may need earlier ones' indexes).
if [ -n "${CLI_TESTS:-}" ]; then read -ra TESTS <<<"$CLI_TESTS"; fi
START=$SECONDS
for name in "${TESTS[@]}"; do
    test_case "$name" "t_$name"
done
echo "# $((NTESTS - NFAILED)) of $NTESTS tests passed, $NFAILED failed ($((SECONDS - START))s, $GIVEN_BIN)"
[ "$NFAILED" -eq 0 ]
