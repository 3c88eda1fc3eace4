"""The Pareto front and hypervolume history of an experiment with several objectives, as its page
draws them.

Both come from :mod:`raytune_hpo.analysis.fronts`, as ``summary`` computes them: a point per
trial that did not error, at its last report; one whose last report breaks a constraint is drawn
but never on the front; the hypervolume after each report of the front of every trial's last
report so far, against the config's ``reference_point`` or else the worst value seen per
objective. The history keeps the reports where the hypervolume changed. Computed again only
when a trial reports (:mod:`~raytune_hpo.dashboard.derived`).
"""

from __future__ import annotations

from typing import Any

from raytune_hpo.analysis.fronts import (
    ELAPSED,
    FEASIBLE,
    ON_FRONT,
    Objectives,
    hypervolume_history,
    reference_point,
    trial_points,
)
from raytune_hpo.dashboard.derived import derived
from raytune_hpo.dashboard.report_frame import reports_frame
from raytune_hpo.dashboard.trials import Trials, number
from raytune_hpo.storage.stamped import Store


def _objectives(trials: Trials) -> Objectives | None:
    """The config's objectives and constraints; None for one objective or a config it cannot
    read."""
    try:
        objectives = Objectives.from_config(trials.config)
    except (TypeError, ValueError):  # an invalid key, pydantic's ValidationError
        return None
    return objectives if objectives.many else None


def _fronts(trials: Trials, objectives: Objectives) -> dict[str, Any]:
    frame = reports_frame(trials, [*objectives.names, *objectives.constraints])
    points = trial_points(frame, objectives)
    found = reference_point([frame], objectives)
    history = (
        hypervolume_history(frame, objectives, found[0])
        if found is not None and len(frame)
        else None
    )
    if history is not None:
        history = history[history["hypervolume"].ne(history["hypervolume"].shift())]
    return {
        "objectives": list(objectives.names),
        "modes": list(objectives.modes),
        "constraints": list(objectives.constraints),
        "trials": points["trial_id"].tolist(),
        "values": {
            name: [number(v) for v in points[name]] if name in points else [None] * len(points)
            for name in objectives.names
        },
        "feasible": [bool(v) for v in points[FEASIBLE]],
        "on_front": [bool(v) for v in points[ON_FRONT]],
        "reference": list(found[0]) if found is not None else None,
        "reference_from": found[1] if found is not None else None,
        "hypervolume": {
            ELAPSED: history[ELAPSED].tolist() if history is not None else [],
            "value": history["hypervolume"].tolist() if history is not None else [],
        },
    }


def fronts_view(store: Store, folder: str, trials: Trials) -> dict[str, Any] | None:
    """The front and its hypervolume, for an experiment with several objectives (else None):
    ``objectives``, ``modes``, ``constraints``; per trial that did not error (best first by
    the first objective) its id in ``trials``, its ``values`` (objective -> list),
    ``feasible`` and ``on_front``; the ``reference`` point and ``reference_from`` (in words);
    ``hypervolume``: ``elapsed_s`` and ``value`` where it changed."""
    objectives = _objectives(trials)
    if objectives is None:
        return None
    return derived("fronts", store, folder, trials, lambda: _fronts(trials, objectives))
