"""Pareto fronts of an experiment's trials and their hypervolume, from tidy report frames (pure).

Each trial's LAST report counts: a trial is the point of what it reported last, whether it ran
to the end or a scheduler stopped it. A trial that errored is never a point; one whose last
report breaks a constraint (a missing or NaN value breaks it too) is a point but never on the
front. The front and hypervolume themselves come from :mod:`raytune_hpo.pareto`.

The hypervolume is measured against a reference point in the objectives' own units: the
config's ``reference_point`` if it has one, else the worst value that any report of a trial
that did not error holds, per objective (:func:`reference_point`). The hypervolume history of
a run is, after each report, the hypervolume of the front of every trial's last report so far:
its last value is the hypervolume of the final front, and it can fall when a trial's newer
report is worse than its older one.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from raytune_hpo.analysis.results import Experiment, errored_trials
from raytune_hpo.config.objectives import Constraint, Objective, objectives_of
from raytune_hpo.layout import CONFIG_PREFIX, RAY_RESULT_KEYS
from raytune_hpo.pareto import hypervolume, pareto_front, to_minimised

FEASIBLE = "feasible"
"""Column of a points frame: the trial's last report keeps every constraint."""
ON_FRONT = "on_front"
"""Column of a points frame: the trial is on the Pareto front."""
ELAPSED = "elapsed_s"
"""Column of a reports frame: seconds since the experiment's first trial started."""
FROM_CONFIG = "the config's reference_point"
WORST_SEEN = "the worst value seen per objective"
ADDED_COLUMNS = frozenset({FEASIBLE, ON_FRONT, ELAPSED, "report_time"})
"""Columns of a reports or points frame that no trial reported."""


@dataclass(frozen=True)
class Objectives:
    """What an experiment optimises, and its constraints.

    Attributes:
        objectives: The objectives, the first one first.
        constraints: Metric name -> its bound.
        reference: The config's ``reference_point`` (objectives' own units), if set.
    """

    objectives: tuple[Objective, ...]
    constraints: Mapping[str, Constraint] = field(default_factory=dict)
    reference: tuple[float, ...] | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Objectives:
        """From an experiment config as a plain dict: the folder's ``raytune_hpo.yaml``."""
        reference = config.get("reference_point")
        return cls(
            objectives_of(config),
            {
                str(name): Constraint.model_validate(bound)
                for name, bound in (config.get("constraints") or {}).items()
            },
            tuple(float(v) for v in reference) if reference is not None else None,
        )

    @property
    def names(self) -> tuple[str, ...]:
        """The objectives' metrics."""
        return tuple(objective.name for objective in self.objectives)

    @property
    def modes(self) -> tuple[str, ...]:
        """``min`` or ``max`` per objective."""
        return tuple(objective.mode for objective in self.objectives)

    @property
    def many(self) -> bool:
        """Whether there are several objectives (a front, not one best trial)."""
        return len(self.names) > 1

    def feasible(self, report: Mapping[str, Any]) -> bool:
        """Whether ``report`` keeps every constraint."""
        return not any(
            bound.broken_by(_number(report.get(name))) for name, bound in self.constraints.items()
        )

    def minimised(self, report: Mapping[str, Any]) -> tuple[float, ...]:
        """The report's objectives as a point to minimise (NaN where one is missing)."""
        return to_minimised([_number(report.get(name)) for name in self.names], self.modes)


def reports_without_errors(experiment: Experiment) -> pd.DataFrame:
    """The experiment's reports, those of the trials that errored left out."""
    reports = experiment.reports
    if reports.empty:
        return reports
    return reports[~reports["trial_id"].isin(list(errored_trials(experiment)))]


def last_reports(reports: pd.DataFrame, errored: Collection[str] = ()) -> pd.DataFrame:
    """Each trial's last report (highest ``training_iteration``), the errored trials left out."""
    if reports.empty:
        return reports
    kept = reports[~reports["trial_id"].isin(list(errored))]
    ordered = kept.sort_values(["trial_id", "training_iteration"], kind="stable")
    return ordered.groupby("trial_id", sort=True).tail(1).reset_index(drop=True)


def trial_points(
    reports: pd.DataFrame, objectives: Objectives, errored: Collection[str] = ()
) -> pd.DataFrame:
    """One row per trial that did not error: its last report, plus ``feasible`` (it keeps
    every constraint) and ``on_front`` (it is a feasible trial on the Pareto front of the
    feasible ones with every objective finite), sorted by the first objective, best first."""
    points = last_reports(reports, errored).copy()
    if points.empty:
        return pd.DataFrame(columns=["trial_id", *objectives.names, FEASIBLE, ON_FRONT])
    rows = points.to_dict("records")
    points[FEASIBLE] = [objectives.feasible(row) for row in rows]
    minimised = [objectives.minimised(row) for row in rows]
    candidates = [
        i
        for i, (row_feasible, point) in enumerate(zip(points[FEASIBLE], minimised, strict=True))
        if row_feasible and all(math.isfinite(x) for x in point)
    ]
    front = {candidates[i] for i in pareto_front([minimised[i] for i in candidates])}
    points[ON_FRONT] = [i in front for i in range(len(points))]
    first = minimised_column(points, objectives, 0)
    return points.iloc[np.lexsort((points["trial_id"], first))].reset_index(drop=True)


def minimised_column(points: pd.DataFrame, objectives: Objectives, index: int) -> np.ndarray:
    """Objective ``index`` of every row, negated if it is maximised (NaN where missing)."""
    values = pd.to_numeric(points[objectives.names[index]], errors="coerce").to_numpy(float)
    return -values if objectives.modes[index] == "max" else values


def front_records(points: pd.DataFrame) -> list[dict[str, Any]]:
    """The front of a points frame (:func:`trial_points`) as ``best.json`` holds it:
    ``{trial_id, config, metrics}`` per trial, in the frame's order; ``metrics`` is what the
    trial reported last (with its ``training_iteration``)."""
    front = points[points[ON_FRONT]] if not points.empty else points
    return [
        {
            "trial_id": row["trial_id"],
            "config": {
                key.removeprefix(CONFIG_PREFIX): json_scalar(value)
                for key, value in row.items()
                if key.startswith(CONFIG_PREFIX)
            },
            "metrics": {
                key: json_scalar(value)
                for key, value in row.items()
                if key == "training_iteration"
                or not (
                    key in RAY_RESULT_KEYS
                    or key in ADDED_COLUMNS
                    or key.startswith(CONFIG_PREFIX)
                    or _missing(value)
                )
            },
        }
        for row in front.to_dict("records")
    ]


def front_table(points: pd.DataFrame, objectives: Objectives) -> pd.DataFrame:
    """The front of a points frame as a person reads it: ``trial_id``, the objectives, the
    constrained metrics and the hyperparameters (without their ``config/`` prefix)."""
    front = points[points[ON_FRONT]] if not points.empty else points
    params = [c for c in front.columns if c.startswith(CONFIG_PREFIX)]
    wanted = dict.fromkeys(["trial_id", *objectives.names, *objectives.constraints, *params])
    shown = front[[c for c in wanted if c in front]]
    return shown.rename(columns=lambda c: c.removeprefix(CONFIG_PREFIX)).reset_index(drop=True)


def front_tables(experiment: Experiment) -> dict[str, pd.DataFrame]:
    """An experiment's front and hypervolume history, small enough to log (W&B): with several
    objectives, ``pareto_front`` (:func:`front_table`) and ``hypervolume`` (``elapsed_s`` and
    ``hypervolume`` where it changes, against :func:`reference_point`); none for one."""
    objectives = Objectives.from_config(experiment.config)
    if not objectives.many:
        return {}
    reports = reports_without_errors(experiment)
    tables = {"pareto_front": front_table(trial_points(reports, objectives), objectives)}
    reference = reference_point([reports], objectives)
    if reference is not None:
        history = hypervolume_history(reports, objectives, reference[0])
        changed = history["hypervolume"].ne(history["hypervolume"].shift())
        tables["hypervolume"] = history[changed].reset_index(drop=True)
    return tables


def reference_point(
    reports: Iterable[pd.DataFrame], objectives: Objectives
) -> tuple[tuple[float, ...], str] | None:
    """The reference point of the hypervolume, in the objectives' own units, and where it
    comes from: the config's (:data:`FROM_CONFIG`), else the worst finite value of each
    objective over every report of ``reports`` (:data:`WORST_SEEN`); None when an objective
    has no finite value to take."""
    if objectives.reference is not None:
        return objectives.reference, FROM_CONFIG
    frames = [frame for frame in reports if not frame.empty]
    worst = []
    for name, mode in zip(objectives.names, objectives.modes, strict=True):
        seen = [pd.to_numeric(frame[name], errors="coerce") for frame in frames if name in frame]
        values = pd.concat(seen, ignore_index=True) if seen else pd.Series(dtype=float)
        values = values[np.isfinite(values)]
        if values.empty:
            return None
        worst.append(float(values.max() if mode == "min" else values.min()))
    return tuple(worst), WORST_SEEN


def front_hypervolume(
    points: pd.DataFrame, objectives: Objectives, reference: Sequence[float]
) -> float:
    """The hypervolume of the front of a points frame against ``reference`` (own units)."""
    front = points[points[ON_FRONT]] if not points.empty else points
    minimised = [objectives.minimised(row) for row in front.to_dict("records")]
    return hypervolume(minimised, to_minimised(reference, objectives.modes))


def hypervolume_history(
    reports: pd.DataFrame,
    objectives: Objectives,
    reference: Sequence[float],
    errored: Collection[str] = (),
) -> pd.DataFrame:
    """After each report (in ``elapsed_s`` order), the hypervolume of the front of every
    trial's last report so far; the errored trials left out, constraint breakers counted off.

    Returns:
        Columns ``elapsed_s`` and ``hypervolume``, one row per report.
    """
    columns = [ELAPSED, "hypervolume"]
    if reports.empty:
        return pd.DataFrame(columns=columns)
    kept = reports[~reports["trial_id"].isin(list(errored))]
    ordered = kept.sort_values([ELAPSED, "training_iteration"], kind="stable")
    corner = to_minimised(reference, objectives.modes)
    latest: dict[str, tuple[float, ...]] = {}
    rows = []
    for report in ordered.to_dict("records"):
        point = objectives.minimised(report)
        latest.pop(report["trial_id"], None)
        if objectives.feasible(report) and all(math.isfinite(x) for x in point):
            latest[report["trial_id"]] = point
        rows.append((float(report[ELAPSED]), hypervolume(list(latest.values()), corner)))
    return pd.DataFrame(rows, columns=columns)


def _number(value: Any) -> float:
    """``value`` as a float; NaN for a missing or non-numeric one."""
    if isinstance(value, bool) or value is None:
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def json_scalar(value: Any) -> Any:
    """A JSON-friendly scalar from a DataFrame cell."""
    return value.item() if hasattr(value, "item") else value
