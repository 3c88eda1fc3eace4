"""PBT history plot: each mutated hyperparameter over time per trial, the metric beside them."""

from __future__ import annotations

import io
from collections.abc import Sequence

import pandas as pd
from matplotlib.figure import Figure

from raytune_hpo import storage
from raytune_hpo.layout import CONFIG_PREFIX, PBT_HISTORY_PLOT

TIME = "training_iteration"


def plot_pbt_history(
    reports: pd.DataFrame,
    history: pd.DataFrame,
    params: Sequence[str],
    metric: str,
) -> Figure:
    """One panel per hyperparameter (value per trial over epochs) and one for the metric.

    Args:
        reports: One row per report, with ``trial_id``, ``training_iteration``, the metric and
            ``config/<param>`` columns (as ``raytune_hpo.analysis.results`` reads them).
        history: Perturbations as :func:`raytune_hpo.search.pbt_history.read_history` returns them;
            each is marked on its parameter's panel at the epoch it happened.
        params: The mutated hyperparameters.
        metric: The experiment's metric.

    Returns:
        A figure (no pyplot state involved).
    """
    figure = Figure(figsize=(4.2 * (len(params) + 1), 3.4), layout="constrained")
    axes = figure.subplots(1, len(params) + 1, sharex=True, squeeze=False)[0]
    colors = {}
    for index, (trial_id, rows) in enumerate(reports.groupby("trial_id", sort=True)):
        rows = rows.sort_values(TIME)
        color = f"C{index % 10}"
        colors[trial_id] = color
        for ax, param in zip(axes, params, strict=False):
            column = CONFIG_PREFIX + param
            if column in rows:
                values = rows[column].astype(str) if _is_text(rows[column]) else rows[column]
                ax.step(rows[TIME], values, where="post", color=color, label=str(trial_id))
        if metric in rows:
            axes[-1].plot(rows[TIME], rows[metric], marker=".", color=color, label=str(trial_id))
    for ax, param in zip(axes, params, strict=False):
        moves = history[history["param"] == param] if not history.empty else history
        for move in moves.itertuples(index=False):
            ax.plot(
                [move.training_iteration],
                [str(move.new) if isinstance(move.new, str) else move.new],
                marker="o",
                fillstyle="none",
                color=colors.get(move.trial_id, "black"),
            )
        ax.set_title(param)
        ax.set_xlabel("epoch")
    axes[-1].set_title(metric)
    axes[-1].set_xlabel("epoch")
    if colors:
        axes[-1].legend(fontsize="small", title="trial (o: perturbed)")
    return figure


def _is_text(column: pd.Series) -> bool:
    return column.map(lambda v: isinstance(v, str)).any()


def save_pbt_plot(
    reports: pd.DataFrame,
    history: pd.DataFrame,
    params: Sequence[str],
    metric: str,
    folder: storage.Location,
) -> storage.Location:
    """Write :func:`plot_pbt_history` as ``pbt_history.png`` into ``folder`` (local or a URI)."""
    image = io.BytesIO()
    plot_pbt_history(reports, history, params, metric).savefig(image, format="png", dpi=110)
    storage.write_bytes(folder, PBT_HISTORY_PLOT, image.getvalue())
    return folder / PBT_HISTORY_PLOT
