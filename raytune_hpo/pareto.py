"""Pareto fronts and hypervolume of points whose every coordinate is minimised (pure).

A point dominates another when it is no worse in every coordinate and better in one. The
functions take points already turned to minimisation (a maximised objective negated, see
:func:`to_minimised`), so that the scheduler that promotes by fronts, the results' ``best.json``
and the comparison plots share one definition. Imports nothing of the package.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Point = Sequence[float]


def to_minimised(values: Sequence[float], modes: Sequence[str]) -> tuple[float, ...]:
    """``values`` with every ``"max"`` coordinate negated, so that smaller is better in each.

    Raises:
        ValueError: ``values`` and ``modes`` differ in length, or a mode is not min/max.
    """
    if len(values) != len(modes):
        raise ValueError(f"{len(values)} values but {len(modes)} modes")
    unknown = sorted(set(modes) - {"min", "max"})
    if unknown:
        raise ValueError(f"unknown mode {unknown[0]!r}; known: max, min")
    return tuple(-v if mode == "max" else v for v, mode in zip(values, modes, strict=True))


def dominates(a: Point, b: Point) -> bool:
    """Whether ``a`` is no worse than ``b`` in every coordinate and better in one."""
    return all(x <= y for x, y in zip(a, b, strict=True)) and any(
        x < y for x, y in zip(a, b, strict=True)
    )


def non_dominated_fronts(points: Sequence[Point]) -> list[list[int]]:
    """Indices of ``points`` by front: the non-dominated ones first, then those dominated only
    by the first front, and so on (NSGA-II's fast non-dominated sort). A point with a NaN
    coordinate is dominated by every point without one and sits in the last front."""
    finite = [not any(math.isnan(x) for x in point) for point in points]
    dominated_by_count = [0] * len(points)
    dominating: list[list[int]] = [[] for _ in points]
    for i, a in enumerate(points):
        for j in range(i + 1, len(points)):
            b = points[j]
            if _beats(a, finite[i], b, finite[j]):
                dominating[i].append(j)
                dominated_by_count[j] += 1
            elif _beats(b, finite[j], a, finite[i]):
                dominating[j].append(i)
                dominated_by_count[i] += 1
    fronts: list[list[int]] = []
    current = [i for i, count in enumerate(dominated_by_count) if count == 0]
    while current:
        fronts.append(current)
        following = []
        for i in current:
            for j in dominating[i]:
                dominated_by_count[j] -= 1
                if dominated_by_count[j] == 0:
                    following.append(j)
        current = sorted(following)
    return fronts


def _beats(a: Point, a_finite: bool, b: Point, b_finite: bool) -> bool:
    if a_finite != b_finite:
        return a_finite
    return a_finite and dominates(a, b)


def pareto_front(points: Sequence[Point]) -> list[int]:
    """Indices of the non-dominated points of ``points``, in their order."""
    fronts = non_dominated_fronts(points)
    return fronts[0] if fronts else []


def crowding_distances(points: Sequence[Point]) -> list[float]:
    """NSGA-II's crowding distance of each point within its set: the sum over coordinates of
    the gap between its neighbours, scaled by the coordinate's range; the ends of each
    coordinate get infinity. Larger means lonelier, the tie-break inside a front."""
    distances = [0.0] * len(points)
    if len(points) <= 2:
        return [math.inf] * len(points)
    for axis in range(len(points[0])):
        order = sorted(range(len(points)), key=lambda i: points[i][axis])
        low, high = points[order[0]][axis], points[order[-1]][axis]
        distances[order[0]] = distances[order[-1]] = math.inf
        if high == low:
            continue
        for before, here, after in zip(order, order[1:], order[2:], strict=False):
            distances[here] += (points[after][axis] - points[before][axis]) / (high - low)
    return distances


def hypervolume(points: Sequence[Point], reference: Point) -> float:
    """The volume dominated by ``points`` and bounded by ``reference`` (every coordinate
    minimised); points not strictly better than ``reference`` in every coordinate add nothing.

    Exact, by slicing along the last coordinate (the HSO scheme): fine for the fronts of a
    tuning run (tens of points, a few objectives).
    """
    inside = [
        tuple(point)
        for point in points
        if all(x < r for x, r in zip(point, reference, strict=True))
    ]
    return _volume(inside, tuple(reference))


def _volume(points: list[tuple[float, ...]], reference: tuple[float, ...]) -> float:
    if not points:
        return 0.0
    if len(reference) == 1:
        return reference[0] - min(point[0] for point in points)
    front = [points[i] for i in pareto_front(points)]
    front.sort(key=lambda point: point[-1])
    volume = 0.0
    for k, point in enumerate(front):
        top = front[k + 1][-1] if k + 1 < len(front) else reference[-1]
        slab = _volume([p[:-1] for p in front[: k + 1]], reference[:-1])
        volume += slab * (top - point[-1])
    return volume
