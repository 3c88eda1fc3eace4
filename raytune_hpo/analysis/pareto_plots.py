"""The Pareto plot of one experiment: every trial's last report, the front drawn (pure plotting).

Takes a points frame (:func:`raytune_hpo.analysis.fronts.trial_points`) and returns a
matplotlib Figure; :func:`save_pareto_plot` writes it into the experiment folder.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from raytune_hpo import storage
from raytune_hpo.analysis.comparison_plots import new_figure, png_bytes
from raytune_hpo.analysis.fronts import FEASIBLE, ON_FRONT, Objectives, minimised_column
from raytune_hpo.layout import PARETO_PNG

PANEL_SIZE = (4.6, 3.8)
"""Inches per panel."""
MAX_COLUMNS = 3
"""Panels per row when there are three or more objectives."""
FRONT_COLOR = "tab:blue"
BROKEN_COLOR = "tab:red"
OTHER_COLOR = "0.6"


BETTER = {"min": "lower is better", "max": "higher is better"}
"""What an axis label says of an objective's mode (``(min)`` read as minutes)."""


def plot_pareto(points: pd.DataFrame, objectives: Objectives) -> Figure:
    """Every trial's last report as a point, the front highlighted.

    Two objectives make one panel, with the front drawn as the step line that bounds what it
    dominates; three or more make one panel per pair of objectives (the front of all of them
    highlighted in each). Trials that break a constraint are red crosses, apart from the rest.

    Args:
        points: One row per trial: the objectives' columns, ``feasible`` and ``on_front``.
        objectives: The experiment's objectives (names and modes).

    Returns:
        The figure, one axes per pair of objectives.
    """
    pairs = list(itertools.combinations(range(len(objectives.names)), 2))
    columns = min(MAX_COLUMNS, len(pairs))
    rows = math.ceil(len(pairs) / columns)
    figure = new_figure((PANEL_SIZE[0] * columns, PANEL_SIZE[1] * rows))
    for index, (x, y) in enumerate(pairs):
        axes = figure.add_subplot(rows, columns, index + 1)
        _draw_pair(axes, points, objectives, x, y, staircase=len(pairs) == 1)
        if index == 0 and not points.empty:
            axes.legend(fontsize="small")
    front = int(points[ON_FRONT].sum()) if not points.empty else 0
    figure.suptitle(f"Pareto front: {front} of {len(points)} trials (each trial's last report)")
    return figure


def _draw_pair(
    axes: Axes, points: pd.DataFrame, objectives: Objectives, x: int, y: int, *, staircase: bool
) -> None:
    """One panel: objective ``x`` against objective ``y``."""
    names = objectives.names
    if not points.empty:
        broken = ~points[FEASIBLE].astype(bool)
        front = points[ON_FRONT].astype(bool)
        groups = (
            (~broken & ~front, "trial", OTHER_COLOR, "o"),
            (broken, "breaks a constraint", BROKEN_COLOR, "x"),
            (front, "on the front", FRONT_COLOR, "o"),
        )
        for chosen, label, color, marker in groups:
            if chosen.any():
                axes.scatter(
                    points.loc[chosen, names[x]],
                    points.loc[chosen, names[y]],
                    s=24,
                    color=color,
                    marker=marker,
                    label=f"{label} ({int(chosen.sum())})",
                    zorder=3,
                )
        if staircase and front.any():
            xs, ys = front_steps(points[front], objectives, x, y)
            axes.plot(xs, ys, color=FRONT_COLOR, lw=1.2, zorder=2)
    axes.set_xlabel(f"{names[x]} ({BETTER[objectives.modes[x]]})")
    axes.set_ylabel(f"{names[y]} ({BETTER[objectives.modes[y]]})")
    axes.grid(alpha=0.3)


def front_steps(
    front: pd.DataFrame, objectives: Objectives, x: int = 0, y: int = 1
) -> tuple[list[float], list[float]]:
    """The corners of the step line through the front's points (objectives ``x`` and ``y``, in
    their own units): from each point along ``x`` to the next point's ``x``, then along ``y``
    to it; the edge of the region the front dominates."""
    order = np.argsort(minimised_column(front, objectives, x), kind="stable")
    xs_in = front[objectives.names[x]].to_numpy(float)[order]
    ys_in = front[objectives.names[y]].to_numpy(float)[order]
    xs, ys = [float(xs_in[0])], [float(ys_in[0])]
    for x_next, y_next, y_here in zip(xs_in[1:], ys_in[1:], ys_in[:-1], strict=True):
        xs += [float(x_next), float(x_next)]
        ys += [float(y_here), float(y_next)]
    return xs, ys


def save_pareto_plot(
    points: pd.DataFrame, objectives: Objectives, folder: storage.Location
) -> storage.Location:
    """Write :func:`plot_pareto` as ``pareto_front.png`` into ``folder``; its path."""
    storage.write_bytes(folder, PARETO_PNG, png_bytes(plot_pareto(points, objectives)))
    return folder / PARETO_PNG
