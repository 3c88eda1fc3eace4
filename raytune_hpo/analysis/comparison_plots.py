"""Pure plotting: tidy frames in, matplotlib figures out (Agg canvas, no pyplot state).

The frames come from :mod:`raytune_hpo.analysis.compare`: anytime curves (one row per method and
time point, of the incumbent or of the hypervolume) and tidy reports (one row per report of
every trial of every experiment).
:func:`save_figure` writes a figure through :mod:`raytune_hpo.storage`.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd
from matplotlib import colormaps, ticker
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from raytune_hpo import storage

FIGSIZE = (7.0, 4.2)
LOG_SCALE_SPAN = 10.0
"""A metric whose positive values span this factor or more is drawn on a log axis."""


def method_colors(methods: Iterable[str]) -> dict[str, tuple[float, ...]]:
    """A fixed colour per method (sorted by name), the same in every figure."""
    palette = colormaps["tab10"]
    return {method: palette(i % palette.N) for i, method in enumerate(sorted(set(methods)))}


def spans_decades(values: Iterable[float]) -> bool:
    """Whether ``values`` are all positive and the largest is ``LOG_SCALE_SPAN`` times the least.

    Errors that fall from 0.9 to 0.02 bunch up near zero on a linear axis; a log axis shows the
    differences between methods where they are small.
    """
    finite = [float(value) for value in values if pd.notna(value)]
    return bool(finite) and min(finite) > 0 and max(finite) >= LOG_SCALE_SPAN * min(finite)


def _scale_y(axes: Axes, values: Iterable[float], label: str) -> None:
    """Label the y axis, on a log scale (said in the label) when :func:`spans_decades`."""
    if spans_decades(values):
        axes.set_yscale("log")
        plain = ticker.FuncFormatter(lambda value, _: f"{value:g}")
        axes.yaxis.set_major_formatter(plain)
        axes.yaxis.set_minor_locator(ticker.LogLocator(subs=(2.0, 5.0)))
        axes.yaxis.set_minor_formatter(plain)
        label = f"{label}, log scale"
    axes.set_ylabel(label)


def new_figure(figsize: tuple[float, float] = FIGSIZE) -> Figure:
    """An empty figure on its own Agg canvas (no pyplot state)."""
    figure = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def plot_anytime(curves: pd.DataFrame, metric: str, mode: str) -> Figure:
    """Anytime performance: the incumbent against wall-clock time, per method.

    Args:
        curves: Columns ``method``, ``elapsed_s``, ``mean``, ``lo``, ``hi`` and ``runs``
            (seeds averaged), on a time grid common to all methods.
        metric: The metric's name, for the axis label.
        mode: ``min`` or ``max``, for the axis label.

    Returns:
        The figure: a line of the mean per method, shaded from the lowest to the highest seed;
        on a log axis when the values span a factor of ``LOG_SCALE_SPAN``.
    """
    figure = new_figure()
    axes = figure.add_subplot()
    _draw_method_curves(axes, curves)
    axes.set_xlabel("wall-clock time (s)")
    bounds = [] if curves.empty else [*curves["lo"], *curves["hi"]]
    _scale_y(axes, bounds, f"best {metric} so far ({mode})")
    axes.set_title("Anytime performance: mean over seeds, shaded min to max")
    axes.grid(alpha=0.3)
    return figure


def plot_hypervolume(curves: pd.DataFrame, reference: tuple[Sequence[float], str] | None) -> Figure:
    """Hypervolume against wall-clock time, per method (several objectives).

    Args:
        curves: As for :func:`plot_anytime`, the values being hypervolumes.
        reference: The reference point and where it comes from, for the title.

    Returns:
        The figure: a line of the mean per method, shaded from the lowest to the highest seed.
    """
    figure = new_figure()
    axes = figure.add_subplot()
    _draw_method_curves(axes, curves)
    axes.set_xlabel("wall-clock time (s)")
    axes.set_ylabel("hypervolume (more is better)")
    point = "no reference point" if reference is None else (
        f"reference ({', '.join(f'{v:.4g}' for v in reference[0])}), {reference[1]}"
    )  # fmt: skip
    axes.set_title(f"Hypervolume: mean over seeds, shaded min to max\n{point}", fontsize="medium")
    axes.grid(alpha=0.3)
    return figure


def _draw_method_curves(axes: Axes, curves: pd.DataFrame) -> None:
    """One line per method (its mean), shaded from ``lo`` to ``hi``, and the legend."""
    colors = method_colors(curves["method"]) if not curves.empty else {}
    for method, curve in curves.groupby("method", sort=True):
        color = colors[method]
        runs = int(curve["runs"].max())
        seeds = "1 seed" if runs == 1 else f"{runs} seeds"
        axes.plot(curve["elapsed_s"], curve["mean"], color=color, label=f"{method} ({seeds})")
        axes.fill_between(curve["elapsed_s"], curve["lo"], curve["hi"], color=color, alpha=0.2)
    if not curves.empty:
        axes.legend()


def plot_learning_curves(reports: pd.DataFrame, metric: str) -> Figure:
    """Every trial's metric against wall-clock time, coloured by method.

    Args:
        reports: Columns ``method``, ``path`` (experiment), ``trial_id``, ``elapsed_s`` and
            ``metric``.
        metric: The metric to draw.

    Returns:
        The figure: one line per trial, one legend entry per method.
    """
    figure = new_figure()
    axes = figure.add_subplot()
    labelled: set[str] = set()
    empty = reports.empty
    colors = {} if empty else method_colors(reports["method"])
    trials = [] if empty else reports.groupby(["method", "path", "trial_id"], sort=True)
    for (method, _, _), trial in trials:
        trial = trial.sort_values("elapsed_s", kind="stable")
        label = None if method in labelled else method
        labelled.add(method)
        axes.plot(
            trial["elapsed_s"],
            trial[metric],
            color=colors[method],
            alpha=0.6,
            lw=1,
            marker=".",
            ms=3,
            label=label,
        )
    axes.set_xlabel("wall-clock time (s)")
    _scale_y(axes, [] if empty else reports[metric], metric)
    axes.set_title("Learning curves of every trial")
    axes.grid(alpha=0.3)
    if labelled:
        axes.legend()
    return figure


def save_figure(figure: Figure, path: str | Path, dpi: int = 120) -> Path:
    """Write ``figure`` as a PNG (its folder created) and return the path."""
    path = Path(path)
    storage.write_bytes(path.parent, path.name, png_bytes(figure, dpi))
    return path


def png_bytes(figure: Figure, dpi: int = 120) -> bytes:
    """``figure`` as a PNG file's bytes."""
    image = io.BytesIO()
    figure.savefig(image, dpi=dpi, format="png")
    return image.getvalue()
