def construct_packing(n):
    """Centres on a square grid, radii grown in order and then shrunk to 0.4 of their size for safety."""
    side = math.ceil(math.sqrt(n))
    centres = [((i % side + 0.5) / side, (i // side + 0.5) / side) for i in range(n)]
    return centres, [0.4 * r for r in grow_radii(centres)]
