"""Fewer points of a learning curve than a chart can show apart, keeping its shape.

A chart some 700 pixels wide draws a thousand trials' curves on top of each other; past a few
dozen points per curve, more only cost bytes and drawing time. A curve is cut into buckets of
consecutive reports and each bucket keeps its lowest and its highest value (min-max
decimation: every peak and dip stays, the envelope is the same), besides the first and last
report and any the caller must keep (restarts, PBT's exploits).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

TOTAL_POINTS = 40_000
"""About how many points the curves of one chart hold together."""
MAX_POINTS = 600
"""Points of one curve at most: about a chart's width in pixels."""
MIN_POINTS = 16
"""Points of one curve at least, however many trials share the chart."""


def points_per_curve(curves: int) -> int:
    """How many points each of ``curves`` curves keeps (:data:`TOTAL_POINTS` shared out,
    between :data:`MIN_POINTS` and :data:`MAX_POINTS`)."""
    return max(MIN_POINTS, min(MAX_POINTS, TOTAL_POINTS // max(curves, 1)))


def kept_indices(values: Sequence[float | None], limit: int, keep: Iterable[int] = ()) -> list[int]:
    """The indices of ``values`` to draw, in order: all of them when there are at most
    ``limit``; else the first, the last, those in ``keep``, and the lowest and highest value of
    each of about ``limit / 2`` buckets of consecutive values (a bucket of only missing values
    keeps its first).

    Args:
        values: A curve's values in report order (None: no value in that report).
        limit: How many points the curve may keep, about (``keep`` comes on top).
        keep: Indices that must stay.

    Raises:
        ValueError: ``limit`` is below 2.
    """
    if limit < 2:
        raise ValueError(f"a curve keeps at least its first and last point, but got {limit=}")
    count = len(values)
    if count <= limit:
        return list(range(count))
    kept = {0, count - 1, *(i for i in keep if 0 <= i < count)}
    buckets = max(1, (limit - 2) // 2)
    for bucket in range(buckets):
        start, stop = 1 + bucket * (count - 2) // buckets, 1 + (bucket + 1) * (count - 2) // buckets
        present = [i for i in range(start, stop) if values[i] is not None]
        if not present:
            kept.add(start)
            continue
        kept.add(min(present, key=lambda i: values[i]))  # type: ignore[arg-type,return-value]
        kept.add(max(present, key=lambda i: values[i]))  # type: ignore[arg-type,return-value]
    return sorted(kept)
