"""Optuna with several objectives and constraints, built from a config and driven without Ray:
the study's directions, and the constraint values that reach the sampler from the last report."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from raytune_hpo.config import ExperimentConfig, validate_config
from raytune_hpo.search import search_space
from raytune_hpo.search.optuna_constrained import MISSING_EXCESS, ConstrainedOptunaSearch
from raytune_hpo.search.searchers import build_searcher

OBJECTIVES = ["validation_error", "train_loss"]


def config(sampler: str, seed: int = 0, **changes: Any) -> ExperimentConfig:
    return validate_config(
        {
            "name": "optuna_mo",
            "metric": OBJECTIVES,
            "mode": ["min", "max"],
            "seed": seed,
            "search_space": {
                "learning_rate": {"loguniform": [0.01, 1.0]},
                "momentum": {"uniform": [0.0, 0.9]},
            },
            "searcher": {"name": "optuna", "sampler": sampler, **changes},
            "constraints": {"validation_accuracy": {"min": 0.5}},
        }
    )


def run(cfg: ExperimentConfig, count: int) -> tuple[ConstrainedOptunaSearch, list[dict[str, Any]]]:
    """The searcher of ``cfg`` after ``count`` made-up trials, as Ray would drive it: no metric
    from TuneConfig, the last report on completion (every other trial breaks the constraint,
    one never reports the constrained metric)."""
    searcher = build_searcher(cfg.searcher, cfg.entry_context)
    assert isinstance(searcher, ConstrainedOptunaSearch)
    assert searcher.set_search_properties(None, None, search_space.to_param_space(cfg.search_space))
    points = []
    for i in range(count):
        point = searcher.suggest(f"t{i}")
        assert isinstance(point, dict)
        last = {"validation_error": point["learning_rate"], "train_loss": point["momentum"]}
        if i != count - 1:
            last["validation_accuracy"] = 0.9 if i % 2 == 0 else 0.1
        searcher.on_trial_complete(f"t{i}", last)
        points.append(point)
    return searcher, points


@pytest.mark.parametrize("sampler", ["nsga2", "nsga3", "tpe", "gp"])
def test_constraints_reach_the_sampler_from_the_last_report(sampler: str) -> None:
    cfg = config(sampler, population_size=4) if "nsga" in sampler else config(sampler)
    searcher, _ = run(cfg, 5)
    study = searcher._ot_study
    assert [d.name for d in study.directions] == ["MINIMIZE", "MAXIMIZE"]
    values = [t.constraints["validation_accuracy.min"] for t in study.trials]
    assert values[:4] == pytest.approx([-0.4, 0.4, -0.4, 0.4])
    assert values[4] == MISSING_EXCESS  # never reported: broken


@pytest.mark.parametrize("sampler", ["nsga2", "random", "qmc"])
def test_many_objective_samplers_are_seeded(sampler: str) -> None:
    def points(seed: int) -> list[dict[str, Any]]:
        return run(config(sampler, seed=seed), 6)[1]

    assert points(1) == points(1)
    assert points(1) != points(2)


def test_nsga_population_size_reaches_the_sampler() -> None:
    cfg = config("nsga2", population_size=6)
    searcher = build_searcher(cfg.searcher, cfg.entry_context)
    assert searcher._sampler._population_size == 6


@pytest.mark.parametrize("sampler", ["nsga2", "nsga3", "tpe", "gp", "random", "qmc"])
def test_the_searcher_pickles_as_ray_saves_it(sampler: str) -> None:
    """Ray Tune pickles the search algorithm with the Tuner's state and for ``resume``."""
    searcher, points = run(config(sampler), 3)
    again = pickle.loads(pickle.dumps(searcher))
    assert len(again._ot_study.trials) == len(points)
    assert isinstance(again.suggest("t9"), dict)
