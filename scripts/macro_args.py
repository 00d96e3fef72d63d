#!/usr/bin/env python3
"""macro_args.py — RC_MIN and RC_MAX (src/common/rc_common.h) evaluate an argument twice, so an
argument with a side effect (++, --, an assignment) does it twice on one branch: a loop that
advanced twice a step went unseen that way (rc_code_may_keep). They stay macros so that the
compiler's -Wsign-compare still sees their comparison; this check finds such arguments in every
C file of the repository. Prints each; exits 1 when there is one. Run by make test.
    scripts/macro_args.py [FILE...]   (default: the C files of src, tests, python, fuzz, bench)"""
import glob
import os
import re
import sys

MACROS = ('RC_MIN', 'RC_MAX')
# ++ or --, or an assignment: = not part of ==, <=, >=, != (compound ones end in a lone =).
SIDE_EFFECT = re.compile(r'\+\+|--|(?<![=<>!])=(?!=)')


def calls(text):
    """(line, macro, argument text) of each call, arguments by balanced parentheses."""
    for m in re.finditer(r'\b(' + '|'.join(MACROS) + r')\s*\(', text):
        depth, i = 1, m.end()
        while i < len(text) and depth:
            depth += {'(': 1, ')': -1}.get(text[i], 0)
            i += 1
        yield text.count('\n', 0, m.start()) + 1, m.group(1), text[m.end():i - 1]


def strip(text):
    """The text without comments and string or character literals (their lines kept)."""
    return re.sub(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'',
                  lambda m: '\n' * m.group(0).count('\n') + ' ', text, flags=re.S)


def main(argv):
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
    files = argv or sorted(f for pat in ('src', 'tests', 'python', 'fuzz', 'bench')
                           for f in glob.glob(os.path.join(root, pat, '**', '*.[ch]'),
                                              recursive=True)
                           if '/out/' not in f and '/build/' not in f)
    bad = 0
    for f in files:
        text = strip(open(f, encoding='utf-8').read())
        for line, macro, args in calls(text):
            if macro in MACROS and '#define' not in text.splitlines()[line - 1] and \
                    SIDE_EFFECT.search(args):
                print(f'{os.path.relpath(f, root)}:{line}: {macro} argument with a side effect '
                      f'(evaluated twice): {" ".join(args.split())}')
                bad += 1
    print(f'macro_args: {len(files)} files, {bad} argument(s) with a side effect')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
