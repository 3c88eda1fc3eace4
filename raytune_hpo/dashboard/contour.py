"""The contour of an experiment's page: an objective over its two most important hyperparameters.

The two are the most important numeric ones of the page's importance
(:mod:`~raytune_hpo.dashboard.importance_view`); without an importance for that objective, the
first two numeric ones that vary, by name. Each trial is a point at its last report's config,
coloured by its value there (as the slices have it). Trials sit at scattered points, and a
contour needs a grid: between them the surface is the inverse-distance-weighted mean of the
trials' values (weights ``1 / distance**2``, on axes scaled to [0, 1], log ones as ``log10``).
It says where good trials lie, not what an untried config would give.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from raytune_hpo.dashboard.parallel_axes import log_scaled
from raytune_hpo.dashboard.slices import LastPoint, last_points, numeric, slice_axis, varying
from raytune_hpo.dashboard.trials import Trials, number

GRID = 40
"""Grid points per axis."""
MIN_POINTS = 3
"""Trials with a value needed to draw a surface."""
MOST_IMPORTANT = "the two most important numeric hyperparameters"
FIRST_VARYING = "the first two numeric hyperparameters that vary (no importance yet)"


def interpolate(x: np.ndarray, y: np.ndarray, z: np.ndarray, grid: int = GRID) -> dict[str, Any]:
    """The inverse-distance-weighted surface of scattered ``(x, y, z)`` on a ``grid`` x
    ``grid`` grid spanning them: ``x`` and ``y`` (the grid's coordinates) and ``z`` (one row
    per ``y``); a grid point on a trial takes that trial's value."""
    gx, gy = np.linspace(x.min(), x.max(), grid), np.linspace(y.min(), y.max(), grid)
    span_x, span_y = np.ptp(x) or 1.0, np.ptp(y) or 1.0
    dx = (gx[None, :, None] - x[None, None, :]) / span_x
    dy = (gy[:, None, None] - y[None, None, :]) / span_y
    squared = dx**2 + dy**2
    with np.errstate(divide="ignore"):
        weights = 1.0 / squared
    exact = np.isinf(weights)
    weights = np.where(exact.any(axis=2, keepdims=True), exact.astype(float), weights)
    surface = (weights * z).sum(axis=2) / weights.sum(axis=2)
    return {"x": gx.tolist(), "y": gy.tolist(), "z": surface.tolist()}


def pick_pair(
    points: list[LastPoint], ranked: list[tuple[str, float]] | None
) -> tuple[list[str], str]:
    """The two hyperparameters to draw (fewer when fewer are numeric and vary), and why them."""
    candidates = [name for name in varying(points) if numeric(points, name)]
    if ranked:
        order = [name for name, _ in ranked if name in candidates]
        return order[:2], MOST_IMPORTANT
    return candidates[:2], FIRST_VARYING


def objective_contour(
    points: list[LastPoint], objective: str, ranked: list[tuple[str, float]] | None, log: set[str]
) -> dict[str, Any]:
    """One objective's contour: ``params`` (the x and y :func:`~raytune_hpo.dashboard.slices.
    slice_axis`), ``why`` they, ``trials`` and ``values`` (the points) and ``surface``
    (:func:`interpolate`, in the parameters' own units); or ``missing``: why there is none."""
    drawn = [p for p in points if number(p.report.get(objective)) is not None]
    if len(drawn) < MIN_POINTS:
        return {"missing": f"{len(drawn)} trials hold {objective}; a contour needs {MIN_POINTS}"}
    pair, why = pick_pair(drawn, ranked)
    if len(pair) < 2:
        return {"missing": "fewer than two numeric hyperparameters vary"}
    axes = [slice_axis(name, [p.config[name] for p in drawn], name in log) for name in pair]
    coords = [np.log10(a["values"]) if a["log"] else np.asarray(a["values"]) for a in axes]
    values = [float(p.report[objective]) for p in drawn]
    surface = interpolate(coords[0], coords[1], np.asarray(values))
    for key, axis in zip(("x", "y"), axes, strict=True):
        if axis["log"]:
            surface[key] = [10.0**c for c in surface[key]]
    return {
        "params": axes,
        "why": why,
        "trials": [p.trial_id for p in drawn],
        "values": values,
        "surface": surface,
    }


def contours(trials: Trials, ranked: dict[str, list[tuple[str, float]]]) -> dict[str, Any]:
    """Each objective's :func:`objective_contour`, by name.

    Args:
        trials: The experiment's trials.
        ranked: Objective -> its importance, most important first (an objective without one:
            absent).
    """
    points, log = last_points(trials), log_scaled(trials.config)
    return {
        o.name: objective_contour(points, o.name, ranked.get(o.name), log)
        for o in trials.objectives
    }
