#!/usr/bin/env python3
"""layers.py — checks the one-way layers of the library (docs/ARCHITECTURE.md): every #include
of src/ and every call of a recite_/rc_ function defined in another folder must point to a lower
layer (calls through the public API count: a lower layer never calls up), and serve/ and cli/
use only include/recite.h. Prints each violation; exits 1 when there is one. Run by make test."""
import glob
import os
import re
import sys

LAYER = {'common': 1, 'text': 2, 'fingerprint': 2, 'index': 3, 'match': 4, 'license': 5,
         'cmi': 6, 'build': 7, 'check': 7, 'policy': 7, 'catalog': 7, 'report': 8,
         'serve': 9, 'cli': 9}
os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
files = sorted(glob.glob('src/*/*.[ch]'))
bad = []
defs = {}
for f in files:
    if f.endswith('.c'):
        for m in re.finditer(r'^(?:[a-z_][\w ]*?\**\s*\**)\b((?:recite|rc)_\w+)\(',
                             open(f, encoding='utf-8').read(), re.M):
            defs.setdefault(m.group(1), f.split('/')[1])
for f in files:
    d = f.split('/')[1]
    if d not in LAYER:
        bad.append(f'{f}: folder {d} has no layer')
        continue
    text = open(f, encoding='utf-8').read()
    for inc in re.findall(r'^#include "([^"]+)"', text, re.M):
        if inc == 'recite.h':
            continue
        parts = [p for p in inc.split('/') if p != '..']
        if len(parts) < 2:
            continue  # the same folder
        to = parts[0]
        if d in ('serve', 'cli'):
            bad.append(f'{f} includes {inc}: serve/ and cli/ use only include/recite.h')
        elif LAYER.get(to, 99) >= LAYER[d]:
            bad.append(f'{f} (layer {LAYER[d]}) includes {inc} (layer {LAYER.get(to, "?")})')
    if f.endswith('.c'):
        for fn in sorted(set(re.findall(r'\b((?:recite|rc)_\w+)\s*\(', text))):
            to = defs.get(fn)
            if to and to != d and LAYER[to] >= LAYER[d]:
                bad.append(f'{f} (layer {LAYER[d]}) calls {fn} of {to} (layer {LAYER[to]})')
for b in bad:
    print('layers:', b)
print(f'layers: {len(files)} files, {len(defs)} functions: '
      + ('every include and call points to a lower layer' if not bad else f'{len(bad)} violations'))
sys.exit(1 if bad else 0)
