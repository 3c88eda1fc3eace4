"""Optuna's constraints fed from a trial's last report: Ray Tune's ``OptunaSearch`` hands Optuna
only the objectives, so the constrained metrics travel on the Optuna trial as a user attribute,
where the sampler's ``constraints_func`` (:class:`ConstraintValues`) reads them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ray.tune.search.optuna import OptunaSearch

from raytune_hpo.registry import Constraint

CONSTRAINED_METRICS = "raytune_hpo.constrained_metrics"
"""The user attribute of an Optuna trial that holds the last reported values of the
constrained metrics."""


class ConstraintValues:
    """Optuna's ``constraints_func``: a finished trial's constraint values (<= 0: met) from the
    constrained metrics that :class:`ConstrainedOptunaSearch` put on it; a metric the trial never
    reported breaks its constraint."""

    def __init__(self, constraints: Mapping[str, Constraint]) -> None:
        self.constraints = dict(constraints)

    def __call__(self, trial: Any) -> list[float]:
        """The excess of each bound of each constraint, in the order of ``constraints``."""
        reported = trial.user_attrs.get(CONSTRAINED_METRICS, {})
        return [
            excess
            for name, constraint in self.constraints.items()
            for excess in constraint.excess(reported.get(name))
        ]


class ConstrainedOptunaSearch(OptunaSearch):
    """Ray Tune's ``OptunaSearch`` that puts the constrained metrics of a trial's last report on
    its Optuna trial before telling Optuna the trial's objectives.

    Args:
        constrained: The constrained metrics' names.
        **kwargs: ``OptunaSearch``'s arguments.
    """

    def __init__(self, constrained: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._constrained = tuple(constrained)

    def on_trial_complete(
        self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False
    ) -> None:
        ot_trial = self._ot_trials.get(trial_id)
        if self._constrained and result and ot_trial is not None:
            values = {name: _number(result.get(name)) for name in self._constrained}
            ot_trial.set_user_attr(CONSTRAINED_METRICS, values)
        super().on_trial_complete(trial_id, result, error)


def _number(value: Any) -> float | None:
    """A reported value as a float; None where it is missing or not a number."""
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None
