"""Pareto fronts and hypervolume (``raytune_hpo.pareto``) against brute force and by hand."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from raytune_hpo.pareto import (
    crowding_distances,
    dominates,
    hypervolume,
    non_dominated_fronts,
    pareto_front,
    to_minimised,
)


def brute_force_front(points: list[tuple[float, ...]]) -> list[int]:
    return [i for i, p in enumerate(points) if not any(dominates(q, p) for q in points)]


@pytest.mark.parametrize("seed", range(20))
def test_the_front_is_what_brute_force_finds(seed: int) -> None:
    rng = random.Random(seed)
    dims = rng.choice([2, 3, 4])
    points = [
        tuple(float(rng.randint(0, 6)) for _ in range(dims)) for _ in range(rng.randint(1, 30))
    ]
    assert pareto_front(points) == brute_force_front(points)
    fronts = non_dominated_fronts(points)
    assert sorted(itertools.chain(*fronts)) == list(range(len(points)))
    for later, earlier in ((fronts[k], fronts[k - 1]) for k in range(1, len(fronts))):
        # Every point of a later front is dominated by one of the front before it.
        assert all(any(dominates(points[e], points[i]) for e in earlier) for i in later)


def test_a_point_with_nan_is_behind_every_number() -> None:
    assert non_dominated_fronts([(math.nan, 0.0), (5.0, 5.0), (1.0, 9.0)]) == [[1, 2], [0]]


def test_maximised_coordinates_are_negated_and_bad_modes_refused() -> None:
    assert to_minimised([1.0, 2.0], ["min", "max"]) == (1.0, -2.0)
    with pytest.raises(ValueError, match="unknown mode 'best'"):
        to_minimised([1.0], ["best"])
    with pytest.raises(ValueError, match="2 values but 1 modes"):
        to_minimised([1.0, 2.0], ["min"])


def test_hypervolume_in_two_dimensions_by_hand() -> None:
    # Staircase (1,3), (2,2), (3,1) under (4,4): 3 + 2 + 1 = 6 unit squares.
    assert hypervolume([(1, 3), (2, 2), (3, 1)], (4, 4)) == pytest.approx(6.0)
    # A dominated point and one outside the reference add nothing.
    assert hypervolume([(1, 3), (2, 2), (3, 1), (3, 3), (5, 0)], (4, 4)) == pytest.approx(6.0)
    assert hypervolume([], (4, 4)) == 0.0


def test_hypervolume_in_three_dimensions_by_hand() -> None:
    # Under (2,2,2): (0,0,1) dominates [0,2]x[0,2]x[1,2] = 4; (1,1,0) adds [1,2]x[1,2]x[0,1] = 1.
    assert hypervolume([(0, 0, 1), (1, 1, 0)], (2, 2, 2)) == pytest.approx(5.0)
    assert hypervolume([(0, 0, 0)], (1, 2, 3)) == pytest.approx(6.0)


@pytest.mark.parametrize("seed", range(5))
def test_hypervolume_equals_counting_unit_cells(seed: int) -> None:
    rng = random.Random(seed)
    points = [tuple(rng.randint(0, 4) for _ in range(3)) for _ in range(8)]
    reference = (5, 5, 5)
    cells = sum(
        1
        for cell in itertools.product(range(5), repeat=3)
        if any(all(p <= c for p, c in zip(point, cell, strict=True)) for point in points)
    )
    assert hypervolume(points, reference) == pytest.approx(cells)


def test_crowding_distance_favours_the_ends_and_lonely_points() -> None:
    distances = crowding_distances([(0, 4), (1, 3), (1.5, 2.5), (4, 0)])
    assert distances[0] == distances[3] == math.inf
    assert distances[1] < distances[2]
