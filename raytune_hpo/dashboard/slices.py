"""Slice plots of an experiment's page: each objective against each hyperparameter that varies,
one point per trial.

A point is a trial's LAST report: its value of the objective and the config it ran with then,
as the importance (:mod:`raytune_hpo.analysis.importance`) and the fronts rate trials; a
trial that errored is left out, as there. A parameter the search space draws on a log scale gets
a log x axis with round ticks (:func:`~raytune_hpo.dashboard.parallel_axes.log_ticks`); one whose
values are not all numbers is drawn by category.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from raytune_hpo.dashboard.parallel_axes import log_scaled, log_ticks
from raytune_hpo.dashboard.trials import Trials, number
from raytune_hpo.number_format import format_number
from raytune_hpo.trial_ends import ERRORED


@dataclass(frozen=True)
class LastPoint:
    """One trial as the slices and the contour draw it: its config and last report."""

    trial_id: str
    config: dict[str, Any]
    report: dict[str, Any]


def last_points(trials: Trials) -> list[LastPoint]:
    """Every trial that reported and did not error, in trial order."""
    return [
        LastPoint(trial_id, row["config"] or {}, trials.reports[trial_id][-1])
        for trial_id, row in trials.rows.items()
        if row["status"] != ERRORED and trials.reports.get(trial_id)
    ]


def varying(points: list[LastPoint]) -> list[str]:
    """The hyperparameters that take more than one value over ``points``, sorted."""
    names = sorted({name for point in points for name in point.config})
    return [n for n in names if len({repr(p.config.get(n)) for p in points}) > 1]


def numeric(points: list[LastPoint], name: str) -> bool:
    """Whether every point's value of ``name`` is a number."""
    return all(number(p.config.get(name)) is not None for p in points)


def slice_axis(name: str, values: list[Any], log: bool) -> dict[str, Any]:
    """One panel's x axis: ``name``, ``values`` (numbers, or text by category), ``log`` and,
    on a log axis, round ``tickvals`` with their ``ticktext``; by category, ``categories``."""
    numbers = [number(v) for v in values]
    known = [n for n in numbers if n is not None]
    if len(known) < len(values):
        return {"name": name, "values": [str(v) for v in values], "log": False,
                "categories": sorted({str(v) for v in values})}  # fmt: skip
    if not (log and min(known) > 0):
        return {"name": name, "values": known, "log": False}
    ticks = log_ticks(min(known), max(known))
    return {"name": name, "values": known, "log": True, "tickvals": ticks,
            "ticktext": [format_number(t) for t in ticks]}  # fmt: skip


def slices(trials: Trials) -> dict[str, Any]:
    """The slices: ``trials`` (ids, in point order), ``values`` (objective -> each point's
    value, None where its last report has none) and ``params`` (one :func:`slice_axis` per
    hyperparameter that varies)."""
    points = last_points(trials)
    log = log_scaled(trials.config)
    return {
        "trials": [p.trial_id for p in points],
        "values": {
            o.name: [number(p.report.get(o.name)) for p in points] for o in trials.objectives
        },
        "params": [
            slice_axis(name, [p.config.get(name) for p in points], name in log)
            for name in varying(points)
        ],
    }
