"""Pack N circles into the unit square so that the sum of their radii is as large as possible.

The circle-packing problem of AlphaEvolve and ShinkaEvolve, small. Evolve mode may change only the code between the
EVOLVE-BLOCK markers; `grow_radii` and the constants are fixed, and evaluate.py checks every packing it is given.
"""

import math
import random

N = 10


def grow_radii(centres):
    """Each circle as large as the walls and the circles before it allow (so no two ever overlap)."""
    radii = []
    for i, (x, y) in enumerate(centres):
        r = min(x, y, 1 - x, 1 - y)
        for j in range(i):
            cx, cy = centres[j]
            r = min(r, math.hypot(x - cx, y - cy) - radii[j])
        radii.append(max(r, 0.0))
    return radii


# EVOLVE-BLOCK-START
def construct_packing(n):
    """Centres on a square grid, radii grown in order."""
    side = math.ceil(math.sqrt(n))
    centres = [((i % side + 0.5) / side, (i // side + 0.5) / side) for i in range(n)]
    return centres, grow_radii(centres)
# EVOLVE-BLOCK-END


if __name__ == '__main__':
    centres, radii = construct_packing(N)
    print(f'sum of radii: {sum(radii):.4f}')
