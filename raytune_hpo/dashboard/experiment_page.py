"""What an experiment's page draws, as one JSON-ready dict, read while the experiment may run.

The trials (:mod:`~raytune_hpo.dashboard.trials`) with their ends, errors and counts by end; the
metric's curve of every trial (:mod:`~raytune_hpo.dashboard.curves`), with its restarts and
PBT's exploits; the parallel coordinates (:mod:`~raytune_hpo.dashboard.parallel_axes`); what
mattered: the importance (:mod:`~raytune_hpo.dashboard.importance_view`), the slices
(:mod:`~raytune_hpo.dashboard.slices`) and the contour (:mod:`~raytune_hpo.dashboard.contour`);
with several objectives, the Pareto front and hypervolume (:mod:`~raytune_hpo.dashboard.
fronts_view`); the best trial from ``best.json``; and PBT's and PB2's perturbations from
``pbt_history.jsonl``.
"""

from __future__ import annotations

from typing import Any

from raytune_hpo.dashboard import files
from raytune_hpo.dashboard.contour import contours
from raytune_hpo.dashboard.curves import curve
from raytune_hpo.dashboard.fronts_view import fronts_view
from raytune_hpo.dashboard.importance_view import importance_view
from raytune_hpo.dashboard.index import experiment_row
from raytune_hpo.dashboard.parallel_axes import parallel_axes
from raytune_hpo.dashboard.slices import slices
from raytune_hpo.dashboard.trials import best_trial, read_trials
from raytune_hpo.layout import BEST_FILE, PBT_HISTORY_FILE
from raytune_hpo.storage.stamped import Store, join


def perturbations(store: Store, folder: str) -> list[dict[str, Any]]:
    """PBT's and PB2's records of the experiment, in the order they were made."""
    return files.json_lines(store, join(folder, PBT_HISTORY_FILE))


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
    importance = importance_view(store, folder, trials)
    return {
        **experiment_row(store, folder),
        "objectives": [{"name": o.name, "mode": o.mode} for o in trials.objectives],
        "params": sorted({p for t in rows for p in t["config"]}),
        "trial_rows": rows,
        "counts": trials.counts(),
        "best_trial": best_trial(trials, best),
        "best_summary": best if isinstance(best, dict) else None,
        "curves": [
            curve(
                trial_id,
                reports,
                trials.metric,
                trials.origin,
                [r for r in records if r.get("trial_id") == trial_id],
            )
            for trial_id, reports in sorted(trials.reports.items())
        ],
        "parcoords": parallel_axes(trials),
        "importance": importance,
        "slices": slices(trials),
        "contours": contours(trials, importance["ranked"]),
        "fronts": fronts_view(store, folder, trials),
        "perturbations": records,
    }
