"""What an experiment's page draws, as one JSON-ready dict, read while the experiment may run.

The trials (:mod:`~raytune_hpo.dashboard.trials`) with their ends, errors and counts by end; the
metric's curve of every trial (:mod:`~raytune_hpo.dashboard.curves`), with its restarts and
PBT's exploits, with fewer points when many share the chart (:func:`trial_curves`); the
parallel coordinates (:mod:`~raytune_hpo.dashboard.parallel_axes`); what
mattered, the charts of the ``CHARTS`` registry (:mod:`~raytune_hpo.dashboard.charts`:
importance, contour, slices and, with several objectives, the Pareto front); the best trial
from ``best.json``; and PBT's and PB2's perturbations from ``pbt_history.jsonl``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from raytune_hpo.dashboard import files
from raytune_hpo.dashboard.charts import chart_data
from raytune_hpo.dashboard.curves import curve
from raytune_hpo.dashboard.derived import derived
from raytune_hpo.dashboard.downsample import points_per_curve
from raytune_hpo.dashboard.index import experiment_row
from raytune_hpo.dashboard.parallel_axes import parallel_axes
from raytune_hpo.dashboard.trials import Trials, best_trial, read_trials
from raytune_hpo.layout import BEST_FILE, PBT_HISTORY_FILE
from raytune_hpo.storage.stamped import Store, join


def perturbations(store: Store, folder: str) -> list[dict[str, Any]]:
    """PBT's and PB2's records of the experiment, in the order they were made."""
    return files.json_lines(store, join(folder, PBT_HISTORY_FILE))


def trial_curves(
    store: Store, folder: str, trials: Trials, records: list[dict[str, Any]], best: str | None
) -> list[dict[str, Any]]:
    """Every trial's curve of the metric, by trial id, with fewer points when many share the
    chart (:func:`~raytune_hpo.dashboard.downsample.points_per_curve`) but ``best``'s whole;
    computed again only when a trial reports or ends (:mod:`~raytune_hpo.dashboard.derived`)."""
    by_trial = defaultdict(list)
    for record in records:
        by_trial[record.get("trial_id")].append(record)

    def drawn(trial_id: str, limit: int | None) -> dict[str, Any]:
        reports = trials.reports[trial_id]
        return curve(trial_id, reports, trials.metric, trials.origin, by_trial[trial_id], limit)

    def downsampled() -> list[dict[str, Any]]:
        limit = points_per_curve(len(trials.reports))
        return [drawn(trial_id, limit) for trial_id in sorted(trials.reports)]

    curves = derived("curves", store, folder, trials, downsampled)
    return [drawn(c["trial"], None) if c["trial"] == best else c for c in curves]


def experiment_data(store: Store, folder: str) -> dict[str, Any]:
    """Everything the experiment page shows, as JSON-ready values.

    Args:
        store: The dashboard's files; no file outside its root is read.
        folder: The experiment folder, relative to the root.
    """
    trials = read_trials(store, folder)
    best = files.json_document(store, join(folder, BEST_FILE))
    records = perturbations(store, folder)
    rows = list(trials.rows.values())
    best_id = best_trial(trials, best)
    return {
        **experiment_row(store, folder),
        "objectives": [{"name": o.name, "mode": o.mode} for o in trials.objectives],
        "params": sorted({p for t in rows for p in t["config"]}),
        "trial_rows": rows,
        "counts": trials.counts(),
        "best_trial": best_id,
        "best_summary": best if isinstance(best, dict) else None,
        "curves": trial_curves(store, folder, trials, records, best_id),
        "parcoords": parallel_axes(trials),
        **chart_data(store, folder, trials),
        "perturbations": records,
    }
