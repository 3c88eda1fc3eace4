"""MOASHA on made-up results: its rungs, its NSGA-II ranking, and that it promotes exactly the
non-dominated trials at each rung."""

from __future__ import annotations

import math
from typing import Any

import pytest
from ray.tune.experiment import Trial
from ray.tune.schedulers import TrialScheduler

from raytune_hpo.config import validate_config
from raytune_hpo.pareto import dominates, to_minimised
from raytune_hpo.search.moasha import (
    MultiObjectiveAsha,
    promoted,
    ranking,
    rung_milestones,
)
from raytune_hpo.search.schedulers import build_scheduler

CONTINUE, STOP = TrialScheduler.CONTINUE, TrialScheduler.STOP
MODES = ("min", "max")


def moasha(**options: Any) -> MultiObjectiveAsha:
    """MOASHA built from its registry entry, minimising error and maximising accuracy."""
    cfg = validate_config(
        {
            "name": "moasha",
            "metric": ["validation_error", "validation_accuracy"],
            "mode": list(MODES),
            "max_epochs": 6,
            "search_space": {"learning_rate": {"loguniform": [0.01, 1.0]}},
            "scheduler": {"name": "moasha", **options},
        }
    )
    scheduler = build_scheduler(cfg.scheduler, cfg.entry_context)
    assert isinstance(scheduler, MultiObjectiveAsha)
    assert scheduler.set_search_properties(None, None)  # TuneConfig holds no metric
    return scheduler


def trial(index: int) -> Trial:
    made_up = Trial("__fake", config={}, trial_id=f"trial_{index}", stub=True)
    made_up.set_status(Trial.RUNNING)
    return made_up


def report(epoch: int, error: float, accuracy: float) -> dict[str, Any]:
    return {"training_iteration": epoch, "validation_error": error, "validation_accuracy": accuracy}


@pytest.mark.parametrize(
    ("grace", "max_t", "factor", "milestones"),
    [(1, 6, 2, [1, 2, 4]), (1, 9, 3, [1, 3]), (2, 10, 2, [2, 4, 8]), (3, 3, 2, [])],
)
def test_rungs_are_asha_s(grace: int, max_t: int, factor: float, milestones: list[float]) -> None:
    assert rung_milestones(grace, max_t, factor) == milestones


def test_ranking_is_by_front_then_crowding_then_arrival() -> None:
    points = [(2.0, 2.0), (0.0, 4.0), (3.0, 3.0), (4.0, 0.0), (1.0, 3.0)]
    # Front 0: (0,4), (2,2), (4,0), (1,3); the ends first, then the lonelier (2,2) before (1,3).
    assert ranking(points) == [1, 3, 0, 4, 2]


def test_the_front_that_straddles_the_cut_keeps_its_lonely_points() -> None:
    # Three non-dominated points, two to keep: the ends of the front go on, the middle stops.
    assert promoted([(0.0, 4.0), (2.0, 2.0), (4.0, 0.0)], reduction_factor=2) == {0, 2}
    assert promoted([(1.0, 1.0), (0.0, 0.0)], reduction_factor=2) == {1}
    assert promoted([(math.nan, 1.0), (5.0, 5.0)], reduction_factor=2) == {1}


# Per rung, in arrival order: trial index -> (error, accuracy).
RUNG_1 = [(0, 0.5, 0.5), (1, 0.6, 0.4), (2, 0.3, 0.6), (3, 0.4, 0.7), (4, 0.9, 0.1), (5, 0.2, 0.2)]
RUNG_2 = [(2, 0.25, 0.65), (0, 0.45, 0.5), (3, 0.35, 0.75), (5, 0.15, 0.1)]


def test_moasha_promotes_exactly_the_non_dominated_trials_at_each_rung() -> None:
    scheduler = moasha()  # grace 1, reduction factor 2, max_t 6: rungs at epochs 1, 2, 4
    trials = [trial(i) for i in range(6)]
    for made_up in trials:
        scheduler.on_trial_add(None, made_up)  # type: ignore[arg-type]
    for epoch, arrivals in ((1, RUNG_1), (2, RUNG_2)):
        seen: list[tuple[float, ...]] = []
        for index, error, accuracy in arrivals:
            point = to_minimised((error, accuracy), MODES)
            seen.append(point)
            non_dominated = not any(dominates(other, point) for other in seen)
            decision = scheduler.on_trial_result(
                None,  # type: ignore[arg-type]
                trials[index],
                report(epoch, error, accuracy),
            )
            assert decision == (CONTINUE if non_dominated else STOP), (epoch, index)
    # Between rungs nothing is decided, and max_t ends every trial.
    assert scheduler.on_trial_result(None, trials[2], report(3, 0.2, 0.7)) == CONTINUE  # type: ignore[arg-type]
    assert scheduler.on_trial_result(None, trials[2], report(6, 0.2, 0.7)) == STOP  # type: ignore[arg-type]


def test_a_non_dominated_trial_in_the_middle_of_a_crowded_front_stops() -> None:
    scheduler = moasha(reduction_factor=3)
    trials = [trial(i) for i in range(4)]
    arrivals = [(0.1, 0.1), (0.9, 0.9), (0.5, 0.5)]  # all non-dominated; 3 recorded, 1 kept
    decisions = [
        scheduler.on_trial_result(None, t, report(1, e, a))  # type: ignore[arg-type]
        for t, (e, a) in zip(trials, arrivals, strict=False)
    ]
    assert decisions == [CONTINUE, STOP, STOP]


def test_a_report_without_every_objective_is_not_ranked() -> None:
    scheduler = moasha()
    only_error = {"training_iteration": 1, "validation_error": 0.9}
    assert scheduler.on_trial_result(None, trial(0), only_error) == CONTINUE  # type: ignore[arg-type]
    assert scheduler.on_trial_result(None, trial(1), report(1, 0.95, 0.05)) == CONTINUE  # type: ignore[arg-type]


def test_metric_and_mode_are_taken_once() -> None:
    scheduler = moasha()
    assert scheduler.set_search_properties("validation_error", "min")
    assert not scheduler.set_search_properties("validation_error", "min")
