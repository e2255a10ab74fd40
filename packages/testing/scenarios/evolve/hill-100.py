def construct_packing(n):
    """Hill-climb from the grid: move one centre a little, keep the move when the sum of radii grows (100 steps)."""
    side = math.ceil(math.sqrt(n))
    centres = [((i % side + 0.5) / side, (i // side + 0.5) / side) for i in range(n)]
    rng = random.Random(0)
    best = sum(grow_radii(centres))
    for step in range(100):
        i = rng.randrange(n)
        x, y = centres[i]
        moved = (min(max(x + rng.gauss(0, 0.05), 0.0), 1.0), min(max(y + rng.gauss(0, 0.05), 0.0), 1.0))
        trial = centres[:i] + [moved] + centres[i + 1:]
        total = sum(grow_radii(trial))
        if total > best:
            centres, best = trial, total
    return centres, grow_radii(centres)
