"""MOASHA: asynchronous successive halving for several objectives (Schmucker et al. 2021).

As in ASHA, a trial that reaches a rung (``grace_period * reduction_factor**k`` epochs, below
``max_t``) is recorded there and goes on only if it ranks among the top
``ceil(n / reduction_factor)`` of the ``n`` trials recorded at that rung so far; the others
stop. The ranking is NSGA-II's: non-dominated fronts of the objectives turned to minimisation,
and inside the front that straddles the cut, the larger crowding distance first (then the
earlier arrival). With one objective this is ASHA's ranking. The fronts and distances are
:mod:`raytune_hpo.pareto`'s, shared with the results.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ray.tune.experiment import Trial
from ray.tune.schedulers import FIFOScheduler, TrialScheduler

from raytune_hpo.pareto import Point, crowding_distances, non_dominated_fronts, to_minimised
from raytune_hpo.registry import Objective

if TYPE_CHECKING:
    from ray.tune.execution.tune_controller import TuneController


def rung_milestones(grace_period: int, max_t: int, reduction_factor: float) -> list[float]:
    """The epochs at which trials are compared, ascending: ``grace_period * rf**k`` below
    ``max_t`` (Ray's ASHA rungs, one bracket)."""
    milestones = []
    epoch = float(grace_period)
    while epoch < max_t:
        milestones.append(epoch)
        epoch *= reduction_factor
    return milestones


def ranking(points: Sequence[Point]) -> list[int]:
    """Indices of ``points`` (minimised) best first: by non-dominated front, inside a front by
    crowding distance (larger first), then by index (earlier first)."""
    order: list[int] = []
    for front in non_dominated_fronts(points):
        distances = crowding_distances([points[i] for i in front])
        by_crowding = sorted(zip(front, distances, strict=True), key=lambda p: (-p[1], p[0]))
        order += [index for index, _ in by_crowding]
    return order


def promoted(points: Sequence[Point], reduction_factor: float) -> set[int]:
    """Indices of the ``ceil(n / reduction_factor)`` best of the ``n`` ``points``."""
    keep = math.ceil(len(points) / reduction_factor)
    return set(ranking(points)[:keep])


class MultiObjectiveAsha(FIFOScheduler):
    """MOASHA as a Ray Tune trial scheduler (one bracket).

    Its objectives come from the experiment; ``set_search_properties`` takes TuneConfig's
    single metric and mode (one objective) or none (several), as Ray calls it.

    Args:
        objectives: What the experiment optimises.
        time_attr: The reported counter of time (epochs).
        max_t: The last epoch a trial may reach; trials stop there.
        grace_period: The first rung.
        reduction_factor: The share of trials promoted at each rung is 1 / reduction_factor.
    """

    def __init__(
        self,
        objectives: Sequence[Objective],
        *,
        time_attr: str,
        max_t: int,
        grace_period: int,
        reduction_factor: float,
    ) -> None:
        super().__init__()
        self._mode: str | None = None
        self._objectives = tuple(objectives)
        self._time_attr = time_attr
        self._max_t = max_t
        self._reduction_factor = reduction_factor
        self._rungs: dict[float, dict[str, Point]] = {
            milestone: {} for milestone in rung_milestones(grace_period, max_t, reduction_factor)
        }
        self._num_stopped = 0

    def set_search_properties(self, metric: str | None, mode: str | None, **spec: Any) -> bool:
        """Take TuneConfig's metric and mode once (Ray refuses a second setter)."""
        if self._metric and metric:
            return False
        self._metric = metric or self._metric
        self._mode = mode or self._mode
        return True

    def on_trial_result(
        self, tune_controller: TuneController, trial: Trial, result: dict[str, Any]
    ) -> str:
        """STOP at ``max_t`` or when ``trial`` ranks below the cut of a rung it reaches."""
        point = self._point(result)
        if point is None:
            return TrialScheduler.CONTINUE
        if result[self._time_attr] >= self._max_t:
            self._num_stopped += 1
            return TrialScheduler.STOP
        if self._record(trial.trial_id, result[self._time_attr], point):
            return TrialScheduler.CONTINUE
        self._num_stopped += 1
        return TrialScheduler.STOP

    def on_trial_complete(
        self, tune_controller: TuneController, trial: Trial, result: dict[str, Any]
    ) -> None:
        """Record a finished trial's last result at the rungs it reached (ASHA does too)."""
        point = self._point(result)
        if point is not None:
            self._record(trial.trial_id, result[self._time_attr], point)

    def debug_string(self) -> str:
        counts = ", ".join(f"{m:g}: {len(r)}" for m, r in self._rungs.items())
        return f"MOASHA: {self._num_stopped} trials stopped; trials per rung {{{counts}}}"

    def _point(self, result: Mapping[str, Any]) -> Point | None:
        """The minimised objectives of ``result``; None if it lacks time or an objective."""
        names = [objective.name for objective in self._objectives]
        if self._time_attr not in result or any(name not in result for name in names):
            return None
        values = [float(result[name]) for name in names]
        return to_minimised(values, [objective.mode for objective in self._objectives])

    def _record(self, trial_id: str, time: float, point: Point) -> bool:
        """Record ``point`` at the highest rung ``time`` reached where ``trial_id`` has none
        yet; whether it is promoted there (True where there is nothing to record)."""
        for milestone in sorted(self._rungs, reverse=True):
            recorded = self._rungs[milestone]
            if time < milestone or trial_id in recorded:
                continue
            recorded[trial_id] = point
            order = list(recorded)
            return order.index(trial_id) in promoted(
                list(recorded.values()), self._reduction_factor
            )
        return True
