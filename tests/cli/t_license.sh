# shellcheck shell=bash
# tests/cli/t_license.sh — `recite license` and `recite index --no-cmi`.
# Sourced by tests/cli/run.sh, which runs the tests in its TESTS order (later tests use the
# index and fixtures earlier ones make); the helpers are in tests/cli/lib.sh.

# ==== license: the license and notices of files, as index identifies them (issue 5) ====

t_license_text() {
    run license /usr/share/common-licenses/Apache-2.0 /usr/include/stdio.h
    expect_rc 0
    expect_out '^/usr/share/common-licenses/Apache-2\.0: Apache-2\.0 \(score 1\.00, from text\)$'
    expect_out '^/usr/include/stdio\.h: LGPL-2\.1-or-later \(score 0\.[0-9]+, from header\)  Copyright \(C\) [0-9-]+ Free Software Foundation, Inc\.$'
    printf 'Nothing here resembles a license at all, zqxv plorb wendigo.\n' >p/nolicense.txt
    run license p/nolicense.txt
    expect_rc 0
    expect_out '^p/nolicense\.txt: unknown$'
}
t_license_json() {
    printf '// SPDX-License-Identifier: MIT OR Apache-2.0\n// Copyright 2020 Jane Q. Sample\nint x;\n' >p/tagged.c
    run license --json p/tagged.c
    expect_rc 0
    expect_json "$OUT" 'set(r) == {"file", "license", "score", "from", "full_text", "copyright", "spdx_tag"}' \
        'r["file"] == "p/tagged.c" and r["license"] == "MIT OR Apache-2.0" and r["from"] == "spdx"' \
        'r["spdx_tag"] == "MIT OR Apache-2.0" and r["score"] == 1 and r["full_text"] is False' \
        'r["copyright"] == ["Copyright 2020 Jane Q. Sample"]'
    run license --json /usr/share/common-licenses/GPL-2 p/nolicense.txt
    expect_rc 0
    expect_json "$OUT" 'isinstance(r, list) and len(r) == 2' \
        'r[0]["license"] == "GPL-2.0-only" and r[0]["from"] == "text" and r[0]["full_text"] is True' \
        '0.9 < r[0]["score"] <= 1 and r[0]["spdx_tag"] is None' \
        'r[1] == {"file": "p/nolicense.txt", "license": None, "score": None, "from": None, "full_text": False, "copyright": [], "spdx_tag": None}'
}
t_license_mode() {
    # A notice in a leading comment of code; as prose the whole text is read.
    printf '/* Licensed under the Apache License, Version 2.0 (the "License"). */\nint y;\n' >p/mode.c
    run license --mode code p/mode.c
    expect_rc 0
    expect_out '^p/mode\.c: Apache-2\.0 '
    run license --mode prose p/mode.c
    expect_rc 0
    expect_out '^p/mode\.c: Apache-2\.0 '
    run license --mode poetry p/mode.c
    expect_rc 2
    expect_one_error_line
}
license_fails() {
    local re=$1
    shift
    run license "$@"
    expect_rc 2
    expect_one_error_line
    expect_err "$re"
    NASSERT=$((NASSERT + 1))
    [ ! -s "$OUT" ] || bad "stdout is not empty: $(snippet "$OUT")"
}
t_license_errors() {
    license_fails 'p/no-such-file\.txt: cannot open' p/no-such-file.txt
    license_fails 'p/no-such-file\.txt' /usr/share/common-licenses/GPL-3 p/no-such-file.txt
    license_fails '^recite: lib: is a directory' lib
    license_fails 'no FILE'
    license_fails "unknown option" --frobnicate p/tagged.c
}
# A binary file among the files: reported on its own line and skipped, the others identified;
# exit status 1 says some were skipped (issue 13, point 16).
t_license_binary() {
    printf 'text\0more' >p/nul.txt
    run license /usr/share/common-licenses/Apache-2.0 p/nul.txt p/nolicense.txt
    expect_rc 1
    expect_out '^/usr/share/common-licenses/Apache-2\.0: Apache-2\.0 '
    expect_out '^p/nul\.txt: skipped \(binary\)$'
    expect_out '^p/nolicense\.txt: unknown$'
    expect_err '^recite: p/nul\.txt: binary input'
    run license --json p/nul.txt /usr/share/common-licenses/GPL-2
    expect_rc 1
    expect_json "$OUT" 'isinstance(r, list) and len(r) == 2' \
        'r[0] == {"file": "p/nul.txt", "skipped": "binary"}' \
        'r[1]["license"] == "GPL-2.0-only"'
    run license p/nul.txt
    expect_rc 1
    expect_out '^p/nul\.txt: skipped \(binary\)$'
}
# Expressions as users see them: a dual-license notice, a GNU notice with an exception.
t_license_expressions() {
    printf '/* Copyright 2021 Jane Q. Example\n * Dual licensed under the MIT license or the Apache License, Version 2.0,\n * at your option. */\nint x;\n' >p/dual.c
    run license p/dual.c /usr/include/c++/12/limits
    expect_rc 0
    expect_out '^p/dual\.c: MIT OR Apache-2\.0 \(score'
    expect_out '^/usr/include/c\+\+/12/limits: GPL-3\.0-or-later WITH GCC-exception-3\.1 '
}
t_index_no_cmi() {
    run index --no-cmi --out idx-nocmi lib/licenses
    expect_rc 0
    expect "idx-nocmi/licenses exists after --no-cmi" test ! -e idx-nocmi/licenses
    run check --index idx-nocmi --json p/probe.txt
    expect_rc 1
    expect_json "$OUT" 'work_entry(r, "lib/licenses/apache.txt")["cmi"] is None' \
        'work_entry(r, "lib/licenses/apache.txt")["license"] is None'
    run check --index idx --json p/probe.txt
    expect_json "$OUT" 'work_entry(r, "lib/licenses/apache.txt")["cmi"] in ("present", "absent")' \
        'work_entry(r, "lib/licenses/apache.txt")["license"] == "Apache-2.0"'
}
