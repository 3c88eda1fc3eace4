"""Constraints for Optuna's samplers from a trial's last report.

Ray Tune's ``OptunaSearch`` tells Optuna only a trial's objectives. Optuna's samplers read
constraints from the trial itself (``Trial.set_constraint``: a value <= 0 is met), so
:class:`ConstrainedOptunaSearch` sets one value per bound of each constraint, from the trial's
last report, before the objectives are told.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ray.tune.search.optuna import OptunaSearch

from raytune_hpo.registry import Constraint

MISSING_EXCESS = 1e9
"""The constraint value of a metric a trial never reported (or reported as NaN): far beyond
any bound, yet finite, as the Gaussian-process sampler standardises the values."""


def constraint_values(
    constraints: Mapping[str, Constraint], result: Mapping[str, Any]
) -> dict[str, float]:
    """Optuna's constraint values of ``result``: ``NAME.max`` and ``NAME.min`` -> how far the
    metric lies beyond that bound (<= 0: met)."""
    values = {}
    for name, constraint in constraints.items():
        bounds = [key for key in ("max", "min") if getattr(constraint, key) is not None]
        excess = constraint.excess(_number(result.get(name)))
        for key, value in zip(bounds, excess, strict=True):
            values[f"{name}.{key}"] = min(value, MISSING_EXCESS)
    return values


class ConstrainedOptunaSearch(OptunaSearch):
    """Ray Tune's ``OptunaSearch`` that sets the constraint values of a trial's last report on
    its Optuna trial before telling Optuna the trial's objectives.

    Args:
        constraints: Reported metric -> its bound.
        **kwargs: ``OptunaSearch``'s arguments.
    """

    def __init__(self, constraints: Mapping[str, Constraint] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._constraints = dict(constraints or {})

    def on_trial_complete(
        self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False
    ) -> None:
        ot_trial = self._ot_trials.get(trial_id)
        if self._constraints and result and ot_trial is not None:
            for key, value in constraint_values(self._constraints, result).items():
                ot_trial.set_constraint(key, value)
        super().on_trial_complete(trial_id, result, error)


def _number(value: Any) -> float | None:
    """A reported value as a float; None where it is missing or not a number."""
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None
