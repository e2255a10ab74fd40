"""Scores a circle packing: evolve mode runs `python3 evaluate.py PROGRAM` and reads metrics.json and correct.json.

The program must define `construct_packing(n)` returning (centres, radii) for N circles (N is the program's own
constant): every circle inside the unit square, no two overlapping. The score is the sum of the radii.
"""

import importlib.util
import json
import math
import sys

TOLERANCE = 1e-9


def finish(correct, error=None, **metrics):
    with open('metrics.json', 'w') as f:
        json.dump(metrics, f)
    with open('correct.json', 'w') as f:
        json.dump({'correct': correct, **({'error': error} if error else {})}, f)
    sys.exit(0)


spec = importlib.util.spec_from_file_location('candidate', sys.argv[1])
program = importlib.util.module_from_spec(spec)
spec.loader.exec_module(program)
n = program.N
centres, radii = program.construct_packing(n)
if len(centres) != n or len(radii) != n:
    finish(False, f'expected {n} circles, got {len(centres)} centres and {len(radii)} radii')
for i, ((x, y), r) in enumerate(zip(centres, radii)):
    if not all(math.isfinite(v) for v in (x, y, r)) or r < 0:
        finish(False, f'circle {i} has a negative or non-finite value')
    if x - r < -TOLERANCE or y - r < -TOLERANCE or x + r > 1 + TOLERANCE or y + r > 1 + TOLERANCE:
        finish(False, f'circle {i} leaves the unit square')
for i in range(n):
    for j in range(i):
        gap = math.hypot(centres[i][0] - centres[j][0], centres[i][1] - centres[j][1]) - radii[i] - radii[j]
        if gap < -TOLERANCE:
            finish(False, f'circles {j} and {i} overlap by {-gap:.2e}')
finish(True, score=sum(radii), circles=n, smallest_radius=min(radii))
