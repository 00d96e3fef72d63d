# shellcheck shell=bash
# tests/cli/t_general.sh — the command without a subcommand: version, help, usage errors.
# Sourced by tests/cli/run.sh, which runs the tests in its TESTS order (later tests use the
# index and fixtures earlier ones make); the helpers are in tests/cli/lib.sh.

# ==== recite (no command) ====

t_version() {
    run --version
    expect_rc 0
    expect_out '^recite [0-9]+\.[0-9]+\.[0-9]+'
}
t_help() {
    run --help
    expect_rc 0
    expect_out 'recite index'
    expect_out 'recite check'
}
t_no_arguments() {
    run
    expect_rc 2
    expect_one_error_line
}
t_unknown_command() {
    run frobnicate
    expect_rc 2
    expect_err "^recite: .*frobnicate"
}
t_serve_unavailable() {
    run serve --index idx
    expect_rc 2
    expect_err '^recite: '
}
